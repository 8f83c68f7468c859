/* SPDX-License-Identifier: Apache-2.0 */
/* audit/mysql.c - a streaming parser of the MySQL protocol's command phase
 * for the query audit: frames both directions of a connection fed in
 * arbitrary chunks (joining the parts of packets of over 16 MiB), keeps
 * only packet heads, pairs commands with the server's answers in order
 * and reports statements with their outcome (audit.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"

/* Commands (the first byte of a client packet). */
#define COM_QUIT 0x01
#define COM_INIT_DB 0x02
#define COM_QUERY 0x03
#define COM_FIELD_LIST 0x04
#define COM_STATISTICS 0x09
#define COM_PROCESS_KILL 0x0c
#define COM_PING 0x0e
#define COM_CHANGE_USER 0x11
#define COM_STMT_PREPARE 0x16
#define COM_STMT_EXECUTE 0x17
#define COM_STMT_SEND_LONG_DATA 0x18
#define COM_STMT_CLOSE 0x19
#define COM_STMT_RESET 0x1a
#define COM_SET_OPTION 0x1b
#define COM_STMT_FETCH 0x1c
#define COM_RESET_CONNECTION 0x1f

#define SERVER_MORE_RESULTS_EXISTS 0x0008u
#define SERVER_STATUS_CURSOR_EXISTS 0x0040u

#define PART_MAX 0xffffffu        /* a payload this long continues */
#define SERVER_KEEP 1024u         /* of a server packet: OK, ERR, counts */
#define CLIENT_KEEP (JG_AUDIT_MYSQL_TEXT_MAX + 1u)

/* How the answer to a command is read. */
enum answer {
    ANS_RESULT = 1,      /* OK, ERR, or result sets (QUERY, EXECUTE) */
    ANS_OK,          /* OK or ERR (INIT_DB, PING, KILL, RESET...) */
    ANS_OK_EOF,      /* OK, EOF or ERR (SET_OPTION) */
    ANS_FIELDS,      /* column definitions to EOF, or ERR (FIELD_LIST) */
    ANS_STRING,      /* one packet of text (STATISTICS) */
    ANS_PREPARE,     /* prepare OK and its definitions, or ERR */
    ANS_ROWS         /* rows to EOF, or ERR (STMT_FETCH) */
};

/* Where in an answer the server is. */
enum stage {
    ST_FIRST,        /* its first packet */
    ST_COLDEFS,      /* column definitions left: n */
    ST_COLEOF,       /* the EOF after them (without DEPRECATE_EOF) */
    ST_ROWS,         /* rows, to EOF / OK / ERR */
    ST_PARAMDEFS,    /* prepare: parameter definitions left: n */
    ST_PARAMEOF,     /* prepare: the EOF after them */
    ST_PREPCOLS,     /* prepare: column definitions left: n */
    ST_PREPCOLEOF    /* prepare: the EOF after them */
};

/* One prepared statement. */
struct stmt {
    bool used;
    uint32_t id;
    uint16_t n_params;
    uint8_t *types;          /* 2 * n_params + 1 bytes (audit.h) */
    uint8_t *long_data;      /* a bit per parameter sent as long data */
    struct jg_audit_mysql_long *longs; /* what the first params sent */
    char *text;
    bool truncated;
    uint64_t age;
};

/* One command waiting for (or reading) its answer. */
struct cmd {
    enum jg_audit_mysql_kind kind; /* 0: not reported */
    enum answer ans;
    char *text;
    bool truncated;
    uint32_t stmt_id;
    struct jg_audit_mysql_param *params; /* JG_AUDIT_MYSQL_PARAMS, or NULL */
    size_t n_params;
    bool params_truncated;
    uint16_t prep_params;    /* PREPARE: placeholders the server counted */
    uint64_t t0;
    uint8_t seq0;            /* the sequence id the answer starts with */
    /* The answer so far. */
    enum stage stage;
    uint64_t left;           /* definitions left in this stage */
    uint64_t rows, affected, insert_id;
    uint32_t warnings;
    bool failed;
    uint16_t err_code;
    char sqlstate[6];
    char *err_msg;
};

