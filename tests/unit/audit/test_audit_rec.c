/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/audit/test_audit_rec.c - the recorder, its seals, UUIDv7
 * ordering, UTF-8 splitting, and every tamper case of verify. */
#include "audit_test.h"

/* Records a short session; returns its id in id and the paths. */
static void
make_rec(struct fx *f, char id[JG_AUDIT_ID_STRLEN], char **cast, char **seal,
         bool close_it)
{
    struct jg_audit_rec_info in = {.user = "alice", .target = "web-1",
        .login = "ec2-user", .from = "203.0.113.5", .rule = "ops",
        .action = "shell", .term = "xterm", .width = 100, .height = 30};
    struct jg_audit_rec *r = NULL;
    char line[64];
    int i;

    assert_int_equal(jg_audit_uuid7(id), 0);
    in.session = id;
    assert_int_equal(jg_audit_rec_open(f->dir, &in, f->key, T0, &r), 0);
    for (i = 0; i < 10; i++) {
        snprintf(line, sizeof(line), "line %d\r\n", i);
        assert_int_equal(jg_audit_rec_output(r, T0 + i * 300000, line,
                                             strlen(line)), 0);
    }
    assert_int_equal(jg_audit_rec_resize(r, T0 + 3100000, 120, 40), 0);
    assert_int_equal(jg_audit_rec_exit_status(r, T0 + 3200000, 3), 0);
    *cast = jg_xstrdup(jg_audit_rec_path(r));
    *seal = jg_xasprintf("%s.seal", *cast);
    if (close_it)
        assert_int_equal(jg_audit_rec_close(r, T0 + 3300000), 0);
    else
        jg_audit_rec_free(r);
}

static int
verify(struct fx *f, const char *id, const char *cast, const char *seal,
       struct jg_audit_cast_status *st, char **msgs)
{
    struct jg_diags d = {0};
    int r = jg_audit_verify_cast(cast, seal, id, f->pub, st, &d);

    *msgs = diags_text(&d);
    jg_diags_clear(&d);
    return r;
}

static void
test_intact(void **state)
{
    struct fx *f = *state;
    struct jg_audit_cast_status st;
    char id[JG_AUDIT_ID_STRLEN], *cast, *seal, *msgs, *d;
    size_t len;

    make_rec(f, id, &cast, &seal, true);
    assert_int_equal(verify(f, id, cast, seal, &st, &msgs), 0);
    assert_string_equal(msgs, "");
    assert_true(st.final);
    assert_int_equal(st.sealed, st.size);
    /* Checkpoints: at open, at least one a second while data flowed (the
     * events span 3 s), and the final one. */
    assert_true(st.checkpoints >= 4);
    d = fx_read(cast, &len);
    assert_non_null(strstr(d, "[3.200000, \"m\", \"exit-status 3\"]"));
    assert_non_null(strstr(d, "[3.100000, \"r\", \"120x40\"]"));
    free(d);
    free(msgs);
    free(cast);
    free(seal);
}

enum tamper { FLIP, DELETE, DUP, REORDER, JUNK, TRUNCATE, NO_SEAL };

