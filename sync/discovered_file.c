/* SPDX-License-Identifier: Apache-2.0 */
/* sync/discovered_file.c - writes what ECS discovery found as
 * policy.d/TARGET.discovered.json (read by the policy loader), replacing
 * the old file atomically: a reader sees the old members or the new ones,
 * never a part. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sync/internal.h"

static json_t *
member_json(const struct jg_target *t, const struct jg_sync_member *m)
{
    json_t *labels = json_object();
    char *name = jg_xasprintf("%s/%s", t->name, m->instance_id);
    json_t *o;
    size_t i;

    for (i = 0; i < t->n_labels; i++)
        json_object_set_new(labels, t->labels[i].key,
                            json_string(t->labels[i].value));
    json_object_set_new(labels, "instance-id", json_string(m->instance_id));
    o = json_pack("{s:s, s:s, s:s, s:o}", "name", name, "alias", m->alias,
                  "address", m->address, "labels", labels);
    free(name);
    return o;
}

/* Writes all of buf to fd. */
static int
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return JG_ERR_IO;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

int
jg_sync_discovered_write(const char *policy_path, const struct jg_target *t,
                         const struct jg_sync_member *v, size_t n,
                         int64_t now, char *err, size_t errlen)
{
    char *path = jg_policy_discovered_path(policy_path, t->name);
    char *dir = jg_path_relative_to(policy_path, "policy.d");
    char *tmp = jg_xasprintf("%s.XXXXXX", path);
    char when[JG_TIME_STRLEN], *text = NULL;
    json_t *o = NULL, *members = json_array();
    int fd = -1, dfd = -1, r = JG_ERR_IO;
    bool created = false;
    size_t i;

    jg_time_format(now, when, sizeof(when));
    for (i = 0; i < n; i++)
        json_array_append_new(members, member_json(t, &v[i]));
    o = json_pack("{s:s, s:s, s:s, s:o}", "target", t->name, "cluster",
                  t->ecs_cluster, "refreshed", when, "members", members);
    members = NULL;
    if (o == NULL || (text = json_dumps(o, JSON_INDENT(2))) == NULL) {
        snprintf(err, errlen, "%s: cannot encode the members", path);
        r = JG_ERR_NOMEM;
        goto out;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        goto out;
    }
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    created = true;
    if (fchmod(fd, 0644) != 0 || write_all(fd, text, strlen(text)) != 0 ||
        write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path,
                 strerror(errno));
        goto out;
    }
    created = false;
    /* The rename is durable once the folder is. */
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        fsync(dfd) != 0) {
        snprintf(err, errlen, "cannot sync %s: %s", dir, strerror(errno));
        goto out;
    }
    r = 0;
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (created)
        unlink(tmp);
    json_decref(members);
    json_decref(o);
    free(text);
    free(tmp);
    free(dir);
    free(path);
    return r;
}
