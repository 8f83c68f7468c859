/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/mysql.c - the MySQL-aware tunnel: on a forward to a
 * protocol: mysql target with auth, the worker is the server to the
 * client (its own greeting; the client's login names the database login
 * and needs no password) and the client to the database (TLS verified
 * against the CA bundle the monitor opens, the sign-in answered with the
 * responses the monitor makes), then relays the command phase through the
 * query audit's parser, which reports every statement to the monitor and
 * ends the channel when it cannot follow the stream. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "audit/audit.h"
#include "gateway/worker/internal.h"

#define MY_TIMEOUT_MS (JG_GW_CONNECT_TIMEOUT * 1000)
#define MY_PACKET_MAX (1u << 16)  /* of the connection phase */
#define CA_MAX (4u << 20)
#define PARAMS_SENT 40u           /* of an event, so that it fits a message */
#define PENDING_MAX 16u           /* events held before they are sent */

/* What the gateway lets the two sides agree on: no TLS inside the tunnel,
 * no compression, no LOCAL INFILE, no client attributes, no query
 * attributes or optional metadata (the parser does not read them). */
#define MY_CAPS (JG_MYSQL_CLIENT_LONG_PASSWORD | JG_MYSQL_CLIENT_FOUND_ROWS | \
                 JG_MYSQL_CLIENT_LONG_FLAG | JG_MYSQL_CLIENT_CONNECT_WITH_DB | \
                 JG_MYSQL_CLIENT_PROTOCOL_41 | JG_MYSQL_CLIENT_INTERACTIVE |  \
                 JG_MYSQL_CLIENT_TRANSACTIONS |                              \
                 JG_MYSQL_CLIENT_SECURE_CONNECTION |                         \
                 JG_MYSQL_CLIENT_MULTI_STATEMENTS |                          \
                 JG_MYSQL_CLIENT_MULTI_RESULTS |                             \
                 JG_MYSQL_CLIENT_PS_MULTI_RESULTS |                          \
                 JG_MYSQL_CLIENT_PLUGIN_AUTH |                               \
                 JG_MYSQL_CLIENT_PLUGIN_AUTH_LENENC |                        \
                 JG_MYSQL_CLIENT_DEPRECATE_EOF)

enum my_phase { MY_LOGIN = 1, MY_RELAY, MY_DONE };

struct jg_gw_mysql {
    enum my_phase phase;
    uint32_t grant;
    bool tls;
    char host[256];              /* the name or address to verify */
    SSL_CTX *ctx;
    SSL *ssl;
    struct jg_mysql_greeting g;  /* the database's */
    uint8_t nonce[JG_MYSQL_SCRAMBLE_LEN]; /* ours, to the client */
    uint32_t caps;               /* what both sides use */
    uint8_t login[MY_PACKET_MAX + 4];
    size_t login_len;
    struct jg_audit_mysql *audit;
    char db_login[JG_MYSQL_NAME_MAX];
    bool ended;
    /* statements parsed, sent to the monitor once the answer that ended
     * them is on its way to the client */
    struct jg_gw_msg *out[PENDING_MAX];
    size_t n_out;
};

/* ---- the database's socket, plain or TLS -------------------------------- */

static int
wait_fd(int fd, short ev, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = ev};
    int64_t left = deadline - jg_audit_now_us() / 1000;

    if (left <= 0)
        return -1;
    return poll(&p, 1, (int)left) > 0 ? 0 : -1;
}

/* Reads (or writes) exactly n bytes from (to) the database before the
 * deadline, through TLS once it is on. */
