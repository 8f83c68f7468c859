/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/proto/tap.c - the tap ring: the bytes of recorded channels go
 * from the worker to the monitor through shared memory, not as messages,
 * so that recording costs one copy on each side and no system call while
 * both keep up. The layout and the rules are in proto.h; the reader
 * treats everything in the ring as hostile. */
#include <sys/mman.h>
#include <sys/syscall.h>

#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/proto/proto.h"

/* How long the worker sleeps at most before it looks whether the monitor
 * is still there. */
#define WAIT_NS (100 * 1000 * 1000L)
/* Each side wakes the other in batches, not for every record: the worker
 * nudges a sleeping monitor once a quarter of the ring is waiting (or when
 * it is about to wait itself, jg_gw_tap_flush()), and the monitor wakes a
 * waiting worker once half the ring is free. */
#define NUDGE_AT (JG_GW_TAP_SIZE / 4)
#define WAKE_AT (JG_GW_TAP_SIZE / 2)

_Static_assert(JG_GW_TAP_SIZE % JG_GW_TAP_HEAD == 0,
               "records are aligned to their head");
_Static_assert(JG_GW_TAP_REC_MAX + JG_GW_TAP_HEAD <= JG_GW_TAP_SIZE / 2,
               "a record fits the ring with room to spare");