/* One direction's packet framing. */
struct framer {
    uint8_t hdr[4];
    size_t hdr_have;
    uint32_t part_left;      /* payload bytes left of this physical part */
    bool more;               /* this part is PART_MAX long: another follows */
    bool in_packet;          /* between a logical packet's first and last */
    uint8_t seq;             /* of the last part */
    uint8_t first_seq;       /* of the logical packet's first part */
    uint64_t t_start;        /* when its first byte came */
    uint64_t total;          /* logical payload bytes so far */
    uint8_t *keep;
    size_t keep_cap, kept;
};

struct jg_audit_mysql {
    uint32_t caps;
    jg_audit_mysql_cb cb;
    void *arg;
    struct framer c, s;      /* client's and server's */
    bool server_seq_set;     /* the answer's next sequence id is known */
    uint8_t server_seq;      /* the next one the server must use */
    struct cmd pend[JG_AUDIT_MYSQL_MAX_PENDING];
    size_t head, count;      /* ring of pending commands */
    struct stmt stmts[JG_AUDIT_MYSQL_MAX_STMTS];
    uint64_t age;
    uint64_t now;            /* the current feed's clock */
    bool dead, finished, quit;
    char *error;
    struct jg_audit_mysql_stats stats;
};

static void JG_PRINTF(2, 3)
fail(struct jg_audit_mysql *p, const char *fmt, ...)
{
    struct jg_audit_mysql_event ev = {.kind = JG_AUDIT_MYSQL_ERROR};
    char buf[256];
    va_list ap;

    if (p->dead)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    p->dead = true;
    p->error = jg_audit_utf8_clean(buf, strlen(buf));
    ev.error = p->error != NULL ? p->error : "out of memory";
    ev.status = JG_AUDIT_MYSQL_ST_UNKNOWN;
    p->cb(&ev, p->arg);
}

/* ---- pending commands and statements ------------------------------------ */

static void
cmd_clear(struct cmd *c)
{
    free(c->text);
    free(c->err_msg);
    if (c->params != NULL)
        jg_audit_mysql_params_free(c->params, c->n_params);
    free(c->params);
    memset(c, 0, sizeof(*c));
}

static struct stmt *
stmt_find(struct jg_audit_mysql *p, uint32_t id)
{
    for (size_t i = 0; i < JG_AUDIT_MYSQL_MAX_STMTS; i++)
        if (p->stmts[i].used && p->stmts[i].id == id)
            return &p->stmts[i];
    return NULL;
}

static void
long_data_drop(struct stmt *st)
{
    free(st->long_data);
    st->long_data = NULL;
    free(st->longs);
    st->longs = NULL;
}

/* A COM_STMT_SEND_LONG_DATA part for parameter i: data (kept bytes of a
 * part of total bytes) goes after what came before; false when out of
 * memory. */
static bool
long_data_add(struct stmt *st, uint16_t i, const uint8_t *data, size_t kept,
              uint64_t total)
{
    size_t shown = st->n_params < JG_AUDIT_MYSQL_PARAMS ? st->n_params
                                                       : JG_AUDIT_MYSQL_PARAMS;
    struct jg_audit_mysql_long *l;
    size_t room, n;

    if (st->long_data == NULL &&
        (st->long_data = calloc(((size_t)st->n_params + 7) / 8, 1)) == NULL)
        return false;
    st->long_data[i / 8] |= (uint8_t)(1u << (i % 8));
    if (i >= shown)
        return true;
    if (st->longs == NULL &&
        (st->longs = calloc(shown, sizeof(*st->longs))) == NULL)
        return false;
    l = &st->longs[i];
    room = sizeof(l->head) - l->kept;
    n = kept < room ? kept : room;
    memcpy(l->head + l->kept, data, n);
    l->kept += n;
    if (total > n)
        l->cut = true;
    return true;
}

