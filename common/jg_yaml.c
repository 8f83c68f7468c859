/* SPDX-License-Identifier: Apache-2.0 */
/* common/jg_yaml.c - a YAML document as a tree of nodes that remember their
 * line and column, built with libyaml; plus schema helpers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/common.h"

struct builder {
    const char *file;
    struct jg_diags *d;
    yaml_parser_t parser;
    int depth;
};

static struct jg_ynode *
node_new(enum jg_ytype t, const yaml_mark_t *m)
{
    struct jg_ynode *n = jg_xcalloc(1, sizeof(*n));

    n->type = t;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

void
jg_ynode_free(struct jg_ynode *n)
{
    size_t i;

    if (n == NULL)
        return;
    for (i = 0; i < n->n; i++)
        jg_ynode_free(n->kids[i]);
    free(n->kids);
    free(n->str);
    free(n);
}

static void
node_push(struct jg_ynode *parent, struct jg_ynode *kid)
{
    /* grow in powers of two */
    if ((parent->n & (parent->n - 1)) == 0)
        parent->kids = jg_xrealloc(parent->kids, parent->n ? parent->n * 2 : 1,
                                   sizeof(*parent->kids));
    parent->kids[parent->n++] = kid;
}

static int parse_node(struct builder *b, yaml_event_t *ev, struct jg_ynode **out);

static void
parser_error(struct builder *b)
{
    const yaml_parser_t *p = &b->parser;
    const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->mark;

    jg_diags_add(b->d, b->file, (int)m->line + 1, (int)m->column + 1,
                 "YAML syntax: %s%s%s", p->problem ? p->problem : "bad input",
                 p->context ? " " : "", p->context ? p->context : "");
}

static int
next_event(struct builder *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->parser, ev)) {
        parser_error(b);
        return JG_ERR_INVALID;
    }
    return 0;
}

/* Parses the children of a sequence or mapping until its end event. */
static int
parse_children(struct builder *b, struct jg_ynode *n, yaml_event_type_t end)
{
    yaml_event_t ev;
    int r;

    for (;;) {
        struct jg_ynode *kid = NULL;

        if ((r = next_event(b, &ev)) != 0)
            return r;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            break;
        }
        r = parse_node(b, &ev, &kid);
        yaml_event_delete(&ev);
        if (r != 0)
            return r;
        if (n->type == JG_Y_MAP && (n->n % 2) == 0) {
            size_t i;
            if (kid->type != JG_Y_SCALAR) {
                jg_diags_add(b->d, b->file, kid->line, kid->col,
                             "mapping keys must be plain strings");
                jg_ynode_free(kid);
                return JG_ERR_INVALID;
            }
            for (i = 0; i < n->n; i += 2) {
                if (strcmp(n->kids[i]->str, kid->str) == 0) {
                    /* reported, but parsing goes on to find more */
                    jg_diags_add(b->d, b->file, kid->line, kid->col,
                                 "duplicate key '%s' (first at line %d)",
                                 kid->str, n->kids[i]->line);
                    break;
                }
            }
        }
        node_push(n, kid);
    }
    return 0;
}

static int
parse_node(struct builder *b, yaml_event_t *ev, struct jg_ynode **out)
{
    struct jg_ynode *n = NULL;
    const yaml_char_t *anchor = NULL, *tag = NULL;
    int r;

    *out = NULL;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        jg_diags_add(b->d, b->file, (int)ev->start_mark.line + 1,
                     (int)ev->start_mark.column + 1,
                     "YAML aliases are not supported");
        return JG_ERR_INVALID;
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        break;
    default:
        jg_diags_add(b->d, b->file, (int)ev->start_mark.line + 1,
                     (int)ev->start_mark.column + 1, "unexpected YAML event");
        return JG_ERR_INVALID;
    }
    if (anchor != NULL || tag != NULL) {
        jg_diags_add(b->d, b->file, (int)ev->start_mark.line + 1,
                     (int)ev->start_mark.column + 1,
                     "YAML %s are not supported", anchor ? "anchors" : "tags");
        return JG_ERR_INVALID;
    }
    if (ev->type == YAML_SCALAR_EVENT) {
        n = node_new(JG_Y_SCALAR, &ev->start_mark);
        n->len = ev->data.scalar.length;
        if (memchr(ev->data.scalar.value, '\0', n->len) != NULL) {
            jg_diags_add(b->d, b->file, n->line, n->col,
                         "NUL character in a string");
            jg_ynode_free(n);
            return JG_ERR_INVALID;
        }
        n->str = jg_xmalloc(n->len + 1);
        memcpy(n->str, ev->data.scalar.value, n->len);
        n->str[n->len] = '\0';
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        *out = n;
        return 0;
    }
    if (++b->depth > JG_YAML_MAX_DEPTH) {
        jg_diags_add(b->d, b->file, (int)ev->start_mark.line + 1,
                     (int)ev->start_mark.column + 1, "nested too deeply");
        return JG_ERR_INVALID;
    }
    if (ev->type == YAML_SEQUENCE_START_EVENT) {
        n = node_new(JG_Y_SEQ, &ev->start_mark);
        r = parse_children(b, n, YAML_SEQUENCE_END_EVENT);
    } else {
        n = node_new(JG_Y_MAP, &ev->start_mark);
        r = parse_children(b, n, YAML_MAPPING_END_EVENT);
    }
    b->depth--;
    if (r != 0) {
        jg_ynode_free(n);
        return r;
    }
    *out = n;
    return 0;
}

int
jg_yaml_parse(const char *file, const char *data, size_t len,
              struct jg_ynode **root, struct jg_diags *d)
{
    struct builder b = {.file = file, .d = d};
    yaml_event_t ev;
    struct jg_ynode *doc = NULL;
    size_t before = d ? d->n : 0;
    int r = JG_ERR_INVALID;