static bool
up_io(struct jg_gw_chan *ch, uint8_t *p, size_t n, int64_t deadline,
      bool wr)
{
    struct jg_gw_mysql *my = ch->my;

    while (n > 0) {
        ssize_t k;
        short wait = wr ? POLLOUT : POLLIN;

        if (my->ssl != NULL) {
            int c = n > INT32_MAX ? INT32_MAX : (int)n;
            int r = wr ? SSL_write(my->ssl, p, c) : SSL_read(my->ssl, p, c);
            int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(my->ssl, r);

            k = r;
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                wait = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
            else if (r <= 0)
                return false;
        } else {
            k = wr ? write(ch->fd, p, n) : read(ch->fd, p, n);
            if (k == 0 && !wr)
                return false;
            if (k < 0 && errno != EAGAIN && errno != EINTR)
                return false;
        }
        if (k <= 0) {
            if (wait_fd(ch->fd, wait, deadline) != 0)
                return false;
            continue;
        }
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* One packet of the connection phase from the database: its payload
 * (at most cap bytes) and sequence id. */
static bool
up_packet(struct jg_gw_chan *ch, uint8_t *p, size_t cap, size_t *n,
          uint8_t *seq, int64_t deadline)
{
    uint8_t h[4];
    size_t len;

    if (!up_io(ch, h, 4, deadline, false))
        return false;
    len = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
    if (len > cap)
        return false;
    *seq = h[3];
    *n = len;
    return up_io(ch, p, len, deadline, false);
}

static bool
up_send(struct jg_gw_chan *ch, uint8_t seq, const uint8_t *p, size_t n,
        int64_t deadline)
{
    uint8_t *f = jg_xmalloc(n + 4);
    bool ok;

    memcpy(f + 4, p, n);
    jg_mysql_frame(seq, f + 4, n, f);
    ok = up_io(ch, f, n + 4, deadline, true);
    explicit_bzero(f, n + 4);       /* it may hold a secret's answer */
    free(f);
    return ok;
}

/* ---- the client's side ------------------------------------------------------ */

/* A packet to the client, through the channel's buffer. */
static void
to_client(struct jg_gw_chan *ch, uint8_t seq, const uint8_t *p, size_t n)
{
    uint8_t h[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), seq};

    if (jg_gw_buf_reserve(&ch->u2c, n + 4)) {
        jg_gw_buf_put(&ch->u2c, h, 4);
        jg_gw_buf_put(&ch->u2c, p, n);
    }
}

/* Ends the tunnel: an ERR packet to the client with msg (when it still
 * waits for one), DB_END with why, and the channel's end after it. */
static void
fail(struct jg_gw_chan *ch, uint8_t seq, uint16_t code, const char *state,
     const char *msg, const char *why)
{
    struct jg_gw_mysql *my = ch->my;
    uint8_t buf[600];
    size_t n;

    if (seq != 0xff) {
        char *text = jg_xasprintf("jumpgate: %s", msg);
        n = jg_mysql_err_build(code, state, text, buf, sizeof(buf));
        to_client(ch, seq, buf, n);
        free(text);
    }
    jg_gw_wk_mysql_end(ch, why != NULL ? why : msg);
    my->phase = MY_DONE;
    ch->fd_eof = true;          /* nothing more from the database */
    if (!ch->fd_wr_shut) {
        shutdown(ch->fd, SHUT_RDWR);
        ch->fd_wr_shut = true;
    }
}

/* ---- statements to the monitor ---------------------------------------------- */

/* s cut to at most max bytes on a UTF-8 boundary, into a new string. */
static char *
cut(const char *s, size_t max, bool *cutp)
{
    size_t n = strlen(s);
    char *o;

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
        *cutp = true;
    }
    o = jg_xmalloc(n + 1);
    memcpy(o, s, n);
    o[n] = '\0';
    return o;
}

/* The statements held, to the monitor. */
static void
send_events(struct jg_gw_chan *ch)
{
    struct jg_gw_mysql *my = ch->my;

    for (size_t i = 0; i < my->n_out; i++) {
        if (!ch->w->monitor_gone)
            jg_gw_wk_send(ch->w, my->out[i]);
        free(my->out[i]);
    }
    my->n_out = 0;
}

