/* SPDX-License-Identifier: Apache-2.0 */
/* audit/verify_jgr.c - proves a .jgr recording against the seals
 * inside it, or says at which offset and how it differs: every byte is
 * hashed in order and every seal checked against the hash so far, then the
 * records are read through, so a sealed file that cannot be read is
 * reported too. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit/internal.h"

struct walk {
    const char *path, *id;
    const struct jg_audit_key *key;
    struct jg_diags *d;
    struct jg_audit_cast_status *st;
    EVP_MD_CTX *sha;
    uint64_t raw, seq;
    int64_t last_t;
};

#define AT(w, off, ...) \
    jg_diags_add((w)->d, (w)->path, 0, 0, "offset " __VA_ARGS__)

/* Checks the seal frame at off (payload p, n bytes) against the hash so
 * far. false (with a diagnostic) when it does not hold. */
static bool
check_seal(struct walk *w, uint64_t off, const char *p, size_t n)
{
    struct jg_audit_checkpoint cp;
    EVP_MD_CTX *snap = EVP_MD_CTX_new();
    uint8_t md[32];
    unsigned int mdlen = 0;
    char hex[65], err[256];
    bool ok = false;

    if (snap == NULL || EVP_MD_CTX_copy_ex(snap, w->sha) != 1 ||
        EVP_DigestFinal_ex(snap, md, &mdlen) != 1 || mdlen != 32) {
        AT(w, off, "%" PRIu64 ": cannot hash", off);
        goto out;
    }
    jg_audit_hex(md, 32, hex);
    if (jg_audit_checkpoint_parse(p, n, w->key, JG_AUDIT_DOMAIN_JGR, &cp, err,
                                  sizeof(err)) != 0) {
        AT(w, off, "%" PRIu64 ": seal: %s", off, err);
    } else if (strcmp(cp.session, w->id) != 0) {
        AT(w, off, "%" PRIu64 ": seal of session %s, not %s (a file of "
           "another recording?)", off, cp.session, w->id);
    } else if (cp.seq != w->seq + 1) {
        AT(w, off, "%" PRIu64 ": seal %" PRIu64 " where %" PRIu64 " was due "
           "(a seal deleted, duplicated or moved)", off, cp.seq, w->seq + 1);
    } else if (cp.offset != off || strcmp(cp.sha256, hex) != 0 ||
               cp.raw != w->raw) {
        AT(w, off, "%" PRIu64 ": seal %" PRIu64 " does not match the %"
           PRIu64 " bytes before it (changed, deleted, duplicated or "
           "reordered data)", off, cp.seq, off);
    } else if (cp.time_us < w->last_t) {
        AT(w, off, "%" PRIu64 ": seal %" PRIu64 " goes back in time", off,
           cp.seq);
    } else {
        w->seq = cp.seq;
        w->last_t = cp.time_us;
        w->st->final = cp.final;
        ok = true;
    }
out:
    EVP_MD_CTX_free(snap);
    return ok;
}

