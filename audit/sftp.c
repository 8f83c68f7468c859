/* SPDX-License-Identifier: Apache-2.0 */
/* audit/sftp.c - a streaming parser of SFTP version 3
 * (draft-ietf-secsh-filexfer-02) for the audit: frames both directions of
 * a channel fed in arbitrary chunks, keeps only packet heads, pairs
 * requests with replies by id and reports opens, closes with byte counts,
 * removals, renames, links, copies, directory and attribute changes and
 * unknown extended requests (audit.h). It accepts what OpenSSH's
 * sftp-server accepts, a repeated INIT among it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

/* Packet types (section 3) and the few constants we read. */
#define FXP_INIT 1
#define FXP_VERSION 2
#define FXP_OPEN 3
#define FXP_CLOSE 4
#define FXP_READ 5
#define FXP_WRITE 6
#define FXP_SETSTAT 9
#define FXP_FSETSTAT 10
#define FXP_OPENDIR 11
#define FXP_REMOVE 13
#define FXP_MKDIR 14
#define FXP_RMDIR 15
#define FXP_RENAME 18
#define FXP_SYMLINK 20
#define FXP_STATUS 101
#define FXP_HANDLE 102
#define FXP_DATA 103
#define FXP_EXTENDED 200
#define FXP_EXTENDED_REPLY 201
#define SFTP_VERSION 3

/* Heads kept: type + id + handle (+ offset + data length for WRITE). */
#define HEAD_ID 5u
#define HEAD_STATUS 9u
#define HEAD_HANDLE (9u + JG_AUDIT_SFTP_HANDLE_MAX)
#define HEAD_WRITE (HEAD_HANDLE + 8u + 4u)

/* What a tracked request was. */
enum op {
    OP_OPEN = 1, OP_OPENDIR, OP_CLOSE, OP_READ, OP_WRITE, OP_REMOVE,
    OP_RENAME, OP_MKDIR, OP_RMDIR, OP_SETSTAT, OP_FSETSTAT, OP_SYMLINK,
    OP_LINK, OP_COPY, OP_EXTENDED
};

struct req {
    bool used;
    uint32_t id;
    enum op op;
    uint64_t age;                  /* order of arrival, for eviction */
    char *path, *to;               /* owned */
    char *name;                    /* EXTENDED: the request's name, owned */
    bool truncated;
    uint32_t pflags;
    struct jg_audit_sftp_attrs attrs;
    uint64_t handle;               /* serial of its handle, 0 none */
    uint64_t wlen;                 /* WRITE: data bytes; COPY: length */
};

struct handle {
    uint64_t serial;               /* 0: free slot; else order of opening */
    size_t len;
    uint8_t h[JG_AUDIT_SFTP_HANDLE_MAX];
    char *path;                    /* owned */
    bool truncated, dir;
    uint64_t rd, wr;
};

/* Framing state of one direction. */
struct stream {
    uint8_t hdr[4];
    unsigned nhdr;                 /* length bytes seen of the packet */
    uint32_t plen;                 /* its length (after the length field) */
    uint32_t done;                 /* bytes of it consumed */
    uint32_t keep;                 /* bytes of its head kept in buf */
    uint8_t buf[JG_AUDIT_SFTP_KEEP];
};

struct jg_audit_sftp {
    jg_audit_sftp_cb cb;
    void *arg;
    struct stream in, out;         /* from the client, from the server */
    uint64_t inits, versions;      /* INITs sent, VERSIONs that answered */
    bool failed, finished;
    char error[256];               /* why it failed */
    struct req reqs[JG_AUDIT_SFTP_MAX_REQS];
    size_t n_reqs;
    struct handle handles[JG_AUDIT_SFTP_MAX_HANDLES];
    uint64_t next_age, next_serial;
    struct jg_audit_sftp_stats st;
};

/* ---- a bounded reader over a packet head -------------------------------- */

enum { RD_OK = 0, RD_CUT = 1, RD_BAD = -1 };

struct rd {
    const uint8_t *p;
    size_t avail;                  /* bytes of the packet kept */
    size_t total;                  /* bytes of the packet */
    size_t pos;
};

/* RD_BAD when k bytes would run past the packet, RD_CUT when past what was
 * kept of it. */