static void
on_statement(const struct jg_audit_mysql_event *ev, void *arg)
{
    struct jg_gw_chan *ch = arg;
    struct jg_gw_msg *q;
    bool tcut = ev->truncated, pcut = ev->params_truncated;
    size_t np = ev->n_params;
    char *t;

    if (ev->kind == JG_AUDIT_MYSQL_ERROR || ch->w->monitor_gone)
        return;
    if (ev->kind != JG_AUDIT_MYSQL_EXECUTE)
        np = 0;
    if (np > PARAMS_SENT) {
        np = PARAMS_SENT;
        pcut = true;
    }
    q = jg_xmalloc(sizeof(*q));
    jg_gw_msg_init(q, JG_GW_REQ_DB_EVENT);
    jg_gw_msg_put_u32(q, ch->my->grant);
    jg_gw_msg_put_u8(q, (uint8_t)ev->kind);
    t = cut(ev->text, JG_GW_DB_TEXT_MAX, &tcut);
    jg_gw_msg_put_str(q, t);
    free(t);
    jg_gw_msg_put_u8(q, tcut);
    jg_gw_msg_put_u32(q, ev->stmt_id);
    jg_gw_msg_put_u32(q, (uint32_t)np);
    for (size_t i = 0; i < np; i++) {
        bool vcut = ev->params[i].truncated;
        const char *v = ev->params[i].value;

        jg_gw_msg_put_str(q, ev->params[i].type);
        jg_gw_msg_put_u8(q, v == NULL);
        t = cut(v != NULL ? v : "", JG_GW_DB_VALUE_MAX, &vcut);
        jg_gw_msg_put_str(q, t);
        free(t);
        jg_gw_msg_put_u8(q, vcut);
    }
    jg_gw_msg_put_u8(q, pcut);
    jg_gw_msg_put_u8(q, (uint8_t)ev->status);
    jg_gw_msg_put_u64(q, ev->rows);
    jg_gw_msg_put_u64(q, ev->affected);
    jg_gw_msg_put_u64(q, ev->insert_id);
    jg_gw_msg_put_u32(q, ev->warnings);
    jg_gw_msg_put_u32(q, ev->err_code);
    jg_gw_msg_put_str(q, ev->sqlstate != NULL ? ev->sqlstate : "");
    t = cut(ev->err_msg != NULL ? ev->err_msg : "", 500, &(bool){false});
    jg_gw_msg_put_str(q, t);
    free(t);
    jg_gw_msg_put_u64(q, ev->duration_us);
    if (ch->my->n_out == PENDING_MAX)
        send_events(ch);
    ch->my->out[ch->my->n_out++] = q;
}

/* ---- TLS to the database ------------------------------------------------------ */

/* The CA bundle from the monitor into a new TLS context; NULL with why. */
static SSL_CTX *
tls_context(struct jg_gw_chan *ch, char *why, size_t whyn)
{
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q)), *a = jg_xmalloc(sizeof(*a));
    SSL_CTX *ctx = NULL;
    X509_STORE *store;
    BIO *bio = NULL;
    char *pem = NULL;
    size_t n = 0;
    uint8_t ok = 0;
    int loaded = 0;
    X509 *x;

    jg_gw_msg_init(q, JG_GW_REQ_DB_CA);
    jg_gw_msg_put_u32(q, ch->my->grant);
    if (jg_gw_wk_call(ch->w, q, a, JG_GW_ANS | JG_GW_REQ_DB_CA) != 0 ||
        jg_gw_msg_get_u8(a, &ok) != 0 ||
        jg_gw_msg_get_str(a, why, whyn) != 0) {
        ch->w->monitor_gone = true;
        snprintf(why, whyn, "internal error");
        goto out;
    }
    if (!ok || a->fd < 0)
        goto out;
    pem = jg_xmalloc(CA_MAX + 1);
    for (;;) {
        ssize_t k = read(a->fd, pem + n, CA_MAX - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        n += (size_t)k;
        if (n == CA_MAX)
            break;
    }
    pem[n] = '\0';
    if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        (bio = BIO_new_mem_buf(pem, (int)n)) == NULL) {
        snprintf(why, whyn, "cannot set up TLS");
        goto bad;
    }
    store = SSL_CTX_get_cert_store(ctx);
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(store, x) == 1)
            loaded++;
        X509_free(x);
    }
    ERR_clear_error();
    if (loaded == 0) {
        snprintf(why, whyn, "the CA bundle of the target holds no certificate");
        goto bad;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* A write retried after WANT_WRITE may come from a buffer that grew
     * (and moved) in between; the bytes are the same. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    goto out;
bad:
    SSL_CTX_free(ctx);
    ctx = NULL;
out:
    BIO_free(bio);
    free(pem);
    if (a->fd >= 0)
        close(a->fd);
    free(q);
    free(a);
    return ctx;
}

/* The TLS handshake with the database, verifying its certificate names
 * my->host; false with why. */
