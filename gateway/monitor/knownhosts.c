/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/knownhosts.c - strict host key checking of targets against
 * upstream.known_hosts (OpenSSH format, hashed names too): per-host keys,
 * @revoked keys, and @cert-authority lines, whose CA vouches for the host
 * certificates of the hosts its patterns match. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gateway/monitor/internal.h"

#define KH_MAX_BYTES (4u << 20)

void
jg_gw_fingerprint(const ssh_key key, char *buf, size_t n)
{
    unsigned char *hash = NULL;
    size_t hlen = 0;
    char *fp = NULL;

    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) ==
            0 &&
        (fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) !=
            NULL)
        jg_strlcpy(buf, fp, n);
    else
        jg_strlcpy(buf, "?", n);
    ssh_string_free_char(fp);
    ssh_clean_pubkey_hash(&hash);
}

/* "|1|salt|hash" against name. */
static bool
hashed_match(const char *pat, const char *name)
{
    unsigned char salt[64], want[64], got[EVP_MAX_MD_SIZE];
    unsigned int glen = 0;
    const char *bar;
    char s64[128], h64[128];
    int sl, hl;
    size_t n;

    if (strncmp(pat, "|1|", 3) != 0 || (bar = strchr(pat + 3, '|')) == NULL)
        return false;
    n = (size_t)(bar - (pat + 3));
    if (n >= sizeof(s64) || strlen(bar + 1) >= sizeof(h64))
        return false;
    memcpy(s64, pat + 3, n);
    s64[n] = '\0';
    jg_strlcpy(h64, bar + 1, sizeof(h64));
    sl = EVP_DecodeBlock(salt, (const unsigned char *)s64, (int)strlen(s64));
    hl = EVP_DecodeBlock(want, (const unsigned char *)h64, (int)strlen(h64));
    if (sl < 20 || hl < 20)
        return false;
    if (HMAC(EVP_sha1(), salt, 20, (const unsigned char *)name, strlen(name),
             got, &glen) == NULL || glen != 20)
        return false;
    return memcmp(got, want, 20) == 0;
}

/* OpenSSH host patterns know only '*' and '?'; brackets are literal. */
static bool
glob_match(const char *p, const char *s)
{
    if (*p == '\0')
        return *s == '\0';
    if (*p == '*')
        return glob_match(p + 1, s) || (*s != '\0' && glob_match(p, s + 1));
    if (*s == '\0')
        return false;
    return (*p == '?' || *p == *s) && glob_match(p + 1, s + 1);
}

/* Does the comma list of patterns name host? Negations veto. */
static bool
hosts_match(char *pats, const char *name)
{
    bool hit = false;
    char *save = NULL, *p;

    for (p = strtok_r(pats, ",", &save); p != NULL;
         p = strtok_r(NULL, ",", &save)) {
        if (p[0] == '!') {
            if (glob_match(p + 1, name))
                return false;
        } else if (p[0] == '|') {
            hit = hit || hashed_match(p, name);
        } else if (glob_match(p, name)) {
            hit = true;
        }
    }
    return hit;
}

/* One line of the file, split: marker ("" or "@revoked",
 * "@cert-authority"), host patterns, key type and base64 key. */
struct kh_line {
    int no;
    const char *marker;
    char *hosts, *type, *b64;
};

/* The next line with a key from *at on; false at the end. Comments and
 * blank lines are skipped; a line with too few fields is logged with its
 * place and skipped, as OpenSSH does. */
