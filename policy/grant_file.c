/* SPDX-License-Identifier: Apache-2.0 */
/* policy/grant_file.c - grants as drop-in files policy.d/grant-ID.yaml:
 * written atomically and never over another, revoked, pruned. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/internal.h"

#define CMDLINE "command line"

/* Appends s to g as a YAML double-quoted string. */
static void
yq(GString *g, const char *s)
{
    g_string_append_c(g, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            g_string_append_printf(g, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            g_string_append_printf(g, "\\x%02x", c);
        else
            g_string_append_c(g, (char)c);
    }
    g_string_append_c(g, '"');
}

static void
yq_list(GString *g, const char *const *v, size_t n)
{
    size_t i;

    g_string_append_c(g, '[');
    for (i = 0; i < n; i++) {
        if (i)
            g_string_append(g, ", ");
        yq(g, v[i]);
    }
    g_string_append_c(g, ']');
}

static char *
render(const struct jg_grant_spec *s, const char *id, int64_t now)
{
    GString *g = g_string_new("# A grant written by 'jumpgate policy grant'; remove it "
                              "with 'jumpgate policy revoke'.\ngrants:\n  - id: ");
    char t[JG_TIME_STRLEN];
    const char *av[5];
    size_t na = 0;
    unsigned b;

    yq(g, id);
    g_string_append(g, "\n    user: ");
    yq(g, s->user);
    g_string_append(g, "\n    targets: ");
    yq_list(g, s->targets, s->n_targets);
    g_string_append(g, "\n    allow: ");
    for (b = 1; b <= JG_ACT_JUMP; b <<= 1) {
        if (s->allow & b)
            av[na++] = jg_policy_action_name(b);
    }
    yq_list(g, av, na);
    if (s->n_logins > 0) {
        g_string_append(g, "\n    logins: ");
        yq_list(g, s->logins, s->n_logins);
    }
    if (s->n_from > 0) {
        g_string_append(g, "\n    from: ");
        yq_list(g, s->from, s->n_from);
    }
    jg_time_format(s->until, t, sizeof(t));
    g_string_append_printf(g, "\n    until: %s", t);
    jg_time_format(now, t, sizeof(t));
    g_string_append_printf(g, "\n    created: %s\n    reason: ", t);
    yq(g, s->reason);
    if (s->author != NULL) {
        g_string_append(g, "\n    author: ");
        yq(g, s->author);
    }
    g_string_append_c(g, '\n');
    return g_string_free(g, FALSE);
}

/* Checks the spec against the current policy, with command-line errors. */
static int
check_spec(const struct jg_policy *p, const struct jg_grant_spec *s, int64_t now,
           struct jg_diags *d)
{
    size_t before = d->n, i;
    struct jg_cidr c;

    if (s->user == NULL || jg_policy_user(p, s->user) == NULL)
        jg_diags_add(d, CMDLINE, 0, 0, "unknown user '%s'", s->user ? s->user : "");
    if (s->n_targets == 0)
        jg_diags_add(d, CMDLINE, 0, 0, "a grant needs at least one target");
    for (i = 0; i < s->n_targets; i++) {
        if (jg_policy_target(p, s->targets[i]) == NULL || strchr(s->targets[i], '/'))
            jg_diags_add(d, CMDLINE, 0, 0, "unknown target '%s'", s->targets[i]);
    }
    if (s->allow == 0 || (s->allow & ~JG_ACT_ALL))
        jg_diags_add(d, CMDLINE, 0, 0, "a grant needs actions to allow");
    for (i = 0; i < s->n_from; i++) {
        if (jg_cidr_parse(s->from[i], &c, NULL) != 0)
            jg_diags_add(d, CMDLINE, 0, 0, "bad address or CIDR '%s'", s->from[i]);
    }
    for (i = 0; i < s->n_logins; i++) {
        if (!jg_policy_name_ok(s->logins[i], true))
            jg_diags_add(d, CMDLINE, 0, 0, "bad login '%s'", s->logins[i]);
    }
    if (s->until <= now)
        jg_diags_add(d, CMDLINE, 0, 0, "the grant would end before it starts");
    if (s->reason == NULL || *s->reason == '\0')
        jg_diags_add(d, CMDLINE, 0, 0, "a grant needs a reason");
    if (s->author != NULL && *s->author == '\0')
        jg_diags_add(d, CMDLINE, 0, 0, "the grant's author is empty");
    return d->n > before ? JG_ERR_INVALID : 0;
}

static int
open_dropin_dir(const char *policy_path, bool create, char **dir_out,
                struct jg_diags *d)
{
    char *dir = jg_path_relative_to(policy_path, "policy.d");
    int fd;

    if (create && mkdir(dir, 0750) != 0 && errno != EEXIST) {
        jg_diags_add(d, dir, 0, 0, "cannot create the folder: %s", strerror(errno));
        free(dir);
        return JG_ERR_IO;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (!(errno == ENOENT && !create))
            jg_diags_add(d, dir, 0, 0, "cannot open the folder: %s", strerror(errno));
        free(dir);
        return errno == ENOENT ? JG_ERR_NOTFOUND : JG_ERR_IO;
    }
    *dir_out = dir;
    return fd;
}

static int
write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return JG_ERR_IO;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int
jg_policy_grant_write(const char *policy_path,
                      const struct jg_grant_spec *spec, int64_t now,
                      char *id_out, size_t id_size, struct jg_diags *d)
{
    struct jg_policy *p = NULL;
    char *dir = NULL, *text = NULL;
    int dfd = -1, fd = -1, r, tries;
    char id[16], tmp[64], final[64];

    if ((r = jg_policy_load(policy_path, &p, d)) != 0)
        return r;
    if ((r = check_spec(p, spec, now, d)) != 0)
        goto out;
    if ((dfd = open_dropin_dir(policy_path, true, &dir, d)) < 0) {
        r = dfd;
        goto out;
    }
    for (tries = 0; tries < 8; tries++) {
        uint8_t rnd[4];

        if ((r = jg_random(rnd, sizeof(rnd))) != 0)
            goto out;
        snprintf(id, sizeof(id), "g-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
        snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", id, (long)getpid());
        snprintf(final, sizeof(final), "grant-%s.yaml", id);
        free(text);
        text = render(spec, id, now);
        /* an id written by hand elsewhere stays unique too */
        for (size_t i = 0; i < jg_policy_n_grants(p); i++) {
            if (strcmp(jg_policy_grant_at(p, i)->id, id) == 0)
                goto again;
        }
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0) {
            jg_diags_add(d, dir, 0, 0, "cannot create %s: %s", tmp, strerror(errno));
            r = JG_ERR_IO;
            goto out;
        }
        if (write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0) {
            jg_diags_add(d, dir, 0, 0, "cannot write %s: %s", tmp, strerror(errno));
            close(fd);
            unlinkat(dfd, tmp, 0);
            r = JG_ERR_IO;
            goto out;
        }
        close(fd);
        /* link() never replaces: a grant with the same id stays as it was */
        if (linkat(dfd, tmp, dfd, final, 0) != 0) {
            int e = errno;
            unlinkat(dfd, tmp, 0);
            if (e == EEXIST)
                goto again;
            jg_diags_add(d, dir, 0, 0, "cannot create %s: %s", final, strerror(e));
            r = JG_ERR_IO;
            goto out;
        }
        unlinkat(dfd, tmp, 0);
        if (fsync(dfd) != 0) {
            jg_diags_add(d, dir, 0, 0, "cannot sync the folder: %s", strerror(errno));
            r = JG_ERR_IO;
            goto out;
        }
        jg_strlcpy(id_out, id, id_size);
        r = 0;
        goto out;
again:;
    }
    jg_diags_add(d, dir, 0, 0, "could not find a free grant id");
    r = JG_ERR_EXISTS;
out:
    if (dfd >= 0)
        close(dfd);
    free(dir);
    free(text);
    jg_policy_free(p);
    return r;
}

/* The grants of one grant file: NULL when the file is not only grants. */
static const struct jg_ynode *
file_grants(const struct jg_ynode *root)
{
    const struct jg_ynode *g;

    if (root == NULL || root->type != JG_Y_MAP || root->n != 2)
        return NULL;
    g = jg_y_get(root, "grants");
    return g != NULL && g->type == JG_Y_SEQ ? g : NULL;
}

static const char *
gstr(const struct jg_ynode *g, const char *key)
{
    const struct jg_ynode *n = jg_y_get(g, key);

    return n != NULL && n->type == JG_Y_SCALAR ? n->str : NULL;
}

int
jg_policy_grant_revoke(const char *policy_path, const char *id,
                       struct jg_diags *d)
{
    char *dir = NULL, name[128], *path = NULL;
    struct jg_ynode *root = NULL;
    const struct jg_ynode *gs;
    struct jg_policy *p = NULL;
    struct jg_diags ld = {0};
    int dfd, r = JG_ERR_NOTFOUND;
    size_t i;

    if (strlen(id) > 64 || strchr(id, '/') != NULL)
        return JG_ERR_NOTFOUND;
    dfd = open_dropin_dir(policy_path, false, &dir, d);
    if (dfd == JG_ERR_IO)
        return JG_ERR_IO;
    if (dfd >= 0) {
        snprintf(name, sizeof(name), "grant-%s.yaml", id);
        path = jg_xasprintf("%s/%s", dir, name);
        if (jg_yaml_load_file(path, &root, &ld) == 0 && (gs = file_grants(root)) != NULL &&
            gs->n == 1 && gstr(gs->kids[0], "id") != NULL &&
            strcmp(gstr(gs->kids[0], "id"), id) == 0) {
            if (unlinkat(dfd, name, 0) != 0 || fsync(dfd) != 0) {
                jg_diags_add(d, path, 0, 0, "cannot remove: %s", strerror(errno));
                r = JG_ERR_IO;
            } else {
                r = 0;
            }
            goto out;
        }
    }
    /* not a file of ours: tell where it is, if anywhere */
    jg_diags_clear(&ld);
    if (jg_policy_load(policy_path, &p, &ld) == 0) {
        for (i = 0; i < jg_policy_n_grants(p); i++) {
            const struct jg_grant *g = jg_policy_grant_at(p, i);
            if (strcmp(g->id, id) == 0) {
                jg_diags_add(d, g->file, g->line, 1,
                             "grant %s is defined here, not in a grant file of its "
                             "own; edit the file to remove it", id);
                r = JG_ERR_INVALID;
            }
        }
    }
out:
    if (dfd >= 0)
        close(dfd);
    jg_diags_clear(&ld);
    jg_ynode_free(root);
    jg_policy_free(p);
    free(path);
    free(dir);
    return r;
}

int
jg_policy_grant_prune(const char *policy_path, int64_t now,
                      void (*cb)(const char *id, const char *user,
                                 int64_t until, void *arg),
                      void *arg, struct jg_diags *d)
{
    char *dir = NULL;
    DIR *dh;
    struct dirent *e;
    int dfd, count = 0;

    dfd = open_dropin_dir(policy_path, false, &dir, d);
    if (dfd == JG_ERR_NOTFOUND)
        return 0;
    if (dfd < 0)
        return dfd;
    if ((dh = fdopendir(dup(dfd))) == NULL) {
        jg_diags_add(d, dir, 0, 0, "cannot read the folder: %s", strerror(errno));
        close(dfd);
        free(dir);
        return JG_ERR_IO;
    }
    while ((e = readdir(dh)) != NULL) {
        struct jg_ynode *root = NULL;
        const struct jg_ynode *gs;
        struct jg_diags ld = {0};
        char *path;
        bool ended = true;
        size_t i;

        if (strncmp(e->d_name, "grant-", 6) != 0 ||
            strlen(e->d_name) < 11 ||
            strcmp(e->d_name + strlen(e->d_name) - 5, ".yaml") != 0)
            continue;
        path = jg_xasprintf("%s/%s", dir, e->d_name);
        if (jg_yaml_load_file(path, &root, &ld) != 0 ||
            (gs = file_grants(root)) == NULL || gs->n == 0) {
            ended = false;
        } else {
            for (i = 0; i < gs->n && ended; i++) {
                int64_t until;
                const char *u = gstr(gs->kids[i], "until");
                ended = u != NULL && jg_time_parse(u, &until) == 0 && until <= now;
            }
        }
        if (ended) {
            if (unlinkat(dfd, e->d_name, 0) != 0) {
                jg_diags_add(d, path, 0, 0, "cannot remove: %s", strerror(errno));
            } else {
                count++;
                for (i = 0; cb != NULL && i < gs->n; i++) {
                    int64_t until = 0;
                    const char *id = gstr(gs->kids[i], "id");
                    const char *user = gstr(gs->kids[i], "user");
                    jg_time_parse(gstr(gs->kids[i], "until"), &until);
                    cb(id ? id : "?", user ? user : "?", until, arg);
                }
            }
        }
        jg_diags_clear(&ld);
        jg_ynode_free(root);
        free(path);
    }
    closedir(dh);
    if (count > 0 && fsync(dfd) != 0)
        jg_diags_add(d, dir, 0, 0, "cannot sync the folder: %s", strerror(errno));
    close(dfd);
    free(dir);
    return count;
}
