/**
 * @file host/evidence/evidence_record.c
 * @short evidence_record <-> spool JSON line and <-> EvidenceFromAir protobuf.
 *
 * The JSON payload is driven by one field table per kind, so the spool's
 * writer and reader cannot disagree; the protobuf mapping is written out per
 * message because protobuf-c's structs differ per message. Owns nothing.
 */
#include "evidence/evidence_record.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <jansson.h>
#include <retrovue/error.h>

#include "jsonl/json_text.h"
#include "retrovue/execution_evidence_v1.pb-c.h"

typedef enum field_type {
    F_STR = 1,
    F_I64,
    F_U64,
    F_I32,
    F_BOOL
} field_type;

typedef struct payload_field {
    const char *key; /* the proto field name */
    field_type type;
    size_t offset;   /* in evidence_event */
    size_t size;     /* F_STR: the array's size */
} payload_field;

#define STR(k, m) {k, F_STR, offsetof(evidence_event, m), sizeof(((evidence_event *)0)->m)}
#define NUM(k, t, m) {k, t, offsetof(evidence_event, m), 0}

static const payload_field block_start_fields[] = {
    STR("block_id", block_id),
    NUM("swap_tick", F_U64, swap_tick),
    NUM("fence_tick", F_U64, fence_tick),
    NUM("actual_start_utc_ms", F_I64, actual_start_utc_ms),
    NUM("primed_success", F_BOOL, primed_success),
    {NULL, 0, 0, 0}};

static const payload_field segment_start_fields[] = {
    STR("block_id", block_id),
    STR("event_id", event_id),
    NUM("segment_index", F_I32, segment_index),
    NUM("actual_start_utc_ms", F_I64, actual_start_utc_ms),
    NUM("asset_start_frame", F_I64, asset_start_frame),
    NUM("scheduled_duration_ms", F_I64, scheduled_duration_ms),
    NUM("join_in_progress", F_BOOL, join_in_progress),
    STR("segment_type_name", segment_type_name),
    STR("asset_uri", asset_uri),
    {NULL, 0, 0, 0}};

static const payload_field segment_end_fields[] = {
    STR("block_id", block_id),
    STR("event_id_ref", event_id),
    NUM("actual_start_utc_ms", F_I64, actual_start_utc_ms),
    NUM("actual_end_utc_ms", F_I64, actual_end_utc_ms),
    NUM("asset_start_frame", F_I64, asset_start_frame),
    NUM("asset_end_frame", F_I64, asset_end_frame),
    STR("status", status),
    STR("reason", reason),
    NUM("fallback_frames_used", F_U64, fallback_frames_used),
    STR("segment_type_name", segment_type_name),
    {NULL, 0, 0, 0}};

static const payload_field block_fence_fields[] = {
    STR("block_id", block_id),
    NUM("swap_tick", F_U64, swap_tick),
    NUM("fence_tick", F_U64, fence_tick),
    NUM("actual_end_utc_ms", F_I64, actual_end_utc_ms),
    NUM("ct_at_fence_ms", F_U64, ct_at_fence_ms),
    NUM("total_frames_emitted", F_U64, total_frames_emitted),
    NUM("truncated_by_fence", F_BOOL, truncated_by_fence),
    NUM("early_exhaustion", F_BOOL, early_exhaustion),
    NUM("primed_success", F_BOOL, primed_success),
    {NULL, 0, 0, 0}};

static const payload_field channel_terminated_fields[] = {
    NUM("termination_utc_ms", F_I64, actual_end_utc_ms),
    STR("reason", reason),
    STR("detail", detail),
    {NULL, 0, 0, 0}};

static const struct {
    evidence_kind kind;
    const char *name;
    const payload_field *fields;
} kinds[] = {
    {EVIDENCE_BLOCK_START, "BLOCK_START", block_start_fields},
    {EVIDENCE_SEGMENT_START, "SEGMENT_START", segment_start_fields},
    {EVIDENCE_SEGMENT_END, "SEGMENT_END", segment_end_fields},
    {EVIDENCE_BLOCK_FENCE, "BLOCK_FENCE", block_fence_fields},
    {EVIDENCE_CHANNEL_TERMINATED, "CHANNEL_TERMINATED", channel_terminated_fields},
};