static bool
tls_start(struct jg_gw_chan *ch, int64_t deadline, char *why, size_t whyn)
{
    struct jg_gw_mysql *my = ch->my;
    X509_VERIFY_PARAM *vp;
    long v;

    if ((my->ctx = tls_context(ch, why, whyn)) == NULL)
        return false;
    if ((my->ssl = SSL_new(my->ctx)) == NULL ||
        SSL_set_fd(my->ssl, ch->fd) != 1) {
        snprintf(why, whyn, "cannot set up TLS");
        return false;
    }
    vp = SSL_get0_param(my->ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(vp, my->host) != 1) {
        ERR_clear_error();
        if (SSL_set_tlsext_host_name(my->ssl, my->host) != 1 ||
            SSL_set1_host(my->ssl, my->host) != 1) {
            snprintf(why, whyn, "cannot check the database's certificate "
                     "against the name %s", my->host);
            SSL_free(my->ssl);
            my->ssl = NULL;
            return false;
        }
    }
    for (;;) {
        int r = SSL_connect(my->ssl), e;

        if (r == 1)
            return true;
        e = SSL_get_error(my->ssl, r);
        if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
            wait_fd(ch->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                    deadline) == 0)
            continue;
        break;
    }
    if ((v = SSL_get_verify_result(my->ssl)) != X509_V_OK)
        snprintf(why, whyn, "the database's certificate was refused: %s",
                 X509_verify_cert_error_string(v));
    else
        snprintf(why, whyn, "the TLS handshake with the database failed");
    SSL_free(my->ssl);
    my->ssl = NULL;
    return false;
}

/* ---- signing in ------------------------------------------------------------------ */

/* The monitor's auth response for plugin and scramble; false with why. */
static bool
auth_response(struct jg_gw_chan *ch, const char *login, const char *schema,
              char *plugin, size_t pluginn, const uint8_t *scramble,
              uint8_t *resp, size_t *rlen, char *why, size_t whyn)
{
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q)), *a = jg_xmalloc(sizeof(*a));
    const uint8_t *r = NULL;
    uint8_t ok = 0;
    size_t n = 0;
    bool res = false;

    jg_gw_msg_init(q, JG_GW_REQ_DB_AUTH);
    jg_gw_msg_put_u32(q, ch->my->grant);
    jg_gw_msg_put_str(q, login);
    jg_gw_msg_put_str(q, schema);
    jg_gw_msg_put_str(q, plugin);
    jg_gw_msg_put_bytes(q, scramble, JG_MYSQL_SCRAMBLE_LEN);
    jg_gw_msg_put_u8(q, ch->my->ssl != NULL);
    if (jg_gw_wk_call(ch->w, q, a, JG_GW_ANS | JG_GW_REQ_DB_AUTH) != 0 ||
        jg_gw_msg_get_u8(a, &ok) != 0 ||
        jg_gw_msg_get_str(a, why, whyn) != 0 ||
        jg_gw_msg_get_str(a, plugin, pluginn) != 0 ||
        jg_gw_msg_get_bytes(a, &r, &n) != 0 || n > JG_MYSQL_AUTH_MAX) {
        ch->w->monitor_gone = true;
        snprintf(why, whyn, "internal error");
    } else if (ok) {
        memcpy(resp, r, n);
        *rlen = n;
        res = true;
    }
    explicit_bzero(a->data, sizeof(a->data));
    free(q);
    free(a);
    return res;
}

/* The database's sign-in for the client's login l; the client's next
 * sequence id is 2. */
