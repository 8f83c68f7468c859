/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_audit_play.c - "jumpgate audit replay", "audit watch" and "audit
 * export": a recording to the terminal (timed, filtered) or to stdout. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"

static const char replay_usage[] =
    "usage: jumpgate [-c FILE] audit replay ID [--speed X] [--idle-limit S]\n"
    "                [--dir DIR]\n";
static const char watch_usage[] =
    "usage: jumpgate [-c FILE] audit watch ID [--dir DIR]\n";
static const char export_usage[] =
    "usage: jumpgate [-c FILE] audit export ID [--format asciicast|raw]\n"
    "                [--stream out|err|in] [--dir DIR]\n"
    "       jumpgate [-c FILE] audit export ID --evidence [--key PUB]\n"
    "                [--dir DIR] > ID.tar.gz\n";

/* Set by SIGINT/SIGTERM while replaying or watching: stop and restore the
 * terminal. The one piece of global state of this file. */
static volatile sig_atomic_t play_stop;

static void
on_signal(int sig)
{
    (void)sig;
    play_stop = 1;
}

/* Writes all of buf to stdout (fd 1). */
static int
out_all(const char *buf, size_t len)
{
    ssize_t w;

    while (len > 0) {
        w = write(STDOUT_FILENO, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Waits secs (scaled already), watching the keyboard when tty: space
 * toggles pause, q quits. Returns false when playback should stop. */
static bool
wait_for(double secs, bool tty)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    bool paused = false;
    int ms;
    char ch;

    while (!play_stop && (paused || secs > 0)) {
        ms = paused ? 1000 : (int)fmin(secs * 1000.0, 100.0);
        if (ms < 1)
            ms = 1;
        if (tty && poll(&p, 1, ms) > 0 && read(STDIN_FILENO, &ch, 1) == 1) {
            if (ch == ' ')
                paused = !paused;
            else if (ch == 'q' || ch == 3)
                return false;
            continue;
        }
        if (!tty) {
            struct timespec ts = {.tv_sec = ms / 1000,
                                  .tv_nsec = (long)(ms % 1000) * 1000000};

            nanosleep(&ts, NULL);
        }
        if (!paused)
            secs -= ms / 1000.0;
    }
    return !play_stop;
}

/* Common option parsing of the three commands: the id and the folder. */
struct play_opts {
    const char *dir_opt, *id;
    double speed, idle;
    bool raw;       /* export --format raw */
    char stream;    /* its --stream: 'o', 'e' or 'i' */
    bool evidence;  /* export --evidence */
    const char *key; /* its --key */
};

static int
parse(struct jg_cli *c, int argc, char **argv, const char *cmd,
      const char *usage, bool timing, struct play_opts *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"dir", required_argument, NULL, 'd'},
        {"speed", required_argument, NULL, 's'},
        {"idle-limit", required_argument, NULL, 'i'},
        {"format", required_argument, NULL, 'f'},
        {"stream", required_argument, NULL, 'S'},
        {"evidence", no_argument, NULL, 'E'},
        {"key", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int ch;

    o->dir_opt = o->id = NULL;
    o->speed = 1.0;
    o->idle = 0;
    o->raw = false;
    o->stream = 0;
    o->evidence = false;
    o->key = NULL;
    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        case 'd':
            o->dir_opt = optarg;
            break;
        case 's':
        case 'i':
            if (!timing)
                return jg_cli_opt_error(cmd, '?', argv, usage);
            errno = 0;
            double v = strtod(optarg, &end);
            if (errno != 0 || *end != '\0' || !(v > 0) || v > 1e6)
                return jg_cli_usage_error(cmd, NULL,
                                          "%s '%s' must be a positive number",
                                          ch == 's' ? "--speed"
                                                    : "--idle-limit",
                                          optarg);
            if (ch == 's')
                o->speed = v;
            else
                o->idle = v;
            break;
        case 'E':
        case 'k':
            if (strcmp(cmd, "audit export") != 0)
                return jg_cli_opt_error(cmd, '?', argv, usage);
            if (ch == 'E')
                o->evidence = true;
            else
                o->key = optarg;
            break;
        case 'f':
        case 'S':
            if (strcmp(cmd, "audit export") != 0)
                return jg_cli_opt_error(cmd, '?', argv, usage);
            if (ch == 'f' && strcmp(optarg, "raw") == 0)
                o->raw = true;
            else if (ch == 'f' && strcmp(optarg, "asciicast") == 0)
                o->raw = false;
            else if (ch == 'S' && strcmp(optarg, "out") == 0)
                o->stream = 'o';
            else if (ch == 'S' && strcmp(optarg, "err") == 0)
                o->stream = 'e';
            else if (ch == 'S' && strcmp(optarg, "in") == 0)
                o->stream = 'i';
            else
                return jg_cli_usage_error(
                    cmd, NULL, "%s '%s': choose %s",
                    ch == 'f' ? "--format" : "--stream", optarg,
                    ch == 'f' ? "asciicast or raw" : "out, err or in");
            break;
        default:
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    if (o->stream != 0 && !o->raw)
        return jg_cli_usage_error(cmd, usage,
                                  "--stream goes with --format raw");
    if (o->evidence && o->raw)
        return jg_cli_usage_error(cmd, usage,
                                  "--evidence is an archive of its own: no "
                                  "--format");
    if (o->key != NULL && !o->evidence)
        return jg_cli_usage_error(cmd, usage, "--key goes with --evidence");
    if (o->stream == 0)
        o->stream = 'o';
    if (argc - optind != 1)
        return jg_cli_usage_error(cmd, usage, "name exactly one session id");
    o->id = argv[optind];
    return 0;
}

/* Opens recording o->id of the configured audit folder. */
static int
open_rec(struct jg_cli *c, const struct play_opts *o,
         struct jg_audit_recr **rd, char **path)
{
    char *dir = NULL, *key = NULL, err[512];
    int rc;

    *rd = NULL;
    if ((rc = jg_cli_audit_paths(c, o->dir_opt, &dir, &key)) == 0 &&
        (rc = jg_cli_audit_rec(dir, o->id, path)) == 0 &&
        jg_audit_recr_open(*path, rd, err, sizeof(err)) != 0) {
        jg_error("%s", err);
        rc = JG_EXIT_ERROR;
    }
    free(dir);
    free(key);
    return rc;
}

/* What a person saw of ev: output and stderr, decoded per stream and
 * filtered, written to stdout. */
struct screen {
    struct jg_audit_filter f;
    struct jg_audit_utf8 u8[2];
    char *text, *buf;
};

static int
show(struct screen *sc, const struct jg_audit_recr_ev *ev)
{
    size_t n;

    sc->text = jg_xrealloc(sc->text, JG_AUDIT_UTF8_OUT(ev->len + 4), 1);
    n = jg_audit_utf8_feed_into(&sc->u8[ev->kind == 'e'], ev->data, ev->len,
                                false, sc->text);
    sc->buf = jg_xrealloc(sc->buf, n + 3, 1);
    n = jg_audit_filter_feed(&sc->f, sc->text, n, sc->buf);
    if (out_all(sc->buf, n) != 0) {
        jg_error("cannot write the output");
        return -1;
    }
    return 0;
}

int
jg_cli_audit_replay(struct jg_cli *c, int argc, char **argv)
{
    struct play_opts o;
    struct jg_audit_recr *rd = NULL;
    struct jg_audit_recr_ev ev;
    struct screen sc;
    struct termios saved, raw;
    struct sigaction sa, old_int, old_term;
    char *path = NULL;
    double last = 0, gap, t;
    bool tty_in, tty_out, raw_set = false;
    int rc, r;

    memset(&sc, 0, sizeof(sc));
    if ((rc = parse(c, argc, argv, "audit replay", replay_usage, true, &o)))
        return rc < 0 ? JG_EXIT_OK : rc;
    if ((rc = open_rec(c, &o, &rd, &path)) != 0)
        goto out;
    rc = JG_EXIT_ERROR;
    /* Timing and the pause key only when a person watches. */
    tty_out = isatty(STDOUT_FILENO);
    tty_in = tty_out && isatty(STDIN_FILENO) &&
             tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty_in) {
        raw = saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        raw_set = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    while (!play_stop && (r = jg_audit_recr_next(rd, &ev)) == 1) {
        if (ev.kind != 'o' && ev.kind != 'e')
            continue;
        t = (double)ev.time_us / 1e6;
        gap = t - last;
        if (o.idle > 0 && gap > o.idle)
            gap = o.idle;
        last = t;
        if (tty_out && gap > 0 && !wait_for(gap / o.speed, tty_in))
            break;
        if (show(&sc, &ev) != 0)
            goto done;
    }
    if (!play_stop && r < 0) {
        jg_error("%s", jg_audit_recr_error(rd));
        goto done;
    }
    rc = JG_EXIT_OK;
done:
    if (raw_set)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
out:
    jg_audit_recr_free(rd);
    free(sc.text);
    free(sc.buf);
    free(path);
    return rc;
}

/* An asciicast recording is its own asciicast view: copied as it is. */
static int
copy_file(const char *path)
{
    char buf[65536];
    ssize_t got;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = JG_EXIT_ERROR;

    if (fd < 0) {
        jg_error("%s: %s", path, strerror(errno));
        return rc;
    }
    for (;;) {
        got = read(fd, buf, sizeof(buf));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            jg_error("%s: %s", path, strerror(errno));
            break;
        }
        if (got == 0) {
            rc = JG_EXIT_OK;
            break;
        }
        if (out_all(buf, (size_t)got) != 0) {
            jg_error("cannot write the output");
            break;
        }
    }
    close(fd);
    return rc;
}

int
jg_cli_audit_export(struct jg_cli *c, int argc, char **argv)
{
    struct play_opts o;
    struct jg_audit_recr *rd = NULL;
    struct jg_audit_recr_ev ev;
    char *path = NULL, err[512];
    int rc, r;

    if ((rc = parse(c, argc, argv, "audit export", export_usage, false, &o)))
        return rc < 0 ? JG_EXIT_OK : rc;
    if (o.evidence)
        return jg_cli_audit_evidence(c, o.dir_opt, o.id, o.key);
    if ((rc = open_rec(c, &o, &rd, &path)) != 0)
        goto out;
    rc = JG_EXIT_ERROR;
    if (!o.raw) {
        if (jg_audit_recr_is_cast(rd))
            rc = copy_file(path);
        else if (jg_audit_view_cast(rd, STDOUT_FILENO, err, sizeof(err)) != 0)
            jg_error("%s", err);
        else
            rc = JG_EXIT_OK;
        goto out;
    }
    if (jg_audit_recr_is_cast(rd)) {
        if (o.stream == 'e') {
            jg_error("%s: an asciicast recording has no stream of its own "
                     "for stderr (it is in 'out')", path);
            goto out;
        }
        jg_warn("%s: an asciicast recording holds text: bytes that were not "
                "UTF-8 were stored as U+FFFD", path);
    }
    while ((r = jg_audit_recr_next(rd, &ev)) == 1) {
        if (ev.kind == o.stream &&
            out_all((const char *)ev.data, ev.len) != 0) {
            jg_error("cannot write the output");
            goto out;
        }
    }
    if (r < 0) {
        jg_error("%s", jg_audit_recr_error(rd));
        goto out;
    }
    rc = JG_EXIT_OK;
out:
    jg_audit_recr_free(rd);
    free(path);
    return rc;
}

int
jg_cli_audit_watch(struct jg_cli *c, int argc, char **argv)
{
    struct play_opts o;
    struct jg_audit_recr *rd = NULL;
    struct jg_audit_recr_ev ev;
    struct screen sc;
    struct sigaction sa, old_int;
    char *path = NULL;
    int rc, r;

    memset(&sc, 0, sizeof(sc));
    if ((rc = parse(c, argc, argv, "audit watch", watch_usage, false, &o)))
        return rc < 0 ? JG_EXIT_OK : rc;
    if ((rc = open_rec(c, &o, &rd, &path)) != 0)
        goto out;
    rc = JG_EXIT_ERROR;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    while (!play_stop) {
        r = jg_audit_recr_next(rd, &ev);
        if (r == 1) {
            if ((ev.kind == 'o' || ev.kind == 'e') && show(&sc, &ev) != 0)
                break;
            continue;
        }
        if (r < 0) {
            jg_error("%s", jg_audit_recr_error(rd));
            break;
        }
        /* Caught up: done once the recorder sealed it for good. */
        if (jg_audit_recr_final(rd)) {
            rc = JG_EXIT_OK;
            break;
        }
        struct timespec ts = {0, 200 * 1000000L};

        nanosleep(&ts, NULL);
    }
    if (play_stop)
        rc = JG_EXIT_OK;
    sigaction(SIGINT, &old_int, NULL);
out:
    jg_audit_recr_free(rd);
    free(sc.text);
    free(sc.buf);
    free(path);
    return rc;
}
