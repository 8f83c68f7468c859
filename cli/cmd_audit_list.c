/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_audit_list.c - "jumpgate audit list" and "audit show": sessions
 * from the recordings' headers and the session.start/end events. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"

static const char list_usage[] =
    "usage: jumpgate [-c FILE] audit list [--user U] [--target T] [--since T]\n"
    "                [--until T] [--json] [--dir DIR]\n";
static const char show_usage[] =
    "usage: jumpgate [-c FILE] audit show ID [--dir DIR]\n";

/* The width of s on a terminal: one column per character (UTF-8
 * continuation bytes take none). */
static int
cell_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "-");
    int w = 0;

    for (; *p != '\0'; p++)
        w += (*p & 0xc0) != 0x80;
    return w;
}

/* s, cleaned, then spaces up to width columns and the column gap. */
static void
cell_print(const char *s, int width)
{
    int w;

    jg_cli_clean_print(stdout, s);
    for (w = cell_width(s); w < width + 2; w++)
        fputc(' ', stdout);
}

static int
max_int(int a, int b)
{
    return a > b ? a : b;
}

static const struct jg_audit_session *
find_row(const struct jg_audit_sessions *rs, const char *id)
{
    size_t i;

    for (i = 0; i < rs->n; i++)
        if (strcmp(rs->v[i].id, id) == 0)
            return &rs->v[i];
    return NULL;
}

/* Every session below dir, with what could not be read said. */
static int
load_rows(const char *dir, struct jg_audit_sessions *rs)
{
    int r = jg_audit_sessions_load(dir, rs);

    if (r == JG_ERR_NOTFOUND) {
        jg_error("audit folder %s does not exist", dir);
        return JG_EXIT_ERROR;
    }
    if (r != 0) {
        jg_error("%s: %s", dir, r == JG_ERR_IO ? strerror(errno)
                                               : jg_strerror(r));
        return JG_EXIT_ERROR;
    }
    if (rs->bad_recs > 0)
        jg_warn("%zu recording%s could not be read (see audit verify)",
                rs->bad_recs, rs->bad_recs == 1 ? "" : "s");
    if (rs->events_unreadable)
        jg_warn("%s/events: cannot read the event log", dir);
    if (rs->bad_events > 0)
        jg_warn("%zu event-log line%s could not be read (see audit verify)",
                rs->bad_events, rs->bad_events == 1 ? "" : "s");
    return 0;
}

static const char *
jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool
match(const char *pattern, const char *value)
{
    return pattern == NULL ||
           (value != NULL && fnmatch(pattern, value, 0) == 0);
}

static json_t *
jnull_str(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *
row_json(const struct jg_audit_session *r)
{
    char t[JG_AUDIT_TIME_STRLEN];
    json_t *o = json_object();

    jg_audit_time_format(r->start_us, t, sizeof(t));
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "start", json_string(t));
    json_object_set_new(o, "duration",
                        r->end_us != 0
                            ? json_real((double)(r->end_us - r->start_us) / 1e6)
                            : json_null());
    json_object_set_new(o, "user", jnull_str(r->user));
    json_object_set_new(o, "target", jnull_str(r->target));
    json_object_set_new(o, "target_id", jnull_str(r->target_id));
    json_object_set_new(o, "address", jnull_str(r->address));
    json_object_set_new(o, "login", jnull_str(r->login));
    json_object_set_new(o, "action", jnull_str(r->action));
    json_object_set_new(o, "from", jnull_str(r->from));
    json_object_set_new(o, "rule", jnull_str(r->rule));
    json_object_set_new(o, "command", jnull_str(r->command));
    json_object_set_new(o, "recording", jnull_str(r->path));
    json_object_set_new(o, "size", json_integer((json_int_t)r->size));
    return o;
}

static void
fmt_dur(const struct jg_audit_session *r, char *buf, size_t n)
{
    int64_t s;

    if (r->end_us == 0) {
        snprintf(buf, n, "-");
        return;
    }
    s = (r->end_us - r->start_us) / 1000000;
    snprintf(buf, n, "%" PRId64 ":%02" PRId64 ":%02" PRId64, s / 3600,
             s / 60 % 60, s % 60);
}