static int
rd_need(const struct rd *r, size_t k)
{
    if (r->pos > r->total || k > r->total - r->pos)
        return RD_BAD;
    if (r->pos > r->avail || k > r->avail - r->pos)
        return RD_CUT;
    return RD_OK;
}

static uint32_t
be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
           (uint32_t)b[2] << 8 | b[3];
}

static int
rd_u32(struct rd *r, uint32_t *v)
{
    int s = rd_need(r, 4);

    if (s == RD_OK) {
        *v = be32(r->p + r->pos);
        r->pos += 4;
    }
    return s;
}

static int
rd_u64(struct rd *r, uint64_t *v)
{
    int s = rd_need(r, 8);

    if (s == RD_OK) {
        *v = (uint64_t)be32(r->p + r->pos) << 32 | be32(r->p + r->pos + 4);
        r->pos += 8;
    }
    return s;
}

/* A string: *s its kept bytes (*have of its *n). RD_BAD when its length
 * runs past the packet. */
static int
rd_str(struct rd *r, const uint8_t **s, size_t *n, size_t *have)
{
    uint32_t len;
    int st;

    if ((st = rd_u32(r, &len)) != RD_OK)
        return st;
    if (len > r->total - r->pos)
        return RD_BAD;
    *s = r->p + r->pos;
    *n = len;
    *have = r->avail > r->pos ? r->avail - r->pos : 0;
    if (*have > len)
        *have = len;
    r->pos += len;
    return RD_OK;
}

/* A path: *out a cleaned copy of at most JG_AUDIT_SFTP_PATH_MAX bytes
 * (NULL when not even its length was kept); *trunc set when cut. */
static int
rd_path(struct rd *r, char **out, bool *trunc)
{
    const uint8_t *s;
    size_t n, have;
    int st = rd_str(r, &s, &n, &have);

    if (st == RD_CUT)
        *trunc = true;
    if (st != RD_OK)
        return st;
    if (have > JG_AUDIT_SFTP_PATH_MAX)
        have = JG_AUDIT_SFTP_PATH_MAX;
    if (have < n)
        *trunc = true;
    *out = jg_audit_utf8_clean((const char *)s, have);
    return RD_OK;
}

/* File attributes (section 5); the extended pairs at the end are not
 * needed. Members are set as far as they were kept. */
static int
rd_attrs(struct rd *r, struct jg_audit_sftp_attrs *a)
{
    uint32_t fl;
    int st;

    memset(a, 0, sizeof(*a));
    if ((st = rd_u32(r, &fl)) != RD_OK)
        return st;
    if ((fl & JG_AUDIT_SFTP_ATTR_SIZE) != 0) {
        if ((st = rd_u64(r, &a->size)) != RD_OK)
            return st;
        a->flags |= JG_AUDIT_SFTP_ATTR_SIZE;
    }
    if ((fl & JG_AUDIT_SFTP_ATTR_UIDGID) != 0) {
        if ((st = rd_u32(r, &a->uid)) != RD_OK ||
            (st = rd_u32(r, &a->gid)) != RD_OK)
            return st;
        a->flags |= JG_AUDIT_SFTP_ATTR_UIDGID;
    }
    if ((fl & JG_AUDIT_SFTP_ATTR_PERMISSIONS) != 0) {
        if ((st = rd_u32(r, &a->perm)) != RD_OK)
            return st;
        a->flags |= JG_AUDIT_SFTP_ATTR_PERMISSIONS;
    }
    if ((fl & JG_AUDIT_SFTP_ATTR_ACMODTIME) != 0) {
        if ((st = rd_u32(r, &a->atime)) != RD_OK ||
            (st = rd_u32(r, &a->mtime)) != RD_OK)
            return st;
        a->flags |= JG_AUDIT_SFTP_ATTR_ACMODTIME;
    }
    return RD_OK;
}

/* ---- events -------------------------------------------------------------- */

static void
emit(struct jg_audit_sftp *p, const struct jg_audit_sftp_event *ev)
{
    if (p->cb != NULL)
        p->cb(ev, p->arg);
}

