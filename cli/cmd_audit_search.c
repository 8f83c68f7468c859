/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_audit_search.c - "jumpgate audit search": a regular expression
 * over the text a person saw in each recording, the commands of exec
 * sessions and the paths of SFTP events. */
#include <errno.h>
#include <fcntl.h>
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
    "usage: jumpgate [-c FILE] audit search [-i] REGEX [--dir DIR]\n";
static const char cmd[] = "audit search";

/* What a match line names. */
struct who {
    char id[JG_AUDIT_ID_STRLEN];
    char *user, *target;
    int64_t start_us;
};

struct search {
    regex_t re;
    struct who *sessions; /* from the recordings, for the event matches */
    size_t n_sessions;
    const struct who *cur;
    size_t matches;
};

static void
clean_print(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "-");

    for (; *p != '\0'; p++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, stdout);
}

static void
print_match(struct search *s, const struct who *w, double t, const char *what,
            const char *text)
{
    int64_t ms = t < 0 ? 0 : (int64_t)(t * 1000.0);

    s->matches++;
    printf("%s  ", w->id);
    clean_print(w->user);
    printf(" \u2192 ");
    clean_print(w->target);
    printf("  +%" PRId64 ":%02" PRId64 ".%01" PRId64 "  %s", ms / 60000,
           ms / 1000 % 60, ms / 100 % 10, what);
    clean_print(text);
    fputc('\n', stdout);
}

static void
on_line(const char *line, size_t len, double t, void *arg)
{
    struct search *s = arg;

    if (regexec(&s->re, line, 0, NULL, 0) == 0)
        print_match(s, s->cur, t, "", line);
}

/* Searches one recording's output (and its command). */
static void
search_rec(struct search *s, const char *id, const char *path)
{
    const struct jg_audit_cast_header *h;
    struct jg_audit_recr *rd = NULL;
    struct jg_audit_recr_ev ev;
    struct jg_audit_text *x = NULL;
    struct jg_audit_utf8 u8[2];
    struct who *w;
    char err[512], *text = NULL;
    size_t n;
    int r;

    if (jg_audit_recr_open(path, &rd, err, sizeof(err)) != 0) {
        jg_warn("%s", err);
        return;
    }
    h = jg_audit_recr_header(rd);
    s->sessions = jg_xrealloc(s->sessions, s->n_sessions + 1,
                              sizeof(*s->sessions));
    w = &s->sessions[s->n_sessions++];
    jg_strlcpy(w->id, id, sizeof(w->id));
    w->user = h->user ? jg_xstrdup(h->user) : NULL;
    w->target = h->target ? jg_xstrdup(h->target) : NULL;
    w->start_us = jg_audit_recr_start_us(rd);
    s->cur = w;
    if (h->command != NULL && regexec(&s->re, h->command, 0, NULL, 0) == 0)
        print_match(s, w, 0, "(exec) ", h->command);
    memset(u8, 0, sizeof(u8));
    x = jg_audit_text_new(on_line, s);
    /* What the person saw: output and stderr, as text. */
    while ((r = jg_audit_recr_next(rd, &ev)) == 1) {
        if (ev.kind != 'o' && ev.kind != 'e')
            continue;
        text = jg_xrealloc(text, JG_AUDIT_UTF8_OUT(ev.len + 4), 1);
        n = jg_audit_utf8_feed_into(&u8[ev.kind == 'e'], ev.data, ev.len,
                                    false, text);
        jg_audit_text_feed(x, text, n, (double)ev.time_us / 1e6);
    }
    if (r < 0)
        jg_warn("%s", jg_audit_recr_error(rd));
    jg_audit_text_flush(x);
    jg_audit_text_free(x);
    jg_audit_recr_free(rd);
    free(text);
}

static const char *
jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* exec commands and sftp paths of the event log. */
static bool
on_event(json_t *ev, const char *file, size_t line, void *arg)
{
    static const char *const fields[] = {"command", "path", "to", NULL};
    struct search *s = arg;
    const char *type = jstr(ev, "type"), *sid = jstr(ev, "session"), *v;
    struct who tmp = {{0}, NULL, NULL, 0};
    const struct who *w = NULL;
    int64_t t = 0;
    size_t i;
    char what[64];

    if (strcmp(type, "exec") != 0 && strncmp(type, "sftp.", 5) != 0)
        return true;
    for (i = 0; sid != NULL && i < s->n_sessions; i++)
        if (strcmp(s->sessions[i].id, sid) == 0)
            w = &s->sessions[i];
    if (w == NULL) {
        jg_strlcpy(tmp.id, sid ? sid : "-", sizeof(tmp.id));
        tmp.user = (char *)jstr(ev, "user");
        tmp.target = (char *)jstr(ev, "target");
        tmp.start_us = sid && jg_audit_id_valid(sid)
                           ? jg_audit_uuid7_ms(sid) * 1000
                           : 0;
        w = &tmp;
    }
    jg_audit_time_parse(jstr(ev, "time"), &t);
    for (i = 0; fields[i] != NULL; i++) {
        if ((v = jstr(ev, fields[i])) == NULL ||
            regexec(&s->re, v, 0, NULL, 0) != 0)
            continue;
        snprintf(what, sizeof(what), "(%s %s) ", type, fields[i]);
        print_match(s, w, (double)(t - w->start_us) / 1e6, what, v);
    }
    return true;
}

int
jg_cli_audit_search(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"ignore-case", no_argument, NULL, 'i'},
        {"dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    struct search s;
    const char *dir_opt = NULL;
    char *dir = NULL, *key = NULL, **ids = NULL, *path = NULL, msg[256];
    int ch, rc, r, flags = REG_EXTENDED | REG_NOSUB;
    bool compiled = false;
    size_t n = 0, i;

    memset(&s, 0, sizeof(s));
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
        case 'd':
            dir_opt = optarg;
            break;
        default:
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    if (argc - optind != 1)
        return jg_cli_usage_error(cmd, usage, "give exactly one REGEX");
    if ((r = regcomp(&s.re, argv[optind], flags)) != 0) {
        regerror(r, &s.re, msg, sizeof(msg));
        return jg_cli_usage_error(cmd, NULL, "bad REGEX '%s': %s",
                                  argv[optind], msg);
    }
    compiled = true;
    if ((rc = jg_cli_audit_paths(c, dir_opt, &dir, &key)) != 0)
        goto out;
    if ((r = jg_audit_list_ids(dir, &ids, &n)) != 0) {
        jg_error("%s: %s", dir, r == JG_ERR_IO ? strerror(errno)
                                               : jg_strerror(r));
        rc = JG_EXIT_ERROR;
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (jg_audit_find_rec(dir, ids[i], &path) != 0)
            continue;
        search_rec(&s, ids[i], path);
        free(path);
        path = NULL;
    }
    if (jg_audit_events_each(dir, on_event, &s, NULL) != 0)
        jg_warn("%s/events: cannot read the event log", dir);
    fflush(stdout);
    rc = s.matches > 0 ? JG_EXIT_OK : JG_EXIT_NO;
out:
    if (compiled)
        regfree(&s.re);
    for (i = 0; i < s.n_sessions; i++) {
        free(s.sessions[i].user);
        free(s.sessions[i].target);
    }
    free(s.sessions);
    jg_strv_free(ids);
    free(dir);
    free(key);
    return rc;
}
