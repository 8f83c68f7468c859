/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/audit/test_mysql_parse.c - the streaming MySQL command-phase
 * parser of the query audit: queries with text result sets, OK and ERR
 * answers, multi-result answers, prepared statements with their bound
 * parameters (types bound once, NULLs, long data), cursors opened by an
 * execute or not, both ways of ending a result set (EOF packets and
 * CLIENT_DEPRECATE_EOF), a statement over
 * 16 MiB split in parts, pipelined commands; fed whole, a byte at a time
 * and in odd chunks; and the streams it must refuse, once: sequence ids
 * out of order, answers nobody asked for, COM_CHANGE_USER, LOCAL INFILE,
 * an EXECUTE of an unknown statement, malformed packets. */
#include <stdio.h>

#include <jansson.h>

#include "jgtest.h"
#include "audit/audit.h"

#define CAPS (JG_MYSQL_CLIENT_PROTOCOL_41 | JG_MYSQL_CLIENT_SECURE_CONNECTION)

/* ---- building packets ---------------------------------------------------- */

struct buf {
    uint8_t *b;
    size_t len, cap;
};

static void
put(struct buf *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
        w->cap = (w->len + n) * 2 + 64;
        w->b = realloc(w->b, w->cap);
        assert_non_null(w->b);
    }
    memcpy(w->b + w->len, p, n);
    w->len += n;
}

static void
le(struct buf *w, uint64_t v, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        put(w, &b, 1);
    }
}

static void
lenenc(struct buf *w, uint64_t v)
{
    if (v < 0xfb) {
        le(w, v, 1);
    } else if (v < 0x10000) {
        le(w, 0xfc, 1);
        le(w, v, 2);
    } else if (v < 0x1000000) {
        le(w, 0xfd, 1);
        le(w, v, 3);
    } else {
        le(w, 0xfe, 1);
        le(w, v, 8);
    }
}

static void
lstr(struct buf *w, const char *s)
{
    lenenc(w, strlen(s));
    put(w, s, strlen(s));
}

/* One step of a conversation: the bytes one side sends at once. */
#define MAX_STEPS 64
struct conv {
    struct {
        bool client;
        struct buf b;
    } step[MAX_STEPS];
    size_t n;
    uint8_t seq;     /* the next sequence id of the current exchange */
};

static struct buf *
side(struct conv *c, bool client)
{
    if (c->n == 0 || c->step[c->n - 1].client != client) {
        assert_true(c->n < MAX_STEPS);
        c->step[c->n].client = client;
        c->n++;
    }
    return &c->step[c->n - 1].b;
}

/* A packet of payload p from client or server, framed in parts. */
static void
packet(struct conv *c, bool client, const struct buf *p)
{
    struct buf *w = side(c, client);
    size_t off = 0;

    for (;;) {
        size_t n = p->len - off > 0xffffff ? 0xffffff : p->len - off;

        le(w, n, 3);
        le(w, c->seq++, 1);
        put(w, p->b + off, n);
        off += n;
        if (n < 0xffffff)
            break;
    }
}

static void
command(struct conv *c, uint8_t com, const void *arg, size_t n)
{
    struct buf p = {0};

    le(&p, com, 1);
    put(&p, arg, n);
    c->seq = 0;
    packet(c, true, &p);
    free(p.b);
}

static void
query(struct conv *c, const char *sql)
{
    command(c, 0x03, sql, strlen(sql));
}

static void
ok(struct conv *c, uint64_t affected, uint64_t id, uint16_t status,
   uint16_t warnings, uint8_t head)
{
    struct buf p = {0};

    le(&p, head, 1);
    lenenc(&p, affected);
    lenenc(&p, id);
    le(&p, status, 2);
    le(&p, warnings, 2);
    packet(c, false, &p);
    free(p.b);
}

static void
err(struct conv *c, uint16_t code, const char *state, const char *msg)
{
    struct buf p = {0};

    le(&p, 0xff, 1);
    le(&p, code, 2);
    put(&p, "#", 1);
    put(&p, state, 5);
    put(&p, msg, strlen(msg));
    packet(c, false, &p);
    free(p.b);
}