static const payload_field *kind_fields(evidence_kind kind)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i].kind == kind)
            return kinds[i].fields;
    return NULL;
}

const char *evidence_kind_name(evidence_kind kind)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return NULL;
}

/* NUL-terminate @p s within its @p size bytes (at most those of asset_uri)
 * and make it well-formed UTF-8: each ill-formed part becomes U+FFFD and the
 * text is cut after the last whole character that fits (lib/jsonl, the
 * as-run writer's rules). */
static void sanitize_string(char *s, size_t size)
{
    char copy[sizeof(((evidence_event *)0)->asset_uri)];
    if (size > sizeof(copy))
        size = sizeof(copy);
    s[size - 1] = '\0';
    size_t n = strlen(s);
    memcpy(copy, s, n + 1);
    json_text_utf8_copy(s, size, copy, n);
}

void evidence_event_sanitize(evidence_event *ev)
{
    sanitize_string(ev->block_id, sizeof(ev->block_id));
    sanitize_string(ev->event_id, sizeof(ev->event_id));
    sanitize_string(ev->segment_type_name, sizeof(ev->segment_type_name));
    sanitize_string(ev->asset_uri, sizeof(ev->asset_uri));
    sanitize_string(ev->status, sizeof(ev->status));
    sanitize_string(ev->reason, sizeof(ev->reason));
    sanitize_string(ev->detail, sizeof(ev->detail));
}

int evidence_uuid_v4(char *out)
{
    uint8_t b[16];
    size_t got = 0;
    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return RV_EIO;
        }
        got += (size_t)n;
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 10 */
    snprintf(out, EVIDENCE_UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return RV_OK;
}

void evidence_utc_iso(int64_t utc_ms, char *out)
{
    if (utc_ms < 0)
        utc_ms = 0;
    time_t s = (time_t)(utc_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, EVIDENCE_UTC_LEN + 1, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(utc_ms % 1000));
}

/* SEGMENT_END's derived figures, as RetroVue's engine computes them:
 * wall-clock ms between start and end, and frames aired (the inclusive
 * frame range; a SKIPPED segment has asset_end_frame < asset_start_frame). */
static int64_t segment_duration_ms(const evidence_event *ev)
{
    return ev->actual_end_utc_ms - ev->actual_start_utc_ms;
}

static int64_t segment_frames(const evidence_event *ev)
{
    if (ev->asset_end_frame < ev->asset_start_frame)
        return 0;
    return ev->asset_end_frame - ev->asset_start_frame + 1;
}

/* The (at most @p n) bytes at @p p as a jansson string of well-formed UTF-8:
 * jansson refuses ill-formed UTF-8 (json_dumps would fail and the record be
 * lost), so each ill-formed part becomes U+FFFD first (lib/jsonl). */
static json_t *utf8_string(const char *p, size_t n)
{
    size_t len = strnlen(p, n);
    char stack[JSON_TEXT_UTF8_MAX(512) + 1];
    char *buf = len <= 512 ? stack : malloc(JSON_TEXT_UTF8_MAX(len) + 1);
    if (!buf)
        return NULL;
    size_t out = json_text_utf8_copy(buf, JSON_TEXT_UTF8_MAX(len) + 1, p, len);
    json_t *v = json_stringn(buf, out);
    if (buf != stack)
        free(buf);
    return v;
}

