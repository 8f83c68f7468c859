/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_grants.c - "jumpgate policy grants": lists the grants of the
 * policy, after pruning the ended ones when asked. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] policy grants [--prune] [--json]\n";
static const char cmd[] = "policy grants";

enum {
    COL_ID,
    COL_USER,
    COL_TARGETS,
    COL_ALLOW,
    COL_FROM,
    COL_UNTIL,
    COL_STATE,
    COL_REASON,
    NCOLS
};
static const char *const col_names[NCOLS] = {
    "ID", "USER", "TARGETS", "ALLOW", "FROM", "UNTIL", "STATE", "REASON"};

/* One table row; every cell allocated. */
struct row {
    char *cell[NCOLS];
};

static char *
join_strv(const char *const *v, size_t n)
{
    size_t i, len = 1;
    char *s;

    for (i = 0; i < n; i++)
        len += strlen(v[i]) + 1;
    s = jg_xcalloc(1, len);
    for (i = 0; i < n; i++) {
        size_t at = strlen(s);

        snprintf(s + at, len - at, "%s%s", i > 0 ? "," : "", v[i]);
    }
    return s;
}

/* The grant's own from, or "-" when it uses the user's. */
static char *
join_cidrs(const struct jg_cidr *v, size_t n)
{
    size_t i, len = n * (JG_CIDR_STRLEN + 1) + 2;
    char *s = jg_xcalloc(1, len);

    if (n == 0)
        snprintf(s, len, "-");
    for (i = 0; i < n; i++) {
        size_t at = strlen(s);

        if (i > 0)
            s[at++] = ',';
        jg_cidr_format(&v[i], s + at, len - at);
    }
    return s;
}

/* Control characters (a hand-written reason may hold a newline) would
 * break the table or reach the terminal: they are shown as '?'. Takes and
 * returns s. */
static char *
clean(char *s)
{
    char *p;

    for (p = s; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return s;
}

static void
fill_row(struct row *r, const struct jg_grant *g, int64_t now)
{
    char buf[JG_TIME_STRLEN + 64];

    r->cell[COL_ID] = clean(jg_xstrdup(g->id));
    r->cell[COL_USER] = clean(jg_xstrdup(g->user));
    r->cell[COL_TARGETS] = clean(join_strv(g->targets, g->n_targets));
    jg_policy_actions_format(g->allow, buf, sizeof(buf));
    r->cell[COL_ALLOW] = jg_xstrdup(buf);
    r->cell[COL_FROM] = join_cidrs(g->from, g->n_from);
    jg_time_format(g->until, buf, sizeof(buf));
    r->cell[COL_UNTIL] = jg_xstrdup(buf);
    r->cell[COL_STATE] = jg_xstrdup(g->until > now ? "active" : "expired");
    r->cell[COL_REASON] = clean(jg_xstrdup(g->reason != NULL ? g->reason : ""));
}

static int
print_table(const struct jg_policy *p, int64_t now)
{
    size_t n = jg_policy_n_grants(p), i, k, w[NCOLS];
    struct row *rows = jg_xcalloc(n > 0 ? n : 1, sizeof(*rows));

    for (k = 0; k < NCOLS; k++)
        w[k] = strlen(col_names[k]);
    for (i = 0; i < n; i++) {
        fill_row(&rows[i], jg_policy_grant_at(p, i), now);
        for (k = 0; k < NCOLS; k++)
            if (strlen(rows[i].cell[k]) > w[k])
                w[k] = strlen(rows[i].cell[k]);
    }
    /* The last column is not padded. */
    for (k = 0; k < NCOLS; k++) {
        if (k + 1 < NCOLS)
            printf("%-*s  ", (int)w[k], col_names[k]);
        else
            printf("%s\n", col_names[k]);
    }
    for (i = 0; i < n; i++) {
        for (k = 0; k < NCOLS; k++) {
            if (k + 1 < NCOLS)
                printf("%-*s  ", (int)w[k], rows[i].cell[k]);
            else
                printf("%s\n", rows[i].cell[k]);
            free(rows[i].cell[k]);
        }
    }
    free(rows);
    return fflush(stdout) == 0 ? JG_EXIT_OK : JG_EXIT_ERROR;
}

static int
print_json(const struct jg_policy *p, int64_t now)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a != NULL && i < jg_policy_n_grants(p); i++) {
        const struct jg_grant *g = jg_policy_grant_at(p, i);
        json_t *o = json_object();

        if (o == NULL)
            break;
        json_object_set_new(o, "id", json_string(g->id));
        json_object_set_new(o, "user", json_string(g->user));
        json_object_set_new(o, "targets",
                            jg_cli_json_strv(g->targets, g->n_targets));
        json_object_set_new(o, "allow", jg_cli_json_actions(g->allow));
        json_object_set_new(o, "from", jg_cli_json_cidrs(g->from, g->n_from));
        json_object_set_new(o, "logins",
                            jg_cli_json_strv(g->logins, g->n_logins));
        json_object_set_new(o, "until", jg_cli_json_time(g->until));
        json_object_set_new(o, "created",
                            g->created != 0 ? jg_cli_json_time(g->created)
                                            : json_null());
        json_object_set_new(o, "reason",
                            g->reason != NULL ? json_string(g->reason)
                                              : json_null());
        json_object_set_new(o, "author",
                            g->author != NULL ? json_string(g->author)
                                              : json_null());
        json_object_set_new(o, "state",
                            json_string(g->until > now ? "active" : "expired"));
        json_object_set_new(
            o, "file", g->file != NULL ? json_string(g->file) : json_null());
        json_object_set_new(o, "line", json_integer(g->line));
        json_array_append_new(a, o);
    }
    return jg_cli_json_print(a);
}

