/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_policy.c - "jumpgate policy": picks the policy subcommand. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] policy check [FILE...]\n"
    "       jumpgate [-c FILE] policy explain --user U --from IP --target T\n"
    "                --action A [--login L] [--at TIME] [--json]\n"
    "       jumpgate [-c FILE] policy grant USER TARGET... --allow ACTIONS\n"
    "                --for DURATION|--until TIME [--from CIDR...]\n"
    "                [--login L...] --reason TEXT\n"
    "       jumpgate [-c FILE] policy revoke GRANT-ID\n"
    "       jumpgate [-c FILE] policy grants [--prune] [--json]\n"
    "       jumpgate [-c FILE] policy exposure [--at TIME] [--json]\n";

static const struct {
    const char *name;
    int (*run)(struct jg_cli *c, int argc, char **argv);
} cmds[] = {
    {"check", jg_cli_policy_check},   {"explain", jg_cli_policy_explain},
    {"grant", jg_cli_policy_grant},   {"revoke", jg_cli_policy_revoke},
    {"grants", jg_cli_policy_grants}, {"exposure", jg_cli_policy_exposure},
};

int
jg_cli_policy(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    size_t i;
    int ch;

    optind = 0;
    while ((ch = getopt_long(argc, argv, "+:c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return JG_EXIT_OK;
        default:
            return jg_cli_opt_error("policy", ch, argv, usage);
        }
    }
    if (optind >= argc)
        return jg_cli_usage_error("policy", usage, "no subcommand given");
    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[optind], cmds[i].name) == 0)
            return cmds[i].run(c, argc - optind, argv + optind);
    return jg_cli_usage_error("policy", usage, "unknown subcommand '%s'",
                              argv[optind]);
}
