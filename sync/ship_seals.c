/* SPDX-License-Identifier: Apache-2.0 */
/* sync/ship_seals.c - each day's seal lines of the event log in S3, as
 * they are made: every shipping pass uploads PREFIXseals/YYYY-MM-DD.jsonl
 * again when that day has seal lines the last upload did not hold (the
 * day's seal lines, byte for byte, in order), so that the store keeps a
 * signed checkpoint of the log at most one pass old. `jumpgate audit
 * verify --against-s3` fetches them back and proves that the local log
 * still holds every shipped checkpoint: cutting lines off the log, even
 * right after a seal, shows. What was uploaded last for each day is kept in
 * audit.dir/ship/seals ("DAY COUNT SHA256" lines; the last one of a day
 * counts). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit/audit.h"
#include "sync/internal.h"

#define SEALS_MAX ((size_t)64 << 20)

/* The structural bytes of a seal line's start: a string value cannot hold
 * them unescaped. */
static const char seal_mark[] = ",\"type\":\"seal\",\"session\":";

static bool
is_seal_line(const char *line, size_t len)
{
    char err[256];
    json_t *o = NULL;
    bool yes;

    if (memmem(line, len, seal_mark, sizeof(seal_mark) - 1) == NULL)
        return false;
    if (jg_audit_event_parse(line, len, &o, err, sizeof(err)) != 0)
        return false;
    yes = strcmp(json_string_value(json_object_get(o, "type")), "seal") == 0;
    json_decref(o);
    return yes;
}

