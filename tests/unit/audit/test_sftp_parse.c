/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/audit/test_sftp_parse.c - the streaming SFTP v3 parser: every
 * request it reports, with the replies that complete it, fed whole, a byte
 * at a time and in odd chunks; a repeated INIT, links, copies and extended
 * requests; lengths it must refuse, streams that stop half-way, and the
 * bounds on its tables and on what it keeps. */
#include <stdio.h>

#include "jgtest.h"
#include "audit/audit.h"

/* ---- building packets ---------------------------------------------------- */

/* The bytes of one direction. */
struct wire {
    struct script *sc;
    bool client;
    uint8_t *b;
    size_t len, cap;
    size_t start; /* of the packet being built */
};

/* Both directions and the order in which their packets crossed: a reply
 * never comes before its request, and a request on a handle never before
 * the reply that made the handle. */
#define MAX_MARKS 4096
struct script {
    struct wire c, s;
    struct {
        bool client;
        size_t end; /* offset in its direction after the packet */
    } marks[MAX_MARKS];
    size_t n;
};

static void
sc_init(struct script *sc)
{
    memset(sc, 0, sizeof(*sc));
    sc->c.sc = sc->s.sc = sc;
    sc->c.client = true;
}

static void
sc_free(struct script *sc)
{
    free(sc->c.b);
    free(sc->s.b);
    sc_init(sc);
}

static void
put(struct wire *w, const void *p, size_t n)
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
u8(struct wire *w, uint8_t v)
{
    put(w, &v, 1);
}

static void
u32(struct wire *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};
    put(w, b, 4);
}

static void
u64(struct wire *w, uint64_t v)
{
    u32(w, (uint32_t)(v >> 32));
    u32(w, (uint32_t)v);
}

static void
strn(struct wire *w, const void *s, size_t n)
{
    u32(w, (uint32_t)n);
    put(w, s, n);
}

static void
str(struct wire *w, const char *s)
{
    strn(w, s, strlen(s));
}

/* Starts a packet of type (with id unless INIT/VERSION); end() fills in
 * its length. */
static void
begin(struct wire *w, uint8_t type)
{
    w->start = w->len;
    u32(w, 0);
    u8(w, type);
}

static void
end(struct wire *w)
{
    uint32_t n = (uint32_t)(w->len - w->start - 4);
    uint8_t *p = w->b + w->start;

    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    assert_true(w->sc->n < MAX_MARKS);
    w->sc->marks[w->sc->n].client = w->client;
    w->sc->marks[w->sc->n++].end = w->len;
}

static void
init(struct wire *c, struct wire *s)
{
    begin(c, 1);
    u32(c, 3);
    end(c);
    begin(s, 2);
    u32(s, 3);
    str(s, "posix-rename@openssh.com"); /* an extension pair */
    str(s, "1");
    end(s);
}

static void
req_path(struct wire *c, uint8_t type, uint32_t id, const char *path)
{
    begin(c, type);
    u32(c, id);
    str(c, path);
    end(c);
}

static void
attrs_perm(struct wire *w, uint32_t perm)
{
    u32(w, 0x4);
    u32(w, perm);
}

static void
open_req(struct wire *c, uint32_t id, const char *path, uint32_t pflags,
         int perm)
{
    begin(c, 3);
    u32(c, id);
    str(c, path);
    u32(c, pflags);
    if (perm >= 0)
        attrs_perm(c, (uint32_t)perm);
    else
        u32(c, 0);
    end(c);
}

static void
handle_req(struct wire *c, uint8_t type, uint32_t id, const char *h)
{
    begin(c, type);
    u32(c, id);
    str(c, h);
    if (type == 5) { /* READ: offset, length */
        u64(c, 0);
        u32(c, 32768);
    }
    end(c);
}

static void
write_req(struct wire *c, uint32_t id, const char *h, size_t n)
{
    uint8_t *data = calloc(1, n + 1);

    begin(c, 6);
    u32(c, id);
    str(c, h);
    u64(c, 0);
    strn(c, data, n);
    end(c);
    free(data);
}

static void
status(struct wire *s, uint32_t id, uint32_t code)
{
    begin(s, 101);
    u32(s, id);
    u32(s, code);
    str(s, code == 0 ? "Success" : "Failure");
    str(s, "");
    end(s);
}

static void
handle_rep(struct wire *s, uint32_t id, const char *h)
{
    begin(s, 102);
    u32(s, id);
    str(s, h);
    end(s);
}

static void
data_rep(struct wire *s, uint32_t id, size_t n)
{
    uint8_t *data = calloc(1, n + 1);

    begin(s, 103);
    u32(s, id);
    strn(s, data, n);
    end(s);
    free(data);
}

/* ---- collecting events --------------------------------------------------- */

struct got {
    char *v[512];
    size_t n;
};

static void
on_event(const struct jg_audit_sftp_event *ev, void *arg)
{
    struct got *g = arg;
    json_t *j;
    char *dump;

    assert_true(g->n < 512);
    if (ev->kind == JG_AUDIT_SFTP_ERROR) {
        g->v[g->n++] = jg_xasprintf("sftp.error %s", ev->error);
        return;
    }
    j = jg_audit_sftp_event_json(ev);
    dump = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    g->v[g->n++] = jg_xasprintf("%s %s", jg_audit_sftp_type(ev->kind), dump);
    free(dump);
    json_decref(j);
}

