/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/common/test_metrics.c - the metrics registry, its text
 * exposition rendering (escapes, value formats, order) and the /metrics
 * HTTP server in both threaded and poll-driven modes. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "jgtest.h"

static void
test_render(void **state)
{
    struct jg_metrics *m = jg_metrics_new();
    char *out;
    size_t len;

    (void)state;
    assert_int_equal(jg_metrics_declare(m, "jg_total", JG_METRIC_COUNTER,
                                        "Things\\done\nhere"), 0);
    assert_int_equal(jg_metrics_declare(m, "jg_up", JG_METRIC_GAUGE, "Up"), 0);
    /* the same family again is fine, another type is not */
    assert_int_equal(jg_metrics_declare(m, "jg_total", JG_METRIC_COUNTER, "x"), 0);
    assert_int_equal(jg_metrics_declare(m, "jg_total", JG_METRIC_GAUGE, "x"),
                     JG_ERR_EXISTS);
    assert_int_equal(jg_metrics_declare(m, "9bad", JG_METRIC_GAUGE, "x"),
                     JG_ERR_INVALID);
    assert_int_equal(jg_metrics_add(m, "jg_total", 2, "kind", "a\"b\\c\nd",
                                    NULL), 0);
    assert_int_equal(jg_metrics_add(m, "jg_total", 3, "kind", "a\"b\\c\nd",
                                    NULL), 0);
    assert_int_equal(jg_metrics_add(m, "jg_total", 1, "kind", "x", "dir",
                                    "in", NULL), 0);
    assert_int_equal(jg_metrics_add(m, "jg_total", -1, "kind", "x", NULL),
                     JG_ERR_INVALID);
    assert_int_equal(jg_metrics_set(m, "jg_total", 7, NULL), JG_ERR_INVALID);
    assert_int_equal(jg_metrics_add(m, "jg_total", 1, "bad-name", "x", NULL),
                     JG_ERR_INVALID);
    assert_int_equal(jg_metrics_add(m, "jg_nope", 1, NULL), JG_ERR_NOTFOUND);
    assert_int_equal(jg_metrics_set(m, "jg_up", 0.25, NULL), 0);
    assert_int_equal(jg_metrics_set(m, "jg_up", 1e300 * 1e300, "x", "inf",
                                    NULL), 0);
    out = jg_metrics_render(m, &len);
    assert_non_null(out);
    assert_int_equal(len, strlen(out));
    assert_string_equal(out,
        "# HELP jg_total Things\\\\done\\nhere\n"
        "# TYPE jg_total counter\n"
        "jg_total{kind=\"a\\\"b\\\\c\\nd\"} 5\n"
        "jg_total{kind=\"x\",dir=\"in\"} 1\n"
        "# HELP jg_up Up\n"
        "# TYPE jg_up gauge\n"
        "jg_up 0.25\n"
        "jg_up{x=\"inf\"} +Inf\n");
    free(out);
    jg_metrics_free(m);
}

/* An info gauge whose label changes keeps one series. */
static void
test_clear(void **state)
{
    struct jg_metrics *m = jg_metrics_new();
    char *out;
    size_t len;

    assert_int_equal(jg_metrics_declare(m, "jg_info", JG_METRIC_GAUGE, "I"), 0);
    assert_int_equal(jg_metrics_set(m, "jg_info", 1, "digest", "aa", NULL), 0);
    assert_int_equal(jg_metrics_clear(m, "jg_info"), 0);
    assert_int_equal(jg_metrics_set(m, "jg_info", 1, "digest", "bb", NULL), 0);
    assert_int_equal(jg_metrics_clear(m, "jg_nope"), JG_ERR_NOTFOUND);
    out = jg_metrics_render(m, &len);
    assert_string_equal(out, "# HELP jg_info I\n# TYPE jg_info gauge\n"
                             "jg_info{digest=\"bb\"} 1\n");
    free(out);
    /* cleared and left empty: the family stays, without samples */
    assert_int_equal(jg_metrics_clear(m, "jg_info"), 0);
    out = jg_metrics_render(m, &len);
    assert_string_equal(out, "# HELP jg_info I\n# TYPE jg_info gauge\n");
    free(out);
    jg_metrics_free(m);
}