    *root = NULL;
    if (len > JG_YAML_MAX_BYTES) {
        jg_diags_add(d, file, 0, 0, "file is larger than %u bytes",
                     JG_YAML_MAX_BYTES);
        return JG_ERR_INVALID;
    }
    if (!yaml_parser_initialize(&b.parser))
        return JG_ERR_NOMEM;
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)data, len);
    yaml_parser_set_encoding(&b.parser, YAML_UTF8_ENCODING);

    if (next_event(&b, &ev) != 0)
        goto out;
    yaml_event_delete(&ev); /* stream start */
    if (next_event(&b, &ev) != 0)
        goto out;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        r = 0; /* empty file */
        goto out;
    }
    yaml_event_delete(&ev); /* document start */
    if (next_event(&b, &ev) != 0)
        goto out;
    r = parse_node(&b, &ev, &doc);
    yaml_event_delete(&ev);
    if (r != 0)
        goto out;
    r = JG_ERR_INVALID;
    if (next_event(&b, &ev) != 0)
        goto out;
    yaml_event_delete(&ev); /* document end */
    if (next_event(&b, &ev) != 0)
        goto out;
    if (ev.type != YAML_STREAM_END_EVENT) {
        jg_diags_add(d, file, (int)ev.start_mark.line + 1,
                     (int)ev.start_mark.column + 1,
                     "only one YAML document per file");
        yaml_event_delete(&ev);
        goto out;
    }
    yaml_event_delete(&ev);
    r = (d && d->n > before) ? JG_ERR_INVALID : 0;
out:
    yaml_parser_delete(&b.parser);
    if (r != 0) {
        jg_ynode_free(doc);
        doc = NULL;
    }
    *root = doc;
    return r;
}

int
jg_yaml_load_file(const char *path, struct jg_ynode **root, struct jg_diags *d)
{
    char *data;
    size_t len;
    int r;

    *root = NULL;
    if ((r = jg_read_file(path, JG_YAML_MAX_BYTES + 1, &data, &len)) != 0)
        return r == JG_ERR_TOOBIG ? JG_ERR_IO : r;
    r = jg_yaml_parse(path, data, len, root, d);
    free(data);
    return r;
}

static const char *
type_name(enum jg_ytype t)
{
    return t == JG_Y_SCALAR ? "a value" : t == JG_Y_SEQ ? "a list" : "a mapping";
}

bool
jg_y_expect(const struct jg_ynode *n, enum jg_ytype t, const char *file,
            const char *what, struct jg_diags *d)
{
    if (n != NULL && n->type == t)
        return true;
    if (n != NULL)
        jg_diags_add(d, file, n->line, n->col, "%s must be %s, not %s", what,
                     type_name(t), type_name(n->type));
    return false;
}

void
jg_y_check_keys(const struct jg_ynode *n, const char *const *allowed,
                const char *file, const char *what, struct jg_diags *d)
{
    size_t i, j;

    for (i = 0; i < n->n; i += 2) {
        const struct jg_ynode *k = n->kids[i];
        bool ok = false;
        for (j = 0; allowed[j] != NULL; j++) {
            if (strcmp(allowed[j], k->str) == 0) {
                ok = true;
                break;
            }
        }
        if (!ok)
            jg_diags_add(d, file, k->line, k->col, "unknown key '%s' in %s",
                         k->str, what);
    }
}

const struct jg_ynode *
jg_y_get(const struct jg_ynode *n, const char *key)
{
    size_t i;

    if (n == NULL || n->type != JG_Y_MAP)
        return NULL;
    for (i = 0; i + 1 < n->n; i += 2) {
        if (strcmp(n->kids[i]->str, key) == 0)
            return n->kids[i + 1];
    }
    return NULL;
}

bool
jg_y_bool(const struct jg_ynode *n, const char *file, bool *out,
          struct jg_diags *d)
{
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};
    size_t i;

    if (n->type == JG_Y_SCALAR && !n->quoted) {
        for (i = 0; yes[i]; i++) {
            if (strcasecmp(n->str, yes[i]) == 0) {
                *out = true;
                return true;
            }
        }
        for (i = 0; no[i]; i++) {
            if (strcasecmp(n->str, no[i]) == 0) {
                *out = false;
                return true;
            }
        }
    }
    jg_diags_add(d, file, n->line, n->col, "expected true or false");
    return false;
}

bool
jg_y_strv(const struct jg_ynode *n, const char *file, const char *what,
          char ***out, size_t *count, struct jg_diags *d)
{
    char **v;
    size_t i, k = 0;

    *out = NULL;
    if (count)
        *count = 0;
    if (n->type == JG_Y_MAP) {
        jg_diags_add(d, file, n->line, n->col,
                     "%s must be a value or a list of values", what);
        return false;
    }
    if (n->type == JG_Y_SCALAR) {
        v = jg_xcalloc(2, sizeof(*v));
        v[0] = jg_xstrdup(n->str);
        *out = v;
        if (count)
            *count = 1;
        return true;
    }
    v = jg_xcalloc(n->n + 1, sizeof(*v));
    for (i = 0; i < n->n; i++) {
        if (n->kids[i]->type != JG_Y_SCALAR) {
            jg_diags_add(d, file, n->kids[i]->line, n->kids[i]->col,
                         "items of %s must be plain values", what);
            jg_strv_free(v);
            return false;
        }
        v[k++] = jg_xstrdup(n->kids[i]->str);
    }
    *out = v;
    if (count)
        *count = k;
    return true;
}
