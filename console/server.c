/* SPDX-License-Identifier: Apache-2.0 */
/* console/server.c - the console's HTTP(S) server: libmicrohttpd with a
 * thread per connection (sign-in waits on PAM), bounded connections,
 * request bodies and idle time, the security headers of every answer, and
 * the routing of requests to pages. Runs until SIGINT or SIGTERM; SIGHUP
 * only makes the policy be read again at the next request. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "console/internal.h"

/* What the browser may do with a page: nothing from elsewhere, no inline
 * script or style, no framing, no form posted anywhere else. */
static const char csp[] =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct rstate {
    struct jgc_buf body;
    bool too_big;
};

enum MHD_Result
jgc_answer(struct jgc_req *q, unsigned status, struct jgc_buf *body,
           const char *type)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(body->n, body->p,
                                        MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(body->p);
        return MHD_NO;
    }
    body->p = NULL;
    MHD_add_response_header(r, "Content-Type",
                            type ? type : "text/html; charset=utf-8");
    MHD_add_response_header(r, "Content-Security-Policy", csp);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (q->x->tls)
        MHD_add_response_header(r, "Strict-Transport-Security",
                                "max-age=31536000");
    ret = MHD_queue_response(q->c, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result
jgc_answer_fd(struct jgc_req *q, int fd, const char *type,
              const char *disposition)
{
    struct MHD_Response *r;
    struct stat st;

    if (fstat(fd, &st) != 0 ||
        (r = MHD_create_response_from_fd((uint64_t)st.st_size, fd)) == NULL) {
        close(fd);
        return MHD_NO;
    }
    return jgc_answer_raw(q, r, type, disposition);
}

enum MHD_Result
jgc_answer_raw(struct jgc_req *q, struct MHD_Response *r, const char *type,
               const char *disposition)
{
    enum MHD_Result ret;

    MHD_add_response_header(r, "Content-Type", type);
    if (disposition != NULL)
        MHD_add_response_header(r, "Content-Disposition", disposition);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none'");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    ret = MHD_queue_response(q->c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result
jgc_unrecorded(struct jgc_req *q)
{
    return jgc_error(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                     "the audit log cannot be written; nothing is shown "
                     "without a record of it");
}

enum MHD_Result
jgc_not_found(struct jgc_req *q, int r, const char *what)
{
    return r != 0 ? jgc_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                              "cannot read the audit folder: %s",
                              jg_strerror(r))
                  : jgc_error(q, MHD_HTTP_NOT_FOUND, "no such %s", what);
}

enum MHD_Result
jgc_error(struct jgc_req *q, unsigned status, const char *fmt, ...)
{
    struct jgc_buf b = {0};
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    jgc_page_begin(&b, q, "Error");
    jgc_putf(&b, "<h1>%u</h1><p class=\"error\">", status);
    jgc_esc(&b, msg);
    jgc_put(&b, "</p>");
    jgc_page_end(&b);
    return jgc_answer(q, status, &b, NULL);
}

enum MHD_Result
jgc_redirect(struct jgc_req *q, const char *location, const char *cookie)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Location", location);
    MHD_add_response_header(r, "Content-Security-Policy", csp);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (cookie != NULL)
        MHD_add_response_header(r, "Set-Cookie", cookie);
    ret = MHD_queue_response(q->c, MHD_HTTP_SEE_OTHER, r);
    MHD_destroy_response(r);
    return ret;
}

const char *
jgc_arg(const struct jgc_req *q, const char *name)
{
    const char *v = MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND,
                                                name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

static int
unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool
jgc_field(const struct jgc_req *q, const char *name, char *buf, size_t n)
{
    const char *p = q->form, *end = q->form ? q->form + q->form_len : NULL;
    size_t nl = strlen(name);

    while (p != NULL && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        size_t o = 0;

        if ((size_t)(stop - p) > nl && strncmp(p, name, nl) == 0 &&
            p[nl] == '=') {
            for (p += nl + 1; p < stop; p++) {
                int c = (unsigned char)*p, h, l;
                if (c == '+')
                    c = ' ';
                else if (c == '%' && stop - p >= 3 &&
                         (h = unhex(p[1])) >= 0 && (l = unhex(p[2])) >= 0) {
                    c = h << 4 | l;
                    p += 2;
                }
                if (c == 0 || o + 1 >= n)
                    return false;
                buf[o++] = (char)c;
            }
            buf[o] = '\0';
            return true;
        }
        p = amp ? amp + 1 : end;
    }
    return false;
}

static void
client_addr(struct MHD_Connection *c, char *buf, size_t n)
{
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = i ? i->client_addr : NULL;

    jg_strlcpy(buf, "?", n);
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
                  (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                  buf, (socklen_t)n);
}

/* /sessions/ID and /sessions/ID/cast. */
static enum MHD_Result
route_session(struct jgc_req *q, const char *rest)
{
    char id[JG_AUDIT_ID_STRLEN + 8];
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);

    if (n >= sizeof(id))
        return jgc_error(q, MHD_HTTP_NOT_FOUND, "no such page");
    memcpy(id, rest, n);
    id[n] = '\0';
    if (!jg_audit_id_valid(id))
        return jgc_error(q, MHD_HTTP_NOT_FOUND, "not a session id");
    if (slash == NULL)
        return jgc_session(q, id);
    if (strcmp(slash, "/cast") == 0)
        return jgc_cast(q, id);
    if (strcmp(slash, "/evidence") == 0)
        return jgc_evidence(q, id);
    if (strcmp(slash, "/watch") == 0)
        return jgc_watch(q, id);
    if (strcmp(slash, "/live") == 0)
        return jgc_live_stream(q, id);
    return jgc_error(q, MHD_HTTP_NOT_FOUND, "no such page");
}

