/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_audit_events.c - "jumpgate audit events": the event log, filtered
 * by time, type, session, user, target and source address; seal lines only
 * when asked (--seals, or a --type that names them). */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] audit events [--since T] [--until T] [--type T]\n"
    "                [--session ID] [--user U] [--target T] [--from ADDR]\n"
    "                [--seals] [--json] [--dir DIR]\n";
static const char cmd[] = "audit events";

struct filter {
    int64_t since, until;
    char **types;
    size_t n_types;
    const char *session, *user, *target, *from;
    bool seals;
    json_t *arr; /* --json: collected here */
    size_t shown;
};

static const char *
jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool
glob(const char *pattern, const char *value)
{
    return pattern == NULL ||
           (value != NULL && fnmatch(pattern, value, 0) == 0);
}

static bool
wanted(const struct filter *f, json_t *ev)
{
    const char *type = jstr(ev, "type"), *s;
    int64_t t = 0;
    size_t i;

    if (jg_audit_time_parse(jstr(ev, "time"), &t) != 0 || t < f->since ||
        t >= f->until)
        return false;
    if (f->session != NULL &&
        ((s = jstr(ev, "session")) == NULL || strcmp(s, f->session) != 0))
        return false;
    if (!glob(f->user, jstr(ev, "user")) ||
        !glob(f->target, jstr(ev, "target")) ||
        !glob(f->from, jstr(ev, "from")))
        return false;
    if (f->n_types == 0)
        return f->seals || strcmp(type, "seal") != 0;
    for (i = 0; i < f->n_types; i++)
        if (fnmatch(f->types[i], type, 0) == 0)
            return true;
    return false;
}

static bool
on_event(json_t *ev, const char *file, size_t line, void *arg)
{
    static const char *const skip[] = {"seq", "time", "type", "prev", "sig",
        NULL};
    struct filter *f = arg;

    if (!wanted(f, ev))
        return true;
    f->shown++;
    if (f->arr != NULL) {
        json_array_append(f->arr, ev);
        return true;
    }
    printf("%s  %-14s", jstr(ev, "time"), jstr(ev, "type"));
    jg_cli_print_members(stdout, ev, skip);
    fputc('\n', stdout);
    return true;
}

int
jg_cli_audit_events(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'U'},
        {"type", required_argument, NULL, 't'},
        {"session", required_argument, NULL, 'S'},
        {"user", required_argument, NULL, 'u'},
        {"target", required_argument, NULL, 'T'},
        {"from", required_argument, NULL, 'F'},
        {"seals", no_argument, NULL, 'e'},
        {"json", no_argument, NULL, 'j'},
        {"dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    struct filter f = {.since = INT64_MIN, .until = INT64_MAX};
    const char *dir_opt = NULL;
    char *dir = NULL, *key = NULL;
    bool json = false;
    size_t bad = 0;
    int64_t t;
    int ch, rc, r;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            rc = JG_EXIT_OK;
            goto out;
        case 's':
        case 'U':
            if (jg_cli_parse_time(optarg, &t) != 0) {
                rc = jg_cli_usage_error(cmd, NULL,
                                        "'%s' is not a time (use RFC 3339, a "
                                        "date, or now)",
                                        optarg);
                goto out;
            }
            if (ch == 's')
                f.since = t * 1000000;
            else
                f.until = t * 1000000;
            break;
        case 't':
            jg_cli_split_append(optarg, &f.types, &f.n_types);
            break;
        case 'S':
            f.session = optarg;
            break;
        case 'u':
            f.user = optarg;
            break;
        case 'T':
            f.target = optarg;
            break;
        case 'F':
            f.from = optarg;
            break;
        case 'e':
            f.seals = true;
            break;
        case 'j':
            json = true;
            break;
        case 'd':
            dir_opt = optarg;
            break;
        default:
            rc = jg_cli_opt_error(cmd, ch, argv, usage);
            goto out;
        }
    }
    if (optind != argc) {
        rc = jg_cli_usage_error(cmd, usage, "unexpected argument '%s'",
                                argv[optind]);
        goto out;
    }
    if ((rc = jg_cli_audit_paths(c, dir_opt, &dir, &key)) != 0)
        goto out;
    if (json)
        f.arr = json_array();
    r = jg_audit_events_each(dir, on_event, &f, &bad);
    if (r != 0) {
        jg_error("%s: %s", dir, r == JG_ERR_IO ? strerror(errno)
                                               : jg_strerror(r));
        rc = JG_EXIT_ERROR;
        goto out;
    }
    if (bad > 0)
        jg_warn("%zu event-log line%s could not be read (see audit verify)",
                bad, bad == 1 ? "" : "s");
    rc = json ? jg_cli_json_print(f.arr) : JG_EXIT_OK;
    f.arr = NULL;
out:
    json_decref(f.arr);
    jg_cli_strv_free(f.types, f.n_types);
    free(dir);
    free(key);
    return rc;
}