static void JG_PRINTF(3, 4)
fail(struct jg_audit_sftp *p, bool from_client, const char *fmt, ...)
{
    struct jg_audit_sftp_event ev = {.kind = JG_AUDIT_SFTP_ERROR,
                                     .status = JG_AUDIT_SFTP_ST_UNKNOWN};
    char *msg = p->error;
    int n;
    va_list ap;

    if (p->failed)
        return;
    p->failed = true;
    n = snprintf(msg, sizeof(p->error), "%s packet %llu: ",
                 from_client ? "client" : "server",
                 (unsigned long long)(from_client ? p->st.packets_in
                                                  : p->st.packets_out));
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(p->error) - (size_t)n, fmt, ap);
    va_end(ap);
    ev.error = msg;
    emit(p, &ev);
}

/* ---- requests and handles ------------------------------------------------ */

static void req_flush(struct jg_audit_sftp *p, struct req *r, int32_t status);
static void close_handle(struct jg_audit_sftp *p, struct handle *h,
                         int32_t status);

static void
req_clear(struct jg_audit_sftp *p, struct req *r)
{
    free(r->path);
    free(r->to);
    free(r->name);
    memset(r, 0, sizeof(*r));
    p->n_reqs--;
}

static struct req *
req_find(struct jg_audit_sftp *p, uint32_t id)
{
    size_t i;

    for (i = 0; i < JG_AUDIT_SFTP_MAX_REQS; i++)
        if (p->reqs[i].used && p->reqs[i].id == id)
            return &p->reqs[i];
    return NULL;
}

/* A fresh entry for request id: one with the same id (a client that
 * reuses ids early) or, when the table is full, the oldest is dropped,
 * its event given with an unknown status. */
static struct req *
req_add(struct jg_audit_sftp *p, uint32_t id, enum op op)
{
    struct req *r = req_find(p, id), *oldest = NULL;
    size_t i;

    if (r != NULL) {
        p->st.dropped_requests++;
        req_flush(p, r, JG_AUDIT_SFTP_ST_UNKNOWN);
    } else if (p->n_reqs == JG_AUDIT_SFTP_MAX_REQS) {
        for (i = 0; i < JG_AUDIT_SFTP_MAX_REQS; i++)
            if (oldest == NULL || p->reqs[i].age < oldest->age)
                oldest = &p->reqs[i];
        p->st.dropped_requests++;
        req_flush(p, oldest, JG_AUDIT_SFTP_ST_UNKNOWN);
        r = oldest;
    } else {
        for (i = 0; i < JG_AUDIT_SFTP_MAX_REQS && r == NULL; i++)
            if (!p->reqs[i].used)
                r = &p->reqs[i];
    }
    r->used = true;
    r->id = id;
    r->op = op;
    r->age = ++p->next_age;
    p->n_reqs++;
    return r;
}

static struct handle *
handle_find(struct jg_audit_sftp *p, const uint8_t *h, size_t len)
{
    size_t i;

    for (i = 0; i < JG_AUDIT_SFTP_MAX_HANDLES; i++) {
        struct handle *x = &p->handles[i];
        if (x->serial != 0 && x->len == len && memcmp(x->h, h, len) == 0)
            return x;
    }
    return NULL;
}

static struct handle *
handle_by_serial(struct jg_audit_sftp *p, uint64_t serial)
{
    size_t i;

    for (i = 0; serial != 0 && i < JG_AUDIT_SFTP_MAX_HANDLES; i++)
        if (p->handles[i].serial == serial)
            return &p->handles[i];
    return NULL;
}

static void
handle_clear(struct handle *x)
{
    free(x->path);
    memset(x, 0, sizeof(*x));
}

/* A slot for a new handle: the same handle (the server reused it while we
 * thought it open), a free one, or the oldest, dropped (its sftp.close
 * given with an unknown status). */
static struct handle *
handle_add(struct jg_audit_sftp *p, const uint8_t *h, size_t len)
{
    struct handle *x = handle_find(p, h, len), *oldest = NULL;
    size_t i;

    for (i = 0; x == NULL && i < JG_AUDIT_SFTP_MAX_HANDLES; i++)
        if (p->handles[i].serial == 0)
            x = &p->handles[i];
    if (x == NULL) {
        for (i = 0; i < JG_AUDIT_SFTP_MAX_HANDLES; i++)
            if (oldest == NULL || p->handles[i].serial < oldest->serial)
                oldest = &p->handles[i];
        x = oldest;
    }
    if (x->serial != 0) {
        p->st.dropped_handles++;
        close_handle(p, x, JG_AUDIT_SFTP_ST_UNKNOWN);
    }
    x->serial = ++p->next_serial;
    x->len = len;
    memcpy(x->h, h, len);
    return x;
}