static void
tamper_case(struct fx *f, enum tamper how, const char *expect)
{
    struct jg_audit_cast_status st;
    char id[JG_AUDIT_ID_STRLEN], *cast, *seal, *msgs, *d, *o;
    size_t len, starts[64], n, olen = 0;

    make_rec(f, id, &cast, &seal, true);
    d = fx_read(cast, &len);
    n = fx_lines(d, len, starts);
    assert_true(n > 6);
    o = jg_xmalloc(len + 64);
    switch (how) {
    case FLIP:
        memcpy(o, d, len);
        o[len / 2] ^= 1;
        olen = len;
        break;
    case DELETE: /* line 4 */
        memcpy(o, d, starts[3]);
        memcpy(o + starts[3], d + starts[4], len - starts[4]);
        olen = len - (starts[4] - starts[3]);
        break;
    case DUP: /* line 4 twice */
        memcpy(o, d, starts[4]);
        memcpy(o + starts[4], d + starts[3], starts[4] - starts[3]);
        memcpy(o + starts[4] + (starts[4] - starts[3]), d + starts[4],
               len - starts[4]);
        olen = len + (starts[4] - starts[3]);
        break;
    case REORDER: /* lines 4 and 5 swapped */
        memcpy(o, d, starts[3]);
        olen = starts[3];
        memcpy(o + olen, d + starts[4], starts[5] - starts[4]);
        olen += starts[5] - starts[4];
        memcpy(o + olen, d + starts[3], starts[4] - starts[3]);
        olen += starts[4] - starts[3];
        memcpy(o + olen, d + starts[5], len - starts[5]);
        olen += len - starts[5];
        break;
    case JUNK:
        memcpy(o, d, len);
        memcpy(o + len, "[9.0, \"o\", \"x\"]\n", 16);
        olen = len + 16;
        break;
    case TRUNCATE:
        memcpy(o, d, len - 10);
        olen = len - 10;
        break;
    case NO_SEAL:
        memcpy(o, d, len);
        olen = len;
        assert_int_equal(unlink(seal), 0);
        break;
    }
    fx_write(cast, o, olen);
    assert_int_equal(verify(f, id, cast, seal, &st, &msgs), JG_ERR_INVALID);
    if (strstr(msgs, expect) == NULL)
        fail_msg("case %d: expected \"%s\" in:\n%s", how, expect, msgs);
    free(o);
    free(d);
    free(msgs);
    free(cast);
    free(seal);
}

