/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/metrics.c - jumpgated's metrics (the names the Grafana
 * dashboard and the alerts rely on; see jumpgated(8), METRICS): declared
 * here with their first values, counted where things happen, gauges
 * brought up to date before each scrape. Served from the master's poll
 * loop (no thread: the master forks). */
#include <string.h>

#include "gateway/master/master.h"

static const struct {
    const char *name;
    enum jg_metric_type type;
    const char *help;
} families[] = {
    {"jumpgate_build_info", JG_METRIC_GAUGE,
     "jumpgated build; the version is a label"},
    {"process_start_time_seconds", JG_METRIC_GAUGE,
     "Start time of the process since the Unix epoch in seconds"},
    {"jumpgate_connections_total", JG_METRIC_COUNTER,
     "TCP connections by what became of them"},
    {"jumpgate_sessions_active", JG_METRIC_GAUGE,
     "Open channels by action"},
    {"jumpgate_sessions_total", JG_METRIC_COUNTER,
     "Channel requests by action and result"},
    {"jumpgate_auth_attempts_total", JG_METRIC_COUNTER,
     "Authentication attempts by method and result"},
    {"jumpgate_auth_bans_active", JG_METRIC_GAUGE,
     "Sources banned now after authentication failures"},
    {"jumpgate_auth_bans_total", JG_METRIC_COUNTER,
     "Sources banned after authentication failures"},
    {"jumpgate_source_penalties_active", JG_METRIC_GAUGE,
     "Sources refused now after connections that did not log in"},
    {"jumpgate_source_penalties_total", JG_METRIC_COUNTER,
     "Sources penalised, by what their connections did"},
    {"jumpgate_policy_denials_total", JG_METRIC_COUNTER,
     "Requests denied by policy, by deciding rule (default: no rule allowed)"},
    {"jumpgate_bytes_total", JG_METRIC_COUNTER,
     "Bytes relayed by direction"},
    {"jumpgate_forward_channels_active", JG_METRIC_GAUGE,
     "Open forward (direct-tcpip) channels"},
    {"jumpgate_forward_channels_total", JG_METRIC_COUNTER,
     "Forward (direct-tcpip) channels opened, by target"},
    {"jumpgate_target_errors_total", JG_METRIC_COUNTER,
     "Failed connections to targets, by target and error"},
    {"jumpgate_audit_write_errors_total", JG_METRIC_COUNTER,
     "Failed writes of recordings or event log lines"},
    {"jumpgate_policy_reloads_total", JG_METRIC_COUNTER,
     "Configuration and policy reloads by result"},
    {"jumpgate_policy_info", JG_METRIC_GAUGE,
     "The running policy: SHA-256 of its files, and how they are watched "
     "(inotify or poll)"},
    {"jumpgate_policy_loaded_timestamp_seconds", JG_METRIC_GAUGE,
     "When the running policy was loaded, since the Unix epoch"},
};

static const char *const actions[] = {"shell", "exec", "sftp", "forward",
                                      "jump"};

static void
refresh(struct jg_metrics *mx, void *arg)
{
    struct jg_gw_master *m = arg;
    double n[5] = {0, 0, 0, 0, 0}, fwd = 0;
    size_t i, j, a;

    for (i = 0; i < m->n_kids; i++) {
        const struct jg_gw_child *k = &m->kids[i];
        if (!k->listed)
            continue;
        for (j = 0; j < k->n_chans; j++) {
            unsigned act = k->chans[j].action;
            for (a = 0; a < 5; a++)
                if (act == 1u << a)
                    n[a]++;
            if (act == JG_ACT_FORWARD || act == JG_ACT_JUMP)
                fwd++;
        }
    }
    for (a = 0; a < 5; a++)
        jg_metrics_set(mx, "jumpgate_sessions_active", n[a], "action",
                       actions[a], NULL);
    jg_metrics_set(mx, "jumpgate_forward_channels_active", fwd, NULL);
    jg_metrics_set(mx, "jumpgate_auth_bans_active",
                   (double)jg_gw_bans_active(m->bans, jg_now()), NULL);
    jg_metrics_set(mx, "jumpgate_source_penalties_active",
                   (double)jg_gw_penalties_active(m->pen, jg_now()), NULL);
    jg_gw_metrics_policy(m);
}

