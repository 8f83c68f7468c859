/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_session.c - "jumpgate session list [--json]" and "jumpgate
 * session kill ID": the live sessions of the running jumpgated, asked over
 * its root-only control socket (control_socket in the configuration). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] session list [--json]\n"
    "       jumpgate [-c FILE] session kill ID [--reason TEXT] [--by NAME]\n";

#define KILL_REASON_MAX 512

static const char *
str_or(json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s != NULL ? s : dflt;
}

/* Options of list: -c, --help and --json. */
static int
options(struct jg_cli *c, const char *cmd, int argc, char **argv,
        bool *json)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'j':
            *json = true;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        default:
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    return 0;
}

enum { C_ID, C_USER, C_FROM, C_TARGET, C_LOGIN, C_ACTION, C_STARTED,
       C_LAPSES, C_SESSION, NCOLS };
static const char *const col_names[NCOLS] = {
    "ID", "USER", "FROM", "TARGET", "LOGIN", "ACTION", "STARTED", "LAPSES",
    "SESSION"};

static void
print_table(json_t *sessions)
{
    const char *(*rows)[NCOLS] = NULL;
    size_t n = 0, cap = 0, w[NCOLS], i, j, k;
    json_t *s, *ch;

    json_array_foreach(sessions, i, s) {
        json_t *chans = json_object_get(s, "channels");
        size_t nch = json_array_size(chans);

        for (j = 0; j < (nch ? nch : 1); j++) {
            ch = nch ? json_array_get(chans, j) : NULL;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                rows = jg_xrealloc(rows, cap, sizeof(*rows));
            }
            rows[n][C_ID] = str_or(s, "id", "?");
            rows[n][C_USER] = str_or(s, "user", "?");
            rows[n][C_FROM] = str_or(s, "from", "?");
            rows[n][C_TARGET] = ch ? str_or(ch, "target", "-") : "-";
            rows[n][C_LOGIN] = ch ? str_or(ch, "login", "-") : "-";
            rows[n][C_ACTION] = ch ? str_or(ch, "action", "-") : "-";
            rows[n][C_STARTED] = ch ? str_or(ch, "started", "-")
                                    : str_or(s, "connected", "-");
            rows[n][C_LAPSES] = ch ? str_or(ch, "lapses", "never") : "-";
            rows[n][C_SESSION] = ch ? str_or(ch, "session", "-") : "-";
            if (rows[n][C_LOGIN][0] == '\0')
                rows[n][C_LOGIN] = "-";
            n++;
        }
    }
    for (k = 0; k < NCOLS; k++) {
        w[k] = strlen(col_names[k]);
        for (i = 0; i < n; i++)
            if (strlen(rows[i][k]) > w[k])
                w[k] = strlen(rows[i][k]);
    }
    for (k = 0; k < NCOLS; k++) {
        if (k + 1 < NCOLS)
            printf("%-*s  ", (int)w[k], col_names[k]);
        else
            printf("%s\n", col_names[k]);
    }
    for (i = 0; i < n; i++)
        for (k = 0; k < NCOLS; k++) {
            if (k + 1 < NCOLS)
                printf("%-*s  ", (int)w[k], rows[i][k]);
            else
                printf("%s\n", rows[i][k]);
        }
    free(rows);
}

static int
session_list(struct jg_cli *c, int argc, char **argv)
{
    static const char cmd[] = "session list";
    json_t *a = NULL, *sessions;
    bool json = false;
    int rc;

    if ((rc = options(c, cmd, argc, argv, &json)) != 0)
        return rc < 0 ? JG_EXIT_OK : rc;
    if (optind != argc)
        return jg_cli_usage_error(cmd, usage, "unexpected argument '%s'",
                                  argv[optind]);
    if ((rc = jg_cli_control_ask(c, cmd, "list\n", &a, NULL)) != 0)
        return rc;
    sessions = json_object_get(a, "sessions");
    if (!json_is_array(sessions)) {
        jg_error("%s: %s", cmd, str_or(a, "error", "unexpected answer"));
        json_decref(a);
        return JG_EXIT_ERROR;
    }
    if (json) {
        json_incref(sessions);
        json_decref(a);
        return jg_cli_json_print(sessions);
    }
    print_table(sessions);
    json_decref(a);
    return fflush(stdout) == 0 ? JG_EXIT_OK : JG_EXIT_ERROR;
}

static int
session_kill(struct jg_cli *c, int argc, char **argv)
{
    static const char cmd[] = "session kill";
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"by", required_argument, NULL, 'b'},
        {"reason", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *by_opt = NULL, *reason = NULL;
    char by[JG_CLI_BY_MAX + 1], *line = NULL, *req = NULL;
    json_t *a = NULL, *q;
    const char *id;
    size_t i;
    int ch, rc;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'b':
            by_opt = optarg;
            break;
        case 'r':
            reason = optarg;
            break;
        case 'j':
            return jg_cli_usage_error(cmd, usage, "--json is for session list");
        case 'h':
            fputs(usage, stdout);
            return JG_EXIT_OK;
        default:
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    if (argc - optind != 1)
        return jg_cli_usage_error(cmd, usage, "name exactly one session id");
    id = argv[optind];
    for (i = 0; id[i] != '\0'; i++)
        if (!((id[i] >= '0' && id[i] <= '9') ||
              (id[i] >= 'a' && id[i] <= 'f') || id[i] == '-'))
            break;
    if (id[i] != '\0' || i != 36)
        return jg_cli_usage_error(cmd, usage,
                                  "'%s' is not a session id (see session "
                                  "list)", id);
    if (reason != NULL) {
        bool ok = reason[0] != '\0' && strlen(reason) <= KILL_REASON_MAX &&
                  g_utf8_validate(reason, -1, NULL);
        for (i = 0; ok && reason[i] != '\0'; i++)
            ok = (unsigned char)reason[i] >= 0x20 && reason[i] != 0x7f;
        if (!ok)
            return jg_cli_usage_error(cmd, NULL,
                                      "--reason must be one line of 1 to %d "
                                      "bytes of UTF-8 text, without control "
                                      "characters", KILL_REASON_MAX);
    }
    if ((rc = jg_cli_operator(cmd, by_opt, by, sizeof(by))) != 0)
        return rc;
    q = json_pack("{s:s,s:s,s:s}", "req", "kill", "id", id, "by", by);
    if (reason != NULL)
        json_object_set_new(q, "reason", json_string(reason));
    line = json_dumps(q, JSON_COMPACT);
    json_decref(q);
    req = jg_xasprintf("%s\n", line != NULL ? line : "{}");
    free(line);
    rc = jg_cli_control_ask(c, cmd, req, &a, NULL);
    free(req);
    if (rc != 0)
        return rc;
    if (json_is_true(json_object_get(a, "ok"))) {
        printf("ended session %s\n", id);
        rc = JG_EXIT_OK;
    } else if (strcmp(str_or(a, "error", ""), "no such session") == 0) {
        jg_error("%s: no session %s", cmd, id);
        rc = JG_EXIT_NO;
    } else {
        jg_error("%s: %s", cmd, str_or(a, "error", "unexpected answer"));
        rc = JG_EXIT_ERROR;
    }
    json_decref(a);
    return rc;
}

static const struct jg_cli_cmd cmds[] = {
    {"list", session_list},
    {"kill", session_kill},
};

int
jg_cli_session(struct jg_cli *c, int argc, char **argv)
{
    return jg_cli_group(c, "session", usage, cmds,
                        sizeof(cmds) / sizeof(cmds[0]), argc, argv);
}
