/* SPDX-License-Identifier: Apache-2.0 */
/* audit/wq.c - a recording's writer thread: it runs the jobs the
 * recorder queues (jg_audit_wq_run: compressing, hashing, sealing and
 * writing a block, recw.c) in the order they were queued, off
 * the thread that relays. The queue is bounded in bytes (the producer
 * waits when it is full); the first failed job is kept and every later
 * request fails with it. Blocks of JG_AUDIT_WQ_BLOCK bytes come back to a
 * small pool once done, so a busy recording reuses the same few buffers
 * instead of asking malloc (and the kernel, for fresh pages) for new
 * ones. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/internal.h"

struct wq_item {
    struct wq_item *next;
    char *buf;           /* taken; NULL allowed */
    jg_audit_wq_fn fn;   /* the job: fn(ctx, buf, len) */
    void *ctx;
    size_t len;
    size_t cost;         /* what it counts against the bound */
    bool pooled;         /* a block: back to the pool once written */
};

/* Written blocks kept for reuse, per recording. */
#define POOL_MAX 4

struct jg_audit_wq {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t more, room;
    struct wq_item *head, *tail;
    size_t queued, max;  /* bytes waiting; the bound */
    bool stop;
    atomic_int err;      /* first failure, 0 while all went well */
    char *pool[POOL_MAX];
    size_t n_pool;       /* under mu */
};

static void
fail(struct jg_audit_wq *q, int e)
{
    int none = 0;

    atomic_compare_exchange_strong(&q->err, &none, e);
}

static void *
writer(void *arg)
{
    struct jg_audit_wq *q = arg;
    struct wq_item *it;
    int e;

    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (q->head == NULL && !q->stop)
            pthread_cond_wait(&q->more, &q->mu);
        if ((it = q->head) == NULL) {
            pthread_mutex_unlock(&q->mu);
            return NULL;
        }
        q->head = it->next;
        if (q->head == NULL)
            q->tail = NULL;
        pthread_mutex_unlock(&q->mu);
        /* After a failure nothing more runs: a seal must never land after
         * data that did not. */
        if (atomic_load(&q->err) == 0 &&
            (e = it->fn(it->ctx, it->buf, it->len)) != 0)
            fail(q, e);
        pthread_mutex_lock(&q->mu);
        q->queued -= it->cost;
        if (it->pooled && q->n_pool < POOL_MAX) {
            q->pool[q->n_pool++] = it->buf;
            it->buf = NULL;
        }
        pthread_cond_signal(&q->room);
        pthread_mutex_unlock(&q->mu);
        free(it->buf);
        free(it);
    }
}

int
jg_audit_wq_start(size_t max_bytes, struct jg_audit_wq **out)
{
    struct jg_audit_wq *q = calloc(1, sizeof(*q));
    pthread_attr_t attr;
    int e;

    *out = NULL;
    if (q == NULL)
        return JG_ERR_NOMEM;
    q->max = max_bytes;
    atomic_init(&q->err, 0);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->more, NULL);
    pthread_cond_init(&q->room, NULL);
    /* The thread runs the recorder's jobs (zstd, SHA-256, Ed25519, write,
     * fdatasync): a modest stack is plenty. */
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    e = pthread_create(&q->thread, &attr, writer, q);
    pthread_attr_destroy(&attr);
    if (e != 0) {
        pthread_cond_destroy(&q->room);
        pthread_cond_destroy(&q->more);
        pthread_mutex_destroy(&q->mu);
        free(q);
        return e == EAGAIN ? JG_ERR_NOMEM : JG_ERR_INTERNAL;
    }
    *out = q;
    return 0;
}

int
jg_audit_wq_error(struct jg_audit_wq *q)
{
    return atomic_load(&q->err);
}

int
jg_audit_wq_run(struct jg_audit_wq *q, jg_audit_wq_fn fn, void *ctx,
                char *buf, size_t len, bool pooled)
{
    struct wq_item *it = malloc(sizeof(*it));
    int e;

    if (it == NULL) {
        free(buf);
        fail(q, JG_ERR_NOMEM);
        return JG_ERR_NOMEM;
    }
    it->next = NULL;
    it->fn = fn;
    it->ctx = ctx;
    it->buf = buf;
    it->len = len;
    it->pooled = pooled;
    /* A block holds its whole size however little of it is used: memory,
     * not bytes to write, is what the bound bounds. */
    it->cost = pooled ? JG_AUDIT_WQ_BLOCK : len > 0 ? len : 1;
    pthread_mutex_lock(&q->mu);
    /* One item larger than the bound still goes once the queue is empty. */
    while (q->queued > 0 && q->queued + it->cost > q->max &&
           atomic_load(&q->err) == 0)
        pthread_cond_wait(&q->room, &q->mu);
    if ((e = atomic_load(&q->err)) != 0) {
        pthread_mutex_unlock(&q->mu);
        free(buf);
        free(it);
        return e;
    }
    if (q->tail != NULL)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->queued += it->cost;
    pthread_cond_signal(&q->more);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

char *
jg_audit_wq_block(struct jg_audit_wq *q)
{
    char *b = NULL;

    pthread_mutex_lock(&q->mu);
    if (q->n_pool > 0)
        b = q->pool[--q->n_pool];
    pthread_mutex_unlock(&q->mu);
    return b != NULL ? b : malloc(JG_AUDIT_WQ_BLOCK);
}

void
jg_audit_wq_trim(struct jg_audit_wq *q)
{
    char *spare[POOL_MAX];
    size_t n, i;

    pthread_mutex_lock(&q->mu);
    n = q->n_pool;
    memcpy(spare, q->pool, n * sizeof(spare[0]));
    q->n_pool = 0;
    pthread_mutex_unlock(&q->mu);
    for (i = 0; i < n; i++)
        free(spare[i]);
}

int
jg_audit_wq_finish(struct jg_audit_wq *q)
{
    int e;

    if (q == NULL)
        return 0;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_signal(&q->more);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    e = atomic_load(&q->err);
    jg_audit_wq_trim(q);
    pthread_cond_destroy(&q->room);
    pthread_cond_destroy(&q->more);
    pthread_mutex_destroy(&q->mu);
    free(q);
    return e;
}