static void
eof(struct conv *c, uint16_t status)
{
    struct buf p = {0};

    le(&p, 0xfe, 1);
    le(&p, 0, 2);
    le(&p, status, 2);
    packet(c, false, &p);
    free(p.b);
}

static void
coldef(struct conv *c, const char *name)
{
    struct buf p = {0};

    lstr(&p, "def");
    lstr(&p, "shop");
    lstr(&p, "t");
    lstr(&p, "t");
    lstr(&p, name);
    lstr(&p, name);
    le(&p, 0x0c, 1);
    le(&p, 33, 2);
    le(&p, 255, 4);
    le(&p, 253, 1);
    le(&p, 0, 2);
    le(&p, 0, 1);
    le(&p, 0, 2);
    packet(c, false, &p);
    free(p.b);
}

static void
count_packet(struct conv *c, uint64_t n)
{
    struct buf p = {0};

    lenenc(&p, n);
    packet(c, false, &p);
    free(p.b);
}

static void
text_row(struct conv *c, const char *a, const char *b)
{
    struct buf p = {0};

    lstr(&p, a);
    if (b != NULL)
        lstr(&p, b);
    else
        le(&p, 0xfb, 1);
    packet(c, false, &p);
    free(p.b);
}

/* The end of a result set: EOF, or OK with 0xfe under DEPRECATE_EOF. */
static void
end_of(struct conv *c, uint16_t status, bool deprecate_eof)
{
    if (deprecate_eof)
        ok(c, 0, 0, status, 0, 0xfe);
    else
        eof(c, status);
}

/* A text result set of two columns and rows rows, ended per caps. */
static void
result(struct conv *c, unsigned rows, uint16_t end_status, bool deprecate_eof)
{
    count_packet(c, 2);
    coldef(c, "id");
    coldef(c, "name");
    if (!deprecate_eof)
        eof(c, 0);
    for (unsigned i = 0; i < rows; i++)
        text_row(c, "1", i % 2 ? NULL : "x");
    end_of(c, end_status, deprecate_eof);
}

static void
conv_free(struct conv *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->step[i].b.b);
    memset(c, 0, sizeof(*c));
}

/* ---- collecting events ----------------------------------------------------- */

#define MAX_EV 64
struct got {
    size_t n;
    char *json[MAX_EV];          /* the event's members, or the error */
    enum jg_audit_mysql_kind kind[MAX_EV];
};

static void
on_event(const struct jg_audit_mysql_event *ev, void *arg)
{
    struct got *g = arg;
    json_t *o;

    assert_true(g->n < MAX_EV);
    g->kind[g->n] = ev->kind;
    if (ev->kind == JG_AUDIT_MYSQL_ERROR) {
        g->json[g->n++] = strdup(ev->error);
        return;
    }
    o = jg_audit_mysql_event_json(ev);
    json_object_del(o, "duration_ms");
    g->json[g->n++] = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
}

static void
got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->json[i]);
    memset(g, 0, sizeof(*g));
}

/* Feeds the conversation in chunks of at most chunk bytes (0: whole
 * steps), then finishes. */
static void
run(const struct conv *c, uint32_t caps, size_t chunk, struct got *g,
    bool *failed)
{
    struct jg_audit_mysql *p = jg_audit_mysql_new(caps, on_event, g);
    uint64_t t = 1000;

    assert_non_null(p);
    for (size_t i = 0; i < c->n; i++) {
        const struct buf *b = &c->step[i].b;
        size_t step = chunk == 0 ? b->len : chunk;

        for (size_t off = 0; off < b->len; off += step) {
            size_t n = b->len - off < step ? b->len - off : step;
            jg_audit_mysql_feed(p, c->step[i].client, b->b + off, n, t);
            t += 250;
        }
    }
    *failed = jg_audit_mysql_failed(p);
    jg_audit_mysql_finish(p);
    jg_audit_mysql_free(p);
}

