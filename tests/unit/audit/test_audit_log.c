/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/audit/test_audit_log.c - the event log: line format, the hash
 * chain across days, seals, and verify's tamper cases. */
#include <inttypes.h>
#include <signal.h>
#include <sys/resource.h>

#include "audit_test.h"

static char *
day_path(struct fx *f, const char *day)
{
    return jg_xasprintf("%s/events/%s.jsonl", f->dir, day);
}

/* n auth events at T0 + i µs, sealed every 4 (and sealed at the end). */
static void
fill(struct fx *f, int n, int64_t at)
{
    struct jg_audit_log *log = NULL;
    json_t *extra = json_pack("{s:s}", "method", "publickey");
    struct jg_audit_event ev = {.type = "auth.success", .user = "alice",
                                .from = "203.0.113.5", .extra = extra};
    int i;

    assert_int_equal(jg_audit_log_open(f->dir, f->key, 4, &log), 0);
    for (i = 0; i < n; i++)
        assert_int_equal(jg_audit_log_append(log, &ev, at + i), 0);
    assert_int_equal(jg_audit_log_seal(log, at + n), 0);
    jg_audit_log_free(log);
    json_decref(extra);
}

static int
verify(struct fx *f, struct jg_audit_log_status *st, char **msgs)
{
    struct jg_diags d = {0};
    int r = jg_audit_verify_log(f->dir, f->pub, st, &d);

    *msgs = diags_text(&d);
    jg_diags_clear(&d);
    return r;
}

static void
test_line_format_and_chain(void **state)
{
    static const char expect[] =
        "{\"seq\":1,\"time\":\"2026-11-27T00:00:00.000000Z\","
                           "\"type\":\"auth.success\",\"session\":null,"
                           "\"user\":\"alice\",\"from\":\"203.0.113.5\","
                           "\"target\":null,\"login\":null,\"action\":null,"
                           "\"rule\":null,\"reason\":null,"
                           "\"method\":\"publickey\",\"prev\":\"0000";
    struct fx *f = *state;
    struct jg_audit_log_status st;
    char *p = day_path(f, "2026-11-27"), *d, *msgs, hex[65];
    size_t len;
    char *nl;

    fill(f, 2, T0);
    d = fx_read(p, &len);
    assert_true(strncmp(d, expect, strlen(expect)) == 0);
    nl = strchr(d, '\n');
    jg_audit_sha256_hex(d, (size_t)(nl - d), hex);
    assert_non_null(strstr(nl, hex)); /* line 2 chains from line 1 */
    assert_int_equal(verify(f, &st, &msgs), 0);
    assert_int_equal(st.lines, 3);
    assert_int_equal(st.seals, 1);
    free(msgs);
    free(d);
    free(p);
}

static void
test_chain_across_days_and_day_end_seal(void **state)
{
    struct fx *f = *state;
    struct jg_audit_log *log = NULL;
    struct jg_audit_event ev = {.type = "grant.add", .user = "carol"};
    struct jg_audit_log_status st;
    char *msgs, *d1, *d2, *p1 = day_path(f, "2026-11-27"),
                          *p2 = day_path(f, "2026-11-28");
    size_t l1, l2;

    assert_int_equal(jg_audit_log_open(f->dir, f->key, 100, &log), 0);
    assert_int_equal(jg_audit_log_append(log, &ev, T0), 0);
    /* Next day: yesterday receives its day-end seal first. */
    assert_int_equal(jg_audit_log_append(log, &ev, T0 + 86400000000LL), 0);
    assert_int_equal(jg_audit_log_seal(log, T0 + 86400000001LL), 0);
    jg_audit_log_free(log);
    d1 = fx_read(p1, &l1);
    d2 = fx_read(p2, &l2);
    assert_non_null(strstr(d1, "\"type\":\"seal\""));
    assert_true(strncmp(d2, "{\"seq\":3,", 9) == 0);
    assert_int_equal(verify(f, &st, &msgs), 0);
    assert_int_equal(st.files, 2);
    free(msgs);
    /* Removing yesterday's file breaks today's first link. */
    assert_int_equal(unlink(p1), 0);
    assert_int_equal(verify(f, &st, &msgs), JG_ERR_INVALID);
    assert_non_null(strstr(msgs, "1:0: prev does not match"));
    assert_non_null(strstr(msgs, "seq 3 where 1 was expected"));
    free(msgs);
    free(d1);
    free(d2);
    free(p1);
    free(p2);
}