static json_t *payload_to_json(const evidence_event *ev, const payload_field *f)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (; f->key; f++) {
        const char *p = (const char *)ev + f->offset;
        json_t *v = NULL;
        switch (f->type) {
        case F_STR:
            v = utf8_string(p, f->size);
            break;
        case F_I64:
            v = json_integer(*(const int64_t *)p);
            break;
        case F_U64:
            v = json_integer((json_int_t)*(const uint64_t *)p);
            break;
        case F_I32:
            v = json_integer(*(const int32_t *)p);
            break;
        case F_BOOL:
            v = json_boolean(*(const int *)p);
            break;
        }
        if (!v || json_object_set_new(o, f->key, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    if (ev->kind == EVIDENCE_SEGMENT_END &&
        (json_object_set_new(o, "computed_duration_ms", json_integer(segment_duration_ms(ev))) ||
         json_object_set_new(o, "computed_duration_frames", json_integer(segment_frames(ev))))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *evidence_record_to_json(const evidence_record *r, const char *channel_id,
                              const char *session_id)
{
    const payload_field *fields = kind_fields(r->ev.kind);
    if (!fields)
        return NULL;
    json_t *payload = payload_to_json(&r->ev, fields);
    if (!payload)
        return NULL;
    json_t *o = json_pack("{s:i, s:o, s:o, s:I, s:s, s:s, s:s, s:o}", "schema_version",
                          EVIDENCE_SCHEMA_VERSION, "channel_id",
                          utf8_string(channel_id, strlen(channel_id)), "playout_session_id",
                          utf8_string(session_id, strlen(session_id)), "sequence",
                          (json_int_t)r->sequence,
                          "event_uuid", r->event_uuid, "emitted_utc", r->emitted_utc,
                          "payload_type", evidence_kind_name(r->ev.kind), "payload", payload);
    if (!o)
        return NULL; /* json_pack's "o" steals payload even on failure */
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return line;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, what);
    return RV_EFORMAT;
}

static int payload_from_json(json_t *payload, const payload_field *f, evidence_event *ev,
                             char *err, size_t errlen)
{
    for (; f->key; f++) {
        json_t *v = json_object_get(payload, f->key);
        char *p = (char *)ev + f->offset;
        if (!v)
            continue; /* absent: proto3's default */
        switch (f->type) {
        case F_STR:
            if (!json_is_string(v))
                return fail(err, errlen, "payload.%s is not a string", f->key);
            snprintf(p, f->size, "%s", json_string_value(v));
            break;
        case F_I64:
        case F_U64:
        case F_I32:
            if (!json_is_integer(v))
                return fail(err, errlen, "payload.%s is not an integer", f->key);
            if (f->type == F_I64)
                *(int64_t *)p = (int64_t)json_integer_value(v);
            else if (f->type == F_I32)
                *(int32_t *)p = (int32_t)json_integer_value(v);
            else if (json_integer_value(v) < 0)
                return fail(err, errlen, "payload.%s is negative", f->key);
            else
                *(uint64_t *)p = (uint64_t)json_integer_value(v);
            break;
        case F_BOOL:
            if (!json_is_boolean(v))
                return fail(err, errlen, "payload.%s is not a boolean", f->key);
            *(int *)p = json_is_true(v);
            break;
        }
    }
    return RV_OK;
}

int evidence_record_from_json(const char *line, size_t len, const char *channel_id,
                              const char *session_id, evidence_record *out, char *err,
                              size_t errlen)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return fail(err, errlen, "not JSON: %s", jerr.text);
    int rc = RV_EFORMAT;
    json_int_t schema = 0;
    json_int_t seq = 0;
    const char *ch = NULL;
    const char *ses = NULL;
    const char *uuid = NULL;
    const char *utc = NULL;
    const char *type = NULL;
    json_t *payload = NULL;
    if (json_unpack_ex(o, &jerr, 0, "{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:o}", "schema_version",
                       &schema, "channel_id", &ch, "playout_session_id", &ses, "sequence", &seq,
                       "event_uuid", &uuid, "emitted_utc", &utc, "payload_type", &type,
                       "payload", &payload) != 0) {
        fail(err, errlen, "missing or mistyped field: %s", jerr.text);
        goto out;
    }
    memset(out, 0, sizeof(*out));
    if (schema != EVIDENCE_SCHEMA_VERSION) {
        fail(err, errlen, "schema_version is not 1%s", "");
        goto out;
    }
    if (seq <= 0) {
        fail(err, errlen, "sequence must be 1 or more%s", "");
        goto out;
    }
    if (strcmp(ch, channel_id) != 0 || strcmp(ses, session_id) != 0) {
        fail(err, errlen, "record of another channel or session (%s)", ses);
        goto out;
    }
    if (strlen(uuid) != EVIDENCE_UUID_LEN || strlen(utc) > EVIDENCE_UTC_LEN) {
        fail(err, errlen, "event_uuid or emitted_utc malformed (%s)", uuid);
        goto out;
    }
    if (!json_is_object(payload)) {
        fail(err, errlen, "payload is not an object%s", "");
        goto out;
    }
    const payload_field *fields = NULL;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].name, type) == 0) {
            out->ev.kind = kinds[i].kind;
            fields = kinds[i].fields;
        }
    if (!fields) {
        fail(err, errlen, "unknown payload_type %s", type);
        goto out;
    }
    out->sequence = (uint64_t)seq;
    memcpy(out->event_uuid, uuid, EVIDENCE_UUID_LEN + 1);
    snprintf(out->emitted_utc, sizeof(out->emitted_utc), "%s", utc);
    rc = payload_from_json(payload, fields, &out->ev, err, errlen);
