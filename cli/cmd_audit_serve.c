/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_audit_serve.c - "jumpgate audit serve": runs the auditors' web
 * console of audit.console (console/console.h) in the foreground until
 * SIGINT or SIGTERM. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "console/console.h"

#ifndef JG_CONSOLE_ASSETS
#define JG_CONSOLE_ASSETS "/usr/share/jumpgate/console"
#endif

static const char usage[] =
    "usage: jumpgate [-c FILE] audit serve [--assets DIR]\n";

static void
ready(const char *listen, void *arg)
{
    (void)arg;
    printf("audit console: listening on %s\n", listen);
    fflush(stdout);
}

int
jg_cli_audit_serve(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"assets", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    struct jg_console_opts o = {.assets_dir = JG_CONSOLE_ASSETS, .ready = ready};
    struct jg_config *cfg = NULL;
    char why[512];
    int ch, r;

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
            o.assets_dir = optarg;
            break;
        default:
            return jg_cli_opt_error("audit serve", ch, argv, usage);
        }
    }
    if (optind != argc)
        return jg_cli_usage_error("audit serve", usage, "no arguments expected");
    if (jg_cli_config(c, false, &cfg) != 0)
        return JG_EXIT_ERROR;
    o.config_path = cfg->path;
    r = jg_console_serve(cfg, &o, why, sizeof(why));
    jg_config_free(cfg);
    if (r != 0) {
        jg_error("audit serve: %s", why);
        return JG_EXIT_ERROR;
    }
    return JG_EXIT_OK;
}