static void
got_clear(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->v[i]);
    g->n = 0;
}

/* All events as one text, one per line. */
static char *
got_text(const struct got *g)
{
    size_t cap = 1, i;
    char *s;

    for (i = 0; i < g->n; i++)
        cap += strlen(g->v[i]) + 1;
    s = calloc(1, cap);
    for (i = 0, cap = 0; i < g->n; i++) {
        size_t l = strlen(g->v[i]);
        memcpy(s + cap, g->v[i], l);
        s[cap + l] = '\n';
        cap += l + 1;
    }
    return s;
}

/* Feeds the packets in the order of the script, consecutive packets of
 * one direction as one run cut into chunks of at most chunk bytes (0:
 * pseudo-random sizes 1..3000), so a chunk may end inside a packet or hold
 * several; bytes after the last packet of a direction go last. Finishes
 * when fin. Returns the events as text; *st the counters. */
static char *
run(const struct script *sc, size_t chunk, bool fin,
    struct jg_audit_sftp_stats *st)
{
    struct got g = {{0}, 0};
    struct jg_audit_sftp *p = jg_audit_sftp_new(on_event, &g);
    size_t pos[2] = {0, 0}, i = 0, upto = 0;
    uint32_t seed = 12345;
    char *text;

    for (;;) {
        const struct wire *w;
        bool client;

        if (i < sc->n) {
            client = sc->marks[i].client;
            while (i < sc->n && sc->marks[i].client == client)
                upto = sc->marks[i++].end;
        } else if (pos[1] < sc->c.len || pos[0] < sc->s.len) {
            client = pos[1] < sc->c.len;
            upto = SIZE_MAX;
        } else {
            break;
        }
        w = client ? &sc->c : &sc->s;
        if (upto > w->len)
            upto = w->len;
        while (pos[client] < upto) {
            size_t n = chunk;
            if (chunk == 0) {
                seed = seed * 1103515245u + 12345u;
                n = 1 + (seed >> 16) % 3000;
            }
            if (n > upto - pos[client])
                n = upto - pos[client];
            jg_audit_sftp_feed(p, client, w->b + pos[client], n);
            pos[client] += n;
        }
    }
    if (fin)
        jg_audit_sftp_finish(p);
    if (st != NULL)
        *st = *jg_audit_sftp_stats(p);
    jg_audit_sftp_free(p);
    text = got_text(&g);
    got_clear(&g);
    return text;
}

/* A session with every request the parser reports, answered in order. */
static void
session(struct wire *c, struct wire *s)
{
    init(c, s);
    /* upload: open, three writes (the last refused), close */
    open_req(c, 1, "/srv/upload.bin", 0x2 | 0x8 | 0x10, 0644);
    handle_rep(s, 1, "H1");
    write_req(c, 2, "H1", 32768);
    write_req(c, 3, "H1", 1000);
    write_req(c, 4, "H1", 77);
    status(s, 2, 0);
    status(s, 3, 0);
    status(s, 4, 4);
    handle_req(c, 4, 5, "H1");
    status(s, 5, 0);
    /* download: open, two reads with data, one at EOF, close */
    open_req(c, 6, "/etc/motd", 0x1, -1);
    handle_rep(s, 6, "H2");
    handle_req(c, 5, 7, "H2");
    handle_req(c, 5, 8, "H2");
    handle_req(c, 5, 9, "H2");
    data_rep(s, 7, 32768);
    data_rep(s, 8, 5);
    status(s, 9, 1);
    handle_req(c, 4, 10, "H2");
    status(s, 10, 0);
    /* a refused open */
    open_req(c, 11, "/root/secret", 0x1, -1);
    status(s, 11, 3);
    /* path requests */
    req_path(c, 13, 12, "/srv/old.txt"); /* REMOVE */
    status(s, 12, 0);
    req_path(c, 13, 13, "/srv/none.txt");
    status(s, 13, 2);
    begin(c, 18); /* RENAME */
    u32(c, 14);
    str(c, "/srv/a");
    str(c, "/srv/b");
    end(c);
    status(s, 14, 0);
    begin(c, 14); /* MKDIR */
    u32(c, 15);
    str(c, "/srv/new");
    attrs_perm(c, 040755);
    end(c);
    status(s, 15, 0);
    req_path(c, 15, 16, "/srv/new"); /* RMDIR */
    status(s, 16, 0);
    begin(c, 9); /* SETSTAT: mode, then size+uid/gid+times */
    u32(c, 17);
    str(c, "/srv/b");
    attrs_perm(c, 0600);
    end(c);
    status(s, 17, 0);
    begin(c, 9);
    u32(c, 18);
    str(c, "/srv/b");
    u32(c, 0x1 | 0x2 | 0x8);
    u64(c, 4096);
    u32(c, 1000);
    u32(c, 1001);
    u32(c, 1700000000);
    u32(c, 1700000001);
    end(c);
    status(s, 18, 0);
    /* directory listing: opendir, readdir (not reported), close (silent) */
    req_path(c, 11, 19, "/var/log");
    handle_rep(s, 19, "D1");
    handle_req(c, 12, 20, "D1");
    begin(s, 104); /* NAME, count 0 */
    u32(s, 20);
    u32(s, 0);
    end(s);
    handle_req(c, 4, 21, "D1");
    status(s, 21, 0);
    /* OpenSSH extensions */
    begin(c, 200);
    u32(c, 22);
    str(c, "posix-rename@openssh.com");
    str(c, "/srv/b");
    str(c, "/srv/c");
    end(c);
    status(s, 22, 0);
    begin(c, 200);
    u32(c, 23);
    str(c, "lsetstat@openssh.com");
    str(c, "/srv/link");
    attrs_perm(c, 0700);
    end(c);
    status(s, 23, 8);
    begin(c, 200); /* not reported */
    u32(c, 24);
    str(c, "statvfs@openssh.com");
    str(c, "/");
    end(c);
    status(s, 24, 0);
    /* FSETSTAT names the handle's path */
    open_req(c, 25, "/srv/log.txt", 0x2 | 0x4, -1);
    handle_rep(s, 25, "H3");
    begin(c, 10);
    u32(c, 26);
    str(c, "H3");
    attrs_perm(c, 0640);
    end(c);
    status(s, 26, 0);
    handle_req(c, 4, 27, "H3");
    status(s, 27, 0);
    /* requests not reported: STAT, REALPATH */
    req_path(c, 17, 28, "/srv");
    req_path(c, 16, 29, ".");
    status(s, 28, 0);
    status(s, 29, 0);
}

