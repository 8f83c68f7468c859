/* SPDX-License-Identifier: Apache-2.0 */
/* console/verify.c - the verify badge of a recording: "intact" (every
 * byte sealed, final seal), "unsealed" (sealed and intact up to a tail not
 * proven yet: a live session, or one cut short) or "tampered" (anything
 * else), as `jumpgate audit verify` decides it. Results are kept by path,
 * size and modification time, so that a list page does not read every
 * recording again. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "console/internal.h"

#define CACHE 512

struct entry {
    char path[512];
    off_t size;
    struct timespec mtime;
    const char *badge;
    char detail[256];
};

static struct entry cache[CACHE];
static unsigned next_slot;
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

const char *
jgc_verify(struct jg_console *x, const char *path, const char *id,
           char *detail, size_t n)
{
    struct jg_audit_cast_status st = {0};
    struct jg_diags d = {0};
    const char *badge;
    struct stat sb;
    unsigned i;
    int r;

    detail[0] = '\0';
    if (x->pub == NULL) {
        snprintf(detail, n, "no public key beside audit.signing_key");
        return "";
    }
    if (stat(path, &sb) != 0) {
        snprintf(detail, n, "the recording cannot be read");
        return "tampered";
    }
    pthread_mutex_lock(&cache_mu);
    for (i = 0; i < CACHE; i++) {
        struct entry *e = &cache[i];
        if (e->badge != NULL && strcmp(e->path, path) == 0 &&
            e->size == sb.st_size && e->mtime.tv_sec == sb.st_mtim.tv_sec &&
            e->mtime.tv_nsec == sb.st_mtim.tv_nsec) {
            jg_strlcpy(detail, e->detail, n);
            badge = e->badge;
            pthread_mutex_unlock(&cache_mu);
            return badge;
        }
    }
    pthread_mutex_unlock(&cache_mu);
    r = jg_audit_verify_rec(path, id, x->pub, &st, &d);
    if (r == 0) {
        badge = "intact";
        snprintf(detail, n, "%" PRIu64 " bytes, %zu seals, final", st.size,
                 st.checkpoints);
    } else if (r == JG_ERR_INVALID && d.n == 1 && st.checkpoints > 0 &&
               !st.seal_missing &&
               (strstr(d.v[0].msg, "unsealed tail") != NULL ||
                strstr(d.v[0].msg, "no final seal") != NULL)) {
        badge = "unsealed";
        snprintf(detail, n, "the first %" PRIu64 " bytes are sealed and intact; "
                 "the rest is not proven yet", st.sealed);
    } else {
        badge = "tampered";
        snprintf(detail, n, "%s", d.n > 0 ? d.v[0].msg : jg_strerror(r));
    }
    jg_diags_clear(&d);
    pthread_mutex_lock(&cache_mu);
    i = next_slot++ % CACHE;
    jg_strlcpy(cache[i].path, path, sizeof(cache[i].path));
    cache[i].size = sb.st_size;
    cache[i].mtime = sb.st_mtim;
    cache[i].badge = badge;
    jg_strlcpy(cache[i].detail, detail, sizeof(cache[i].detail));
    pthread_mutex_unlock(&cache_mu);
    return badge;
}
