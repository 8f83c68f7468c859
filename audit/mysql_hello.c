/* SPDX-License-Identifier: Apache-2.0 */
/* audit/mysql_hello.c - the MySQL connection phase as the gateway's
 * MySQL-aware tunnel reads and writes it: the server's greeting, the
 * client's login (or SSLRequest), OK and ERR packets, and the auth
 * responses of mysql_native_password and caching_sha2_password
 * (audit.h). */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "audit/internal.h"

/* A NUL-terminated string into out; false when no NUL ends it within
 * the packet or it does not fit. */
static bool
cstr(struct jg_my_rd *r, char *out, size_t outn)
{
    const uint8_t *z;
    size_t n;

    if (r->bad || (z = memchr(r->p, 0, r->n)) == NULL) {
        r->bad = true;
        return false;
    }
    n = (size_t)(z - r->p);
    if (n >= outn) {
        r->bad = true;
        return false;
    }
    memcpy(out, r->p, n);
    out[n] = '\0';
    r->p += n + 1;
    r->n -= n + 1;
    return true;
}

/* Exactly n bytes into out (which holds cap); false when short or too
 * long for out. */
static bool
bytes(struct jg_my_rd *r, size_t n, uint8_t *out, size_t cap)
{
    if (r->bad || r->n < n || n > cap) {
        r->bad = true;
        return false;
    }
    memcpy(out, r->p, n);
    r->p += n;
    r->n -= n;
    return true;
}

int
jg_mysql_greeting_parse(const uint8_t *p, size_t n,
                        struct jg_mysql_greeting *g, char *why, size_t whyn)
{
    struct jg_my_rd r = {p, n, false};
    uint8_t proto, alen;
    size_t part2;

    memset(g, 0, sizeof(*g));
    if (n == 0) {
        snprintf(why, whyn, "an empty greeting");
        return JG_ERR_INVALID;
    }
    if (p[0] == 0xff) {
        /* The server refuses at once (too many connections, a host it
         * blocks): its message says why. */
        char msg[200];

        jg_mysql_err_text(p, n, msg, sizeof(msg));
        snprintf(why, whyn, "the server refused at once: %s", msg);
        return JG_ERR_INVALID;
    }
    proto = (uint8_t)jg_my_le(&r, 1);
    if (proto != 10) {
        snprintf(why, whyn, "protocol version %u, not 10", proto);
        return JG_ERR_INVALID;
    }
    if (!cstr(&r, g->version, sizeof(g->version)))
        goto bad;
    g->conn_id = (uint32_t)jg_my_le(&r, 4);
    bytes(&r, 8, g->scramble, 8);
    jg_my_le(&r, 1);                                   /* filler */
    g->caps = (uint32_t)jg_my_le(&r, 2);
    if (r.bad)
        goto bad;
    if (r.n == 0) {
        snprintf(why, whyn, "a greeting of the pre-4.1 protocol");
        return JG_ERR_INVALID;
    }
    g->charset = (uint8_t)jg_my_le(&r, 1);
    g->status = (uint16_t)jg_my_le(&r, 2);
    g->caps |= (uint32_t)jg_my_le(&r, 2) << 16;
    alen = (uint8_t)jg_my_le(&r, 1);
    jg_my_skip(&r, 10);                                /* reserved */
    if (r.bad)
        goto bad;
    if (!(g->caps & JG_MYSQL_CLIENT_PROTOCOL_41) ||
        !(g->caps & JG_MYSQL_CLIENT_SECURE_CONNECTION)) {
        snprintf(why, whyn, "the server lacks the 4.1 protocol");
        return JG_ERR_INVALID;
    }
    /* The scramble's second part: max(13, alen - 8) bytes, the last a
     * NUL. */
    part2 = alen > 8 + 13 ? (size_t)alen - 8 : 13;
    if (r.n < part2 || part2 - 1 < 12)
        goto bad;
    memcpy(g->scramble + 8, r.p, 12);
    r.p += part2;
    r.n -= part2;
    if (g->caps & JG_MYSQL_CLIENT_PLUGIN_AUTH) {
        /* Some servers leave out the plugin name's NUL at the end. */
        size_t k = r.n;
        const uint8_t *z = memchr(r.p, 0, r.n);

        if (z != NULL)
            k = (size_t)(z - r.p);
        if (k >= sizeof(g->plugin))
            goto bad;
        memcpy(g->plugin, r.p, k);
        g->plugin[k] = '\0';
    }
    return 0;
bad:
    snprintf(why, whyn, "a malformed greeting");
    return JG_ERR_INVALID;
}

/* ---- writers --------------------------------------------------------------- */