static const char session_events[] =
    "sftp.open {\"path\":\"/srv/upload.bin\",\"flags\":\"write,creat,trunc\","
    "\"mode\":\"0644\",\"status\":\"ok\"}\n"
    "sftp.close {\"path\":\"/srv/upload.bin\",\"bytes_read\":0,"
    "\"bytes_written\":33768,\"status\":\"ok\"}\n"
    "sftp.open {\"path\":\"/etc/motd\",\"flags\":\"read\",\"status\":\"ok\"}\n"
    "sftp.close {\"path\":\"/etc/motd\",\"bytes_read\":32773,"
    "\"bytes_written\":0,\"status\":\"ok\"}\n"
    "sftp.open {\"path\":\"/root/secret\",\"flags\":\"read\","
    "\"status\":\"permission_denied\"}\n"
    "sftp.remove {\"path\":\"/srv/old.txt\",\"status\":\"ok\"}\n"
    "sftp.remove {\"path\":\"/srv/none.txt\",\"status\":\"no_such_file\"}\n"
    "sftp.rename {\"path\":\"/srv/a\",\"to\":\"/srv/b\",\"status\":\"ok\"}\n"
    "sftp.mkdir {\"path\":\"/srv/new\",\"mode\":\"0755\",\"status\":\"ok\"}\n"
    "sftp.rmdir {\"path\":\"/srv/new\",\"status\":\"ok\"}\n"
    "sftp.setstat {\"path\":\"/srv/b\",\"mode\":\"0600\",\"status\":\"ok\"}\n"
    "sftp.setstat {\"path\":\"/srv/b\",\"size\":4096,\"uid\":1000,"
    "\"gid\":1001,\"atime\":1700000000,\"mtime\":1700000001,"
    "\"status\":\"ok\"}\n"
    "sftp.opendir {\"path\":\"/var/log\",\"status\":\"ok\"}\n"
    "sftp.rename {\"path\":\"/srv/b\",\"to\":\"/srv/c\",\"status\":\"ok\"}\n"
    "sftp.setstat {\"path\":\"/srv/link\",\"mode\":\"0700\","
    "\"status\":\"op_unsupported\"}\n"
    "sftp.open {\"path\":\"/srv/log.txt\",\"flags\":\"write,append\","
    "\"status\":\"ok\"}\n"
    "sftp.setstat {\"path\":\"/srv/log.txt\",\"mode\":\"0640\","
    "\"status\":\"ok\"}\n"
    "sftp.close {\"path\":\"/srv/log.txt\",\"bytes_read\":0,"
    "\"bytes_written\":0,\"status\":\"ok\"}\n";

static void
test_every_packet_type(void **state)
{
    struct script sc;
    struct wire *c = &sc.c, *s = &sc.s;
    struct jg_audit_sftp_stats st;
    char *t;

    sc_init(&sc);
    session(c, s);
    /* Replies interleaved with requests, as on a real channel. */
    t = run(&sc, 4096, true, &st);
    assert_string_equal(t, session_events);
    assert_int_equal(st.packets_in, 30);
    assert_int_equal(st.packets_out, 30);
    assert_int_equal(st.dropped_requests, 0);
    assert_int_equal(st.dropped_handles, 0);
    free(t);
    sc_free(&sc);
}