/* ---- replies --------------------------------------------------------- */

static enum jg_audit_sftp_kind
kind_of(enum op op)
{
    switch (op) {
    case OP_OPEN:
        return JG_AUDIT_SFTP_OPEN;
    case OP_OPENDIR:
        return JG_AUDIT_SFTP_OPENDIR;
    case OP_CLOSE:
        return JG_AUDIT_SFTP_CLOSE;
    case OP_REMOVE:
        return JG_AUDIT_SFTP_REMOVE;
    case OP_RENAME:
        return JG_AUDIT_SFTP_RENAME;
    case OP_MKDIR:
        return JG_AUDIT_SFTP_MKDIR;
    case OP_RMDIR:
        return JG_AUDIT_SFTP_RMDIR;
    case OP_SETSTAT:
    case OP_FSETSTAT:
        return JG_AUDIT_SFTP_SETSTAT;
    case OP_SYMLINK:
        return JG_AUDIT_SFTP_SYMLINK;
    case OP_LINK:
        return JG_AUDIT_SFTP_LINK;
    case OP_COPY:
        return JG_AUDIT_SFTP_COPY;
    case OP_EXTENDED:
        return JG_AUDIT_SFTP_EXTENDED;
    default:
        return 0;
    }
}

/* The event of a request that named a path (or a handle, FSETSTAT). */
static void
emit_req(struct jg_audit_sftp *p, const struct req *r, int32_t status)
{
    const struct handle *h = handle_by_serial(p, r->handle);
    struct jg_audit_sftp_event ev = {
        .kind = kind_of(r->op), .path = r->path, .to = r->to,
        .request = r->name, .truncated = r->truncated, .pflags = r->pflags,
        .attrs = r->attrs, .status = status};

    if (r->op == OP_COPY)
        ev.length = r->wlen;
    if (r->op == OP_FSETSTAT && h != NULL) {
        ev.path = h->path;
        ev.truncated = h->truncated;
    }
    emit(p, &ev);
}

/* The end of a file handle: its sftp.close; then the slot is free. */
static void
close_handle(struct jg_audit_sftp *p, struct handle *h, int32_t status)
{
    struct jg_audit_sftp_event ev = {
        .kind = JG_AUDIT_SFTP_CLOSE, .path = h->path,
        .truncated = h->truncated, .bytes_read = h->rd,
        .bytes_written = h->wr, .status = status};

    if (!h->dir)
        emit(p, &ev);
    handle_clear(h);
}

static void
on_status(struct jg_audit_sftp *p, struct req *r, uint32_t code)
{
    struct handle *h = handle_by_serial(p, r->handle);
    int32_t st = code > INT32_MAX ? INT32_MAX : (int32_t)code;

    switch (r->op) {
    case OP_READ:
        break;
    case OP_WRITE:
        if (code == 0 && h != NULL)
            h->wr += r->wlen;
        break;
    case OP_CLOSE:
        if (h != NULL)
            close_handle(p, h, st);
        break;
    default:
        emit_req(p, r, st);
        break;
    }
    req_clear(p, r);
}

static void
on_handle(struct jg_audit_sftp *p, struct req *r, const uint8_t *hb,
          size_t len)
{
    struct handle *h;

    if (r->op == OP_OPEN || r->op == OP_OPENDIR) {
        emit_req(p, r, 0);
        h = handle_add(p, hb, len);
        h->path = r->path;
        r->path = NULL;
        h->truncated = r->truncated;
        h->dir = r->op == OP_OPENDIR;
    }
    req_clear(p, r);
}

/* A request whose reply will not be seen (the channel ended, or its entry
 * is dropped): its event with status, or for a CLOSE its handle's; then
 * the entry is free. READ and WRITE only counted, so they say nothing. */
static void
req_flush(struct jg_audit_sftp *p, struct req *r, int32_t status)
{
    struct handle *h;

    if (r->op == OP_CLOSE) {
        if ((h = handle_by_serial(p, r->handle)) != NULL)
            close_handle(p, h, status);
    } else if (r->op != OP_READ && r->op != OP_WRITE) {
        emit_req(p, r, status);
    }
    req_clear(p, r);
}

