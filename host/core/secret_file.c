/**
 * @file host/core/secret_file.c
 * @short secret_file (see secret_file.h): reads one token file; owns
 *        nothing after the call.
 */
#include "core/secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <retrovue/error.h>

int secret_file_read(const char *path, char **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!path || !path[0]) {
        snprintf(err, errlen, "empty token file name");
        return RV_EINVAL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read the token file %s: %s", path, strerror(errno));
        return RV_EIO;
    }
    struct stat st;
    char buf[SECRET_MAX_CHARS + 2];
    ssize_t n = -1;
    const char *why = "not a readable regular file";
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (st.st_mode & 007)
            why = "other users may access it (chmod o-rwx)";
        else
            n = read(fd, buf, sizeof(buf) - 1);
    }
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "token file %s: %s", path, why);
        return RV_EINVAL;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
                     buf[n - 1] == '\t'))
        n--;
    buf[n] = '\0';
    int visible = 1;
    for (ssize_t i = 0; i < n; i++)
        visible &= buf[i] > 0x20 && buf[i] < 0x7f;
    if (n < SECRET_MIN_CHARS || n > SECRET_MAX_CHARS || !visible) {
        snprintf(err, errlen, "token file %s: the token must be %d..%d visible ASCII characters",
                 path, SECRET_MIN_CHARS, SECRET_MAX_CHARS);
        memset(buf, 0, sizeof(buf));
        return RV_EINVAL;
    }
    *out = strdup(buf);
    memset(buf, 0, sizeof(buf));
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return RV_ENOMEM;
    }
    return RV_OK;
}

int secret_equal(const void *given, size_t len, const char *want)
{
    size_t n = strlen(want);
    if (len != n)
        return 0;
    const unsigned char *p = given;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(p[i] ^ (unsigned char)want[i]);
    return diff == 0;
}

void secret_free(char *secret)
{
    if (!secret)
        return;
    volatile char *p = secret;
    while (*p)
        *p++ = '\0';
    free(secret);
}
