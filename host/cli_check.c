/**
 * @file host/cli_check.c
 * @short --check-config's look past the config file: every autostart plan
 *        is opened and the media it names are checked before the engine
 *        would air them.
 *
 * Owns nothing beyond one call: each plan is loaded, checked and released.
 * Thread: the main thread, before any channel runs. A missing or unreadable
 * file is a warning, not an error: media often arrive after the config is
 * written (a mount, a sync), and the engine airs the slate for a segment
 * whose asset cannot be opened, so the config itself is valid.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "plan/plan.h"
#include "plan/plan_media.h"

/** Most distinct URIs reported per plan (a looping plan repeats them). */
#define CHECK_SEEN_MAX 256

static int check_hex(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static int check_is_hex(int c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/** The file a bare path or file: URI names (RFC 8089: "file:///a%20b" ->
 *  "/a b", "file:/a" -> "/a"), or NULL when @p uri has another scheme.
 *  Owned by the caller. */
static char *check_file_path(const char *uri)
{
    int decode = 0;
    if (strncmp(uri, "file://", 7) == 0) {
        uri += 7;
        if (strncmp(uri, "localhost/", 10) == 0)
            uri += 9;
        decode = 1;
    } else if (strncmp(uri, "file:", 5) == 0) {
        uri += 5;
    } else {
        for (const char *c = uri; *c && *c != '/'; c++) {
            if (*c == ':')
                return NULL; /* another scheme */
        }
    }
    char *path = malloc(strlen(uri) + 1);
    if (!path)
        return NULL;
    char *o = path;
    for (const char *c = uri; *c; c++) {
        if (decode && c[0] == '%' && check_is_hex((unsigned char)c[1]) &&
            check_is_hex((unsigned char)c[2])) {
            *o++ = (char)(check_hex((unsigned char)c[1]) * 16 + check_hex((unsigned char)c[2]));
            c += 2;
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    return path;
}

/** Why the file at @p path cannot be read, into @p why; 0 when it can. */
static int check_readable(const char *path, char *why, size_t len)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, len, "media '%s' %s (%s)", path, errno == ENOENT ? "is missing" :
                 "cannot be reached", strerror(errno));
        return 1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, len, "media '%s' is not a regular file", path);
        return 1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, len, "media '%s' is unreadable (%s)", path, strerror(errno));
        return 1;
    }
    close(fd);
    return 0;
}

/** True when a producer bound to @p ch serves @p uri; slate: is always
 *  served (the channel's slate binding stands in). */
static int check_served(const config_channel *ch, const char *uri)
{
    if (strncmp(uri, "slate:", 6) == 0)
        return 1;
    for (size_t i = 0; i < ch->producer_count; i++) {
        if (loaded_module_serves(ch->producers[i].mod, uri))
            return 1;
    }
    return 0;
}

/** Warnings for the media of plan @p p of channel @p ch. */
static int check_plan_media(FILE *out, const config *cfg, const config_channel *ch, const plan *p)
{
    const char *seen[CHECK_SEEN_MAX];
    size_t seen_count = 0;
    int warnings = 0;
    for (size_t b = 0; b < p->block_count; b++) {
        const plan_block *blk = &p->blocks[b];
        for (size_t s = 0; s < blk->segment_count; s++) {
            const char *uri = blk->segments[s].asset_uri;
            if (!uri || !uri[0])
                continue;
            int dup = 0;
            for (size_t k = 0; k < seen_count && !dup; k++)
                dup = strcmp(seen[k], uri) == 0;
            if (dup)
                continue;
            if (seen_count < CHECK_SEEN_MAX)
                seen[seen_count++] = uri;
            char why[1200];
            int bad = 0;
            if (!check_served(ch, uri)) {
                snprintf(why, sizeof(why), "no producer of the channel serves '%s'", uri);
                bad = 1;
            } else {
                char *path = check_file_path(uri);
                bad = path && check_readable(path, why, sizeof(why));
                free(path);
            }
            if (bad) {
                fprintf(out,
                        "%s:%d: channels: channel %d: autostart_plan '%s': block '%s' segment "
                        "%zu: warning: %s\n",
                        cfg->path, ch->line, ch->id, p->handle, blk->id, s, why);
                warnings++;
            }
        }
    }
    return warnings;
}

void cli_check_config(FILE *out, const config *cfg, int *errors, int *warnings)
{
    *errors = 0;
    *warnings = 0;
    for (size_t i = 0; i < cfg->channel_count; i++) {
        const config_channel *ch = &cfg->channels[i];
        if (!ch->autostart_plan)
            continue;
        char err[512];
        plan *p = plan_load(cfg->plans_dir, ch->autostart_plan, err, sizeof(err));
        if (!p) {
            fprintf(out, "%s:%d: channels: channel %d: autostart_plan: %s\n", cfg->path, ch->line,
                    ch->id, err);
            (*errors)++;
            continue;
        }
        if (plan_check_media_roots(p, cfg->media_roots, cfg->media_root_count, err,
                                   sizeof(err)) != RV_OK) {
            fprintf(out, "%s:%d: channels: channel %d: autostart_plan '%s': %s\n", cfg->path,
                    ch->line, ch->id, ch->autostart_plan, err);
            (*errors)++;
            plan_unref(p);
            continue;
        }
        *warnings += check_plan_media(out, cfg, ch, p);
        plan_unref(p);
    }
}