/* ---- packets ------------------------------------------------------------- */

static const char *
pname(uint8_t type)
{
    switch (type) {
    case FXP_OPEN:
        return "SSH_FXP_OPEN";
    case FXP_CLOSE:
        return "SSH_FXP_CLOSE";
    case FXP_READ:
        return "SSH_FXP_READ";
    case FXP_WRITE:
        return "SSH_FXP_WRITE";
    case FXP_SETSTAT:
        return "SSH_FXP_SETSTAT";
    case FXP_FSETSTAT:
        return "SSH_FXP_FSETSTAT";
    case FXP_OPENDIR:
        return "SSH_FXP_OPENDIR";
    case FXP_REMOVE:
        return "SSH_FXP_REMOVE";
    case FXP_MKDIR:
        return "SSH_FXP_MKDIR";
    case FXP_RMDIR:
        return "SSH_FXP_RMDIR";
    case FXP_RENAME:
        return "SSH_FXP_RENAME";
    case FXP_SYMLINK:
        return "SSH_FXP_SYMLINK";
    case FXP_STATUS:
        return "SSH_FXP_STATUS";
    case FXP_HANDLE:
        return "SSH_FXP_HANDLE";
    case FXP_DATA:
        return "SSH_FXP_DATA";
    case FXP_EXTENDED:
        return "SSH_FXP_EXTENDED";
    case FXP_EXTENDED_REPLY:
        return "SSH_FXP_EXTENDED_REPLY";
    default:
        return "packet";
    }
}

static bool
str_is(const uint8_t *s, size_t n, size_t have, const char *lit)
{
    return have == n && n == strlen(lit) && memcmp(s, lit, n) == 0;
}

/* Requests with a handle: the handle's serial in *serial (0 when unknown).
 * RD_BAD / RD_CUT as the reader says. */
static int
rd_handle(struct jg_audit_sftp *p, struct rd *r, uint64_t *serial)
{
    const uint8_t *s;
    size_t n, have;
    const struct handle *h;
    int st;

    *serial = 0;
    if ((st = rd_str(r, &s, &n, &have)) != RD_OK)
        return st;
    if (have == n && n <= JG_AUDIT_SFTP_HANDLE_MAX &&
        (h = handle_find(p, s, n)) != NULL)
        *serial = h->serial;
    return RD_OK;
}

/* A handle naming a file for an event: a copy of its path in *path (NULL
 * when the handle is not tracked), *trunc set when that path was cut. */
static int
rd_handle_path(struct jg_audit_sftp *p, struct rd *r, char **path,
               bool *trunc)
{
    const struct handle *h;
    uint64_t serial;
    int st = rd_handle(p, r, &serial);

    if (st == RD_OK && (h = handle_by_serial(p, serial)) != NULL &&
        h->path != NULL) {
        *path = jg_xstrdup(h->path);
        *trunc |= h->truncated;
    }
    return st;
}

/* Extended requests (PROTOCOL of openssh-portable, and the names its
 * sftp-server answers) that only read or flush: not reported. */
static bool
ext_harmless(const uint8_t *s, size_t n, size_t have)
{
    static const char *const names[] = {
        "statvfs@openssh.com", "fstatvfs@openssh.com", "fsync@openssh.com",
        "limits@openssh.com", "expand-path@openssh.com", "home-directory",
        "users-groups-by-id@openssh.com"};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (str_is(s, n, have, names[i]))
            return true;
    return false;
}

/* An extended request: *op what it is (0: not reported) and its fields. */
static int
rd_extended(struct jg_audit_sftp *p, struct rd *r, enum op *op,
            struct req *q)
{
    const uint8_t *s;
    size_t n, have;
    uint64_t off;
    int st;

