/**
 * @file ff_orient.c
 * @short ff_orient: display matrix -> filters that stand a picture upright.
 *        See ff_orient.h.
 */
#include "ff_orient.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>

#include <libavutil/display.h>

static const int32_t *ff_orient_matrix(const AVFrame *frame, const AVStream *st)
{
    const AVFrameSideData *sd = av_frame_get_side_data(frame, AV_FRAME_DATA_DISPLAYMATRIX);
    if (sd && sd->size >= 9 * sizeof(int32_t))
        return (const int32_t *)sd->data;
    if (!st)
        return NULL;
    size_t size = 0;
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    return m && size >= 9 * sizeof(int32_t) ? (const int32_t *)m : NULL;
}

ff_orient ff_orient_of(const AVFrame *frame, const AVStream *st)
{
    ff_orient o = {.filters = ""};
    const int32_t *m = ff_orient_matrix(frame, st);
    if (!m)
        return o;
    /* av_display_rotation_get() is counter-clockwise and reads a mirror
     * image as a half turn; which axis is mirrored shows in the signs of
     * the matrix (the same reading as FFmpeg's own tools). */
    double ccw = av_display_rotation_get(m);
    if (isnan(ccw))
        return o;
    int cw = (int)lround(-ccw);
    cw = ((cw % 360) + 360) % 360;
    int q = ((cw + 45) / 90) % 4 * 90;
    int off = abs(cw - q);
    if (off > 1 && off < 359) {
        o.odd_angle = 1;
        return o;
    }
    o.turn_deg = q;
    o.swaps_axes = q == 90 || q == 270;
    switch (q) {
    case 90:
        o.hflip = m[3] > 0;
        o.filters = o.hflip ? "transpose=cclock_flip" : "transpose=clock";
        break;
    case 180:
        /* a half turn is both mirrors; one mirror alone is a mirror image */
        if (m[0] < 0 && m[4] < 0) {
            o.filters = "hflip,vflip";
        } else {
            o.turn_deg = 0;
            o.hflip = 1;
            o.filters = m[0] < 0 ? "hflip" : m[4] < 0 ? "vflip" : "";
        }
        break;
    case 270:
        o.hflip = m[3] < 0;
        o.filters = o.hflip ? "transpose=clock_flip" : "transpose=cclock";
        break;
    default:
        if (m[4] < 0) {
            o.hflip = 1;
            o.filters = "vflip";
        }
        break;
    }
    return o;
}

void ff_orient_describe(const ff_orient *o, char *out, size_t len)
{
    if (o->odd_angle)
        snprintf(out, len, "display matrix asks for a turn that is not a quarter turn: "
                           "aired unturned");
    else
        snprintf(out, len, "turned upright: %d degrees clockwise%s", o->turn_deg,
                 o->hflip ? ", mirror image undone" : "");
}
