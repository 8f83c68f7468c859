/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/audit/test_audit_rec.c - the recorder and its .jgr store:
 * every byte back exactly, seals bounded by time and size, every tamper
 * case of verify on frames, crashes, hostile frames (a decompression bomb
 * among them); UUIDv7 ordering, UTF-8 splitting and the replay filter. */
#include <fcntl.h>

#include <zstd.h>

#include "audit_test.h"

#define MAGIC_LEN 8

/* Records a short session in several blocks (the ticks hand them over);
 * returns its id in id and its path. */
static void
make_rec(struct fx *f, char id[JG_AUDIT_ID_STRLEN], char **path,
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
        assert_int_equal(jg_audit_rec_tick(r, T0 + i * 300000 + 1), 0);
    }
    assert_int_equal(jg_audit_rec_stderr(r, T0 + 3050000, "oops\n", 5), 0);
    assert_int_equal(jg_audit_rec_resize(r, T0 + 3100000, 120, 40), 0);
    assert_int_equal(jg_audit_rec_exit_status(r, T0 + 3200000, 3), 0);
    *path = jg_xstrdup(jg_audit_rec_path(r));
    if (close_it)
        assert_int_equal(jg_audit_rec_close(r, T0 + 3300000), 0);
    else
        jg_audit_rec_free(r);
}

static int
verify(struct fx *f, const char *id, const char *path,
       struct jg_audit_cast_status *st, char **msgs)
{
    struct jg_diags d = {0};
    int r = jg_audit_verify_rec(path, id, f->pub, st, &d);

    *msgs = diags_text(&d);
    jg_diags_clear(&d);
    return r;
}

/* The frames of a file: offsets and types. */
struct frames {
    size_t off[256], len[256];
    char type[256];
    size_t n;
};

static void
split(const char *d, size_t len, struct frames *fr)
{
    size_t at = MAGIC_LEN;
    uint32_t n;

    fr->n = 0;
    while (at + 12 <= len && fr->n < 256) {
        memcpy(&n, d + at + 4, 4); /* little-endian host */
        fr->off[fr->n] = at;
        fr->len[fr->n] = 12 + n;
        fr->type[fr->n++] = d[at];
        at += 12 + n;
    }
}

static size_t
nth(const struct frames *fr, char type, size_t i)
{
    size_t j;

    for (j = 0; j < fr->n; j++)
        if (fr->type[j] == type && i-- == 0)
            return j;
    fail_msg("no frame %c number %zu", type, i);
    return 0;
}

/* Reads every record of path; out/err get the bytes of 'o' / 'e'. */
static void
read_all(const char *path, char *out, size_t *out_len, char *err,
         size_t *err_len, char *other, size_t other_cap)
{
    struct jg_audit_recr *r = NULL;
    struct jg_audit_recr_ev ev;
    char e[512];
    int rc;

    *out_len = *err_len = 0;
    if (other != NULL)
        other[0] = '\0';
    assert_int_equal(jg_audit_recr_open(path, &r, e, sizeof(e)), 0);
    while ((rc = jg_audit_recr_next(r, &ev)) == 1) {
        if (ev.kind == 'o' && out != NULL) {
            memcpy(out + *out_len, ev.data, ev.len);
            *out_len += ev.len;
        } else if (ev.kind == 'e' && err != NULL) {
            memcpy(err + *err_len, ev.data, ev.len);
            *err_len += ev.len;
        } else if (other != NULL && ev.kind != 'o' && ev.kind != 'e') {
            size_t l = strlen(other);

            snprintf(other + l, other_cap - l, "%c:%.*s;", ev.kind,
                     (int)ev.len, (const char *)ev.data);
        }
    }
    if (rc != 0)
        fail_msg("%s", jg_audit_recr_error(r));
    assert_true(jg_audit_recr_final(r));
    jg_audit_recr_free(r);
}