static void
stmt_drop(struct stmt *st)
{
    free(st->types);
    long_data_drop(st);
    free(st->text);
    memset(st, 0, sizeof(*st));
}

/* Reports a finished (or abandoned) command. */
static void
report(struct jg_audit_mysql *p, struct cmd *c, enum jg_audit_mysql_status st)
{
    struct jg_audit_mysql_event ev = {0};

    if (c->failed)
        p->stats.errors++;
    p->stats.rows += c->rows;
    if (c->kind == 0)
        return;
    p->stats.statements++;
    ev.kind = c->kind;
    ev.text = c->text != NULL ? c->text : "";
    ev.truncated = c->truncated;
    ev.stmt_id = c->stmt_id;
    ev.params = c->params;
    ev.n_params = c->kind == JG_AUDIT_MYSQL_PREPARE ? c->prep_params
                                                     : c->n_params;
    ev.params_truncated = c->params_truncated;
    ev.status = c->failed ? JG_AUDIT_MYSQL_ST_ERROR : st;
    ev.rows = c->rows;
    ev.affected = c->affected;
    ev.insert_id = c->insert_id;
    ev.warnings = c->warnings;
    ev.err_code = c->err_code;
    ev.sqlstate = c->sqlstate;
    ev.err_msg = c->err_msg != NULL ? c->err_msg : "";
    ev.duration_us = p->now >= c->t0 ? p->now - c->t0 : 0;
    p->cb(&ev, p->arg);
}

/* The command at the head is answered: report it, drop it. */
static void
pop(struct jg_audit_mysql *p)
{
    struct cmd *c = &p->pend[p->head];

    report(p, c, JG_AUDIT_MYSQL_ST_OK);
    cmd_clear(c);
    p->head = (p->head + 1) % JG_AUDIT_MYSQL_MAX_PENDING;
    p->count--;
    p->server_seq_set = false;
}

/* Text of a kept client packet after its command byte. */
static char *
text_of(const uint8_t *k, size_t kept, uint64_t total, bool *truncated)
{
    size_t n = kept > 1 ? kept - 1 : 0;

    if (n > JG_AUDIT_MYSQL_TEXT_MAX)
        n = JG_AUDIT_MYSQL_TEXT_MAX;
    *truncated = total - 1 > n;
    return jg_audit_utf8_clean((const char *)k + 1, n);
}

/* ---- the client's packets ------------------------------------------------ */

