/* SPDX-License-Identifier: Apache-2.0 */
/* policy/keys.c - checks OpenSSH public key lines with libssh's pki code. */
#include <libssh/libssh.h>
#include <string.h>

#include "policy/internal.h"

bool
jg_policy_key_ok(const char *line, char *why, size_t why_size)
{
    char type[64], *b64 = NULL;
    const char *sp, *end;
    enum ssh_keytypes_e kt;
    ssh_key key = NULL;
    bool ok = false;

    sp = strchr(line, ' ');
    if (sp == NULL || (size_t)(sp - line) >= sizeof(type)) {
        snprintf(why, why_size, "expected 'TYPE BASE64 [comment]'");
        return false;
    }
    memcpy(type, line, (size_t)(sp - line));
    type[sp - line] = '\0';
    kt = ssh_key_type_from_name(type);
    if (kt == SSH_KEYTYPE_UNKNOWN || kt == SSH_KEYTYPE_DSS ||
        kt == SSH_KEYTYPE_RSA1) {
        snprintf(why, why_size, "unsupported key type '%s'", type);
        return false;
    }
    while (*sp == ' ')
        sp++;
    end = strchr(sp, ' ');
    b64 = strndup(sp, end ? (size_t)(end - sp) : strlen(sp));
    if (b64 == NULL || *b64 == '\0' ||
        ssh_pki_import_pubkey_base64(b64, kt, &key) != SSH_OK) {
        snprintf(why, why_size, "the %s key data does not decode", type);
        goto out;
    }
    {
        /* the blob names its own type; it must be the one written */
        gsize blen = 0;
        guchar *blob = g_base64_decode(b64, &blen);
        uint32_t tl = blen >= 4 ? (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
                                      (uint32_t)blob[2] << 8 | blob[3]
                                : 0;
        bool same = tl == strlen(type) && blen >= 4 + tl &&
                    memcmp(blob + 4, type, tl) == 0;
        g_free(blob);
        if (!same) {
            snprintf(why, why_size, "the key data is not of type %s", type);
            goto out;
        }
    }
    ok = true;
out:
    ssh_key_free(key);
    free(b64);
    return ok;
}
