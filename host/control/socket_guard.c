/**
 * @file host/control/socket_guard.c
 * @short Unix socket path guard (see socket_guard.h). Owns the lock file's
 *        descriptor and a copy of the socket path.
 */
#include "control/socket_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <retrovue/error.h>

struct socket_guard {
    int lock_fd;
    char *path;
};

/** 1 when a server accepts connections on @p path. */
static int socket_guard_answers(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return 0;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int rc = connect(fd, (const struct sockaddr *)&sa, sizeof(sa));
    close(fd);
    return rc == 0;
}

/** Remove what is at @p path if it is a socket nobody answers on. */
static int socket_guard_clear_stale(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? RV_OK : RV_EIO;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "control: %s exists and is not a socket; refusing to replace it", path);
        return RV_EINVAL;
    }
    if (socket_guard_answers(path)) {
        snprintf(err, errlen, "control: another server answers on %s; refusing to take it over",
                 path);
        return RV_EBUSY;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "control: cannot remove the stale socket %s: %s", path,
                 strerror(errno));
        return RV_EIO;
    }
    return RV_OK;
}

int socket_guard_acquire(const char *path, socket_guard **out, char *err, size_t errlen)
{
    *out = NULL;
    struct sockaddr_un sa;
    if (!path[0] || strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "control: unix socket path '%s' is empty or longer than %zu bytes",
                 path, sizeof(sa.sun_path) - 1);
        return RV_EINVAL;
    }
    socket_guard *g = calloc(1, sizeof(*g));
    char *lock_path = malloc(strlen(path) + 6);
    int rc = RV_ENOMEM;
    if (!g || !lock_path)
        goto fail;
    g->lock_fd = -1;
    g->path = strdup(path);
    if (!g->path)
        goto fail;
    sprintf(lock_path, "%s.lock", path);
    g->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
    if (g->lock_fd < 0) {
        snprintf(err, errlen, "control: cannot open the lock file %s: %s", lock_path,
                 strerror(errno));
        rc = errno == EACCES ? RV_EACCES : RV_EIO;
        goto fail;
    }
    if (flock(g->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "control: %s is in use by another engine (lock %s held)", path,
                 lock_path);
        rc = RV_EBUSY;
        goto fail;
    }
    rc = socket_guard_clear_stale(path, err, errlen);
    if (rc != RV_OK)
        goto fail;
    free(lock_path);
    *out = g;
    return RV_OK;

fail:
    if (rc == RV_ENOMEM)
        snprintf(err, errlen, "control: out of memory");
    free(lock_path);
    if (g && g->lock_fd >= 0)
        close(g->lock_fd);
    if (g)
        free(g->path);
    free(g);
    return rc;
}

int socket_guard_chmod(socket_guard *g, unsigned mode, char *err, size_t errlen)
{
    if (chmod(g->path, (mode_t)mode) != 0) {
        snprintf(err, errlen, "control: cannot set mode %o on %s: %s", mode, g->path,
                 strerror(errno));
        return RV_EIO;
    }
    return RV_OK;
}

void socket_guard_release(socket_guard *g, int unlink_socket)
{
    if (!g)
        return;
    if (unlink_socket)
        (void)unlink(g->path);
    close(g->lock_fd);
    free(g->path);
    free(g);
}
