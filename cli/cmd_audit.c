/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_audit.c - "jumpgate audit": picks the audit subcommand, and the
 * helpers the audit subcommands share (paths from the configuration, the
 * recording of an id, event-log appends for other commands). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] audit keygen [--force]\n"
    "       jumpgate [-c FILE] audit list [--user U] [--target T] [--since T]\n"
    "                [--until T] [--json]\n"
    "       jumpgate [-c FILE] audit show ID\n"
    "       jumpgate [-c FILE] audit replay ID [--speed X] [--idle-limit S]\n"
    "       jumpgate [-c FILE] audit watch ID\n"
    "       jumpgate [-c FILE] audit events [--since T] [--until T] [--type T]\n"
    "                [--session ID] [--user U] [--json]\n"
    "       jumpgate [-c FILE] audit search [-i] REGEX\n"
    "       jumpgate [-c FILE] audit verify [--key PUB] [--strict] [--against-s3]\n"
    "                [ID...|--all]\n"
    "       jumpgate [-c FILE] audit export ID\n"
    "       jumpgate [-c FILE] audit ship [--once] [--json]\n"
    "       jumpgate [-c FILE] audit serve [--assets DIR]\n"
    "Every audit command also takes --dir DIR (instead of audit.dir).\n";

static const struct jg_cli_cmd cmds[] = {
    {"keygen", jg_cli_audit_keygen}, {"list", jg_cli_audit_list},
    {"show", jg_cli_audit_show},     {"replay", jg_cli_audit_replay},
    {"watch", jg_cli_audit_watch},   {"export", jg_cli_audit_export},
    {"events", jg_cli_audit_events}, {"search", jg_cli_audit_search},
    {"verify", jg_cli_audit_verify}, {"ship", jg_cli_audit_ship},
    {"serve", jg_cli_audit_serve},
};

int
jg_cli_audit(struct jg_cli *c, int argc, char **argv)
{
    return jg_cli_group(c, "audit", usage, cmds, sizeof(cmds) / sizeof(cmds[0]),
                        argc, argv);
}

int
jg_cli_audit_paths(const struct jg_cli *c, const char *dir_opt, char **dir,
                   char **key)
{
    struct jg_config *cfg = NULL;

    *dir = NULL;
    *key = NULL;
    /* An auditor with a copy of the files (--dir) needs no configuration. */
    if (jg_cli_config(c, dir_opt != NULL, &cfg) != 0) {
        if (dir_opt == NULL)
            return JG_EXIT_ERROR;
        *dir = jg_xstrdup(dir_opt);
        return 0;
    }
    *dir = jg_xstrdup(dir_opt != NULL ? dir_opt : cfg->audit_dir);
    if (cfg->audit_signing_key != NULL)
        *key = jg_xstrdup(cfg->audit_signing_key);
    jg_config_free(cfg);
    return 0;
}

int
jg_cli_audit_rec(const char *dir, const char *id, char **path)
{
    int r = jg_audit_find_rec(dir, id, path);

    if (r == JG_ERR_INVALID) {
        jg_error("'%s' is not a session id (a UUIDv7)", id);
        return JG_EXIT_ERROR;
    }
    if (r == JG_ERR_NOTFOUND) {
        jg_error("no recording %s in %s/sessions", id, dir);
        return JG_EXIT_ERROR;
    }
    if (r != 0) {
        jg_error("%s/sessions: %s", dir, r == JG_ERR_IO ? strerror(errno)
                                                         : jg_strerror(r));
        return JG_EXIT_ERROR;
    }
    return 0;
}

int
jg_cli_audit_event(const struct jg_cli *c, const struct jg_audit_event *ev)
{
    const char *path = c->config != NULL ? c->config : jg_config_default_path();
    int r = jg_audit_append_event(path, ev, jg_audit_now_us());

    if (r == 0 || r == JG_ERR_NOTFOUND)
        return 0;
    jg_error("the audit event log did not take the %s event: %s", ev->type,
             r == JG_ERR_IO ? strerror(errno) : jg_strerror(r));
    return JG_EXIT_ERROR;
}
