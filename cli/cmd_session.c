/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_session.c - "jumpgate session list [--json]" and "jumpgate
 * session kill ID": the live sessions of the running jumpgated, asked over
 * its root-only control socket (control_socket in the configuration). */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] session list [--json]\n"
    "       jumpgate [-c FILE] session kill ID\n";

#define ANSWER_MAX (16u << 20)
#define TIMEOUT_MS 10000

/* The control socket named by the configuration; caller frees. */
static int
socket_path(const struct jg_cli *c, char **out)
{
    const char *path = c->config != NULL ? c->config : jg_config_default_path();
    struct jg_config *cfg = NULL;
    struct jg_diags d = {0};
    int r, err;

    r = jg_config_load(path, &cfg, &d);
    err = errno;
    if (r == JG_ERR_IO) {
        jg_diags_clear(&d);
        jg_error("cannot read configuration %s: %s", path, strerror(err));
        return JG_EXIT_ERROR;
    }
    if (r != 0) {
        jg_cli_report_invalid(&d, "configuration not valid");
        return JG_EXIT_ERROR;
    }
    jg_diags_clear(&d);
    *out = jg_xstrdup(cfg->control_socket);
    jg_config_free(cfg);
    return 0;
}

/* Sends one request line and reads the JSON answer. */
static int
ask(const struct jg_cli *c, const char *cmd, const char *req, json_t **out)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char *path = NULL, *buf = NULL;
    size_t len = 0, cap = 0;
    json_error_t jerr;
    int fd = -1, rc;

    *out = NULL;
    if ((rc = socket_path(c, &path)) != 0)
        return rc;
    rc = JG_EXIT_ERROR;
    jg_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        jg_error("%s: cannot reach jumpgated at %s: %s%s", cmd, path,
                 strerror(errno),
                 errno == EACCES ? " (the control socket is root's)"
                 : errno == ENOENT || errno == ECONNREFUSED
                     ? " (is jumpgated running?)"
                     : "");
        goto out;
    }
    /* The daemon may answer (a refusal) and close before all of it is
     * sent; the answer is read either way. */
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req) &&
        errno != EPIPE && errno != ECONNRESET) {
        jg_error("%s: cannot send to jumpgated: %s", cmd, strerror(errno));
        goto out;
    }
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (poll(&p, 1, TIMEOUT_MS) <= 0) {
            jg_error("%s: jumpgated did not answer", cmd);
            goto out;
        }
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = jg_xrealloc(buf, cap, 1);
        }
        n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            jg_error("%s: reading the answer: %s", cmd, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > ANSWER_MAX) {
            jg_error("%s: the answer of jumpgated is too long", cmd);
            goto out;
        }
    }
    if ((*out = json_loadb(buf ? buf : "", len, 0, &jerr)) == NULL ||
        !json_is_object(*out)) {
        jg_error("%s: jumpgated gave no answer", cmd);
        json_decref(*out);
        *out = NULL;
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    free(path);
    return rc;
}

static const char *
str_or(json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s != NULL ? s : dflt;
}

/* Options shared by list and kill: -c, --help, and --json for list. */
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
            if (json == NULL)
                return jg_cli_usage_error(cmd, usage,
                                          "--json is for session list");
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
       C_LAPSES, NCOLS };
static const char *const col_names[NCOLS] = {
    "ID", "USER", "FROM", "TARGET", "LOGIN", "ACTION", "STARTED", "LAPSES"};

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
    if ((rc = ask(c, cmd, "list\n", &a)) != 0)
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
    char req[128];
    json_t *a = NULL;
    const char *id;
    size_t i;
    int rc;

    if ((rc = options(c, cmd, argc, argv, NULL)) != 0)
        return rc < 0 ? JG_EXIT_OK : rc;
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
    snprintf(req, sizeof(req), "kill %s\n", id);
    if ((rc = ask(c, cmd, req, &a)) != 0)
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