/* Hashes and checks every frame; fills st. */
static void
walk_frames(struct walk *w, int fd, uint64_t size)
{
    uint8_t head[JG_REC_FRAME_LEN], magic[JG_REC_MAGIC_LEN];
    struct jg_rec_frame f;
    char *buf = jg_xmalloc(JG_AUDIT_REC_BLOCK), err[256];
    uint64_t pos;
    int e;

    if (jg_audit_pread(fd, magic, sizeof(magic), 0) != 1 ||
        memcmp(magic, JG_REC_MAGIC, sizeof(magic)) != 0) {
        AT(w, 0, "0: not a jumpgate recording (no JGREC1 magic)");
        goto out;
    }
    EVP_DigestUpdate(w->sha, magic, sizeof(magic));
    pos = sizeof(magic);
    while (pos < size) {
        if (w->st->final) {
            AT(w, pos, "%" PRIu64 ": %" PRIu64 " bytes after the final seal "
               "(appended)", pos, size - pos);
            goto out;
        }
        if (size - pos < JG_REC_FRAME_LEN)
            break; /* a torn frame: the unsealed tail */
        if ((e = jg_audit_pread(fd, head, sizeof(head), pos)) != 1) {
            AT(w, pos, "%" PRIu64 ": %s", pos,
               e == 0 ? "file shrank while read" : strerror(errno));
            goto out;
        }
        if (jg_audit_frame_unpack(head, &f, err, sizeof(err)) != 0) {
            AT(w, pos, "%" PRIu64 ": %s", pos, err);
            goto out;
        }
        if (size - pos - JG_REC_FRAME_LEN < f.stored)
            break; /* cut short: the unsealed tail */
        if ((e = jg_audit_pread(fd, buf, f.stored, pos + JG_REC_FRAME_LEN)) !=
            1) {
            AT(w, pos, "%" PRIu64 ": %s", pos,
               e == 0 ? "file shrank while read" : strerror(errno));
            goto out;
        }
        if ((f.type == JG_REC_HEADER) != (pos == sizeof(magic))) {
            AT(w, pos, "%" PRIu64 ": %s", pos,
               f.type == JG_REC_HEADER ? "a second header"
                                       : "the first frame is not the header");
            goto out;
        }
        if (f.type == JG_REC_SEAL) {
            if (!check_seal(w, pos, buf, f.stored))
                goto out;
            w->st->checkpoints++;
            w->st->sealed = pos + JG_REC_FRAME_LEN + f.stored;
        } else if (f.type == JG_REC_DATA) {
            w->raw += f.raw;
        }
        EVP_DigestUpdate(w->sha, head, sizeof(head));
        EVP_DigestUpdate(w->sha, buf, f.stored);
        pos += JG_REC_FRAME_LEN + f.stored;
    }
    if (w->st->checkpoints == 0) {
        w->st->seal_missing = true;
        AT(w, pos, "%" PRIu64 ": no seal: nothing proves this recording",
           w->st->sealed);
    } else if (w->st->sealed < size) {
        AT(w, w->st->sealed, "%" PRIu64 ": unsealed tail of %" PRIu64
           " bytes after seal %" PRIu64 " (not proven: cut short by a crash, "
           "truncated, or still being written)", w->st->sealed,
           size - w->st->sealed,
           w->seq);
    } else if (!w->st->final) {
        AT(w, size, "%" PRIu64 ": no final seal after seal %" PRIu64
           " (truncated, or still being written)", size, w->seq);
    }
out:
    free(buf);
}

/* Reads every record, so that sealed bytes that cannot be read show. */
static void
read_through(struct walk *w)
{
    struct jg_audit_recr *r = NULL;
    struct jg_audit_recr_ev ev;
    char err[512];
    int e;

    if (jg_audit_recr_open(w->path, &r, err, sizeof(err)) != 0) {
        jg_diags_add(w->d, w->path, 0, 0, "%s", err);
        return;
    }
    if (strcmp(jg_audit_recr_header(r)->session ? jg_audit_recr_header(r)
                                                        ->session
                                                  : "",
               w->id) != 0)
        jg_diags_add(w->d, w->path, 0, 0, "header names session %s, not %s",
                     jg_audit_recr_header(r)->session
                         ? jg_audit_recr_header(r)->session
                         : "(none)",
                     w->id);
    while ((e = jg_audit_recr_next(r, &ev)) == 1)
        ;
    if (e < 0)
        jg_diags_add(w->d, w->path, 0, 0, "%s", jg_audit_recr_error(r));
    jg_audit_recr_free(r);
}

int
jg_audit_verify_jgr(const char *path, const char *id,
                    const struct jg_audit_key *key,
                    struct jg_audit_cast_status *st, struct jg_diags *d)
{
    struct walk w = {.path = path, .id = id, .key = key, .d = d, .st = st,
                     .last_t = INT64_MIN};
    struct stat sb;
    size_t before = d->n;
    int fd, r = JG_ERR_INTERNAL;

    memset(st, 0, sizeof(*st));
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return errno == ENOENT ? JG_ERR_NOTFOUND : JG_ERR_IO;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return JG_ERR_IO;
    }
    st->size = (uint64_t)sb.st_size;
    if ((w.sha = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestInit_ex(w.sha, EVP_sha256(), NULL) != 1)
        goto out;
    walk_frames(&w, fd, st->size);
    if (d->n == before)
        read_through(&w);
    r = d->n == before ? 0 : JG_ERR_INVALID;
out:
    EVP_MD_CTX_free(w.sha);
    close(fd);
    return r;
}

int
jg_audit_verify_rec(const char *path, const char *id,
                    const struct jg_audit_key *key,
                    struct jg_audit_cast_status *st, struct jg_diags *d)
{
    size_t n = strlen(path);
    char *seal;
    int r;

    if (n > 5 && strcmp(path + n - 5, ".cast") == 0) {
        seal = jg_xasprintf("%s.seal", path);
        r = jg_audit_verify_cast(path, seal, id, key, st, d);
        free(seal);
        return r;
    }
    return jg_audit_verify_jgr(path, id, key, st, d);
}