static void
client_packet(struct jg_audit_mysql *p, const uint8_t *k, size_t kept,
              uint64_t total, uint8_t seq, uint8_t last_seq, uint64_t t0)
{
    struct cmd c = {0};
    struct jg_my_rd r = {k, kept, false};
    char why[200];

    p->stats.packets_in++;
    p->stats.commands++;
    if (seq != 0) {
        fail(p, "the client sent a command with sequence id %u, not 0", seq);
        return;
    }
    if (total == 0) {
        fail(p, "the client sent an empty packet");
        return;
    }
    if (p->quit) {
        fail(p, "the client sent a command after COM_QUIT");
        return;
    }
    c.t0 = t0;
    c.seq0 = (uint8_t)(last_seq + 1);
    c.ans = ANS_OK;
    switch (k[0]) {
    case COM_QUIT:
        p->quit = true;
        return;
    case COM_QUERY:
        c.kind = JG_AUDIT_MYSQL_QUERY;
        c.ans = ANS_RESULT;
        c.text = text_of(k, kept, total, &c.truncated);
        break;
    case COM_INIT_DB:
        c.kind = JG_AUDIT_MYSQL_INIT_DB;
        c.text = text_of(k, kept, total, &c.truncated);
        break;
    case COM_STMT_PREPARE:
        c.kind = JG_AUDIT_MYSQL_PREPARE;
        c.ans = ANS_PREPARE;
        c.text = text_of(k, kept, total, &c.truncated);
        break;
    case COM_PROCESS_KILL: {
        uint32_t id;
        char t[32];

        jg_my_le(&r, 1);
        id = (uint32_t)jg_my_le(&r, 4);
        if (r.bad) {
            fail(p, "a COM_PROCESS_KILL shorter than 5 bytes");
            return;
        }
        snprintf(t, sizeof(t), "KILL %u", id);
        c.kind = JG_AUDIT_MYSQL_KILL;
        c.text = jg_audit_utf8_clean(t, strlen(t));
        break;
    }
    case COM_STMT_EXECUTE:
    case COM_STMT_SEND_LONG_DATA:
    case COM_STMT_CLOSE:
    case COM_STMT_RESET:
    case COM_STMT_FETCH: {
        struct stmt *st;
        uint8_t com = k[0];

        jg_my_le(&r, 1);
        c.stmt_id = (uint32_t)jg_my_le(&r, 4);
        if (r.bad) {
            fail(p, "a statement command (0x%02x) shorter than 5 bytes", com);
            return;
        }
        st = stmt_find(p, c.stmt_id);
        if (com == COM_STMT_CLOSE) {
            if (st != NULL)
                stmt_drop(st);
            return;
        }
        if (com == COM_STMT_SEND_LONG_DATA) {
            /* Its data is the parameter's value at the next EXECUTE. */
            uint16_t i = (uint16_t)jg_my_le(&r, 2);

            if (r.bad) {
                fail(p, "a COM_STMT_SEND_LONG_DATA shorter than 7 bytes");
                return;
            }
            if (st != NULL && i < st->n_params &&
                !long_data_add(st, i, k + 7, kept > 7 ? kept - 7 : 0,
                               total - 7)) {
                fail(p, "out of memory");
                return;
            }
            return;
        }
        if (com == COM_STMT_RESET) {
            if (st != NULL)
                long_data_drop(st);
            break;
        }
        if (com == COM_STMT_FETCH) {
            c.ans = ANS_ROWS;
            c.stage = ST_ROWS;
            break;
        }
        if (st == NULL) {
            fail(p, "COM_STMT_EXECUTE of statement %u, which was never "
                 "prepared", c.stmt_id);
            return;
        }
        c.kind = JG_AUDIT_MYSQL_EXECUTE;
        c.ans = ANS_RESULT;
        c.text = st->text != NULL ? strdup(st->text) : NULL;
        c.truncated = st->truncated;
        if (st->n_params > 0 && st->types == NULL)
            st->types = calloc(2u * st->n_params + 1, 1);
        if (st->n_params > 0)
            c.params = calloc(JG_AUDIT_MYSQL_PARAMS, sizeof(*c.params));
        if (st->n_params > 0 && (st->types == NULL || c.params == NULL)) {
            cmd_clear(&c);
            fail(p, "out of memory");
            return;
        }
        if (jg_audit_mysql_params(k, kept, total, st->n_params, st->types,
                                  st->long_data, st->longs, c.params,
                                  JG_AUDIT_MYSQL_PARAMS,
                                  &c.n_params, &c.params_truncated, why,
                                  sizeof(why)) != 0) {
            uint32_t id = c.stmt_id;

            cmd_clear(&c);
            fail(p, "COM_STMT_EXECUTE of statement %u: %s", id, why);
            return;
        }
        long_data_drop(st);
        break;
    }
    case COM_PING:
    case COM_RESET_CONNECTION:
        break;
    case COM_SET_OPTION:
        c.ans = ANS_OK_EOF;
        break;
    case COM_FIELD_LIST:
        c.ans = ANS_FIELDS;
        break;
    case COM_STATISTICS:
        c.ans = ANS_STRING;
        break;
    case COM_CHANGE_USER:
        fail(p, "COM_CHANGE_USER is refused: it would sign in again past "
             "the gateway");
        return;
    default:
        fail(p, "the client sent command 0x%02x, which the gateway does not "
             "relay", k[0]);
        return;
    }
    if (p->count == JG_AUDIT_MYSQL_MAX_PENDING) {
        cmd_clear(&c);
        fail(p, "more than %u commands wait for their answer",
             JG_AUDIT_MYSQL_MAX_PENDING);
        return;
    }
    p->pend[(p->head + p->count) % JG_AUDIT_MYSQL_MAX_PENDING] = c;
    p->count++;
}

