/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/audit/audit_test.h - helpers of the audit unit tests: a
 * throw-away audit folder with a seal key, file edits for tampering. */
#ifndef JG_AUDIT_TEST_H
#define JG_AUDIT_TEST_H

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jgtest.h"
#include "audit/audit.h"

struct fx {
    char dir[64];
    char *keypath;
    struct jg_audit_key *key, *pub;
};

/* 2026-11-27T00:00:00Z in µs. */
#define T0 ((int64_t)1795737600 * 1000000)

static inline int
fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char *pub;

    snprintf(f->dir, sizeof(f->dir), "/tmp/jg-audit-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    chmod(f->dir, 0750);
    f->keypath = jg_xasprintf("%s/key.pem", f->dir);
    assert_int_equal(jg_audit_keygen(f->keypath, false), 0);
    assert_int_equal(jg_audit_key_load_private(f->keypath, &f->key), 0);
    pub = jg_audit_key_pub_path(f->keypath);
    assert_int_equal(jg_audit_key_load_public(pub, &f->pub), 0);
    free(pub);
    *state = f;
    return 0;
}

static inline int
fx_teardown(void **state)
{
    struct fx *f = *state;
    char *cmd = jg_xasprintf("rm -rf '%s'", f->dir);

    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->dir);
    free(cmd);
    jg_audit_key_free(f->key);
    jg_audit_key_free(f->pub);
    free(f->keypath);
    free(f);
    return 0;
}

static inline char *
fx_read(const char *path, size_t *len)
{
    char *d = NULL, *copy;

    assert_int_equal(jg_read_file(path, 1u << 26, &d, len), 0);
    /* A fresh copy: gcc's -Wdangling-pointer misreads the out-parameter. */
    copy = jg_xmalloc(*len + 1);
    memcpy(copy, d, *len);
    copy[*len] = '\0';
    free(d);
    return copy;
}

static inline void
fx_write(const char *path, const char *d, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, len, f), len);
    fclose(f);
}

/* Start offsets of the lines of d (at most 64); returns the count. */
static inline size_t
fx_lines(const char *d, size_t len, size_t *starts)
{
    size_t n = 0, i;

    for (i = 0; i < len && n < 64; i++)
        if (i == 0 || d[i - 1] == '\n')
            starts[n++] = i;
    return n;
}

#endif
