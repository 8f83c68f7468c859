/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_sync.c - "jumpgate sync plan|apply|run": keeps the AWS security
 * groups and Cloudflare in step with the policy (DESIGN.md section 10). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "sync/sync.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] sync plan [--json]\n"
    "       jumpgate [-c FILE] sync apply [--force]\n"
    "       jumpgate [-c FILE] sync run [--force]\n";

/* Set by SIGTERM/SIGINT during "sync run" (the only state a signal
 * handler may touch). */
static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int
load_config(const struct jg_cli *c, struct jg_config **cfg)
{
    const char *path = c->config != NULL ? c->config : jg_config_default_path();
    struct jg_diags d = {0};
    int r, err;

    r = jg_config_load(path, cfg, &d);
    err = errno;
    if (r == 0) {
        jg_diags_clear(&d);
        return 0;
    }
    if (r == JG_ERR_IO) {
        jg_diags_clear(&d);
        jg_error("cannot read configuration %s: %s", path, strerror(err));
    } else if (r == JG_ERR_INVALID) {
        jg_cli_report_invalid(&d, "configuration not valid");
    } else {
        jg_diags_clear(&d);
        jg_error("configuration %s: %s", path, jg_strerror(r));
    }
    return JG_EXIT_ERROR;
}

/* One plan (and, with apply, its execution). Exit status. */
static int
sync_once(const char *cmd, const struct jg_config *cfg, bool apply, bool json,
          bool force)
{
    struct jg_policy *p = NULL;
    struct jg_sync *s = NULL;
    struct jg_sync_plan *plan = NULL;
    size_t done = 0;
    int rc, r;

    /* An invalid policy changes nothing: it is refused before any call. */
    if ((rc = jg_cli_load_policy(cfg->policy, JG_EXIT_NO, &p)) != 0)
        goto out;
    if ((r = jg_sync_new(cfg, &s)) != 0) {
        jg_error("%s: %s", cmd, jg_strerror(r));
        rc = JG_EXIT_ERROR;
        goto out;
    }
    if ((r = jg_sync_plan_build(s, p, jg_now(), &plan)) != 0) {
        jg_error("%s: %s", cmd, jg_sync_error(s));
        rc = JG_EXIT_ERROR;
        goto out;
    }
    if (json) {
        rc = jg_cli_json_print(jg_sync_plan_json(plan));
        goto out;
    }
    jg_sync_plan_print(plan, stdout);
    fflush(stdout);
    if (!apply || plan->n == 0) {
        rc = JG_EXIT_OK;
        goto out;
    }
    r = jg_sync_plan_apply(s, plan, cfg->max_removals, force, &done);
    if (r == JG_ERR_DENIED && done == 0 && plan->n_removals > 0 &&
        !force && plan->n_removals > (size_t)cfg->max_removals) {
        jg_error("%s: %s", cmd, jg_sync_error(s));
        rc = JG_EXIT_NO;
        goto out;
    }
    if (r != 0) {
        jg_error("%s: %s (%zu of %zu changes made; the next run converges)",
                 cmd, jg_sync_error(s), done, plan->n);
        rc = JG_EXIT_ERROR;
        goto out;
    }
    printf("Apply complete: %zu change%s.\n", done, done == 1 ? "" : "s");
    rc = fflush(stdout) == 0 ? JG_EXIT_OK : JG_EXIT_ERROR;
out:
    jg_sync_plan_free(plan);
    jg_sync_free(s);
    jg_policy_free(p);
    return rc;
}

/* A fingerprint of the policy files (mtime and size of policy.yaml, its
 * policy.d folder and every file in it), to notice edits. */