static void
test_tamper_matrix(void **state)
{
    static const struct {
        enum tamper how;
        const char *expect;
    } cases[] = {
        {FLIP, "changed between byte"},
        {DELETE, "does not match"},
        {DUP, "does not match"},
        {REORDER, "does not match"},
        {JUNK, "after the final seal"},
        {TRUNCATE, "truncated"},
        {NO_SEAL, "missing: nothing proves"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        tamper_case(*state, cases[i].how, cases[i].expect);
}

static void
test_swapped_between_sessions(void **state)
{
    struct fx *f = *state;
    struct jg_audit_cast_status st;
    char a[JG_AUDIT_ID_STRLEN], b[JG_AUDIT_ID_STRLEN];
    char *ca, *sa, *cb, *sb, *msgs;

    make_rec(f, a, &ca, &sa, true);
    make_rec(f, b, &cb, &sb, true);
    /* b's files presented as a's. */
    assert_int_equal(rename(cb, ca), 0);
    assert_int_equal(rename(sb, sa), 0);
    assert_int_equal(verify(f, a, ca, sa, &st, &msgs), JG_ERR_INVALID);
    assert_non_null(strstr(msgs, "another recording"));
    assert_non_null(strstr(msgs, "header names session"));
    free(msgs);
    free(ca);
    free(sa);
    free(cb);
    free(sb);
}

static void
test_crash_without_final(void **state)
{
    struct fx *f = *state;
    struct jg_audit_cast_status st;
    char id[JG_AUDIT_ID_STRLEN], *cast, *seal, *msgs;

    make_rec(f, id, &cast, &seal, false);
    assert_int_equal(verify(f, id, cast, seal, &st, &msgs), JG_ERR_INVALID);
    assert_false(st.final);
    assert_true(st.sealed > 0 && st.sealed < st.size);
    assert_non_null(strstr(msgs, "bytes after the last seal"));
    free(msgs);
    free(cast);
    free(seal);
}

static void
test_checkpoint_every_64k(void **state)
{
    struct fx *f = *state;
    struct jg_audit_rec_info in = {.user = "a", .target = "t", .login = "l",
        .action = "exec", .command = "cat big"};
    struct jg_audit_rec *r = NULL;
    struct jg_audit_cast_status st;
    char id[JG_AUDIT_ID_STRLEN], *cast, *seal, *msgs;
    char buf[4096];
    int i;

    memset(buf, 'x', sizeof(buf));
    jg_audit_uuid7(id);
    in.session = id;
    assert_int_equal(jg_audit_rec_open(f->dir, &in, f->key, T0, &r), 0);
    /* 1 MiB within one millisecond: checkpoints come from size alone. */
    for (i = 0; i < 256; i++)
        assert_int_equal(jg_audit_rec_output(r, T0 + 1000, buf, sizeof(buf)),
                         0);
    cast = jg_xstrdup(jg_audit_rec_path(r));
    seal = jg_xasprintf("%s.seal", cast);
    assert_int_equal(jg_audit_rec_close(r, T0 + 2000), 0);
    assert_int_equal(verify(f, id, cast, seal, &st, &msgs), 0);
    assert_true(st.checkpoints >= 1 + (1u << 20) / JG_AUDIT_SEAL_BYTES);
    free(msgs);
    free(cast);
    free(seal);
}

/* Events of every size, some larger than a writer block, around ticks:
 * the file holds them all, whole and in order, and verifies. */
static void
test_lines_around_and_beyond_blocks(void **state)
{
    struct fx *f = *state;
    struct jg_audit_rec_info in = {.user = "a", .target = "t", .login = "l",
        .action = "exec", .command = "cat big"};
    struct jg_audit_rec *r = NULL;
    struct jg_audit_cast_status st;
    char id[JG_AUDIT_ID_STRLEN], *cast, *seal, *msgs, *line = NULL;
    size_t cap = 0, big = 100000, want_len = 0, got_len = 0, i, k;
    char *buf = jg_xmalloc(big), *want = jg_xmalloc(16 * big);
    char *got = jg_xmalloc(16 * big);
    FILE *fp;
    ssize_t n;

    jg_audit_uuid7(id);
    in.session = id;
    assert_int_equal(jg_audit_rec_open(f->dir, &in, f->key, T0, &r), 0);
    assert_int_equal(jg_audit_rec_output(r, T0 + 1, "a", 1), 0);
    want[want_len++] = 'a';
    /* NULs: six bytes of JSON each, far more than one block. */
    memset(buf, 0, big);
    assert_int_equal(jg_audit_rec_output(r, T0 + 2, buf, big), 0);
    memset(want + want_len, 0, big);
    want_len += big;
    /* Invalid bytes: U+FFFD, three bytes each. */
    memset(buf, 0xff, big);
    assert_int_equal(jg_audit_rec_output(r, T0 + 3, buf, big), 0);
    for (i = 0; i < big; i++, want_len += 3)
        memcpy(want + want_len, "\xef\xbf\xbd", 3);
    /* Medium events that fill blocks unevenly, with ticks between. */
    for (i = 0; i < 300; i++) {
        size_t len = 1 + (i * 997) % 4000;

        for (k = 0; k < len; k++)
            buf[k] = (char)(k % 10 == 9 ? '\n' : 'a' + (i + k) % 26);
        assert_int_equal(jg_audit_rec_output(r, T0 + 10 + (int64_t)i, buf,
                                             len), 0);
        memcpy(want + want_len, buf, len);
        want_len += len;
        if (i % 37 == 0)
            assert_int_equal(jg_audit_rec_tick(r, T0 + 10 + (int64_t)i), 0);
    }
    cast = jg_xstrdup(jg_audit_rec_path(r));
    seal = jg_xasprintf("%s.seal", cast);
    assert_int_equal(jg_audit_rec_close(r, T0 + 5000), 0);
    assert_int_equal(verify(f, id, cast, seal, &st, &msgs), 0);
    assert_true(st.final);
    assert_int_equal(st.sealed, st.size);
    /* The "o" events, concatenated, are what was written. */
    fp = fopen(cast, "r");
    assert_non_null(fp);
    assert_true(getline(&line, &cap, fp) > 0); /* the header */
    while ((n = getline(&line, &cap, fp)) > 0) {
        json_t *ev = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, NULL);
        const char *s;

        assert_non_null(ev);
        assert_string_equal(json_string_value(json_array_get(ev, 1)), "o");
        s = json_string_value(json_array_get(ev, 2));
        k = json_string_length(json_array_get(ev, 2));
        assert_non_null(s);
        assert_true(got_len + k <= want_len);
        memcpy(got + got_len, s, k);
        got_len += k;
        json_decref(ev);
    }
    fclose(fp);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(line);
    free(msgs);
    free(cast);
    free(seal);
    free(buf);
    free(want);
    free(got);
}

static void
test_checkpoint_line_signed_and_bound(void **state)
{
    struct fx *f = *state;
    struct jg_audit_checkpoint cp = {.seq = 1, .offset = 10, .final = true,
                                     .time_us = T0};
    struct jg_audit_checkpoint got;
    char *line, err[128];
    size_t len;

    jg_audit_uuid7(cp.session);
    memset(cp.sha256, 'a', 64);
    assert_int_equal(jg_audit_checkpoint_format(&cp, f->key, &line, &len), 0);
    assert_int_equal(jg_audit_checkpoint_parse(line, len - 1, f->pub, &got,
                                               err, sizeof(err)), 0);
    assert_string_equal(got.session, cp.session);
    assert_int_equal(got.offset, 10);
    /* Any change of a signed member breaks the signature. */
    char *p = strstr(line, "\"offset\":10");
    assert_non_null(p);
    p[10] = '1';
    assert_int_equal(jg_audit_checkpoint_parse(line, len - 1, f->pub, &got,
                                               err, sizeof(err)),
                     JG_ERR_INVALID);
    assert_string_equal(err, "bad signature");
    free(line);
}

static void
test_uuid7_ordering(void **state)
{
    char prev[JG_AUDIT_ID_STRLEN] = "", id[JG_AUDIT_ID_STRLEN];
    uint8_t rnd[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    int i;

    (void)state;
    for (i = 0; i < 20000; i++) {
        assert_int_equal(jg_audit_uuid7(id), 0);
        assert_true(jg_audit_id_valid(id));
        assert_true(strcmp(prev, id) < 0);
        memcpy(prev, id, sizeof(id));
    }
    jg_audit_uuid7_make(0x0123456789abLL, 0xabc, rnd, id);
    assert_string_equal(id, "01234567-89ab-7abc-bfff-ffffffffffff");
    assert_int_equal(jg_audit_uuid7_ms(id), 0x0123456789abLL);
    assert_false(jg_audit_id_valid("01234567-89ab-4abc-bfff-ffffffffffff"));
    assert_false(jg_audit_id_valid("../../etc/passwd"));
}

static void
test_utf8_split_and_invalid(void **state)
{
    static const struct {
        const char *a, *b; /* two writes */
        const char *out_a, *out_b;
        uint64_t replaced;
    } cases[] = {
        {"caf\xc3", "\xa9!", "caf", "\xc3\xa9!", 0},
        {"\xe2\x82", "\xac", "", "\xe2\x82\xac", 0},
        {"\xf0\x9f\x98", "\x80x", "", "\xf0\x9f\x98\x80x", 0},
        {"a\xff", "b", "a\xef\xbf\xbd", "b", 1},
        {"\xc3", "A", "", "\xef\xbf\xbd" "A", 1},
        {"\xed\xa0\x80", "", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "", 3},
        {"\xc0\xaf", "", "\xef\xbf\xbd\xef\xbf\xbd", "", 2},
    };
    size_t i, n;
    char *out;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jg_audit_utf8 st = {{0}, 0, 0};

        jg_audit_utf8_feed(&st, (const uint8_t *)cases[i].a,
                           strlen(cases[i].a), false, &out, &n);
        if (strcmp(out, cases[i].out_a) != 0)
            fail_msg("case %zu: first write gave \"%s\"", i, out);
        free(out);
        jg_audit_utf8_feed(&st, (const uint8_t *)cases[i].b,
                           strlen(cases[i].b), true, &out, &n);
        if (strcmp(out, cases[i].out_b) != 0)
            fail_msg("case %zu: second write gave \"%s\"", i, out);
        assert_int_equal(st.replaced, cases[i].replaced);
        free(out);
    }
}

static void
test_text_rebuild_and_filter(void **state)
{
    struct jg_audit_filter flt = {0};
    char out[64];
    size_t n;

    (void)state;
    /* OSC split across two writes is dropped; CSI passes. */
    n = jg_audit_filter_feed(&flt, "a\x1b]52;c;ZXZp", 11, out);
    assert_int_equal(n, 1);
    n = jg_audit_filter_feed(&flt, "bA==\x07\x1b[1mB", 10, out);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "\x1b[1mB", 5);
    n = jg_audit_filter_feed(&flt, "\xc2\x9d" "0;t\x07" "C", 7, out);
    assert_int_equal(n, 1);
    assert_memory_equal(out, "C", 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_intact, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_matrix, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_swapped_between_sessions,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_crash_without_final, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_every_64k, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_lines_around_and_beyond_blocks,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_line_signed_and_bound,
                                        fx_setup, fx_teardown),
        cmocka_unit_test(test_uuid7_ordering),
        cmocka_unit_test(test_utf8_split_and_invalid),
        cmocka_unit_test(test_text_rebuild_and_filter),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
