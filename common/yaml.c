/* SPDX-License-Identifier: Apache-2.0 */
/* common/yaml.c - a YAML document as a tree of nodes that remember their
 * line and column, built with libyaml; plus schema helpers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/common.h"

/* Every node, string and child array of a document lives in one arena of
 * large blocks, freed at once with the root: a policy of 10,000 users is
 * hundreds of thousands of nodes. */
struct arena_block {
    struct arena_block *next;
    size_t used, size;
    max_align_t data[];
};

struct jg_yarena {
    struct arena_block *head;
};

#define ARENA_BLOCK (256u * 1024)

static void *
arena_alloc(struct jg_yarena *a, size_t n)
{
    struct arena_block *b = a->head;
    void *p;

    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    if (b == NULL || b->size - b->used < n) {
        size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = jg_xmalloc(sizeof(*b) + size);
        b->size = size;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

static void
arena_free(struct jg_yarena *a)
{
    struct arena_block *b, *next;

    if (a == NULL)
        return;
    for (b = a->head; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    free(a);
}

struct builder {
    const char *file;
    struct jg_diags *d;
    yaml_parser_t parser;
    int depth;
    struct jg_yarena *arena;
};

static struct jg_ynode *
node_new(struct builder *b, enum jg_ytype t, const yaml_mark_t *m)
{
    struct jg_ynode *n = arena_alloc(b->arena, sizeof(*n));

    n->type = t;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

void
jg_ynode_free(struct jg_ynode *n)
{
    if (n != NULL)
        arena_free(n->arena);
}

static int parse_node(struct builder *b, yaml_event_t *ev, struct jg_ynode **out);

static int
key_cmp(const void *a, const void *b)
{
    const struct jg_ynode *x = *(const struct jg_ynode *const *)a;
    const struct jg_ynode *y = *(const struct jg_ynode *const *)b;
    int c = strcmp(x->str, y->str);

    if (c != 0)
        return c;
    return x->line != y->line ? (x->line < y->line ? -1 : 1)
                              : (x->col < y->col ? -1 : x->col > y->col);
}

/* Reports keys that a mapping has twice; sorting keeps this O(n log n) for
 * the large users and targets maps. */
static void
check_duplicates(struct builder *b, const struct jg_ynode *n)
{
    size_t k = n->n / 2, i;
    const struct jg_ynode **keys;

    if (k < 2)
        return;
    keys = jg_xcalloc(k, sizeof(*keys));
    for (i = 0; i < k; i++)
        keys[i] = n->kids[2 * i];
    qsort(keys, k, sizeof(*keys), key_cmp);
    for (i = 1; i < k; i++) {
        size_t first = i - 1;
        while (i < k && strcmp(keys[first]->str, keys[i]->str) == 0) {
            jg_diags_add(b->d, b->file, keys[i]->line, keys[i]->col,
                         "duplicate key '%s' (first at line %d)", keys[i]->str,
                         keys[first]->line);
            i++;
        }
    }
    free(keys);
}

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

/* Parses the children of a sequence or mapping until its end event; they
 * are gathered in a growing scratch array, then copied into the arena. */
static int
parse_children(struct builder *b, struct jg_ynode *n, yaml_event_type_t end)
{
    struct jg_ynode **kids = NULL;
    size_t cnt = 0, cap = 0;
    yaml_event_t ev;
    int r;

    for (;;) {
        struct jg_ynode *kid = NULL;

        if ((r = next_event(b, &ev)) != 0)
            goto out;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            break;
        }
        r = parse_node(b, &ev, &kid);
        yaml_event_delete(&ev);
        if (r != 0)
            goto out;
        if (n->type == JG_Y_MAP && (cnt % 2) == 0 && kid->type != JG_Y_SCALAR) {
            jg_diags_add(b->d, b->file, kid->line, kid->col,
                         "mapping keys must be plain strings");
            r = JG_ERR_INVALID;
            goto out;
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            kids = jg_xrealloc(kids, cap, sizeof(*kids));
        }
        kids[cnt++] = kid;
    }
    n->n = cnt;
    if (cnt > 0) {
        n->kids = arena_alloc(b->arena, cnt * sizeof(*kids));
        memcpy(n->kids, kids, cnt * sizeof(*kids));
    }
    r = 0;
out:
    free(kids);
    return r;
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
        n = node_new(b, JG_Y_SCALAR, &ev->start_mark);
        n->len = ev->data.scalar.length;
        if (memchr(ev->data.scalar.value, '\0', n->len) != NULL) {
            jg_diags_add(b->d, b->file, n->line, n->col,
                         "NUL character in a string");
            return JG_ERR_INVALID;
        }
        n->str = arena_alloc(b->arena, n->len + 1);
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
        n = node_new(b, JG_Y_SEQ, &ev->start_mark);
        r = parse_children(b, n, YAML_SEQUENCE_END_EVENT);
    } else {
        n = node_new(b, JG_Y_MAP, &ev->start_mark);
        r = parse_children(b, n, YAML_MAPPING_END_EVENT);
        if (r == 0)
            check_duplicates(b, n);
    }
    b->depth--;
    if (r != 0)
        return r;
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
    b.arena = jg_xcalloc(1, sizeof(*b.arena));
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
    if (r != 0 || doc == NULL) {
        arena_free(b.arena);
        doc = NULL;
    } else {
        doc->arena = b.arena; /* the root owns every node */
    }
    *root = doc;
    return r;
}

int
jg_yaml_read_file(const char *path, char **data, size_t *len,
                  struct jg_diags *d)
{
    int r = jg_read_file(path, JG_YAML_MAX_BYTES + 1, data, len);

    if (r == JG_ERR_INVALID) {
        jg_diags_add(d, path, 0, 0,
                     "not a regular file (a FIFO, socket or device): refused; "
                     "policy and configuration files must be regular files");
        return r;
    }
    return r == JG_ERR_TOOBIG ? JG_ERR_IO : r;
}

int
jg_yaml_load_file(const char *path, struct jg_ynode **root, struct jg_diags *d)
{
    char *data;
    size_t len;
    int r;

    *root = NULL;
    if ((r = jg_yaml_read_file(path, &data, &len, d)) != 0)
        return r;
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
