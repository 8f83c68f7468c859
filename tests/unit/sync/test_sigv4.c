/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/sync/test_sigv4.c - runs the AWS SigV4 test-suite vectors
 * ($JG_SIGV4_DIR, or build/sigv4-suite, which `make deps` fetches from
 * Debian's node-aws4 source package: deps/sigv4-suite.sh) through libcurl's
 * CURLOPT_AWS_SIGV4 signer, which sync/ uses, to a loopback listener, and
 * compares the Authorization header curl sends with the suite's. The vectors
 * shaped like what jumpgate sends must match; the others are reported. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "jgtest.h"

#define SUITE_REL "build/sigv4-suite"

/* The vectors; must: shaped like our requests (POST to "/", form or JSON
 * body, single-line headers, session token signed as a header). */
static const struct {
    const char *path;
    bool must;
} vectors[] = {
    {"post-vanilla/post-vanilla", true},
    {"post-x-www-form-urlencoded/post-x-www-form-urlencoded", true},
    {"post-x-www-form-urlencoded-parameters/"
     "post-x-www-form-urlencoded-parameters", true},
    {"post-header-key-case/post-header-key-case", true},
    {"post-header-key-sort/post-header-key-sort", true},
    {"post-header-value-case/post-header-value-case", true},
    {"post-sts-token/post-sts-header-before/post-sts-header-before", true},
    {"post-sts-token/post-sts-header-after/post-sts-header-after", true},
    {"get-vanilla/get-vanilla", true},
    {"get-header-value-trim/get-header-value-trim", true},
    {"get-unreserved/get-unreserved", true},
    /* Not sent by jumpgate: query strings, path normalisation, UTF-8 paths,
     * repeated and multi-line headers. */
    {"post-vanilla-query/post-vanilla-query", false},
    {"post-vanilla-empty-query-value/post-vanilla-empty-query-value", false},
    {"get-vanilla-query/get-vanilla-query", false},
    {"get-vanilla-empty-query-key/get-vanilla-empty-query-key", false},
    {"get-vanilla-query-order-key/get-vanilla-query-order-key", false},
    {"get-vanilla-query-order-key-case/get-vanilla-query-order-key-case",
     false},
    {"get-vanilla-query-order-value/get-vanilla-query-order-value", false},
    {"get-vanilla-query-unreserved/get-vanilla-query-unreserved", false},
    {"get-vanilla-utf8-query/get-vanilla-utf8-query", false},
    {"get-utf8/get-utf8", false},
    {"get-header-key-duplicate/get-header-key-duplicate", false},
    {"get-header-value-multiline/get-header-value-multiline", false},
    {"get-header-value-order/get-header-value-order", false},
    {"normalize-path/get-slash/get-slash", false},
};

static char suite_dir[4096];

/* $JG_SIGV4_DIR, or SUITE_REL in the working folder or one of its parents
 * (the repository's root). */
static bool
find_suite(void)
{
    const char *e = getenv("JG_SIGV4_DIR");
    char cwd[2048], probe[4200];
    struct stat st;
    char *slash;

    if (e != NULL && *e != '\0') {
        snprintf(suite_dir, sizeof(suite_dir), "%s", e);
        return true;
    }
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return false;
    for (;;) {
        snprintf(probe, sizeof(probe), "%s/%s/debian-version", cwd, SUITE_REL);
        if (stat(probe, &st) == 0) {
            snprintf(suite_dir, sizeof(suite_dir), "%s/%s", cwd, SUITE_REL);
            return true;
        }
        if ((slash = strrchr(cwd, '/')) == NULL || slash == cwd)
            return false;
        *slash = '\0';
    }
}

static char *
slurp(const char *path)
{
    char *data = NULL;
    size_t len;

    if (jg_read_file(path, 1u << 20, &data, &len) != 0)
        return NULL;
    return data;
}

/* ---- a one-request loopback HTTP listener ------------------------------ */

struct listener {
    int fd;
    int port;
    char authz[1024];
};

static void *
serve_one(void *arg)
{
    struct listener *l = arg;
    static const char ok[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    char buf[16384];
    size_t got = 0;
    ssize_t k;
    char *p, *end;
    int c = accept(l->fd, NULL, NULL);

    l->authz[0] = '\0';
    if (c < 0)
        return NULL;
    while (got < sizeof(buf) - 1) {
        if ((k = read(c, buf + got, sizeof(buf) - 1 - got)) <= 0)
            break;
        got += (size_t)k;
        buf[got] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL)
            break;
    }
    buf[got] = '\0';
    if ((p = strcasestr(buf, "\r\nAuthorization: ")) != NULL) {
        p += strlen("\r\nAuthorization: ");
        if ((end = strstr(p, "\r\n")) != NULL) {
            size_t n = (size_t)(end - p);

            if (n >= sizeof(l->authz))
                n = sizeof(l->authz) - 1;
            memcpy(l->authz, p, n);
            l->authz[n] = '\0';
        }
    }
    if (write(c, ok, sizeof(ok) - 1) < 0) {
        /* the client sees a broken answer; authz is what we compare */
    }
    close(c);
    return NULL;
}

static void
listener_open(struct listener *l)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof(a);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    l->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l->fd >= 0);
    assert_int_equal(bind(l->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l->fd, 4), 0);
    assert_int_equal(getsockname(l->fd, (struct sockaddr *)&a, &al), 0);
    l->port = ntohs(a.sin_port);
}