int
jg_cli_audit_list(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"user", required_argument, NULL, 'u'},
        {"target", required_argument, NULL, 't'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'U'},
        {"json", no_argument, NULL, 'j'},
        {"dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *user = NULL, *target = NULL, *dir_opt = NULL;
    int64_t since = INT64_MIN, until = INT64_MAX, t;
    struct jg_audit_sessions rs = {0};
    char *dir = NULL, *key = NULL, when[JG_AUDIT_TIME_STRLEN], dur[32];
    json_t *arr = NULL;
    bool json = false, *shown = NULL;
    size_t i, n_shown = 0;
    int ch, rc, wu = 4, wt = 6, wl = 5, wa = 6;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(list_usage, stdout);
            return JG_EXIT_OK;
        case 'u':
            user = optarg;
            break;
        case 't':
            target = optarg;
            break;
        case 's':
        case 'U':
            if (jg_cli_parse_time(optarg, &t) != 0)
                return jg_cli_usage_error("audit list", NULL,
                                          "'%s' is not a time (use RFC 3339, "
                                          "a date, or now)",
                                          optarg);
            if (ch == 's')
                since = t * 1000000;
            else
                until = t * 1000000;
            break;
        case 'j':
            json = true;
            break;
        case 'd':
            dir_opt = optarg;
            break;
        default:
            return jg_cli_opt_error("audit list", ch, argv, list_usage);
        }
    }
    if (optind != argc)
        return jg_cli_usage_error("audit list", list_usage,
                                  "unexpected argument '%s'", argv[optind]);
    if ((rc = jg_cli_audit_paths(c, dir_opt, &dir, &key)) != 0 ||
        (rc = load_rows(dir, &rs)) != 0)
        goto out;
    if (json)
        arr = json_array();
    /* The rows that match, and the widths of their columns. */
    shown = jg_xcalloc(rs.n + 1, sizeof(*shown));
    for (i = 0; i < rs.n; i++) {
        const struct jg_audit_session *r = &rs.v[i];

        shown[i] = match(user, r->user) &&
                   (match(target, r->target) ||
                    (r->target_id != NULL && match(target, r->target_id))) &&
                   r->start_us >= since && r->start_us < until;
        if (!shown[i])
            continue;
        n_shown++;
        wu = max_int(wu, cell_width(r->user));
        wt = max_int(wt, cell_width(r->target));
        wl = max_int(wl, cell_width(r->login));
        wa = max_int(wa, cell_width(r->action));
    }
    if (!json && n_shown > 0) {
        printf("%-36s  %-27s  %9s  ", "ID", "START", "DURATION");
        cell_print("USER", wu);
        cell_print("TARGET", wt);
        cell_print("LOGIN", wl);
        cell_print("ACTION", wa);
        fputs("FROM\n", stdout);
    }
    for (i = 0; i < rs.n; i++) {
        const struct jg_audit_session *r = &rs.v[i];

        if (!shown[i])
            continue;
        if (json) {
            json_array_append_new(arr, row_json(r));
            continue;
        }
        jg_audit_time_format(r->start_us, when, sizeof(when));
        fmt_dur(r, dur, sizeof(dur));
        printf("%-36s  %-27s  %9s  ", r->id, when, dur);
        cell_print(r->user, wu);
        cell_print(r->target, wt);
        cell_print(r->login, wl);
        cell_print(r->action, wa);
        jg_cli_clean_print(stdout, r->from);
        if (r->path == NULL)
            fputs(r->rec_missing ? "  (recording MISSING: see audit verify)"
                                 : "  (no recording)", stdout);
        fputc('\n', stdout);
    }
    rc = json ? jg_cli_json_print(arr) : JG_EXIT_OK;
    arr = NULL;
out:
    json_decref(arr);
    free(shown);
    jg_audit_sessions_free(&rs);
    free(dir);
    free(key);
    return rc;
}

/* Events of one session, for show. */
struct show_ctx {
    const char *id;
    size_t n;
};