/* The same events whole, a byte at a time and in chunks of 7. */
static void
run_all(const struct conv *c, uint32_t caps, struct got *g, bool *failed)
{
    static const size_t chunks[] = {1, 7, 4096};

    run(c, caps, 0, g, failed);
    for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
        struct got h = {0};
        bool f2;

        run(c, caps, chunks[k], &h, &f2);
        assert_int_equal(h.n, g->n);
        assert_int_equal(f2, *failed);
        for (size_t i = 0; i < g->n; i++)
            assert_string_equal(h.json[i], g->json[i]);
        got_free(&h);
    }
}

/* ---- tests ------------------------------------------------------------------- */

static void
test_queries_and_answers(void **state)
{
    struct conv c = {0};
    struct got g = {0};
    bool failed;

    (void)state;
    query(&c, "SELECT id, name FROM customer");
    result(&c, 3, 0, false);
    query(&c, "INSERT INTO t VALUES (1), (2)");
    ok(&c, 2, 5, 0x0002, 1, 0x00);
    query(&c, "SELECT * FROM nope");
    err(&c, 1146, "42S02", "Table 'shop.nope' doesn't exist");
    command(&c, 0x0e, "", 0);            /* ping: followed, not reported */
    ok(&c, 0, 0, 0x0002, 0, 0x00);
    command(&c, 0x02, "shop", 4);        /* COM_INIT_DB */
    ok(&c, 0, 0, 0x0002, 0, 0x00);
    /* A multi-result answer: two result sets, then the final OK. */
    query(&c, "CALL two()");
    result(&c, 2, 0x0008, false);
    result(&c, 1, 0x0008, false);
    ok(&c, 0, 0, 0x0002, 0, 0x00);
    run_all(&c, CAPS, &g, &failed);
    assert_false(failed);
    assert_int_equal(g.n, 5);
    assert_string_equal(g.json[0],
        "{\"affected\":0,\"command\":\"query\",\"rows\":3,\"statement\":"
        "\"SELECT id, name FROM customer\",\"status\":\"ok\",\"warnings\":0}");
    assert_string_equal(g.json[1],
        "{\"affected\":2,\"command\":\"query\",\"insert_id\":5,\"rows\":0,"
        "\"statement\":\"INSERT INTO t VALUES (1), (2)\",\"status\":\"ok\","
        "\"warnings\":1}");
    assert_string_equal(g.json[2],
        "{\"command\":\"query\",\"error_code\":1146,\"error_message\":"
        "\"Table 'shop.nope' doesn't exist\",\"sqlstate\":\"42S02\","
        "\"statement\":\"SELECT * FROM nope\",\"status\":\"error\"}");
    assert_string_equal(g.json[3],
        "{\"affected\":0,\"command\":\"init_db\",\"rows\":0,\"statement\":"
        "\"shop\",\"status\":\"ok\",\"warnings\":0}");
    assert_string_equal(g.json[4],
        "{\"affected\":0,\"command\":\"query\",\"rows\":3,\"statement\":"
        "\"CALL two()\",\"status\":\"ok\",\"warnings\":0}");
    got_free(&g);
    conv_free(&c);
}

static void
test_deprecate_eof(void **state)
{
    struct conv c = {0};
    struct got g = {0};
    bool failed;

    (void)state;
    query(&c, "SELECT 1");
    result(&c, 4, 0x0002, true);
    query(&c, "SELECT 2");
    result(&c, 0, 0x0002, true);
    run_all(&c, CAPS | JG_MYSQL_CLIENT_DEPRECATE_EOF, &g, &failed);
    assert_false(failed);
    assert_int_equal(g.n, 2);
    assert_non_null(strstr(g.json[0], "\"rows\":4"));
    assert_non_null(strstr(g.json[1], "\"rows\":0"));
    got_free(&g);
    conv_free(&c);
}

/* COM_STMT_PREPARE's answer for a statement of n params and one column,
 * its definitions ended by EOF packets unless deprecate_eof. */