static void
test_any_chunking_gives_the_same_events(void **state)
{
    static const size_t chunks[] = {1, 2, 3, 5, 7, 13, 4096, 0};
    struct script sc;
    struct wire *c = &sc.c, *s = &sc.s;
    char *t;
    size_t i;

    sc_init(&sc);
    session(c, s);
    for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        t = run(&sc, chunks[i], true, NULL);
        if (strcmp(t, session_events) != 0)
            fail_msg("chunk %zu:\n%s", chunks[i], t);
        free(t);
    }
    /* Each run of packets of one direction as one chunk. */
    t = run(&sc, SIZE_MAX, true, NULL);
    assert_string_equal(t, session_events);
    free(t);
    sc_free(&sc);
}

static void
test_bad_lengths_stop_parsing_once(void **state)
{
    static const struct {
        uint32_t len;
        const char *msg;
    } cases[] = {
        {0, "client packet 3: length 0 is not between 5 and 1048576"},
        {4, "client packet 3: length 4 is not between 5 and 1048576"},
        {0xffffffffu,
         "client packet 3: length 4294967295 is not between 5 and 1048576"},
        {(1u << 20) + 1,
         "client packet 3: length 1048577 is not between 5 and 1048576"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct script sc;
        struct wire *c = &sc.c, *s = &sc.s;
        char *t, *expect;

        sc_init(&sc);
        init(c, s);
        open_req(c, 1, "/pending", 0x1, -1);
        u32(c, cases[i].len);
        for (int k = 0; k < 64; k++) /* whatever follows is ignored */
            req_path(c, 13, 100 + (uint32_t)k, "/ignored");
        status(s, 100, 0);
        t = run(&sc, 1, true, NULL);
        expect = jg_xasprintf("sftp.error %s\n"
                              "sftp.open {\"path\":\"/pending\",\"flags\":"
                              "\"read\",\"status\":\"unknown\"}\n",
                              cases[i].msg);
        assert_string_equal(t, expect);
        free(expect);
        free(t);
        sc_free(&sc);
    }
}

static void
test_strings_past_the_packet_and_protocol_errors(void **state)
{
    struct script sc;
    struct wire *c = &sc.c, *s = &sc.s;
    char *t;

    sc_init(&sc);
    /* A path whose length runs past its packet. */
    init(c, s);
    begin(c, 13);
    u32(c, 1);
    u32(c, 1000);
    put(c, "/short", 6);
    end(c);
    t = run(&sc, 3, true, NULL);
    assert_string_equal(t, "sftp.error client packet 2: SSH_FXP_REMOVE: a "
                           "field runs past the end of the 15-byte packet\n");
    free(t);
    sc_free(&sc);

    /* A handle longer than 256 bytes. */
    init(c, s);
    open_req(c, 1, "/x", 1, -1);
    {
        char h[301];
        memset(h, 'h', 300);
        h[300] = '\0';
        handle_rep(s, 1, h);
    }
    t = run(&sc, 0, true, NULL);
    assert_string_equal(t, "sftp.error server packet 2: SSH_FXP_HANDLE of "
                           "300 bytes (at most 256)\n"
                           "sftp.open {\"path\":\"/x\",\"flags\":\"read\","
                           "\"status\":\"unknown\"}\n");
    free(t);
    sc_free(&sc);

    /* Not INIT first; another version than 3; a STATUS without code. */
    req_path(c, 13, 1, "/x");
    t = run(&sc, 0, true, NULL);
    assert_string_equal(t, "sftp.error client packet 1: type 13 where "
                           "SSH_FXP_INIT must come first\n");
    free(t);
    sc_free(&sc);
    begin(c, 1);
    u32(c, 3);
    end(c);
    begin(s, 2);
    u32(s, 6);
    end(s);
    t = run(&sc, 0, true, NULL);
    assert_string_equal(t, "sftp.error server packet 1: the server speaks "
                           "SFTP version 6; only version 3 is parsed\n");
    free(t);
    sc_free(&sc);
    init(c, s);
    req_path(c, 13, 1, "/x");
    begin(s, 101);
    u32(s, 1);
    end(s);
    t = run(&sc, 0, true, NULL);
    assert_string_equal(t, "sftp.error server packet 2: SSH_FXP_STATUS of 5 "
                           "bytes has no code\n"
                           "sftp.remove {\"path\":\"/x\",\"status\":"
                           "\"unknown\"}\n");
    free(t);
    sc_free(&sc);
}

static void
test_truncated_stream_flushes_at_the_end(void **state)
{
    struct script sc;
    struct wire *c = &sc.c, *s = &sc.s;
    char *t;

    sc_init(&sc);
    init(c, s);
    open_req(c, 1, "/srv/big.iso", 0x2 | 0x8, -1);
    handle_rep(s, 1, "H");
    write_req(c, 2, "H", 100);
    status(s, 2, 0);
    write_req(c, 3, "H", 50);       /* never answered: not counted */
    begin(c, 14); /* MKDIR, never answered */
    u32(c, 4);
    str(c, "/srv/dir");
    u32(c, 0);
    end(c);
    /* and half a packet */
    write_req(c, 5, "H", 5000);
    c->len -= 2000;
    t = run(&sc, 0, true, NULL);
    assert_string_equal(t,
        "sftp.open {\"path\":\"/srv/big.iso\",\"flags\":\"write,creat\","
        "\"status\":\"ok\"}\n"
        "sftp.mkdir {\"path\":\"/srv/dir\",\"status\":\"no_reply\"}\n"
        "sftp.close {\"path\":\"/srv/big.iso\",\"bytes_read\":0,"
        "\"bytes_written\":100,\"status\":\"unclosed\"}\n");
    free(t);
    /* Without finish nothing is flushed; a second finish adds nothing. */
    t = run(&sc, 0, false, NULL);
    assert_null(strstr(t, "mkdir"));
    free(t);
    {
        struct got g = {{0}, 0};
        struct jg_audit_sftp *p = jg_audit_sftp_new(on_event, &g);
        jg_audit_sftp_feed(p, true, c->b, c->len);
        jg_audit_sftp_feed(p, false, s->b, s->len);
        jg_audit_sftp_finish(p);
        assert_int_equal(g.n, 3);
        jg_audit_sftp_finish(p);
        jg_audit_sftp_feed(p, true, c->b, c->len);
        assert_int_equal(g.n, 3);
        assert_false(jg_audit_sftp_failed(p));
        jg_audit_sftp_free(p);
        got_clear(&g);
    }
    sc_free(&sc);
}

static void
test_tables_are_bounded(void **state)
{
    struct script sc;
    struct wire *c = &sc.c, *s = &sc.s;
    struct jg_audit_sftp_stats st;
    char *t, name[32];
    uint32_t i;
    size_t n = 0;
    const char *p;

    sc_init(&sc);
    /* 300 removals in flight: the oldest 44 are dropped, each reported at
     * once with an unknown status (replies to them report nothing more),
     * the others with their replies. */
    init(c, s);
    for (i = 1; i <= 300; i++) {
        snprintf(name, sizeof(name), "/f%u", i);
        req_path(c, 13, i, name);
    }
    for (i = 1; i <= 300; i++)
        status(s, i, 0);
    t = run(&sc, 0, true, &st);
    assert_int_equal(st.dropped_requests, 300 - JG_AUDIT_SFTP_MAX_REQS);
    for (p = t; (p = strstr(p, "sftp.remove")) != NULL; p++)
        n++;
    assert_int_equal(n, 300);
    assert_non_null(strstr(t, "sftp.remove {\"path\":\"/f1\",\"status\":"
                              "\"unknown\"}\n"));
    assert_non_null(strstr(t, "sftp.remove {\"path\":\"/f44\",\"status\":"
                              "\"unknown\"}\n"));
    assert_non_null(strstr(t, "sftp.remove {\"path\":\"/f45\",\"status\":"
                              "\"ok\"}\n"));
    assert_non_null(strstr(t, "sftp.remove {\"path\":\"/f300\",\"status\":"
                              "\"ok\"}\n"));
    for (n = 0, p = t; (p = strstr(p, "\"unknown\"")) != NULL; p++)
        n++;
    assert_int_equal(n, 300 - JG_AUDIT_SFTP_MAX_REQS);
    free(t);
    sc_free(&sc);

    /* 70 open files: the 6 oldest handles are dropped, each with an
     * sftp.close of unknown status; writes to them are not counted; the
     * rest are closed at the end with their counts. */
    init(c, s);
    for (i = 1; i <= 70; i++) {
        snprintf(name, sizeof(name), "/o%u", i);
        open_req(c, i, name, 2, -1);
        snprintf(name, sizeof(name), "h%u", i);
        handle_rep(s, i, name);
    }
    write_req(c, 100, "h1", 10);
    write_req(c, 101, "h70", 11);
    status(s, 100, 0);
    status(s, 101, 0);
    t = run(&sc, 0, true, &st);
    assert_int_equal(st.dropped_handles, 70 - JG_AUDIT_SFTP_MAX_HANDLES);
    n = 0;
    for (p = t; (p = strstr(p, "sftp.close")) != NULL; p++)
        n++;
    assert_int_equal(n, 70);
    assert_non_null(strstr(t, "sftp.close {\"path\":\"/o6\",\"bytes_read\":0,"
                              "\"bytes_written\":0,\"status\":\"unknown\"}"));
    assert_non_null(strstr(t, "sftp.close {\"path\":\"/o7\",\"bytes_read\":0,"
                              "\"bytes_written\":0,\"status\":\"unclosed\"}"));
    assert_non_null(strstr(t, "sftp.close {\"path\":\"/o70\",\"bytes_read\":0,"
                              "\"bytes_written\":11,\"status\":\"unclosed\"}"));
    free(t);
    sc_free(&sc);
}

static void
test_long_paths_and_big_packets(void **state)
{
    struct script sc;
    struct wire *c = &sc.c, *s = &sc.s;
    char *big = malloc(9001), *t, *expect;

    sc_init(&sc);
    memset(big, 'a', 9000);
    big[0] = '/';
    big[9000] = '\0';
    init(c, s);
    req_path(c, 13, 1, big); /* cut at JG_AUDIT_SFTP_PATH_MAX */
    status(s, 1, 0);
    /* Data far larger than any head: counted, never kept. The WRITE is
     * the largest packet allowed. */
    open_req(c, 3, "/big", 3, -1);
    handle_rep(s, 3, "H");
    write_req(c, 4, "H", JG_AUDIT_SFTP_MAX_PACKET - 22);
    status(s, 4, 0);
    handle_req(c, 5, 5, "H");
    data_rep(s, 5, JG_AUDIT_SFTP_MAX_PACKET - 9);
    handle_req(c, 4, 6, "H");
    status(s, 6, 0);
    /* One byte more is refused. */
    write_req(c, 7, "H", JG_AUDIT_SFTP_MAX_PACKET - 21);
    t = run(&sc, 0, true, NULL);
    big[JG_AUDIT_SFTP_PATH_MAX] = '\0';
    expect = jg_xasprintf(
        "sftp.remove {\"path\":\"%s\",\"truncated\":true,\"status\":\"ok\"}\n"
        "sftp.open {\"path\":\"/big\",\"flags\":\"read,write\","
        "\"status\":\"ok\"}\n"
        "sftp.close {\"path\":\"/big\",\"bytes_read\":%u,"
        "\"bytes_written\":%u,\"status\":\"ok\"}\n"
        "sftp.error client packet 7: length %u is not between 5 and %u\n",
        big, JG_AUDIT_SFTP_MAX_PACKET - 9, JG_AUDIT_SFTP_MAX_PACKET - 22,
        JG_AUDIT_SFTP_MAX_PACKET + 1, JG_AUDIT_SFTP_MAX_PACKET);
    assert_string_equal(t, expect);
    free(t);
    free(expect);
    sc_free(&sc);
    free(big);
}

static void
test_rename_with_cut_second_path(void **state)
{
    struct script sc;
    struct wire *c = &sc.c, *s = &sc.s;
    char *big = malloc(9301), *t;

    sc_init(&sc);
    /* The second path's length lies beyond the kept head. */
    memset(big, 'b', 9300);
    big[9300] = '\0';
    init(c, s);
    begin(c, 18);
    u32(c, 2);
    str(c, big);
    str(c, "/dst");
    end(c);
    status(s, 2, 0);
    t = run(&sc, 0, true, NULL);
    assert_non_null(strstr(t, "\"to\":null,\"truncated\":true,"
                              "\"status\":\"ok\"}\n"));
    assert_non_null(strstr(t, "sftp.rename {\"path\":\"bbbb"));
    free(t);
    sc_free(&sc);
    free(big);
}

static void
test_paths_become_valid_utf8(void **state)
{
    struct script sc;
    struct wire *c = &sc.c, *s = &sc.s;
    char *t;

    sc_init(&sc);
    init(c, s);
    begin(c, 13);
    u32(c, 1);
    strn(c, "/a\0b\xff", 5);
    end(c);
    status(s, 1, 0);
    t = run(&sc, 0, true, NULL);
    assert_string_equal(t, "sftp.remove {\"path\":\"/a b\xef\xbf\xbd\","
                           "\"status\":\"ok\"}\n");
    free(t);
    sc_free(&sc);
}

/* Runs sc in every chunking; each gives expect. */
static void
run_all_chunkings(const struct script *sc, const char *expect)
{
    static const size_t chunks[] = {1, 3, 7, 4096, 0, SIZE_MAX};
    size_t i;

    for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        char *t = run(sc, chunks[i], true, NULL);
        if (strcmp(t, expect) != 0)
            fail_msg("chunk %zu:\n%s", chunks[i], t);
        free(t);
    }
}

