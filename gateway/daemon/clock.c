/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/daemon/clock.c - the monotonic clocks every process of jumpgated
 * times itself with (poll time-outs, reports, the idle timeout). */
#include <time.h>

#include "gateway/daemon/daemon.h"

int64_t
jg_gw_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
jg_gw_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}