enum edit { FLIP, DELETE, DUP, REORDER, FORGE_SEAL, TAIL, PARTIAL };

static void
tamper_case(void **state, enum edit how, const char *expect)
{
    struct fx *f = *state;
    struct jg_audit_log_status st;
    char *p = day_path(f, "2026-11-27"), *d, *o, *msgs, *s;
    size_t len, starts[64], n, olen = 0;
    struct jg_audit_log *log = NULL;
    struct jg_audit_event ev = {.type = "exec", .user = "bob"};

    fx_teardown(state);
    fx_setup(state);
    f = *state;
    free(p);
    p = day_path(f, "2026-11-27");
    fill(f, 7, T0);
    d = fx_read(p, &len);
    n = fx_lines(d, len, starts);
    assert_int_equal(n, 9); /* 7 events, seals after 4 and at the end */
    o = jg_xmalloc(2 * len + 256);
    switch (how) {
    case FLIP:
        memcpy(o, d, len);
        s = memmem(o, len, "alice", 5);
        s[0] = 'A';
        olen = len;
        break;
    case DELETE:
        memcpy(o, d, starts[2]);
        memcpy(o + starts[2], d + starts[3], len - starts[3]);
        olen = len - (starts[3] - starts[2]);
        break;
    case DUP:
        memcpy(o, d, starts[3]);
        memcpy(o + starts[3], d + starts[2], starts[3] - starts[2]);
        memcpy(o + starts[3] + (starts[3] - starts[2]), d + starts[3],
               len - starts[3]);
        olen = len + (starts[3] - starts[2]);
        break;
    case REORDER:
        memcpy(o, d, starts[1]);
        olen = starts[1];
        memcpy(o + olen, d + starts[2], starts[3] - starts[2]);
        olen += starts[3] - starts[2];
        memcpy(o + olen, d + starts[1], starts[2] - starts[1]);
        olen += starts[2] - starts[1];
        memcpy(o + olen, d + starts[3], len - starts[3]);
        olen += len - starts[3];
        break;
    case FORGE_SEAL: /* change a byte of the last seal's signature */
        memcpy(o, d, len);
        o[len - 5] = o[len - 5] == 'A' ? 'B' : 'A';
        olen = len;
        break;
    case TAIL:
        memcpy(o, d, len);
        olen = len;
        break;
    case PARTIAL:
        memcpy(o, d, len);
        memcpy(o + len, "{\"seq\":10,\"ti", 13);
        olen = len + 13;
        break;
    }
    fx_write(p, o, olen);
    if (how == TAIL) {
        assert_int_equal(jg_audit_log_open(f->dir, NULL, 0, &log), 0);
        assert_int_equal(jg_audit_log_append(log, &ev, T0 + 100), 0);
        assert_int_equal(jg_audit_log_append(log, &ev, T0 + 101), 0);
        jg_audit_log_free(log);
    }
    assert_int_equal(verify(f, &st, &msgs), JG_ERR_INVALID);
    if (strstr(msgs, expect) == NULL)
        fail_msg("case %d: expected \"%s\" in:\n%s", how, expect, msgs);
    free(msgs);
    free(o);
    free(d);
    free(p);
}