/* OpenSSH's sftp-server answers a repeated INIT with another VERSION and
 * carries on with its handles open: so does the parser, and what comes
 * after is reported as before. */
static void
test_a_second_init_is_followed(void **state)
{
    struct script sc;
    struct wire *c = &sc.c, *s = &sc.s;
    char *t;

    sc_init(&sc);
    init(c, s);
    open_req(c, 1, "/srv/a.bin", 0x2 | 0x8, -1);
    handle_rep(s, 1, "H1");
    write_req(c, 2, "H1", 10);
    status(s, 2, 0);
    init(c, s); /* again, twice, the second before the first VERSION */
    begin(c, 1);
    u32(c, 3);
    end(c);
    begin(s, 2);
    u32(s, 3);
    end(s);
    write_req(c, 3, "H1", 20); /* the handle is still open */
    status(s, 3, 0);
    handle_req(c, 4, 4, "H1");
    status(s, 4, 0);
    req_path(c, 13, 5, "/srv/after-init");
    status(s, 5, 0);
    begin(c, 20); /* SYMLINK */
    u32(c, 6);
    str(c, "/etc/shadow");
    str(c, "/srv/l");
    end(c);
    status(s, 6, 0);
    run_all_chunkings(
        &sc,
        "sftp.open {\"path\":\"/srv/a.bin\",\"flags\":\"write,creat\","
        "\"status\":\"ok\"}\n"
        "sftp.close {\"path\":\"/srv/a.bin\",\"bytes_read\":0,"
        "\"bytes_written\":30,\"status\":\"ok\"}\n"
        "sftp.remove {\"path\":\"/srv/after-init\",\"status\":\"ok\"}\n"
        "sftp.symlink {\"path\":\"/srv/l\",\"to\":\"/etc/shadow\","
        "\"status\":\"ok\"}\n");
    sc_free(&sc);

    /* A VERSION that answers no INIT, and a later VERSION of another
     * protocol, are not followed. */
    init(c, s);
    begin(s, 2);
    u32(s, 3);
    end(s);
    t = run(&sc, 0, true, NULL);
    assert_string_equal(t, "sftp.error server packet 2: SSH_FXP_VERSION "
                           "answers no SSH_FXP_INIT\n");
    free(t);
    sc_free(&sc);
    init(c, s);
    begin(c, 1);
    u32(c, 6);
    end(c);
    begin(s, 2);
    u32(s, 6);
    end(s);
    t = run(&sc, 0, true, NULL);
    assert_string_equal(t, "sftp.error server packet 2: the server speaks "
                           "SFTP version 6; only version 3 is parsed\n");
    free(t);
    sc_free(&sc);
}

