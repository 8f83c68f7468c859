/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_audit_ship.c - "jumpgate audit ship": copies finished recordings,
 * their seals and past event-log days to audit.s3, once or every
 * sync.interval until stopped. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "sync/sync.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] audit ship [--once] [--json] [--dir DIR]\n";

/* Set by SIGTERM/SIGINT while shipping in a loop (the only state a signal
 * handler may touch). */
static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct out {
    const char *bucket;
    bool json;
    json_t *shipped, *changed, *failed, *waiting, *seals;
};

static void
on_item(const struct jg_sync_ship_item *it, void *arg)
{
    struct out *o = arg;
    char parts[32] = "";

    if (it->parts > 0)
        snprintf(parts, sizeof(parts), ", %u parts", it->parts);
    switch (it->what) {
    case JG_SYNC_SHIP_SHIPPED:
        if (o->json)
            json_array_append_new(
                o->shipped, json_pack("{s:s, s:s, s:I, s:s, s:i}", "file",
                                      it->file, "key", it->key, "bytes",
                                      (json_int_t)it->size, "sha256",
                                      it->sha256, "parts", (int)it->parts));
        else
            printf("shipped %s -> s3://%s/%s (%" PRIu64 " bytes%s)\n",
                   it->file, o->bucket, it->key, it->size, parts);
        break;
    case JG_SYNC_SHIP_CHANGED:
        jg_error("audit ship: %s CHANGED after it was shipped: it was %" PRIu64
                 " bytes, sha256 %s, as s3://%s/%s; it is now %" PRIu64
                 " bytes, sha256 %s. Tampering or a bug: the first copy "
                 "stays; the new content %s s3://%s/%s%s%s",
                 it->file, it->was->size, it->was->sha256, o->bucket,
                 it->was->key, it->size, it->sha256,
                 it->landed ? "went to" : "did not reach", o->bucket, it->key,
                 it->landed ? "" : ": ", it->landed ? "" : it->reason);
        if (o->json)
            json_array_append_new(
                o->changed,
                json_pack("{s:s, s:{s:s, s:I, s:s}, s:{s:I, s:s}, s:s, s:b, "
                          "s:s?}",
                          "file", it->file, "shipped", "key", it->was->key,
                          "bytes", (json_int_t)it->was->size, "sha256",
                          it->was->sha256, "now", "bytes",
                          (json_int_t)it->size, "sha256", it->sha256,
                          "new_key", it->key, "landed", it->landed, "error",
                          it->reason));
        break;
    case JG_SYNC_SHIP_FAILED:
        jg_error("audit ship: %s: %s; left for the next pass", it->file,
                 it->reason);
        if (o->json)
            json_array_append_new(o->failed,
                                  json_pack("{s:s, s:s}", "file", it->file,
                                            "error", it->reason));
        break;
    case JG_SYNC_SHIP_SEALS:
        if (o->json)
            json_array_append_new(
                o->seals, json_pack("{s:s, s:s, s:I, s:s}", "file", it->file,
                                    "key", it->key, "lines",
                                    (json_int_t)it->size, "sha256",
                                    it->sha256));
        else
            printf("shipped the seal lines of %s -> s3://%s/%s (%" PRIu64
                   " line%s)\n", it->file, o->bucket, it->key, it->size,
                   it->size == 1 ? "" : "s");
        break;
    case JG_SYNC_SHIP_WAITING:
        if (o->json)
            json_array_append_new(o->waiting,
                                  json_pack("{s:s, s:s}", "file", it->file,
                                            "reason", it->reason));
        break;
    }
}

