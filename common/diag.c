/* SPDX-License-Identifier: Apache-2.0 */
/* common/diag.c - collected "FILE:LINE:COL: message" diagnostics. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

void
jg_diags_vadd(struct jg_diags *d, const char *file, int line, int col,
              const char *fmt, va_list ap)
{
    char buf[1024];

    if (d == NULL)
        return;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->v = jg_xrealloc(d->v, d->cap, sizeof(*d->v));
    }
    d->v[d->n].file = jg_xstrdup(file ? file : "-");
    d->v[d->n].line = line;
    d->v[d->n].col = col;
    d->v[d->n].msg = jg_xstrdup(buf);
    d->n++;
}

void
jg_diags_add(struct jg_diags *d, const char *file, int line, int col,
             const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    jg_diags_vadd(d, file, line, col, fmt, ap);
    va_end(ap);
}

static int
diag_cmp(const void *a, const void *b)
{
    const struct jg_diag *x = a, *y = b;
    int c = strcmp(x->file, y->file);

    if (c != 0)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x < y ? -1 : (x > y);
}

void
jg_diags_print(struct jg_diags *d, FILE *out)
{
    size_t i;

    if (d->n == 0)
        return;
    qsort(d->v, d->n, sizeof(*d->v), diag_cmp);
    for (i = 0; i < d->n; i++) {
        const struct jg_diag *g = &d->v[i];
        if (g->line > 0)
            fprintf(out, "%s:%d:%d: %s\n", g->file, g->line, g->col, g->msg);
        else
            fprintf(out, "%s: %s\n", g->file, g->msg);
    }
}

void
jg_diags_clear(struct jg_diags *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].msg);
    }
    free(d->v);
    d->v = NULL;
    d->n = d->cap = 0;
}
