/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_policy.c - "jumpgate policy": picks the policy subcommand. */
#include <stdio.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] policy check [FILE...]\n"
    "       jumpgate [-c FILE] policy explain --user U --from IP --target T\n"
    "                --action A [--login L] [--at TIME] [--json]\n"
    "       jumpgate [-c FILE] policy grant USER TARGET... --allow ACTIONS\n"
    "                --for DURATION|--until TIME [--from CIDR...]\n"
    "                [--login L...] --reason TEXT [--by NAME]\n"
    "       jumpgate [-c FILE] policy revoke GRANT-ID [--by NAME]\n"
    "       jumpgate [-c FILE] policy status [--json]\n"
    "       jumpgate [-c FILE] policy grants [--prune] [--json]\n"
    "       jumpgate [-c FILE] policy exposure [--at TIME] [--json]\n";

static const struct jg_cli_cmd cmds[] = {
    {"check", jg_cli_policy_check},   {"explain", jg_cli_policy_explain},
    {"grant", jg_cli_policy_grant},   {"revoke", jg_cli_policy_revoke},
    {"grants", jg_cli_policy_grants}, {"exposure", jg_cli_policy_exposure},
    {"status", jg_cli_policy_status},
};

int
jg_cli_policy(struct jg_cli *c, int argc, char **argv)
{
    return jg_cli_group(c, "policy", usage, cmds, sizeof(cmds) / sizeof(cmds[0]),
                        argc, argv);
}