static void
prepare_answer(struct conv *c, uint32_t id, uint16_t n, bool deprecate_eof)
{
    struct buf p = {0};

    le(&p, 0x00, 1);
    le(&p, id, 4);
    le(&p, 1, 2);
    le(&p, n, 2);
    le(&p, 0, 1);
    le(&p, 0, 2);
    packet(c, false, &p);
    free(p.b);
    for (uint16_t i = 0; i < n; i++)
        coldef(c, "?");
    if (n > 0 && !deprecate_eof)
        eof(c, 0);
    coldef(c, "r");
    if (!deprecate_eof)
        eof(c, 0);
}

static void
prepare_ok(struct conv *c, uint32_t id, uint16_t n)
{
    prepare_answer(c, id, n, false);
}

static void
test_prepared_statements(void **state)
{
    struct conv c = {0};
    struct got g = {0};
    struct buf x = {0};
    bool failed;
    double d = 2.5;
    uint64_t dbits;

    (void)state;
    command(&c, 0x16, "SELECT ? + ?, ?, ?, ?", 21);
    prepare_ok(&c, 7, 5);
    /* EXECUTE 7: long -42, string "h\xc3\xa9\x00\xff", NULL, double 2.5,
     * datetime 2026-12-06 07:05:09.000123; types bound now. */
    le(&x, 7, 4);
    le(&x, 0, 1);
    le(&x, 1, 4);
    le(&x, 0x04, 1);             /* NULL bitmap: the third */
    le(&x, 1, 1);                /* new params bound */
    le(&x, 3, 1); le(&x, 0, 1);
    le(&x, 253, 1); le(&x, 0, 1);
    le(&x, 3, 1); le(&x, 0, 1);
    le(&x, 5, 1); le(&x, 0, 1);
    le(&x, 12, 1); le(&x, 0, 1);
    le(&x, (uint32_t)-42, 4);
    lenenc(&x, 5);
    put(&x, "h\xc3\xa9\x00\xff", 5);
    memcpy(&dbits, &d, 8);
    le(&x, dbits, 8);
    le(&x, 11, 1);
    le(&x, 2026, 2); le(&x, 12, 1); le(&x, 6, 1);
    le(&x, 7, 1); le(&x, 5, 1); le(&x, 9, 1); le(&x, 123, 4);
    command(&c, 0x17, x.b, x.len);
    /* A binary result set of one row. */
    count_packet(&c, 1);
    coldef(&c, "r");
    eof(&c, 0);
    {
        struct buf r = {0};
        le(&r, 0, 1);
        le(&r, 0, 1);
        le(&r, 1, 8);
        packet(&c, false, &r);
        free(r.b);
    }
    eof(&c, 0);
    /* Again with the types bound before, and the second parameter sent as
     * long data in two parts (not in the packet). */
    {
        struct buf l = {0};
        le(&l, 7, 4);
        le(&l, 1, 2);
        put(&l, "big", 3);
        command(&c, 0x18, l.b, l.len);
        l.len = 6;
        put(&l, " \xff", 2);
        command(&c, 0x18, l.b, l.len);
        free(l.b);
    }
    x.len = 0;
    le(&x, 7, 4);
    le(&x, 0, 1);
    le(&x, 1, 4);
    le(&x, 0x1c, 1);             /* params 3, 4 and 5 NULL */
    le(&x, 0, 1);                /* types as before */
    le(&x, 1, 4);
    command(&c, 0x17, x.b, x.len);
    ok(&c, 0, 0, 0, 0, 0x00);
    command(&c, 0x19, "\x07\x00\x00\x00", 4);   /* close: no answer */
    run_all(&c, CAPS, &g, &failed);
    assert_false(failed);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.json[0],
        "{\"affected\":0,\"command\":\"prepare\",\"param_count\":5,\"rows\":0,"
        "\"statement\":\"SELECT ? + ?, ?, ?, ?\",\"status\":\"ok\","
        "\"stmt_id\":7,\"warnings\":0}");
    assert_string_equal(g.json[1],
        "{\"affected\":0,\"command\":\"execute\",\"params\":["
        "{\"type\":\"long\",\"value\":\"-42\"},"
        "{\"type\":\"string\",\"value\":\"h\xc3\xa9\\\\x00\\\\xff\"},"
        "{\"type\":\"long\",\"value\":null},"
        "{\"type\":\"double\",\"value\":\"2.5\"},"
        "{\"type\":\"datetime\",\"value\":\"2026-12-06 07:05:09.000123\"}],"
        "\"rows\":1,\"statement\":\"SELECT ? + ?, ?, ?, ?\",\"status\":\"ok\","
        "\"stmt_id\":7,\"warnings\":0}");
    assert_non_null(strstr(g.json[2],
        "{\"type\":\"long\",\"value\":\"1\"},"
        "{\"type\":\"string\",\"value\":\"big \\\\xff\"},"
        "{\"type\":\"long\",\"value\":null}"));
    got_free(&g);
    conv_free(&c);
    /* An EXECUTE of a closed statement is refused. */
    command(&c, 0x17, x.b, x.len);
    run(&c, CAPS, 0, &g, &failed);
    assert_true(failed);
    assert_non_null(strstr(g.json[0], "never prepared"));
    got_free(&g);
    conv_free(&c);
    free(x.b);
}