static void
ext_begin(struct wire *c, uint32_t id, const char *name)
{
    begin(c, 200);
    u32(c, id);
    str(c, name);
}

/* Links, copies and extended requests: those that change files are
 * reported with their paths, unknown ones by name, those that only read
 * not at all. */
static void
test_links_copies_and_extended_requests(void **state)
{
    static const char *const harmless[] = {
        "statvfs@openssh.com", "fstatvfs@openssh.com", "fsync@openssh.com",
        "limits@openssh.com", "expand-path@openssh.com", "home-directory",
        "users-groups-by-id@openssh.com"};
    struct script sc;
    struct wire *c = &sc.c, *s = &sc.s;
    char name[400], *t, *expect;
    uint32_t id = 100;
    size_t i;

    sc_init(&sc);
    init(c, s);
    begin(c, 20); /* SYMLINK, OpenSSH's order: target, then link */
    u32(c, 1);
    str(c, "../secret");
    str(c, "/srv/link");
    end(c);
    status(s, 1, 0);
    ext_begin(c, 2, "hardlink@openssh.com"); /* existing, then new */
    str(c, "/etc/passwd");
    str(c, "/srv/pw");
    end(c);
    status(s, 2, 3);
    /* copy-data from one open file into another */
    open_req(c, 3, "/srv/src", 0x1, -1);
    handle_rep(s, 3, "R");
    open_req(c, 4, "/srv/dst", 0x2 | 0x8, -1);
    handle_rep(s, 4, "W");
    ext_begin(c, 5, "copy-data");
    str(c, "R");
    u64(c, 0);
    u64(c, 4096);
    str(c, "W");
    u64(c, 0);
    end(c);
    status(s, 5, 0);
    ext_begin(c, 6, "copy-data"); /* handles not known */
    str(c, "X");
    u64(c, 0);
    u64(c, 0);
    str(c, "Y");
    u64(c, 0);
    end(c);
    status(s, 6, 4);
    /* those that only read or flush: nothing */
    for (i = 0; i < sizeof(harmless) / sizeof(harmless[0]); i++) {
        ext_begin(c, id, harmless[i]);
        str(c, "/");
        end(c);
        begin(s, 201);
        u32(s, id++);
        end(s);
    }
    /* unknown ones by name, answered by STATUS or EXTENDED_REPLY */
    ext_begin(c, 7, "check-file-name");
    str(c, "/srv/x");
    end(c);
    status(s, 7, 8);
    ext_begin(c, 8, "vendor@example.com");
    end(c);
    begin(s, 201);
    u32(s, 8);
    str(s, "reply");
    end(s);
    memset(name, 'n', 300);
    name[300] = '\0';
    ext_begin(c, 9, name);
    end(c);
    status(s, 9, 8);
    handle_req(c, 4, 10, "R");
    status(s, 10, 0);
    handle_req(c, 4, 11, "W");
    status(s, 11, 0);
    memset(name, 'n', JG_AUDIT_SFTP_NAME_MAX);
    name[JG_AUDIT_SFTP_NAME_MAX] = '\0';
    expect = jg_xasprintf(
        "sftp.symlink {\"path\":\"/srv/link\",\"to\":\"../secret\","
        "\"status\":\"ok\"}\n"
        "sftp.link {\"path\":\"/srv/pw\",\"to\":\"/etc/passwd\","
        "\"status\":\"permission_denied\"}\n"
        "sftp.open {\"path\":\"/srv/src\",\"flags\":\"read\","
        "\"status\":\"ok\"}\n"
        "sftp.open {\"path\":\"/srv/dst\",\"flags\":\"write,creat\","
        "\"status\":\"ok\"}\n"
        "sftp.copy {\"path\":\"/srv/src\",\"to\":\"/srv/dst\","
        "\"length\":4096,\"status\":\"ok\"}\n"
        "sftp.copy {\"path\":null,\"to\":null,\"length\":0,"
        "\"status\":\"failure\"}\n"
        "sftp.extended {\"request\":\"check-file-name\","
        "\"status\":\"op_unsupported\"}\n"
        "sftp.extended {\"request\":\"vendor@example.com\","
        "\"status\":\"ok\"}\n"
        "sftp.extended {\"request\":\"%s\",\"truncated\":true,"
        "\"status\":\"op_unsupported\"}\n"
        "sftp.close {\"path\":\"/srv/src\",\"bytes_read\":0,"
        "\"bytes_written\":0,\"status\":\"ok\"}\n"
        "sftp.close {\"path\":\"/srv/dst\",\"bytes_read\":0,"
        "\"bytes_written\":0,\"status\":\"ok\"}\n",
        name);
    run_all_chunkings(&sc, expect);
    free(expect);
    sc_free(&sc);

    /* Unanswered at the end, like any other request. */
    init(c, s);
    ext_begin(c, 1, "hardlink@openssh.com");
    str(c, "/a");
    str(c, "/b");
    end(c);
    t = run(&sc, 0, true, NULL);
    assert_string_equal(t, "sftp.link {\"path\":\"/b\",\"to\":\"/a\","
                           "\"status\":\"no_reply\"}\n");
    free(t);
    sc_free(&sc);

    /* A link whose second path runs past the packet stops parsing. */
    init(c, s);
    begin(c, 20);
    u32(c, 1);
    str(c, "/t");
    u32(c, 500);
    end(c);
    t = run(&sc, 0, true, NULL);
    assert_string_equal(t, "sftp.error client packet 2: SSH_FXP_SYMLINK: a "
                           "field runs past the end of the 15-byte packet\n");
    free(t);
    sc_free(&sc);
}

