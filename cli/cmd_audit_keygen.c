/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_audit_keygen.c - "jumpgate audit keygen": makes the Ed25519 seal
 * key pair named by audit.signing_key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"

static const char usage[] = "usage: jumpgate [-c FILE] audit keygen [--force]\n";
static const char cmd[] = "audit keygen";

int
jg_cli_audit_keygen(struct jg_cli *c, int argc, char **argv)
{
    struct jg_audit_key *k = NULL;
    char *dir = NULL, *key = NULL, *pub = NULL;
    bool force = false;
    int rc, r;

    if ((rc = jg_cli_plain_opts(c, cmd, usage, argc, argv, &force)) >= 0)
        return rc;
    if ((rc = jg_cli_audit_paths(c, NULL, &dir, &key)) != 0)
        goto out;
    rc = JG_EXIT_ERROR;
    if (key == NULL) {
        jg_error("%s: audit.signing_key is not set in the configuration", cmd);
        goto out;
    }
    pub = jg_audit_key_pub_path(key);
    r = jg_audit_keygen(key, force);
    if (r == JG_ERR_EXISTS) {
        jg_error("%s: %s or %s exists; use --force to replace the key (old "
                 "seals then need the old public key)",
                 cmd, key, pub);
        goto out;
    }
    if (r != 0) {
        jg_error("%s: cannot write %s: %s", cmd, key,
                 r == JG_ERR_IO ? strerror(errno) : jg_strerror(r));
        goto out;
    }
    if (jg_audit_key_load_public(pub, &k) != 0) {
        jg_error("%s: cannot read back %s", cmd, pub);
        goto out;
    }
    printf("wrote %s (private, 0600) and %s (public); key id %s\n", key, pub,
           jg_audit_key_id(k));
    rc = JG_EXIT_OK;
out:
    jg_audit_key_free(k);
    free(dir);
    free(key);
    free(pub);
    return rc;
}
