/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/watch.c - automatic reload: inotify on the policy file's
 * folder (for the file itself, however it is replaced) and on policy.d/
 * (grants written or removed by `jumpgate policy grant/revoke`). When
 * inotify cannot be had (the user's inotify instances or watches are used
 * up, by other programs too), the files are polled every JG_GW_POLL_MS
 * instead: a revoked grant never waits for a signal. Events are
 * debounced: the reload happens about a second after the last one,
 * exactly as on SIGHUP. */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "gateway/master/master.h"

#define DEBOUNCE_MS 1000
#define EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | \
                IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

static void
stat_sum(GChecksum *sum, const char *name, const struct stat *st, int err)
{
    int64_t v[7] = {err, (int64_t)st->st_ino, (int64_t)st->st_size,
                    (int64_t)st->st_mtim.tv_sec, (int64_t)st->st_mtim.tv_nsec,
                    (int64_t)st->st_ctim.tv_sec, (int64_t)st->st_ctim.tv_nsec};

    g_checksum_update(sum, (const guchar *)name, (gssize)strlen(name) + 1);
    g_checksum_update(sum, (const guchar *)v, sizeof(v));
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What a poll sees: the identity, size and times of the policy file and
 * of every entry of policy.d/ (which also holds discovered members), in
 * name order. Only stat(): nothing is read or opened but the folder. */
static void
poll_signature(const struct jg_gw_master *m, char out[65])
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    char *dir = jg_path_relative_to(m->d->cfg->policy, "policy.d");
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    struct stat st;
    struct dirent *e;
    DIR *dh;
    guint i;

    memset(&st, 0, sizeof(st));
    stat_sum(sum, m->d->cfg->policy,
             &st, stat(m->d->cfg->policy, &st) == 0 ? 0 : errno);
    memset(&st, 0, sizeof(st));
    stat_sum(sum, dir, &st, stat(dir, &st) == 0 ? 0 : errno);
    if ((dh = opendir(dir)) != NULL) {
        while ((e = readdir(dh)) != NULL)
            if (e->d_name[0] != '.')
                g_ptr_array_add(names, g_strdup(e->d_name));
        closedir(dh);
    }
    if (names->len > 1)
        qsort(names->pdata, names->len, sizeof(char *), name_cmp);
    for (i = 0; i < names->len; i++) {
        char *path = jg_xasprintf("%s/%s", dir,
                                  (char *)g_ptr_array_index(names, i));
        memset(&st, 0, sizeof(st));
        stat_sum(sum, path, &st, stat(path, &st) == 0 ? 0 : errno);
        free(path);
    }
    jg_strlcpy(out, g_checksum_get_string(sum), 65);
    g_ptr_array_free(names, TRUE);
    g_checksum_free(sum);
    free(dir);
}

static void arm(struct jg_gw_master *m, const char *what);

/* From now on the files are polled (said once). */
static void
start_polling(struct jg_gw_master *m, const char *why)
{
    if (m->watch_poll)
        return;
    jg_warn("policy files are not watched with inotify (%s); polling them "
            "every %d s instead", why, JG_GW_POLL_MS / 1000);
    m->watch_poll = true;
    poll_signature(m, m->poll_sig);
    m->poll_at_ms = jg_gw_now_ms() + JG_GW_POLL_MS;
}

static void
watch_dropins(struct jg_gw_master *m)
{
    char *dir = jg_path_relative_to(m->d->cfg->policy, "policy.d");

    if (m->wd_drop >= 0)
        inotify_rm_watch(m->ino_fd, m->wd_drop);
    m->wd_drop = inotify_add_watch(m->ino_fd, dir, EVENTS | IN_ONLYDIR);
    if (m->wd_drop < 0 && errno != ENOENT) {
        char why[PATH_MAX + 64];

        snprintf(why, sizeof(why), "cannot watch %s: %s", dir, strerror(errno));
        start_polling(m, why);
    }
    free(dir);
}

int
jg_gw_watch_open(struct jg_gw_master *m)
{
    char *dir = jg_path_relative_to(m->d->cfg->policy, ".");
    char why[PATH_MAX + 64];

    m->wd_dir = m->wd_drop = -1;
    if ((m->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
        snprintf(why, sizeof(why), "inotify_init1: %s", strerror(errno));
        start_polling(m, why);
        goto out;
    }
    m->wd_dir = inotify_add_watch(m->ino_fd, dir, EVENTS | IN_ONLYDIR);
    if (m->wd_dir < 0) {
        snprintf(why, sizeof(why), "cannot watch %s: %s", dir, strerror(errno));
        close(m->ino_fd);
        m->ino_fd = -1;
        start_polling(m, why);
        goto out;
    }
    watch_dropins(m);
out:
    free(dir);
    return 0;
}

void
jg_gw_watch_poll(struct jg_gw_master *m)
{
    char sig[65];
    int64_t now = jg_gw_now_ms();

    if (!m->watch_poll || now < m->poll_at_ms)
        return;
    m->poll_at_ms = now + JG_GW_POLL_MS;
    poll_signature(m, sig);
    if (strcmp(sig, m->poll_sig) != 0) {
        jg_strlcpy(m->poll_sig, sig, sizeof(m->poll_sig));
        arm(m, "poll");
    }
}

void
jg_gw_watch_close(struct jg_gw_master *m)
{
    if (m->ino_fd >= 0)
        close(m->ino_fd);
    m->ino_fd = -1;
    m->wd_dir = m->wd_drop = -1;
}

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s != NULL ? s + 1 : path;
}

static void
arm(struct jg_gw_master *m, const char *what)
{
    if (m->reload_at_ms == 0)
        jg_debug("policy change noticed (%s); reloading shortly", what);
    m->reload_at_ms = jg_gw_now_ms() + DEBOUNCE_MS;
}

void
jg_gw_watch_input(struct jg_gw_master *m)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    const char *policy = base_name(m->d->cfg->policy);
    bool rewatch = false;
    ssize_t n;

    while ((n = read(m->ino_fd, buf, sizeof(buf))) > 0) {
        const char *p = buf;

        while (p + sizeof(struct inotify_event) <= buf + n) {
            const struct inotify_event *ev = (const void *)p;
            const char *name = ev->len > 0 ? ev->name : "";

            p += sizeof(*ev) + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                rewatch = true;
                arm(m, "event queue overflow");
            } else if (ev->wd == m->wd_dir) {
                if (strcmp(name, policy) == 0) {
                    arm(m, name);
                } else if (strcmp(name, "policy.d") == 0) {
                    rewatch = true;
                    arm(m, "policy.d");
                }
            } else if (ev->wd == m->wd_drop && m->wd_drop >= 0) {
                if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
                    if (ev->mask & IN_IGNORED)
                        m->wd_drop = -1;
                    rewatch = true;
                }
                /* Hidden names are the grant writer's temporary files. */
                if (name[0] != '.')
                    arm(m, name[0] ? name : "policy.d");
            }
        }
    }
    if (rewatch)
        watch_dropins(m);
}
