/**
 * @file modules/sinks/framelog/framelog_crc32.h
 * @short CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, the zlib and
 *        PNG CRC) with slicing-by-8 lookup tables.
 *
 * framelog_crc32 owns its tables (8 KiB), filled once by
 * framelog_crc32_init() and read-only afterwards, so any thread may use an
 * initialised table set. crc("123456789") = 0xCBF43926.
 */
#ifndef RV_MODULE_FRAMELOG_CRC32_H
#define RV_MODULE_FRAMELOG_CRC32_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/frame.h>

typedef struct framelog_crc32 {
    uint32_t table[8][256];
} framelog_crc32;

/** Fill the tables of @p c (borrowed). */
void framelog_crc32_init(framelog_crc32 *c);

/** Continue a CRC: @p crc is the CRC of the bytes so far (0 for none);
 *  returns the CRC of those bytes followed by @p data (borrowed, @p len). */
uint32_t framelog_crc32_update(const framelog_crc32 *c, uint32_t crc, const uint8_t *data,
                               size_t len);

/** CRC of the Y plane of @p frame (borrowed): row by row over `width` bytes
 *  of each row (never the stride padding). */
uint32_t framelog_crc32_luma(const framelog_crc32 *c, const rv_video_frame *frame);

#endif