/* ---- the server's packets ------------------------------------------------ */

/* An ERR packet into c; false when malformed. */
static bool
read_err(struct jg_audit_mysql *p, struct cmd *c, const uint8_t *k,
         size_t kept)
{
    struct jg_my_rd r = {k + 1, kept - 1, false};

    c->err_code = (uint16_t)jg_my_le(&r, 2);
    if (r.bad)
        return false;
    if (r.n >= 6 && r.p[0] == '#') {
        memcpy(c->sqlstate, r.p + 1, 5);
        for (size_t i = 0; i < 5; i++)
            if (c->sqlstate[i] < 0x20 || c->sqlstate[i] > 0x7e)
                c->sqlstate[i] = '?';
        r.p += 6;
        r.n -= 6;
    }
    free(c->err_msg);
    c->err_msg = jg_audit_utf8_clean((const char *)r.p, r.n);
    c->failed = true;
    (void)p;
    return true;
}

/* An OK packet (or, with DEPRECATE_EOF, the OK that ends rows, whose
 * first byte is 0xfe); adds its counts to c; *status is its status. */
static bool
read_ok(struct cmd *c, const uint8_t *k, size_t kept, uint16_t *status)
{
    struct jg_my_rd r = {k + 1, kept - 1, false};
    uint64_t aff = jg_my_lenenc(&r), id = jg_my_lenenc(&r);

    *status = (uint16_t)jg_my_le(&r, 2);
    c->warnings += (uint32_t)jg_my_le(&r, 2);
    if (r.bad)
        return false;
    c->affected += aff;
    if (id != 0)
        c->insert_id = id;
    return true;
}

/* An EOF packet (0xfe, payload under 9 bytes). */
static bool
read_eof(struct cmd *c, const uint8_t *k, size_t kept, uint16_t *status)
{
    struct jg_my_rd r = {k + 1, kept - 1, false};

    c->warnings += (uint32_t)jg_my_le(&r, 2);
    *status = (uint16_t)jg_my_le(&r, 2);
    return !r.bad;
}

static bool
is_eof(const uint8_t *k, uint64_t total)
{
    return k[0] == 0xfe && total < 9;
}

/* The packet that ends rows: EOF, or with DEPRECATE_EOF an OK whose first
 * byte is 0xfe (a row starting 0xfe is at least 9 bytes: an 8-byte
 * length follows; the OK is shorter than a whole part). */
static bool
ends_rows(const struct jg_audit_mysql *p, const uint8_t *k, uint64_t total)
{
    if (k[0] != 0xfe)
        return false;
    if (p->caps & JG_MYSQL_CLIENT_DEPRECATE_EOF)
        return total < PART_MAX;
    return total < 9;
}

/* The end of a result set or an OK: another may follow. */
static void
end_result(struct jg_audit_mysql *p, struct cmd *c, uint16_t status)
{
    if (status & SERVER_MORE_RESULTS_EXISTS) {
        c->stage = ST_FIRST;
        return;
    }
    pop(p);
}

