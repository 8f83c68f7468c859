/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/daemon/daemon.h - what every process of jumpgated shares: the
 * daemon context (configuration, policy, host keys, the unprivileged
 * user), SSH user names, event log appends and the monotonic clocks.
 *
 * jumpgated runs in three rooms, one folder each, by the process that runs
 * the code and so by its privilege:
 *   master/   (root) listens, forks a monitor per connection, keeps the
 *             live-session table, limits, bans, the control socket,
 *             reloads and metrics;
 *   monitor/  (root, one per connection) answers the worker: authentication,
 *             policy decisions, target connections, the upstream agent,
 *             recordings and events, PAM;
 *   worker/   (unprivileged, chrooted, seccomp) speaks SSH to the client
 *             and to the target and relays the bytes.
 * Beside them: this folder, and proto/, the messages between worker and
 * monitor. Dependencies point one way: master -> monitor, worker, proto;
 * monitor -> proto; worker -> proto; all -> daemon; proto and daemon
 * reach no room. */
#ifndef JG_GW_DAEMON_H
#define JG_GW_DAEMON_H

#include <sys/types.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include <jansson.h>

#include "common/common.h"
#include "policy/policy.h"

#define JG_GW_PROG "jumpgated"
#define JG_GW_UNPRIV_USER "jumpgate"
#define JG_GW_CHROOT "/run/jumpgated/empty" /* the workers' empty root */
#define JG_GW_CONNECT_TIMEOUT 10   /* seconds, TCP connect and SSH set-up */
#define JG_GW_LOGIN_MAX 256        /* longest SSH user name we look at */

/* ---- the daemon context (daemon.c) ------------------------------------ */

struct jg_gw_daemon {
    struct jg_config *cfg;   /* owned */
    struct jg_policy *pol;   /* owned */
    ssh_bind bind;           /* owned; holds the host keys */
    uid_t uid;               /* of JG_GW_UNPRIV_USER */
    gid_t gid;
    bool foreground;
};

/* Checks the files a configuration names (the master's; see master/). */
typedef int (*jg_gw_check_fn)(const struct jg_config *cfg,
                              struct jg_diags *diags);

/* Loads config, policy and host keys from path into d (fields owned by d),
 * running check (if not NULL) on the configuration before the policy.
 * Diagnostics go to diags. Returns 0 or a negative JG_ERR_*. */
int jg_gw_daemon_load(const char *path, struct jg_gw_daemon *d,
                      jg_gw_check_fn check, struct jg_diags *diags);
/* Loads a fresh config and policy (for SIGHUP); on success replaces those
 * of d, else keeps them. Host keys are not reloaded. check: as above (the
 * master checks; a monitor reloads after it and passes NULL). */
int jg_gw_daemon_reload(struct jg_gw_daemon *d, jg_gw_check_fn check,
                        struct jg_diags *diags);
void jg_gw_daemon_clear(struct jg_gw_daemon *d);

/* ---- SSH user names (login.c) ----------------------------------------- */

struct jg_gw_login {
    char user[64];     /* policy user name */
    char target[128];  /* "" when none was named */
    char login[64];    /* "" when none was named */
    bool bad_target;   /* a target part was given but is not a valid name */
};

/* Splits "alice", "alice:web-1" or "alice:deploy@web-1" ('+' may stand for
 * ':', for sftp and scp). Returns 0, or
 * JG_ERR_INVALID when the user part is not a valid user name (then the
 * connection is treated as an unknown user). */
int jg_gw_login_parse(const char *s, struct jg_gw_login *out);
bool jg_gw_valid_user(const char *s);
bool jg_gw_valid_target(const char *s);
/* Copies s into buf with control and non-ASCII bytes as \xNN, for logs;
 * truncates. */
void jg_gw_escape(const char *s, char *buf, size_t n);

/* ---- event log appends (event.c) -------------------------------------- */

struct jg_audit_log;
/* One event, by the monitors and the master: fields as jg_audit_event;
 * conn_id ("" or NULL: none) goes in extra as "connection". Returns 0 or a
 * JG_ERR_*. extra is borrowed. */
int jg_gw_event_append(struct jg_audit_log *log, const char *type,
                       const char *session, const char *conn_id,
                       const char *user, const char *from,
                       const char *target, const char *login,
                       const char *action, const char *rule,
                       const char *reason, json_t *extra);

/* ---- clocks (clock.c) ------------------------------------------------- */

/* Monotonic milliseconds. */
int64_t jg_gw_now_ms(void);
/* Monotonic seconds, for the idle timeout. */
int64_t jg_gw_mono(void);

#endif
