/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_grant.c - "jumpgate policy grant": writes a temporary grant as a
 * drop-in file in policy.d/. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit/audit.h"
#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] policy grant USER TARGET... --allow ACTIONS\n"
    "                --for DURATION|--until TIME [--from CIDR...]\n"
    "                [--login L...] --reason TEXT [--by NAME]\n";
static const char cmd[] = "policy grant";

/* Lists given as repeated options and/or comma-separated values. */
struct grant_args {
    char **allow;
    size_t n_allow;
    char **from;
    size_t n_from;
    char **logins;
    size_t n_logins;
    const char *dur, *until, *reason;
};

static void
grant_args_free(struct grant_args *a)
{
    jg_cli_strv_free(a->allow, a->n_allow);
    jg_cli_strv_free(a->from, a->n_from);
    jg_cli_strv_free(a->logins, a->n_logins);
}

/* Checks the option values; fills the action mask and the end time. */
static int
validate(const struct grant_args *a, int64_t now, unsigned *mask,
         int64_t *until)
{
    struct jg_cidr cidr;
    int64_t secs;
    size_t i;

    *mask = 0;
    if (a->n_allow == 0)
        return jg_cli_usage_error(cmd, usage, "--allow is required");
    for (i = 0; i < a->n_allow; i++) {
        unsigned bit = jg_policy_action_parse(a->allow[i]);

        if (bit == 0)
            return jg_cli_usage_error(cmd, NULL,
                                      "unknown action '%s' (use shell, exec, "
                                      "sftp, forward or jump)",
                                      a->allow[i]);
        *mask |= bit;
    }
    if ((a->dur == NULL) == (a->until == NULL))
        return jg_cli_usage_error(cmd, usage,
                                  "give exactly one of --for and --until");
    if (a->dur != NULL) {
        if (jg_duration_parse(a->dur, &secs) != 0)
            return jg_cli_usage_error(cmd, NULL,
                                      "--for '%s' is not a duration (use e.g. "
                                      "90s, 30m, 4h, 7d, 2w or 1h30m)",
                                      a->dur);
        if (secs > JG_TIME_NEVER - now)
            return jg_cli_usage_error(cmd, NULL, "--for '%s' is too long",
                                      a->dur);
        *until = now + secs;
    } else {
        if (jg_time_parse(a->until, until) != 0)
            return jg_cli_usage_error(cmd, NULL,
                                      "--until '%s' is not a time (use RFC "
                                      "3339, e.g. 2026-11-27T18:00:00Z)",
                                      a->until);
        if (*until <= now)
            return jg_cli_usage_error(
                cmd, NULL, "--until '%s' is not in the future", a->until);
    }
    for (i = 0; i < a->n_from; i++)
        if (jg_cidr_parse(a->from[i], &cidr, NULL) != 0)
            return jg_cli_usage_error(
                cmd, NULL, "--from '%s' is not an address or CIDR", a->from[i]);
    if (a->reason == NULL || a->reason[0] == '\0')
        return jg_cli_usage_error(cmd, usage, "--reason is required");
    for (i = 0; a->reason[i] != '\0'; i++)
        if ((unsigned char)a->reason[i] < 0x20 || a->reason[i] == 0x7f)
            return jg_cli_usage_error(cmd, NULL,
                                      "--reason must be one line of text, "
                                      "without control characters");
    return 0;
}

/* "granted g-...: alice → rds-prod, grafana (forward) until ..." */
static void
print_granted(const char *id, const struct jg_grant_spec *s)
{
    char acts[64], when[JG_TIME_STRLEN];
    size_t i;

    jg_policy_actions_format(s->allow, acts, sizeof(acts));
    jg_time_format(s->until, when, sizeof(when));
    printf("granted %s: %s \u2192 ", id, s->user);
    for (i = 0; i < s->n_targets; i++)
        printf("%s%s", i > 0 ? ", " : "", s->targets[i]);
    printf(" (%s) until %s\n", acts, when);
}

