/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/knownhosts.c - strict host key checking of targets against
 * upstream.known_hosts (OpenSSH format, hashed names too). */
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

int
jg_gw_knownhosts_check(const char *file, const char *host, uint16_t port,
                       const ssh_key key, char **known)
{
    char *data = NULL, *line, *save = NULL, name[300], fp[128];
    size_t len = 0;
    bool seen = false, revoked = false, ok = false;
    char *list = NULL;
    int r;

    *known = NULL;
    if (port == 22)
        jg_strlcpy(name, host, sizeof(name));
    else
        snprintf(name, sizeof(name), "[%s]:%u", host, port);
    if ((r = jg_read_file(file, KH_MAX_BYTES, &data, &len)) != 0)
        return r;
    for (line = strtok_r(data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *f[4] = {NULL}, *sp = NULL, *tok;
        bool is_revoked = false;
        ssh_key k = NULL;
        int nf = 0;

        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '#' || *line == '\0')
            continue;
        for (tok = strtok_r(line, " \t\r", &sp); tok != NULL && nf < 4;
             tok = strtok_r(NULL, " \t\r", &sp))
            f[nf++] = tok;
        if (nf >= 1 && f[0][0] == '@') {
            if (strcmp(f[0], "@revoked") != 0)
                continue; /* @cert-authority: not used for targets */
            is_revoked = true;
            memmove(f, f + 1, 3 * sizeof(f[0]));
            f[3] = NULL;
            nf--;
        }
        if (nf < 3 || !hosts_match(f[0], name))
            continue;
        if (ssh_pki_import_pubkey_base64(f[2], ssh_key_type_from_name(f[1]),
                                         &k) != SSH_OK)
            continue;
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
                              f[1], fp);
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
