/* SPDX-License-Identifier: Apache-2.0 */
/* audit/uuid.c - time-sortable session ids (UUIDv7, RFC 9562). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"

void
jg_audit_uuid7_make(int64_t unix_ms, uint16_t counter, const uint8_t rnd[8],
                    char out[JG_AUDIT_ID_STRLEN])
{
    uint8_t b[16];
    uint64_t ms = (uint64_t)unix_ms & 0xffffffffffffULL;
    int i;

    for (i = 0; i < 6; i++)
        b[i] = (uint8_t)(ms >> (40 - 8 * i));
    b[6] = (uint8_t)(0x70 | ((counter >> 8) & 0x0f));
    b[7] = (uint8_t)counter;
    memcpy(b + 8, rnd, 8);
    b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
    snprintf(out, JG_AUDIT_ID_STRLEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
             b[11], b[12], b[13], b[14], b[15]);
}

/* Per-process state of the id generator, so that ids made in one
 * millisecond still sort in the order they were made (RFC 9562 section
 * 6.2, method 1: a 12-bit counter in rand_a). Guarded by uuid_lock. */
static pthread_mutex_t uuid_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t uuid_last_ms;
static uint16_t uuid_counter;

int
jg_audit_uuid7(char out[JG_AUDIT_ID_STRLEN])
{
    uint8_t rnd[8];
    uint16_t seed;
    int64_t ms = jg_audit_now_us() / 1000;
    uint16_t counter;
    int r;

    if ((r = jg_random(rnd, sizeof(rnd))) != 0 ||
        (r = jg_random(&seed, sizeof(seed))) != 0)
        return r;
    pthread_mutex_lock(&uuid_lock);
    if (ms > uuid_last_ms) {
        uuid_last_ms = ms;
        /* A fresh start below the middle leaves room to count up. */
        uuid_counter = seed & 0x7ff;
    } else if (uuid_counter >= 0xfff) {
        uuid_last_ms++; /* borrow the next millisecond */
        uuid_counter = 0;
    } else {
        uuid_counter++;
    }
    ms = uuid_last_ms;
    counter = uuid_counter;
    pthread_mutex_unlock(&uuid_lock);
    jg_audit_uuid7_make(ms, counter, rnd, out);
    return 0;
}

bool
jg_audit_id_valid(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != 36)
        return false;
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!((s[i] >= '0' && s[i] <= '9') ||
                     (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return s[14] == '7' && strchr("89ab", s[19]) != NULL;
}

int64_t
jg_audit_uuid7_ms(const char *id)
{
    int64_t ms = 0;
    size_t i;

    for (i = 0; i < 13 && id[i] != '\0'; i++) {
        char c = id[i];

        if (c == '-')
            continue;
        ms = ms * 16 + (c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return ms;
}
