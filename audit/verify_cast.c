/* SPDX-License-Identifier: Apache-2.0 */
/* audit/verify_cast.c - proves a recording against its signed
 * checkpoints, or says where and how it differs. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit/internal.h"

#define SEAL_MAX ((size_t)256 << 20)

/* The checkpoints of a seal file that can be trusted: valid, in order. */
struct cps {
    struct jg_audit_checkpoint *v;
    size_t n;
};

static void
parse_seals(const char *seal_path, const char *data, size_t len,
            const char *id, const struct jg_audit_key *key, struct cps *c,
            struct jg_diags *d)
{
    struct jg_audit_checkpoint cp;
    const char *p = data, *end = data + len, *nl;
    char err[256];
    size_t lineno = 0;
    uint64_t last_off = 0;
    int64_t last_t = INT64_MIN;

    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        lineno++;
        if (nl == NULL) {
            jg_diags_add(d, seal_path, (int)lineno, 0,
                         "incomplete last line (cut short by a crash?)");
            return;
        }
        if (c->n > 0 && c->v[c->n - 1].final) {
            jg_diags_add(d, seal_path, (int)lineno, 0,
                         "checkpoint after the final one");
            return;
        }
        if (jg_audit_checkpoint_parse(p, (size_t)(nl - p), key,
                                      JG_AUDIT_DOMAIN_CAST, &cp, err,
                                      sizeof(err)) != 0) {
            jg_diags_add(d, seal_path, (int)lineno, 0, "%s", err);
            return;
        }
        if (strcmp(cp.session, id) != 0) {
            jg_diags_add(d, seal_path, (int)lineno, 0,
                         "seal of session %s, not %s (a file of another "
                         "recording?)",
                         cp.session, id);
            return;
        }
        if (cp.seq != c->n + 1) {
            jg_diags_add(d, seal_path, (int)lineno, 0,
                         "checkpoint %" PRIu64 " where %zu was expected "
                         "(checkpoints removed, repeated or reordered)",
                         cp.seq, c->n + 1);
            return;
        }
        if (cp.offset < last_off || cp.time_us < last_t) {
            jg_diags_add(d, seal_path, (int)lineno, 0,
                         "checkpoint goes backwards");
            return;
        }
        last_off = cp.offset;
        last_t = cp.time_us;
        c->v = jg_xrealloc(c->v, c->n + 1, sizeof(*c->v));
        c->v[c->n++] = cp;
        p = nl + 1;
    }
}

/* Hashes the .cast, comparing at each checkpoint. Fills st->size and
 * st->sealed; reports the first difference. */
static int
hash_pass(int fd, const char *cast_path, const struct cps *c,
          struct jg_audit_cast_status *st, struct jg_diags *d)
{
    EVP_MD_CTX *sha = EVP_MD_CTX_new(), *snap = EVP_MD_CTX_new();
    char *buf = jg_xmalloc(65536), hex[65];
    uint8_t md[32];
    unsigned int mdlen;
    uint64_t pos = 0, lines = 0, lines_at_sealed = 0;
    size_t i = 0, have = 0, used = 0, take;
    bool bad = false;
    ssize_t got;
    int r = JG_ERR_INTERNAL;