void
jg_gw_metrics_policy(struct jg_gw_master *m)
{
    if (m->metrics == NULL || m->d->pol == NULL)
        return;
    jg_metrics_clear(m->metrics, "jumpgate_policy_info");
    jg_metrics_set(m->metrics, "jumpgate_policy_info", 1, "digest",
                   jg_policy_digest(m->d->pol), "watch",
                   m->watch_poll ? "poll" : "inotify", NULL);
    jg_metrics_set(m->metrics, "jumpgate_policy_loaded_timestamp_seconds",
                   (double)m->policy_loaded, NULL);
}

int
jg_gw_metrics_start(struct jg_gw_master *m)
{
    static const char *const conn[] = {"accepted", "startups_dropped",
                                       "banned", "source_startups",
                                       "penalised"};
    static const char *const pens[] = {"grace_exceeded", "noauth"};
    static const char *const sres[] = {"allowed", "denied", "error"};
    static const char *const methods[] = {"publickey",
                                          "keyboard-interactive", "none"};
    static const char *const ares[] = {"success", "partial", "failure"};
    struct jg_metrics *mx = jg_metrics_new();
    const char *listen = m->d->cfg->metrics_listen;
    char err[256];
    size_t i, j;
    int r;

    m->metrics = mx;
    for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        jg_metrics_declare(mx, families[i].name, families[i].type,
                           families[i].help);
    jg_metrics_set(mx, "jumpgate_build_info", 1, "version", JG_VERSION, NULL);
    jg_metrics_set(mx, "process_start_time_seconds", (double)jg_now(), NULL);
    for (i = 0; i < 5; i++)
        jg_metrics_add(mx, "jumpgate_connections_total", 0, "result", conn[i],
                       NULL);
    for (i = 0; i < 2; i++)
        jg_metrics_add(mx, "jumpgate_source_penalties_total", 0, "reason",
                       pens[i], NULL);
    for (i = 0; i < 5; i++)
        for (j = 0; j < 3; j++)
            jg_metrics_add(mx, "jumpgate_sessions_total", 0, "action",
                           actions[i], "result", sres[j], NULL);
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
            jg_metrics_add(mx, "jumpgate_auth_attempts_total", 0, "method",
                           methods[i], "result", ares[j], NULL);
    jg_metrics_add(mx, "jumpgate_auth_bans_total", 0, NULL);
    jg_metrics_add(mx, "jumpgate_policy_denials_total", 0, "rule", "default",
                   NULL);
    jg_metrics_add(mx, "jumpgate_bytes_total", 0, "direction", "to_target",
                   NULL);
    jg_metrics_add(mx, "jumpgate_bytes_total", 0, "direction", "to_client",
                   NULL);
    jg_metrics_add(mx, "jumpgate_audit_write_errors_total", 0, NULL);
    jg_metrics_add(mx, "jumpgate_policy_reloads_total", 0, "result",
                   "success", NULL);
    jg_metrics_add(mx, "jumpgate_policy_reloads_total", 0, "result",
                   "failure", NULL);
    refresh(mx, m);
    if (listen == NULL)
        return 0;
    if ((r = jg_metrics_serve(listen, mx, false, refresh, m, &m->msrv, err,
                              sizeof(err))) != 0) {
        jg_error("%s", err);
        m->msrv = NULL;
        return r;
    }
    jg_info("metrics on http://%s/metrics", listen);
    return 0;
}

void
jg_gw_metrics_stop(struct jg_gw_master *m)
{
    jg_metrics_server_free(m->msrv);
    m->msrv = NULL;
    jg_metrics_free(m->metrics);
    m->metrics = NULL;
}
