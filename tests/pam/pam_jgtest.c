/* SPDX-License-Identifier: Apache-2.0 */
/* tests/pam/pam_jgtest.c - test driver, never installed: runs a PAM
 * service's account (or auth) stack many times in several threads and
 * checks that every call gives the expected result, that no fd is left
 * open afterwards, and (a watcher thread looking at /proc/self/fd while
 * the calls run) that every fd opened meanwhile is close-on-exec. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_appl.h>

struct job {
    const char *service, *user, *rhost, *op;
    int expect;
    long iterations;
    long mismatches;    /* written by this job's thread only */
    int last;           /* the last result seen */
};

static const struct {
    const char *name;
    int code;
} codes[] = {
    {"success", PAM_SUCCESS},         {"perm_denied", PAM_PERM_DENIED},
    {"auth_err", PAM_AUTH_ERR},       {"user_unknown", PAM_USER_UNKNOWN},
    {"ignore", PAM_IGNORE},           {"acct_expired", PAM_ACCT_EXPIRED},
};

static int
code_of(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (strcmp(codes[i].name, name) == 0)
            return codes[i].code;
    }
    return -1;
}

/* No prompts: a module that asks for anything gets an error. */
static int
no_conv(int n, const struct pam_message **msg, struct pam_response **resp,
        void *data)
{
    return PAM_CONV_ERR;
}

static void *
run(void *arg)
{
    struct job *j = arg;
    const struct pam_conv conv = {no_conv, NULL};
    long i;

    for (i = 0; i < j->iterations; i++) {
        pam_handle_t *h = NULL;
        int rc = pam_start(j->service, j->user, &conv, &h);

        if (rc == PAM_SUCCESS && strcmp(j->rhost, "-") != 0)
            rc = pam_set_item(h, PAM_RHOST, j->rhost);
        if (rc == PAM_SUCCESS)
            rc = strcmp(j->op, "auth") == 0 ? pam_authenticate(h, 0)
                                            : pam_acct_mgmt(h, 0);
        if (h != NULL)
            pam_end(h, rc);
        j->last = rc;
        if (rc != j->expect)
            j->mismatches++;
    }
    return NULL;
}

#define MAX_FDS 1024

/* The open fds of this process (bitmap over 0..MAX_FDS-1). */
static void
open_fds(bool fds[MAX_FDS])
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;

    memset(fds, 0, MAX_FDS * sizeof(bool));
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        long fd = strtol(e->d_name, NULL, 10);

        if (e->d_name[0] != '.' && fd >= 0 && fd < MAX_FDS &&
            fd != dirfd(d))
            fds[fd] = true;
    }
    closedir(d);
}

static void
fd_target(int fd, char *buf, size_t n)
{
    char link[64];
    ssize_t l;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    l = readlink(link, buf, n - 1);
    buf[l < 0 ? 0 : l] = '\0';
}

/* Watches the fds that appear while the jobs run: one that is open
 * without FD_CLOEXEC would leak into any program the host execs. */
struct watch {
    const bool *before;
    atomic_bool done;
    long scans;
    char leaky[16][PATH_MAX]; /* targets of fds seen without CLOEXEC */
    int n_leaky;
};

static void *
watch_fds(void *arg)
{
    struct watch *w = arg;
    bool now[MAX_FDS];
    char target[PATH_MAX], again[PATH_MAX];
    int fd, fl, i;

    while (!atomic_load(&w->done)) {
        open_fds(now);
        w->scans++;
        sched_yield();
        for (fd = 0; fd < MAX_FDS; fd++) {
            if (!now[fd] || w->before[fd])
                continue;
            /* The fd may be closed and its number reused at any moment:
             * only a target seen the same before and after the flags
             * counts. */
            fd_target(fd, target, sizeof(target));
            fl = fcntl(fd, F_GETFD);
            fd_target(fd, again, sizeof(again));
            if (fl < 0 || (fl & FD_CLOEXEC) != 0 || target[0] == '\0' ||
                strcmp(target, again) != 0)
                continue;
            for (i = 0; i < w->n_leaky; i++)
                if (strcmp(w->leaky[i], target) == 0)
                    break;
            if (i == w->n_leaky && w->n_leaky < 16)
                snprintf(w->leaky[w->n_leaky++], PATH_MAX, "%s", target);
        }
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    static bool before[MAX_FDS], after[MAX_FDS];
    static struct watch w;
    struct job *jobs;
    pthread_t *tids, watcher;
    long threads, iterations, bad = 0, t, leaked = 0;
    char *end, target[PATH_MAX];
    int expect, fd, i;

    if (argc != 8) {
        fprintf(stderr, "usage: pam_jgtest SERVICE USER RHOST|- account|auth "
                "EXPECT THREADS ITERATIONS\n");
        return 2;
    }
    expect = code_of(argv[5]);
    threads = strtol(argv[6], &end, 10);
    if (*end != '\0' || threads < 1 || threads > 64)
        expect = -1;
    iterations = strtol(argv[7], &end, 10);
    if (*end != '\0' || iterations < 1 || iterations > 1000000)
        expect = -1;
    if (expect < 0) {
        fprintf(stderr, "pam_jgtest: bad EXPECT, THREADS or ITERATIONS\n");
        return 2;
    }
    jobs = calloc((size_t)threads, sizeof(*jobs));
    tids = calloc((size_t)threads, sizeof(*tids));
    if (jobs == NULL || tids == NULL)
        return 2;
    /* libc keeps the syslog socket open once used: open it now, so that
     * it counts as ours before the module runs. */
    openlog("pam_jgtest", LOG_NDELAY | LOG_PID, LOG_AUTHPRIV);
    open_fds(before);
    w.before = before;
    if (pthread_create(&watcher, NULL, watch_fds, &w) != 0) {
        fprintf(stderr, "pam_jgtest: pthread_create failed\n");
        return 2;
    }
    for (t = 0; t < threads; t++) {
        jobs[t] = (struct job){argv[1], argv[2], argv[3], argv[4], expect,
                               iterations, 0, -1};
        if (pthread_create(&tids[t], NULL, run, &jobs[t]) != 0) {
            fprintf(stderr, "pam_jgtest: pthread_create failed\n");
            return 2;
        }
    }
    for (t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        bad += jobs[t].mismatches;
    }
    atomic_store(&w.done, true);
    pthread_join(watcher, NULL);
    open_fds(after);
    for (fd = 0; fd < MAX_FDS; fd++) {
        if (after[fd] && !before[fd]) {
            fd_target(fd, target, sizeof(target));
            printf("leaked fd %d: %s\n", fd, target);
            leaked++;
        }
    }
    for (i = 0; i < w.n_leaky; i++)
        printf("no close-on-exec: %s\n", w.leaky[i]);
    printf("calls=%ld mismatches=%ld last=%d (%s)\n", threads * iterations,
           bad, jobs[0].last, pam_strerror(NULL, jobs[0].last));
    printf("fds leaked=%ld fd_scans=%ld\n", leaked, w.scans);
    free(jobs);
    free(tids);
    return bad == 0 && leaked == 0 ? 0 : 1;
}
