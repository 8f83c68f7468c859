/* SPDX-License-Identifier: Apache-2.0 */
/* common/metrics_http.c - serves a metrics registry at GET /metrics with
 * libmicrohttpd, either on MHD's own thread or driven from the owner's poll
 * loop through one epoll descriptor (so a forking daemon stays
 * single-threaded). Anything but GET/HEAD /metrics gets 404 or 405.
 * Connections are bounded so that slow or half-sent requests cannot keep
 * a scraper out: JG_METRICS_CONNS at once, JG_METRICS_CONNS_PER_IP from one
 * address, JG_METRICS_IDLE seconds without a byte, and (when polled)
 * JG_METRICS_DEADLINE seconds in all. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/common.h"

struct jg_metrics_server {
    struct MHD_Daemon *mhd;
    struct jg_metrics *m;
    jg_metrics_refresh_fn refresh;
    void *arg;
    int listen_fd;
    struct conn *conns;          /* open connections, newest first */
};

/* One open connection and when it was accepted (CLOCK_MONOTONIC, s). */
struct conn {
    struct MHD_Connection *c;
    int64_t start;
    struct conn *prev, *next;
};

static int64_t
mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* Keeps the list of open connections (MHD's own thread or the owner's
 * loop: always the thread that runs MHD). */
static void
on_conn(void *cls, struct MHD_Connection *c, void **ctx,
        enum MHD_ConnectionNotificationCode what)
{
    struct jg_metrics_server *s = cls;
    struct conn *k = *ctx;

    if (what == MHD_CONNECTION_NOTIFY_STARTED) {
        k = jg_xcalloc(1, sizeof(*k));
        k->c = c;
        k->start = mono_now();
        k->next = s->conns;
        if (s->conns != NULL)
            s->conns->prev = k;
        s->conns = k;
        *ctx = k;
    } else if (what == MHD_CONNECTION_NOTIFY_CLOSED && k != NULL) {
        if (k->prev != NULL)
            k->prev->next = k->next;
        else
            s->conns = k->next;
        if (k->next != NULL)
            k->next->prev = k->prev;
        free(k);
        *ctx = NULL;
    }
}

/* Ends connections older than JG_METRICS_DEADLINE: shutting the socket
 * down makes MHD see the end and close it on its next run (the descriptor
 * is still MHD's: it is closed only after the CLOSED notice). */
static void
expire(struct jg_metrics_server *s)
{
    int64_t now = mono_now();
    const union MHD_ConnectionInfo *i;
    struct conn *k;

    for (k = s->conns; k != NULL; k = k->next) {
        if (now - k->start < JG_METRICS_DEADLINE)
            continue;
        i = MHD_get_connection_info(k->c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (i != NULL)
            shutdown(i->connect_fd, SHUT_RDWR);
    }
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                        MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, "Allow", "GET, HEAD");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
           const char *method, const char *version, const char *upload,
           size_t *upload_size, void **state)
{
    struct jg_metrics_server *s = cls;
    struct MHD_Response *r;
    enum MHD_Result ret;
    char *body;
    size_t len;

    (void)version;
    (void)upload;
    if (*upload_size != 0) {
        *upload_size = 0;       /* ignore bodies; answer once they are read */
        return MHD_YES;
    }
    (void)state;
    if (strcmp(url, "/metrics") != 0)
        return reply(c, MHD_HTTP_NOT_FOUND, "not found; try /metrics\n");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    if (s->refresh != NULL)
        s->refresh(s->m, s->arg);
    if ((body = jg_metrics_render(s->m, &len)) == NULL)
        return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type",
                            "text/plain; version=0.0.4; charset=utf-8");
    ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

int
jg_metrics_serve(const char *hostport, struct jg_metrics *m, bool threaded,
                 jg_metrics_refresh_fn refresh, void *arg,
                 struct jg_metrics_server **out, char *err, size_t errn)
{
    struct jg_metrics_server *s;
    unsigned flags;
    int fd, r;

    if ((r = jg_listen_tcp(hostport, "metrics.listen", JG_LISTEN_NONBLOCK, 16,
                           &fd, err, errn)) != 0)
        return r;
    s = jg_xcalloc(1, sizeof(*s));
    s->m = m;
    s->refresh = refresh;
    s->arg = arg;
    s->listen_fd = fd;
    flags = threaded ? MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL
                     : MHD_USE_EPOLL;
    s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                              MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_CONNECTION_LIMIT,
                              (unsigned)JG_METRICS_CONNS,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                              (unsigned)JG_METRICS_CONNS_PER_IP,
                              MHD_OPTION_CONNECTION_TIMEOUT,
                              (unsigned)JG_METRICS_IDLE,
                              MHD_OPTION_NOTIFY_CONNECTION, on_conn, s,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                              (size_t)32768,
                              MHD_OPTION_END);
    if (s->mhd == NULL) {
        snprintf(err, errn, "metrics.listen '%s': cannot start the HTTP "
                 "server", hostport);
        close(fd);
        free(s);
        return JG_ERR_IO;
    }
    *out = s;
    return 0;
}

int
jg_metrics_server_fd(const struct jg_metrics_server *s)
{
    const union MHD_DaemonInfo *i;

    i = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    return i == NULL ? -1 : i->epoll_fd;
}

void
jg_metrics_server_run(struct jg_metrics_server *s)
{
    MHD_run(s->mhd);
    expire(s);
}

void
jg_metrics_server_forget(struct jg_metrics_server *s)
{
    int efd;

    if (s == NULL)
        return;
    efd = jg_metrics_server_fd(s);
    if (efd >= 0)
        close(efd);
    close(s->listen_fd);
}

void
jg_metrics_server_free(struct jg_metrics_server *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->mhd);
    close(s->listen_fd);
    free(s);
}