static void
server_packet(struct jg_audit_mysql *p, const uint8_t *k, size_t kept,
              uint64_t total)
{
    struct cmd *c;
    uint16_t status = 0;
    struct jg_my_rd r;

    p->stats.packets_out++;
    if (p->count == 0) {
        fail(p, "the server sent a packet that answers no command");
        return;
    }
    c = &p->pend[p->head];
    if (total == 0) {
        fail(p, "the server sent an empty packet");
        return;
    }
    if (k[0] == 0xff && (c->stage == ST_FIRST || c->stage == ST_ROWS ||
                         c->ans == ANS_FIELDS)) {
        if (kept < 3 || !read_err(p, c, k, kept)) {
            fail(p, "a malformed ERR packet");
            return;
        }
        pop(p);
        return;
    }
    switch (c->stage) {
    case ST_FIRST:
        switch (c->ans) {
        case ANS_STRING:
            pop(p);
            return;
        case ANS_FIELDS:
            if (is_eof(k, total)) {
                pop(p);
                return;
            }
            return;     /* a column definition */
        case ANS_ROWS:
            break;
        case ANS_PREPARE:
            r = (struct jg_my_rd){k, kept, false};
            if (k[0] != 0x00 || total < 12) {
                fail(p, "a malformed answer to COM_STMT_PREPARE");
                return;
            }
            jg_my_le(&r, 1);
            c->stmt_id = (uint32_t)jg_my_le(&r, 4);
            c->left = jg_my_le(&r, 2);            /* columns */
            c->prep_params = (uint16_t)jg_my_le(&r, 2);
            jg_my_le(&r, 1);
            c->warnings = (uint32_t)jg_my_le(&r, 2);
            if (r.bad) {
                fail(p, "a malformed answer to COM_STMT_PREPARE");
                return;
            }
            {
                struct stmt *st = stmt_find(p, c->stmt_id), *old = NULL;

                if (st != NULL)
                    stmt_drop(st);
                for (size_t i = 0; i < JG_AUDIT_MYSQL_MAX_STMTS && st == NULL;
                     i++)
                    if (!p->stmts[i].used)
                        st = &p->stmts[i];
                if (st == NULL) {
                    /* The table is full: the oldest goes; an EXECUTE of it
                     * will then end the channel. */
                    for (size_t i = 0; i < JG_AUDIT_MYSQL_MAX_STMTS; i++)
                        if (old == NULL || p->stmts[i].age < old->age)
                            old = &p->stmts[i];
                    stmt_drop(old);
                    st = old;
                }
                st->used = true;
                st->id = c->stmt_id;
                st->n_params = c->prep_params;
                st->text = c->text != NULL ? strdup(c->text) : NULL;
                st->truncated = c->truncated;
                st->age = ++p->age;
            }
            if (c->prep_params > 0) {
                c->stage = ST_PARAMDEFS;
                c->left = c->prep_params | (c->left << 16);
            } else if (c->left > 0) {
                c->stage = ST_PREPCOLS;
            } else {
                pop(p);
            }
            return;
        default:
            if (k[0] == 0x00 && total >= 7) {
                if (!read_ok(c, k, kept, &status)) {
                    fail(p, "a malformed OK packet");
                    return;
                }
                end_result(p, c, status);
                return;
            }
            if (c->ans == ANS_OK_EOF && is_eof(k, total)) {
                if (!read_eof(c, k, kept, &status)) {
                    fail(p, "a malformed EOF packet");
                    return;
                }
                pop(p);
                return;
            }
            if (c->ans != ANS_RESULT) {
                fail(p, "an answer of type 0x%02x where OK or ERR belongs",
                     k[0]);
                return;
            }
            if (k[0] == 0xfb) {
                fail(p, "the server asked for a LOCAL INFILE, which the "
                     "gateway does not relay");
                return;
            }
            r = (struct jg_my_rd){k, kept, false};
            c->left = jg_my_lenenc(&r);
            if (r.bad || r.n != 0 || c->left == 0 || c->left > 4096) {
                fail(p, "a malformed result set header");
                return;
            }
            c->stage = ST_COLDEFS;
            return;
        }
        /* ANS_ROWS: the first packet is already a row or the end. */
        c->stage = ST_ROWS;
        /* fall through */
    case ST_ROWS:
        if (ends_rows(p, k, total)) {
            bool ok = k[0] == 0xfe && total >= 7 &&
                              (p->caps & JG_MYSQL_CLIENT_DEPRECATE_EOF)
                          ? read_ok(c, k, kept, &status)
                          : read_eof(c, k, kept, &status);
            if (!ok) {
                fail(p, "a malformed packet ending a result set");
                return;
            }
            end_result(p, c, status);
            return;
        }
        c->rows++;
        return;
    case ST_COLDEFS:
        if (--c->left > 0)
            return;
        if (p->caps & JG_MYSQL_CLIENT_DEPRECATE_EOF) {
            /* Rows, or at once the end: with SERVER_STATUS_CURSOR_EXISTS
             * when EXECUTE opened a cursor (rows come with FETCH). */
            c->stage = ST_ROWS;
        } else {
            c->stage = ST_COLEOF;
        }
        return;
    case ST_COLEOF:
        if (!is_eof(k, total) || !read_eof(c, k, kept, &status)) {
            fail(p, "no EOF packet after the column definitions");
            return;
        }
        if (status & SERVER_STATUS_CURSOR_EXISTS)
            pop(p);
        else
            c->stage = ST_ROWS;
        return;
    case ST_PARAMDEFS:
        if (((c->left - 1) & 0xffff) > 0) {
            c->left--;
            return;
        }
        c->left >>= 16;     /* the columns' count */
        if (!(p->caps & JG_MYSQL_CLIENT_DEPRECATE_EOF)) {
            c->stage = ST_PARAMEOF;
            return;
        }
        /* fall through */
    case ST_PARAMEOF:
        if (c->stage == ST_PARAMEOF &&
            (!is_eof(k, total) || !read_eof(c, k, kept, &status))) {
            fail(p, "no EOF packet after the parameter definitions");
            return;
        }
        if (c->left > 0)
            c->stage = ST_PREPCOLS;
        else
            pop(p);
        return;
    case ST_PREPCOLS:
        if (--c->left > 0)
            return;
        if (p->caps & JG_MYSQL_CLIENT_DEPRECATE_EOF)
            pop(p);
        else
            c->stage = ST_PREPCOLEOF;
        return;
    case ST_PREPCOLEOF:
        if (!is_eof(k, total) || !read_eof(c, k, kept, &status)) {
            fail(p, "no EOF packet after the column definitions");
            return;
        }
        pop(p);
        return;
    }
}

