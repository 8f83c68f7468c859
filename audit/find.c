/* SPDX-License-Identifier: Apache-2.0 */
/* audit/find.c - finds recordings and day files below audit.dir. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/internal.h"

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_day(const char *n, size_t len)
{
    size_t i;

    if (len != 10)
        return false;
    for (i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? n[i] != '-' : (n[i] < '0' || n[i] > '9'))
            return false;
    return true;
}

static void
push(char ***v, size_t *n, char *s)
{
    *v = jg_xrealloc(*v, *n + 2, sizeof(**v));
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

/* Names in folder fd that pass keep (only their first keep_len chars when
 * not 0), sorted. */
static int
names(int fd, bool (*keep)(const char *), size_t keep_len, char ***out,
      size_t *n)
{
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    DIR *d;
    struct dirent *e;
    size_t l;

    if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
        if (dfd >= 0)
            close(dfd);
        return JG_ERR_IO;
    }
    while ((e = readdir(d)) != NULL) {
        if (!keep(e->d_name))
            continue;
        l = keep_len > 0 ? keep_len : strlen(e->d_name);
        char *s = jg_xmalloc(l + 1);
        memcpy(s, e->d_name, l);
        s[l] = '\0';
        push(out, n, s);
    }
    closedir(d);
    if (*n > 0)
        qsort(*out, *n, sizeof(**out), cmp_str);
    return 0;
}

static bool
keep_day_file(const char *n)
{
    size_t l = strlen(n);

    return l == 16 && strcmp(n + 10, ".jsonl") == 0 && is_day(n, 10);
}

static bool
keep_day_dir(const char *n)
{
    return is_day(n, strlen(n));
}

/* The two formats of a recording, newest first. */
static const char *const rec_ext[] = {".jgr", ".cast", NULL};

static bool
keep_rec(const char *n)
{
    size_t l = strlen(n), i;
    char id[JG_AUDIT_ID_STRLEN];

    for (i = 0; rec_ext[i] != NULL; i++)
        if (l == 36 + strlen(rec_ext[i]) && strcmp(n + 36, rec_ext[i]) == 0)
            break;
    if (rec_ext[i] == NULL)
        return false;
    memcpy(id, n, 36);
    id[36] = '\0';
    return jg_audit_id_valid(id);
}

int
jg_audit_list_days(const char *audit_dir, char ***days, size_t *n)
{
    int top = -1, ev = -1, r;

    *days = NULL;
    *n = 0;
    if ((r = jg_audit_dir_open(audit_dir, &top)) != 0)
        goto out;
    r = jg_audit_subdir(top, "events", false, &ev);
    if (r == JG_ERR_NOTFOUND) {
        r = 0;
        goto out;
    }
    if (r != 0)
        goto out;
    r = names(ev, keep_day_file, 0, days, n);
out:
    if (ev >= 0)
        close(ev);
    if (top >= 0)
        close(top);
    return r;
}

int
jg_audit_list_ids(const char *audit_dir, char ***ids, size_t *n)
{
    char **dayv = NULL;
    size_t nd = 0, i;
    int top = -1, sess = -1, dfd = -1, r;

    *ids = NULL;
    *n = 0;
    if ((r = jg_audit_dir_open(audit_dir, &top)) != 0)
        goto out;
    r = jg_audit_subdir(top, "sessions", false, &sess);
    if (r == JG_ERR_NOTFOUND) {
        r = 0;
        goto out;
    }
    if (r != 0 || (r = names(sess, keep_day_dir, 0, &dayv, &nd)) != 0)
        goto out;
    for (i = 0; i < nd; i++) {
        if (jg_audit_subdir(sess, dayv[i], false, &dfd) != 0)
            continue;
        r = names(dfd, keep_rec, 36, ids, n);
        close(dfd);
        dfd = -1;
        if (r != 0)
            goto out;
    }
    if (*n > 0)
        qsort(*ids, *n, sizeof(**ids), cmp_str);
    /* One id per recording, whatever files it has. */
    for (i = 1; i < *n;) {
        if (strcmp((*ids)[i], (*ids)[i - 1]) == 0) {
            free((*ids)[i]);
            memmove(*ids + i, *ids + i + 1, (*n - i) * sizeof(**ids));
            (*n)--;
        } else {
            i++;
        }
    }
    r = 0;
out:
    jg_strv_free(dayv);
    if (sess >= 0)
        close(sess);
    if (top >= 0)
        close(top);
    return r;
}

/* The recording of id in sessions/day, in either format. */
static char *
in_day(const char *audit_dir, const char *day, const char *id)
{
    char *p;
    size_t i;

    for (i = 0; rec_ext[i] != NULL; i++) {
        p = jg_xasprintf("%s/sessions/%s/%s%s", audit_dir, day, id,
                         rec_ext[i]);
        if (access(p, F_OK) == 0)
            return p;
        free(p);
    }
    return NULL;
}

int
jg_audit_find_rec(const char *audit_dir, const char *id, char **path)
{
    char day[JG_AUDIT_DAY_STRLEN], **dayv = NULL;
    size_t nd = 0, i;
    int top = -1, sess = -1, r;

    *path = NULL;
    if (!jg_audit_id_valid(id))
        return JG_ERR_INVALID;
    jg_audit_day_format(jg_audit_uuid7_ms(id) * 1000, day, sizeof(day));
    if ((*path = in_day(audit_dir, day, id)) != NULL)
        return 0;
    /* A recording started just before midnight on a skewed clock. */
    if ((r = jg_audit_dir_open(audit_dir, &top)) != 0 ||
        (r = jg_audit_subdir(top, "sessions", false, &sess)) != 0 ||
        (r = names(sess, keep_day_dir, 0, &dayv, &nd)) != 0)
        goto out;
    r = JG_ERR_NOTFOUND;
    for (i = 0; i < nd && r != 0; i++)
        if ((*path = in_day(audit_dir, dayv[i], id)) != NULL)
            r = 0;
out:
    jg_strv_free(dayv);
    if (sess >= 0)
        close(sess);
    if (top >= 0)
        close(top);
    return r;
}
