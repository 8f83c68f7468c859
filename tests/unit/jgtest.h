/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/jgtest.h - helpers shared by the cmocka unit tests. */
#ifndef JG_TEST_H
#define JG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/common.h"
#include "policy/policy.h"

/* Real public keys (public halves only), for policies in tests. */
#define KEY_ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHLhqf40Rr0bwyOlGZtIcRUoqGrLXbvRyfCc/pprH6R5 alice@laptop"
#define KEY_ECDSA "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLRm1Hbqr+4HswcyCvoCsCCAhy1y7hKYWt6hFvv7lv6AAy+1C+rhBDq5WMUsSklJzUbQGMaFjjFVKYwqPXSvNGA= bob@x"

static inline int64_t
T(const char *s)
{
    int64_t t = 0;

    if (jg_time_parse(s, &t) != 0)
        fail_msg("bad time in test: %s", s);
    return t;
}

/* Diagnostics as one string "L:C: msg\n..." for matching. */
static inline char *
diags_text(struct jg_diags *d)
{
    size_t cap = 1, i;
    char *s;

    for (i = 0; i < d->n; i++)
        cap += strlen(d->v[i].msg) + 32;
    s = calloc(1, cap);
    for (i = 0; i < d->n; i++) {
        size_t l = strlen(s);
        snprintf(s + l, cap - l, "%d:%d: %s\n", d->v[i].line, d->v[i].col, d->v[i].msg);
    }
    return s;
}

#endif
