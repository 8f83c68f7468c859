/* SPDX-License-Identifier: Apache-2.0 */
/* cli/main.c - the `jumpgate` command: global options, then dispatch to a
 * subcommand group. */
#include <getopt.h>
#include <libssh/libssh.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] = "usage: jumpgate [-c FILE] COMMAND [ARGS...]\n"
                            "       jumpgate --help | --version\n";

static const char help[] =
    "\n"
    "Global options (also accepted after the command):\n"
    "  -c, --config FILE   configuration file (default: $JUMPGATE_CONFIG or\n"
    "                      " JG_CONFIG_DEFAULT ")\n"
    "  -h, --help          this help\n"
    "  -V, --version       print the version\n"
    "\n"
    "Commands:\n"
    "  policy check [FILE...]       validate the policy\n"
    "  policy explain --user U --from IP --target T --action A\n"
    "                               [--login L] [--at TIME] [--json]\n"
    "  policy grant USER TARGET... --allow ACTIONS\n"
    "               --for DURATION|--until TIME\n"
    "               [--from CIDR...] [--login L...] --reason TEXT\n"
    "  policy revoke GRANT-ID\n"
    "  policy grants [--prune] [--json]\n"
    "  policy exposure [--at TIME] [--json]\n"
    "\n"
    "  sync plan [--json] | apply [--force] | run [--force] | discover\n"
    "                               keep AWS security groups and Cloudflare\n"
    "                               in step with the policy's exposure\n"
    "\n"
    "  audit keygen|list|show|replay|watch|export|events|search|verify\n"
    "                               the auditor's commands; see jumpgate-audit(1)\n"
    "  audit ship [--once] [--json] copy finished recordings, seals and past\n"
    "                               event-log days to audit.s3\n"
    "  audit serve [--assets DIR]   the auditors' web console (audit.console)\n"
    "\n"
    "  session list [--json]        live sessions of the running jumpgated\n"
    "  session kill ID              end one (root only)\n"
    "\n"
    "  ca keygen [--force]          make the user CA at upstream.ca\n"
    "  ca show                      its line for the targets' TrustedUserCAKeys\n"
    "\n"
    "Exit status: 0 success, 1 the answer is no (denied, invalid),\n"
    "2 usage or runtime error. See jumpgate(1).\n";

static int
dispatch(struct jg_cli *c, int argc, char **argv)
{
    if (strcmp(argv[0], "policy") == 0)
        return jg_cli_policy(c, argc, argv);
    if (strcmp(argv[0], "sync") == 0)
        return jg_cli_sync(c, argc, argv);
    if (strcmp(argv[0], "audit") == 0)
        return jg_cli_audit(c, argc, argv);
    if (strcmp(argv[0], "session") == 0)
        return jg_cli_session(c, argc, argv);
    if (strcmp(argv[0], "ca") == 0)
        return jg_cli_ca(c, argc, argv);
    jg_error("unknown command '%s'", argv[0]);
    fputs(usage, stderr);
    return JG_EXIT_ERROR;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct jg_cli c = {.config = NULL};
    int ch;

    jg_log_init("jumpgate", false, JG_LOG_INFO);
    opterr = 0;
    /* '+': stop at the command; its own options are parsed after it. */
    while ((ch = getopt_long(argc, argv, "+:c:hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c.config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            fputs(help, stdout);
            return JG_EXIT_OK;
        case 'V':
            printf("jumpgate %s (libssh %s, Debian source package %s, static)\n",
                   JG_VERSION, ssh_version(0), JG_LIBSSH_DEBIAN);
            return JG_EXIT_OK;
        default:
            return jg_cli_opt_error(NULL, ch, argv, usage);
        }
    }
    if (optind >= argc) {
        jg_error("no command given");
        fputs(usage, stderr);
        return JG_EXIT_ERROR;
    }
    return dispatch(&c, argc - optind, argv + optind);
}
