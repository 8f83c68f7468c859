/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_audit_verify.c - "jumpgate audit verify": proves recordings and
 * the event log with the public seal key, or says what is wrong where;
 * cross-checks the recordings the log names, reports recorded gaps and
 * missing time, and with --against-s3 proves that the local log still
 * holds every seal line shipped to S3. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "sync/sync.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] audit verify [--key PUB] [--dir DIR]\n"
    "                [--strict] [--against-s3] [ID...|--all]\n";
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

/* Notes: recorded gaps, then warnings (missing time). */
static void
print_notes(struct jg_diags *n)
{
    size_t i;

    for (i = 0; i < n->n; i++) {
        const char *m = n->v[i].msg;
        const char *w = strncmp(m, "recorded gap", 12) == 0 ? "" : "WARNING: ";

        if (n->v[i].line > 0)
            printf("  %s:%d: %s%s\n", n->v[i].file, n->v[i].line, w, m);
        else
            printf("  %s: %s%s\n", n->v[i].file, w, m);
    }
    jg_diags_clear(n);
}

/* ", 2 recorded gaps" or "". */
static void
gaps_text(const struct jg_audit_log_status *st, char *buf, size_t n)
{
    buf[0] = '\0';
    if (st->gaps > 0)
        snprintf(buf, n, ", %zu recorded gap%s", st->gaps,
                 st->gaps == 1 ? "" : "s");
}

static int
verify_log(const char *dir, const struct jg_audit_key *key, bool strict)
{
    struct jg_audit_log_status st;
    struct jg_diags d = {0}, notes = {0};
    char gaps[64];
    int rc, r = jg_audit_verify_log_notes(dir, key, jg_audit_now_us(), &st,
                                          &d, &notes);

    gaps_text(&st, gaps, sizeof(gaps));
    if (r == 0 && st.files == 0) {
        printf("event log: empty\n");
        rc = JG_EXIT_OK;
    } else if (r == 0) {
        printf("event log: intact (%zu files, %zu lines, %zu seals%s)%s\n",
               st.files, st.lines, st.seals, gaps,
               st.missing_time > 0 ? "; WARNING: missing time" : "");
        rc = strict && st.missing_time > 0 ? JG_EXIT_NO : JG_EXIT_OK;
    } else if (r == JG_ERR_INVALID && st.unsealed > 0 && d.n == 1) {
        /* The only finding is the tail after the last seal: events that a
         * writer without the signing key appended (pam_jumpgate.so in a
         * process that is not root, an operator's `policy grant`), or that
         * a crash left behind. Not proven, so not "intact"; not altered
         * either. The next writer with the key seals them. */
        printf("event log: sealed part intact (%zu files, %zu lines, %zu "
               "seals%s); the unsealed tail is not proven yet\n",
               st.files, st.lines, st.seals, gaps);
        print_problems(&d);
        rc = JG_EXIT_NO;
    } else if (r == JG_ERR_INVALID) {
        printf("event log: NOT intact (%zu files, %zu lines, %zu valid "
               "seals%s)\n",
               st.files, st.lines, st.seals, gaps);
        print_problems(&d);
        rc = JG_EXIT_NO;
    } else {
        jg_diags_clear(&d);
        jg_diags_clear(&notes);
        jg_error("%s/events: %s", dir, r == JG_ERR_IO ? strerror(errno)
                                                       : jg_strerror(r));
        return JG_EXIT_ERROR;
    }
    print_notes(&notes);
    return rc;
}

/* Every recording the event log names must be there. */
static int
verify_named(const char *dir)
{
    struct jg_diags d = {0};
    size_t named, missing;
    int r = jg_audit_verify_named(dir, &named, &missing, &d);

    if (r == 0) {
        if (named > 0)
            printf("recordings named by the event log: all %zu present\n",
                   named);
        return JG_EXIT_OK;
    }
    if (r == JG_ERR_INVALID) {
        printf("recordings named by the event log: %zu of %zu MISSING\n",
               missing, named);
        print_problems(&d);
        return JG_EXIT_NO;
    }
    jg_diags_clear(&d);
    jg_error("%s: %s", dir, r == JG_ERR_IO ? strerror(errno) : jg_strerror(r));
    return JG_EXIT_ERROR;
}

/* The seal lines shipped to S3 must all be in the local log. */
static int
verify_against_s3(const struct jg_cli *c, const char *dir,
                  const struct jg_audit_key *key)
{
    const char *path = c->config != NULL ? c->config : jg_config_default_path();
    struct jg_config *cfg = NULL;
    struct jg_sync *s = NULL;
    struct jg_diags d = {0};
    size_t days = 0, lines = 0;
    int r, rc = JG_EXIT_ERROR;

    if (jg_cli_config(c, false, &cfg) != 0) {
        jg_error("audit verify --against-s3: the configuration's audit.s3 "
                 "says where the seal lines are");
        goto out;
    }
    if (cfg->s3_bucket == NULL) {
        jg_error("audit verify --against-s3: %s has no audit.s3 (bucket, "
                 "prefix, region)", path);
        goto out;
    }
    free(cfg->audit_dir);
    cfg->audit_dir = jg_xstrdup(dir);
    if ((r = jg_sync_new(cfg, &s)) != 0) {
        jg_error("audit verify --against-s3: %s", jg_strerror(r));
        goto out;
    }
    if ((r = jg_sync_seals_check(s, cfg, key, jg_audit_now_us(), &d, &days,
                                 &lines)) != 0) {
        jg_diags_clear(&d);
        jg_error("audit verify --against-s3: %s", jg_sync_error(s));
        goto out;
    }
    if (d.n == 0) {
        printf("seal lines in s3://%s: all %zu (of %zu day%s) are in the "
               "local log\n", cfg->s3_bucket, lines, days,
               days == 1 ? "" : "s");
        rc = JG_EXIT_OK;
    } else {
        printf("seal lines in s3://%s: the local log does NOT hold all %zu "
               "(of %zu day%s)\n", cfg->s3_bucket, lines, days,
               days == 1 ? "" : "s");
        print_problems(&d);
        rc = JG_EXIT_NO;
    }
out:
    jg_sync_free(s);
    jg_config_free(cfg);
    return rc;
}