static uint64_t
policy_stamp(const char *policy)
{
    char *dir = jg_path_relative_to(policy, "policy.d");
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    struct stat st;
    uint64_t h = 1469598103934665603ull;
    size_t i;

    if (stat(policy, &st) == 0)
        h = (h ^ (uint64_t)st.st_mtim.tv_sec ^ (uint64_t)st.st_mtim.tv_nsec ^
             (uint64_t)st.st_size) * 1099511628211ull;
    if (stat(dir, &st) == 0)
        h = (h ^ (uint64_t)st.st_mtim.tv_sec ^ (uint64_t)st.st_mtim.tv_nsec) *
            1099511628211ull;
    if (jg_policy_load(policy, &p, &d) == 0) {
        for (i = 0; i < jg_policy_n_files(p); i++) {
            if (stat(jg_policy_file_at(p, i), &st) == 0)
                h = (h ^ (uint64_t)st.st_mtim.tv_sec ^
                     (uint64_t)st.st_mtim.tv_nsec ^ (uint64_t)st.st_size) *
                    1099511628211ull;
        }
    }
    jg_policy_free(p);
    jg_diags_clear(&d);
    free(dir);
    return h;
}

/* "sync run": apply every sync.interval (with up to 10% jitter) and soon
 * after the policy files change, until SIGTERM or SIGINT. */
static int
sync_loop(const struct jg_config *cfg, bool force)
{
    struct sigaction sa;
    uint64_t stamp;
    int64_t interval_ms = cfg->sync_interval > 0 ? cfg->sync_interval * 1000
                                                 : 60000;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    stop_requested = 0;
    jg_info("sync run: every %llds and on policy changes",
            (long long)(interval_ms / 1000));
    while (!stop_requested) {
        int64_t waited = 0, wait_ms;
        int rc;

        stamp = policy_stamp(cfg->policy);
        rc = sync_once("sync run", cfg, true, false, force);
        if (rc != JG_EXIT_OK)
            jg_warn("sync run: this round failed; retrying at the next one");
        wait_ms = interval_ms - jg_sync_backoff_ms(0, interval_ms / 10,
                                                   interval_ms / 10);
        while (!stop_requested && waited < wait_ms) {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = 200 * 1000000L};

            nanosleep(&ts, NULL);
            waited += 200;
            if (waited % 1000 == 0 && policy_stamp(cfg->policy) != stamp) {
                jg_info("sync run: policy changed");
                break;
            }
        }
    }
    jg_info("sync run: stopped");
    return JG_EXIT_OK;
}

int
jg_cli_sync(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"json", no_argument, NULL, 'j'},
        {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    struct jg_config *cfg = NULL;
    const char *sub;
    char cmd[32];
    bool json = false, force = false;
    int ch, rc;

    /* "sync" [options] SUBCOMMAND [options]: permute so both orders work. */
    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return JG_EXIT_OK;
        case 'j':
            json = true;
            break;
        case 'f':
            force = true;
            break;
        default:
            return jg_cli_opt_error("sync", ch, argv, usage);
        }
    }
    if (optind >= argc)
        return jg_cli_usage_error("sync", usage, "no subcommand given");
    sub = argv[optind];
    if (optind + 1 < argc)
        return jg_cli_usage_error("sync", usage, "unexpected argument '%s'",
                                  argv[optind + 1]);
    snprintf(cmd, sizeof(cmd), "sync %.16s", sub);
    if (strcmp(sub, "plan") != 0 && strcmp(sub, "apply") != 0 &&
        strcmp(sub, "run") != 0)
        return jg_cli_usage_error("sync", usage, "unknown subcommand '%s'",
                                  sub);
    if (json && strcmp(sub, "plan") != 0)
        return jg_cli_usage_error(cmd, usage, "--json is for sync plan");
    if (force && strcmp(sub, "plan") == 0)
        return jg_cli_usage_error(cmd, usage, "--force is for apply and run");
    if ((rc = load_config(c, &cfg)) != 0)
        return rc;
    if (strcmp(sub, "run") == 0)
        rc = sync_loop(cfg, force);
    else
        rc = sync_once(cmd, cfg, strcmp(sub, "apply") == 0, json, force);
    jg_config_free(cfg);
    return rc;
}
