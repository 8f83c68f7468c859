/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cli.h - internals of the `jumpgate` command (cli/ only): the context
 * the global options build, the subcommand entry points, and the small
 * helpers they share (config and policy loading, option errors, lists,
 * JSON output). See docs/jumpgate.1.
 *
 * Every jg_cli_* command returns the process exit status: JG_EXIT_OK,
 * JG_EXIT_NO (the answer is "no": denied, invalid) or JG_EXIT_ERROR (usage
 * or runtime error). Messages go to stderr as "jumpgate: ...". */
#ifndef JG_CLI_H
#define JG_CLI_H

#include <jansson.h>

#include "common/common.h"
#include "policy/policy.h"

#define JG_EXIT_OK 0
#define JG_EXIT_NO 1
#define JG_EXIT_ERROR 2

/* What the global options set. config is borrowed from argv (or NULL: use
 * jg_config_default_path()). */
struct jg_cli {
    const char *config;
};

/* ---- subcommands (one file each) -------------------------------------- */

/* cmd_policy.c: "jumpgate policy ..." - argv[0] is "policy". */
int jg_cli_policy(struct jg_cli *c, int argc, char **argv);
/* cmd_check.c, cmd_explain.c, cmd_grant.c, cmd_revoke.c, cmd_grants.c,
 * cmd_exposure.c: argv[0] is the subcommand's name. */
int jg_cli_policy_check(struct jg_cli *c, int argc, char **argv);
int jg_cli_policy_explain(struct jg_cli *c, int argc, char **argv);
int jg_cli_policy_grant(struct jg_cli *c, int argc, char **argv);
int jg_cli_policy_revoke(struct jg_cli *c, int argc, char **argv);
int jg_cli_policy_grants(struct jg_cli *c, int argc, char **argv);
int jg_cli_policy_exposure(struct jg_cli *c, int argc, char **argv);
/* cmd_status.c: the policy on disk against the one jumpgated runs. */
int jg_cli_policy_status(struct jg_cli *c, int argc, char **argv);
/* cmd_sync.c: "jumpgate sync plan|apply|run" - argv[0] is "sync". */
int jg_cli_sync(struct jg_cli *c, int argc, char **argv);
/* One `jumpgate sync` round's context (cmd_sync_events.c): where its
 * events go and, for "sync run", its metrics. */
struct jg_sync;
struct jg_metrics;
struct jg_audit_log;
struct jg_audit_key;
struct jg_cli_sync_ctx {
    const struct jg_cli *cli;
    const struct jg_config *cfg;
    struct jg_metrics *metrics;   /* "sync run" only; else NULL */
    struct jg_audit_log *log;     /* opened at the first event, or NULL */
    struct jg_audit_key *key;
    bool log_opened;              /* an open was tried */
    bool audit_failed;            /* an event could not be written */
    size_t changes;               /* changes made (not "already so") */
};
/* Appends a sync.apply/sync.error event with extra (borrowed; may be
 * NULL) to the event log when audit.dir exists; a failure is reported
 * and remembered in x->audit_failed. */
void jg_cli_sync_event(struct jg_cli_sync_ctx *x, const char *type,
                       const char *reason, json_t *extra);
/* A failed call or step: logs it, appends sync.error and counts it in
 * jumpgate_sync_errors_total{provider} (provider NULL: no provider). */
void jg_cli_sync_failed(struct jg_cli_sync_ctx *x, const char *provider,
                        const char *what, const char *error);
/* Makes every change s carries out a sync.apply event (and a count in
 * jumpgate_sync_changes_total). */
void jg_cli_sync_observe(struct jg_cli_sync_ctx *x, struct jg_sync *s);
/* Seals and closes the event log. */
void jg_cli_sync_ctx_close(struct jg_cli_sync_ctx *x);
/* cmd_sync_discover.c: ECS discovery of every discovering target of p,
 * each written to its policy.d/T.discovered.json (a failing target keeps
 * its old file). Prints one line per target to out (may be NULL). Returns
 * JG_EXIT_OK or JG_EXIT_ERROR when any target failed. */
int jg_cli_sync_discover(struct jg_cli_sync_ctx *x, struct jg_sync *s,
                         const struct jg_policy *p, FILE *out);
/* cmd_sync_run.c: "sync run" - applies every sync.interval and soon
 * after the policy files change, serving sync.metrics.listen, until
 * SIGTERM or SIGINT. round() is one apply; its exit status counts. */
typedef int (*jg_cli_sync_round_fn)(struct jg_cli_sync_ctx *x, bool force);
int jg_cli_sync_run(const struct jg_cli *c, const struct jg_config *cfg,
                    bool force, jg_cli_sync_round_fn round);