static void
sign_in(struct jg_gw_chan *ch, const struct jg_mysql_login *cl)
{
    struct jg_gw_mysql *my = ch->my;
    int64_t deadline = jg_audit_now_us() / 1000 + MY_TIMEOUT_MS;
    struct jg_mysql_login l = {0};
    uint8_t buf[MY_PACKET_MAX], seq = 1, rseq;
    char why[600] = "", plugin[64];
    size_t n, tries = 0;

    my->caps = cl->caps & MY_CAPS & my->g.caps;
    my->caps |= JG_MYSQL_CLIENT_PROTOCOL_41 | JG_MYSQL_CLIENT_SECURE_CONNECTION;
    /* Plugin names and long auth responses (an IAM token) when the
     * database takes them, whatever the client used. */
    l.caps = my->caps | (my->g.caps & (JG_MYSQL_CLIENT_PLUGIN_AUTH |
                                       JG_MYSQL_CLIENT_PLUGIN_AUTH_LENENC));
    if (cl->schema[0] != '\0')
        l.caps |= JG_MYSQL_CLIENT_CONNECT_WITH_DB;
    else
        l.caps &= ~JG_MYSQL_CLIENT_CONNECT_WITH_DB;
    l.max_packet = cl->max_packet;
    l.charset = cl->charset;
    if (my->tls) {
        if (!(my->g.caps & JG_MYSQL_CLIENT_SSL)) {
            fail(ch, 2, 1105, "HY000", "the database does not offer TLS, "
                 "which the policy requires for this target", NULL);
            return;
        }
        l.caps |= JG_MYSQL_CLIENT_SSL;
        l.ssl_request = true;
        n = jg_mysql_login_build(&l, buf, sizeof(buf));
        if (!up_send(ch, seq++, buf, n, deadline) ||
            !tls_start(ch, deadline, why, sizeof(why))) {
            fail(ch, 2, 1105, "HY000", why[0] ? why : "the database's TLS "
                 "handshake failed", NULL);
            return;
        }
        l.ssl_request = false;
    }
    jg_strlcpy(l.user, cl->user, sizeof(l.user));
    jg_strlcpy(l.schema, cl->schema, sizeof(l.schema));
    jg_strlcpy(plugin, my->g.plugin[0] ? my->g.plugin : "mysql_native_password",
               sizeof(plugin));
    if (!auth_response(ch, cl->user, cl->schema, plugin, sizeof(plugin),
                       my->g.scramble, l.auth, &l.auth_len, why,
                       sizeof(why))) {
        fail(ch, 2, 1045, "28000", why, NULL);
        return;
    }
    jg_strlcpy(l.plugin, plugin, sizeof(l.plugin));
    n = jg_mysql_login_build(&l, buf, sizeof(buf));
    explicit_bzero(l.auth, sizeof(l.auth));
    if (n == 0 || !up_send(ch, seq++, buf, n, deadline)) {
        explicit_bzero(buf, sizeof(buf));
        fail(ch, 2, 1105, "HY000", "lost the database during the sign-in",
             NULL);
        return;
    }
    explicit_bzero(buf, sizeof(buf));
    for (;;) {
        if (!up_packet(ch, buf, sizeof(buf), &n, &rseq, deadline) || n == 0) {
            fail(ch, 2, 1105, "HY000", "lost the database during the "
                 "sign-in", NULL);
            return;
        }
        seq = (uint8_t)(rseq + 1);
        if (buf[0] == 0x00)
            break;
        if (buf[0] == 0xff) {
            char msg[200];

            jg_mysql_err_text(buf, n, msg, sizeof(msg));
            snprintf(why, sizeof(why), "the database refused the sign-in of "
                     "%s: %s", cl->user, msg);
            fail(ch, 2, 1045, "28000", why, NULL);
            return;
        }
        if (buf[0] == 0x01 && n == 2 && buf[1] == 0x03)
            continue;   /* caching_sha2_password: the fast way worked */
        if (++tries > 2) {
            fail(ch, 2, 1045, "28000", "the database asked too many times",
                 NULL);
            return;
        }
        if (buf[0] == 0xfe) {
            /* An auth switch: a plugin name and its scramble. */
            const uint8_t *z = memchr(buf + 1, 0, n - 1);
            uint8_t scr[JG_MYSQL_SCRAMBLE_LEN] = {0};
            size_t pl = z != NULL ? (size_t)(z - (buf + 1)) : 0;

            if (z == NULL || pl >= sizeof(plugin)) {
                fail(ch, 2, 1105, "HY000", "a malformed auth switch from "
                     "the database", NULL);
                return;
            }
            memcpy(plugin, buf + 1, pl);
            plugin[pl] = '\0';
            memcpy(scr, z + 1, n - 2 - pl < sizeof(scr) ? n - 2 - pl
                                                        : sizeof(scr));
            memcpy(my->g.scramble, scr, sizeof(scr));
        } else if (buf[0] == 0x01 && n == 2 && buf[1] == 0x04) {
            /* caching_sha2_password wants the password itself. */
            jg_strlcpy(plugin, "mysql_clear_password", sizeof(plugin));
        } else {
            fail(ch, 2, 1105, "HY000", "an answer the gateway does not know "
                 "during the sign-in", NULL);
            return;
        }
        if (!auth_response(ch, cl->user, cl->schema, plugin, sizeof(plugin),
                           my->g.scramble, buf, &n, why, sizeof(why))) {
            fail(ch, 2, 1045, "28000", why, NULL);
            return;
        }
        if (!up_send(ch, seq, buf, n, deadline)) {
            explicit_bzero(buf, sizeof(buf));
            fail(ch, 2, 1105, "HY000", "lost the database during the "
                 "sign-in", NULL);
            return;
        }
        explicit_bzero(buf, sizeof(buf));
    }
    /* Signed in: the client hears OK, and the command phase begins. */
    jg_strlcpy(my->db_login, cl->user, sizeof(my->db_login));
    n = jg_mysql_ok_build(0x0002, buf, sizeof(buf));
    to_client(ch, 2, buf, n);
    if ((my->audit = jg_audit_mysql_new(my->caps, on_statement, ch)) == NULL) {
        fail(ch, 0xff, 0, "", "out of memory", NULL);
        return;
    }
    my->phase = MY_RELAY;
}