/* The reason of the failure stays readable for whoever ends the channel. */
static void
test_error_text_is_kept(void **state)
{
    struct jg_audit_sftp *p = jg_audit_sftp_new(NULL, NULL);
    static const uint8_t bad[] = {0, 0, 0, 5, 13, 0, 0, 0, 1};

    assert_null(jg_audit_sftp_error(p));
    jg_audit_sftp_feed(p, true, bad, sizeof(bad));
    assert_true(jg_audit_sftp_failed(p));
    assert_string_equal(jg_audit_sftp_error(p), "client packet 1: type 13 "
                        "where SSH_FXP_INIT must come first");
    jg_audit_sftp_free(p);
    assert_null(jg_audit_sftp_error(NULL));
}

static void
test_text_helpers(void **state)
{
    static const struct {
        uint32_t flags;
        const char *text;
    } f[] = {
        {0, "none"},
        {0x3f, "read,write,append,creat,trunc,excl"},
        {0x1 | 0x40, "read,0x40"},
        {0x80000000u, "0x80000000"},
    };
    static const struct {
        int32_t status;
        const char *text;
    } st[] = {
        {0, "ok"}, {1, "eof"}, {2, "no_such_file"}, {3, "permission_denied"},
        {4, "failure"}, {5, "bad_message"}, {6, "no_connection"},
        {7, "connection_lost"}, {8, "op_unsupported"}, {9, "status_9"},
        {JG_AUDIT_SFTP_ST_NO_REPLY, "no_reply"},
        {JG_AUDIT_SFTP_ST_UNCLOSED, "unclosed"},
        {JG_AUDIT_SFTP_ST_UNKNOWN, "unknown"},
    };
    char buf[64];
    size_t i;

    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        jg_audit_sftp_flags_text(f[i].flags, buf, sizeof(buf));
        assert_string_equal(buf, f[i].text);
    }
    jg_audit_sftp_flags_text(0x3f, buf, 10); /* cut, still terminated */
    assert_true(strlen(buf) < 10);
    for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        jg_audit_sftp_status_text(st[i].status, buf, sizeof(buf));
        assert_string_equal(buf, st[i].text);
    }
    assert_string_equal(jg_audit_sftp_type(JG_AUDIT_SFTP_OPEN), "sftp.open");
    assert_string_equal(jg_audit_sftp_type(JG_AUDIT_SFTP_ERROR), "sftp.error");
    assert_string_equal(jg_audit_sftp_type(JG_AUDIT_SFTP_SYMLINK),
                        "sftp.symlink");
    assert_string_equal(jg_audit_sftp_type(JG_AUDIT_SFTP_LINK), "sftp.link");
    assert_string_equal(jg_audit_sftp_type(JG_AUDIT_SFTP_COPY), "sftp.copy");
    assert_string_equal(jg_audit_sftp_type(JG_AUDIT_SFTP_EXTENDED),
                        "sftp.extended");
    assert_null(jg_audit_sftp_type(0));
    assert_null(jg_audit_sftp_type(JG_AUDIT_SFTP_KIND_MAX));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_packet_type),
        cmocka_unit_test(test_any_chunking_gives_the_same_events),
        cmocka_unit_test(test_bad_lengths_stop_parsing_once),
        cmocka_unit_test(test_strings_past_the_packet_and_protocol_errors),
        cmocka_unit_test(test_truncated_stream_flushes_at_the_end),
        cmocka_unit_test(test_tables_are_bounded),
        cmocka_unit_test(test_long_paths_and_big_packets),
        cmocka_unit_test(test_rename_with_cut_second_path),
        cmocka_unit_test(test_paths_become_valid_utf8),
        cmocka_unit_test(test_a_second_init_is_followed),
        cmocka_unit_test(test_links_copies_and_extended_requests),
        cmocka_unit_test(test_error_text_is_kept),
        cmocka_unit_test(test_text_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