int
jg_cli_policy_grant(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"allow", required_argument, NULL, 'a'},
        {"for", required_argument, NULL, 'F'},
        {"until", required_argument, NULL, 'U'},
        {"from", required_argument, NULL, 'f'},
        {"login", required_argument, NULL, 'l'},
        {"reason", required_argument, NULL, 'r'},
        {"by", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    struct grant_args a = {0};
    struct jg_grant_spec spec = {0};
    struct jg_diags d = {0};
    int64_t now = jg_now();
    char *path = NULL;
    const char *by_opt = NULL;
    char id[32], by[JG_CLI_BY_MAX + 1];
    int ch, rc, r, err;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            rc = JG_EXIT_OK;
            goto out;
        case 'a':
            jg_cli_split_append(optarg, &a.allow, &a.n_allow);
            break;
        case 'F':
            a.dur = optarg;
            break;
        case 'U':
            a.until = optarg;
            break;
        case 'f':
            jg_cli_split_append(optarg, &a.from, &a.n_from);
            break;
        case 'l':
            jg_cli_split_append(optarg, &a.logins, &a.n_logins);
            break;
        case 'r':
            a.reason = optarg;
            break;
        case 'b':
            by_opt = optarg;
            break;
        default:
            rc = jg_cli_opt_error(cmd, ch, argv, usage);
            goto out;
        }
    }
    if (argc - optind < 2) {
        rc = jg_cli_usage_error(cmd, usage,
                                "name a user and at least one target");
        goto out;
    }
    if ((rc = validate(&a, now, &spec.allow, &spec.until)) != 0)
        goto out;
    if ((rc = jg_cli_operator(cmd, by_opt, by, sizeof(by))) != 0)
        goto out;
    spec.author = by;
    spec.user = argv[optind];
    spec.targets = (const char *const *)(argv + optind + 1);
    spec.n_targets = (size_t)(argc - optind - 1);
    spec.logins = (const char *const *)a.logins;
    spec.n_logins = a.n_logins;
    spec.from = (const char *const *)a.from;
    spec.n_from = a.n_from;
    spec.reason = a.reason;

    if ((rc = jg_cli_policy_path(c, &path)) != 0)
        goto out;
    r = jg_policy_grant_write(path, &spec, now, id, sizeof(id), &d);
    err = errno;
    switch (r) {
    case 0:
        jg_cli_print_diags(&d);
        print_granted(id, &spec);
        rc = JG_EXIT_OK;
        {
            json_t *x = json_pack("{s:s,s:o,s:o,s:o,s:o,s:s}", "grant", id,
                                  "targets",
                                  jg_cli_json_strv(spec.targets, spec.n_targets),
                                  "allow", jg_cli_json_actions(spec.allow), "until",
                                  jg_cli_json_time(spec.until), "grant_from",
                                  jg_cli_json_strv(spec.from, spec.n_from),
                                  "by", by);
            struct jg_audit_event ev = {.type = "grant.add", .user = spec.user,
                                        .reason = spec.reason, .extra = x};
            if (jg_cli_audit_event(c, &ev) != 0)
                rc = JG_EXIT_ERROR;
            json_decref(x);
        }
        if (jg_cli_control_reload(c, cmd, by) != 0)
            rc = JG_EXIT_ERROR;
        break;
    case JG_ERR_INVALID:
        jg_cli_report_invalid(&d, "grant refused");
        jg_cli_control_keeps(c, cmd);
        rc = JG_EXIT_NO;
        break;
    case JG_ERR_IO:
        jg_cli_report_io(&d, path, err);
        rc = JG_EXIT_ERROR;
        break;
    default:
        jg_cli_print_diags(&d);
        jg_error("cannot write the grant: %s", jg_strerror(r));
        rc = JG_EXIT_ERROR;
        break;
    }
out:
    jg_diags_clear(&d);
    grant_args_free(&a);
    free(path);
    return rc;
}
