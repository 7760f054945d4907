/**
 * @file host/engine/engine_session.c
 * @short BlockPlan sessions and attached streams (see engine_session.h):
 *        RetroVue Core's PlayoutSession API on top of the same plan model and
 *        executor as plan files.
 *
 * A session's plan is the queue of fed blocks: each Feed validates the block
 * alone (structure, contiguity, producers), then swaps in a new immutable
 * plan of the blocks still relevant plus the new one. The swap keeps the
 * segment on air and its preload (channel_output.c), so seams stay exact.
 * Ticks no block owns air black and silence (plan->gap_pad).
 *
 * The attached stream is a socket this file connects inside AttachStream
 * and keeps in the slot; a session hands a duplicate to a connect-mode
 * MPEG-TS sink (option `fd`), which writes it once and never reconnects.
 */
#include "engine/engine_session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <retrovue/error.h>

#include "core/host_port.h"
#include "core/log.h"
#include "engine/engine_internal.h"
#include "evidence/evidence_client.h"
#include "session/block_session.h"

/** How long AttachStream waits for a connection to complete. */
#define ATTACH_CONNECT_TIMEOUT_MS 2000
/** A join further in the past than this is not replayed in a burst. */
#define JOIN_MAX_PAST_MS 5000
/** Blocks that ended this long ago are dropped from a session's plan. */
#define SESSION_KEEP_PAST_MS 60000
/** Where evidence spools when the engine has no as-run folder. */
#define EVIDENCE_SPOOL_FALLBACK "/var/tmp/retrovue-playout/evidence"

/* ---- attached streams ---- */

/** Wait for a non-blocking connect() on @p fd. RV_OK or an errno-style
 *  failure written into @p msg. */
static int attach_finish_connect(int fd, char *msg, size_t msglen)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n = poll(&p, 1, ATTACH_CONNECT_TIMEOUT_MS);
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (n == 0) {
        snprintf(msg, msglen, "connect() failed: timed out after %d ms",
                 ATTACH_CONNECT_TIMEOUT_MS);
        return RV_ETIMEDOUT;
    }
    if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
        snprintf(msg, msglen, "connect() failed: %s", strerror(n < 0 ? errno : soerr));
        return RV_EIO;
    }
    return RV_OK;
}

static int attach_connect_uds(const char *path, int *out, char *msg, size_t msglen)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path)) {
        snprintf(msg, msglen, "Endpoint path too long (%zu bytes; at most %zu)", strlen(path),
                 sizeof(addr.sun_path) - 1);
        return RV_EINVAL;
    }
    if (!path[0]) {
        snprintf(msg, msglen, "endpoint is empty: give the consumer's socket path");
        return RV_EINVAL;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(msg, msglen, "socket() failed: %s", strerror(errno));
        return RV_EIO;
    }
    int rc = RV_OK;
    if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) != 0) {
        if (errno == EINPROGRESS || errno == EAGAIN) {
            rc = attach_finish_connect(fd, msg, msglen);
        } else {
            snprintf(msg, msglen, "connect() failed: %s", strerror(errno));
            rc = RV_EIO;
        }
    }
    if (rc != RV_OK) {
        close(fd);
        return rc;
    }
    *out = fd;
    return RV_OK;
}

/** "host:port" or "[v6]:port" into @p host / @p port, the port numeric. */
static int attach_split_host_port(const char *endpoint, char *host, size_t hostlen, char *port,
                                  size_t portlen)
{
    if (host_port_split(endpoint, host, hostlen, port, portlen) != RV_OK)
        return RV_EINVAL;
    for (const char *c = port; *c; c++)
        if (*c < '0' || *c > '9')
            return RV_EINVAL;
    return RV_OK;
}

static int attach_is_loopback(const struct addrinfo *ai)
{
    if (ai->ai_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)ai->ai_addr;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (ai->ai_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)ai->ai_addr;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return 0;
}

