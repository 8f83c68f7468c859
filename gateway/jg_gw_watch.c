/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/jg_gw_watch.c - automatic reload: inotify on the policy file's
 * folder (for the file itself, however it is replaced) and on policy.d/
 * (grants written or removed by `jumpgate policy grant/revoke`). Events
 * are debounced: the reload happens about a second after the last one,
 * exactly as on SIGHUP. */
#include <sys/inotify.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/gateway.h"

#define DEBOUNCE_MS 1000
#define EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | \
                IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

static void
watch_dropins(struct jg_gw_master *m)
{
    char *dir = jg_path_relative_to(m->d->cfg->policy, "policy.d");

    if (m->wd_drop >= 0)
        inotify_rm_watch(m->ino_fd, m->wd_drop);
    m->wd_drop = inotify_add_watch(m->ino_fd, dir, EVENTS | IN_ONLYDIR);
    if (m->wd_drop < 0 && errno != ENOENT)
        jg_warn("cannot watch %s: %s", dir, strerror(errno));
    free(dir);
}

int
jg_gw_watch_open(struct jg_gw_master *m)
{
    char *dir = jg_path_relative_to(m->d->cfg->policy, ".");
    int r = 0;

    m->wd_dir = m->wd_drop = -1;
    if ((m->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
        jg_warn("inotify: %s", strerror(errno));
        r = JG_ERR_IO;
        goto out;
    }
    m->wd_dir = inotify_add_watch(m->ino_fd, dir, EVENTS | IN_ONLYDIR);
    if (m->wd_dir < 0) {
        jg_warn("cannot watch %s: %s", dir, strerror(errno));
        close(m->ino_fd);
        m->ino_fd = -1;
        r = JG_ERR_IO;
        goto out;
    }
    watch_dropins(m);
out:
    free(dir);
    return r;
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
