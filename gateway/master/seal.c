/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/seal.c - the master's timed seals of the event log: one
 * every audit.seal_interval (at most a minute) while the daemon runs,
 * whether or not anything happened, each promising the next
 * ("next_within"), and a last one promising none when it stops. Events cut
 * off the end of the log, even right after a seal, then show as missing
 * time in `jumpgate audit verify`.
 *
 * The master never loads the signing key: monitors are forked from it, and
 * workers from them, so whatever its heap held could reach a worker. Each
 * seal is written by a short-lived child of the master that loads the key,
 * appends the seal and exits; the master reaps it and treats a failure as
 * a failed audit write. */
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "gateway/master/master.h"

/* How long the master waits for the last seal when it stops. */
#define LAST_SEAL_WAIT_MS 30000

/* Declared here, defined below: the first seal is waited for. */
static pid_t start_sealer(struct jg_gw_master *m, unsigned next_within);
static int wait_bounded(pid_t pid);

static int64_t
interval_s(const struct jg_gw_master *m)
{
    int64_t every = m->d->cfg->audit_seal_interval;

    return every < 1 || every > 60 ? 60 : every;
}

void
jg_gw_seal_open(struct jg_gw_master *m)
{
    const struct jg_config *cfg = m->d->cfg;
    pid_t pid;
    int st;

    m->sealer = 0;
    m->seal_at_ms = jg_gw_now_ms() + interval_s(m) * 1000;
    if (cfg->audit_dir == NULL || cfg->audit_signing_key == NULL)
        return;
    /* The first one before the first connection. */
    if ((pid = start_sealer(m, (unsigned)interval_s(m))) == 0)
        return;
    st = wait_bounded(pid);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        jg_gw_audit_failed(m);
}

int64_t
jg_gw_seal_due_ms(const struct jg_gw_master *m)
{
    const struct jg_config *cfg = m->d->cfg;

    if (cfg->audit_dir == NULL || cfg->audit_signing_key == NULL ||
        m->sealer != 0)
        return -1;
    return m->seal_at_ms;
}

/* In the child: one timed seal, then _exit (0 when it was written). */
static void
seal_child(const struct jg_config *cfg, unsigned next_within)
{
    struct jg_audit_key *key = NULL;
    struct jg_audit_log *log = NULL;
    int r;

    if ((r = jg_audit_key_load_private(cfg->audit_signing_key, &key)) != 0)
        jg_error("audit: timed seal: cannot load %s: %s",
                 cfg->audit_signing_key, jg_strerror(r));
    else if ((r = jg_audit_log_open(cfg->audit_dir, key, 0, &log)) != 0 ||
             (r = jg_audit_log_seal_timed(log, jg_audit_now_us(),
                                          next_within)) != 0)
        jg_error("audit: cannot write the timed seal of the event log: %s",
                 r == JG_ERR_IO ? strerror(errno) : jg_strerror(r));
    jg_audit_log_free(log);
    jg_audit_key_free(key);
    _exit(r == 0 ? 0 : 1);
}

static pid_t
start_sealer(struct jg_gw_master *m, unsigned next_within)
{
    pid_t pid = fork();

    if (pid < 0) {
        jg_error("audit: timed seal: fork: %s", strerror(errno));
        return 0;
    }
    if (pid == 0)
        seal_child(m->d->cfg, next_within);
    return pid;
}

void
jg_gw_seal_tick(struct jg_gw_master *m)
{
    int64_t now = jg_gw_now_ms(), every = interval_s(m);

    if (jg_gw_seal_due_ms(m) < 0 || now < m->seal_at_ms)
        return;
    m->seal_at_ms = now + every * 1000;
    /* While writes fail, the probe records the gap when they work again. */
    if (m->audit_down_us != 0)
        return;
    m->sealer = start_sealer(m, (unsigned)every);
}

bool
jg_gw_seal_reaped(struct jg_gw_master *m, pid_t pid, int status)
{
    if (m->sealer == 0 || pid != m->sealer)
        return false;
    m->sealer = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        jg_metrics_add(m->metrics, "jumpgate_audit_write_errors_total", 1,
                       NULL);
        jg_gw_audit_failed(m);
    }
    return true;
}

/* Waits (bounded) for pid; its status, or -1 when it had to be killed. */
static int
wait_bounded(pid_t pid)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
    int64_t end = jg_gw_now_ms() + LAST_SEAL_WAIT_MS;
    int st;
    pid_t w;

    for (;;) {
        w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return st;
        if (w < 0 && errno != EINTR)
            return -1;
        if (jg_gw_now_ms() > end) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
            return -1;
        }
        nanosleep(&ts, NULL);
    }
}

void
jg_gw_seal_close(struct jg_gw_master *m)
{
    const struct jg_config *cfg = m->d->cfg;
    pid_t pid;
    int st;

    if (m->sealer != 0) {
        wait_bounded(m->sealer);
        m->sealer = 0;
    }
    if (cfg->audit_dir == NULL || cfg->audit_signing_key == NULL ||
        m->audit_down_us != 0)
        return;
    if ((pid = start_sealer(m, 0)) == 0)
        return;
    st = wait_bounded(pid);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        jg_error("audit: the event log did not get its final seal");
}
