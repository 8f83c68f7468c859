/* SPDX-License-Identifier: Apache-2.0 */
/* console/filter.c - what the pages that filter share: a glob over a
 * field, a time argument, a form's text inputs and the pager's links. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/internal.h"

bool
jgc_match(const char *pattern, const char *value)
{
    return pattern == NULL ||
           (value != NULL && fnmatch(pattern, value, 0) == 0);
}

bool
jgc_arg_time(const struct jgc_req *q, const char *name, int64_t *us,
             bool end_of_day)
{
    const char *s = jgc_arg(q, name);
    char buf[40];
    int64_t t;

    if (s == NULL)
        return true;
    if (strlen(s) == 10) {
        snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
        s = buf;
    }
    if (jg_time_parse(s, &t) != 0)
        return false;
    *us = (t + (end_of_day && s == buf ? 86400 : 0)) * 1000000;
    return true;
}

void
jgc_input(struct jgc_buf *b, const struct jgc_req *q, const char *name,
          const char *label, const char *type)
{
    const char *value = jgc_arg(q, name);

    jgc_putf(b, "<label>%s <input name=\"%s\" id=\"f-%s\" type=\"%s\" value=\"",
             label, name, name, type);
    jgc_esc(b, value ? value : "");
    jgc_put(b, "\"></label>");
}

void
jgc_page_link(struct jgc_buf *b, const struct jgc_req *q, const char *path,
              const char *const *keys, size_t page, const char *text)
{
    size_t i;

    jgc_putf(b, "<a class=\"page\" href=\"%s?", path);
    for (i = 0; keys[i] != NULL; i++) {
        const char *v = jgc_arg(q, keys[i]);
        if (v == NULL)
            continue;
        jgc_putf(b, "%s=", keys[i]);
        jgc_urlenc(b, v);
        jgc_put(b, "&amp;");
    }
    jgc_putf(b, "page=%zu\">%s</a>", page, text);
}

bool
jgc_arg_page(const struct jgc_req *q, size_t *page)
{
    const char *pg = jgc_arg(q, "page");
    char *end = NULL;
    unsigned long v;

    *page = 0;
    if (pg == NULL)
        return true;
    v = strtoul(pg, &end, 10);
    if (*end != '\0' || v > 1000000)
        return false;
    *page = v;
    return true;
}