static bool
kh_next(const char *file, char **at, int *no, struct kh_line *l)
{
    while (**at != '\0') {
        char *line = *at, *nl = strchr(line, '\n'), *f[4] = {NULL}, *sp = NULL;
        char *tok;
        int nf = 0;

        *at = nl != NULL ? nl + 1 : line + strlen(line);
        if (nl != NULL)
            *nl = '\0';
        ++*no;
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '#' || *line == '\0' || *line == '\r')
            continue;
        for (tok = strtok_r(line, " \t\r", &sp); tok != NULL && nf < 4;
             tok = strtok_r(NULL, " \t\r", &sp))
            f[nf++] = tok;
        l->no = *no;
        l->marker = "";
        if (f[0][0] == '@') {
            if (strcmp(f[0], "@revoked") != 0 &&
                strcmp(f[0], "@cert-authority") != 0) {
                jg_warn("%s:%d: unknown marker '%s'; line ignored", file, *no,
                        f[0]);
                continue;
            }
            l->marker = f[0];
            memmove(f, f + 1, 3 * sizeof(f[0]));
            f[3] = NULL;
            nf--;
        }
        if (nf < 3) {
            jg_warn("%s:%d: expected %sHOSTS TYPE KEY; line ignored", file,
                    *no, l->marker[0] ? "a marker, then " : "");
            continue;
        }
        l->hosts = f[0];
        l->type = f[1];
        l->b64 = f[2];
        return true;
    }
    return false;
}

/* The key of a line as a blob (caller frees), or NULL, logged with the
 * line's place. */
static uint8_t *
kh_blob(const char *file, const struct kh_line *l, size_t *len)
{
    size_t n = strlen(l->b64), tl;
    uint8_t *blob = jg_xmalloc(n + 1);
    struct jg_gw_rd r;
    const uint8_t *t;
    int got = jg_gw_unb64((const uint8_t *)l->b64, n, blob);

    r = (struct jg_gw_rd){blob, got > 0 ? (size_t)got : 0, false};
    t = jg_gw_rd_str(&r, &tl);
    if (got <= 0 || t == NULL || tl != strlen(l->type) ||
        memcmp(t, l->type, tl) != 0) {
        jg_warn("%s:%d: the key is not valid base64 of a %s key; line "
                "ignored", file, l->no, l->type);
        free(blob);
        return NULL;
    }
    *len = (size_t)got;
    return blob;
}

static void
host_name(const char *host, uint16_t port, char *name, size_t n)
{
    if (port == 22)
        jg_strlcpy(name, host, n);
    else
        snprintf(name, n, "[%s]:%u", host, port);
}

int
jg_gw_knownhosts_check(const char *file, const char *host, uint16_t port,
                       const ssh_key key, char **known)
{
    char *data = NULL, *at, name[300], fp[128], *list = NULL;
    bool seen = false, revoked = false, ok = false;
    struct kh_line l;
    size_t len = 0;
    int r, no = 0;

    *known = NULL;
    host_name(host, port, name, sizeof(name));
    if ((r = jg_read_file(file, KH_MAX_BYTES, &data, &len)) != 0)
        return r;
    at = data;
    while (kh_next(file, &at, &no, &l)) {
        bool is_revoked = strcmp(l.marker, "@revoked") == 0;
        ssh_key k = NULL;

        if (strcmp(l.marker, "@cert-authority") == 0 ||
            !hosts_match(l.hosts, name))
            continue;
        if (ssh_pki_import_pubkey_base64(l.b64, ssh_key_type_from_name(l.type),
                                         &k) != SSH_OK) {
            jg_warn("%s:%d: not a readable %s key; line ignored", file, l.no,
                    l.type);
            continue;
        }
        if (ssh_key_cmp(k, key, SSH_KEY_CMP_PUBLIC) == 0) {
            if (is_revoked)
                revoked = true;
            else
                ok = true;
        }
        if (!is_revoked) {
            char *nl;
            seen = true;
            jg_gw_fingerprint(k, fp, sizeof(fp));
            nl = jg_xasprintf("%s%s%s %s", list ? list : "", list ? ", " : "",
                              l.type, fp);
            free(list);
            list = nl;
        }
        ssh_key_free(k);
    }
    free(data);
    if (ok && !revoked) {
        free(list);
        return 0;
    }
    if (!seen && !revoked) {
        free(list);
        return JG_ERR_NOTFOUND;
    }
    *known = list != NULL ? list : jg_xstrdup("(revoked)");
    return JG_ERR_DENIED;
}