struct wr {
    uint8_t *p;
    size_t n, cap;
    bool over;
};

static void
put(struct wr *w, const void *d, size_t n)
{
    if (w->over || w->cap - w->n < n) {
        w->over = true;
        return;
    }
    memcpy(w->p + w->n, d, n);
    w->n += n;
}

static void
put_le(struct wr *w, uint64_t v, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        put(w, &b, 1);
    }
}

static void
put_lenenc(struct wr *w, uint64_t v)
{
    if (v < 0xfb) {
        put_le(w, v, 1);
    } else if (v < 0x10000) {
        put_le(w, 0xfc, 1);
        put_le(w, v, 2);
    } else {
        put_le(w, 0xfd, 1);
        put_le(w, v, 3);
    }
}

size_t
jg_mysql_greeting_build(const struct jg_mysql_greeting *g, uint8_t *out,
                        size_t cap)
{
    struct wr w = {out, 0, cap, false};
    static const uint8_t zero[10] = {0};

    put_le(&w, 10, 1);
    put(&w, g->version, strlen(g->version) + 1);
    put_le(&w, g->conn_id, 4);
    put(&w, g->scramble, 8);
    put_le(&w, 0, 1);
    put_le(&w, g->caps & 0xffff, 2);
    put_le(&w, g->charset, 1);
    put_le(&w, g->status, 2);
    put_le(&w, g->caps >> 16, 2);
    put_le(&w, JG_MYSQL_SCRAMBLE_LEN + 1, 1);
    put(&w, zero, 10);
    put(&w, g->scramble + 8, 12);
    put_le(&w, 0, 1);
    if (g->caps & JG_MYSQL_CLIENT_PLUGIN_AUTH)
        put(&w, g->plugin, strlen(g->plugin) + 1);
    return w.over ? 0 : w.n;
}

int
jg_mysql_login_parse(const uint8_t *p, size_t n, struct jg_mysql_login *l,
                     char *why, size_t whyn)
{
    struct jg_my_rd r = {p, n, false};
    uint64_t alen;

    memset(l, 0, sizeof(*l));
    l->caps = (uint32_t)jg_my_le(&r, 4);
    if (r.bad || !(l->caps & JG_MYSQL_CLIENT_PROTOCOL_41)) {
        snprintf(why, whyn, "a login of the pre-4.1 protocol");
        return JG_ERR_INVALID;
    }
    l->max_packet = (uint32_t)jg_my_le(&r, 4);
    l->charset = (uint8_t)jg_my_le(&r, 1);
    jg_my_skip(&r, 23);                                /* filler */
    if (r.bad)
        goto bad;
    if (r.n == 0 && (l->caps & JG_MYSQL_CLIENT_SSL)) {
        l->ssl_request = true;
        return 0;
    }
    if (!cstr(&r, l->user, sizeof(l->user)))
        goto bad;
    if (l->caps & JG_MYSQL_CLIENT_PLUGIN_AUTH_LENENC)
        alen = jg_my_lenenc(&r);
    else if (l->caps & JG_MYSQL_CLIENT_SECURE_CONNECTION)
        alen = jg_my_le(&r, 1);
    else
        goto bad;
    if (r.bad || !bytes(&r, (size_t)alen, l->auth, sizeof(l->auth)))
        goto bad;
    l->auth_len = (size_t)alen;
    if ((l->caps & JG_MYSQL_CLIENT_CONNECT_WITH_DB) && r.n > 0 &&
        !cstr(&r, l->schema, sizeof(l->schema)))
        goto bad;
    if ((l->caps & JG_MYSQL_CLIENT_PLUGIN_AUTH) && r.n > 0 &&
        !cstr(&r, l->plugin, sizeof(l->plugin)))
        goto bad;
    if ((l->caps & JG_MYSQL_CLIENT_CONNECT_ATTRS) && r.n > 0) {
        uint64_t k = jg_my_lenenc(&r);

        if (r.bad || k > r.n)
            goto bad;
        r.n -= (size_t)k;    /* skipped */
    }
    return 0;
bad:
    snprintf(why, whyn, "a malformed login packet");
    return JG_ERR_INVALID;
}