    if ((st = rd_str(r, &s, &n, &have)) != RD_OK)
        return st;
    if (str_is(s, n, have, "posix-rename@openssh.com")) {
        *op = OP_RENAME;
        if ((st = rd_path(r, &q->path, &q->truncated)) == RD_OK)
            st = rd_path(r, &q->to, &q->truncated);
    } else if (str_is(s, n, have, "lsetstat@openssh.com")) {
        *op = OP_SETSTAT;
        if ((st = rd_path(r, &q->path, &q->truncated)) == RD_OK)
            st = rd_attrs(r, &q->attrs);
    } else if (str_is(s, n, have, "hardlink@openssh.com")) {
        /* link(2) of the first path as the second */
        *op = OP_LINK;
        if ((st = rd_path(r, &q->to, &q->truncated)) == RD_OK)
            st = rd_path(r, &q->path, &q->truncated);
    } else if (str_is(s, n, have, "copy-data")) {
        /* read handle, offset, length; write handle, offset */
        *op = OP_COPY;
        if ((st = rd_handle_path(p, r, &q->path, &q->truncated)) == RD_OK &&
            (st = rd_u64(r, &off)) == RD_OK &&
            (st = rd_u64(r, &q->wlen)) == RD_OK &&
            (st = rd_handle_path(p, r, &q->to, &q->truncated)) == RD_OK)
            st = rd_u64(r, &off);
        if (st == RD_CUT)
            q->truncated = true; /* handles longer than any tracked */
    } else if (!ext_harmless(s, n, have)) {
        *op = OP_EXTENDED;
        if (have > JG_AUDIT_SFTP_NAME_MAX)
            have = JG_AUDIT_SFTP_NAME_MAX;
        q->truncated = have < n;
        q->name = jg_audit_utf8_clean((const char *)s, have);
    }
    return st;
}

/* A request from the client. */
static void
client_packet(struct jg_audit_sftp *p, const uint8_t *b, size_t avail,
              size_t total)
{
    struct rd r = {b, avail, total, 1};
    const uint8_t *s;
    struct req *q, t = {0};        /* t: the fields, until it is tracked */
    uint8_t type = b[0];
    uint32_t id;
    uint64_t off;
    size_t n = 0, have;
    enum op op = 0;
    int st = RD_OK;

    p->st.packets_in++;
    if (p->inits == 0 && type != FXP_INIT) {
        fail(p, true, "type %u where SSH_FXP_INIT must come first", type);
        return;
    }
    if (type == FXP_INIT) {
        /* sftp-server answers every INIT with a VERSION and carries on,
         * its handles still open. */
        p->inits++;
        return;
    }
    if (rd_u32(&r, &id) != RD_OK) /* total >= 5 and avail >= 5 */
        return;
    switch (type) {
    case FXP_OPEN:
        op = OP_OPEN;
        if ((st = rd_path(&r, &t.path, &t.truncated)) == RD_OK &&
            (st = rd_u32(&r, &t.pflags)) == RD_OK)
            st = rd_attrs(&r, &t.attrs);
        break;
    case FXP_OPENDIR:
    case FXP_REMOVE:
    case FXP_RMDIR:
        op = type == FXP_OPENDIR ? OP_OPENDIR
             : type == FXP_REMOVE ? OP_REMOVE : OP_RMDIR;
        st = rd_path(&r, &t.path, &t.truncated);
        break;
    case FXP_MKDIR:
    case FXP_SETSTAT:
        op = type == FXP_MKDIR ? OP_MKDIR : OP_SETSTAT;
        if ((st = rd_path(&r, &t.path, &t.truncated)) == RD_OK)
            st = rd_attrs(&r, &t.attrs);
        break;
    case FXP_RENAME:
        op = OP_RENAME;
        if ((st = rd_path(&r, &t.path, &t.truncated)) == RD_OK)
            st = rd_path(&r, &t.to, &t.truncated);
        break;
    case FXP_SYMLINK:
        /* OpenSSH's order (not the draft's): the target, then the link. */
        op = OP_SYMLINK;
        if ((st = rd_path(&r, &t.to, &t.truncated)) == RD_OK)
            st = rd_path(&r, &t.path, &t.truncated);
        break;
    case FXP_EXTENDED:
        st = rd_extended(p, &r, &op, &t);
        break;
    case FXP_FSETSTAT:
        op = OP_FSETSTAT;
        if ((st = rd_handle(p, &r, &t.handle)) == RD_OK)
            st = rd_attrs(&r, &t.attrs);
        break;
    case FXP_CLOSE:
    case FXP_READ:
    case FXP_WRITE:
        op = type == FXP_CLOSE ? OP_CLOSE
             : type == FXP_READ ? OP_READ : OP_WRITE;
        if ((st = rd_handle(p, &r, &t.handle)) != RD_OK)
            break;
        if (type == FXP_WRITE &&
            ((st = rd_u64(&r, &off)) != RD_OK ||
             (st = rd_str(&r, &s, &n, &have)) != RD_OK))
            break;
        t.wlen = n;
        if (t.handle == 0)
            op = 0; /* a handle we do not know: nothing to count */
        break;
    default:
        break;
    }
    if (st == RD_BAD) {
        fail(p, true, "%s: a field runs past the end of the %zu-byte packet",
             pname(type), total);
        op = 0;
    }
    if (st == RD_CUT && (op == OP_READ || op == OP_WRITE || op == OP_CLOSE))
        op = 0; /* a handle longer than any we track */
    if (op == 0) {
        free(t.path);
        free(t.to);
        free(t.name);
        return;
    }
    q = req_add(p, id, op);
    q->path = t.path;
    q->to = t.to;
    q->name = t.name;
    q->truncated = t.truncated;
    q->pflags = t.pflags;
    q->attrs = t.attrs;
    q->handle = t.handle;
    q->wlen = t.wlen;
}

