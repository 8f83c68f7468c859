/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_audit_evidence.c - "jumpgate audit export ID --evidence": the
 * session's evidence archive (audit/evidence.c) on stdout, with the whole
 * chain slice of the event log (whoever reads the audit folder here sees
 * all of it), made by the account that runs it. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"

int
jg_cli_audit_evidence(struct jg_cli *c, const char *dir_opt, const char *id,
                      const char *pub)
{
    struct jg_audit_evidence x = {.id = id, .whole_log = true};
    const struct passwd *pw = getpwuid(getuid());
    char *dir = NULL, *priv = NULL, *pubpath = NULL, *by = NULL, err[512];
    int rc;

    if (isatty(STDOUT_FILENO)) {
        jg_error("audit export --evidence: the archive is binary (tar.gz); "
                 "send it to a file: jumpgate audit export %s --evidence > "
                 "%s.tar.gz", id, id);
        return JG_EXIT_ERROR;
    }
    if ((rc = jg_cli_audit_paths(c, dir_opt, &dir, &priv)) != 0)
        goto out;
    rc = JG_EXIT_ERROR;
    if (pub != NULL)
        pubpath = jg_xstrdup(pub);
    else if (priv != NULL)
        pubpath = jg_audit_key_pub_path(priv);
    if (pubpath == NULL || access(pubpath, R_OK) != 0) {
        jg_error("audit export --evidence: %s%s: the archive carries the "
                 "public key that proves it: give --key PUB or set "
                 "audit.signing_key (its public half is <key>.pub)",
                 pubpath ? "cannot read " : "no public key",
                 pubpath ? pubpath : "");
        goto out;
    }
    by = jg_xasprintf("%s (jumpgate audit export)",
                      pw != NULL ? pw->pw_name : "?");
    x.audit_dir = dir;
    x.pub_path = pubpath;
    x.by = by;
    if (jg_audit_evidence_write(&x, STDOUT_FILENO, err, sizeof(err)) != 0) {
        jg_error("audit export --evidence: %s", err);
        goto out;
    }
    rc = JG_EXIT_OK;
out:
    free(dir);
    free(priv);
    free(pubpath);
    free(by);
    return rc;
}
