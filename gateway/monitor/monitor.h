/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/monitor.h - the monitor as the master sees it: how one
 * is started for a connection, what it reports to the master, and the
 * checks of the monitor's own files that the master runs at start and
 * before a reload. Included by the master only; the worker's files cannot
 * include it (the build fails).
 *
 * Each monitor has a SOCK_SEQPACKET socketpair to the master and reports
 * what the master counts and lists: {u8 type, payload} framed as
 * struct jg_gw_msg (proto/proto.h). Reports are best effort and never
 * block. The master treats them as untrusted: lengths and counts are
 * bounded, and a malformed or out-of-order message drops that child's
 * channel (the child runs on; it is no longer listed or counted). */
#ifndef JG_GW_MONITOR_H
#define JG_GW_MONITOR_H

#if defined(JG_GW_ROOM_WORKER)
#error "gateway/monitor/monitor.h is not for the worker: use proto/proto.h"
#endif

#include "gateway/daemon/daemon.h"
#include "gateway/proto/proto.h"

/* One accepted connection, handed from the master to its monitor. */
struct jg_gw_conn {
    int fd;            /* the client's socket */
    char peer[64];     /* source address as text */
    uint16_t peer_port;
    int master_fd;     /* SOCK_SEQPACKET to the master, or -1 */
};

/* The worker's entry point, run in the process the monitor forks for it
 * (the master passes jg_gw_worker_run of worker/worker.h); never returns. */
typedef void (*jg_gw_worker_fn)(struct jg_gw_daemon *d, int client_fd,
                                int mon_fd, struct jg_gw_tap *tap,
                                const char *peer);

/* Runs the monitor of one connection: forks the worker, which runs
 * run_worker, and serves it. Never returns. */
void jg_gw_monitor_run(struct jg_gw_daemon *d, struct jg_gw_conn *c,
                       jg_gw_worker_fn run_worker) __attribute__((noreturn));

/* Monitor <-> master messages. */
enum jg_gw_mm_type {
    /* monitor -> master */
    JG_GW_MM_HELLO = 0x40,       /* s connection id (UUIDv7) */
    JG_GW_MM_AUTH,               /* s method, s result */
    JG_GW_MM_AUTHED,             /* s user */
    JG_GW_MM_DECISION,           /* u32 action, s result, s rule ("" none) */
    JG_GW_MM_OPEN,               /* u32 chan, u32 action, s target, s login,
                                    u64 started, u64 until, s session id
                                    ("" none) */
    JG_GW_MM_UNTIL,              /* u32 chan, u64 until */
    JG_GW_MM_CLOSE,              /* u32 chan */
    JG_GW_MM_BYTES,              /* u64 to target, u64 to client */
    JG_GW_MM_AUDIT_ERROR,        /* (empty) */
    JG_GW_MM_TARGET_ERROR,       /* s target, s error (JG_GW_TARGET_ERRORS) */
    JG_GW_MM_CHAN_BYTES,         /* u32 chan, u64 to target, u64 to client
                                    (all so far) */
    /* master -> monitor */
    JG_GW_MM_KILL = 0x60,        /* s reason */
};

#define JG_GW_KILL_TEXT "session ended by an operator"

/* What a failed connection to a target is called in target.error events
 * and in jumpgate_target_errors_total. */
#define JG_GW_TARGET_ERRORS                                                   \
    "refused", "timeout", "unreachable", "unresolved", "host_key_unknown",   \
        "host_key_changed", "host_key_error", "host_cert_refused", "login_refused"

/* A monitor's exit status when its connection did not authenticate within
 * limits.login_grace. */
#define JG_GW_EXIT_GRACE 3

/* Checks that the upstream identity (what: "upstream.identity") or the
 * user CA ("upstream.ca") loads, in a child process so that its bytes
 * never reach the caller's memory (agent.c). */
int jg_gw_agent_key_check(const char *path, const char *what, char *err,
                          size_t errn);
/* Checks audit.dir and audit.signing_key as the monitors will use them
 * (event.c). */
int jg_gw_audit_check(const struct jg_config *cfg, struct jg_diags *diags);

#endif