/* An EXECUTE of statement 9 asking for a read-only cursor, its one
 * string parameter sent before as long data. */
static void
cursor_execute(struct conv *c)
{
    struct buf x = {0};

    le(&x, 9, 4);
    le(&x, 0x01, 1);             /* CURSOR_TYPE_READ_ONLY */
    le(&x, 1, 4);
    le(&x, 0, 1);                /* no NULLs */
    le(&x, 1, 1);
    le(&x, 253, 1); le(&x, 0, 1);
    command(c, 0x17, x.b, x.len);
    free(x.b);
}

static void
cursor_conversation(struct conv *c, bool dep)
{
    struct buf l = {0}, r = {0};

    command(c, 0x16, "SELECT r FROM t WHERE b = ?", 27);
    prepare_answer(c, 9, 1, dep);
    /* 2000 bytes of long data: its first JG_AUDIT_MYSQL_PARAM_MAX shown. */
    le(&l, 9, 4);
    le(&l, 0, 2);
    for (int i = 0; i < 2000; i++)
        put(&l, "a", 1);
    command(c, 0x18, l.b, l.len);
    /* The server opens the cursor: the definitions, then the end that
     * says so; the rows come with COM_STMT_FETCH. */
    cursor_execute(c);
    count_packet(c, 1);
    coldef(c, "r");
    end_of(c, 0x0040, dep);      /* SERVER_STATUS_CURSOR_EXISTS */
    le(&r, 0, 1);
    le(&r, 0, 1);
    lstr(&r, "row");
    command(c, 0x1c, "\x09\x00\x00\x00\x0a\x00\x00\x00", 8);
    packet(c, false, &r);
    packet(c, false, &r);
    end_of(c, 0x0080, dep);      /* SERVER_STATUS_LAST_ROW_SENT */
    /* Asked for a cursor, the server sends the rows at once (it may, for
     * a result it holds whole): they are the answer. */
    command(c, 0x18, l.b, 9);    /* long data "aaa" */
    cursor_execute(c);
    count_packet(c, 1);
    coldef(c, "r");
    if (!dep)
        eof(c, 0);
    packet(c, false, &r);
    end_of(c, 0, dep);
    /* Still in step. */
    query(c, "SELECT 1");
    result(c, 4, 0x0002, dep);
    free(l.b);
    free(r.b);
}

