/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/hostcert.c - host certificates of targets. The worker
 * offers the *-cert-v01@openssh.com host key algorithms first, so a target
 * with a host certificate shows it in the key exchange, which proves that
 * the target holds the certified key. What the target sent is untrusted:
 * the certificate is parsed and its CA's signature checked here before
 * anything of it is believed, and it is accepted only under a CA that an
 * @cert-authority line of upstream.known_hosts trusts for the host. As in
 * OpenSSH's client, a certificate no trusted CA vouches for is not refused
 * outright: its key is then checked as a plain host key (a pinned key still
 * opens), unless the certificate, its key or its CA is @revoked. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "gateway/monitor/internal.h"

bool
jg_gw_hostcert_is_cert(const char *type)
{
    size_t tl = strlen(type), sl = strlen(JG_GW_CERT_SUFFIX);

    return tl > sl && strcmp(type + tl - sl, JG_GW_CERT_SUFFIX) == 0;
}

int
jg_gw_hostcert_check(const char *file, const char *host, uint16_t port,
                     const uint8_t *blob, size_t len, ssh_key *plain,
                     char *why, size_t whyn)
{
    struct jg_gw_cert c;
    int r;

    *plain = NULL;
    if (jg_gw_cert_parse(blob, len, &c, why, whyn) != 0) {
        char msg[400];

        jg_strlcpy(msg, why, sizeof(msg));
        snprintf(why, whyn, "its host certificate is not valid: %s", msg);
        return JG_ERR_DENIED;
    }
    r = jg_gw_knownhosts_cert_ok(file, host, port, &c, blob, len,
                                 (int64_t)time(NULL), why, whyn);
    if (r == JG_ERR_NOTFOUND) {
        /* The certified key, for the caller's plain check. */
        char *b64 = jg_xmalloc(4 * ((c.plain.n + 2) / 3) + 1);

        EVP_EncodeBlock((unsigned char *)b64, c.plain.p, (int)c.plain.n);
        if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(
                                                  c.key_type),
                                         plain) != SSH_OK) {
            snprintf(why, whyn, "cannot read the key of its host certificate");
            r = JG_ERR_DENIED;
        }
        free(b64);
    }
    jg_gw_cert_clear(&c);
    return r;
}