static void
test_intact(void **state)
{
    struct fx *f = *state;
    struct jg_audit_cast_status st;
    char id[JG_AUDIT_ID_STRLEN], *path, *msgs, out[256], err[64], other[256];
    size_t ol, el;

    make_rec(f, id, &path, true);
    assert_int_equal(verify(f, id, path, &st, &msgs), 0);
    assert_string_equal(msgs, "");
    assert_true(st.final);
    assert_int_equal(st.sealed, st.size);
    /* Seals: at open, at least one a second while data flowed (the
     * records span 3 s), and the final one. */
    assert_true(st.checkpoints >= 4);
    read_all(path, out, &ol, err, &el, other, sizeof(other));
    assert_int_equal(ol, 80);
    assert_memory_equal(out, "line 0\r\nline 1\r\n", 16);
    assert_int_equal(el, 5);
    assert_memory_equal(err, "oops\n", 5);
    assert_string_equal(other, "r:120x40;x:3;");
    free(msgs);
    free(path);
}

enum tamper { FLIP, DELETE, DUP, REORDER, JUNK, TRUNCATE, NO_SEAL, BOMB };

static void
tamper_case(struct fx *f, enum tamper how, const char *expect)
{
    struct jg_audit_cast_status st;
    struct frames fr;
    char id[JG_AUDIT_ID_STRLEN], *path, *msgs, *d, *o;
    size_t len, olen = 0, a, b;

    make_rec(f, id, &path, true);
    d = fx_read(path, &len);
    split(d, len, &fr);
    assert_true(fr.n > 8);
    o = jg_xmalloc(len + 1024);
    a = nth(&fr, 'D', 3);
    switch (how) {
    case FLIP:
        memcpy(o, d, len);
        o[fr.off[a] + 14] ^= 1;
        olen = len;
        break;
    case DELETE:
        memcpy(o, d, fr.off[a]);
        memcpy(o + fr.off[a], d + fr.off[a + 1], len - fr.off[a + 1]);
        olen = len - fr.len[a];
        break;
    case DUP:
        memcpy(o, d, fr.off[a + 1]);
        memcpy(o + fr.off[a + 1], d + fr.off[a], fr.len[a]);
        memcpy(o + fr.off[a + 1] + fr.len[a], d + fr.off[a + 1],
               len - fr.off[a + 1]);
        olen = len + fr.len[a];
        break;
    case REORDER: /* two data frames swapped */
        b = nth(&fr, 'D', 4);
        memcpy(o, d, len);
        olen = fr.off[a];
        memcpy(o + olen, d + fr.off[b], fr.len[b]);
        olen += fr.len[b];
        memcpy(o + olen, d + fr.off[a] + fr.len[a],
               fr.off[b] - (fr.off[a] + fr.len[a]));
        olen += fr.off[b] - (fr.off[a] + fr.len[a]);
        memcpy(o + olen, d + fr.off[a], fr.len[a]);
        olen += fr.len[a];
        memcpy(o + olen, d + fr.off[b] + fr.len[b],
               len - (fr.off[b] + fr.len[b]));
        olen = len;
        break;
    case JUNK:
        memcpy(o, d, len);
        memcpy(o + len, "D\0\0\0\1\0\0\0\1\0\0\0x", 13);
        olen = len + 13;
        break;
    case TRUNCATE:
        memcpy(o, d, len - 10);
        olen = len - 10;
        break;
    case NO_SEAL:
        b = nth(&fr, 'S', 2);
        memcpy(o, d, fr.off[b]);
        memcpy(o + fr.off[b], d + fr.off[b + 1], len - fr.off[b + 1]);
        olen = len - fr.len[b];
        break;
    case BOMB: {
        /* A block that claims 256 KiB but holds a zstd frame of 64 MiB of
         * zeros: refused before it is expanded. */
        size_t big = 64u << 20, cap = ZSTD_compressBound(big), zn;
        char *zeros = calloc(1, big), *z = jg_xmalloc(cap);
        uint32_t stored, raw = JG_AUDIT_REC_BLOCK;

        zn = ZSTD_compress(z, cap, zeros, big, 1);
        assert_false(ZSTD_isError(zn));
        assert_true(zn < JG_AUDIT_REC_BLOCK);
        stored = (uint32_t)zn;
        o = jg_xrealloc(o, len + zn + 64, 1);
        memcpy(o, d, fr.off[a]);
        olen = fr.off[a];
        memcpy(o + olen, "D\1\0\0", 4);
        memcpy(o + olen + 4, &stored, 4);
        memcpy(o + olen + 8, &raw, 4);
        memcpy(o + olen + 12, z, zn);
        olen += 12 + zn;
        memcpy(o + olen, d + fr.off[a + 1], len - fr.off[a + 1]);
        olen += len - fr.off[a + 1];
        free(zeros);
        free(z);
        break;
    }
    }
    fx_write(path, o, olen);
    assert_int_equal(verify(f, id, path, &st, &msgs), JG_ERR_INVALID);
    if (strstr(msgs, expect) == NULL || strstr(msgs, "offset ") == NULL)
        fail_msg("case %d: expected \"%s\" in:\n%s", how, expect, msgs);
    assert_true(st.sealed < st.size || !st.final);
    free(o);
    free(d);
    free(msgs);
    free(path);
}

