/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_sync_run.c - "jumpgate sync run": one apply every sync.interval
 * (with up to 10% jitter) and soon after the policy files change (inotify
 * on the policy's folder and policy.d, debounced; a stat poll where
 * inotify is not available), serving its own /metrics on
 * sync.metrics.listen, until SIGTERM or SIGINT. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sync/sync.h"

#define QUIET_MS 500      /* a change counts once the files are quiet this long */
#define SETTLE_MAX_MS 5000
#define TICK_MS 1000      /* longest sleep between looks at the stop flag */

/* Set by SIGTERM/SIGINT (the only state a signal handler may touch). */
static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
wall_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- metrics ------------------------------------------------------------ */

static struct jg_metrics *
metrics_new(void)
{
    static const struct {
        const char *name;
        enum jg_metric_type type;
        const char *help;
    } fams[] = {
        {"jumpgate_build_info", JG_METRIC_GAUGE, "Version of jumpgate."},
        {"process_start_time_seconds", JG_METRIC_GAUGE,
         "Start time of the process since the epoch, in seconds."},
        {"jumpgate_sync_runs_total", JG_METRIC_COUNTER,
         "Sync rounds, by result."},
        {"jumpgate_sync_changes_total", JG_METRIC_COUNTER,
         "Firewall changes made, by provider and operation."},
        {"jumpgate_sync_errors_total", JG_METRIC_COUNTER,
         "Failed provider calls that ended a step of a round."},
        {"jumpgate_sync_last_success_timestamp_seconds", JG_METRIC_GAUGE,
         "End of the last successful round since the epoch (0: none yet)."},
        {"jumpgate_sync_last_run_duration_seconds", JG_METRIC_GAUGE,
         "How long the last round took, in seconds."},
        {"jumpgate_sync_discovered_targets", JG_METRIC_GAUGE,
         "Members found by ECS discovery, by discovering target."},
    };
    static const char *const providers[] = {"aws", "cloudflare"};
    struct jg_metrics *m = jg_metrics_new();
    size_t i;

    for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++)
        jg_metrics_declare(m, fams[i].name, fams[i].type, fams[i].help);
    jg_metrics_set(m, "jumpgate_build_info", 1, "version", JG_VERSION, NULL);
    jg_metrics_set(m, "process_start_time_seconds", wall_seconds(), NULL);
    /* Every known series from the start, so that rate() sees the first
     * increase. */
    jg_metrics_add(m, "jumpgate_sync_runs_total", 0, "result", "success",
                   NULL);
    jg_metrics_add(m, "jumpgate_sync_runs_total", 0, "result", "failure",
                   NULL);
    for (i = 0; i < 2; i++) {
        jg_metrics_add(m, "jumpgate_sync_changes_total", 0, "provider",
                       providers[i], "op", "add", NULL);
        jg_metrics_add(m, "jumpgate_sync_changes_total", 0, "provider",
                       providers[i], "op", "remove", NULL);
        jg_metrics_add(m, "jumpgate_sync_errors_total", 0, "provider",
                       providers[i], NULL);
    }
    jg_metrics_set(m, "jumpgate_sync_last_success_timestamp_seconds", 0,
                   NULL);
    jg_metrics_set(m, "jumpgate_sync_last_run_duration_seconds", 0, NULL);
    return m;
}

/* ---- noticing policy edits ---------------------------------------------- */

struct watch {
    int fd;          /* inotify, or -1: poll stamps */
    int wd_dir;      /* the policy's folder */
    int wd_d;        /* policy.d, or -1 while it does not exist */
    char *dir, *ddir, *base;
    uint64_t stamp;  /* poll mode: the last fingerprint */
};

/* Only the files the policy is read from: policy.yaml and
 * policy.d/NAME.yaml (not hidden temporaries, not the discovered-members
 * files this program writes itself). */
static bool
dropin_name(const char *name)
{
    size_t l = strlen(name);

    return name[0] != '.' && l > 5 && strcmp(name + l - 5, ".yaml") == 0;
}

