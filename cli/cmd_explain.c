/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_explain.c - "jumpgate policy explain": decides one request and
 * says why. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] policy explain --user U --from IP --target T\n"
    "                --action A [--login L] [--at TIME] [--json]\n";

static const char *
by_word(enum jg_decided_by by)
{
    switch (by) {
    case JG_BY_RULE:
        return "rule";
    case JG_BY_GRANT:
        return "grant";
    case JG_BY_USER:
        return "user";
    case JG_BY_DEFAULT:
    default:
        return "default";
    }
}

static int
print_text(const struct jg_decision *dec)
{
    char buf[JG_TIME_STRLEN];
    bool allow = dec->effect == JG_ALLOW;

    printf("%s\n", allow ? "allow" : "deny");
    if (dec->by == JG_BY_RULE)
        printf("rule: %s\n", dec->by_name);
    else if (dec->by == JG_BY_GRANT)
        printf("grant: %s\n", dec->by_name);
    else if (dec->by == JG_BY_USER)
        printf("decided by: user\n");
    else
        printf("decided by: default deny\n");
    printf("reason: %s\n", dec->reason);
    if (allow) {
        if (dec->login[0] != '\0')
            printf("login: %s\n", dec->login);
        jg_time_format(dec->until, buf, sizeof(buf));
        printf("until: %s\n", buf);
        if (dec->max_session > 0) {
            jg_duration_format(dec->max_session, buf, sizeof(buf));
            printf("max_session: %s\n", buf);
        }
        if (dec->record_input)
            printf("record_input: true\n");
    }
    return fflush(stdout) == 0 ? JG_EXIT_OK : JG_EXIT_ERROR;
}

static int
print_json(const struct jg_decision *dec)
{
    bool allow = dec->effect == JG_ALLOW;
    json_t *j = json_object();

    if (j == NULL)
        return jg_cli_json_print(NULL);
    json_object_set_new(j, "effect", json_string(allow ? "allow" : "deny"));
    json_object_set_new(j, "by", json_string(by_word(dec->by)));
    json_object_set_new(j, "name",
                        dec->by_name[0] != '\0' ? json_string(dec->by_name)
                                                : json_null());
    json_object_set_new(j, "reason", json_string(dec->reason));
    json_object_set_new(j, "login",
                        allow && dec->login[0] != '\0' ? json_string(dec->login)
                                                       : json_null());
    json_object_set_new(j, "until",
                        allow ? jg_cli_json_time(dec->until) : json_null());
    json_object_set_new(j, "max_session",
                        allow && dec->max_session > 0
                            ? json_integer(dec->max_session)
                            : json_null());
    json_object_set_new(j, "record_input",
                        json_boolean(allow && dec->record_input));
    return jg_cli_json_print(j);
}

int
jg_cli_policy_explain(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"user", required_argument, NULL, 'u'},
        {"from", required_argument, NULL, 'f'},
        {"target", required_argument, NULL, 't'},
        {"action", required_argument, NULL, 'a'},
        {"login", required_argument, NULL, 'l'},
        {"at", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    static const char cmd[] = "policy explain";
    struct jg_request req = {0};
    struct jg_decision dec = {0};
    struct jg_policy *p = NULL;
    struct jg_addr addr;
    const char *action = NULL, *at = "now";
    char *path = NULL;
    bool json = false;
    int ch, rc, r;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return JG_EXIT_OK;
        case 'u':
            req.user = optarg;
            break;
        case 'f':
            req.from = optarg;
            break;
        case 't':
            req.target = optarg;
            break;
        case 'a':
            action = optarg;
            break;
        case 'l':
            req.login = optarg;
            break;
        case 'T':
            at = optarg;
            break;
        case 'j':
            json = true;
            break;
        default:
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    if (optind < argc)
        return jg_cli_usage_error(cmd, usage, "unexpected argument '%s'",
                                  argv[optind]);
    if (req.user == NULL || req.from == NULL || req.target == NULL ||
        action == NULL)
        return jg_cli_usage_error(cmd, usage, "--%s is required",
                                  req.user == NULL     ? "user"
                                  : req.from == NULL   ? "from"
                                  : req.target == NULL ? "target"
                                                       : "action");
    if ((req.action = jg_policy_action_parse(action)) == 0)
        return jg_cli_usage_error(cmd, NULL,
                                  "unknown action '%s' (use shell, exec, "
                                  "sftp, forward or jump)",
                                  action);
    if (jg_addr_parse(req.from, &addr) != 0)
        return jg_cli_usage_error(
            cmd, NULL, "--from '%s' is not an IPv4 or IPv6 address", req.from);
    if (jg_cli_parse_time(at, &req.at) != 0)
        return jg_cli_usage_error(cmd, NULL,
                                  "--at '%s' is not a time (use RFC 3339, "
                                  "e.g. 2026-11-27T18:00:00Z, or 'now')",
                                  at);

    if ((rc = jg_cli_policy_path(c, &path)) != 0)
        return rc;
    if ((rc = jg_cli_load_policy(path, JG_EXIT_ERROR, &p)) != 0)
        goto out;
    r = jg_policy_decide(p, &req, &dec);
    if (r != 0 && r != JG_ERR_INVALID) {
        jg_error("cannot decide: %s", jg_strerror(r));
        rc = JG_EXIT_ERROR;
        goto out;
    }
    rc = json ? print_json(&dec) : print_text(&dec);
    if (rc == JG_EXIT_OK && dec.effect != JG_ALLOW)
        rc = JG_EXIT_NO;
out:
    jg_policy_free(p);
    free(path);
    return rc;
}
