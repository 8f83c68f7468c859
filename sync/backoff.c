/* SPDX-License-Identifier: Apache-2.0 */
/* sync/backoff.c - full-jitter exponential backoff delays and sleeping. */
#include <errno.h>
#include <time.h>

#include "sync/internal.h"

int64_t
jg_sync_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms)
{
    int64_t ceil_ms = base_ms;
    uint64_t rnd = 0;
    int i;

    for (i = 0; i < attempt && ceil_ms < cap_ms; i++)
        ceil_ms *= 2;
    if (ceil_ms > cap_ms)
        ceil_ms = cap_ms;
    if (ceil_ms <= 0)
        return 0;
    if (jg_random(&rnd, sizeof(rnd)) != 0)
        return ceil_ms / 2;
    return (int64_t)(rnd % (uint64_t)(ceil_ms + 1));
}

void
jg_sync_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
