/**
 * @file host/core/fd_limit.h
 * @short The process's descriptor limit: raised at start from the soft
 *        RLIMIT_NOFILE to the hard one (the kernel's usual soft default,
 *        1024, is far below what an engine with many clients needs; the
 *        hard one is what the operator granted, e.g. systemd's LimitNOFILE).
 *        The listeners then keep a reserve below it (rpc_acceptor.h,
 *        telemetry_server.h).
 */
#ifndef RV_HOST_FD_LIMIT_H
#define RV_HOST_FD_LIMIT_H

/** Raise the soft limit to the hard one (capped at 1,048,576 when the hard
 *  one is unlimited) and return the soft limit now in force (-1 when it
 *  cannot be read). Logs the change. Call once, at start, before any
 *  listener. Thread: main. */
long fd_limit_raise(void);

#endif