static void
test_cursor_and_long_data(void **state)
{
    (void)state;
    for (int dep = 0; dep < 2; dep++) {
        struct conv c = {0};
        struct got g = {0};
        char want[JG_AUDIT_MYSQL_PARAM_MAX + 64] = "{\"truncated\":true,"
                                                   "\"type\":\"string\","
                                                   "\"value\":\"";
        size_t w;
        bool failed;

        cursor_conversation(&c, dep);
        run_all(&c, CAPS | (dep ? JG_MYSQL_CLIENT_DEPRECATE_EOF : 0), &g,
                &failed);
        assert_false(failed);
        assert_int_equal(g.n, 4);
        assert_non_null(strstr(g.json[0], "\"command\":\"prepare\""));
        /* The cursor's execute: no rows yet, the long data as its value. */
        assert_non_null(strstr(g.json[1], "\"command\":\"execute\""));
        assert_non_null(strstr(g.json[1], "\"rows\":0"));
        w = strlen(want);
        memset(want + w, 'a', JG_AUDIT_MYSQL_PARAM_MAX);
        snprintf(want + w + JG_AUDIT_MYSQL_PARAM_MAX,
                 sizeof(want) - w - JG_AUDIT_MYSQL_PARAM_MAX, "\"}]");
        assert_non_null(strstr(g.json[1], want));
        /* The execute whose rows came at once counts them; its long data
         * is its own, not what the first one sent. */
        assert_non_null(strstr(g.json[2], "\"rows\":1"));
        assert_non_null(strstr(g.json[2],
                               "{\"type\":\"string\",\"value\":\"aaa\"}]"));
        assert_non_null(strstr(g.json[3], "\"statement\":\"SELECT 1\""));
        assert_non_null(strstr(g.json[3], "\"rows\":4"));
        got_free(&g);
        conv_free(&c);
    }
}

static void
test_statement_over_16_mib(void **state)
{
    struct conv c = {0};
    struct got g = {0};
    size_t n = 0xffffff + 100;
    char *sql = malloc(n + 1);
    bool failed;

    (void)state;
    memset(sql, 'a', n);
    memcpy(sql, "SELECT '", 8);
    sql[n] = '\0';
    query(&c, sql);
    result(&c, 1, 0, false);
    query(&c, "SELECT 2");                 /* the next one still follows */
    ok(&c, 0, 0, 0, 0, 0x00);
    run(&c, CAPS, 0, &g, &failed);
    assert_false(failed);
    assert_int_equal(g.n, 2);
    assert_non_null(strstr(g.json[0], "\"truncated\":true"));
    assert_non_null(strstr(g.json[0], "\"rows\":1"));
    assert_non_null(strstr(g.json[1], "SELECT 2"));
    got_free(&g);
    conv_free(&c);
    free(sql);
}

static void
test_pipelined_and_unanswered(void **state)
{
    struct conv c = {0};
    struct got g = {0};
    bool failed;

    (void)state;
    query(&c, "SELECT 1");
    query(&c, "SELECT 2");
    side(&c, false);
    ok(&c, 0, 0, 0, 0, 0x00);
    c.seq = 1;
    ok(&c, 1, 0, 0, 0, 0x00);
    query(&c, "SELECT 3");                /* the connection ends first */
    run_all(&c, CAPS, &g, &failed);
    assert_false(failed);
    assert_int_equal(g.n, 3);
    assert_non_null(strstr(g.json[1], "\"affected\":1"));
    assert_non_null(strstr(g.json[2], "\"status\":\"no_reply\""));
    got_free(&g);
    conv_free(&c);
}

/* A conversation that must be refused with why in its one ERROR event. */
static void
refused(struct conv *c, uint32_t caps, const char *why)
{
    struct got g = {0};
    bool failed;
    size_t errors = 0;

    run_all(c, caps, &g, &failed);
    assert_true(failed);
    for (size_t i = 0; i < g.n; i++)
        if (g.kind[i] == JG_AUDIT_MYSQL_ERROR) {
            errors++;
            if (strstr(g.json[i], why) == NULL)
                fail_msg("error \"%s\" lacks \"%s\"", g.json[i], why);
        }
    assert_int_equal(errors, 1);
    got_free(&g);
    conv_free(c);
}