/* Is one of the blobs (CA, certified key, whole certificate) revoked for
 * name, or its CA trusted for it? Reads the whole file. */
static int
cert_lines(const char *file, const char *name, const struct jg_gw_cert *c,
           const uint8_t *cert, size_t cert_len, bool *trusted, bool *revoked)
{
    char *data = NULL, *at;
    struct kh_line l;
    size_t len = 0, bl;
    int r, no = 0;

    *trusted = *revoked = false;
    if ((r = jg_read_file(file, KH_MAX_BYTES, &data, &len)) != 0)
        return r;
    at = data;
    while (kh_next(file, &at, &no, &l)) {
        bool ca = strcmp(l.marker, "@cert-authority") == 0;
        bool rev = strcmp(l.marker, "@revoked") == 0;
        uint8_t *b;

        if ((!ca && !rev) || !hosts_match(l.hosts, name))
            continue;
        if ((b = kh_blob(file, &l, &bl)) == NULL)
            continue;
        if (ca && bl == c->ca_len && memcmp(b, c->ca, bl) == 0)
            *trusted = true;
        if (rev && ((bl == c->ca_len && memcmp(b, c->ca, bl) == 0) ||
                    (bl == c->plain.n && memcmp(b, c->plain.p, bl) == 0) ||
                    (bl == cert_len && memcmp(b, cert, bl) == 0)))
            *revoked = true;
        free(b);
    }
    free(data);
    return 0;
}

bool
jg_gw_knownhosts_has_ca(const char *file, const char *host, uint16_t port)
{
    char *data = NULL, *at, name[300];
    struct kh_line l;
    size_t len = 0;
    bool found = false;
    int no = 0;

    host_name(host, port, name, sizeof(name));
    if (jg_read_file(file, KH_MAX_BYTES, &data, &len) != 0)
        return false;
    at = data;
    while (!found && kh_next(file, &at, &no, &l))
        found = strcmp(l.marker, "@cert-authority") == 0 &&
                hosts_match(l.hosts, name);
    free(data);
    return found;
}

int
jg_gw_knownhosts_cert_ok(const char *file, const char *host, uint16_t port,
                         const struct jg_gw_cert *c,
                         const uint8_t *blob, size_t len, int64_t now,
                         char *why, size_t whyn)
{
    char name[300];
    bool trusted, revoked;
    int r;

    host_name(host, port, name, sizeof(name));
    if ((r = cert_lines(file, name, c, blob, len, &trusted, &revoked)) != 0) {
        snprintf(why, whyn, "cannot read %s", file);
        return r;
    }
    if (revoked) {
        snprintf(why, whyn, "its host certificate (serial %llu, id \"%s\"), "
                 "its key or the CA that signed it is revoked in %s",
                 (unsigned long long)c->serial, c->key_id, file);
        return JG_ERR_DENIED;
    }
    if (!trusted)
        snprintf(why, whyn, "its host certificate (serial %llu, id \"%s\") is "
                 "signed by a CA that is not trusted for %s (no "
                 "@cert-authority line with that key in %s)",
                 (unsigned long long)c->serial, c->key_id, name, file);
    else if (c->type != JG_GW_CERT_HOST)
        snprintf(why, whyn, "it shows a user certificate as a host "
                 "certificate");
    else if ((uint64_t)now < c->valid_after ||
             (uint64_t)now >= c->valid_before)
        snprintf(why, whyn, "its host certificate (serial %llu, id \"%s\") "
                 "is %s", (unsigned long long)c->serial, c->key_id,
                 (uint64_t)now < c->valid_after ? "not yet valid" : "expired");
    else if (!jg_gw_cert_names(c, host))
        snprintf(why, whyn, "its host certificate (serial %llu, id \"%s\") "
                 "does not name %s", (unsigned long long)c->serial,
                 c->key_id, host);
    else if (c->n_critical != 0)
        snprintf(why, whyn, "its host certificate carries critical options, "
                 "which host certificates must not");
    else
        return 0;
    return JG_ERR_NOTFOUND;
}