int
jg_sync_seal_lines(int audit_dfd, const char *day, char **out, size_t *len,
                   size_t *count)
{
    struct jg_audit_lr lr;
    GString *g = g_string_new(NULL);
    const char *line;
    char rel[40];
    size_t ll;
    bool nl;
    int fd, r;

    *out = NULL;
    *len = *count = 0;
    snprintf(rel, sizeof(rel), "events/%.10s.jsonl", day);
    if ((fd = openat(audit_dfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        g_string_free(g, TRUE);
        return errno == ENOENT ? JG_ERR_NOTFOUND : JG_ERR_IO;
    }
    jg_audit_lr_init(&lr, fd);
    while ((r = jg_audit_lr_next(&lr, &line, &ll, &nl)) != 0) {
        if (r == JG_ERR_TOOBIG)
            continue;
        if (r < 0)
            break;
        if (!nl || !is_seal_line(line, ll))
            continue;
        g_string_append_len(g, line, (gssize)ll);
        g_string_append_c(g, '\n');
        (*count)++;
    }
    jg_audit_lr_clear(&lr);
    close(fd);
    if (r < 0 && r != JG_ERR_TOOBIG) {
        g_string_free(g, TRUE);
        *count = 0;
        return r;
    }
    *len = g->len;
    *out = g_string_free(g, FALSE);
    return 0;
}

char *
jg_sync_seals_key(const char *prefix, const char *day)
{
    size_t n = prefix != NULL ? strlen(prefix) : 0;

    return jg_xasprintf("%s%sseals/%.10s.jsonl", n > 0 ? prefix : "",
                        n > 0 && prefix[n - 1] != '/' ? "/" : "", day);
}

static void
sha256_hex(const char *buf, size_t len, char out[65])
{
    static const char h[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int n = 0;
    int i;

    EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
    for (i = 0; i < 32; i++) {
        out[2 * i] = h[md[i] >> 4];
        out[2 * i + 1] = h[md[i] & 15];
    }
    out[64] = '\0';
}

/* What audit.dir/ship/seals says was uploaded last for day: the number
 * and SHA-256 of the seal lines ("" none) and the size the day file had
 * then. */
static void
last_upload(const char *state, size_t n, const char *day, size_t *count,
            char sha[65], uint64_t *size)
{
    const char *p = state, *end = state + n, *nl, *s;

    sha[0] = '\0';
    *count = 0;
    *size = UINT64_MAX;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            break;
        /* "YYYY-MM-DD COUNT SHA256 SIZE" */
        if (nl - p > 12 && memcmp(p, day, 10) == 0 && p[10] == ' ' &&
            (s = memchr(p + 11, ' ', (size_t)(nl - p - 11))) != NULL &&
            nl - s > 66 && s[65] == ' ') {
            *count = (size_t)strtoull(p + 11, NULL, 10);
            memcpy(sha, s + 1, 64);
            sha[64] = '\0';
            *size = strtoull(s + 66, NULL, 10);
        }
        p = nl + 1;
    }
}

/* Rewrites audit.dir/ship/seals with only the last entry of each day
 * (written to a temporary name, synced and renamed into place). */
static void
compact(int dfd, const char *state, size_t n, char **days, size_t n_days)
{
    char sha[65], entry[160];
    size_t i, count, len;
    uint64_t size;
    int fd;
    bool ok = true;

    fd = openat(dfd, "ship/seals.tmp", O_WRONLY | O_CREAT | O_TRUNC |
                                           O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0)
        return;
    for (i = 0; i < n_days && ok; i++) {
        last_upload(state, n, days[i], &count, sha, &size);
        if (sha[0] == '\0')
            continue;
        snprintf(entry, sizeof(entry), "%.10s %zu %s %" PRIu64 "\n", days[i],
                 count, sha, size);
        len = strlen(entry);
        ok = write(fd, entry, len) == (ssize_t)len;
    }
    ok = ok && fsync(fd) == 0;
    close(fd);
    if (!ok || renameat(dfd, "ship/seals.tmp", dfd, "ship/seals") != 0)
        unlinkat(dfd, "ship/seals.tmp", 0);
}

/* Appends "DAY COUNT SHA256 SIZE" to audit.dir/ship/seals. */
static int
remember(struct jg_sync *s, const struct jg_config *cfg, int sfd,
         const char *day, size_t count, const char *sha, uint64_t size)
{
    char entry[160];
    size_t n;

    snprintf(entry, sizeof(entry), "%.10s %zu %s %" PRIu64 "\n", day, count,
             sha, size);
    n = strlen(entry);
    errno = 0;
    if (write(sfd, entry, n) != (ssize_t)n) {
        jg_sync_seterr(s, "%s/ship/seals: %s", cfg->audit_dir,
                       strerror(errno != 0 ? errno : EIO));
        return JG_ERR_IO;
    }
    return 0;
}

int
jg_sync_ship_seals(struct jg_sync *s, const struct jg_config *cfg, int dfd,
                   char **days, size_t n_days, jg_sync_ship_cb cb, void *arg,
                   struct jg_sync_ship_totals *t)
{
    char *state = NULL, *lines = NULL, *key = NULL, sha[65], was[65];
    char rel[40];
    size_t slen = 0, len, count, i;
    uint64_t was_size, now_size;
    size_t was_count, lines_n;
    struct jg_sync_s3_put put;
    struct stat sb;
    int sfd = -1, r = 0;
    ssize_t got;

    sfd = openat(dfd, "ship/seals", O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW |
                                        O_CLOEXEC, 0640);
    if (sfd < 0 || fstat(sfd, &sb) != 0) {
        jg_sync_seterr(s, "%s/ship/seals: %s", cfg->audit_dir, strerror(errno));
        r = JG_ERR_IO;
        goto out;
    }
    state = jg_xmalloc((size_t)sb.st_size + 1);
    while (slen < (size_t)sb.st_size) {
        got = pread(sfd, state + slen, (size_t)sb.st_size - slen,
                    (off_t)slen);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        slen += (size_t)got;
    }
    /* Today's entry changes about once a minute: keep the file small. */
    for (lines_n = 0, i = 0; i < slen; i++)
        lines_n += state[i] == '\n';
    if (lines_n > 2 * n_days + 256) {
        compact(dfd, state, slen, days, n_days);
        close(sfd);
        sfd = openat(dfd, "ship/seals", O_RDWR | O_CREAT | O_APPEND |
                                            O_NOFOLLOW | O_CLOEXEC, 0640);
        if (sfd < 0) {
            jg_sync_seterr(s, "%s/ship/seals: %s", cfg->audit_dir,
                           strerror(errno));
            r = JG_ERR_IO;
            goto out;
        }
    }
    for (i = 0; i < n_days; i++) {
        free(lines);
        lines = NULL;
        snprintf(rel, sizeof(rel), "events/%.10s.jsonl", days[i]);
        last_upload(state, slen, days[i], &was_count, was, &was_size);
        /* The size before reading: a line appended meanwhile makes the
         * next pass read the day again. */
        now_size = fstatat(dfd, rel, &sb, AT_SYMLINK_NOFOLLOW) == 0
                       ? (uint64_t)sb.st_size
                       : 0;
        if (now_size != 0 && now_size == was_size)
            continue;   /* not a byte more since the last upload */
        if ((r = jg_sync_seal_lines(dfd, days[i], &lines, &len, &count)) != 0) {
            struct jg_sync_ship_item it = {.what = JG_SYNC_SHIP_FAILED,
                                           .file = rel,
                                           .reason = strerror(errno)};

            t->failed++;
            if (cb != NULL)
                cb(&it, arg);
            r = 0;
            continue;
        }
        sha256_hex(lines, len, sha);
        if (count == 0 || strcmp(was, sha) == 0) {
            /* Nothing to upload; remember the size read so that the day
             * is not read again until it grows. */
            if (now_size != 0 && (r = remember(s, cfg, sfd, days[i], count,
                                               sha, now_size)) != 0)
                goto out;
            continue;
        }
        free(key);
        key = jg_sync_seals_key(cfg->s3_prefix, days[i]);
        r = jg_sync_s3_put_buf(s, cfg->s3_bucket, key, lines, len,
                               "application/x-ndjson", &put);
        if (r == JG_ERR_NOTFOUND)
            goto out;
        if (r != 0) {
            struct jg_sync_ship_item it = {.what = JG_SYNC_SHIP_FAILED,
                                           .file = rel, .key = key,
                                           .size = len,
                                           .reason = jg_sync_error(s)};

            t->failed++;
            if (cb != NULL)
                cb(&it, arg);
            if (r == JG_ERR_IO) {   /* unreachable: the next pass */
                r = 0;
                break;
            }
            r = 0;
            continue;
        }
        if ((r = remember(s, cfg, sfd, days[i], count, sha, now_size)) != 0)
            goto out;
        t->seals++;
        if (cb != NULL) {
            struct jg_sync_ship_item it = {.what = JG_SYNC_SHIP_SEALS,
                                           .file = rel, .key = key,
                                           .size = count, .sha256 = sha};

            cb(&it, arg);
        }
    }
    r = 0;
out:
    if (sfd >= 0)
        close(sfd);
    free(state);
    free(lines);
    free(key);
    return r;
}

/* seq and time of a seal line, for messages. */
static void
describe(const char *line, size_t len, char *buf, size_t n)
{
    char err[64];
    json_t *o = NULL;

    if (jg_audit_event_parse(line, len, &o, err, sizeof(err)) != 0) {
        snprintf(buf, n, "a line that is not an event");
        return;
    }
    snprintf(buf, n, "seq %" JSON_INTEGER_FORMAT ", %s",
             json_integer_value(json_object_get(o, "seq")),
             json_string_value(json_object_get(o, "time")));
    json_decref(o);
}

/* Compares the shipped seal lines of one day with the local ones. */
static void
check_day(const struct jg_config *cfg, const char *day, const char *key,
          const char *shipped, size_t slen, const char *local, size_t llen,
          const struct jg_audit_key *pub, struct jg_diags *d, size_t *lines)
{
    const char *p = shipped, *end = shipped + slen, *nl, *q = local;
    const char *lend = local + llen, *lnl, *b64;
    char rel[40], what[128], *where;
    size_t i = 0, ll, prefix, b64_len, missing = 0;
    bool first = true;

    snprintf(rel, sizeof(rel), "events/%.10s.jsonl", day);
    where = jg_xasprintf("s3://%s/%s", cfg->s3_bucket, key);
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        i++;
        (*lines)++;
        prefix = jg_audit_sealed_prefix(p, ll, &b64, &b64_len);
        if (pub != NULL &&
            (prefix == 0 || !jg_audit_sig_ok(pub, JG_AUDIT_DOMAIN_EVENTS, p,
                                             prefix, b64, b64_len))) {
            jg_diags_add(d, where, (int)i, 0,
                         "not a seal made with this key: the shipped copy "
                         "is not genuine");
        } else {
            lnl = q < lend ? memchr(q, '\n', (size_t)(lend - q)) : NULL;
            if (lnl != NULL && (size_t)(lnl - q) == ll &&
                memcmp(q, p, ll) == 0) {
                q = lnl + 1;
            } else if (first) {
                describe(p, ll, what, sizeof(what));
                jg_diags_add(d, rel, 0, 0,
                             "the checkpoint shipped as %s line %zu (%s) is "
                             "not in the local log: lines were cut off or "
                             "changed after it was shipped",
                             where, i, what);
                first = false;
                q = lend;
            } else {
                missing++;
            }
        }
        p = nl != NULL ? nl + 1 : end;
    }
    if (missing > 0)
        jg_diags_add(d, rel, 0, 0,
                     "and %zu later shipped checkpoint%s of that day %s "
                     "missing too", missing, missing == 1 ? "" : "s",
                     missing == 1 ? "is" : "are");
    free(where);
}

int
jg_sync_seals_check(struct jg_sync *s, const struct jg_config *cfg,
                    const struct jg_audit_key *pub, int64_t now_us,
                    struct jg_diags *d, size_t *days_checked,
                    size_t *lines_checked)
{
    char **days = NULL, today[JG_AUDIT_DAY_STRLEN], day[JG_AUDIT_DAY_STRLEN];
    char *key = NULL, *shipped = NULL, *local = NULL;
    size_t n = 0, i, slen, llen, count;
    int64_t t = 0;
    bool found;
    int dfd = -1, r;

    *days_checked = *lines_checked = 0;
    jg_sync_seterr(s, "%s", "");
    if (cfg->s3_bucket == NULL) {
        jg_sync_seterr(s, "audit.s3 is not configured");
        return JG_ERR_INVALID;
    }
    if ((dfd = open(cfg->audit_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        jg_sync_seterr(s, "audit.dir %s: %s", cfg->audit_dir, strerror(errno));
        return JG_ERR_IO;
    }
    if ((r = jg_audit_list_days(cfg->audit_dir, &days, &n)) != 0 &&
        r != JG_ERR_NOTFOUND) {
        jg_sync_seterr(s, "%s/events: %s", cfg->audit_dir, strerror(errno));
        goto out;
    }
    jg_audit_day_format(now_us, today, sizeof(today));
    /* Every local day, then each day after the newest local one up to
     * today: a day file removed whole shows there. */
    for (i = 0;; i++) {
        if (i < n) {
            jg_strlcpy(day, days[i], sizeof(day));
            if (i + 1 == n) {
                char iso[32];

                snprintf(iso, sizeof(iso), "%.10sT00:00:00Z", day);
                if (jg_audit_time_parse(iso, &t) != 0)
                    t = now_us;
            }
        } else {
            if (n == 0 && t == 0)
                t = now_us;
            else
                t += (int64_t)86400 * 1000000;
            jg_audit_day_format(t, day, sizeof(day));
            if (strcmp(day, today) > 0)
                break;
        }
        free(key);
        free(shipped);
        free(local);
        shipped = local = NULL;
        key = jg_sync_seals_key(cfg->s3_prefix, day);
        if ((r = jg_sync_s3_get(s, cfg->s3_bucket, key, SEALS_MAX, &found,
                                &shipped, &slen)) != 0)
            goto out;
        if (!found)
            continue;
        (*days_checked)++;
        r = jg_sync_seal_lines(dfd, day, &local, &llen, &count);
        if (r == JG_ERR_NOTFOUND) {
            local = NULL;
            llen = 0;
        } else if (r != 0) {
            jg_sync_seterr(s, "%s/events/%s.jsonl: %s", cfg->audit_dir, day,
                           strerror(errno));
            goto out;
        }
        check_day(cfg, day, key, shipped, slen, local, llen, pub, d,
                  lines_checked);
    }
    r = 0;
out:
    free(key);
    free(shipped);
    free(local);
    jg_strv_free(days);
    close(dfd);
    return r;
}