size_t
jg_mysql_login_build(const struct jg_mysql_login *l, uint8_t *out, size_t cap)
{
    struct wr w = {out, 0, cap, false};
    static const uint8_t zero[23] = {0};

    put_le(&w, l->caps, 4);
    put_le(&w, l->max_packet, 4);
    put_le(&w, l->charset, 1);
    put(&w, zero, 23);
    if (l->ssl_request)
        return w.over ? 0 : w.n;
    put(&w, l->user, strlen(l->user) + 1);
    if (l->caps & JG_MYSQL_CLIENT_PLUGIN_AUTH_LENENC) {
        put_lenenc(&w, l->auth_len);
    } else {
        if (l->auth_len > 255)
            return 0;
        put_le(&w, l->auth_len, 1);
    }
    put(&w, l->auth, l->auth_len);
    if (l->caps & JG_MYSQL_CLIENT_CONNECT_WITH_DB)
        put(&w, l->schema, strlen(l->schema) + 1);
    if (l->caps & JG_MYSQL_CLIENT_PLUGIN_AUTH)
        put(&w, l->plugin, strlen(l->plugin) + 1);
    return w.over ? 0 : w.n;
}

size_t
jg_mysql_err_build(uint16_t code, const char *sqlstate, const char *msg,
                   uint8_t *out, size_t cap)
{
    struct wr w = {out, 0, cap, false};
    size_t room;

    put_le(&w, 0xff, 1);
    put_le(&w, code, 2);
    put(&w, "#", 1);
    put(&w, sqlstate, 5);
    if (w.over)
        return 0;
    room = cap - w.n;
    put(&w, msg, strlen(msg) < room ? strlen(msg) : room);
    return w.n;
}

uint16_t
jg_mysql_err_text(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t at = 3, k;

    out[0] = '\0';
    if (n < 3)
        return 0;
    if (n >= 9 && p[3] == '#')
        at = 9;
    k = n - at < cap - 1 ? n - at : cap - 1;
    for (size_t i = 0; i < k; i++)
        out[i] = p[at + i] >= 0x20 && p[at + i] < 0x7f ? (char)p[at + i] : '?';
    out[k] = '\0';
    return (uint16_t)(p[1] | p[2] << 8);
}

size_t
jg_mysql_ok_build(uint16_t status, uint8_t *out, size_t cap)
{
    struct wr w = {out, 0, cap, false};

    put_le(&w, 0x00, 1);
    put_le(&w, 0, 1);        /* affected rows */
    put_le(&w, 0, 1);        /* last insert id */
    put_le(&w, status, 2);
    put_le(&w, 0, 2);        /* warnings */
    return w.over ? 0 : w.n;
}

static void
digest(const EVP_MD *md, const void *a, size_t an, const void *b, size_t bn,
       uint8_t *out)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    if (c == NULL || EVP_DigestInit_ex(c, md, NULL) != 1 ||
        EVP_DigestUpdate(c, a, an) != 1 ||
        (bn > 0 && EVP_DigestUpdate(c, b, bn) != 1) ||
        EVP_DigestFinal_ex(c, out, NULL) != 1)
        memset(out, 0, (size_t)EVP_MD_get_size(md));
    EVP_MD_CTX_free(c);
}

void
jg_mysql_native_auth(const char *password,
                     const uint8_t scramble[JG_MYSQL_SCRAMBLE_LEN],
                     uint8_t out[20])
{
    uint8_t h1[20], h2[20], h3[20];

    digest(EVP_sha1(), password, strlen(password), NULL, 0, h1);
    digest(EVP_sha1(), h1, 20, NULL, 0, h2);
    digest(EVP_sha1(), scramble, JG_MYSQL_SCRAMBLE_LEN, h2, 20, h3);
    for (size_t i = 0; i < 20; i++)
        out[i] = h1[i] ^ h3[i];
    OPENSSL_cleanse(h1, sizeof(h1));
    OPENSSL_cleanse(h2, sizeof(h2));
}

void
jg_mysql_sha2_auth(const char *password,
                   const uint8_t scramble[JG_MYSQL_SCRAMBLE_LEN],
                   uint8_t out[32])
{
    uint8_t h1[32], h2[32], h3[32];

    digest(EVP_sha256(), password, strlen(password), NULL, 0, h1);
    digest(EVP_sha256(), h1, 32, NULL, 0, h2);
    digest(EVP_sha256(), h2, 32, scramble, JG_MYSQL_SCRAMBLE_LEN, h3);
    for (size_t i = 0; i < 32; i++)
        out[i] = h1[i] ^ h3[i];
    OPENSSL_cleanse(h1, sizeof(h1));
    OPENSSL_cleanse(h2, sizeof(h2));
}

void
jg_mysql_frame(uint8_t seq, const uint8_t *payload, size_t n, uint8_t *out)
{
    memmove(out + 4, payload, n);    /* payload may be out itself */
    out[0] = (uint8_t)n;
    out[1] = (uint8_t)(n >> 8);
    out[2] = (uint8_t)(n >> 16);
    out[3] = seq;
}