static int attach_connect_tcp(const char *endpoint, int *out, char *msg, size_t msglen)
{
    char host[256];
    char port[16];
    if (attach_split_host_port(endpoint, host, sizeof(host), port, sizeof(port)) != RV_OK) {
        snprintf(msg, msglen, "endpoint '%.200s' is not host:port", endpoint);
        return RV_EINVAL;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(msg, msglen, "endpoint '%.200s': %s", endpoint, gai_strerror(gai));
        return RV_EINVAL;
    }
    int rc = RV_EIO;
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (!attach_is_loopback(ai)) {
            snprintf(msg, msglen,
                     "endpoint '%.200s' is not a loopback address (TCP_LOOPBACK is for this "
                     "host only)",
                     endpoint);
            rc = RV_EINVAL;
            continue;
        }
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            snprintf(msg, msglen, "socket() failed: %s", strerror(errno));
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            rc = RV_OK;
        else if (errno == EINPROGRESS)
            rc = attach_finish_connect(fd, msg, msglen);
        else {
            snprintf(msg, msglen, "connect() failed: %s", strerror(errno));
            rc = RV_EIO;
        }
        if (rc == RV_OK)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (rc != RV_OK)
        return rc;
    *out = fd;
    return RV_OK;
}

/** The consumer closed its end (or it broke). */
static int attach_is_gone(int fd)
{
    struct pollfd p = {.fd = fd, .events = 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/** The attached stream as a sink binding of @p cc: a connect-mode MPEG-TS
 *  sink given @p fd (ownership passes to the binding's sink once created). */
static int session_add_stream_sink(engine *e, const channel_slot *slot, config_channel *cc,
                                   int fd, char *msg, size_t msglen)
{
    raw_option values[4] = {
        {.key = "mode", .type = RAW_STRING, .s = "connect"},
        {.key = "fd", .type = RAW_INT, .i = fd},
    };
    size_t n = 2;
    char host[256] = "";
    char port[16] = "";
    const char *module = "mpegts-uds";
    if (slot->attached_transport == STREAM_TRANSPORT_UDS) {
        values[n++] = (raw_option){.key = "path", .type = RAW_STRING,
                                   .s = (char *)slot->attached_endpoint};
    } else {
        module = "mpegts-tcp";
        attach_split_host_port(slot->attached_endpoint, host, sizeof(host), port, sizeof(port));
        values[n++] = (raw_option){.key = "host", .type = RAW_STRING, .s = host};
        values[n++] = (raw_option){.key = "port", .type = RAW_INT, .i = atoi(port)};
    }
    return engine_add_sink(e, cc, module, values, n, msg, msglen);
}

int engine_attach_stream(engine *e, int32_t channel_id, stream_transport transport,
                         const char *endpoint, int replace, char *msg, size_t msglen)
{
    int rc = engine_check_id(channel_id, msg, msglen);
    if (rc != RV_OK)
        return rc;
    if (transport != STREAM_TRANSPORT_UDS && transport != STREAM_TRANSPORT_TCP_LOOPBACK) {
        snprintf(msg, msglen,
                 "transport %d is not supported: use UNIX_DOMAIN_SOCKET (1) or TCP_LOOPBACK (2)",
                 (int)transport);
        return RV_EINVAL;
    }
    if (strlen(endpoint) >= sizeof(((channel_slot *)0)->attached_endpoint)) {
        snprintf(msg, msglen, "Endpoint path too long (%zu bytes)", strlen(endpoint));
        return RV_EINVAL;
    }
    channel_slot *slot = engine_slot(e, channel_id, 1);
    if (!slot) {
        snprintf(msg, msglen, "out of memory");
        return RV_ENOMEM;
    }
    pthread_mutex_lock(&slot->lock);
    if (slot->attached_fd >= 0 && !replace) {
        snprintf(msg, msglen, "Already attached; set replace_existing=true to replace");
        engine_slot_unlock(e, slot);
        return RV_EBUSY;
    }
    if (slot->sess) {
        snprintf(msg, msglen,
                 "a BlockPlan session is running on channel %d: stop it before attaching "
                 "another stream",
                 channel_id);
        engine_slot_unlock(e, slot);
        return RV_EBUSY;
    }
    int fd = -1;
    rc = transport == STREAM_TRANSPORT_UDS ? attach_connect_uds(endpoint, &fd, msg, msglen)
                                           : attach_connect_tcp(endpoint, &fd, msg, msglen);
    if (rc == RV_OK) {
        if (slot->attached_fd >= 0) {
            close(slot->attached_fd); /* the replaced attachment: detached first */
            log_write(RV_LOG_INFO, channel_id, NULL, "stream detached from %s (replaced)",
                      slot->attached_endpoint);
        }
        slot->attached_fd = fd;
        slot->attached_transport = transport;
        snprintf(slot->attached_endpoint, sizeof(slot->attached_endpoint), "%s", endpoint);
        snprintf(msg, msglen, "Attached");
        log_write(RV_LOG_INFO, channel_id, NULL, "stream attached to %s%s",
                  transport == STREAM_TRANSPORT_UDS ? "unix:" : "tcp://", endpoint);
    }
    engine_slot_unlock(e, slot);
    return rc;
}

int engine_detach_stream(engine *e, int32_t channel_id, char *msg, size_t msglen)
{
    int rc = engine_check_id(channel_id, msg, msglen);
    if (rc != RV_OK)
        return rc;
    channel_slot *slot = engine_slot(e, channel_id, 0);
    if (!slot) {
        snprintf(msg, msglen, "Not attached (idempotent)");
        return RV_OK;
    }
    pthread_mutex_lock(&slot->lock);
    if (slot->attached_fd < 0) {
        snprintf(msg, msglen, "Not attached (idempotent)");
    } else {
        close(slot->attached_fd);
        slot->attached_fd = -1;
        snprintf(msg, msglen, "Detached%s",
                 slot->sess ? " (the running session's stream ends when its sink next writes)"
                            : "");
        log_write(RV_LOG_INFO, channel_id, NULL, "stream detached from %s",
                  slot->attached_endpoint);
    }
    engine_slot_unlock(e, slot);
    return RV_OK;
}

/* ---- sessions ---- */

static int session_refuse(session_result *code, session_result value)
{
    *code = value;
    return RV_OK;
}

/** @p b alone is a valid block; INVALID_BLOCK with the rule otherwise. */
static int session_check_block(engine *e, const char *what, const plan_block *b,
                               const config_channel *cc, char *msg, size_t msglen)
{
    char err[1024];
    plan *one = plan_from_blocks(what, b, 1, 1, err, sizeof(err));
    if (!one) {
        snprintf(msg, msglen, "%s: %s", what, err);
        return RV_EINVAL;
    }
    pthread_rwlock_rdlock(&e->cfg_lock);
    int rc = engine_check_plan_media(e, one, err, sizeof(err));
    pthread_rwlock_unlock(&e->cfg_lock);
    if (rc == RV_OK)
        rc = engine_check_plan_producers(cc, one, err, sizeof(err));
    if (rc != RV_OK)
        snprintf(msg, msglen, "%s: %s", what, err);
    plan_unref(one);
    return rc;
}

static evidence_client *session_evidence(engine *e, const engine_session_start_request *req,
                                         int64_t epoch_utc_ms)
{
    if (!req->evidence_endpoint || !req->evidence_endpoint[0])
        return NULL;
    char name[128];
    char session_id[192];
    char spool[1024];
    char err[256];
    if (req->channel_id_str && req->channel_id_str[0])
        snprintf(name, sizeof(name), "%s", req->channel_id_str);
    else
        snprintf(name, sizeof(name), "%d", (int)req->channel_id);
    snprintf(session_id, sizeof(session_id), "PS-%s-%" PRId64, name, epoch_utc_ms);
    pthread_rwlock_rdlock(&e->cfg_lock);
    if (e->cfg->asrun_dir)
        snprintf(spool, sizeof(spool), "%s/evidence", e->cfg->asrun_dir);
    else
        snprintf(spool, sizeof(spool), "%s", EVIDENCE_SPOOL_FALLBACK);
    pthread_rwlock_unlock(&e->cfg_lock);
    const evidence_client_config ecfg = {
        .endpoint = req->evidence_endpoint,
        .channel_id = name,
        .playout_session_id = session_id,
        .spool_dir = spool,
    };
    evidence_client *ec = evidence_client_start(&ecfg, err, sizeof(err));
    if (!ec)
        log_write(RV_LOG_ERROR, req->channel_id, NULL,
                  "evidence to %s is off for this session: %s", req->evidence_endpoint, err);
    else
        log_write(RV_LOG_INFO, req->channel_id, NULL,
                  "evidence: session %s to %s, spooled under %s", session_id,
                  req->evidence_endpoint, spool);
    return ec;
}

/** The session's epoch: join_utc_ms, unless it is 0 or too far past. */
static int64_t session_epoch(engine *e, const engine_session_start_request *req)
{
    int64_t now_ms = clock_now_utc_ns(e->clock) / 1000000;
    if (req->join_utc_ms == 0)
        return now_ms;
    if (req->join_utc_ms < now_ms - JOIN_MAX_PAST_MS) {
        log_write(RV_LOG_WARN, req->channel_id, NULL,
                  "join_utc_ms %" PRId64 " is %" PRId64 " ms in the past: the epoch is now and "
                  "block A is joined at its wall-clock position",
                  req->join_utc_ms, now_ms - req->join_utc_ms);
        return now_ms;
    }
    return req->join_utc_ms;
}

/** Checks that answer with a result code; RV_OK with *code set when refused. */
static int session_check_start(engine *e, channel_slot *slot,
                               const engine_session_start_request *req,
                               const config_channel *cc, session_result *code, char *msg,
                               size_t msglen)
{
    if (slot->sess) {
        snprintf(msg, msglen, "BlockPlan session already active on channel %d",
                 (int)req->channel_id);
        return session_refuse(code, SESSION_RESULT_ALREADY_ACTIVE);
    }
    if (slot->ch) {
        snprintf(msg, msglen, "channel %d is running plan '%s' (StartChannel); stop it first",
                 (int)req->channel_id, channel_plan_handle(slot->ch));
        return session_refuse(code, SESSION_RESULT_ALREADY_ACTIVE);
    }
    if (slot->attached_fd < 0) {
        snprintf(msg, msglen, "no stream attached to channel %d: call AttachStream first",
                 (int)req->channel_id);
        return session_refuse(code, SESSION_RESULT_STREAM_NOT_ATTACHED);
    }
    if (attach_is_gone(slot->attached_fd)) {
        snprintf(msg, msglen, "the stream attached to %s was closed by its consumer",
                 slot->attached_endpoint);
        return session_refuse(code, SESSION_RESULT_STREAM_NOT_ATTACHED);
    }
    if (req->block_count == 0) {
        snprintf(msg, msglen, "StartBlockPlanSession needs block_a (and block_b)");
        return session_refuse(code, SESSION_RESULT_INVALID_BLOCK);
    }
    for (size_t i = 0; i + 1 < req->block_count; i++) {
        const plan_block *a = &req->blocks[i];
        const plan_block *b = &req->blocks[i + 1];
        if (a->end_utc_ms != b->start_utc_ms) {
            snprintf(msg, msglen,
                     "blocks are not contiguous: block '%s' ends at %" PRId64
                     " but block '%s' starts at %" PRId64,
                     a->id ? a->id : "", a->end_utc_ms, b->id ? b->id : "", b->start_utc_ms);
            return session_refuse(code, SESSION_RESULT_NOT_CONTIGUOUS);
        }
    }
    for (size_t i = 0; i < req->block_count; i++) {
        if (session_check_block(e, i == 0 ? "block_a" : i == 1 ? "block_b" : "block",
                                &req->blocks[i], cc, msg, msglen) != RV_OK)
            return session_refuse(code, SESSION_RESULT_INVALID_BLOCK);
    }
    *code = SESSION_RESULT_OK;
    return RV_OK;
}

int engine_session_start(engine *e, const engine_session_start_request *req,
                         session_result *code, char *msg, size_t msglen)
{
    *code = SESSION_RESULT_OK;
    int rc = engine_check_id(req->channel_id, msg, msglen);
    if (rc != RV_OK)
        return rc;
    channel_slot *slot = engine_slot(e, req->channel_id, 1);
    if (!slot) {
        snprintf(msg, msglen, "out of memory");
        return RV_ENOMEM;
    }
    pthread_mutex_lock(&slot->lock);
    pthread_rwlock_rdlock(&e->cfg_lock);
    config_channel *cc = engine_channel_config(e, req->channel_id, msg, msglen);
    pthread_rwlock_unlock(&e->cfg_lock);
    if (!cc) {
        engine_slot_unlock(e, slot);
        return RV_EINVAL;
    }
    rc = session_check_start(e, slot, req, cc, code, msg, msglen);
    if (rc != RV_OK || *code != SESSION_RESULT_OK) {
        config_channel_free(cc);
        engine_slot_unlock(e, slot);
        return rc;
    }
    char handle[64];
    char err[512];
    snprintf(handle, sizeof(handle), "session-%d", (int)req->channel_id);
    plan *p = plan_from_blocks(handle, req->blocks, req->block_count, 1, err, sizeof(err));
    int fd = p ? fcntl(slot->attached_fd, F_DUPFD_CLOEXEC, 3) : -1;
    rc = !p ? RV_EINVAL : fd < 0 ? RV_EIO : RV_OK;
    if (rc == RV_OK) {
        rc = session_add_stream_sink(e, slot, cc, fd, err, sizeof(err));
        if (rc != RV_OK) {
            close(fd);
            fd = -1;
        }
    } else if (p) {
        snprintf(err, sizeof(err), "dup() of the attached socket failed: %s", strerror(errno));
    }
    if (rc == RV_OK && req->channel_id_str && req->channel_id_str[0]) {
        char *name = strdup(req->channel_id_str);
        if (name) {
            free(cc->name);
            cc->name = name;
        }
    }
    block_session *bs = NULL;
    int64_t epoch = session_epoch(e, req);
    if (rc == RV_OK) {
        rv_program_format fmt = req->format ? *req->format : cc->format;
        bs = block_session_create(req->channel_id, fmt.frame_rate, req->max_queue_depth,
                                  session_evidence(e, req, epoch));
        rc = bs ? RV_OK : RV_ENOMEM;
        if (bs) {
            char target[300];
            snprintf(target, sizeof(target), "%s%s",
                     slot->attached_transport == STREAM_TRANSPORT_UDS ? "unix:" : "tcp://",
                     slot->attached_endpoint);
            block_session_set_stream(bs, target);
        }
        for (size_t i = 0; bs && i < req->block_count; i++)
            block_session_note_fed(bs, req->blocks[i].id, req->blocks[i].start_utc_ms,
                                   req->blocks[i].end_utc_ms);
        channel_params params = {
            .cfg = cc,
            .format = fmt,
            .plan = p,
            .clock = e->clock,
            .stop_utc_ms = atomic_load(&e->stop_utc_ms),
            .asrun = e->asrun,
            .epoch_utc_ms = epoch,
            .on_event = block_session_on_channel_event,
            .event_user = bs,
        };
        p = NULL; /* channel_start takes the reference */
        if (rc == RV_OK)
            rc = channel_start(&params, &slot->ch, err, sizeof(err));
        else
            plan_unref(params.plan);
    } else if (fd >= 0) {
        close(fd);
    }
    plan_unref(p);
    if (rc == RV_OK) {
        slot->session_fd = fd;
        pthread_mutex_lock(&slot->sess_lock);
        slot->sess = bs;
        pthread_mutex_unlock(&slot->sess_lock);
        snprintf(msg, msglen, "BlockPlan session started");
        log_write(RV_LOG_INFO, req->channel_id, NULL,
                  "BlockPlan session started: %zu blocks, queue depth %d, epoch %" PRId64
                  " ms, stream %s",
                  req->block_count, (int)block_session_depth(bs), epoch, slot->attached_endpoint);
    } else {
        block_session_destroy(bs);
        snprintf(msg, msglen, "channel %d could not start the session: %s", (int)req->channel_id,
                 err);
        log_write(RV_LOG_WARN, req->channel_id, NULL, "%s", msg);
    }
    config_channel_free(cc);
    engine_slot_unlock(e, slot);
    return rc;
}

/** The session's plan after feeding @p block: the blocks still relevant
 *  (ended less than SESSION_KEEP_PAST_MS ago) plus @p block. */
static plan *session_plan_with(engine *e, channel_slot *slot, const plan_block *block, char *err,
                               size_t errlen)
{
    plan *cur = channel_plan_ref(slot->ch);
    int64_t keep_after = clock_now_utc_ns(e->clock) / 1000000 - SESSION_KEEP_PAST_MS;
    size_t first = 0;
    while (cur && first < cur->block_count && cur->blocks[first].end_utc_ms < keep_after)
        first++;
    size_t n = (cur ? cur->block_count - first : 0) + 1;
    plan_block *blocks = calloc(n, sizeof(*blocks));
    plan *p = NULL;
    if (blocks) {
        for (size_t i = 0; i + 1 < n; i++)
            blocks[i] = cur->blocks[first + i];
        blocks[n - 1] = *block;
        p = plan_from_blocks(cur ? cur->handle : "session", blocks, n, 1, err, errlen);
    } else {
        snprintf(err, errlen, "out of memory");
    }
    free(blocks);
    plan_unref(cur);
    return p;
}

int engine_session_feed(engine *e, int32_t channel_id, const plan_block *block,
                        session_result *code, char *msg, size_t msglen)
{
    *code = SESSION_RESULT_OK;
    int rc = engine_check_id(channel_id, msg, msglen);
    if (rc != RV_OK)
        return rc;
    channel_slot *slot = engine_slot(e, channel_id, 0);
    if (!slot) {
        snprintf(msg, msglen, "no BlockPlan session on channel %d", (int)channel_id);
        return session_refuse(code, SESSION_RESULT_NO_SESSION);
    }
    pthread_mutex_lock(&slot->lock);
    block_session *bs = slot->sess;
    if (!bs || !slot->ch || block_session_ended(bs)) {
        snprintf(msg, msglen, "no BlockPlan session on channel %d%s", (int)channel_id,
                 bs && block_session_ended(bs) ? " (it ended: its stream was lost)" : "");
        engine_slot_unlock(e, slot);
        return session_refuse(code, SESSION_RESULT_NO_SESSION);
    }
    int pending = block_session_pending(bs);
    if (pending >= block_session_depth(bs)) {
        snprintf(msg, msglen, "Queue full: %d blocks fed but not started (max_queue_depth %d)",
                 pending, (int)block_session_depth(bs));
        engine_slot_unlock(e, slot);
        return session_refuse(code, SESSION_RESULT_QUEUE_FULL);
    }
    if (block->start_utc_ms != block_session_last_end_utc_ms(bs)) {
        snprintf(msg, msglen,
                 "block '%s' starts at %" PRId64 " but the last block fed ('%s') ends at %" PRId64
                 ": blocks must be contiguous",
                 block->id ? block->id : "", block->start_utc_ms, block_session_last_id(bs),
                 block_session_last_end_utc_ms(bs));
        engine_slot_unlock(e, slot);
        return session_refuse(code, SESSION_RESULT_NOT_CONTIGUOUS);
    }
    pthread_rwlock_rdlock(&e->cfg_lock);
    config_channel *cc = engine_channel_config(e, channel_id, msg, msglen);
    pthread_rwlock_unlock(&e->cfg_lock);
    if (!cc) {
        engine_slot_unlock(e, slot);
        return RV_EINVAL;
    }
    rc = session_check_block(e, "block", block, cc, msg, msglen);
    config_channel_free(cc);
    if (rc != RV_OK) {
        engine_slot_unlock(e, slot);
        return session_refuse(code, SESSION_RESULT_INVALID_BLOCK);
    }
    char err[512];
    plan *p = session_plan_with(e, slot, block, err, sizeof(err));
    if (!p) {
        snprintf(msg, msglen, "block '%s': %s", block->id ? block->id : "", err);
        engine_slot_unlock(e, slot);
        return session_refuse(code, SESSION_RESULT_INVALID_BLOCK);
    }
    block_session_note_fed(bs, block->id, block->start_utc_ms, block->end_utc_ms);
    channel_update_plan(slot->ch, p);
    int64_t now_ms = clock_now_utc_ns(e->clock) / 1000000;
    if (block->start_utc_ms < now_ms)
        log_write(RV_LOG_WARN, channel_id, NULL,
                  "block '%s' was fed %" PRId64 " ms after its start: it airs from its "
                  "wall-clock position",
                  block->id, now_ms - block->start_utc_ms);
    snprintf(msg, msglen, "Block fed");
    engine_slot_unlock(e, slot);
    return RV_OK;
}

int engine_session_config_locked(engine *e, const channel_slot *slot, config_channel *cc,
                                 char *msg, size_t msglen)
{
    if (!slot->sess)
        return RV_OK;
    return session_add_stream_sink(e, slot, cc, slot->session_fd, msg, msglen);
}

void engine_session_end_locked(channel_slot *slot, const char *reason, int64_t *final_ct_ms,
                               int32_t *blocks_executed)
{
    if (!slot->sess)
        return;
    block_session *bs = slot->sess;
    block_session_end(bs, reason, final_ct_ms, blocks_executed);
    pthread_mutex_lock(&slot->sess_lock);
    slot->sess = NULL;
    pthread_mutex_unlock(&slot->sess_lock);
    block_session_destroy(bs);
}

int engine_session_stop(engine *e, int32_t channel_id, const char *reason,
                        int64_t *final_ct_ms, int32_t *blocks_executed, char *msg,
                        size_t msglen)
{
    int64_t ct = 0;
    int32_t blocks = 0;
    channel_slot *slot = channel_id > 0 ? engine_slot(e, channel_id, 0) : NULL;
    if (slot)
        pthread_mutex_lock(&slot->lock);
    if (!slot || !slot->sess) {
        snprintf(msg, msglen, "No active session (idempotent)");
    } else {
        block_session_set_stream(slot->sess, ""); /* the sink closing is not a loss */
        channel_stop(slot->ch);
        slot->ch = NULL;
        engine_session_end_locked(slot, "stopped", &ct, &blocks);
        snprintf(msg, msglen, "Session stopped");
        log_write(RV_LOG_INFO, channel_id, NULL,
                  "StopBlockPlanSession (%s): %d blocks completed, %" PRId64 " ms aired",
                  reason && reason[0] ? reason : "no reason given", (int)blocks, ct);
    }
    if (slot)
        engine_slot_unlock(e, slot);
    if (final_ct_ms)
        *final_ct_ms = ct;
    if (blocks_executed)
        *blocks_executed = blocks;
    return RV_OK;
}

int engine_session_subscribe(engine *e, int32_t channel_id, session_event_fn fn, void *user,
                             uint64_t *sub_id)
{
    channel_slot *slot = channel_id > 0 ? engine_slot(e, channel_id, 0) : NULL;
    if (!slot)
        return RV_ENOENT;
    pthread_mutex_lock(&slot->sess_lock);
    int rc = slot->sess ? block_session_subscribe(slot->sess, fn, user, sub_id) : RV_ENOENT;
    pthread_mutex_unlock(&slot->sess_lock);
    engine_slot_put(e, slot);
    return rc == RV_ESTATE ? RV_ENOENT : rc;
}

int engine_session_unsubscribe(engine *e, int32_t channel_id, uint64_t sub_id)
{
    channel_slot *slot = channel_id > 0 ? engine_slot(e, channel_id, 0) : NULL;
    if (!slot)
        return 0;
    pthread_mutex_lock(&slot->sess_lock);
    int live = slot->sess ? block_session_unsubscribe(slot->sess, sub_id) : 0;
    pthread_mutex_unlock(&slot->sess_lock);
    engine_slot_put(e, slot);
    return live;
}
