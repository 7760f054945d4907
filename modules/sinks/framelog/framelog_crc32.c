/**
 * @file modules/sinks/framelog/framelog_crc32.c
 * @short CRC-32, IEEE polynomial, slicing-by-8 (see framelog_crc32.h).
 *        Owns nothing beyond the caller's table set.
 */
#include "framelog_crc32.h"

#define FRAMELOG_CRC32_POLY 0xEDB88320u

void framelog_crc32_init(framelog_crc32 *c)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t r = i;
        for (int bit = 0; bit < 8; bit++)
            r = (r & 1u) ? (r >> 1) ^ FRAMELOG_CRC32_POLY : r >> 1;
        c->table[0][i] = r;
    }
    for (int k = 1; k < 8; k++)
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t prev = c->table[k - 1][i];
            c->table[k][i] = (prev >> 8) ^ c->table[0][prev & 0xffu];
        }
}

static uint32_t framelog_crc32_load_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t framelog_crc32_update(const framelog_crc32 *c, uint32_t crc, const uint8_t *data,
                               size_t len)
{
    const uint32_t (*t)[256] = c->table;

    crc = ~crc;
    while (len >= 8) {
        uint32_t lo = crc ^ framelog_crc32_load_le(data);
        uint32_t hi = framelog_crc32_load_le(data + 4);
        crc = t[7][lo & 0xffu] ^ t[6][(lo >> 8) & 0xffu] ^ t[5][(lo >> 16) & 0xffu] ^
              t[4][lo >> 24] ^ t[3][hi & 0xffu] ^ t[2][(hi >> 8) & 0xffu] ^
              t[1][(hi >> 16) & 0xffu] ^ t[0][hi >> 24];
        data += 8;
        len -= 8;
    }
    while (len-- > 0)
        crc = (crc >> 8) ^ t[0][(crc ^ *data++) & 0xffu];
    return ~crc;
}

uint32_t framelog_crc32_luma(const framelog_crc32 *c, const rv_video_frame *frame)
{
    uint32_t crc = 0;
    const uint8_t *row = frame->plane[0];

    for (uint32_t y = 0; y < frame->height; y++, row += frame->stride[0])
        crc = framelog_crc32_update(c, crc, row, frame->width);
    return crc;
}
