/**
 * @file retrovue/error.h
 * @short The one error enum of the SDK and its strerror-style function.
 *
 * Every SDK function and callback returns RV_OK (0) or a negative RV_E* code.
 * Detail goes through the host's log and event services, never to stdout.
 */
#ifndef RETROVUE_ERROR_H
#define RETROVUE_ERROR_H

typedef enum rv_error {
    RV_OK = 0,
    RV_EOF = -1,             /**< end of stream: no more frames */
    RV_EAGAIN = -2,          /**< nothing now, try again later */
    RV_EINVAL = -3,          /**< invalid argument or value */
    RV_ENOMEM = -4,          /**< out of memory */
    RV_EIO = -5,             /**< input/output error */
    RV_ENOTSUP = -6,         /**< not supported */
    RV_ETIMEDOUT = -7,       /**< timed out */
    RV_ENOENT = -8,          /**< no such file or entry */
    RV_EACCES = -9,          /**< permission denied */
    RV_EBUSY = -10,          /**< resource busy or already in use */
    RV_EFORMAT = -11,        /**< not media, or no decodable stream */
    RV_ESTATE = -12,         /**< call not valid in the current state */
    RV_ELOAD_DLOPEN = -20,   /**< the file could not be loaded */
    RV_ELOAD_ENTRY = -21,    /**< no rv_module_entry symbol, or it returned NULL */
    RV_ELOAD_ABI_MAJOR = -22,/**< ABI major differs from the host's */
    RV_ELOAD_ABI_MINOR = -23,/**< ABI minor is newer than the host's */
    RV_ELOAD_SIGNATURE = -24,/**< build signature differs from the host's */
    RV_ELOAD_SIZES = -25,    /**< a shared structure has another size */
    RV_ELOAD_CALLBACK = -26, /**< a required callback is missing */
    RV_ELOAD_DUPLICATE = -27,/**< a module of that name is already loaded */
    RV_ELOAD_DESCRIPTOR = -28,/**< descriptor malformed (kind, name, options) */
    RV_ELOAD_UNSAFE = -29,   /**< file or folder writable by others or foreign-owned */
    RV_EINTERNAL = -99       /**< a bug: should never happen */
} rv_error;

/** Human-readable text for an rv_error; never NULL. Thread: any. */
static inline const char *rv_strerror(int code)
{
    switch (code) {
    case RV_OK: return "success";
    case RV_EOF: return "end of stream";
    case RV_EAGAIN: return "try again";
    case RV_EINVAL: return "invalid argument";
    case RV_ENOMEM: return "out of memory";
    case RV_EIO: return "input/output error";
    case RV_ENOTSUP: return "not supported";
    case RV_ETIMEDOUT: return "timed out";
    case RV_ENOENT: return "no such file or entry";
    case RV_EACCES: return "permission denied";
    case RV_EBUSY: return "busy";
    case RV_EFORMAT: return "not media or no decodable stream";
    case RV_ESTATE: return "invalid state";
    case RV_ELOAD_DLOPEN: return "cannot load shared object";
    case RV_ELOAD_ENTRY: return "no module entry symbol";
    case RV_ELOAD_ABI_MAJOR: return "ABI major version mismatch";
    case RV_ELOAD_ABI_MINOR: return "ABI minor version newer than host";
    case RV_ELOAD_SIGNATURE: return "build signature mismatch";
    case RV_ELOAD_SIZES: return "shared structure size mismatch";
    case RV_ELOAD_CALLBACK: return "required callback missing";
    case RV_ELOAD_DUPLICATE: return "duplicate module name";
    case RV_ELOAD_DESCRIPTOR: return "malformed module descriptor";
    case RV_ELOAD_UNSAFE: return "module file or folder writable by others or foreign-owned";
    case RV_EINTERNAL: return "internal error";
    default: return "unknown error";
    }
}

#endif