/* ---- framing --------------------------------------------------------------- */

static void
deliver(struct jg_audit_mysql *p, bool from_client, struct framer *f)
{
    uint8_t none = 0;
    const uint8_t *k = f->kept > 0 ? f->keep : &none;

    if (from_client)
        client_packet(p, k, f->kept, f->total, f->first_seq, f->seq,
                      f->t_start);
    else
        server_packet(p, k, f->kept, f->total);
    f->in_packet = false;
    f->total = 0;
    f->kept = 0;
}

/* A part's header is complete: check its sequence id. */
static bool
part_start(struct jg_audit_mysql *p, bool from_client, struct framer *f)
{
    uint32_t len = (uint32_t)f->hdr[0] | (uint32_t)f->hdr[1] << 8 |
                   (uint32_t)f->hdr[2] << 16;
    uint8_t seq = f->hdr[3];

    if (f->in_packet) {
        if (seq != (uint8_t)(f->seq + 1)) {
            fail(p, "the %s sent part %u of a long packet after part %u",
                 from_client ? "client" : "server", seq, f->seq);
            return false;
        }
    } else if (!from_client) {
        uint8_t want = p->server_seq_set ? p->server_seq
                       : p->count > 0    ? p->pend[p->head].seq0
                                         : 1;

        /* Known at its header: nothing of it passes. */
        if (p->count == 0) {
            fail(p, "the server sent a packet that answers no command");
            return false;
        }
        if (seq != want) {
            fail(p, "the server sent sequence id %u where %u belongs", seq,
                 want);
            return false;
        }
        f->first_seq = seq;
    } else {
        f->first_seq = seq;
    }
    f->seq = seq;
    if (!from_client) {
        p->server_seq = (uint8_t)(seq + 1);
        p->server_seq_set = true;
    }
    f->in_packet = true;
    f->part_left = len;
    f->more = len == PART_MAX;
    if (f->total + len > JG_AUDIT_MYSQL_MAX_PACKET) {
        fail(p, "the %s sent a packet of over %u bytes",
             from_client ? "client" : "server", JG_AUDIT_MYSQL_MAX_PACKET);
        return false;
    }
    return true;
}