/* ---- driving curl with a vector's .req --------------------------------- */

static size_t
discard(char *d, size_t s, size_t n, void *arg)
{
    (void)d;
    (void)arg;
    return s * n;
}

/* Sends the request of req_text through curl's signer; the Authorization
 * header it sent lands in l->authz. */
static void
sign_with_curl(struct listener *l, const char *req_text)
{
    char *text = jg_xstrdup(req_text), *body, *line, *save = NULL;
    char method[16] = "", path[2048] = "", url[2200];
    struct curl_slist *h = NULL;
    char *last = NULL;
    pthread_t th;
    CURL *c;

    body = strstr(text, "\n\n");
    if (body != NULL) {
        *body = '\0';
        body += 2;
    }
    line = strtok_r(text, "\n", &save);
    assert_non_null(line);
    {
        char *sp1 = strchr(line, ' '), *sp2 = strrchr(line, ' ');

        assert_true(sp1 != NULL && sp2 != NULL && sp2 > sp1);
        snprintf(method, sizeof(method), "%.*s", (int)(sp1 - line), line);
        snprintf(path, sizeof(path), "%.*s", (int)(sp2 - sp1 - 1), sp1 + 1);
    }
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *colon = strchr(line, ':');

        if (line[0] == ' ' || line[0] == '\t' || colon == NULL) {
            /* a continuation line: joined to the header before it */
            char *joined = jg_xasprintf("%s,%s", last != NULL ? last : "",
                                        line);

            free(last);
            last = joined;
            continue;
        }
        if (last != NULL)
            h = curl_slist_append(h, last);
        free(last);
        last = jg_xasprintf("%.*s: %s", (int)(colon - line), line, colon + 1);
    }
    if (last != NULL)
        h = curl_slist_append(h, last);
    free(last);

    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", l->port, path);
    assert_int_equal(pthread_create(&th, NULL, serve_one, l), 0);
    c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:service");
    curl_easy_setopt(c, CURLOPT_USERNAME, "AKIDEXAMPLE");
    curl_easy_setopt(c, CURLOPT_PASSWORD,
                     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (body != NULL && *body != '\0') {
        size_t bl = strlen(body);

        while (bl > 0 && body[bl - 1] == '\n')
            bl--;
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)bl);
        curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, body);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    }
    curl_easy_perform(c);
    pthread_join(th, NULL);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(text);
}

static void
test_suite(void **state)
{
    struct listener l;
    size_t i, must_ok = 0, other_ok = 0, others = 0;

    (void)state;
    if (!find_suite())
        fail_msg("SigV4 suite not found: run 'make deps' (which fetches it "
                 "into %s) or set JG_SIGV4_DIR", SUITE_REL);
    listener_open(&l);
    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char p[4600];
        char *req, *authz;
        size_t n;

        snprintf(p, sizeof(p), "%s/%s.req", suite_dir, vectors[i].path);
        req = slurp(p);
        snprintf(p, sizeof(p), "%s/%s.authz", suite_dir, vectors[i].path);
        authz = slurp(p);
        if (req == NULL || authz == NULL)
            fail_msg("%s: vector files missing in %s", vectors[i].path,
                     suite_dir);
        n = strlen(authz);
        while (n > 0 && (authz[n - 1] == '\n' || authz[n - 1] == '\r'))
            authz[--n] = '\0';
        sign_with_curl(&l, req);
        if (vectors[i].must) {
            if (strcmp(l.authz, authz) != 0)
                fail_msg("%s:%d: vector %s\n  want %s\n  got  %s", __FILE__,
                         __LINE__, vectors[i].path, authz, l.authz);
            must_ok++;
        } else {
            others++;
            if (strcmp(l.authz, authz) == 0)
                other_ok++;
            else
                print_message("info: libcurl differs on %s (a shape "
                              "jumpgate never sends)\n", vectors[i].path);
        }
        free(req);
        free(authz);
    }
    print_message("sigv4: %zu/%zu required vectors match; %zu/%zu others\n",
                  must_ok, must_ok, other_ok, others);
    close(l.fd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