struct jg_gw_tap *
jg_gw_tap_new(void)
{
    void *p = mmap(NULL, sizeof(struct jg_gw_tap), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    return p == MAP_FAILED ? NULL : p;
}

void
jg_gw_tap_free(struct jg_gw_tap *t)
{
    if (t != NULL)
        munmap(t, sizeof(*t));
}

static size_t
padded(size_t n)
{
    return (n + JG_GW_TAP_HEAD - 1) / JG_GW_TAP_HEAD * JG_GW_TAP_HEAD;
}

/* Copies n bytes into the ring at position pos (wrapping). */
static void
ring_put(struct jg_gw_tap *t, uint64_t pos, const void *p, size_t n)
{
    size_t at = (size_t)(pos % JG_GW_TAP_SIZE), first = JG_GW_TAP_SIZE - at;

    if (first >= n) {
        memcpy(t->data + at, p, n);
    } else {
        memcpy(t->data + at, p, first);
        memcpy(t->data, (const uint8_t *)p + first, n - first);
    }
}

static bool
monitor_gone(int sock)
{
    struct pollfd pfd = {.fd = sock, .events = 0};

    return poll(&pfd, 1, 0) != 0 &&
           (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* A monitor that said it would sleep gets one nudge. */
static int
nudge(struct jg_gw_tap *t, int sock)
{
    struct jg_gw_msg *m;
    int e;

    if (atomic_exchange(&t->mon_sleeps, 0) == 0)
        return 0;
    if ((m = malloc(sizeof(*m))) == NULL)
        return JG_ERR_NOMEM;
    jg_gw_msg_init(m, JG_GW_REQ_REC_TAP);
    e = jg_gw_msg_send(sock, m, -1) == 0 ? 0 : JG_ERR_IO;
    free(m);
    return e;
}

/* Waits until need bytes are free behind head. */
static int
wait_room(struct jg_gw_tap *t, int sock, uint64_t head, size_t need)
{
    struct timespec ts = {.tv_nsec = WAIT_NS};
    uint32_t seen;

    for (;;) {
        if (JG_GW_TAP_SIZE - (head - atomic_load(&t->tail)) >= need)
            return 0;
        /* Never wait on a monitor that sleeps. */
        if (nudge(t, sock) != 0)
            return JG_ERR_IO;
        seen = atomic_load(&t->room);
        atomic_store(&t->wk_sleeps, 1);
        /* The monitor may have moved tail before it saw wk_sleeps. */
        if (JG_GW_TAP_SIZE - (head - atomic_load(&t->tail)) >= need) {
            atomic_store(&t->wk_sleeps, 0);
            return 0;
        }
        if (syscall(SYS_futex, &t->room, FUTEX_WAIT, seen, &ts, NULL, 0) != 0 &&
            errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT)
            return JG_ERR_IO;
        if (monitor_gone(sock))
            return JG_ERR_IO;
    }
}

int
jg_gw_tap_put(struct jg_gw_tap *t, int sock, uint32_t chan, uint8_t kind,
              const void *p, size_t n)
{
    uint8_t headbuf[JG_GW_TAP_HEAD];
    uint64_t head = atomic_load_explicit(&t->head, memory_order_relaxed);
    size_t off = 0, k;
    uint32_t len;
    int e;

    do {
        k = n - off < JG_GW_TAP_REC_MAX ? n - off : JG_GW_TAP_REC_MAX;
        if ((e = wait_room(t, sock, head, JG_GW_TAP_HEAD + padded(k))) != 0)
            return e;
        len = (uint32_t)k;
        memset(headbuf, 0, sizeof(headbuf));
        memcpy(headbuf, &len, 4);
        memcpy(headbuf + 4, &chan, 4);
        headbuf[8] = kind;
        ring_put(t, head, headbuf, sizeof(headbuf));
        ring_put(t, head + JG_GW_TAP_HEAD, (const uint8_t *)p + off, k);
        head += JG_GW_TAP_HEAD + padded(k);
        off += k;
        /* Each record on its own, so the monitor can start on it while
         * the next is copied. */
        atomic_store(&t->head, head);
        if (head - atomic_load(&t->tail) >= NUDGE_AT &&
            (e = nudge(t, sock)) != 0)
            return e;
    } while (off < n);
    return 0;
}

int
jg_gw_tap_flush(struct jg_gw_tap *t, int sock)
{
    if (atomic_load(&t->head) == atomic_load(&t->tail))
        return 0;
    return nudge(t, sock);
}

uint64_t
jg_gw_tap_head(const struct jg_gw_tap *t)
{
    return atomic_load_explicit(&t->head, memory_order_acquire);
}

int
jg_gw_tap_next(const struct jg_gw_tap *t, uint64_t *pos, uint64_t head,
               struct jg_gw_tap_rec *r)
{
    uint8_t h[JG_GW_TAP_HEAD];
    uint64_t avail = head - *pos;
    size_t at, first;
    uint32_t len;

    memset(r, 0, sizeof(*r));
    if (head == *pos)
        return JG_ERR_NOTFOUND;
    /* Positions only grow, and never more than a ring apart. */
    if (head < *pos || avail > JG_GW_TAP_SIZE || avail < JG_GW_TAP_HEAD ||
        *pos % JG_GW_TAP_HEAD != 0)
        return JG_ERR_INVALID;
    /* The head is read once, into our own memory: the worker may change
     * the ring while we look. */
    at = (size_t)(*pos % JG_GW_TAP_SIZE);
    memcpy(h, t->data + at, sizeof(h));
    memcpy(&len, h, 4);
    memcpy(&r->chan, h + 4, 4);
    r->kind = h[8];
    if (len > JG_GW_TAP_REC_MAX ||
        JG_GW_TAP_HEAD + padded(len) > avail ||
        (r->kind != 'o' && r->kind != 'e' && r->kind != 'i' &&
         r->kind != 'r') ||
        (r->kind == 'r' && len != 8))
        return JG_ERR_INVALID;
    at = (at + JG_GW_TAP_HEAD) % JG_GW_TAP_SIZE;
    first = JG_GW_TAP_SIZE - at;
    r->len = len;
    r->p[0] = t->data + at;
    r->n[0] = len <= first ? len : first;
    if (r->n[0] < len) {
        r->p[1] = t->data;
        r->n[1] = len - r->n[0];
    }
    *pos += JG_GW_TAP_HEAD + padded(len);
    return 0;
}

void
jg_gw_tap_release(struct jg_gw_tap *t, uint64_t pos)
{
    atomic_store(&t->tail, pos);
    if (atomic_load(&t->wk_sleeps) != 0 &&
        (JG_GW_TAP_SIZE - (atomic_load(&t->head) - pos) >= WAKE_AT) &&
        atomic_exchange(&t->wk_sleeps, 0) != 0) {
        atomic_fetch_add(&t->room, 1);
        syscall(SYS_futex, &t->room, FUTEX_WAKE, 1, NULL, NULL, 0);
    }
}

bool
jg_gw_tap_may_sleep(struct jg_gw_tap *t, uint64_t pos)
{
    atomic_store(&t->mon_sleeps, 1);
    if (atomic_load(&t->head) == pos)
        return true;
    atomic_store(&t->mon_sleeps, 0);
    return false;
}