static enum MHD_Result
route(struct jgc_req *q)
{
    bool get = strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0;
    bool post = strcmp(q->method, "POST") == 0;

    if (!get && !post)
        return jgc_error(q, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    if (get && strncmp(q->url, "/static/", 8) == 0)
        return jgc_asset(q, q->url + 8);
    if (strcmp(q->url, "/signin") == 0)
        return post ? jgc_signin(q) : jgc_signin_page(q, NULL, MHD_HTTP_OK);
    jgc_auth_lookup(q);
    if (!q->signed_in)
        return get ? jgc_redirect(q, "/signin", NULL)
                   : jgc_error(q, MHD_HTTP_FORBIDDEN, "sign in first");
    if (post && strcmp(q->url, "/signout") == 0)
        return jgc_signout(q);
    if (post)
        return jgc_error(q, MHD_HTTP_NOT_FOUND, "no such form");
    if (strcmp(q->url, "/") == 0)
        return jgc_redirect(q, "/sessions", NULL);
    if (strcmp(q->url, "/sessions") == 0)
        return jgc_list(q);
    if (strcmp(q->url, "/search") == 0)
        return jgc_search(q);
    if (strcmp(q->url, "/events") == 0)
        return jgc_events(q);
    if (strcmp(q->url, "/live") == 0)
        return jgc_live(q);
    if (strncmp(q->url, "/sessions/", 10) == 0)
        return route_session(q, q->url + 10);
    return jgc_error(q, MHD_HTTP_NOT_FOUND, "no such page");
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
           const char *method, const char *version, const char *upload,
           size_t *upload_size, void **state)
{
    struct rstate *st = *state;
    struct jgc_req q = {.x = cls, .c = c, .url = url, .method = method};

    (void)version;
    if (st == NULL) {
        *state = jg_xcalloc(1, sizeof(*st));
        return MHD_YES;
    }
    if (*upload_size != 0) {
        if (st->body.n + *upload_size > JGC_BODY_MAX)
            st->too_big = true;
        else
            jgc_putf(&st->body, "%.*s", (int)*upload_size, upload);
        *upload_size = 0;
        return MHD_YES;
    }
    client_addr(c, q.from, sizeof(q.from));
    if (st->too_big)
        return jgc_error(&q, MHD_HTTP_CONTENT_TOO_LARGE, "the form is too large");
    if (strlen(url) > 512)
        return jgc_error(&q, MHD_HTTP_URI_TOO_LONG, "the address is too long");
    q.form = st->body.p;
    q.form_len = st->body.n;
    return route(&q);
}

static void
on_done(void *cls, struct MHD_Connection *c, void **state,
        enum MHD_RequestTerminationCode why)
{
    struct rstate *st = *state;

    (void)cls;
    (void)c;
    (void)why;
    if (st != NULL) {
        free(st->body.p);
        free(st);
    }
    *state = NULL;
}

/* The PEM files of the TLS key pair, read whole. */
/* The certificate and key as TLS will take them, checked here so that a
 * wrong file is named rather than the server failing to start. */
static int
check_pair(const struct jg_config *cfg, const char *cert, const char *key,
           char *why, size_t n)
{
    BIO *cb = BIO_new_mem_buf(cert, -1), *kb = BIO_new_mem_buf(key, -1);
    X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    int r = JG_ERR_INVALID;

    if (x == NULL)
        snprintf(why, n, "audit.console.tls_cert %s: not a PEM certificate",
                 cfg->console_tls_cert);
    else if (k == NULL)
        snprintf(why, n, "audit.console.tls_key %s: not a PEM private key "
                 "(unencrypted)", cfg->console_tls_key);
    else if (X509_check_private_key(x, k) != 1)
        snprintf(why, n, "audit.console.tls_key %s is not the key of "
                 "audit.console.tls_cert %s", cfg->console_tls_key,
                 cfg->console_tls_cert);
    else
        r = 0;
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    return r;
}

static int
read_pem(const char *path, const char *what, char **out, char *why, size_t n)
{
    size_t len;
    int r = jg_read_file(path, 1u << 20, out, &len);

    if (r != 0)
        snprintf(why, n, "%s %s: %s", what, path, jg_read_strerror(r));
    return r;
}

int
jg_console_serve(const struct jg_config *cfg, const struct jg_console_opts *o,
                 char *why, size_t n)
{
    struct jg_console x = {.cfg = cfg, .opts = o};
    struct MHD_Daemon *d = NULL;
    char *cert = NULL, *key = NULL;
    sigset_t sigs;
    int fd = -1, r, sig;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;

    if (cfg->console_listen == NULL || cfg->audit_dir == NULL) {
        snprintf(why, n, "%s sets no %s", cfg->path,
                 cfg->audit_dir == NULL ? "audit.dir" : "audit.console");
        return JG_ERR_INVALID;
    }
    x.tls = cfg->console_tls_cert != NULL;
    if (x.tls &&
        ((r = read_pem(cfg->console_tls_cert, "audit.console.tls_cert", &cert,
                       why, n)) != 0 ||
         (r = read_pem(cfg->console_tls_key, "audit.console.tls_key", &key,
                       why, n)) != 0 ||
         (r = check_pair(cfg, cert, key, why, n)) != 0))
        goto out;
    pthread_mutex_init(&x.mu, NULL);
    if (jgc_policy(&x) == NULL) {
        snprintf(why, n, "the policy %s does not load (jumpgate policy check "
                 "says why)", cfg->policy);
        r = JG_ERR_INVALID;
        goto out;
    }
    if (cfg->audit_signing_key != NULL &&
        (r = jg_audit_key_load_private(cfg->audit_signing_key, &x.key)) != 0) {
        snprintf(why, n, "audit.signing_key %s: %s", cfg->audit_signing_key,
                 jg_strerror(r));
        goto out;
    }
    if (x.key != NULL) {
        char *pubp = jg_audit_key_pub_path(cfg->audit_signing_key);
        r = jg_audit_key_load_public(pubp, &x.pub);
        free(pubp);
        if (r != 0)
            x.pub = NULL;       /* badges then say "not checked" */
    }
    if ((r = jg_audit_log_open(cfg->audit_dir, x.key, 1, &x.log)) != 0) {
        snprintf(why, n, "the event log of %s: %s", cfg->audit_dir,
                 jg_strerror(r));
        goto out;
    }
    if ((r = jg_listen_tcp(cfg->console_listen, "audit.console.listen",
                           JG_LISTEN_NAMES, 64, &fd, why, n)) != 0)
        goto out;
    if (x.tls)
        flags |= MHD_USE_TLS;
    /* SIGINT, SIGTERM and SIGHUP are taken by sigwait below, in this
     * thread only: the server's threads inherit the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    d = x.tls ? MHD_start_daemon(flags, 0, NULL, NULL, on_request, &x,
                                 MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_HTTPS_MEM_CERT, cert,
                                 MHD_OPTION_HTTPS_MEM_KEY, key,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)JGC_CONNS,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                 (unsigned)JGC_CONNS_PER_IP,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)JGC_IDLE,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
                                 MHD_OPTION_END)
              : MHD_start_daemon(flags, 0, NULL, NULL, on_request, &x,
                                 MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)JGC_CONNS,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                 (unsigned)JGC_CONNS_PER_IP,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)JGC_IDLE,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
                                 MHD_OPTION_END);
    if (d == NULL) {
        snprintf(why, n, "cannot start the HTTP%s server on %s", x.tls ? "S" : "",
                 cfg->console_listen);
        r = JG_ERR_INTERNAL;
        goto out;
    }
    fd = -1;    /* the server's now */
    jg_info("audit console: listening on %s (%s)", cfg->console_listen,
            x.tls ? "https" : "http, loopback only");
    if (o->ready != NULL)
        o->ready(cfg->console_listen, o->ready_arg);
    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        pthread_mutex_lock(&x.mu);
        memset(&x.pol_mtime, 0, sizeof(x.pol_mtime));   /* read it again */
        pthread_mutex_unlock(&x.mu);
    }
    jg_info("audit console: stopping");
    r = 0;
out:
    if (d != NULL)
        MHD_stop_daemon(d);
    if (fd >= 0)
        close(fd);
    if (x.log != NULL) {
        jg_audit_log_seal(x.log, jg_audit_now_us());
        jg_audit_log_free(x.log);
    }
    jg_audit_key_free(x.key);
    jg_audit_key_free(x.pub);
    jg_policy_free(x.pol);
    free(cert);
    if (key != NULL)
        explicit_bzero(key, strlen(key));
    free(key);
    return r;
}
