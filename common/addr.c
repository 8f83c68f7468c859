/* SPDX-License-Identifier: Apache-2.0 */
/* common/addr.c - IPv4/IPv6 addresses, CIDR sets, host:port strings. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int
jg_addr_parse(const char *s, struct jg_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (s == NULL)
        return JG_ERR_INVALID;
    if (inet_pton(AF_INET, s, out->b) == 1) {
        out->family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out->b) == 1) {
        out->family = 6;
        if (memcmp(out->b, v4mapped, 12) == 0) {
            memmove(out->b, out->b + 12, 4);
            memset(out->b + 4, 0, 12);
            out->family = 4;
        }
        return 0;
    }
    return JG_ERR_INVALID;
}

void
jg_addr_format(const struct jg_addr *a, char *buf, size_t n)
{
    if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, buf,
                  (socklen_t)n) == NULL && n > 0)
        buf[0] = '\0';
}

static unsigned
maxbits(const struct jg_addr *a)
{
    return a->family == 4 ? 32 : 128;
}

/* Clears the bits after prefix; returns whether any was set. */
static bool
mask(struct jg_addr *a, unsigned prefix)
{
    bool had = false;
    unsigned i;

    for (i = prefix; i < maxbits(a); i++) {
        uint8_t bit = (uint8_t)(0x80u >> (i % 8));
        if (a->b[i / 8] & bit) {
            had = true;
            a->b[i / 8] &= (uint8_t)~bit;
        }
    }
    return had;
}

int
jg_cidr_parse(const char *s, struct jg_cidr *out, bool *had_host_bits)
{
    char buf[64];
    const char *slash;
    unsigned long prefix;
    char *end;
    bool had;

    if (s == NULL || strlen(s) >= sizeof(buf))
        return JG_ERR_INVALID;
    jg_strlcpy(buf, s, sizeof(buf));
    slash = strchr(s, '/');
    if (slash != NULL)
        buf[slash - s] = '\0';
    if (jg_addr_parse(buf, &out->a) != 0)
        return JG_ERR_INVALID;
    if (slash == NULL) {
        prefix = maxbits(&out->a);
    } else {
        if (!isdigit((unsigned char)slash[1]) || strlen(slash + 1) > 3)
            return JG_ERR_INVALID;
        prefix = strtoul(slash + 1, &end, 10);
        if (*end != '\0')
            return JG_ERR_INVALID;
        /* a mapped address with a v6 prefix: keep the v4 part */
        if (out->a.family == 4 && strchr(buf, ':') != NULL) {
            if (prefix < 96 || prefix > 128)
                return JG_ERR_INVALID;
            prefix -= 96;
        }
        if (prefix > maxbits(&out->a))
            return JG_ERR_INVALID;
    }
    out->prefix = (uint8_t)prefix;
    had = mask(&out->a, out->prefix);
    if (had_host_bits != NULL)
        *had_host_bits = had;
    return 0;
}

void
jg_cidr_format(const struct jg_cidr *c, char *buf, size_t n)
{
    char a[INET6_ADDRSTRLEN];

    jg_addr_format(&c->a, a, sizeof(a));
    snprintf(buf, n, "%s/%u", a, c->prefix);
}

bool
jg_cidr_contains(const struct jg_cidr *c, const struct jg_addr *a)
{
    unsigned full, rest;

    if (c->a.family != a->family)
        return false;
    full = c->prefix / 8;
    rest = c->prefix % 8;
    if (memcmp(c->a.b, a->b, full) != 0)
        return false;
    if (rest != 0) {
        uint8_t m = (uint8_t)(0xffu << (8 - rest));
        if ((c->a.b[full] & m) != (a->b[full] & m))
            return false;
    }
    return true;
}

int
jg_cidr_cmp(const struct jg_cidr *x, const struct jg_cidr *y)
{
    int c;

    if (x->a.family != y->a.family)
        return x->a.family < y->a.family ? -1 : 1;
    if ((c = memcmp(x->a.b, y->a.b, 16)) != 0)
        return c;
    return x->prefix < y->prefix ? -1 : (x->prefix > y->prefix);
}

static int
cidr_qcmp(const void *a, const void *b)
{
    return jg_cidr_cmp(a, b);
}

/* Whether x and y are the two halves of one network, and if so its value. */
static bool
siblings(const struct jg_cidr *x, const struct jg_cidr *y, struct jg_cidr *parent)
{
    struct jg_cidr p;

    if (x->a.family != y->a.family || x->prefix != y->prefix || x->prefix == 0)
        return false;
    p = *x;
    p.prefix--;
    mask(&p.a, p.prefix);
    if (!jg_cidr_contains(&p, &y->a) || jg_cidr_cmp(x, y) == 0)
        return false;
    *parent = p;
    return true;
}

size_t
jg_cidr_canonicalize(struct jg_cidr *v, size_t n)
{
    bool changed = true;

    while (changed) {
        size_t i, out = 0;

        changed = false;
        qsort(v, n, sizeof(*v), cidr_qcmp);
        for (i = 0; i < n; i++) {
            struct jg_cidr parent;
            /* sorted: a network comes before everything inside it */
            if (out > 0 && jg_cidr_contains(&v[out - 1], &v[i].a) &&
                v[out - 1].prefix <= v[i].prefix)
                continue;
            if (out > 0 && siblings(&v[out - 1], &v[i], &parent)) {
                v[out - 1] = parent;
                changed = true;
                continue;
            }
            v[out++] = v[i];
        }
        n = out;
    }
    return n;
}

int
jg_hostport_parse(const char *s, char **host, uint16_t *port)
{
    const char *colon, *hs, *he;
    char *end;
    unsigned long p;

    *host = NULL;
    if (s == NULL || *s == '\0')
        return JG_ERR_INVALID;
    if (s[0] == '[') {
        he = strchr(s, ']');
        if (he == NULL || he[1] != ':')
            return JG_ERR_INVALID;
        hs = s + 1;
        colon = he + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
            return JG_ERR_INVALID; /* bare IPv6 needs brackets */
        hs = s;
        he = colon;
    }
    if (he == hs || !isdigit((unsigned char)colon[1]) || strlen(colon + 1) > 5)
        return JG_ERR_INVALID;
    p = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || p == 0 || p > 65535)
        return JG_ERR_INVALID;
    for (const char *c = hs; c < he; c++) {
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != ':' &&
            *c != '_')
            return JG_ERR_INVALID;
    }
    if (s[0] == '[') {
        struct jg_addr a;
        char buf[64];
        if ((size_t)(he - hs) >= sizeof(buf))
            return JG_ERR_INVALID;
        memcpy(buf, hs, (size_t)(he - hs));
        buf[he - hs] = '\0';
        if (jg_addr_parse(buf, &a) != 0)
            return JG_ERR_INVALID;
    }
    *host = strndup(hs, (size_t)(he - hs));
    if (*host == NULL)
        return JG_ERR_NOMEM;
    *port = (uint16_t)p;
    return 0;
}