out:
    json_decref(o);
    return rc;
}

typedef Retrovue__Evidence__V1__EvidenceFromAir from_air;

static uint8_t *pack(const from_air *m, size_t *len)
{
    size_t n = retrovue__evidence__v1__evidence_from_air__get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return NULL;
    *len = retrovue__evidence__v1__evidence_from_air__pack(m, buf);
    return buf;
}

/* protobuf-c's string fields are char *; packing only reads them. */
#define S(x) ((char *)(x))

uint8_t *evidence_record_pack(const evidence_record *r, const char *channel_id,
                              const char *session_id, size_t *len)
{
    const evidence_event *ev = &r->ev;
    from_air m = RETROVUE__EVIDENCE__V1__EVIDENCE_FROM_AIR__INIT;
    Retrovue__Evidence__V1__BlockStart bs = RETROVUE__EVIDENCE__V1__BLOCK_START__INIT;
    Retrovue__Evidence__V1__SegmentStart ss = RETROVUE__EVIDENCE__V1__SEGMENT_START__INIT;
    Retrovue__Evidence__V1__SegmentEnd se = RETROVUE__EVIDENCE__V1__SEGMENT_END__INIT;
    Retrovue__Evidence__V1__BlockFence bf = RETROVUE__EVIDENCE__V1__BLOCK_FENCE__INIT;
    Retrovue__Evidence__V1__ChannelTerminated ct = RETROVUE__EVIDENCE__V1__CHANNEL_TERMINATED__INIT;
    m.schema_version = EVIDENCE_SCHEMA_VERSION;
    m.channel_id = S(channel_id);
    m.playout_session_id = S(session_id);
    m.sequence = r->sequence;
    m.event_uuid = S(r->event_uuid);
    m.emitted_utc = S(r->emitted_utc);
    switch (ev->kind) {
    case EVIDENCE_BLOCK_START:
        bs.block_id = S(ev->block_id);
        bs.swap_tick = ev->swap_tick;
        bs.fence_tick = ev->fence_tick;
        bs.actual_start_utc_ms = ev->actual_start_utc_ms;
        bs.primed_success = ev->primed_success != 0;
        m.payload_case = RETROVUE__EVIDENCE__V1__EVIDENCE_FROM_AIR__PAYLOAD_BLOCK_START;
        m.block_start = &bs;
        break;
    case EVIDENCE_SEGMENT_START:
        ss.block_id = S(ev->block_id);
        ss.event_id = S(ev->event_id);
        ss.segment_index = ev->segment_index;
        ss.actual_start_utc_ms = ev->actual_start_utc_ms;
        ss.asset_start_frame = ev->asset_start_frame;
        ss.scheduled_duration_ms = ev->scheduled_duration_ms;
        ss.join_in_progress = ev->join_in_progress != 0;
        ss.segment_type_name = S(ev->segment_type_name);
        ss.asset_uri = S(ev->asset_uri);
        m.payload_case = RETROVUE__EVIDENCE__V1__EVIDENCE_FROM_AIR__PAYLOAD_SEGMENT_START;
        m.segment_start = &ss;
        break;
    case EVIDENCE_SEGMENT_END:
        se.block_id = S(ev->block_id);
        se.event_id_ref = S(ev->event_id);
        se.actual_start_utc_ms = ev->actual_start_utc_ms;
        se.actual_end_utc_ms = ev->actual_end_utc_ms;
        se.asset_start_frame = ev->asset_start_frame;
        se.asset_end_frame = ev->asset_end_frame;
        se.computed_duration_ms = segment_duration_ms(ev);
        se.computed_duration_frames = segment_frames(ev);
        se.status = S(ev->status);
        se.reason = S(ev->reason);
        se.fallback_frames_used = ev->fallback_frames_used;
        se.segment_type_name = S(ev->segment_type_name);
        m.payload_case = RETROVUE__EVIDENCE__V1__EVIDENCE_FROM_AIR__PAYLOAD_SEGMENT_END;
        m.segment_end = &se;
        break;
    case EVIDENCE_BLOCK_FENCE:
        bf.block_id = S(ev->block_id);
        /* RetroVue AR-ART-003: on the FENCE line swap_tick equals fence_tick
         * (Core warns and rewrites it otherwise). The spool keeps the given
         * value. */
        bf.swap_tick = ev->fence_tick;
        bf.fence_tick = ev->fence_tick;
        bf.actual_end_utc_ms = ev->actual_end_utc_ms;
        bf.ct_at_fence_ms = ev->ct_at_fence_ms;
        bf.total_frames_emitted = ev->total_frames_emitted;
        bf.truncated_by_fence = ev->truncated_by_fence != 0;
        bf.early_exhaustion = ev->early_exhaustion != 0;
        bf.primed_success = ev->primed_success != 0;
        m.payload_case = RETROVUE__EVIDENCE__V1__EVIDENCE_FROM_AIR__PAYLOAD_BLOCK_FENCE;
        m.block_fence = &bf;
        break;
    case EVIDENCE_CHANNEL_TERMINATED:
        ct.termination_utc_ms = ev->actual_end_utc_ms;
        ct.reason = S(ev->reason);
        ct.detail = S(ev->detail);
        m.payload_case = RETROVUE__EVIDENCE__V1__EVIDENCE_FROM_AIR__PAYLOAD_CHANNEL_TERMINATED;
        m.channel_terminated = &ct;
        break;
    default:
        return NULL;
    }
    return pack(&m, len);
}