/* The client's login, once whole. */
static void
client_login(struct jg_gw_chan *ch)
{
    struct jg_gw_mysql *my = ch->my;
    struct jg_mysql_login l;
    char why[200];
    size_t len;

    if (my->login_len < 4)
        return;
    len = (size_t)my->login[0] | (size_t)my->login[1] << 8 |
          (size_t)my->login[2] << 16;
    if (len > MY_PACKET_MAX) {
        fail(ch, 0xff, 0, "", "the client's login is too long", NULL);
        return;
    }
    if (my->login_len < len + 4)
        return;
    if (my->login[3] != 1) {
        fail(ch, 2, 1043, "08S01", "the client's login could not be read",
             "the client's login came with sequence id other than 1");
        return;
    }
    if (jg_mysql_login_parse(my->login + 4, len, &l, why, sizeof(why)) != 0) {
        char *t = jg_xasprintf("the client's login could not be read: %s",
                               why);
        fail(ch, 2, 1043, "08S01", t, NULL);
        free(t);
        return;
    }
    if (l.ssl_request) {
        fail(ch, 2, 1043, "08S01", "the tunnel needs no TLS: SSH encrypts "
             "it, and the gateway speaks TLS to the database; connect with "
             "--ssl-mode=DISABLED (mysql) or --skip-ssl (mariadb)",
             "the client asked for TLS inside the tunnel");
        return;
    }
    if (my->login_len > len + 4) {
        /* Nothing may follow the login before it is answered; what did
         * would pass unread. */
        fail(ch, 2, 1043, "08S01", "the client sent more before its login "
             "was answered", NULL);
        return;
    }
    if (l.caps & JG_MYSQL_CLIENT_COMPRESS) {
        fail(ch, 2, 1043, "08S01", "compression is not relayed; connect "
             "without it", "the client asked for compression");
        return;
    }
    explicit_bzero(my->login, sizeof(my->login));
    my->login_len = 0;
    sign_in(ch, &l);
    explicit_bzero(&l, sizeof(l));
}

/* ---- the channel ------------------------------------------------------------------ */

int
jg_gw_wk_mysql_open(struct jg_gw_chan *ch, uint32_t grant, bool tls,
                    const char *host)
{
    struct jg_gw_mysql *my = jg_xcalloc(1, sizeof(*my));
    int64_t deadline = jg_audit_now_us() / 1000 + MY_TIMEOUT_MS;
    struct jg_mysql_greeting ours = {0};
    uint8_t buf[MY_PACKET_MAX], seq;
    char why[300];
    size_t n;

    ch->my = my;
    my->grant = grant;
    my->tls = tls;
    my->phase = MY_LOGIN;
    jg_strlcpy(my->host, host, sizeof(my->host));
    if (!up_packet(ch, buf, sizeof(buf), &n, &seq, deadline)) {
        fail(ch, 0, 1105, "HY000", "the database sent no greeting", NULL);
        return 0;
    }
    if (jg_mysql_greeting_parse(buf, n, &my->g, why, sizeof(why)) != 0) {
        fail(ch, 0, 1105, "HY000", why, NULL);
        return 0;
    }
    /* Ours to the client: the database's version, our own nonce (the
     * client's password, if it sends one, is not used). */
    ours = my->g;
    ours.caps = my->g.caps & MY_CAPS;
    jg_strlcpy(ours.plugin, "mysql_native_password", sizeof(ours.plugin));
    if (RAND_bytes(my->nonce, sizeof(my->nonce)) != 1) {
        fail(ch, 0, 1105, "HY000", "no randomness", NULL);
        return 0;
    }
    for (size_t i = 0; i < sizeof(my->nonce); i++)
        my->nonce[i] = (uint8_t)(1 + my->nonce[i] % 126);  /* no NUL */
    memcpy(ours.scramble, my->nonce, sizeof(my->nonce));
    ours.caps |= JG_MYSQL_CLIENT_PLUGIN_AUTH;
    n = jg_mysql_greeting_build(&ours, buf, sizeof(buf));
    to_client(ch, 0, buf, n);
    return 0;
}

