/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_ca.c - "jumpgate ca keygen|show": the user CA at upstream.ca,
 * which signs a short-lived certificate for every upstream login. keygen
 * writes an Ed25519 key in OpenSSH's format (mode 0600) and its public
 * half at PATH.pub; show prints that one line, which targets name in
 * sshd_config's TrustedUserCAKeys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "audit/audit.h"
#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] ca keygen [--force]\n"
    "       jumpgate [-c FILE] ca show\n";

#define CA_COMMENT "jumpgate-user-ca"

/* upstream.ca from the configuration (caller frees), or an exit status. */
static int
ca_path(const struct jg_cli *c, const char *cmd, char **out)
{
    struct jg_config *cfg = NULL;

    *out = NULL;
    if (jg_cli_config(c, false, &cfg) != 0)
        return JG_EXIT_ERROR;
    if (cfg->upstream_ca == NULL) {
        jg_error("%s: upstream.ca is not set in %s", cmd,
                 c->config != NULL ? c->config : jg_config_default_path());
        jg_config_free(cfg);
        return JG_EXIT_ERROR;
    }
    *out = jg_xstrdup(cfg->upstream_ca);
    jg_config_free(cfg);
    return 0;
}

static int
keygen(const char *cmd, const char *path, bool force)
{
    char *pubpath = jg_xasprintf("%s.pub", path), *priv = NULL, *b64 = NULL;
    char *line = NULL;
    ssh_key key = NULL;
    int rc = JG_EXIT_ERROR, r;

    if (!force && (access(path, F_OK) == 0 || access(pubpath, F_OK) == 0)) {
        jg_error("%s: %s or %s exists; use --force to replace the CA (every "
                 "target must then trust the new one)", cmd, path, pubpath);
        goto out;
    }
    if (ssh_pki_generate_key(SSH_KEYTYPE_ED25519, NULL, &key) != SSH_OK ||
        ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &priv) != SSH_OK ||
        ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
        jg_error("%s: cannot make an Ed25519 key", cmd);
        goto out;
    }
    line = jg_xasprintf("ssh-ed25519 %s %s\n", b64, CA_COMMENT);
    if ((r = jg_audit_write_file(path, priv, strlen(priv), 0600, force)) != 0) {
        jg_error("%s: cannot write %s: %s", cmd, path,
                 r == JG_ERR_EXISTS ? "it exists" : strerror(errno));
        goto out;
    }
    if ((r = jg_audit_write_file(pubpath, line, strlen(line), 0644, force)) != 0) {
        jg_error("%s: cannot write %s: %s", cmd, pubpath,
                 r == JG_ERR_EXISTS ? "it exists" : strerror(errno));
        if (!force)
            unlink(path);       /* no private key without its public line */
        else
            jg_error("%s: %s is the new CA; its public line is what "
                     "\"jumpgate ca show\" prints", cmd, path);
        goto out;
    }
    printf("wrote %s (private, 0600) and %s (public); put the public line "
           "in each target's TrustedUserCAKeys file\n", path, pubpath);
    rc = JG_EXIT_OK;
out:
    if (priv != NULL)
        explicit_bzero(priv, strlen(priv));
    ssh_string_free_char(priv);
    ssh_string_free_char(b64);
    ssh_key_free(key);
    free(line);
    free(pubpath);
    return rc;
}

/* The public line: derived from the private key (root can read it), else
 * PATH.pub; a PATH.pub that does not match the private key is an error,
 * lest the targets be given the wrong CA. */
static int
show(const char *cmd, const char *path)
{
    char *pubpath = jg_xasprintf("%s.pub", path), *b64 = NULL;
    enum ssh_keytypes_e type = SSH_KEYTYPE_UNKNOWN;
    ssh_key key = NULL, pub = NULL;
    int rc = JG_EXIT_ERROR;

    if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK)
        key = NULL;
    if (ssh_pki_import_pubkey_file(pubpath, &pub) != SSH_OK)
        pub = NULL;
    if (key == NULL) {
        key = pub;
        pub = NULL;
    }
    if (key != NULL)
        type = ssh_key_type(key);
    if (key == NULL) {
        jg_error("%s: cannot read %s or %s (jumpgate ca keygen makes them)",
                 cmd, path, pubpath);
    } else if (pub != NULL && ssh_key_cmp(key, pub, SSH_KEY_CMP_PUBLIC) != 0) {
        jg_error("%s: %s does not hold the public half of %s; remove it and "
                 "run this again", cmd, pubpath, path);
    } else if (type != SSH_KEYTYPE_ED25519) {
        jg_error("%s: %s holds a %s key; the user CA must be ed25519", cmd,
                 path, ssh_key_type_to_char(type));
    } else if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
        jg_error("%s: cannot encode the key of %s", cmd, path);
    } else {
        printf("ssh-ed25519 %s %s\n", b64, CA_COMMENT);
        rc = JG_EXIT_OK;
    }
    ssh_string_free_char(b64);
    ssh_key_free(key);
    ssh_key_free(pub);
    free(pubpath);
    return rc;
}

static int
ca_cmd(struct jg_cli *c, int argc, char **argv, bool is_keygen)
{
    const char *cmd = is_keygen ? "ca keygen" : "ca show";
    bool force = false;
    char *path = NULL;
    int rc;

    if ((rc = jg_cli_plain_opts(c, cmd, usage, argc, argv,
                                is_keygen ? &force : NULL)) >= 0)
        return rc;
    if ((rc = ca_path(c, cmd, &path)) != 0)
        return rc;
    rc = is_keygen ? keygen(cmd, path, force) : show(cmd, path);
    free(path);
    return rc;
}

static int
ca_keygen(struct jg_cli *c, int argc, char **argv)
{
    return ca_cmd(c, argc, argv, true);
}

static int
ca_show(struct jg_cli *c, int argc, char **argv)
{
    return ca_cmd(c, argc, argv, false);
}

int
jg_cli_ca(struct jg_cli *c, int argc, char **argv)
{
    static const struct jg_cli_cmd cmds[] = {
        {"keygen", ca_keygen},
        {"show", ca_show},
    };

    return jg_cli_group(c, "ca", usage, cmds, sizeof(cmds) / sizeof(cmds[0]),
                        argc, argv);
}
