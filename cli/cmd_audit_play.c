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
    "usage: jumpgate [-c FILE] audit export ID [--dir DIR]\n";

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
        {NULL, 0, NULL, 0},
    };
    char *end;
    int ch;

    o->dir_opt = o->id = NULL;
    o->speed = 1.0;
    o->idle = 0;
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
        default:
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    if (argc - optind != 1)
        return jg_cli_usage_error(cmd, usage, "name exactly one session id");
    o->id = argv[optind];
    return 0;
}

int
jg_cli_audit_replay(struct jg_cli *c, int argc, char **argv)
{
    struct play_opts o;
    struct jg_audit_lr lr;
    struct jg_audit_cast_event ev;
    struct jg_audit_filter f = {0};
    struct termios saved, raw;
    struct sigaction sa, old_int, old_term;
    char *dir = NULL, *key = NULL, *path = NULL, *buf = NULL, err[256];
    const char *line;
    size_t len, n;
    double last = 0, gap;
    bool nl, tty_in, tty_out, raw_set = false;
    int fd = -1, rc, r;

    if ((rc = parse(c, argc, argv, "audit replay", replay_usage, true, &o)))
        return rc < 0 ? JG_EXIT_OK : rc;
    if ((rc = jg_cli_audit_paths(c, o.dir_opt, &dir, &key)) != 0 ||
        (rc = jg_cli_audit_cast(dir, o.id, &path)) != 0)
        goto out;
    rc = JG_EXIT_ERROR;
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        jg_error("%s: %s", path, strerror(errno));
        goto out;
    }
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
    jg_audit_lr_init(&lr, fd);
    r = jg_audit_lr_next(&lr, &line, &len, &nl); /* the header */
    if (r != 1) {
        jg_error("%s: no header line", path);
        goto done;
    }
    while (!play_stop && (r = jg_audit_lr_next(&lr, &line, &len, &nl)) != 0) {
        if (r < 0) {
            jg_error("%s:%zu: %s", path, lr.lineno,
                     r == JG_ERR_TOOBIG ? "line too long, skipped"
                                        : strerror(errno));
            if (r == JG_ERR_TOOBIG)
                continue;
            goto done;
        }
        if (jg_audit_cast_event_parse(line, len, &ev, err, sizeof(err)) != 0) {
            jg_warn("%s:%zu: %s", path, lr.lineno, err);
            continue;
        }
        if (ev.code == 'o') {
            gap = ev.time - last;
            if (o.idle > 0 && gap > o.idle)
                gap = o.idle;
            last = ev.time;
            if (tty_out && gap > 0 && !wait_for(gap / o.speed, tty_in)) {
                free(ev.data);
                break;
            }
            buf = jg_xrealloc(buf, ev.len + 3, 1);
            n = jg_audit_filter_feed(&f, ev.data, ev.len, buf);
            if (out_all(buf, n) != 0) {
                free(ev.data);
                jg_error("cannot write the output");
                goto done;
            }
        }
        free(ev.data);
    }
    rc = JG_EXIT_OK;
done:
    jg_audit_lr_clear(&lr);
    if (raw_set)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    free(dir);
    free(key);
    free(path);
    return rc;
}

int
jg_cli_audit_export(struct jg_cli *c, int argc, char **argv)
{
    struct play_opts o;
    char *dir = NULL, *key = NULL, *path = NULL, buf[65536];
    ssize_t got;
    int fd = -1, rc;

    if ((rc = parse(c, argc, argv, "audit export", export_usage, false, &o)))
        return rc < 0 ? JG_EXIT_OK : rc;
    if ((rc = jg_cli_audit_paths(c, o.dir_opt, &dir, &key)) != 0 ||
        (rc = jg_cli_audit_cast(dir, o.id, &path)) != 0)
        goto out;
    rc = JG_EXIT_ERROR;
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        jg_error("%s: %s", path, strerror(errno));
        goto out;
    }
    for (;;) {
        got = read(fd, buf, sizeof(buf));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            jg_error("%s: %s", path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        if (out_all(buf, (size_t)got) != 0) {
            jg_error("cannot write the output");
            goto out;
        }
    }
    rc = JG_EXIT_OK;
out:
    if (fd >= 0)
        close(fd);
    free(dir);
    free(key);
    free(path);
    return rc;
}

/* True when the seal file's last line is a final checkpoint. */
static bool
sealed_final(const char *seal_path)
{
    struct jg_audit_checkpoint cp;
    char *last = NULL, err[128];
    size_t len = 0;
    bool complete, fin = false;
    int fd = open(seal_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return false;
    if (jg_audit_last_line(fd, &last, &len, &complete) == 0 && last != NULL &&
        complete &&
        jg_audit_checkpoint_parse(last, len, NULL, &cp, err, sizeof(err)) == 0)
        fin = cp.final;
    free(last);
    close(fd);
    return fin;
}

int
jg_cli_audit_watch(struct jg_cli *c, int argc, char **argv)
{
    struct play_opts o;
    struct jg_audit_cast_event ev;
    struct jg_audit_filter f = {0};
    struct sigaction sa, old_int;
    char *dir = NULL, *key = NULL, *path = NULL, *seal = NULL, *acc = NULL;
    char chunk[65536], *outb = NULL, err[256];
    size_t have = 0, lineno = 0, n;
    ssize_t got;
    char *nl;
    int fd = -1, rc;

    if ((rc = parse(c, argc, argv, "audit watch", watch_usage, false, &o)))
        return rc < 0 ? JG_EXIT_OK : rc;
    if ((rc = jg_cli_audit_paths(c, o.dir_opt, &dir, &key)) != 0 ||
        (rc = jg_cli_audit_cast(dir, o.id, &path)) != 0)
        goto out;
    rc = JG_EXIT_ERROR;
    seal = jg_xasprintf("%s.seal", path);
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        jg_error("%s: %s", path, strerror(errno));
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    while (!play_stop) {
        got = read(fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            jg_error("%s: %s", path, strerror(errno));
            break;
        }
        if (got == 0) {
            /* Caught up: done once the recorder sealed it for good. */
            if (sealed_final(seal)) {
                got = read(fd, chunk, sizeof(chunk));
                if (got <= 0)
                    break;
            } else {
                struct timespec ts = {0, 200 * 1000000L};

                nanosleep(&ts, NULL);
                continue;
            }
        }
        if (have + (size_t)got > JG_AUDIT_MAX_LINE) {
            jg_error("%s: line %zu is too long", path, lineno + 1);
            break;
        }
        acc = jg_xrealloc(acc, have + (size_t)got + 1, 1);
        memcpy(acc + have, chunk, (size_t)got);
        have += (size_t)got;
        while ((nl = memchr(acc, '\n', have)) != NULL) {
            size_t ll = (size_t)(nl - acc);

            if (++lineno > 1 &&
                jg_audit_cast_event_parse(acc, ll, &ev, err, sizeof(err)) ==
                    0) {
                if (ev.code == 'o') {
                    outb = jg_xrealloc(outb, ev.len + 3, 1);
                    n = jg_audit_filter_feed(&f, ev.data, ev.len, outb);
                    out_all(outb, n);
                }
                free(ev.data);
            }
            memmove(acc, nl + 1, have - ll - 1);
            have -= ll + 1;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    rc = JG_EXIT_OK;
out:
    if (fd >= 0)
        close(fd);
    free(acc);
    free(outb);
    free(dir);
    free(key);
    free(path);
    free(seal);
    return rc;
}
