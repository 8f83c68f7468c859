/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/worker.h - the worker as the master sees it: its entry
 * point, which the master hands to each monitor to run in the process it
 * forks (monitor/monitor.h, jg_gw_worker_fn). The worker drops to the
 * unprivileged user in the empty chroot and enters its seccomp sandbox
 * before it reads a byte from the client; from then on it asks its monitor
 * for every privileged act (proto/proto.h). Only the master includes this
 * header; the monitor's files cannot (the build fails). */
#ifndef JG_GW_WORKER_H
#define JG_GW_WORKER_H

#if defined(JG_GW_ROOM_MONITOR)
#error "gateway/worker/worker.h is not for the monitor: use proto/proto.h"
#endif

#include "gateway/daemon/daemon.h"
#include "gateway/proto/proto.h"

/* Runs one SSH connection as the worker. Never returns. */
void jg_gw_worker_run(struct jg_gw_daemon *d, int client_fd, int mon_fd,
                      struct jg_gw_tap *tap, const char *peer)
    __attribute__((noreturn));

#endif
