/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/mysql_fuzz.h - what the two MySQL query-audit fuzz targets
 * share (fuzz_mysql_client.c, fuzz_mysql_server.c): the input is records
 * of [u16 little-endian length][bytes] for the fuzzed side, between which
 * the other side says its usual part; the first byte picks the
 * capabilities. Besides the sanitizers: a stopped parser gives exactly one
 * ERROR event with a reason, events carry valid text, and once stopped it
 * reports only the unanswered commands, as unknown. */
#ifndef JG_TESTS_FUZZ_MYSQL_FUZZ_H
#define JG_TESTS_FUZZ_MYSQL_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit/audit.h"

struct mf_state {
    size_t errors;
};

static void
mf_check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_mysql: %s\n", what);
        abort();
    }
}

static void
mf_event(const struct jg_audit_mysql_event *ev, void *arg)
{
    struct mf_state *st = arg;
    json_t *o;
    char *s;

    mf_check(st->errors == 0 || ev->status == JG_AUDIT_MYSQL_ST_UNKNOWN,
             "an answered command reported after the ERROR");
    if (ev->kind == JG_AUDIT_MYSQL_ERROR) {
        mf_check(ev->error != NULL && ev->error[0] != '\0',
                 "an ERROR event without a reason");
        st->errors++;
        return;
    }
    mf_check(ev->text != NULL, "an event without text");
    o = jg_audit_mysql_event_json(ev);
    s = json_dumps(o, JSON_COMPACT);
    mf_check(s != NULL, "an event that is not valid JSON text");
    free(s);
    json_decref(o);
}

/* The capabilities from the first input byte. */
static uint32_t
mf_caps(uint8_t b)
{
    uint32_t caps = JG_MYSQL_CLIENT_PROTOCOL_41 |
                    JG_MYSQL_CLIENT_SECURE_CONNECTION;

    if (b & 1)
        caps |= JG_MYSQL_CLIENT_DEPRECATE_EOF;
    return caps;
}

/* A packet: payload p of n bytes with sequence id seq. */
static void
mf_packet(struct jg_audit_mysql *p, bool client, uint8_t seq, const void *d,
          size_t n, uint64_t t)
{
    uint8_t h[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), seq};

    jg_audit_mysql_feed(p, client, h, 4, t);
    jg_audit_mysql_feed(p, client, d, n, t);
}

/* Runs the records; other(p, i, t) speaks for the other side before each
 * record i. */
static void
mf_run(const uint8_t *data, size_t size, bool fuzzed_client,
       void (*other)(struct jg_audit_mysql *, size_t, uint64_t))
{
    struct mf_state st = {0};
    struct jg_audit_mysql *p;
    uint64_t t = 0;
    size_t i = 0;

    if (size < 1)
        return;
    p = jg_audit_mysql_new(mf_caps(data[0]), mf_event, &st);
    mf_check(p != NULL, "out of memory");
    data++;
    size--;
    while (size >= 2) {
        size_t n = (size_t)data[0] | (size_t)data[1] << 8;

        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        other(p, i++, t += 10);
        jg_audit_mysql_feed(p, fuzzed_client, data, n, t += 10);
        data += n;
        size -= n;
    }
    jg_audit_mysql_finish(p);
    mf_check(st.errors <= 1, "more than one ERROR event");
    mf_check(jg_audit_mysql_failed(p) == (st.errors == 1),
             "failed() disagrees with the events");
    mf_check(!jg_audit_mysql_failed(p) || jg_audit_mysql_error(p) != NULL,
             "failed without a reason");
    jg_audit_mysql_free(p);
}

#endif
