/**
 * @file modules/transports/udp/mpegts_udp.c
 * @short The mpegts-udp transport: a channel's MPEG-TS rendition as UDP
 *        datagrams of pkt_size bytes (7 TS packets = 1316 by default, the
 *        size IPTV head-ends expect) to a unicast or multicast IPv4 address,
 *        with TTL and outgoing interface options.
 *
 * Owns the UDP socket (between start and stop), the bytes of a datagram not
 * yet full and the counters. A push output: it sends whether or not anyone
 * listens. Datagrams always carry whole TS packets; a constant bit rate comes
 * from the encoder (its muxrate_kbps pads with null packets), the transport
 * sends each tick's bytes as they come. A full socket buffer drops the
 * datagram (counted), never blocks. Threads: write() on the host's transport
 * thread; get_stats/describe on any thread; the rest on the control thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <retrovue/retrovue.h>

static const rv_option udp_options[] = {
    {.key = "host", .type = RV_OPT_STRING, .default_string = "127.0.0.1",
     .help = "destination IPv4 address, unicast or multicast (224.0.0.0/4)"},
    {.key = "port", .type = RV_OPT_INT, .default_int = 5000, .min_int = 1, .max_int = 65535,
     .help = "destination UDP port"},
    {.key = "pkt_size", .type = RV_OPT_INT, .default_int = 1316, .min_int = 188, .max_int = 1316,
     .help = "datagram payload in bytes, a multiple of 188 (1316 = 7 TS packets)"},
    {.key = "ttl", .type = RV_OPT_INT, .default_int = 16, .min_int = 1, .max_int = 255,
     .help = "IP time to live (multicast hops)"},
    {.key = "interface", .type = RV_OPT_STRING, .default_string = "",
     .help = "multicast: outgoing interface name or IPv4 address; \"\" = the routing table's"},
    {.key = NULL},
};

typedef struct udp_state {
    const rv_host_api *host;
    rv_context *ctx;
    struct sockaddr_in dest;
    size_t pkt_size;
    int ttl;
    char iface[IF_NAMESIZE + 32];
    int fd;                          /**< -1 outside start..stop */
    uint8_t buf[1316];               /**< the datagram being filled */
    size_t len;
    atomic_uint_fast64_t bytes;
    atomic_uint_fast64_t dropped;    /**< ticks with a datagram the kernel refused */
    int failed;                      /**< transport thread: this chunk lost a datagram */
    char desc[64];
} udp_state;

static int udp_create(const rv_create_args *args, void **state)
{
    const rv_host_api *h = args->host;
    const char *host = h->opt_string(args->options, "host");
    const char *iface = h->opt_string(args->options, "interface");
    udp_state *u;

    *state = NULL;
    u = calloc(1, sizeof *u);
    if (!u)
        return RV_ENOMEM;
    u->host = h;
    u->ctx = args->ctx;
    u->fd = -1;
    u->pkt_size = (size_t)h->opt_int(args->options, "pkt_size");
    u->ttl = (int)h->opt_int(args->options, "ttl");
    u->dest.sin_family = AF_INET;
    u->dest.sin_port = htons((uint16_t)h->opt_int(args->options, "port"));
    if (u->pkt_size % 188 != 0) {
        h->event(args->ctx, RV_EVENT_SINK_ERROR, RV_EINVAL, "",
                 "pkt_size %zu is not a multiple of 188 (use 1316, 1128, ... or 188)",
                 u->pkt_size);
        free(u);
        return RV_EINVAL;
    }
    if (!host || inet_pton(AF_INET, host, &u->dest.sin_addr) != 1) {
        h->event(args->ctx, RV_EVENT_SINK_ERROR, RV_EINVAL, host ? host : "",
                 "host '%s' is not an IPv4 address", host ? host : "");
        free(u);
        return RV_EINVAL;
    }
    snprintf(u->iface, sizeof u->iface, "%s", iface ? iface : "");
    snprintf(u->desc, sizeof u->desc, "udp://%s:%u", host, (unsigned)ntohs(u->dest.sin_port));
    *state = u;
    return RV_OK;
}

static int udp_is_multicast(const udp_state *u)
{
    return IN_MULTICAST(ntohl(u->dest.sin_addr.s_addr));
}