/* A reply from the server. */
static void
server_packet(struct jg_audit_sftp *p, const uint8_t *b, size_t avail,
              size_t total)
{
    struct rd r = {b, avail, total, 1};
    const uint8_t *s;
    struct req *q;
    uint8_t type = b[0];
    uint32_t id, v;
    size_t n, have;

    p->st.packets_out++;
    if (p->versions == 0 && type != FXP_VERSION) {
        fail(p, false, "type %u where SSH_FXP_VERSION must come first", type);
        return;
    }
    if (type == FXP_VERSION) {
        /* One per INIT (a client's bytes are fed before the reply). */
        if (p->versions >= p->inits)
            fail(p, false, "SSH_FXP_VERSION answers no SSH_FXP_INIT");
        else if (rd_u32(&r, &v) != RD_OK)
            fail(p, false, "SSH_FXP_VERSION without a version");
        else if (v != SFTP_VERSION)
            fail(p, false, "the server speaks SFTP version %u; only version "
                           "3 is parsed", v);
        p->versions++;
        return;
    }
    if (type == FXP_EXTENDED_REPLY) {
        /* the success of an extended request */
        if (rd_u32(&r, &id) == RD_OK && (q = req_find(p, id)) != NULL &&
            q->op == OP_EXTENDED)
            on_status(p, q, 0);
        return;
    }
    if (type != FXP_STATUS && type != FXP_HANDLE && type != FXP_DATA)
        return; /* NAME, ATTRS: nothing we track */
    if (rd_u32(&r, &id) != RD_OK)
        return;
    if (type == FXP_STATUS) {
        if (rd_u32(&r, &v) != RD_OK) {
            fail(p, false, "SSH_FXP_STATUS of %zu bytes has no code", total);
            return;
        }
        if ((q = req_find(p, id)) != NULL)
            on_status(p, q, v);
        return;
    }
    if (rd_str(&r, &s, &n, &have) != RD_OK) {
        fail(p, false, "%s: a field runs past the end of the %zu-byte packet",
             pname(type), total);
        return;
    }
    if (type == FXP_HANDLE && n > JG_AUDIT_SFTP_HANDLE_MAX) {
        fail(p, false, "SSH_FXP_HANDLE of %zu bytes (at most %u)", n,
             JG_AUDIT_SFTP_HANDLE_MAX);
        return;
    }
    if ((q = req_find(p, id)) == NULL)
        return;
    if (type == FXP_HANDLE) {
        on_handle(p, q, s, n);
    } else {
        struct handle *h = handle_by_serial(p, q->handle);
        if (q->op == OP_READ && h != NULL)
            h->rd += n;
        req_clear(p, q);
    }
}

/* How much of a packet's head is kept: what its fields up to the last one
 * we read need, never the data of WRITE and DATA. */
static uint32_t
keep_for(bool from_client, uint8_t type, uint32_t plen)
{
    uint32_t k;

    if (from_client)
        k = type == FXP_INIT ? HEAD_ID
            : type == FXP_WRITE ? HEAD_WRITE
            : type == FXP_READ || type == FXP_CLOSE ? HEAD_HANDLE
                                                    : JG_AUDIT_SFTP_KEEP;
    else
        k = type == FXP_HANDLE ? HEAD_HANDLE
            : type == FXP_STATUS || type == FXP_DATA ? HEAD_STATUS
                                                     : HEAD_ID;
    return k < plen ? k : plen;
}