void
jg_audit_mysql_feed(struct jg_audit_mysql *p, bool from_client,
                    const void *data, size_t len, uint64_t now_us)
{
    struct framer *f = from_client ? &p->c : &p->s;
    const uint8_t *d = data;

    if (p->dead || p->finished)
        return;
    while (len > 0 && !p->dead) {
        if (f->hdr_have < 4) {
            size_t k = 4 - f->hdr_have;

            if (k > len)
                k = len;
            if (!f->in_packet && f->hdr_have == 0)
                f->t_start = now_us;    /* a packet starts: its clock */
            memcpy(f->hdr + f->hdr_have, d, k);
            f->hdr_have += k;
            d += k;
            len -= k;
            if (f->hdr_have < 4)
                return;
            if (!part_start(p, from_client, f))
                return;
        } else {
            size_t k = f->part_left < len ? f->part_left : len;
            size_t room = f->keep_cap - f->kept;
            size_t take = k < room ? k : room;

            memcpy(f->keep + f->kept, d, take);
            f->kept += take;
            f->total += k;
            f->part_left -= (uint32_t)k;
            d += k;
            len -= k;
        }
        if (f->hdr_have == 4 && f->part_left == 0) {
            f->hdr_have = 0;
            if (!f->more) {
                p->now = now_us;
                deliver(p, from_client, f);
            }
        }
    }
}

struct jg_audit_mysql *
jg_audit_mysql_new(uint32_t caps, jg_audit_mysql_cb cb, void *arg)
{
    struct jg_audit_mysql *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->caps = caps;
    p->cb = cb;
    p->arg = arg;
    p->c.keep_cap = CLIENT_KEEP;
    p->s.keep_cap = SERVER_KEEP;
    p->c.keep = malloc(CLIENT_KEEP);
    p->s.keep = malloc(SERVER_KEEP);
    if (p->c.keep == NULL || p->s.keep == NULL) {
        jg_audit_mysql_free(p);
        return NULL;
    }
    if (!(caps & JG_MYSQL_CLIENT_PROTOCOL_41))
        fail(p, "the connection does not use the 4.1 protocol");
    return p;
}

void
jg_audit_mysql_finish(struct jg_audit_mysql *p)
{
    if (p->finished)
        return;
    p->finished = true;
    while (p->count > 0) {
        struct cmd *c = &p->pend[p->head];

        report(p, c, p->dead ? JG_AUDIT_MYSQL_ST_UNKNOWN
                             : JG_AUDIT_MYSQL_ST_NO_REPLY);
        cmd_clear(c);
        p->head = (p->head + 1) % JG_AUDIT_MYSQL_MAX_PENDING;
        p->count--;
    }
}

bool
jg_audit_mysql_failed(const struct jg_audit_mysql *p)
{
    return p->dead;
}

const char *
jg_audit_mysql_error(const struct jg_audit_mysql *p)
{
    return p->dead ? (p->error != NULL ? p->error : "out of memory") : NULL;
}

const struct jg_audit_mysql_stats *
jg_audit_mysql_stats(const struct jg_audit_mysql *p)
{
    return &p->stats;
}

void
jg_audit_mysql_free(struct jg_audit_mysql *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < JG_AUDIT_MYSQL_MAX_PENDING; i++)
        cmd_clear(&p->pend[i]);
    for (size_t i = 0; i < JG_AUDIT_MYSQL_MAX_STMTS; i++)
        stmt_drop(&p->stmts[i]);
    free(p->c.keep);
    free(p->s.keep);
    free(p->error);
    free(p);
}
