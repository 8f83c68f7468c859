/* SPDX-License-Identifier: Apache-2.0 */
/* cli/control.c - talking to the running jumpgated over its control
 * socket (session list/kill, policy status, the reload after a grant or a
 * revocation), and naming the operator who acts. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define TIMEOUT_MS 10000

/* The control socket named by the configuration; caller frees. */
static int
socket_path(const struct jg_cli *c, char **out)
{
    struct jg_config *cfg = NULL;

    if (jg_cli_config(c, false, &cfg) != 0)
        return JG_EXIT_ERROR;
    *out = jg_xstrdup(cfg->control_socket);
    jg_config_free(cfg);
    return 0;
}

int
jg_cli_control_ask(const struct jg_cli *c, const char *cmd, const char *req,
                   json_t **out, int *unreachable)
{
    char *path = NULL, *buf = NULL, why[512];
    size_t len = 0;
    json_error_t jerr;
    int rc, r;

    *out = NULL;
    if (unreachable != NULL)
        *unreachable = 0;
    if ((rc = socket_path(c, &path)) != 0)
        return rc;
    rc = JG_EXIT_ERROR;
    r = jg_control_request(path, req, TIMEOUT_MS, &buf, &len, why,
                           sizeof(why));
    if (r == JG_ERR_NOTFOUND && unreachable != NULL) {
        *unreachable = errno != 0 ? errno : EIO;
        goto out;
    }
    if (r != 0) {
        jg_error("%s: %s", cmd, why);
        goto out;
    }
    if ((*out = json_loadb(buf, len, 0, &jerr)) == NULL ||
        !json_is_object(*out)) {
        jg_error("%s: jumpgated gave no answer", cmd);
        json_decref(*out);
        *out = NULL;
        goto out;
    }
    rc = 0;
out:
    free(buf);
    free(path);
    return rc;
}

int
jg_cli_control_reload(const struct jg_cli *c, const char *cmd, const char *by)
{
    json_t *req = json_pack("{s:s,s:s}", "req", "reload", "by", by), *a = NULL;
    char *line = json_dumps(req, JSON_COMPACT), *text;
    const char *digest;
    int rc, unreachable = 0;

    json_decref(req);
    text = jg_xasprintf("%s\n", line != NULL ? line : "{}");
    free(line);
    rc = jg_cli_control_ask(c, cmd, text, &a, &unreachable);
    free(text);
    if (unreachable != 0) {
        /* The daemon sees the files change by itself; this was to make it
         * sure and at once. */
        if (unreachable == ENOENT || unreachable == ECONNREFUSED)
            printf("jumpgated is not running here: it loads the policy when "
                   "it starts\n");
        else
            jg_warn("%s: cannot tell jumpgated (%s%s); it applies the "
                    "change when it notices the files", cmd,
                    strerror(unreachable),
                    unreachable == EACCES ? ": the control socket is root's"
                                          : "");
        return 0;
    }
    if (rc != 0)
        return JG_EXIT_ERROR;
    digest = json_string_value(json_object_get(a, "digest"));
    if (json_is_true(json_object_get(a, "ok")) && digest != NULL) {
        printf("jumpgated applied it: policy sha256:%s\n", digest);
        rc = 0;
    } else {
        jg_error("%s: jumpgated did NOT apply it: %s", cmd,
                 json_string_value(json_object_get(a, "error"))
                     ? json_string_value(json_object_get(a, "error"))
                     : "unexpected answer");
        rc = JG_EXIT_ERROR;
    }
    json_decref(a);
    return rc;
}

/* The name of uid, or "uid N". */
static void
uid_name(uid_t uid, char *buf, size_t n)
{
    struct passwd *pw = getpwuid(uid);

    if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0')
        jg_strlcpy(buf, pw->pw_name, n);
    else
        snprintf(buf, n, "uid %lu", (unsigned long)uid);
}

/* Is s fit to name an operator: printable, one line, not too long? */
static bool
name_ok(const char *s)
{
    size_t i;

    if (s == NULL || s[0] == '\0' || strlen(s) > JG_CLI_BY_MAX)
        return false;
    for (i = 0; s[i] != '\0'; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

int
jg_cli_operator(const char *cmd, const char *by, char *buf, size_t n)
{
    const char *sudo = getenv("SUDO_USER");
    char *text = NULL;
    size_t len;

    if (by != NULL) {
        if (!name_ok(by))
            return jg_cli_usage_error(cmd, NULL,
                                      "--by must be a name of 1 to %d "
                                      "printable characters", JG_CLI_BY_MAX);
        jg_strlcpy(buf, by, n);
        return 0;
    }
    if (name_ok(sudo)) {
        jg_strlcpy(buf, sudo, n);
        return 0;
    }
    /* the audit login uid: who logged in, whatever su did since */
    if (jg_read_file("/proc/self/loginuid", 32, &text, &len) == 0) {
        char *end;
        unsigned long v = strtoul(text, &end, 10);

        free(text);
        if (end != NULL && (*end == '\0' || *end == '\n') && v != 4294967295ul) {
            uid_name((uid_t)v, buf, n);
            return 0;
        }
    }
    uid_name(getuid(), buf, n);
    return 0;
}

void
jg_cli_control_keeps(const struct jg_cli *c, const char *cmd)
{
    json_t *a = NULL;
    const char *digest = NULL, *loaded = NULL;
    char keeps[256];
    int down = 0;

    if (jg_cli_control_ask(c, cmd, "status\n", &a, &down) == 0 && a != NULL) {
        digest = json_string_value(json_object_get(a, "digest"));
        loaded = json_string_value(json_object_get(a, "loaded"));
    }
    if (digest != NULL)
        snprintf(keeps, sizeof(keeps),
                 "jumpgated keeps the policy it loaded at %s (sha256:%s)",
                 loaded != NULL ? loaded : "?", digest);
    else if (down != 0)
        snprintf(keeps, sizeof(keeps), "no jumpgated answers (%s)",
                 strerror(down));
    else
        keeps[0] = '\0';   /* the answer went wrong: already reported */
    if (keeps[0] != '\0')
        jg_error("%s: %s; fix the errors above ('jumpgate policy check' "
                 "lists them all) and run the command again", cmd, keeps);
    json_decref(a);
}
