/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_check.c - "jumpgate policy check [FILE...]": validates policies
 * and summarises what each one holds. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] policy check [FILE...]\n";

/* Loads one policy (and its policy.d) and prints its summary. */
static int
check_one(const char *path, int64_t now)
{
    struct jg_policy *p = NULL;
    size_t n_files;
    int rc;

    if ((rc = jg_cli_load_policy(path, JG_EXIT_NO, &p)) != 0)
        return rc;
    n_files = jg_policy_n_files(p);
    printf("policy OK: %s (+%zu drop-in%s): %zu users, %zu targets, "
           "%zu rules, %zu grants (%zu active), %zu exposure entries\n",
           path, n_files > 0 ? n_files - 1 : 0, n_files == 2 ? "" : "s",
           jg_policy_n_users(p), jg_policy_n_targets(p), jg_policy_n_rules(p),
           jg_policy_n_grants(p), jg_cli_active_grants(p, now),
           jg_policy_n_exposures(p));
    if (jg_policy_n_members(p) > 0)
        printf("discovered members: %zu\n", jg_policy_n_members(p));
    jg_policy_free(p);
    return JG_EXIT_OK;
}

int
jg_cli_policy_check(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int64_t now = jg_now();
    char *path = NULL;
    int ch, i, rc = JG_EXIT_OK, r;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return JG_EXIT_OK;
        default:
            return jg_cli_opt_error("policy check", ch, argv, usage);
        }
    }
    if (optind == argc) {
        /* No file named: the configuration's policy. */
        if ((rc = jg_cli_policy_path(c, &path)) != 0)
            return rc;
        rc = check_one(path, now);
        free(path);
        return rc;
    }
    for (i = optind; i < argc; i++) {
        r = check_one(argv[i], now);
        /* A runtime error (2) outranks an invalid policy (1). */
        if (r > rc)
            rc = r;
    }
    return rc;
}
