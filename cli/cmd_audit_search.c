/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_audit_search.c - "jumpgate audit search": a regular expression
 * over the text a person saw in each recording, the commands of exec
 * sessions and the paths of SFTP events (audit/search.c), over the
 * sessions that --user, --target, --since and --until pick, as in
 * "audit list". */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] audit search [-i] [--user U] [--target T]\n"
    "                [--since T] [--until T] [--dir DIR] REGEX\n";
static const char cmd[] = "audit search";

struct search {
    const char *user, *target;  /* fnmatch patterns, or NULL */
    int64_t since, until;       /* µs: the session started within */
    size_t matches;
};

static bool
match(const char *pattern, const char *value)
{
    return pattern == NULL ||
           (value != NULL && fnmatch(pattern, value, 0) == 0);
}

static bool
want(const char *user, const char *target, int64_t start_us, void *arg)
{
    const struct search *s = arg;

    return match(s->user, user) && match(s->target, target) &&
           start_us >= s->since && start_us < s->until;
}

static bool
on_hit(const struct jg_audit_hit *h, void *arg)
{
    struct search *s = arg;
    int64_t ms = (int64_t)(h->offset * 1000.0);

    s->matches++;
    printf("%s  ", h->id);
    jg_cli_clean_print(stdout, h->user);
    printf(" \u2192 ");
    jg_cli_clean_print(stdout, h->target);
    printf("  +%" PRId64 ":%02" PRId64 ".%01" PRId64 "  ", ms / 60000,
           ms / 1000 % 60, ms / 100 % 10);
    if (h->what[0] != '\0')
        printf("(%s) ", h->what);
    jg_cli_clean_print(stdout, h->text);
    fputc('\n', stdout);
    return true;
}

static void
on_warn(const char *msg, void *arg)
{
    (void)arg;
    jg_warn("%s", msg);
}

int
jg_cli_audit_search(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"ignore-case", no_argument, NULL, 'i'},
        {"user", required_argument, NULL, 'u'},
        {"target", required_argument, NULL, 't'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'U'},
        {"dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    struct search s = {.since = INT64_MIN, .until = INT64_MAX};
    struct jg_audit_search q = {
        .want = want, .hit = on_hit, .warn = on_warn, .arg = &s,
    };
    struct jg_audit_search_stats st;
    const char *dir_opt = NULL;
    char *dir = NULL, *key = NULL, msg[256];
    int ch, rc, r, flags = REG_EXTENDED | REG_NOSUB;
    int64_t t;
    regex_t re;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:hi", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return JG_EXIT_OK;
        case 'i':
            flags |= REG_ICASE;
            break;
        case 'u':
            s.user = optarg;
            break;
        case 't':
            s.target = optarg;
            break;
        case 's':
        case 'U':
            if (jg_cli_parse_time(optarg, &t) != 0)
                return jg_cli_usage_error(cmd, NULL,
                                          "'%s' is not a time (use RFC 3339, "
                                          "a date, or now)",
                                          optarg);
            if (ch == 's')
                s.since = t * 1000000;
            else
                s.until = t * 1000000;
            break;
        case 'd':
            dir_opt = optarg;
            break;
        default:
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    if (argc - optind != 1)
        return jg_cli_usage_error(cmd, usage, "give exactly one REGEX");
    if ((r = regcomp(&re, argv[optind], flags)) != 0) {
        regerror(r, &re, msg, sizeof(msg));
        return jg_cli_usage_error(cmd, NULL, "bad REGEX '%s': %s",
                                  argv[optind], msg);
    }
    q.re = &re;
    if ((rc = jg_cli_audit_paths(c, dir_opt, &dir, &key)) != 0)
        goto out;
    if ((r = jg_audit_search(dir, &q, &st)) != 0) {
        jg_error("%s: %s", dir, r == JG_ERR_IO ? strerror(errno)
                                               : jg_strerror(r));
        rc = JG_EXIT_ERROR;
        goto out;
    }
    if (st.events_unreadable)
        jg_warn("%s/events: cannot read the event log", dir);
    fflush(stdout);
    rc = s.matches > 0 ? JG_EXIT_OK : JG_EXIT_NO;
out:
    regfree(&re);
    free(dir);
    free(key);
    return rc;
}
