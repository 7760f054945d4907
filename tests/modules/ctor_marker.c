/**
 * @file tests/modules/ctor_marker.c
 * @short Broken module whose constructor leaves a mark: it creates the file
 *        named by $RV_TEST_CTOR_MARKER when dlopen() runs it. It has no entry
 *        symbol, so a loader that gets as far as dlopen refuses it with
 *        RV_ELOAD_ENTRY, but only after the constructor ran; the permission
 *        checks must refuse an unsafe copy before that (test_loader_trust).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void ctor_marker_mark(void)
{
    const char *path = getenv("RV_TEST_CTOR_MARKER");
    if (!path)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}
