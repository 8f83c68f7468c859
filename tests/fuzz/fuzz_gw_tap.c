/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_gw_tap.c - libFuzzer target for the monitor's reader of
 * the tap ring (gateway/proto/tap.c), whose contents a compromised worker
 * controls: the input is the reader's start position and the worker's
 * head (8 bytes each), then the ring's bytes. Every record the reader
 * accepts must lie inside the ring, add up to its length and end at or
 * before head; the reader must stop within a ring's worth. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/proto/proto.h"

static struct jg_gw_tap *ring;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if ((ring = jg_gw_tap_new()) == NULL)
        abort();
    return 0;
}

static void
inside(const uint8_t *p, size_t n)
{
    if (n > 0 && (p < ring->data || p + n > ring->data + JG_GW_TAP_SIZE))
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_gw_tap_rec r;
    uint64_t pos, head, start;
    size_t k;
    int e, n = 0;

    if (size < 16)
        return 0;
    memcpy(&pos, data, 8);
    memcpy(&head, data + 8, 8);
    /* Mostly near each other, sometimes anywhere. */
    if ((pos & 1) == 0) {
        pos = (pos >> 1) % (4 * (uint64_t)JG_GW_TAP_SIZE) / 16 * 16;
        head = pos + (head % (JG_GW_TAP_SIZE + 64));
    }
    data += 16;
    size -= 16;
    memset(ring->data, 0, JG_GW_TAP_SIZE);
    /* The bytes go where the reader starts, wrapping like the ring. */
    for (k = 0; k < size && k < JG_GW_TAP_SIZE; k++)
        ring->data[(pos + k) % JG_GW_TAP_SIZE] = data[k];
    start = pos;
    while ((e = jg_gw_tap_next(ring, &pos, head, &r)) == 0) {
        inside(r.p[0], r.n[0]);
        inside(r.p[1], r.n[1]);
        if (r.n[0] + r.n[1] != r.len || r.len > JG_GW_TAP_REC_MAX ||
            pos > head || pos - start > JG_GW_TAP_SIZE || ++n > 100000)
            abort();
    }
    if (e != JG_ERR_NOTFOUND && e != JG_ERR_INVALID)
        abort();
    return 0;
}