static int
worst(int a, int b)
{
    return a > b ? a : b;
}

/* An unpacked evidence archive (audit export --evidence): its recording,
 * the slice of the event log's chain it holds (from the line its EVIDENCE
 * names, with no promise of time after it), and its copy of the session's
 * lines against that slice. Other sessions' recordings are not in it by
 * design, so the event log's cross-check is not made. */
static int
verify_evidence(const char *dir, const struct jg_audit_evidence_info *e,
                const struct jg_audit_key *key)
{
    struct jg_audit_log_status st;
    struct jg_diags d = {0};
    char **ids = NULL;
    size_t n = 0, i, lines = 0;
    int rc = JG_EXIT_OK, r;

    printf("evidence of session %s (made %s by %s)\n", e->session,
           e->made[0] ? e->made : "-", e->by[0] ? e->by : "-");
    if ((r = jg_audit_list_ids(dir, &ids, &n)) != 0 && r != JG_ERR_NOTFOUND) {
        jg_error("%s: %s", dir, r == JG_ERR_IO ? strerror(errno)
                                               : jg_strerror(r));
        return JG_EXIT_ERROR;
    }
    for (i = 0; i < n; i++) {
        if (strcmp(ids[i], e->session) != 0) {
            printf("%s: a recording of another session\n", ids[i]);
            rc = JG_EXIT_NO;
        }
        rc = worst(rc, verify_one(dir, ids[i], key));
    }
    if (n == 0)
        printf("%s: no recording (an SFTP session, or recording was off)\n",
               e->session);
    jg_strv_free(ids);
    if (!e->has_events) {
        if ((r = jg_audit_evidence_excerpt(dir, e->session, &lines, &d)) != 0)
            jg_diags_clear(&d);
        printf("session events: %zu line(s), NOT proven by this archive (it "
               "holds no chain: its maker may not see the whole log); prove "
               "them by seq against the jump host's event log\n", lines);
        return rc;
    }
    r = jg_audit_verify_log_from(dir, key, 0, e->prev, e->seq, &st, &d, NULL);
    if (r == 0) {
        printf("event log slice: intact (from seq %" PRIu64 ", %zu lines, "
               "%zu seals)\n", e->seq, st.lines, st.seals);
    } else if (r == JG_ERR_INVALID) {
        printf("event log slice: NOT intact (from seq %" PRIu64 ", %zu lines, "
               "%zu valid seals)\n", e->seq, st.lines, st.seals);
        print_problems(&d);
        rc = JG_EXIT_NO;
    } else {
        jg_diags_clear(&d);
        jg_error("%s/events: %s", dir, r == JG_ERR_IO ? strerror(errno)
                                                       : jg_strerror(r));
        return JG_EXIT_ERROR;
    }
    r = jg_audit_evidence_excerpt(dir, e->session, &lines, &d);
    if (r == 0) {
        printf("session events: %zu line(s), all in the slice\n", lines);
    } else if (r == JG_ERR_INVALID) {
        printf("session events: NOT as in the slice\n");
        print_problems(&d);
        rc = JG_EXIT_NO;
    } else {
        jg_error("%s/session-events.jsonl: %s", dir,
                 r == JG_ERR_IO ? strerror(errno) : jg_strerror(r));
        rc = JG_EXIT_ERROR;
    }
    return rc;
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
        {"strict", no_argument, NULL, 's'},
        {"against-s3", no_argument, NULL, '3'},
        {NULL, 0, NULL, 0},
    };
    const char *dir_opt = NULL, *key_opt = NULL;
    struct jg_audit_key *key = NULL;
    char *dir = NULL, *priv = NULL, *pub = NULL, **ids = NULL;
    bool all = false, strict = false, against_s3 = false;
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
        case 's':
            strict = true;
            break;
        case '3':
            against_s3 = true;
            break;
        default:
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    if (all && optind < argc)
        return jg_cli_usage_error(cmd, usage, "give IDs or --all, not both");
    if (against_s3 && optind < argc)
        return jg_cli_usage_error(cmd, usage,
                                  "--against-s3 checks the event log: give "
                                  "--all or no IDs");
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
    /* No ids: everything; an evidence archive as what it holds. */
    {
        struct jg_audit_evidence_info e;
        char err[512];

        r = jg_audit_evidence_read(dir, &e, err, sizeof(err));
        if (r == 0) {
            rc = verify_evidence(dir, &e, key);
            goto out;
        }
        if (r != JG_ERR_NOTFOUND) {
            jg_error("%s", r == JG_ERR_INVALID ? err : jg_strerror(r));
            rc = JG_EXIT_ERROR;
            goto out;
        }
    }
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
    rc = worst(rc, verify_log(dir, key, strict));
    rc = worst(rc, verify_named(dir));
    if (against_s3)
        rc = worst(rc, verify_against_s3(c, dir, key));
out:
    jg_strv_free(ids);
    jg_audit_key_free(key);
    free(dir);
    free(priv);
    free(pub);
    return rc;
}