static uint64_t
mix(uint64_t h, const struct stat *st)
{
    h ^= (uint64_t)st->st_mtim.tv_sec;
    h *= 1099511628211ull;
    h ^= (uint64_t)st->st_mtim.tv_nsec ^ ((uint64_t)st->st_size << 20) ^
         (uint64_t)st->st_ino;
    return h * 1099511628211ull;
}

static uint64_t
name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* A fingerprint of policy.yaml and the policy.d/NAME.yaml files. */
static uint64_t
stamp(const struct watch *w, const char *policy)
{
    uint64_t h = 1469598103934665603ull;
    struct dirent *e;
    struct stat st;
    DIR *dh;

    if (stat(policy, &st) == 0)
        h = mix(h, &st);
    if ((dh = opendir(w->ddir)) == NULL)
        return h;
    while ((e = readdir(dh)) != NULL) {
        char *p;

        if (!dropin_name(e->d_name))
            continue;
        p = jg_xasprintf("%s/%s", w->ddir, e->d_name);
        if (stat(p, &st) == 0) {
            /* order-independent: readdir order may change */
            h += mix(name_hash(e->d_name), &st);
        }
        free(p);
    }
    closedir(dh);
    return h;
}

static void
watch_dropins(struct watch *w)
{
    if (w->fd >= 0 && w->wd_d < 0)
        w->wd_d = inotify_add_watch(w->fd, w->ddir,
                                    IN_CLOSE_WRITE | IN_MOVED_TO |
                                        IN_MOVED_FROM | IN_CREATE |
                                        IN_DELETE | IN_ATTRIB |
                                        IN_DELETE_SELF | IN_ONLYDIR);
}

static void
watch_open(struct watch *w, const char *policy)
{
    char *slash;

    memset(w, 0, sizeof(*w));
    w->wd_dir = w->wd_d = -1;
    w->ddir = jg_path_relative_to(policy, "policy.d");
    w->dir = jg_xstrdup(policy);
    slash = strrchr(w->dir, '/');
    if (slash == NULL) {
        w->base = jg_xstrdup(w->dir);
        free(w->dir);
        w->dir = jg_xstrdup(".");
    } else {
        w->base = jg_xstrdup(slash + 1);
        slash[slash == w->dir ? 1 : 0] = '\0';
    }
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd >= 0)
        w->wd_dir = inotify_add_watch(w->fd, w->dir,
                                      IN_CLOSE_WRITE | IN_MOVED_TO |
                                          IN_CREATE | IN_DELETE | IN_ATTRIB |
                                          IN_ONLYDIR);
    if (w->fd >= 0 && w->wd_dir < 0) {
        jg_warn("sync run: cannot watch %s (%s); looking at the policy "
                "files every second instead", w->dir, strerror(errno));
        close(w->fd);
        w->fd = -1;
    }
    watch_dropins(w);
    w->stamp = stamp(w, policy);
}

static void
watch_close(struct watch *w)
{
    if (w->fd >= 0)
        close(w->fd);
    free(w->dir);
    free(w->ddir);
    free(w->base);
}

/* Reads the pending events; whether one is about a policy file. */
static bool
drain(struct watch *w)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool hit = false;
    ssize_t n;

    while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
        char *p = buf;

        while (p + sizeof(struct inotify_event) <= buf + n) {
            const struct inotify_event *e = (const struct inotify_event *)p;

            if (e->wd == w->wd_d && (e->mask & (IN_DELETE_SELF |
                                                IN_IGNORED)) != 0) {
                w->wd_d = -1; /* policy.d went away */
                hit = true;
            } else if (e->wd == w->wd_dir && e->len > 0) {
                if (strcmp(e->name, w->base) == 0)
                    hit = true;
                else if (strcmp(e->name, "policy.d") == 0) {
                    hit = true;
                    watch_dropins(w);
                }
            } else if (e->wd == w->wd_d && e->len > 0 &&
                       dropin_name(e->name)) {
                hit = true;
            }
            p += sizeof(struct inotify_event) + e->len;
        }
    }
    return hit;
}