uint8_t *evidence_hello_pack(const char *channel_id, const char *session_id,
                             uint64_t first_sequence_available, uint64_t last_sequence_emitted,
                             size_t *len)
{
    from_air m = RETROVUE__EVIDENCE__V1__EVIDENCE_FROM_AIR__INIT;
    Retrovue__Evidence__V1__Hello h = RETROVUE__EVIDENCE__V1__HELLO__INIT;
    struct timespec now;
    char utc[EVIDENCE_UTC_LEN + 1];
    clock_gettime(CLOCK_REALTIME, &now);
    evidence_utc_iso((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, utc);
    h.first_sequence_available = first_sequence_available;
    h.last_sequence_emitted = last_sequence_emitted;
    m.schema_version = EVIDENCE_SCHEMA_VERSION;
    m.channel_id = S(channel_id);
    m.playout_session_id = S(session_id);
    m.sequence = 0;
    m.event_uuid = S("hello");
    m.emitted_utc = utc;
    m.payload_case = RETROVUE__EVIDENCE__V1__EVIDENCE_FROM_AIR__PAYLOAD_HELLO;
    m.hello = &h;
    return pack(&m, len);
}

int evidence_ack_unpack(const uint8_t *buf, size_t len, uint64_t *acked, char *error,
                        size_t errlen)
{
    Retrovue__Evidence__V1__EvidenceAckFromCore *a =
        retrovue__evidence__v1__evidence_ack_from_core__unpack(NULL, len, buf);
    if (!a)
        return RV_EFORMAT;
    *acked = a->acked_sequence;
    if (error && errlen)
        snprintf(error, errlen, "%s", a->error ? a->error : "");
    retrovue__evidence__v1__evidence_ack_from_core__free_unpacked(a, NULL);
    return RV_OK;
}