/* Where "pruned ..." lines go: stdout, or stderr under --json. */
/* What pruned_cb needs: where to print, and the config for the event log. */
struct prune_arg {
    FILE *out;
    const struct jg_cli *c;
    bool failed;
};

static void
pruned_cb(const char *id, const char *user, int64_t until, void *arg)
{
    struct prune_arg *a = arg;
    char buf[JG_TIME_STRLEN];
    json_t *x;
    struct jg_audit_event ev = {.type = "grant.expire", .user = user};

    jg_time_format(until, buf, sizeof(buf));
    fprintf(a->out, "%spruned %s (%s, ended %s)\n",
            a->out == stderr ? "jumpgate: " : "", id, user, buf);
    x = json_pack("{s:s,s:o}", "grant", id, "until", jg_cli_json_time(until));
    ev.extra = x;
    if (jg_cli_audit_event(a->c, &ev) != 0)
        a->failed = true;
    json_decref(x);
}

int
jg_cli_policy_grants(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"prune", no_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    bool json = false, prune = false;
    int64_t now = jg_now();
    char *path = NULL;
    int ch, rc, r, err;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return JG_EXIT_OK;
        case 'p':
            prune = true;
            break;
        case 'j':
            json = true;
            break;
        default:
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    if (optind < argc)
        return jg_cli_usage_error(cmd, usage, "unexpected argument '%s'",
                                  argv[optind]);
    if ((rc = jg_cli_policy_path(c, &path)) != 0)
        return rc;
    if (prune) {
        struct prune_arg pa = {.out = json ? stderr : stdout, .c = c};
        r = jg_policy_grant_prune(path, now, pruned_cb, &pa, &d);
        if (pa.failed)
            rc = JG_EXIT_ERROR;
        err = errno;
        if (r == JG_ERR_IO) {
            jg_cli_report_io(&d, path, err);
            rc = JG_EXIT_ERROR;
            goto out;
        }
        if (r < 0) {
            jg_cli_print_diags(&d);
            jg_error("cannot prune grants: %s", jg_strerror(r));
            rc = JG_EXIT_ERROR;
            goto out;
        }
        jg_cli_print_diags(&d);
    }
    if ((rc = jg_cli_load_policy(path, JG_EXIT_ERROR, &p)) != 0)
        goto out;
    rc = json ? print_json(p, now) : print_table(p, now);
out:
    jg_diags_clear(&d);
    jg_policy_free(p);
    free(path);
    return rc;
}