    if (sha == NULL || snap == NULL ||
        EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1)
        goto out;
    for (;;) {
        /* Check every checkpoint that sits at pos. */
        while (!bad && i < c->n && c->v[i].offset == pos) {
            if (EVP_MD_CTX_copy_ex(snap, sha) != 1 ||
                EVP_DigestFinal_ex(snap, md, &mdlen) != 1)
                goto out;
            jg_audit_hex(md, 32, hex);
            if (strcmp(hex, c->v[i].sha256) != 0) {
                jg_diags_add(d, cast_path, (int)(lines_at_sealed + 1), 0,
                             "changed between byte %" PRIu64 " and byte %"
                             PRIu64 " (lines %" PRIu64 "-%" PRIu64
                             "): checkpoint %" PRIu64 " does not match",
                             st->sealed, pos, lines_at_sealed + 1,
                             lines + (pos > 0 ? 0 : 1), c->v[i].seq);
                bad = true;
                break;
            }
            st->sealed = pos;
            st->checkpoints = i + 1;
            st->final = c->v[i].final;
            lines_at_sealed = lines;
            i++;
        }
        if (used == have) {
            got = read(fd, buf, 65536);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0) {
                r = JG_ERR_IO;
                goto out;
            }
            if (got == 0)
                break;
            have = (size_t)got;
            used = 0;
        }
        take = have - used;
        if (!bad && i < c->n && c->v[i].offset - pos < take)
            take = (size_t)(c->v[i].offset - pos);
        if (EVP_DigestUpdate(sha, buf + used, take) != 1)
            goto out;
        for (size_t k = 0; k < take; k++)
            lines += buf[used + k] == '\n';
        used += take;
        pos += take;
    }
    st->size = pos;
    if (!bad && i < c->n) {
        jg_diags_add(d, cast_path, 0, 0,
                     "truncated: the file has %" PRIu64
                     " bytes, but checkpoint %" PRIu64 " covers %" PRIu64,
                     pos, c->v[i].seq, c->v[i].offset);
        bad = true;
    }
    if (!bad && st->final && pos > st->sealed)
        jg_diags_add(d, cast_path, (int)(lines_at_sealed + 1), 0,
                     "%" PRIu64 " bytes after the final seal (from byte %"
                     PRIu64 ") were appended",
                     pos - st->sealed, st->sealed);
    else if (!bad && !st->final && pos > st->sealed)
        jg_diags_add(d, cast_path, (int)(lines_at_sealed + 1), 0,
                     "%" PRIu64 " bytes after the last seal (byte %" PRIu64
                     ") are not sealed; no final seal (the recording was cut "
                     "short or is still live)",
                     pos - st->sealed, st->sealed);
    else if (!bad && !st->final)
        jg_diags_add(d, cast_path, 0, 0,
                     "no final seal (the recording was cut short or is "
                     "still live); its %" PRIu64 " bytes are sealed",
                     st->sealed);
    r = 0;
out:
    EVP_MD_CTX_free(sha);
    EVP_MD_CTX_free(snap);
    free(buf);
    return r;
}

/* The header must name this recording. */
static void
check_header(int fd, const char *cast_path, const char *id, struct jg_diags *d)
{
    struct jg_audit_cast_header h;
    struct jg_audit_lr lr;
    const char *line;
    size_t len;
    bool nl;
    char err[256];

    jg_audit_lr_init(&lr, fd);
    if (jg_audit_lr_next(&lr, &line, &len, &nl) != 1) {
        jg_diags_add(d, cast_path, 1, 0, "no header line");
    } else if (jg_audit_cast_header_parse(line, len, &h, err, sizeof(err)) !=
               0) {
        jg_diags_add(d, cast_path, 1, 0, "%s", err);
    } else {
        if (h.session == NULL || strcmp(h.session, id) != 0)
            jg_diags_add(d, cast_path, 1, 0,
                         "header names session %s, not %s",
                         h.session ? h.session : "(none)", id);
        jg_audit_cast_header_clear(&h);
    }
    jg_audit_lr_clear(&lr);
}

int
jg_audit_verify_cast(const char *cast_path, const char *seal_path,
                     const char *id, const struct jg_audit_key *key,
                     struct jg_audit_cast_status *st, struct jg_diags *d)
{
    struct cps c = {NULL, 0};
    char *seal = NULL;
    size_t seal_len = 0, before = d->n;
    int fd = -1, r;

    memset(st, 0, sizeof(*st));
    if ((fd = open(cast_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        r = errno == ENOENT ? JG_ERR_NOTFOUND : JG_ERR_IO;
        goto out;
    }
    r = jg_audit_read_at(AT_FDCWD, seal_path, SEAL_MAX, &seal, &seal_len);
    if (r == JG_ERR_NOTFOUND) {
        st->seal_missing = true;
        jg_diags_add(d, seal_path, 0, 0,
                     "missing: nothing proves this recording");
    } else if (r == JG_ERR_TOOBIG) {
        jg_diags_add(d, seal_path, 0, 0, "larger than %zu bytes", SEAL_MAX);
    } else if (r != 0) {
        goto out;
    } else {
        parse_seals(seal_path, seal, seal_len, id, key, &c, d);
    }
    check_header(fd, cast_path, id, d);
    if (lseek(fd, 0, SEEK_SET) != 0) {
        r = JG_ERR_IO;
        goto out;
    }
    if ((r = hash_pass(fd, cast_path, &c, st, d)) != 0)
        goto out;
    r = d->n > before || !st->final || st->sealed != st->size ? JG_ERR_INVALID
                                                               : 0;
out:
    if (fd >= 0)
        close(fd);
    free(seal);
    free(c.v);
    return r;
}