/* One pass; its exit status. */
static int
pass(struct jg_sync *s, const struct jg_config *cfg, bool json, bool compact)
{
    struct out o = {.bucket = cfg->s3_bucket, .json = json};
    struct jg_sync_ship_totals t;
    int r, rc;

    if (json) {
        o.shipped = json_array();
        o.changed = json_array();
        o.failed = json_array();
        o.waiting = json_array();
        o.seals = json_array();
    }
    r = jg_sync_ship_pass(s, cfg, jg_audit_now_us(), on_item, &o, &t);
    if (r != 0) {
        jg_error("audit ship: %s", jg_sync_error(s));
        rc = JG_EXIT_ERROR;
        goto out;
    }
    rc = t.failed > 0 || t.changed > 0 || t.event_failures > 0 ? JG_EXIT_NO
                                                               : JG_EXIT_OK;
    if (json) {
        json_t *j = json_pack("{s:O, s:O, s:O, s:O, s:O, s:I, s:I}",
                              "shipped", o.shipped, "changed", o.changed,
                              "failed", o.failed, "waiting", o.waiting,
                              "seals", o.seals, "unchanged",
                              (json_int_t)t.unchanged, "event_failures",
                              (json_int_t)t.event_failures);

        if (compact) {
            char *line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

            if (line != NULL)
                printf("%s\n", line);
            free(line);
            json_decref(j);
        } else if (jg_cli_json_print(j) != JG_EXIT_OK) {
            rc = JG_EXIT_ERROR;
        }
    } else {
        printf("Ship: %zu shipped, %zu already there, %zu waiting, %zu "
               "failed, %zu changed.\n", t.shipped, t.unchanged, t.waiting,
               t.failed, t.changed);
        if (t.seals > 0)
            printf("Seal lines: %zu day%s uploaded.\n", t.seals,
                   t.seals == 1 ? "" : "s");
    }
    if (fflush(stdout) != 0)
        rc = JG_EXIT_ERROR;
out:
    json_decref(o.shipped);
    json_decref(o.changed);
    json_decref(o.failed);
    json_decref(o.waiting);
    json_decref(o.seals);
    return rc;
}

static int
ship_loop(struct jg_sync *s, const struct jg_config *cfg, bool json)
{
    struct sigaction sa;
    int64_t interval_ms = cfg->sync_interval > 0 ? cfg->sync_interval * 1000
                                                 : 60000;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    stop_requested = 0;
    jg_info("audit ship: every %llds to s3://%s",
            (long long)(interval_ms / 1000), cfg->s3_bucket);
    while (!stop_requested) {
        int64_t waited = 0;

        if (pass(s, cfg, json, true) != JG_EXIT_OK)
            jg_warn("audit ship: not everything landed; retrying at the "
                    "next pass");
        while (!stop_requested && waited < interval_ms) {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = 200 * 1000000L};

            nanosleep(&ts, NULL);
            waited += 200;
        }
    }
    jg_info("audit ship: stopped");
    return JG_EXIT_OK;
}

int
jg_cli_audit_ship(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"once", no_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {"dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *path, *dir = NULL;
    struct jg_config *cfg = NULL;
    struct jg_sync *s = NULL;
    bool once = false, json = false;
    int ch, r, rc = JG_EXIT_ERROR;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return JG_EXIT_OK;
        case 'o':
            once = true;
            break;
        case 'j':
            json = true;
            break;
        case 'd':
            dir = optarg;
            break;
        default:
            return jg_cli_opt_error("audit ship", ch, argv, usage);
        }
    }
    if (optind < argc)
        return jg_cli_usage_error("audit ship", usage,
                                  "unexpected argument '%s'", argv[optind]);
    path = c->config != NULL ? c->config : jg_config_default_path();
    if (jg_cli_config(c, false, &cfg) != 0)
        goto out;
    if (dir != NULL) {
        free(cfg->audit_dir);
        cfg->audit_dir = jg_xstrdup(dir);
    }
    if (cfg->s3_bucket == NULL) {
        jg_error("audit ship: %s has no audit.s3 (bucket, prefix, region)",
                 path);
        goto out;
    }
    if (cfg->audit_dir == NULL) {
        jg_error("audit ship: %s has no audit.dir", path);
        goto out;
    }
    if ((r = jg_sync_new(cfg, &s)) != 0) {
        jg_error("audit ship: %s", jg_strerror(r));
        goto out;
    }
    rc = once ? pass(s, cfg, json, false) : ship_loop(s, cfg, json);
out:
    jg_sync_free(s);
    jg_config_free(cfg);
    return rc;
}