/* Multicast options: TTL, loopback (a local receiver hears it), interface. */
static int udp_multicast_setup(udp_state *u, int fd)
{
    unsigned char ttl = (unsigned char)u->ttl;
    unsigned char loop = 1;
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0)
        return -1;
    if (!u->iface[0])
        return 0;
    struct ip_mreqn mreq;
    memset(&mreq, 0, sizeof mreq);
    if (inet_pton(AF_INET, u->iface, &mreq.imr_address) != 1) {
        mreq.imr_ifindex = (int)if_nametoindex(u->iface);
        if (mreq.imr_ifindex == 0) {
            errno = ENODEV;
            return -1;
        }
    }
    return setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq);
}

static int udp_start(void *state)
{
    udp_state *u = state;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? -1 : 0;
    if (rc == 0 && udp_is_multicast(u))
        rc = udp_multicast_setup(u, fd);
    else if (rc == 0)
        rc = setsockopt(fd, IPPROTO_IP, IP_TTL, &u->ttl, sizeof u->ttl);
    if (rc == 0)
        rc = connect(fd, (const struct sockaddr *)&u->dest, sizeof u->dest);
    if (rc != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        u->host->event(u->ctx, RV_EVENT_SINK_ERROR, RV_EIO, u->desc, "cannot send to %s%s%s: %s",
                       u->desc, u->iface[0] ? " via " : "", u->iface, strerror(err));
        return RV_EIO;
    }
    u->fd = fd;
    u->len = 0;
    u->host->log(u->ctx, RV_LOG_INFO, "streaming MPEG-TS on %s (%zu-byte datagrams, TTL %d)",
                 u->desc, u->pkt_size, u->ttl);
    return RV_OK;
}

static void udp_send(udp_state *u, const uint8_t *data, size_t len)
{
    ssize_t w = send(u->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w == (ssize_t)len)
        atomic_fetch_add(&u->bytes, (uint64_t)len);
    else
        u->failed = 1; /* full buffer, or ICMP refused: never block */
}

static int udp_write(void *state, const rv_chunk *chunk)
{
    udp_state *u = state;
    size_t off = 0;
    if (u->fd < 0)
        return RV_ESTATE;
    if (chunk->resync)
        u->len = 0; /* bytes were skipped: do not glue across the gap */
    u->failed = 0;
    if (u->len) {
        size_t take = u->pkt_size - u->len < chunk->len ? u->pkt_size - u->len : chunk->len;
        memcpy(u->buf + u->len, chunk->data, take);
        u->len += take;
        off = take;
        if (u->len == u->pkt_size) {
            udp_send(u, u->buf, u->len);
            u->len = 0;
        }
    }
    for (; chunk->len - off >= u->pkt_size; off += u->pkt_size)
        udp_send(u, chunk->data + off, u->pkt_size);
    memcpy(u->buf + u->len, chunk->data + off, chunk->len - off);
    u->len += chunk->len - off;
    if (u->failed)
        atomic_fetch_add(&u->dropped, 1);
    return RV_OK;
}

static void udp_stop(void *state)
{
    udp_state *u = state;
    if (u->fd < 0)
        return;
    if (u->len)
        udp_send(u, u->buf, u->len); /* the last whole TS packets */
    u->len = 0;
    close(u->fd);
    u->fd = -1;
}

static void udp_destroy(void *state)
{
    udp_state *u = state;
    if (!u)
        return;
    udp_stop(u);
    free(u);
}

static int udp_get_stats(void *state, rv_sink_stats *out)
{
    udp_state *u = state;
    out->bytes = atomic_load(&u->bytes);
    out->dropped_frames = atomic_load(&u->dropped);
    return RV_OK;
}

static int udp_describe(void *state, char *buf, size_t len)
{
    udp_state *u = state;
    if (!buf || len == 0)
        return RV_EINVAL;
    snprintf(buf, len, "%s", u->desc);
    return RV_OK;
}

static const rv_transport_ops udp_ops = {
    .struct_size = sizeof(rv_transport_ops),
    .create = udp_create,
    .destroy = udp_destroy,
    .write = udp_write,
    .start = udp_start,
    .stop = udp_stop,
    .get_stats = udp_get_stats,
    .describe = udp_describe,
};

RV_MODULE_DEFINE(.kind = RV_KIND_TRANSPORT, .name = "mpegts-udp", .version = "1.0.0",
                 .description = "MPEG-TS over UDP, unicast or multicast, 1316-byte datagrams",
                 .options = udp_options, .transport = &udp_ops)
