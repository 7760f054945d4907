/**
 * @file host/core/secret_file.h
 * @short Reading a bearer token (a shared secret) from a file, for the
 *        control plane's TCP listeners and the HTTP server; and comparing a
 *        presented token in constant time.
 */
#ifndef RV_HOST_SECRET_FILE_H
#define RV_HOST_SECRET_FILE_H

#include <stddef.h>

#define SECRET_MIN_CHARS 16
#define SECRET_MAX_CHARS 1024

/** Read the token in @p path (borrowed): the file's text without trailing
 *  whitespace, SECRET_MIN_CHARS..SECRET_MAX_CHARS visible ASCII characters
 *  (RFC 6750's b64token is a subset), in a regular file other users may not
 *  access (mode & 007 == 0). On RV_OK *@p out is a new string the caller
 *  frees (secret_free wipes it); else RV_EINVAL or RV_EIO with a sentence
 *  naming @p path in @p err. Thread: any. */
int secret_file_read(const char *path, char **out, char *err, size_t errlen);

/** 1 when the @p len bytes at @p given equal the NUL-terminated @p want,
 *  in time independent of where they differ. Both borrowed. */
int secret_equal(const void *given, size_t len, const char *want);

/** Wipe and free @p secret (NULL is a no-op). */
void secret_free(char *secret);

#endif
