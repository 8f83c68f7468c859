/* SPDX-License-Identifier: Apache-2.0 */
/* console/console.h - the auditors' web console (`jumpgate audit serve`):
 * a read-only HTTP(S) server over the audit folder. Auditors named in the
 * policy's auditors section sign in through PAM (password and one-time
 * code) and see the sessions of the users and targets their entry names:
 * a filtered list with verify badges, and each session's recording in the
 * asciinema player beside a timeline of its events. Every sign-in and
 * every recording viewed is an event in the audit log (console.*). */
#ifndef JG_CONSOLE_H
#define JG_CONSOLE_H

#include "common/common.h"

/* How the console runs. */
struct jg_console_opts {
    const char *config_path;    /* the configuration it was loaded from */
    const char *assets_dir;     /* the player, its stylesheet, console.js */
    /* Called once the console listens, with its address (for tests and
     * service managers); may be NULL. */
    void (*ready)(const char *listen, void *arg);
    void *ready_arg;
};

/* Serves cfg's audit.console until SIGINT or SIGTERM (SIGHUP reloads the
 * policy). Returns 0, or a JG_ERR_* with why (n bytes) when it could not
 * start: no audit.console or audit.dir, an unusable TLS key pair, an
 * address that cannot be bound. */
int jg_console_serve(const struct jg_config *cfg,
                     const struct jg_console_opts *o, char *why, size_t n);

#endif