static void
feed_stream(struct jg_audit_sftp *p, struct stream *s, bool from_client,
            const uint8_t *d, size_t len)
{
    size_t n, c;

    while (len > 0 && !p->failed) {
        if (s->nhdr < 4) {
            s->hdr[s->nhdr++] = *d++;
            len--;
            if (s->nhdr == 4) {
                s->plen = be32(s->hdr);
                s->done = 0;
                if (s->plen < HEAD_ID || s->plen > JG_AUDIT_SFTP_MAX_PACKET) {
                    if (from_client)
                        p->st.packets_in++;
                    else
                        p->st.packets_out++;
                    fail(p, from_client, "length %lu is not between %u and "
                         "%u", (unsigned long)s->plen, HEAD_ID,
                         JG_AUDIT_SFTP_MAX_PACKET);
                }
            }
            continue;
        }
        if (s->done == 0)
            s->keep = keep_for(from_client, d[0], s->plen);
        n = s->plen - s->done < len ? s->plen - s->done : len;
        if (s->done < s->keep) {
            c = s->keep - s->done < n ? s->keep - s->done : n;
            memcpy(s->buf + s->done, d, c);
        }
        s->done += (uint32_t)n;
        d += n;
        len -= n;
        if (s->done == s->plen) {
            s->nhdr = 0;
            if (from_client)
                client_packet(p, s->buf, s->keep, s->plen);
            else
                server_packet(p, s->buf, s->keep, s->plen);
        }
    }
}

/* ---- the public face ----------------------------------------------------- */

struct jg_audit_sftp *
jg_audit_sftp_new(jg_audit_sftp_cb cb, void *arg)
{
    struct jg_audit_sftp *p = jg_xcalloc(1, sizeof(*p));

    p->cb = cb;
    p->arg = arg;
    return p;
}

void
jg_audit_sftp_feed(struct jg_audit_sftp *p, bool from_client,
                   const void *data, size_t len)
{
    if (p == NULL || p->failed || p->finished || len == 0)
        return;
    feed_stream(p, from_client ? &p->in : &p->out, from_client, data, len);
}

void
jg_audit_sftp_finish(struct jg_audit_sftp *p)
{
    int32_t pending, open;
    size_t i;

    if (p == NULL || p->finished)
        return;
    p->finished = true;
    pending = p->failed ? JG_AUDIT_SFTP_ST_UNKNOWN : JG_AUDIT_SFTP_ST_NO_REPLY;
    open = p->failed ? JG_AUDIT_SFTP_ST_UNKNOWN : JG_AUDIT_SFTP_ST_UNCLOSED;
    /* Requests in the order they were made. */
    while (p->n_reqs > 0) {
        struct req *r = NULL;
        for (i = 0; i < JG_AUDIT_SFTP_MAX_REQS; i++)
            if (p->reqs[i].used && (r == NULL || p->reqs[i].age < r->age))
                r = &p->reqs[i];
        req_flush(p, r, pending);
    }
    /* Then the handles still open, in the order they were opened. */
    for (;;) {
        struct handle *h = NULL;
        for (i = 0; i < JG_AUDIT_SFTP_MAX_HANDLES; i++)
            if (p->handles[i].serial != 0 &&
                (h == NULL || p->handles[i].serial < h->serial))
                h = &p->handles[i];
        if (h == NULL)
            break;
        close_handle(p, h, open);
    }
}

bool
jg_audit_sftp_failed(const struct jg_audit_sftp *p)
{
    return p != NULL && p->failed;
}

const char *
jg_audit_sftp_error(const struct jg_audit_sftp *p)
{
    return p != NULL && p->failed ? p->error : NULL;
}

const struct jg_audit_sftp_stats *
jg_audit_sftp_stats(const struct jg_audit_sftp *p)
{
    return &p->st;
}

void
jg_audit_sftp_free(struct jg_audit_sftp *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < JG_AUDIT_SFTP_MAX_REQS; i++) {
        free(p->reqs[i].path);
        free(p->reqs[i].to);
        free(p->reqs[i].name);
    }
    for (i = 0; i < JG_AUDIT_SFTP_MAX_HANDLES; i++)
        free(p->handles[i].path);
    free(p);
}
