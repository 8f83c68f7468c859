/* SPDX-License-Identifier: Apache-2.0 */
/* common/metrics.c - a small registry of Prometheus metrics (counters
 * and gauges with labels) and its rendering in the text exposition format
 * 0.0.4, shared by jumpgated and `jumpgate sync run`. A mutex guards the
 * registry so that an HTTP server thread may render while the owner
 * updates. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

struct series {
    struct series *next;
    char *labels;       /* rendered: `{k="v",...}` or "" */
    double value;
};

struct family {
    struct family *next;
    char *name, *help;
    enum jg_metric_type type;
    struct series *series, **tail;
};

struct jg_metrics {
    pthread_mutex_t lock;
    struct family *fams, **tail;
};

struct jg_metrics *
jg_metrics_new(void)
{
    struct jg_metrics *m = jg_xcalloc(1, sizeof(*m));

    pthread_mutex_init(&m->lock, NULL);
    m->tail = &m->fams;
    return m;
}

void
jg_metrics_free(struct jg_metrics *m)
{
    struct family *f, *fn;
    struct series *s, *sn;

    if (m == NULL)
        return;
    for (f = m->fams; f != NULL; f = fn) {
        fn = f->next;
        for (s = f->series; s != NULL; s = sn) {
            sn = s->next;
            free(s->labels);
            free(s);
        }
        free(f->name);
        free(f->help);
        free(f);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; no ':' in label names. */
static bool
valid_name(const char *s, bool label)
{
    size_t i;

    if (s == NULL || *s == '\0')
        return false;
    for (i = 0; s[i] != '\0'; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '_' || (!label && c == ':') ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static struct family *
find_family(struct jg_metrics *m, const char *name)
{
    struct family *f;

    for (f = m->fams; f != NULL; f = f->next) {
        if (strcmp(f->name, name) == 0)
            return f;
    }
    return NULL;
}

int
jg_metrics_declare(struct jg_metrics *m, const char *name,
                   enum jg_metric_type type, const char *help)
{
    struct family *f;
    int r = 0;

    if (!valid_name(name, false) || help == NULL)
        return JG_ERR_INVALID;
    pthread_mutex_lock(&m->lock);
    if ((f = find_family(m, name)) != NULL) {
        r = f->type == type ? 0 : JG_ERR_EXISTS;
    } else {
        f = jg_xcalloc(1, sizeof(*f));
        f->name = jg_xstrdup(name);
        f->help = jg_xstrdup(help);
        f->type = type;
        f->tail = &f->series;
        *m->tail = f;
        m->tail = &f->next;
    }
    pthread_mutex_unlock(&m->lock);
    return r;
}

/* Appends s to buf with the escapes the format asks for: backslash and
 * newline always, the double quote inside label values. */
static void
escape(FILE *b, const char *s, bool quote)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            fwrite("\\\\", 1, 2, b);
        else if (*s == '\n')
            fwrite("\\n", 1, 2, b);
        else if (*s == '"' && quote)
            fwrite("\\\"", 1, 2, b);
        else
            fwrite(s, 1, 1, b);
    }
}

/* Renders the label pairs of ap (name, value, ..., NULL) as `{...}`.
 * Returns NULL when a label name is not valid. */
static char *
render_labels(va_list ap)
{
    char *buf = NULL;
    size_t blen = 0;
    FILE *b;
    const char *k, *v;
    bool first = true, ok = true;

    if ((b = open_memstream(&buf, &blen)) == NULL)
        return NULL;
    while ((k = va_arg(ap, const char *)) != NULL) {
        v = va_arg(ap, const char *);
        if (!valid_name(k, true) || v == NULL) {
            ok = false;
            break;
        }
        fputs(first ? "{" : ",", b);
        fputs(k, b);
        fputs("=\"", b);
        escape(b, v, true);
        fputs("\"", b);
        first = false;
    }
    if (!first)
        fputs("}", b);
    if (fclose(b) != 0 || !ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int
update(struct jg_metrics *m, const char *name, double v, bool add,
       va_list ap)
{
    struct family *f;
    struct series *s;
    char *labels;
    int r = 0;

    if ((labels = render_labels(ap)) == NULL)
        return JG_ERR_INVALID;
    pthread_mutex_lock(&m->lock);
    if ((f = find_family(m, name)) == NULL) {
        r = JG_ERR_NOTFOUND;
        goto out;
    }
    if (add && f->type == JG_METRIC_COUNTER && !(v >= 0)) {
        r = JG_ERR_INVALID;     /* counters only go up */
        goto out;
    }
    if (!add && f->type == JG_METRIC_COUNTER) {
        r = JG_ERR_INVALID;
        goto out;
    }
    for (s = f->series; s != NULL; s = s->next) {
        if (strcmp(s->labels, labels) == 0)
            break;
    }
    if (s == NULL) {
        s = jg_xcalloc(1, sizeof(*s));
        s->labels = labels;
        labels = NULL;
        *f->tail = s;
        f->tail = &s->next;
    }
    s->value = add ? s->value + v : v;
out:
    pthread_mutex_unlock(&m->lock);
    free(labels);
    return r;
}

int
jg_metrics_add(struct jg_metrics *m, const char *name, double v, ...)
{
    va_list ap;
    int r;

    va_start(ap, v);
    r = update(m, name, v, true, ap);
    va_end(ap);
    return r;
}

int
jg_metrics_set(struct jg_metrics *m, const char *name, double v, ...)
{
    va_list ap;
    int r;

    va_start(ap, v);
    r = update(m, name, v, false, ap);
    va_end(ap);
    return r;
}

int
jg_metrics_clear(struct jg_metrics *m, const char *name)
{
    struct family *f;
    struct series *s, *sn;
    int r = 0;

    pthread_mutex_lock(&m->lock);
    if ((f = find_family(m, name)) == NULL) {
        r = JG_ERR_NOTFOUND;
    } else {
        for (s = f->series; s != NULL; s = sn) {
            sn = s->next;
            free(s->labels);
            free(s);
        }
        f->series = NULL;
        f->tail = &f->series;
    }
    pthread_mutex_unlock(&m->lock);
    return r;
}

static void
format_value(FILE *b, double v)
{
    char num[64];

    if (isnan(v))
        jg_strlcpy(num, "NaN", sizeof(num));
    else if (isinf(v))
        jg_strlcpy(num, v > 0 ? "+Inf" : "-Inf", sizeof(num));
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)
        snprintf(num, sizeof(num), "%.0f", v);
    else
        snprintf(num, sizeof(num), "%.17g", v);
    fputs(num, b);
}

char *
jg_metrics_render(struct jg_metrics *m, size_t *len)
{
    char *buf = NULL;
    size_t blen = 0;
    FILE *b;
    struct family *f;
    struct series *s;

    if ((b = open_memstream(&buf, &blen)) == NULL)
        return NULL;
    pthread_mutex_lock(&m->lock);
    for (f = m->fams; f != NULL; f = f->next) {
        fprintf(b, "# HELP %s ", f->name);
        escape(b, f->help, false);
        fprintf(b, "\n# TYPE %s %s\n", f->name,
                f->type == JG_METRIC_COUNTER ? "counter" : "gauge");
        for (s = f->series; s != NULL; s = s->next) {
            fprintf(b, "%s%s ", f->name, s->labels);
            format_value(b, s->value);
            fputc('\n', b);
        }
    }
    pthread_mutex_unlock(&m->lock);
    if (fclose(b) != 0) {
        free(buf);
        return NULL;
    }
    if (len != NULL)
        *len = blen;
    return buf;
}