static bool
show_event(json_t *ev, const char *file, size_t line, void *arg)
{
    struct show_ctx *s = arg;
    const char *sid = jstr(ev, "session");
    static const char *const skip[] = {"seq", "time", "type", "session",
        "prev", "sig", NULL};

    if (sid == NULL || strcmp(sid, s->id) != 0)
        return true;
    if (s->n++ == 0)
        printf("events:\n");
    printf("  %s  ", jstr(ev, "time"));
    jg_cli_clean_print(stdout, jstr(ev, "type"));
    jg_cli_print_members(stdout, ev, skip);
    fputc('\n', stdout);
    return true;
}

int
jg_cli_audit_show(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *dir_opt = NULL;
    struct jg_audit_sessions rs = {0};
    struct show_ctx sc = {NULL, 0};
    struct jg_audit_key *pub = NULL;
    struct jg_audit_cast_status st;
    struct jg_diags d = {0};
    char *dir = NULL, *key = NULL, *pubp = NULL, dur[32];
    char when[JG_AUDIT_TIME_STRLEN];
    const struct jg_audit_session *r;
    int ch, rc;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(show_usage, stdout);
            return JG_EXIT_OK;
        case 'd':
            dir_opt = optarg;
            break;
        default:
            return jg_cli_opt_error("audit show", ch, argv, show_usage);
        }
    }
    if (argc - optind != 1)
        return jg_cli_usage_error("audit show", show_usage,
                                  "name exactly one session id");
    if (!jg_audit_id_valid(argv[optind]))
        return jg_cli_usage_error("audit show", NULL,
                                  "'%s' is not a session id (a UUIDv7)",
                                  argv[optind]);
    if ((rc = jg_cli_audit_paths(c, dir_opt, &dir, &key)) != 0 ||
        (rc = load_rows(dir, &rs)) != 0)
        goto out;
    if ((r = find_row(&rs, argv[optind])) == NULL) {
        jg_error("no session %s in %s", argv[optind], dir);
        rc = JG_EXIT_ERROR;
        goto out;
    }
    jg_audit_time_format(r->start_us, when, sizeof(when));
    fmt_dur(r, dur, sizeof(dur));
    printf("session:   %s\nstart:     %s\nduration:  %s\n", r->id, when, dur);
    printf("user:      ");
    jg_cli_clean_print(stdout, r->user);
    printf("\nfrom:      ");
    jg_cli_clean_print(stdout, r->from);
    printf("\ntarget:    ");
    jg_cli_clean_print(stdout, r->target);
    printf("\nlogin:     ");
    jg_cli_clean_print(stdout, r->login);
    printf("\naction:    ");
    jg_cli_clean_print(stdout, r->action);
    printf("\nrule:      ");
    jg_cli_clean_print(stdout, r->rule);
    if (r->command != NULL) {
        printf("\ncommand:   ");
        jg_cli_clean_print(stdout, r->command);
    }
    if (r->exit_status >= 0)
        printf("\nexit:      %d", r->exit_status);
    printf("\nrecording: %s", r->path ? r->path : "(none)");
    if (r->path != NULL)
        printf(" (%" PRIu64 " bytes)", r->size);
    fputc('\n', stdout);
    if (r->path != NULL && key != NULL) {
        pubp = jg_audit_key_pub_path(key);
        if (jg_audit_key_load_public(pubp, &pub) != 0) {
            printf("seal:      not checked (no public key %s)\n", pubp);
        } else if (jg_audit_verify_rec(r->path, r->id, pub, &st, &d) == 0) {
            printf("seal:      intact (%zu checkpoints)\n", st.checkpoints);
        } else {
            printf("seal:      NOT intact (run: jumpgate audit verify %s)\n",
                   r->id);
        }
        jg_diags_clear(&d);
    }
    sc.id = r->id;
    jg_audit_events_each(dir, show_event, &sc, NULL);
    rc = JG_EXIT_OK;
out:
    jg_audit_key_free(pub);
    jg_audit_sessions_free(&rs);
    free(dir);
    free(key);
    free(pubp);
    return rc;
}