static void
test_refusals(void **state)
{
    struct conv c = {0};

    (void)state;
    query(&c, "SELECT 1");
    c.seq = 2;                            /* the answer skips id 1 */
    ok(&c, 0, 0, 0, 0, 0x00);
    refused(&c, CAPS, "sequence id 2 where 1 belongs");

    ok(&c, 0, 0, 0, 0, 0x00);             /* nobody asked */
    refused(&c, CAPS, "answers no command");

    command(&c, 0x11, "root\0", 5);
    refused(&c, CAPS, "COM_CHANGE_USER is refused");

    command(&c, 0x12, "", 0);             /* COM_BINLOG_DUMP */
    refused(&c, CAPS, "command 0x12");

    query(&c, "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t");
    {
        struct buf p = {0};
        le(&p, 0xfb, 1);
        put(&p, "/etc/passwd", 11);
        packet(&c, false, &p);
        free(p.b);
    }
    refused(&c, CAPS, "LOCAL INFILE");

    query(&c, "SELECT 1");
    count_packet(&c, 1);
    coldef(&c, "a");
    ok(&c, 0, 0, 0, 0, 0x00);             /* no EOF after the definitions */
    refused(&c, CAPS, "no EOF packet");

    query(&c, "SELECT 1");
    {
        struct buf p = {0};
        le(&p, 0xff, 1);                  /* an ERR of one byte */
        packet(&c, false, &p);
        free(p.b);
    }
    refused(&c, CAPS, "malformed ERR");

    c.seq = 3;                            /* a command not at id 0 */
    {
        struct buf p = {0};
        le(&p, 0x03, 1);
        packet(&c, true, &p);
        free(p.b);
    }
    refused(&c, CAPS, "sequence id 3, not 0");

    query(&c, "SELECT 1");
    refused(&c, JG_MYSQL_CLIENT_SECURE_CONNECTION, "4.1 protocol");
}

static void
test_bad_parameters(void **state)
{
    struct conv c = {0};
    struct buf x = {0};

    (void)state;
    command(&c, 0x16, "SELECT ?", 8);
    prepare_ok(&c, 1, 1);
    le(&x, 1, 4);
    le(&x, 0, 1);
    le(&x, 1, 4);
    le(&x, 0, 1);
    le(&x, 0, 1);                         /* no types, and none before */
    command(&c, 0x17, x.b, x.len);
    refused(&c, CAPS, "no parameter types were ever bound");

    command(&c, 0x16, "SELECT ?", 8);
    prepare_ok(&c, 1, 1);
    x.len = 0;
    le(&x, 1, 4);
    le(&x, 0, 1);
    le(&x, 1, 4);
    le(&x, 0, 1);
    le(&x, 1, 1);
    le(&x, 253, 1);
    le(&x, 0, 1);
    lenenc(&x, 50);                       /* a string of 50, with 3 bytes */
    put(&x, "abc", 3);
    command(&c, 0x17, x.b, x.len);
    refused(&c, CAPS, "runs past the packet");

    command(&c, 0x16, "SELECT ?", 8);
    prepare_ok(&c, 1, 1);
    x.len = 0;
    le(&x, 1, 4);
    le(&x, 0, 1);
    le(&x, 1, 4);
    le(&x, 0, 1);
    le(&x, 1, 1);
    le(&x, 99, 1);                        /* no such type */
    le(&x, 0, 1);
    command(&c, 0x17, x.b, x.len);
    refused(&c, CAPS, "unknown type 99");
    free(x.b);
}

static void
test_words(void **state)
{
    (void)state;
    assert_string_equal(jg_audit_mysql_command(JG_AUDIT_MYSQL_QUERY), "query");
    assert_string_equal(jg_audit_mysql_command(JG_AUDIT_MYSQL_KILL), "kill");
    assert_null(jg_audit_mysql_command(JG_AUDIT_MYSQL_ERROR));
    assert_null(jg_audit_mysql_command(JG_AUDIT_MYSQL_KIND_MAX));
    assert_string_equal(jg_audit_mysql_status_text(JG_AUDIT_MYSQL_ST_NO_REPLY),
                        "no_reply");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queries_and_answers),
        cmocka_unit_test(test_deprecate_eof),
        cmocka_unit_test(test_prepared_statements),
        cmocka_unit_test(test_cursor_and_long_data),
        cmocka_unit_test(test_statement_over_16_mib),
        cmocka_unit_test(test_pipelined_and_unanswered),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