static void
test_tamper_matrix(void **state)
{
    static const struct {
        enum tamper how;
        const char *expect;
    } cases[] = {
        {FLIP, "does not match"},
        {DELETE, "does not match"},
        {DUP, "does not match"},
        {REORDER, "does not match"},
        {JUNK, "after the final seal (appended)"},
        {TRUNCATE, "truncated"},
        {NO_SEAL, "was due"},
        {BOMB, "does not match"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        tamper_case(*state, cases[i].how, cases[i].expect);
}

/* A hostile block that is also validly sealed (a writer's bug, or a
 * stolen key) still cannot make a reader expand it. */
static void
test_reader_refuses_a_bomb_and_huge_lengths(void **state)
{
    struct fx *f = *state;
    struct jg_audit_recr *r = NULL;
    struct jg_audit_recr_ev ev;
    struct frames fr;
    char id[JG_AUDIT_ID_STRLEN], *path, *d, e[512];
    size_t len, a, zn, big = 8u << 20;
    char *zeros = calloc(1, big), *z = jg_xmalloc(ZSTD_compressBound(big));
    uint32_t v;
    int rc;

    make_rec(f, id, &path, true);
    d = fx_read(path, &len);
    split(d, len, &fr);
    a = nth(&fr, 'D', 0);
    /* The first block's head: a raw size beyond the cap. */
    v = JG_AUDIT_REC_BLOCK + 1;
    memcpy(d + fr.off[a] + 8, &v, 4);
    fx_write(path, d, len);
    assert_int_equal(jg_audit_recr_open(path, &r, e, sizeof(e)), 0);
    while ((rc = jg_audit_recr_next(r, &ev)) == 1)
        ;
    assert_int_equal(rc, JG_ERR_INVALID);
    assert_non_null(strstr(jg_audit_recr_error(r), "expands to"));
    assert_non_null(strstr(jg_audit_recr_error(r), path));
    jg_audit_recr_free(r);
    /* A zstd frame of 8 MiB in a block that says 256 KiB. */
    zn = ZSTD_compress(z, ZSTD_compressBound(big), zeros, big, 1);
    v = (uint32_t)zn;
    d = jg_xrealloc(d, fr.off[a] + 12 + zn, 1);
    memcpy(d + fr.off[a], "D\1\0\0", 4);
    memcpy(d + fr.off[a] + 4, &v, 4);
    v = JG_AUDIT_REC_BLOCK;
    memcpy(d + fr.off[a] + 8, &v, 4);
    memcpy(d + fr.off[a] + 12, z, zn);
    fx_write(path, d, fr.off[a] + 12 + zn);
    assert_int_equal(jg_audit_recr_open(path, &r, e, sizeof(e)), 0);
    while ((rc = jg_audit_recr_next(r, &ev)) == 1)
        ;
    assert_int_equal(rc, JG_ERR_INVALID);
    assert_non_null(strstr(jg_audit_recr_error(r), "claims"));
    jg_audit_recr_free(r);
    free(zeros);
    free(z);
    free(d);
    free(path);
}

static void
test_swapped_between_sessions(void **state)
{
    struct fx *f = *state;
    struct jg_audit_cast_status st;
    char a[JG_AUDIT_ID_STRLEN], b[JG_AUDIT_ID_STRLEN];
    char *pa, *pb, *msgs;

    make_rec(f, a, &pa, true);
    make_rec(f, b, &pb, true);
    /* b's file presented as a's. */
    assert_int_equal(rename(pb, pa), 0);
    assert_int_equal(verify(f, a, pa, &st, &msgs), JG_ERR_INVALID);
    assert_non_null(strstr(msgs, "another recording"));
    free(msgs);
    free(pa);
    free(pb);
}

static void
test_crash_without_final(void **state)
{
    struct fx *f = *state;
    struct jg_audit_cast_status st;
    char id[JG_AUDIT_ID_STRLEN], *path, *msgs, out[256];
    size_t ol;
    struct jg_audit_recr *r = NULL;
    struct jg_audit_recr_ev ev;
    char e[512];

    make_rec(f, id, &path, false);
    assert_int_equal(verify(f, id, path, &st, &msgs), JG_ERR_INVALID);
    assert_false(st.final);
    assert_true(st.sealed > 0 && st.sealed < st.size);
    assert_non_null(strstr(msgs, "unsealed tail"));
    /* What was written reads back, the sealed part and the tail. */
    assert_int_equal(jg_audit_recr_open(path, &r, e, sizeof(e)), 0);
    ol = 0;
    while (jg_audit_recr_next(r, &ev) == 1)
        if (ev.kind == 'o') {
            memcpy(out + ol, ev.data, ev.len);
            ol += ev.len;
        }
    assert_int_equal(ol, 80);
    assert_false(jg_audit_recr_final(r));
    jg_audit_recr_free(r);
    free(msgs);
    free(path);
}

/* Seals come from size alone within one millisecond, and none covers
 * more than JG_AUDIT_REC_SEAL_BYTES of records; with time, at least one a
 * second. */
static void
test_seals_bounded_by_size_and_time(void **state)
{
    struct fx *f = *state;
    struct jg_audit_rec_info in = {.user = "a", .target = "t", .login = "l",
        .action = "exec", .command = "cat big"};
    struct jg_audit_rec *r = NULL;
    struct jg_audit_cast_status st;
    struct frames fr;
    char id[JG_AUDIT_ID_STRLEN], *path, *msgs, *d;
    char buf[4096];
    uint64_t last_raw = 0;
    size_t len, i, seals = 0;
    int k;

    jg_audit_uuid7(id);
    in.session = id;
    assert_int_equal(jg_audit_rec_open(f->dir, &in, f->key, T0, &r), 0);
    for (k = 0; k < 1024; k++) { /* 4 MiB, varied so it compresses less */
        memset(buf, 'a' + k % 26, sizeof(buf));
        assert_int_equal(jg_audit_rec_output(r, T0 + 1000, buf, sizeof(buf)),
                         0);
    }
    /* A trickle over 5 s: a seal at least once a second. */
    for (k = 0; k < 50; k++)
        assert_int_equal(jg_audit_rec_output(r, T0 + 2000 + k * 100000LL,
                                             "x", 1), 0);
    path = jg_xstrdup(jg_audit_rec_path(r));
    assert_int_equal(jg_audit_rec_close(r, T0 + 6000000), 0);
    assert_int_equal(verify(f, id, path, &st, &msgs), 0);
    assert_true(st.checkpoints >= 1 + 4 + 4);
    d = fx_read(path, &len);
    split(d, len, &fr);
    for (i = 0; i < fr.n; i++) {
        struct jg_audit_checkpoint cp;
        char err[128];

        if (fr.type[i] != 'S')
            continue;
        assert_int_equal(jg_audit_checkpoint_parse(d + fr.off[i] + 12,
                                                   fr.len[i] - 12, f->pub,
                                                   JG_AUDIT_DOMAIN_JGR, &cp,
                                                   err, sizeof(err)), 0);
        assert_int_equal(cp.offset, fr.off[i]);
        assert_true(cp.raw - last_raw <= JG_AUDIT_REC_SEAL_BYTES);
        last_raw = cp.raw;
        seals++;
    }
    assert_int_equal(seals, st.checkpoints);
    /* The zeros-like runs compress: far below 4 MiB on disk. */
    assert_true(len < (1u << 20));
    free(d);
    free(msgs);
    free(path);
}

/* Records of every size, some larger than a block, around ticks: every
 * byte comes back, in order, NULs and invalid UTF-8 included. */
static void
test_records_around_and_beyond_blocks(void **state)
{
    struct fx *f = *state;
    struct jg_audit_rec_info in = {.user = "a", .target = "t", .login = "l",
        .action = "exec", .command = "cat big"};
    struct jg_audit_rec *r = NULL;
    struct jg_audit_cast_status st;
    char id[JG_AUDIT_ID_STRLEN], *path, *msgs;
    size_t big = 700000, want_len = 0, got_len = 0, el, i, k;
    char *buf = jg_xmalloc(big), *want = jg_xmalloc(4 * big);
    char *got = jg_xmalloc(4 * big);

    jg_audit_uuid7(id);
    in.session = id;
    assert_int_equal(jg_audit_rec_open(f->dir, &in, f->key, T0, &r), 0);
    assert_int_equal(jg_audit_rec_output(r, T0 + 1, "a", 1), 0);
    want[want_len++] = 'a';
    memset(buf, 0, big);
    assert_int_equal(jg_audit_rec_output(r, T0 + 2, buf, big), 0);
    memset(want + want_len, 0, big);
    want_len += big;
    for (i = 0; i < big; i++)
        buf[i] = (char)(0x80 | ((i * 7919) & 0x7f));
    assert_int_equal(jg_audit_rec_output(r, T0 + 3, buf, big), 0);
    memcpy(want + want_len, buf, big);
    want_len += big;
    for (i = 0; i < 300; i++) {
        size_t l = 1 + (i * 997) % 4000;

        for (k = 0; k < l; k++)
            buf[k] = (char)(k % 10 == 9 ? '\n' : 'a' + (i + k) % 26);
        assert_int_equal(jg_audit_rec_output(r, T0 + 10 + (int64_t)i, buf, l),
                         0);
        memcpy(want + want_len, buf, l);
        want_len += l;
        if (i % 37 == 0)
            assert_int_equal(jg_audit_rec_tick(r, T0 + 10 + (int64_t)i), 0);
    }
    path = jg_xstrdup(jg_audit_rec_path(r));
    assert_int_equal(jg_audit_rec_close(r, T0 + 5000), 0);
    assert_int_equal(verify(f, id, path, &st, &msgs), 0);
    assert_true(st.final);
    read_all(path, got, &got_len, NULL, &el, NULL, 0);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(msgs);
    free(path);
    free(buf);
    free(want);
    free(got);
}

/* Keystrokes' echoes, a byte each and ticked after each, share a block
 * until it has waited JG_AUDIT_REC_FLUSH_US; and they do not stop the text
 * that follows from being compressed. */
static void
test_small_writes_share_blocks(void **state)
{
    struct fx *f = *state;
    struct jg_audit_rec_info in = {.user = "a", .target = "t", .login = "l",
        .action = "shell"};
    struct jg_audit_rec *r = NULL;
    struct jg_audit_cast_status st;
    struct frames fr;
    char id[JG_AUDIT_ID_STRLEN], *path, *msgs, *d, line[64];
    size_t len, i, blocks = 0;
    int64_t t = T0;

    jg_audit_uuid7(id);
    in.session = id;
    assert_int_equal(jg_audit_rec_open(f->dir, &in, f->key, T0, &r), 0);
    for (i = 0; i < 400; i++, t += 1000) {
        assert_int_equal(jg_audit_rec_output(r, t, "k", 1), 0);
        assert_int_equal(jg_audit_rec_tick(r, t), 0);
    }
    /* 0.4 s of keystrokes: two blocks at most, and one still waiting. */
    assert_true(jg_audit_rec_waiting(r));
    for (i = 0; i < 20000; i++) {
        int n = snprintf(line, sizeof(line), "-rw-r--r-- 1 root root %6zu "
                         "file%zu\r\n", i * 37, i);

        assert_int_equal(jg_audit_rec_output(r, t, line, (size_t)n), 0);
    }
    path = jg_xstrdup(jg_audit_rec_path(r));
    assert_int_equal(jg_audit_rec_close(r, t + 1000), 0);
    assert_int_equal(verify(f, id, path, &st, &msgs), 0);
    d = fx_read(path, &len);
    split(d, len, &fr);
    for (i = 0; i < fr.n; i++)
        blocks += fr.type[i] == 'D';
    /* ~400 bytes of echoes and ~800 KiB of text: a handful of blocks, and
     * the text compressed. */
    assert_true(blocks <= 2 + 4 + 1);
    assert_true(len < 200 * 1024);
    free(d);
    free(msgs);
    free(path);
}

/* The asciicast view: one "o" stream of valid UTF-8, stderr in it, the
 * exit status as a marker. */
static void
test_asciicast_view(void **state)
{
    struct fx *f = *state;
    struct jg_audit_recr *r = NULL;
    char id[JG_AUDIT_ID_STRLEN], *path, *view, e[512];
    char *vpath = jg_xasprintf("%s/view.cast", f->dir);
    size_t len;
    int fd;

    make_rec(f, id, &path, true);
    assert_int_equal(jg_audit_recr_open(path, &r, e, sizeof(e)), 0);
    fd = open(vpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(jg_audit_view_cast(r, fd, e, sizeof(e)), 0);
    close(fd);
    jg_audit_recr_free(r);
    view = fx_read(vpath, &len);
    assert_non_null(strstr(view, "\"version\":2"));
    assert_non_null(strstr(view, "[0.300000, \"o\", \"line 1\\r\\n\"]"));
    assert_non_null(strstr(view, "[3.050000, \"o\", \"oops\\n\"]"));
    assert_non_null(strstr(view, "[3.100000, \"r\", \"120x40\"]"));
    assert_non_null(strstr(view, "[3.200000, \"m\", \"exit-status 3\"]"));
    free(view);
    free(vpath);
    free(path);
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
    assert_int_equal(jg_audit_checkpoint_format(&cp, f->key,
                                                JG_AUDIT_DOMAIN_JGR, &line,
                                                &len), 0);
    assert_int_equal(jg_audit_checkpoint_parse(line, len - 1, f->pub,
                                               JG_AUDIT_DOMAIN_JGR, &got,
                                               err, sizeof(err)), 0);
    assert_string_equal(got.session, cp.session);
    assert_int_equal(got.offset, 10);
    /* A seal of one format is not one of the other. */
    assert_int_equal(jg_audit_checkpoint_parse(line, len - 1, f->pub,
                                               JG_AUDIT_DOMAIN_CAST, &got,
                                               err, sizeof(err)),
                     JG_ERR_INVALID);
    /* Any change of a signed member breaks the signature. */
    char *p = strstr(line, "\"offset\":10");
    assert_non_null(p);
    p[10] = '1';
    assert_int_equal(jg_audit_checkpoint_parse(line, len - 1, f->pub,
                                               JG_AUDIT_DOMAIN_JGR, &got,
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
        cmocka_unit_test_setup_teardown(
            test_reader_refuses_a_bomb_and_huge_lengths, fx_setup,
            fx_teardown),
        cmocka_unit_test_setup_teardown(test_swapped_between_sessions,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_crash_without_final, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_seals_bounded_by_size_and_time,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_records_around_and_beyond_blocks,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_small_writes_share_blocks,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_asciicast_view, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_line_signed_and_bound,
                                        fx_setup, fx_teardown),
        cmocka_unit_test(test_uuid7_ordering),
        cmocka_unit_test(test_utf8_split_and_invalid),
        cmocka_unit_test(test_text_rebuild_and_filter),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