static void
test_tamper_matrix(void **state)
{
    static const struct {
        enum edit how;
        const char *expect;
    } cases[] = {
        {FLIP, "2:0: prev does not match"},
        {DELETE, "3:0: prev does not match"},
        {DUP, "4:0: prev does not match"},
        {REORDER, "2:0: prev does not match"},
        {FORGE_SEAL, "9:0: bad seal signature"},
        {TAIL, "2 events after the last seal are not sealed"},
        {PARTIAL, "10:0: incomplete last line"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        tamper_case(state, cases[i].how, cases[i].expect);
}

static void
test_bad_events_refused(void **state)
{
    struct fx *f = *state;
    struct jg_audit_log *log = NULL;
    json_t *extra = json_pack("{s:s}", "prev", "x");
    struct jg_audit_event ev = {.type = "exec", .extra = extra};
    struct jg_audit_event seal = {.type = "seal"};

    assert_int_equal(jg_audit_log_open(f->dir, f->key, 0, &log), 0);
    assert_int_equal(jg_audit_log_append(log, &ev, T0), JG_ERR_INVALID);
    assert_int_equal(jg_audit_log_append(log, &seal, T0), JG_ERR_INVALID);
    /* Invalid UTF-8 in a field still makes a valid line. */
    ev.extra = NULL;
    ev.user = "b\xffob";
    assert_int_equal(jg_audit_log_append(log, &ev, T0), 0);
    jg_audit_log_free(log);
    json_decref(extra);
}

static void
test_one_shot_append(void **state)
{
    struct fx *f = *state;
    struct jg_audit_log_status st;
    json_t *extra = json_pack("{s:s}", "grant", "g-1234abcd");
    struct jg_audit_event ev = {.type = "grant.add", .user = "alice",
                                .reason = "INC-42", .extra = extra};
    char *cfg = jg_xasprintf("%s/jumpgate.yaml", f->dir);
    char *audit = jg_xasprintf("%s/audit", f->dir);
    char *text = jg_xasprintf("policy: policy.yaml\naudit:\n  dir: %s\n"
                              "  signing_key: %s\n", audit, f->keypath);
    char *msgs;
    struct jg_diags d = {0};

    fx_write(cfg, text, strlen(text));
    /* No audit.dir on disk: nothing written, NOTFOUND. */
    assert_int_equal(jg_audit_append_event(cfg, &ev, T0), JG_ERR_NOTFOUND);
    assert_int_equal(mkdir(audit, 0750), 0);
    assert_int_equal(jg_audit_append_event(cfg, &ev, T0), 0);
    assert_int_equal(jg_audit_append_event(cfg, &ev, T0 + 1), 0);
    /* Each one-shot append is sealed at once. */
    assert_int_equal(jg_audit_verify_log(audit, f->pub, &st, &d), 0);
    msgs = diags_text(&d);
    assert_string_equal(msgs, "");
    assert_int_equal(st.lines, 4);
    assert_int_equal(st.seals, 2);
    jg_diags_clear(&d);
    free(msgs);
    free(cfg);
    free(audit);
    free(text);
    json_decref(extra);
}

static uint64_t
file_size(const char *path)
{
    struct stat sb;

    assert_int_equal(stat(path, &sb), 0);
    return (uint64_t)sb.st_size;
}

/* A write that runs out of room part way (here the file size limit, as a
 * full disk would) leaves no partial line: the log verifies once writes
 * work again. */
static void
test_full_disk_append_is_all_or_nothing(void **state)
{
    struct fx *f = *state;
    struct jg_audit_log *log = NULL;
    struct jg_audit_log_status st;
    char *p = day_path(f, "2026-11-27"), *msgs, big[300];
    json_t *extra;
    struct jg_audit_event ev = {.type = "exec", .user = "bob"};
    struct rlimit old, lim;
    uint64_t before;
    int r;

    fill(f, 2, T0);
    before = file_size(p);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    extra = json_pack("{s:s}", "command", big);
    ev.extra = extra;
    assert_int_equal(jg_audit_log_open(f->dir, f->key, 100, &log), 0);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)before + 100;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    r = jg_audit_log_append(log, &ev, T0 + 10);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    assert_int_equal(r, JG_ERR_IO);
    assert_int_equal(file_size(p), before);
    /* Room again: the writer goes on and the log is intact. */
    ev.extra = NULL;
    assert_int_equal(jg_audit_log_append(log, &ev, T0 + 11), 0);
    assert_int_equal(jg_audit_log_seal(log, T0 + 12), 0);
    jg_audit_log_free(log);
    assert_int_equal(verify(f, &st, &msgs), 0);
    assert_string_equal(msgs, "");
    assert_int_equal(st.gaps, 0);
    free(msgs);
    json_decref(extra);
    free(p);
}

/* A partial line that could not be undone (a crash mid-write) is cut off
 * by the next writer, which records the cut: verify calls it a recorded
 * gap, not tampering. */
static void
test_partial_line_cut_and_recorded(void **state)
{
    static const char partial[] = "{\"seq\":10,\"ti";
    struct fx *f = *state;
    struct jg_audit_log *log = NULL;
    struct jg_audit_log_status st;
    struct jg_audit_event ev = {.type = "exec", .user = "bob"};
    struct jg_diags d = {0}, notes = {0};
    char *p = day_path(f, "2026-11-27"), *msgs, *d1, *o, expect[160];
    uint64_t before;
    size_t len;

    fill(f, 7, T0);
    before = file_size(p);
    d1 = fx_read(p, &len);
    o = jg_xmalloc(len + sizeof(partial));
    memcpy(o, d1, len);
    memcpy(o + len, partial, sizeof(partial) - 1);
    fx_write(p, o, len + sizeof(partial) - 1);
    assert_int_equal(jg_audit_log_open(f->dir, f->key, 100, &log), 0);
    assert_int_equal(jg_audit_log_append(log, &ev, T0 + 20), 0);
    assert_int_equal(jg_audit_log_seal(log, T0 + 21), 0);
    jg_audit_log_free(log);
    assert_int_equal(jg_audit_verify_log_notes(f->dir, f->pub, 0, &st, &d,
                                               &notes), 0);
    msgs = diags_text(&d);
    assert_string_equal(msgs, "");
    free(msgs);
    assert_int_equal(st.gaps, 1);
    assert_int_equal(st.lines, 12); /* 9, the gap, the event, a seal */
    msgs = diags_text(&notes);
    snprintf(expect, sizeof(expect),
             "10:0: recorded gap: an incomplete line of %zu bytes was cut "
             "off events/2026-11-27.jsonl at byte %" PRIu64,
             sizeof(partial) - 1, before);
    if (strstr(msgs, expect) == NULL)
        fail_msg("expected \"%s\" in:\n%s", expect, msgs);
    free(msgs);
    jg_diags_clear(&d);
    jg_diags_clear(&notes);
    free(o);
    free(d1);
    free(p);
}

/* Timed seals promise the next; one that comes late, or a promise that
 * runs out with none, is missing time (a note, not a failure). */
static void
test_timed_seals_show_missing_time(void **state)
{
    struct fx *f = *state;
    struct jg_audit_log *log = NULL;
    struct jg_audit_log_status st;
    struct jg_audit_event ev = {.type = "exec", .user = "bob"};
    struct jg_diags d = {0}, notes = {0};
    const int64_t s = 1000000;
    char *msgs;

    assert_int_equal(jg_audit_log_open(f->dir, f->key, 100, &log), 0);
    assert_int_equal(jg_audit_log_append(log, &ev, T0), 0);
    assert_int_equal(jg_audit_log_seal_timed(log, T0 + 1 * s, 60), 0);
    /* Nothing happened: a timed seal is written all the same. */
    assert_int_equal(jg_audit_log_seal_timed(log, T0 + 61 * s, 60), 0);
    assert_int_equal(jg_audit_verify_log_notes(f->dir, f->pub, T0 + 62 * s,
                                               &st, &d, &notes), 0);
    assert_int_equal(st.seals, 2);
    assert_int_equal(notes.n, 0);
    assert_int_equal(st.missing_time, 0);
    /* Two minutes and more without one: the promise is broken. */
    assert_int_equal(jg_audit_log_seal_timed(log, T0 + 300 * s, 60), 0);
    assert_int_equal(jg_audit_verify_log_notes(f->dir, f->pub, T0 + 301 * s,
                                               &st, &d, &notes), 0);
    msgs = diags_text(&notes);
    assert_non_null(strstr(msgs, "4:0: missing time: no timed seal from "
                                 "2026-11-27T00:01:01.000000Z to "
                                 "2026-11-27T00:05:00.000000Z (239 s"));
    free(msgs);
    jg_diags_clear(&notes);
    /* Verified later with no seal since: the newest promise ran out. */
    assert_int_equal(jg_audit_verify_log_notes(f->dir, f->pub, T0 + 900 * s,
                                               &st, &d, &notes), 0);
    assert_int_equal(st.missing_time, 2);
    msgs = diags_text(&notes);
    assert_non_null(strstr(msgs, "4:0: missing time: this timed seal"));
    free(msgs);
    jg_diags_clear(&notes);
    /* The final timed seal promises nothing more. */
    assert_int_equal(jg_audit_log_seal_timed(log, T0 + 310 * s, 0), 0);
    assert_int_equal(jg_audit_verify_log_notes(f->dir, f->pub, T0 + 900 * s,
                                               &st, &d, &notes), 0);
    assert_int_equal(st.missing_time, 1);
    jg_audit_log_free(log);
    jg_diags_clear(&d);
    jg_diags_clear(&notes);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_format_and_chain, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_chain_across_days_and_day_end_seal,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_matrix, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_events_refused, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_one_shot_append, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_append_is_all_or_nothing,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_partial_line_cut_and_recorded,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_timed_seals_show_missing_time,
                                        fx_setup, fx_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