static void
test_big_values(void **state)
{
    struct jg_metrics *m = jg_metrics_new();
    char *out;

    (void)state;
    assert_int_equal(jg_metrics_declare(m, "b", JG_METRIC_COUNTER, "B"), 0);
    assert_int_equal(jg_metrics_add(m, "b", 4294967296.0 * 1024, NULL), 0);
    out = jg_metrics_render(m, NULL);
    assert_non_null(strstr(out, "\nb 4398046511104\n"));
    free(out);
    jg_metrics_free(m);
}

/* Sends req to 127.0.0.1:port and returns the whole answer. When s is
 * not NULL the server is poll-driven and pumped here. */
static char *
http(uint16_t port, const char *req, struct jg_metrics_server *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    static char buf[65536];
    size_t got = 0;
    int fd, i;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    for (i = 0; i < 500; i++) {       /* at most ~5 s */
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = -1}};
        ssize_t n;
        if (s != NULL) {
            p[1].fd = jg_metrics_server_fd(s);
            p[1].events = POLLIN;
        }
        assert_true(poll(p, 2, 10) >= 0);
        if (s != NULL && p[1].revents != 0)
            jg_metrics_server_run(s);
        if (p[0].revents == 0)
            continue;
        n = read(fd, buf + got, sizeof(buf) - 1 - got);
        assert_true(n >= 0);
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return buf;
}

static uint16_t
free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t l = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static int refreshes;

static void
refresh(struct jg_metrics *m, void *arg)
{
    refreshes++;
    jg_metrics_set(m, "g", (double)refreshes, "who", (const char *)arg, NULL);
}

static void
serve(bool threaded)
{
    struct jg_metrics *m = jg_metrics_new();
    struct jg_metrics_server *s = NULL;
    char hp[32], err[256];
    uint16_t port = free_port();
    const char *r;

    refreshes = 0;
    jg_metrics_declare(m, "g", JG_METRIC_GAUGE, "G");
    snprintf(hp, sizeof(hp), "127.0.0.1:%u", (unsigned)port);
    assert_int_equal(jg_metrics_serve(hp, m, threaded, refresh, "me", &s, err,
                                      sizeof(err)), 0);
    r = http(port, "GET /metrics HTTP/1.0\r\n\r\n", threaded ? NULL : s);
    if (strstr(r, "HTTP/1.1 200 OK\r\n") == NULL)
        fail_msg("answer: %s", r);
    assert_non_null(strstr(r, "text/plain; version=0.0.4"));
    assert_non_null(strstr(r, "\r\n\r\n# HELP g G\n# TYPE g gauge\ng{who=\"me\"} 1\n"));
    r = http(port, "GET /other HTTP/1.0\r\n\r\n", threaded ? NULL : s);
    assert_non_null(strstr(r, " 404 "));
    r = http(port, "DELETE /metrics HTTP/1.0\r\n\r\n", threaded ? NULL : s);
    assert_non_null(strstr(r, " 405 "));
    r = http(port, "GET /metrics HTTP/1.0\r\n\r\n", threaded ? NULL : s);
    assert_non_null(strstr(r, "g{who=\"me\"} 2\n"));
    /* the port is taken now */
    {
        struct jg_metrics_server *s2 = NULL;
        assert_int_equal(jg_metrics_serve(hp, m, true, NULL, NULL, &s2, err,
                                          sizeof(err)), JG_ERR_IO);
        assert_non_null(strstr(err, hp));
    }
    jg_metrics_server_free(s);
    jg_metrics_free(m);
}

static void
test_serve_threaded(void **state)
{
    (void)state;
    serve(true);
}

static void
test_serve_polled(void **state)
{
    (void)state;
    serve(false);
}

static void
test_bad_listen(void **state)
{
    struct jg_metrics *m = jg_metrics_new();
    struct jg_metrics_server *s = NULL;
    char err[256];

    (void)state;
    assert_int_equal(jg_metrics_serve("localhost:9469", m, true, NULL, NULL,
                                      &s, err, sizeof(err)), JG_ERR_INVALID);
    assert_non_null(strstr(err, "localhost:9469"));
    assert_int_equal(jg_metrics_serve("127.0.0.1", m, true, NULL, NULL, &s,
                                      err, sizeof(err)), JG_ERR_INVALID);
    assert_null(s);
    jg_metrics_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_big_values),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_serve_threaded),
        cmocka_unit_test(test_serve_polled),
        cmocka_unit_test(test_bad_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