/* cmd_audit.c: "jumpgate audit ..." - argv[0] is "audit"; the subcommands
 * in cmd_audit_*.c get argv[0] = their name. */
int jg_cli_audit(struct jg_cli *c, int argc, char **argv);
int jg_cli_audit_keygen(struct jg_cli *c, int argc, char **argv);
int jg_cli_audit_list(struct jg_cli *c, int argc, char **argv);
int jg_cli_audit_show(struct jg_cli *c, int argc, char **argv);
int jg_cli_audit_replay(struct jg_cli *c, int argc, char **argv);
int jg_cli_audit_watch(struct jg_cli *c, int argc, char **argv);
int jg_cli_audit_export(struct jg_cli *c, int argc, char **argv);
int jg_cli_audit_events(struct jg_cli *c, int argc, char **argv);
int jg_cli_audit_search(struct jg_cli *c, int argc, char **argv);
int jg_cli_audit_verify(struct jg_cli *c, int argc, char **argv);
/* cmd_session.c: "jumpgate session list|kill" - argv[0] is "session". */
int jg_cli_session(struct jg_cli *c, int argc, char **argv);
/* cmd_ca.c: "jumpgate ca keygen|show" - argv[0] is "ca". */
int jg_cli_ca(struct jg_cli *c, int argc, char **argv);
/* cmd_audit_ship.c */
int jg_cli_audit_ship(struct jg_cli *c, int argc, char **argv);
/* cmd_audit_serve.c: the auditors' web console */
int jg_cli_audit_serve(struct jg_cli *c, int argc, char **argv);
/* Shared by the audit subcommands (cmd_audit.c): audit.dir (dir_opt when
 * given) and audit.signing_key of the configuration; either may come back
 * NULL (no key configured). Reports problems; 0 or JG_EXIT_ERROR. Caller
 * frees both. */
int jg_cli_audit_paths(const struct jg_cli *c, const char *dir_opt,
                       char **dir, char **key);
/* The recording id below dir (.jgr, or an older .cast); reports a bad or unknown id and
 * returns JG_EXIT_ERROR, or 0 with *path (caller frees). */
int jg_cli_audit_rec(const char *dir, const char *id, char **path);
/* audit export ID --evidence (cmd_audit_evidence.c): the evidence archive
 * of session id on stdout, with the public key pub (NULL: that of
 * audit.signing_key). */
int jg_cli_audit_evidence(struct jg_cli *c, const char *dir_opt,
                          const char *id, const char *pub);
/* Appends ev to the event log named by the configuration, for commands that
 * change state (policy grant/revoke/grants --prune). Quiet when audit.dir
 * does not exist; otherwise a failure is reported on stderr. Returns 0 or
 * JG_EXIT_ERROR. */
struct jg_audit_event;
int jg_cli_audit_event(const struct jg_cli *c, const struct jg_audit_event *ev);

/* ---- the running daemon (control.c) ----------------------------------- */

/* Sends req (one line) to jumpgated's control socket and reads its JSON
 * answer (an object; caller frees *out). Returns 0 or JG_EXIT_ERROR with
 * the problem reported. With unreachable non-NULL, a socket that cannot
 * be reached is not reported but its errno is put there. */
int jg_cli_control_ask(const struct jg_cli *c, const char *cmd,
                       const char *req, json_t **out, int *unreachable);
/* After a change of the policy files: asks jumpgated to reload now on
 * behalf of by, and prints whether it applied the change. 0 when it did or
 * no daemon runs; JG_EXIT_ERROR when it refused (the change is not in
 * force) or the answer went wrong. */
int jg_cli_control_reload(const struct jg_cli *c, const char *cmd,
                          const char *by);
/* After a change refused for errors in the policy files: says which policy
 * the running jumpgated keeps (when it loaded it, its digest) and what to
 * do, on stderr. */
void jg_cli_control_keeps(const struct jg_cli *c, const char *cmd);
/* Who is acting, for the event log and grant files: by (--by) when
 * given, else $SUDO_USER, else the name of the login uid
 * (/proc/self/loginuid), else that of the real uid. Returns 0, or
 * JG_EXIT_ERROR (reported) when by is not a fit name. */
#define JG_CLI_BY_MAX 64
int jg_cli_operator(const char *cmd, const char *by, char *buf, size_t n);

/* ---- options (opts.c) ------------------------------------------------- */

/* A subcommand of a command group ("policy", "audit"). */
struct jg_cli_cmd {
    const char *name;
    int (*run)(struct jg_cli *c, int argc, char **argv);
};

/* Runs "jumpgate GROUP [-c FILE] [--help] SUBCOMMAND ...": parses the
 * group's own options, then calls the subcommand of cmds (n entries) with
 * argv[0] = its name. Usage errors name the group and print usage. */
