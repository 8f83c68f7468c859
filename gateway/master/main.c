/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/main.c - jumpgated's command line: check (-t), run in the
 * foreground (-f) or as a daemon logging to syslog. */
#include <getopt.h>
#include <libssh/libssh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/master/master.h"

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: jumpgated [-c FILE] [-f|--foreground] [-t|--test] [-d]\n"
            "\n"
            "The jumpgate SSH gateway (see jumpgated(8)).\n"
            "\n"
            "  -c, --config FILE  configuration (default $JUMPGATE_CONFIG or "
            "%s)\n"
            "  -f, --foreground   stay in the foreground and log to stderr\n"
            "  -t, --test         check the configuration and the policy, "
            "then exit\n"
            "  -d, --debug        log debug messages too\n"
            "      --help         this help\n"
            "      --version      the version\n",
            JG_CONFIG_DEFAULT);
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"foreground", no_argument, NULL, 'f'},
        {"test", no_argument, NULL, 't'},
        {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct jg_gw_daemon d;
    struct jg_diags diags = {0};
    const char *path = NULL;
    bool test = false, fg = false, debug = false;
    int c, r = 2;

    memset(&d, 0, sizeof(d));
    while ((c = getopt_long(argc, argv, "c:ftd", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'f':
            fg = true;
            break;
        case 't':
            test = true;
            break;
        case 'd':
            debug = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("jumpgated %s (libssh %s, Debian source package %s, static)\n",
                   JG_VERSION, ssh_version(0), JG_LIBSSH_DEBIAN);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "jumpgate: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (path == NULL)
        path = jg_config_default_path();
    jg_log_init(JG_GW_PROG, !(fg || test),
                debug ? JG_LOG_DEBUG : JG_LOG_INFO);
    if (ssh_init() != SSH_OK) {
        fprintf(stderr, "jumpgate: cannot initialise libssh\n");
        return 2;
    }
    if (jg_gw_daemon_load(path, &d, jg_gw_master_check, &diags) != 0) {
        jg_diags_print(&diags, stderr);
        if (diags.n == 0)
            fprintf(stderr, "jumpgate: %s: cannot load\n", path);
        r = test ? 1 : 2;
        goto out;
    }
    if (test) {
        printf("%s: configuration and policy OK (%zu users, %zu targets, "
               "%zu rules, %zu grants)\n",
               path, jg_policy_n_users(d.pol), jg_policy_n_targets(d.pol),
               jg_policy_n_rules(d.pol), jg_policy_n_grants(d.pol));
        r = 0;
        goto out;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "jumpgate: jumpgated must start as root (it drops "
                        "privileges per connection)\n");
        goto out;
    }
    if (jg_gw_prepare_chroot() != 0) {
        fprintf(stderr, "jumpgate: cannot prepare %s\n", JG_GW_CHROOT);
        goto out;
    }
    d.foreground = fg;
    if (!fg && daemon(0, 0) != 0) {
        perror("jumpgate: daemon");
        goto out;
    }
    r = jg_gw_master_run(&d);
out:
    jg_diags_clear(&diags);
    jg_gw_daemon_clear(&d);
    ssh_finalize();
    return r;
}
