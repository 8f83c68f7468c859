/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_revoke.c - "jumpgate policy revoke": removes a grant's drop-in
 * file from policy.d/. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit/audit.h"
#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] policy revoke GRANT-ID [--by NAME]\n";
static const char cmd[] = "policy revoke";

int
jg_cli_policy_revoke(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"by", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    struct jg_diags d = {0};
    char *path = NULL, *dir = NULL, by[JG_CLI_BY_MAX + 1];
    const char *id, *by_opt = NULL;
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
        case 'b':
            by_opt = optarg;
            break;
        default:
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    if (argc - optind != 1)
        return jg_cli_usage_error(cmd, usage, "name exactly one grant id");
    id = argv[optind];
    if ((rc = jg_cli_operator(cmd, by_opt, by, sizeof(by))) != 0)
        return rc;

    if ((rc = jg_cli_policy_path(c, &path)) != 0)
        return rc;
    r = jg_policy_grant_revoke(path, id, &d);
    err = errno;
    switch (r) {
    case 0:
        jg_cli_print_diags(&d);
        printf("revoked %s\n", id);
        rc = JG_EXIT_OK;
        {
            json_t *x = json_pack("{s:s,s:s}", "grant", id, "by", by);
            struct jg_audit_event ev = {.type = "grant.revoke", .extra = x};
            if (jg_cli_audit_event(c, &ev) != 0)
                rc = JG_EXIT_ERROR;
            json_decref(x);
        }
        if (jg_cli_control_reload(c, cmd, by) != 0)
            rc = JG_EXIT_ERROR;
        break;
    case JG_ERR_NOTFOUND:
        dir = jg_path_relative_to(path, "policy.d");
        jg_error("no grant %s in %s", id, dir);
        rc = JG_EXIT_NO;
        break;
    case JG_ERR_INVALID:
        jg_cli_report_invalid(&d, "grant not revoked");
        jg_cli_control_keeps(c, cmd);
        rc = JG_EXIT_NO;
        break;
    case JG_ERR_IO:
        jg_cli_report_io(&d, path, err);
        rc = JG_EXIT_ERROR;
        break;
    default:
        jg_cli_print_diags(&d);
        jg_error("cannot revoke %s: %s", id, jg_strerror(r));
        rc = JG_EXIT_ERROR;
        break;
    }
    jg_diags_clear(&d);
    free(dir);
    free(path);
    return rc;
}
