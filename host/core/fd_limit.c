/**
 * @file host/core/fd_limit.c
 * @short fd_limit (see fd_limit.h): one setrlimit at start. Owns nothing.
 */
#include "core/fd_limit.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "core/log.h"

#define FD_LIMIT_CAP ((rlim_t)1 << 20)

long fd_limit_raise(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > FD_LIMIT_CAP ? FD_LIMIT_CAP
                                                                             : rl.rlim_max;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            log_info("descriptor limit raised from %lu to %lu (the hard limit)",
                     (unsigned long)was, (unsigned long)want);
        else
            log_warn("cannot raise the descriptor limit from %lu: %s", (unsigned long)was,
                     strerror(errno));
        if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
            return -1;
    }
    return rl.rlim_cur == RLIM_INFINITY ? (long)FD_LIMIT_CAP : (long)rl.rlim_cur;
}