int jg_cli_group(struct jg_cli *c, const char *group, const char *usage,
                 const struct jg_cli_cmd *cmds, size_t n, int argc, char **argv);

/* Every subcommand also takes -c/--config FILE (the global option, written
 * after the command) and --help. */

/* Reports a getopt_long() failure (ch is '?' or ':', the option string
 * started with ':') for subcommand cmd, then prints usage to stderr.
 * Returns JG_EXIT_ERROR. */
int jg_cli_opt_error(const char *cmd, int ch, char **argv, const char *usage);
/* Parses the options of a subcommand that takes no arguments and only
 * -c/--config, --help and, when force is non-NULL, --force (sets *force).
 * Returns -1 to go on, or the exit status to return: JG_EXIT_OK after
 * printing usage for --help, JG_EXIT_ERROR after reporting a usage error. */
int jg_cli_plain_opts(struct jg_cli *c, const char *cmd, const char *usage,
                      int argc, char **argv, bool *force);
/* "jumpgate: CMD: message" and the usage on stderr; returns JG_EXIT_ERROR. */
int jg_cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
    JG_PRINTF(3, 4);
/* Splits s at commas and appends the non-empty parts to *v (grown as
 * needed; each part allocated). Caller frees with jg_cli_strv_free. */
void jg_cli_split_append(const char *s, char ***v, size_t *n);
void jg_cli_strv_free(char **v, size_t n);
/* "now" (jg_now()) or an RFC 3339 time (or a date) into *t. Returns 0 or
 * JG_ERR_INVALID. */
int jg_cli_parse_time(const char *s, int64_t *t);

/* ---- config and policy (load.c) --------------------------------------- */

/* Loads the configuration named by -c, $JUMPGATE_CONFIG or the default.
 * On failure reports it (unless quiet: file:line:col lines, or the file
 * and the system's reason) and returns JG_EXIT_ERROR; 0 on success, and
 * the caller frees *cfg with jg_config_free(). */
int jg_cli_config(const struct jg_cli *c, bool quiet, struct jg_config **cfg);

/* The policy path named by the configuration (-c, $JUMPGATE_CONFIG, or the
 * default). Caller frees *path. On failure reports the problem on stderr
 * and returns JG_EXIT_ERROR; 0 on success. */
int jg_cli_policy_path(const struct jg_cli *c, char **path);
/* Loads the policy at path; on failure reports it (diagnostics, then a
 * summary) and returns JG_EXIT_ERROR for an unreadable file and invalid_rc
 * for an invalid policy. 0 on success; caller frees *out. */
int jg_cli_load_policy(const char *path, int invalid_rc,
                       struct jg_policy **out);
/* Prints the diagnostics of a JG_ERR_IO as "jumpgate: FILE: message" (or,
 * when there are none, "jumpgate: what: strerror(err)"), and clears d. */
void jg_cli_report_io(struct jg_diags *d, const char *what, int err);
/* Prints the diagnostics (warnings, when the call succeeded) as
 * FILE:LINE:COL lines, if there are any, and clears d. */
void jg_cli_print_diags(struct jg_diags *d);
/* Prints the diagnostics as FILE:LINE:COL lines, then "jumpgate: what:
 * N errors", and clears d. */
void jg_cli_report_invalid(struct jg_diags *d, const char *what);
/* Active grants (until > now) of p. */
size_t jg_cli_active_grants(const struct jg_policy *p, int64_t now);

/* ---- output (json.c) -------------------------------------------------- */

/* Writes j to stdout, indented, with a newline, and drops the reference.
 * Returns JG_EXIT_OK, or JG_EXIT_ERROR when it cannot be written. */
int jg_cli_json_print(json_t *j);
/* A new JSON string of a time, or null for JG_TIME_NEVER. */
json_t *jg_cli_json_time(int64_t t);
/* A new JSON array of strings. */
json_t *jg_cli_json_strv(const char *const *v, size_t n);
/* A new JSON array of the action names in mask. */
json_t *jg_cli_json_actions(unsigned mask);
/* A new JSON array of CIDRs. */
json_t *jg_cli_json_cidrs(const struct jg_cidr *v, size_t n);

/* ---- event text (event_text.c) ---------------------------------------- */

/* Writes s (NULL: "-") to f with control characters as '?'. */
void jg_cli_clean_print(FILE *f, const char *s);
/* Writes each member of ev that is not null and not named in skip (a
 * NULL-ended list) to f as " key=value", strings as they are, other
 * values as compact JSON, all through jg_cli_clean_print(). */
void jg_cli_print_members(FILE *f, json_t *ev, const char *const skip[]);

#endif
