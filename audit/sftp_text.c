/* SPDX-License-Identifier: Apache-2.0 */
/* audit/sftp_text.c - names and event-log members of SFTP events:
 * event types, open flags and status codes as text, and the JSON members
 * an sftp.* line carries. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/internal.h"

static const char *const types[JG_AUDIT_SFTP_KIND_MAX] = {
    [JG_AUDIT_SFTP_OPEN] = "sftp.open",
    [JG_AUDIT_SFTP_CLOSE] = "sftp.close",
    [JG_AUDIT_SFTP_REMOVE] = "sftp.remove",
    [JG_AUDIT_SFTP_RENAME] = "sftp.rename",
    [JG_AUDIT_SFTP_MKDIR] = "sftp.mkdir",
    [JG_AUDIT_SFTP_RMDIR] = "sftp.rmdir",
    [JG_AUDIT_SFTP_SETSTAT] = "sftp.setstat",
    [JG_AUDIT_SFTP_OPENDIR] = "sftp.opendir",
    [JG_AUDIT_SFTP_ERROR] = "sftp.error",
    [JG_AUDIT_SFTP_SYMLINK] = "sftp.symlink",
    [JG_AUDIT_SFTP_LINK] = "sftp.link",
    [JG_AUDIT_SFTP_COPY] = "sftp.copy",
    [JG_AUDIT_SFTP_EXTENDED] = "sftp.extended",
};

const char *
jg_audit_sftp_type(enum jg_audit_sftp_kind kind)
{
    if ((int)kind <= 0 || kind >= JG_AUDIT_SFTP_KIND_MAX)
        return NULL;
    return types[kind];
}

void
jg_audit_sftp_flags_text(uint32_t pflags, char *buf, size_t n)
{
    /* SSH_FXF_* of draft-ietf-secsh-filexfer-02 section 6.3. */
    static const char *const names[] = {"read", "write", "append",
                                        "creat", "trunc", "excl"};
    size_t i, len = 0;
    uint32_t known = (1u << 6) - 1;

    if (n == 0)
        return;
    buf[0] = '\0';
    if (pflags == 0) {
        snprintf(buf, n, "none");
        return;
    }
    for (i = 0; i < 6; i++) {
        if ((pflags & (1u << i)) == 0)
            continue;
        len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%s",
                                len > 0 ? "," : "", names[i]);
        if (len >= n)
            return;
    }
    if ((pflags & ~known) != 0)
        snprintf(buf + len, n - len, "%s0x%x", len > 0 ? "," : "",
                 (unsigned)(pflags & ~known));
}

void
jg_audit_sftp_status_text(int32_t status, char *buf, size_t n)
{
    /* SSH_FX_* of draft-ietf-secsh-filexfer-02 section 7. */
    static const char *const names[] = {
        "ok", "eof", "no_such_file", "permission_denied", "failure",
        "bad_message", "no_connection", "connection_lost", "op_unsupported"};

    if (status >= 0 && (size_t)status < sizeof(names) / sizeof(names[0]))
        snprintf(buf, n, "%s", names[status]);
    else if (status == JG_AUDIT_SFTP_ST_NO_REPLY)
        snprintf(buf, n, "no_reply");
    else if (status == JG_AUDIT_SFTP_ST_UNCLOSED)
        snprintf(buf, n, "unclosed");
    else if (status == JG_AUDIT_SFTP_ST_UNKNOWN)
        snprintf(buf, n, "unknown");
    else
        snprintf(buf, n, "status_%ld", (long)status);
}

static void
set_attrs(json_t *o, const struct jg_audit_sftp_attrs *a)
{
    char mode[16];

    if (a->flags & JG_AUDIT_SFTP_ATTR_PERMISSIONS) {
        snprintf(mode, sizeof(mode), "%04o", (unsigned)(a->perm & 07777));
        json_object_set_new(o, "mode", json_string(mode));
    }
    if (a->flags & JG_AUDIT_SFTP_ATTR_SIZE)
        json_object_set_new(o, "size", json_integer((json_int_t)(
                                           a->size > INT64_MAX ? INT64_MAX
                                                               : a->size)));
    if (a->flags & JG_AUDIT_SFTP_ATTR_UIDGID) {
        json_object_set_new(o, "uid", json_integer(a->uid));
        json_object_set_new(o, "gid", json_integer(a->gid));
    }
    if (a->flags & JG_AUDIT_SFTP_ATTR_ACMODTIME) {
        json_object_set_new(o, "atime", json_integer(a->atime));
        json_object_set_new(o, "mtime", json_integer(a->mtime));
    }
}

static json_int_t
count(uint64_t v)
{
    return v > INT64_MAX ? INT64_MAX : (json_int_t)v;
}

json_t *
jg_audit_sftp_event_json(const struct jg_audit_sftp_event *ev)
{
    json_t *o = json_object();
    char buf[128];

    if (ev->kind == JG_AUDIT_SFTP_ERROR)
        return o;
    if (ev->kind == JG_AUDIT_SFTP_EXTENDED) {
        json_object_set_new(o, "request", jg_audit_jstr(ev->request));
    } else {
        json_object_set_new(o, "path", jg_audit_jstr(ev->path));
        if (ev->kind == JG_AUDIT_SFTP_RENAME ||
            ev->kind == JG_AUDIT_SFTP_SYMLINK ||
            ev->kind == JG_AUDIT_SFTP_LINK || ev->kind == JG_AUDIT_SFTP_COPY)
            json_object_set_new(o, "to", jg_audit_jstr(ev->to));
    }
    if (ev->truncated)
        json_object_set_new(o, "truncated", json_true());
    if (ev->kind == JG_AUDIT_SFTP_OPEN) {
        jg_audit_sftp_flags_text(ev->pflags, buf, sizeof(buf));
        json_object_set_new(o, "flags", json_string(buf));
    }
    if (ev->kind == JG_AUDIT_SFTP_OPEN || ev->kind == JG_AUDIT_SFTP_MKDIR ||
        ev->kind == JG_AUDIT_SFTP_SETSTAT)
        set_attrs(o, &ev->attrs);
    if (ev->kind == JG_AUDIT_SFTP_CLOSE) {
        json_object_set_new(o, "bytes_read", json_integer(count(ev->bytes_read)));
        json_object_set_new(o, "bytes_written",
                            json_integer(count(ev->bytes_written)));
    }
    if (ev->kind == JG_AUDIT_SFTP_COPY)
        json_object_set_new(o, "length", json_integer(count(ev->length)));
    jg_audit_sftp_status_text(ev->status, buf, sizeof(buf));
    json_object_set_new(o, "status", json_string(buf));
    return o;
}
