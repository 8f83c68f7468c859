/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/audit.c - audit.on_failure: refuse, in the master.
 * Once a monitor (or the master itself) fails to write the audit record,
 * new connections are refused - one line, before any SSH byte - until a
 * probe shows that the audit folder takes writes again: a file written and
 * synced in sessions/, and an audit.gap event appended to the event log
 * that records the interval. Live sessions were already ended by their
 * monitors. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "gateway/master/master.h"

#define PROBE_EVERY_MS 2000

void
jg_gw_audit_failed(struct jg_gw_master *m)
{
    if (m->d->cfg->audit_on_failure != JG_ON_FAILURE_REFUSE ||
        m->audit_down_us != 0)
        return;
    m->audit_down_us = jg_audit_now_us();
    m->audit_probe_ms = jg_gw_now_ms() + PROBE_EVERY_MS;
    m->audit_refused = 0;
    jg_error("audit: writes are failing; new connections are refused until "
             "the audit folder %s takes writes again (audit.on_failure: "
             "refuse)", m->d->cfg->audit_dir ? m->d->cfg->audit_dir : "-");
}

bool
jg_gw_audit_refusing(struct jg_gw_master *m)
{
    if (m->audit_down_us == 0)
        return false;
    m->audit_refused++;
    return true;
}

/* A file written, synced and removed in dir; 0 or an errno value. */
static int
probe_dir(const char *dir)
{
    static const char block[4096];
    char path[PATH_MAX];
    int fd, err = 0;

    if ((size_t)snprintf(path, sizeof(path), "%s/.jumpgated-probe.%ld", dir,
                         (long)getpid()) >= sizeof(path))
        return ENAMETOOLONG;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
              0600);
    if (fd < 0)
        return errno;
    if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
        err = errno != 0 ? errno : ENOSPC;
    else if (fsync(fd) != 0)
        err = errno;
    close(fd);
    unlink(path);
    return err;
}

void
jg_gw_audit_probe(struct jg_gw_master *m)
{
    const struct jg_config *cfg = m->d->cfg;
    char since[JG_TIME_STRLEN], until[JG_TIME_STRLEN], dir[PATH_MAX];
    int64_t now_us = jg_audit_now_us();
    struct stat st;
    json_t *extra;
    int err, r;

    if (m->audit_down_us == 0 || jg_gw_now_ms() < m->audit_probe_ms)
        return;
    m->audit_probe_ms = jg_gw_now_ms() + PROBE_EVERY_MS;
    if (cfg->audit_dir == NULL)
        return;
    snprintf(dir, sizeof(dir), "%s/sessions", cfg->audit_dir);
    if (stat(dir, &st) != 0)
        jg_strlcpy(dir, cfg->audit_dir, sizeof(dir));
    if ((err = probe_dir(dir)) != 0) {
        jg_info("audit: %s still takes no writes: %s", dir, strerror(err));
        return;
    }
    if (m->log == NULL &&
        (r = jg_audit_log_open(cfg->audit_dir, NULL, 0, &m->log)) != 0) {
        m->log = NULL;
        jg_info("audit: the event log still cannot be opened: %s",
                jg_strerror(r));
        return;
    }
    jg_time_format(m->audit_down_us / 1000000, since, sizeof(since));
    jg_time_format(now_us / 1000000, until, sizeof(until));
    extra = json_pack("{s:s, s:s, s:I, s:I}", "since", since, "until", until,
                      "seconds",
                      (json_int_t)((now_us - m->audit_down_us) / 1000000),
                      "connections_refused", (json_int_t)m->audit_refused);
    if (extra == NULL)
        return;
    r = jg_gw_event_append(m->log, "audit.gap", NULL, NULL, NULL, NULL,
                           NULL, NULL, NULL, NULL,
                           "audit writes failed; sessions ended and new ones "
                           "were refused", extra);
    json_decref(extra);
    if (r != 0) {
        jg_info("audit: the event log still takes no writes: %s",
                jg_strerror(r));
        return;
    }
    jg_info("audit: writes work again after %lld s (%llu connection(s) "
            "refused); accepting connections",
            (long long)((now_us - m->audit_down_us) / 1000000),
            (unsigned long long)m->audit_refused);
    m->audit_down_us = 0;
}

void
jg_gw_master_event(struct jg_gw_master *m, const char *type,
                   const char *reason, json_t *extra)
{
    int r;

    if (m->log == NULL)
        return;
    if ((r = jg_gw_event_append(m->log, type, NULL, NULL, NULL, NULL, NULL,
                                NULL, NULL, NULL, reason, extra)) != 0) {
        jg_error("audit: cannot append %s to the event log: %s", type,
                 jg_strerror(r));
        jg_metrics_add(m->metrics, "jumpgate_audit_write_errors_total", 1,
                       NULL);
        jg_gw_audit_failed(m);
    }
}

