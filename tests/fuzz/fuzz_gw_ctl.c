/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_gw_ctl.c - libFuzzer target for the requests of the
 * master's control socket (gateway/master/ctlreq.c): a line as a client
 * (the CLI, the auditors' console) sends it. Besides the sanitizers: a
 * request read names a known kind and holds only printable strings within
 * their sizes, "from" an IP address where the kind needs one; a refused
 * one says why. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JG_GW_ROOM_MASTER
#include "gateway/master/master.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
printable(const char *s, size_t max)
{
    size_t i, n = strnlen(s, max + 1);

    if (n > max)
        abort();
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_gw_ctl_req r;
    unsigned char addr[16];
    char line[4096], err[128];

    /* a line as request() hands it over: no newline, NUL-ended */
    if (size >= sizeof(line) || memchr(data, '\n', size) != NULL)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    if (jg_gw_ctl_parse(line, &r, err, sizeof(err)) != 0) {
        if (err[0] == '\0')
            abort();
        return 0;
    }
    if (r.kind < JG_GW_CTL_LIST || r.kind > JG_GW_CTL_BANNED)
        abort();
    printable(r.by, 64);
    printable(r.reason, 512);
    if (r.kind == JG_GW_CTL_KILL && r.id[0] == '\0')
        abort();
    if (r.kind == JG_GW_CTL_AUTH_FAILURE || r.kind == JG_GW_CTL_BANNED) {
        if (inet_pton(AF_INET, r.from, addr) != 1 &&
            inet_pton(AF_INET6, r.from, addr) != 1)
            abort();
    }
    return 0;
}