/* Database -> client, through the parser. */
static bool
from_db(struct jg_gw_chan *ch)
{
    struct jg_gw_mysql *my = ch->my;
    size_t room = jg_gw_buf_room(&ch->u2c);
    uint8_t *p = jg_gw_buf_tail(&ch->u2c);
    ssize_t k;

    if (ch->fd_eof || room == 0)
        return false;
    if (my->ssl != NULL) {
        int r = SSL_read(my->ssl, p, room > INT32_MAX ? INT32_MAX : (int)room);
        if (r > 0) {
            k = r;
        } else {
            int e = SSL_get_error(my->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return false;
            k = 0;
        }
    } else {
        k = read(ch->fd, p, room);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            return false;
    }
    if (k <= 0) {
        ch->fd_eof = true;
        return true;
    }
    jg_audit_mysql_feed(my->audit, false, p, (size_t)k, jg_audit_now_us());
    if (jg_audit_mysql_failed(my->audit)) {
        fail(ch, 0xff, 0, "", jg_audit_mysql_error(my->audit), NULL);
        return true;
    }
    if (jg_gw_relay_tap(ch, "o", p, (size_t)k))
        ch->u2c.len += (size_t)k;
    return true;
}

/* Client -> database, through the parser. */
static bool
to_db(struct jg_gw_chan *ch)
{
    struct jg_gw_mysql *my = ch->my;
    bool moved = false;

    while (ch->c2u.len > 0) {
        const uint8_t *p = ch->c2u.data + ch->c2u.off;
        ssize_t k;

        if (my->ssl != NULL) {
            int r = SSL_write(my->ssl, p, ch->c2u.len > INT32_MAX
                                              ? INT32_MAX : (int)ch->c2u.len);
            if (r > 0) {
                k = r;
            } else {
                int e = SSL_get_error(my->ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                    break;
                k = -1;
            }
        } else {
            k = write(ch->fd, p, ch->c2u.len);
            if (k < 0 && (errno == EAGAIN || errno == EINTR))
                break;
        }
        if (k < 0) {
            fail(ch, 0xff, 0, "", "lost the database", NULL);
            return true;
        }
        jg_gw_buf_consumed(&ch->c2u, (size_t)k);
        moved = true;
    }
    return moved;
}

bool
jg_gw_wk_mysql_pump(struct jg_gw_chan *ch)
{
    struct jg_gw_mysql *my = ch->my;
    bool moved = false;
    int held;

    /* Without the monitor nothing could be recorded: nothing moves. */
    if (ch->dead || ch->w->monitor_gone)
        return false;
    if (my->phase == MY_LOGIN || my->phase == MY_RELAY) {
        held = jg_gw_relay_held(ch->c, 0);
        if (held > 0 && my->phase == MY_LOGIN) {
            size_t room = sizeof(my->login) - my->login_len;
            int got = ssh_channel_read_nonblocking(
                ch->c, my->login + my->login_len,
                (uint32_t)(held < (int)room ? held : (int)room), 0);
            if (got > 0) {
                my->login_len += (size_t)got;
                moved = true;
                client_login(ch);
            } else if (room == 0) {
                fail(ch, 0xff, 0, "", "the client's login is too long", NULL);
            }
        } else if (held > 0 && jg_gw_buf_reserve(&ch->c2u, (size_t)held)) {
            uint8_t *p = jg_gw_buf_tail(&ch->c2u);
            int got = ssh_channel_read_nonblocking(ch->c, p, (uint32_t)held, 0);

            if (got > 0) {
                jg_audit_mysql_feed(my->audit, true, p, (size_t)got,
                                    jg_audit_now_us());
                if (jg_audit_mysql_failed(my->audit)) {
                    fail(ch, 0xff, 0, "", jg_audit_mysql_error(my->audit),
                         NULL);
                    return true;
                }
                if (jg_gw_relay_tap(ch, "i", p, (size_t)got))
                    ch->c2u.len += (size_t)got;
                moved = true;
            }
        }
        jg_gw_relay_discard(ch->c, 1);
    }
    if (my->phase == MY_RELAY) {
        moved |= to_db(ch);
        while (from_db(ch))
            moved = true;
    }
    if (ch->w->monitor_gone)
        return true;
    /* To the client: what waits, then the ends. */
    if (ch->u2c.len > 0 && ssh_channel_is_open(ch->c)) {
        uint32_t win = ssh_channel_window_size(ch->c);
        uint32_t n = ch->u2c.len < win ? (uint32_t)ch->u2c.len : win;
        int put = n > 0 ? ssh_channel_write(ch->c, ch->u2c.data + ch->u2c.off,
                                            n) : 0;
        if (put < 0) {
            ch->dead = true;
            return true;
        }
        if (put > 0) {
            jg_gw_buf_consumed(&ch->u2c, (size_t)put);
            moved = true;
        }
    }
    send_events(ch);
    if (my->phase == MY_RELAY && ch->c2u.len == 0 &&
        ssh_channel_is_eof(ch->c) && !ch->fd_wr_shut) {
        jg_gw_wk_mysql_end(ch, NULL);
        if (my->ssl != NULL)
            SSL_shutdown(my->ssl);
        shutdown(ch->fd, SHUT_WR);
        ch->fd_wr_shut = true;
        moved = true;
    }
    if (ch->fd_eof && ch->u2c.len == 0 && !ch->c_eof_sent &&
        ssh_channel_is_open(ch->c)) {
        jg_gw_wk_mysql_end(ch, NULL);
        ssh_channel_send_eof(ch->c);
        ch->c_eof_sent = true;
        ssh_channel_close(ch->c);
        ch->status_sent = true;
        moved = true;
    }
    /* The client closed its end: nothing more to carry either way. */
    if (ssh_channel_is_closed(ch->c)) {
        jg_gw_wk_mysql_end(ch, NULL);
        ch->dead = true;
        moved = true;
    }
    return moved;
}

void
jg_gw_wk_mysql_end(struct jg_gw_chan *ch, const char *why)
{
    struct jg_gw_mysql *my = ch->my;
    const struct jg_audit_mysql_stats *st;
    struct jg_gw_msg *q;

    if (my == NULL || my->ended)
        return;
    my->ended = true;
    if (my->audit != NULL)
        jg_audit_mysql_finish(my->audit);
    send_events(ch);
    if (ch->w->monitor_gone || (my->db_login[0] == '\0' && why == NULL))
        return;
    st = my->audit != NULL ? jg_audit_mysql_stats(my->audit) : NULL;
    q = jg_xmalloc(sizeof(*q));
    jg_gw_msg_init(q, JG_GW_REQ_DB_END);
    jg_gw_msg_put_u32(q, my->grant);
    jg_gw_msg_put_u64(q, st != NULL ? st->statements : 0);
    jg_gw_msg_put_u64(q, st != NULL ? st->errors : 0);
    jg_gw_msg_put_u64(q, st != NULL ? st->rows : 0);
    jg_gw_msg_put_str(q, why != NULL ? why : "");
    jg_gw_wk_send(ch->w, q);
    free(q);
}

void
jg_gw_wk_mysql_free(struct jg_gw_chan *ch)
{
    struct jg_gw_mysql *my = ch->my;

    if (my == NULL)
        return;
    jg_gw_wk_mysql_end(ch, NULL);
    jg_audit_mysql_free(my->audit);
    SSL_free(my->ssl);
    SSL_CTX_free(my->ctx);
    explicit_bzero(my, sizeof(*my));
    free(my);
    ch->my = NULL;
}

void
jg_gw_wk_mysql_unreachable(struct jg_gw_chan *ch, const char *why)
{
    uint8_t buf[600];
    char *text = jg_xasprintf("jumpgate: %s", why);
    size_t n = jg_mysql_err_build(1105, "HY000", text, buf, sizeof(buf));

    free(text);
    to_client(ch, 0, buf, n);
    ch->fd = -1;
    ch->fd_eof = true;          /* the pump sends it, then EOF and close */
    ch->fd_wr_shut = true;
}