/* Waits up to ms for a policy change. */
static bool
changed_within(struct watch *w, const char *policy, int64_t ms)
{
    if (w->fd >= 0) {
        struct pollfd pfd = {.fd = w->fd, .events = POLLIN};

        if (poll(&pfd, 1, (int)ms) > 0 && drain(w))
            return true;
        watch_dropins(w);
        return false;
    } else {
        struct timespec ts = {.tv_sec = ms / 1000,
                              .tv_nsec = (long)(ms % 1000) * 1000000L};
        uint64_t now;

        nanosleep(&ts, NULL);
        if ((now = stamp(w, policy)) == w->stamp)
            return false;
        w->stamp = now;
        return true;
    }
}

/* After a change: waits until the files are quiet (an editor's or a
 * deployment's burst of writes becomes one round). */
static void
settle(struct watch *w, const char *policy)
{
    int64_t end = mono_ms() + SETTLE_MAX_MS;

    while (!stop_requested && mono_ms() < end &&
           changed_within(w, policy, QUIET_MS))
        ;
}

/* ---- the loop ------------------------------------------------------------ */

int
jg_cli_sync_run(const struct jg_cli *c, const struct jg_config *cfg,
                bool force, jg_cli_sync_round_fn round)
{
    struct jg_cli_sync_ctx x = {.cli = c, .cfg = cfg};
    struct jg_metrics_server *srv = NULL;
    struct sigaction sa;
    struct watch w;
    char err[256];
    int64_t interval_ms = cfg->sync_interval > 0 ? cfg->sync_interval * 1000
                                                 : 60000;
    int rc = JG_EXIT_OK;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    stop_requested = 0;
    if (cfg->sync_metrics_listen != NULL) {
        x.metrics = metrics_new();
        if (jg_metrics_serve(cfg->sync_metrics_listen, x.metrics, true, NULL,
                             NULL, &srv, err, sizeof(err)) != 0) {
            jg_error("sync run: sync.metrics.listen %s: %s",
                     cfg->sync_metrics_listen, err);
            jg_metrics_free(x.metrics);
            return JG_EXIT_ERROR;
        }
        jg_info("sync run: metrics on http://%s/metrics",
                cfg->sync_metrics_listen);
    }
    watch_open(&w, cfg->policy);
    jg_info("sync run: every %llds and on policy changes",
            (long long)(interval_ms / 1000));
    while (!stop_requested) {
        int64_t start = mono_ms(), deadline;
        int r;

        x.audit_failed = false;
        r = round(&x, force);
        jg_cli_sync_ctx_close(&x);
        if (x.metrics != NULL) {
            jg_metrics_add(x.metrics, "jumpgate_sync_runs_total", 1, "result",
                           r == JG_EXIT_OK ? "success" : "failure", NULL);
            jg_metrics_set(x.metrics,
                           "jumpgate_sync_last_run_duration_seconds",
                           (double)(mono_ms() - start) / 1000.0, NULL);
            if (r == JG_EXIT_OK)
                jg_metrics_set(x.metrics,
                               "jumpgate_sync_last_success_timestamp_seconds",
                               wall_seconds(), NULL);
        }
        if (r != JG_EXIT_OK)
            jg_warn("sync run: this round failed; retrying at the next one");
        deadline = mono_ms() + interval_ms -
                   jg_sync_backoff_ms(0, interval_ms / 10, interval_ms / 10);
        while (!stop_requested && mono_ms() < deadline) {
            int64_t left = deadline - mono_ms();

            if (changed_within(&w, cfg->policy,
                               left < TICK_MS ? left : TICK_MS)) {
                settle(&w, cfg->policy);
                jg_info("sync run: policy changed");
                break;
            }
        }
    }
    jg_info("sync run: stopped");
    watch_close(&w);
    jg_metrics_server_free(srv);
    jg_metrics_free(x.metrics);
    return rc;
}
