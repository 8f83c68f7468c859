/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_audit_verify.c - "jumpgate audit verify": proves recordings and
 * the event log with the public seal key, or says what is wrong where. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] audit verify [--key PUB] [--dir DIR]\n"
    "                [ID...|--all]\n";
static const char cmd[] = "audit verify";

/* Problems as "FILE:LINE: msg" (or "FILE: msg"), in the order found. */
static void
print_problems(struct jg_diags *d)
{
    size_t i;

    for (i = 0; i < d->n; i++) {
        if (d->v[i].line > 0)
            printf("  %s:%d: %s\n", d->v[i].file, d->v[i].line, d->v[i].msg);
        else
            printf("  %s: %s\n", d->v[i].file, d->v[i].msg);
    }
    jg_diags_clear(d);
}

/* 0 intact, 1 not, 2 cannot tell. */
static int
verify_one(const char *dir, const char *id, const struct jg_audit_key *key)
{
    struct jg_audit_cast_status st;
    struct jg_diags d = {0};
    char *path = NULL;
    int rc, r;

    if ((rc = jg_cli_audit_rec(dir, id, &path)) != 0)
        return rc;
    r = jg_audit_verify_rec(path, id, key, &st, &d);
    if (r == 0) {
        printf("%s: intact (%" PRIu64 " bytes, %zu checkpoints, final)\n", id,
               st.size, st.checkpoints);
        rc = JG_EXIT_OK;
    } else if (r == JG_ERR_INVALID) {
        if (st.sealed > 0 && st.checkpoints > 0 && d.n > 0 &&
            !st.seal_missing)
            printf("%s: NOT intact; the first %" PRIu64
                   " bytes are sealed and intact\n",
                   id, st.sealed);
        else
            printf("%s: NOT intact\n", id);
        print_problems(&d);
        rc = JG_EXIT_NO;
    } else {
        jg_error("%s: %s", path, r == JG_ERR_IO ? strerror(errno)
                                                 : jg_strerror(r));
        rc = JG_EXIT_ERROR;
    }
    jg_diags_clear(&d);
    free(path);
        return rc;
}

static int
verify_log(const char *dir, const struct jg_audit_key *key)
{
    struct jg_audit_log_status st;
    struct jg_diags d = {0};
    int r = jg_audit_verify_log(dir, key, &st, &d);

    if (r == 0 && st.files == 0) {
        printf("event log: empty\n");
        return JG_EXIT_OK;
    }
    if (r == 0) {
        printf("event log: intact (%zu files, %zu lines, %zu seals)\n",
               st.files, st.lines, st.seals);
        return JG_EXIT_OK;
    }
    if (r == JG_ERR_INVALID && st.unsealed > 0 && d.n == 1) {
        /* The only finding is the tail after the last seal: events that a
         * writer without the signing key appended (pam_jumpgate.so in a
         * process that is not root, an operator's `policy grant`), or that
         * a crash left behind. Not proven, so not "intact"; not altered
         * either. The next writer with the key seals them. */
        printf("event log: sealed part intact (%zu files, %zu lines, %zu "
               "seals); the unsealed tail is not proven yet\n",
               st.files, st.lines, st.seals);
        print_problems(&d);
        return JG_EXIT_NO;
    }
    if (r == JG_ERR_INVALID) {
        printf("event log: NOT intact (%zu files, %zu lines, %zu valid "
               "seals)\n",
               st.files, st.lines, st.seals);
        print_problems(&d);
        return JG_EXIT_NO;
    }
    jg_diags_clear(&d);
    jg_error("%s/events: %s", dir, r == JG_ERR_IO ? strerror(errno)
                                                   : jg_strerror(r));
    return JG_EXIT_ERROR;
}

static int
worst(int a, int b)
{
    return a > b ? a : b;
}

int
jg_cli_audit_verify(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"all", no_argument, NULL, 'a'},
        {"key", required_argument, NULL, 'k'},
        {"dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *dir_opt = NULL, *key_opt = NULL;
    struct jg_audit_key *key = NULL;
    char *dir = NULL, *priv = NULL, *pub = NULL, **ids = NULL;
    bool all = false;
    size_t n = 0, i;
    int ch, rc, r;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return JG_EXIT_OK;
        case 'a':
            all = true;
            break;
        case 'k':
            key_opt = optarg;
            break;
        case 'd':
            dir_opt = optarg;
            break;
        default:
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    if (all && optind < argc)
        return jg_cli_usage_error(cmd, usage, "give IDs or --all, not both");
    if ((rc = jg_cli_audit_paths(c, dir_opt, &dir, &priv)) != 0)
        goto out;
    rc = JG_EXIT_ERROR;
    if (key_opt != NULL)
        pub = jg_xstrdup(key_opt);
    else if (priv != NULL)
        pub = jg_audit_key_pub_path(priv);
    if (pub == NULL) {
        jg_error("%s: no public key: give --key PUB or set audit.signing_key "
                 "(its public half is <key>.pub)",
                 cmd);
        goto out;
    }
    r = jg_audit_key_load_public(pub, &key);
    if (r != 0) {
        jg_error("%s: no public key: %s: %s", cmd, pub,
                 r == JG_ERR_INVALID
                     ? "not an Ed25519 PEM key"
                     : strerror(r == JG_ERR_NOTFOUND ? ENOENT : errno));
        goto out;
    }
    rc = JG_EXIT_OK;
    if (optind < argc) {
        for (i = (size_t)optind; i < (size_t)argc; i++)
            rc = worst(rc, verify_one(dir, argv[i], key));
        goto out;
    }
    /* No ids: everything. */
    r = jg_audit_list_ids(dir, &ids, &n);
    if (r != 0) {
        jg_error("%s: %s", dir, r == JG_ERR_NOTFOUND ? "does not exist"
                               : r == JG_ERR_IO     ? strerror(errno)
                                                    : jg_strerror(r));
        rc = JG_EXIT_ERROR;
        goto out;
    }
    for (i = 0; i < n; i++)
        rc = worst(rc, verify_one(dir, ids[i], key));
    rc = worst(rc, verify_log(dir, key));
out:
    jg_strv_free(ids);
    jg_audit_key_free(key);
    free(dir);
    free(priv);
    free(pub);
    return rc;
}
