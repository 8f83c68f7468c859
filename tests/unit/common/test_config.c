/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/common/test_config.c - jumpgate.yaml: the example configuration
 * loads with its paths resolved; bad values are reported with positions. */
#include <unistd.h>

#include "jgtest.h"

static char path[64];

static void
put(const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int
setup(void **state)
{
    int fd;

    snprintf(path, sizeof(path), "/tmp/jg-config-XXXXXX");
    if ((fd = mkstemp(path)) < 0)
        return -1;
    close(fd);
    return 0;
}

static int
teardown(void **state)
{
    return unlink(path);
}

static void
test_full_example(void **state)
{
    struct jg_config *c = NULL;
    struct jg_diags d = {0};

    put("listen: [\"0.0.0.0:22\", \"[::]:22\"]\n"
        "host_keys: [/etc/jumpgate/ssh_host_ed25519_key]\n"
        "policy: policy.yaml\n"
        "upstream:\n  identity: /etc/jumpgate/upstream_ed25519\n  known_hosts: known_hosts\n"
        "pam_service: jumpgate\n"
        "audit:\n  dir: /var/lib/jumpgate\n  signing_key: /etc/jumpgate/audit_ed25519.pem\n"
        "  on_failure: refuse\n  s3: {bucket: shop-audit, prefix: jump-1/, region: eu-west-1}\n"
        "metrics: {listen: \"127.0.0.1:9469\"}\n"
        "limits: {max_startups: 64, login_grace: 30s, idle_timeout: 30m,\n"
        "         auth_failures: {max: 5, window: 10m, ban: 15m},\n"
        "         per_source_startups: 6,\n"
        "         penalties: {grace_exceeded: 20s, noauth: 0s, min: 1m, max: 1h}}\n"
        "sync:\n  interval: 60s\n  aws: {region: eu-west-1}\n"
        "  cloudflare: {account_id: \"abc\", api_token_file: /etc/jumpgate/cloudflare.token}\n"
        "  max_removals: 10\n  metrics: {listen: \"127.0.0.1:9470\"}\n");
    if (jg_config_load(path, &c, &d) != 0)
        jg_diags_print(&d, stderr);
    assert_non_null(c);
    assert_int_equal(c->n_listen, 2);
    assert_string_equal(c->listen[1], "[::]:22");
    assert_string_equal(c->policy, "/tmp/policy.yaml");
    assert_string_equal(c->upstream_known_hosts, "/tmp/known_hosts");
    assert_string_equal(c->upstream_identity, "/etc/jumpgate/upstream_ed25519");
    assert_int_equal(c->login_grace, 30);
    assert_int_equal(c->idle_timeout, 1800);
    assert_int_equal(c->auth_fail_ban, 900);
    assert_int_equal(c->per_source_startups, 6);
    assert_int_equal(c->pen_grace, 20);
    assert_int_equal(c->pen_noauth, 0);
    assert_int_equal(c->pen_min, 60);
    assert_int_equal(c->pen_max, 3600);
    assert_string_equal(c->s3_bucket, "shop-audit");
    assert_string_equal(c->metrics_listen, "127.0.0.1:9469");
    assert_string_equal(c->cf_api_base, "https://api.cloudflare.com/client/v4");
    assert_int_equal(c->max_removals, 10);
    jg_config_free(c);
}

static void
test_errors(void **state)
{
    struct jg_config *c = NULL;
    struct jg_diags d = {0};
    char *t;

    put("listen: [\"0.0.0.0\"]\n"
        "policy: policy.yaml\n"
        "audit: {on_failure: maybe}\n"
        "limits: {login_grace: soon, max_startups: -1}\n"
        "colour: blue\n");
    assert_int_equal(jg_config_load(path, &c, &d), JG_ERR_INVALID);
    assert_null(c);
    t = diags_text(&d);
    assert_non_null(strstr(t, "1:10: listen: bad address '0.0.0.0'"));
    assert_non_null(strstr(t, "3:21: audit.on_failure must be"));
    assert_non_null(strstr(t, "4:23: limits.login_grace: bad duration 'soon'"));
    assert_non_null(strstr(t, "4:43: limits.max_startups must be"));
    assert_non_null(strstr(t, "5:1: unknown key 'colour'"));
    free(t);
    jg_diags_clear(&d);
    put("listen: [\"0.0.0.0:22\"]\n");
    assert_int_equal(jg_config_load(path, &c, &d), JG_ERR_INVALID);
    assert_non_null(strstr(d.v[0].msg, "needs 'policy'"));
    jg_diags_clear(&d);
    assert_int_equal(jg_config_load("/nonexistent/jumpgate.yaml", &c, &d), JG_ERR_IO);
    jg_diags_clear(&d);
}

/* limits.idle_timeout: a positive duration, or an error with its place. */
static void
test_idle_timeout(void **state)
{
    static const struct {
        const char *text, *want;
        int64_t secs;
    } cases[] = {
        {"limits: {idle_timeout: 2s}\n", NULL, 2},
        {"limits: {idle_timeout: 1h30m}\n", NULL, 5400},
        {"limits: {login_grace: 5s}\n", NULL, 1800},
        {"limits: {idle_timeout: 0s}\n", "3:24: limits.idle_timeout: bad duration '0s'", 0},
        {"limits: {idle_timeout: 30}\n", "3:24: limits.idle_timeout: bad duration '30'", 0},
        {"limits:\n  idle_timeout: [30m]\n", "4:17: limits.idle_timeout", 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jg_config *c = NULL;
        struct jg_diags d = {0};
        char *text = jg_xasprintf("listen: [\"127.0.0.1:22\"]\npolicy: p.yaml\n%s",
                                  cases[i].text), *t;
        int r;

        put(text);
        r = jg_config_load(path, &c, &d);
        t = diags_text(&d);
        if (cases[i].want == NULL) {
            if (r != 0 || c == NULL || c->idle_timeout != cases[i].secs)
                fail_msg("case %zu: r=%d diags=%s", i, r, t);
        } else if (r != JG_ERR_INVALID || c != NULL ||
                   strstr(t, cases[i].want) == NULL) {
            fail_msg("case %zu: r=%d diags=%s, want %s", i, r, t,
                     cases[i].want);
        }
        free(t);
        free(text);
        jg_config_free(c);
        jg_diags_clear(&d);
    }
}

static void
test_seal_interval(void **state)
{
    static const struct {
        const char *text, *want;
        int64_t secs;
    } cases[] = {
        {"audit: {dir: /a}\n", NULL, 60},
        {"audit: {seal_interval: 1s}\n", NULL, 1},
        {"audit: {seal_interval: 1m}\n", NULL, 60},
        {"audit: {seal_interval: 61s}\n",
         "3:24: audit.seal_interval must be 1s to 60s", 0},
        {"audit: {seal_interval: 5m}\n",
         "3:24: audit.seal_interval must be 1s to 60s", 0},
        {"audit: {seal_interval: often}\n",
         "3:24: audit.seal_interval: bad duration 'often'", 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jg_config *c = NULL;
        struct jg_diags d = {0};
        char *text = jg_xasprintf("listen: [\"127.0.0.1:22\"]\npolicy: p.yaml\n%s",
                                  cases[i].text), *t;
        int r;

        put(text);
        r = jg_config_load(path, &c, &d);
        t = diags_text(&d);
        if (cases[i].want == NULL) {
            if (r != 0 || c == NULL || c->audit_seal_interval != cases[i].secs)
                fail_msg("case %zu: r=%d diags=%s", i, r, t);
        } else if (r != JG_ERR_INVALID || c != NULL ||
                   strstr(t, cases[i].want) == NULL) {
            fail_msg("case %zu: r=%d diags=%s, want %s", i, r, t,
                     cases[i].want);
        }
        free(t);
        free(text);
        jg_config_free(c);
        jg_diags_clear(&d);
    }
}

/* upstream.ca and the certificates it signs. */
static void
test_upstream_certs(void **state)
{
    static const struct {
        const char *text, *want, *source;
        int64_t validity;
    } cases[] = {
        {"upstream: {identity: /k}\n", NULL, NULL, 300},
        {"upstream: {ca: /ca, cert_validity: 2m}\n", NULL, NULL, 120},
        {"upstream: {ca: /ca, cert_source_address: [10.0.0.5/32, \"::1\"]}\n",
         NULL, "10.0.0.5/32,::1", 300},
        {"upstream: {ca: /ca, cert_validity: 30s}\n",
         "3:36: upstream.cert_validity must be 1m to 1h", NULL, 0},
        {"upstream: {ca: /ca, cert_validity: 2h}\n",
         "3:36: upstream.cert_validity must be 1m to 1h", NULL, 0},
        {"upstream: {ca: /ca, cert_source_address: [10.0.0.5/32, nowhere]}\n",
         "3:56: upstream.cert_source_address: 'nowhere' is not an address", NULL,
         0},
        {"upstream: {ca: /ca, cert_source_address: 10.0.1.9/24}\n",
         "3:42: upstream.cert_source_address: '10.0.1.9/24' has bits set past "
         "its prefix length (meant 10.0.1.0/24?)", NULL, 0},
        {"upstream: {ca: /ca, cert_source_address: []}\n",
         "3:42: upstream.cert_source_address needs at least one address", NULL,
         0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jg_config *c = NULL;
        struct jg_diags d = {0};
        char *text = jg_xasprintf("listen: [\"127.0.0.1:22\"]\npolicy: p.yaml\n%s",
                                  cases[i].text), *t;
        int r;

        put(text);
        r = jg_config_load(path, &c, &d);
        t = diags_text(&d);
        if (cases[i].want == NULL) {
            if (r != 0 || c == NULL ||
                c->upstream_cert_validity != cases[i].validity ||
                (cases[i].source == NULL) != (c->upstream_cert_source == NULL) ||
                (cases[i].source != NULL &&
                 strcmp(cases[i].source, c->upstream_cert_source) != 0))
                fail_msg("case %zu: r=%d diags=%s", i, r, t);
        } else if (r != JG_ERR_INVALID || c != NULL ||
                   strstr(t, cases[i].want) == NULL) {
            fail_msg("case %zu: r=%d diags=%s, want %s", i, r, t,
                     cases[i].want);
        }
        free(t);
        free(text);
        jg_config_free(c);
        jg_diags_clear(&d);
    }
}

static void
test_console(void **state)
{
    static const struct {
        const char *text, *want, *listen;
        int64_t timeout;
    } cases[] = {
        {"audit: {dir: /a, console: {listen: \"127.0.0.1:8443\"}}\n", NULL,
         "127.0.0.1:8443", 1800},
        {"audit: {dir: /a, console: {listen: \"[::1]:8443\", session_timeout: 5m}}\n",
         NULL, "[::1]:8443", 300},
        {"audit: {dir: /a, console: {listen: \"0.0.0.0:8443\", tls_cert: /c, "
         "tls_key: /k}}\n", NULL, "0.0.0.0:8443", 1800},
        {"audit: {dir: /a, console: {listen: \"0.0.0.0:8443\"}}\n",
         "3:36: audit.console.listen: '0.0.0.0:8443' is not loopback", NULL, 0},
        {"audit: {dir: /a, console: {listen: \"10.0.0.5:8443\", tls_cert: /c}}\n",
         "needs both tls_cert and tls_key", NULL, 0},
        {"audit: {dir: /a, console: {tls_cert: /c, tls_key: /k}}\n",
         "3:27: audit.console needs listen", NULL, 0},
        {"audit: {dir: /a, console: {listen: \"127.0.0.1:80\", session_timeout: 2d}}\n",
         "session_timeout must be 1m to 24h", NULL, 0},
        {"audit: {dir: /a, console: {listen: \"127.0.0.1\"}}\n",
         "audit.console.listen: bad address", NULL, 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jg_config *c = NULL;
        struct jg_diags d = {0};
        char *text = jg_xasprintf("listen: [\"127.0.0.1:22\"]\npolicy: p.yaml\n%s",
                                  cases[i].text), *t;
        int r;

        put(text);
        r = jg_config_load(path, &c, &d);
        t = diags_text(&d);
        if (cases[i].want == NULL) {
            if (r != 0 || c == NULL || c->console_listen == NULL ||
                strcmp(c->console_listen, cases[i].listen) != 0 ||
                c->console_session_timeout != cases[i].timeout)
                fail_msg("case %zu: r=%d diags=%s", i, r, t);
        } else if (r != JG_ERR_INVALID || strstr(t, cases[i].want) == NULL) {
            fail_msg("case %zu: r=%d diags=%s, want %s", i, r, t,
                     cases[i].want);
        }
        free(t);
        free(text);
        jg_config_free(c);
        jg_diags_clear(&d);
    }
}

static void
test_source_limits(void **state)
{
    static const struct {
        const char *text, *want;
        int per_source;
        int64_t grace, noauth, min, max;
    } cases[] = {
        {"limits: {login_grace: 5s}\n", NULL, 10, 10, 1, 15, 600},
        {"limits: {per_source_startups: 3, penalties: {noauth: 0s}}\n", NULL,
         3, 10, 0, 15, 600},
        {"limits: {penalties: {grace_exceeded: 0, min: 0s, max: 1m}}\n", NULL,
         10, 0, 1, 0, 60},
        {"limits: {per_source_startups: 0}\n",
         "3:31: limits.per_source_startups must be a whole number from 1", 0,
         0, 0, 0, 0},
        {"limits: {penalties: {noauth: often}}\n",
         "3:30: limits.penalties.noauth: bad duration 'often'", 0, 0, 0, 0, 0},
        {"limits: {penalties: {min: 1h, max: 10m}}\n",
         "3:36: limits.penalties.max must be more than zero and not less",
         0, 0, 0, 0, 0},
        {"limits: {penalties: {max: 0s}}\n",
         "3:27: limits.penalties.max: bad duration '0s'", 0, 0, 0, 0, 0},
        {"limits: {penalties: {crash: 90s}}\n",
         "unknown key 'crash'", 0, 0, 0, 0, 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jg_config *c = NULL;
        struct jg_diags d = {0};
        char *text = jg_xasprintf("listen: [\"127.0.0.1:22\"]\npolicy: p.yaml\n%s",
                                  cases[i].text), *t;
        int r;

        put(text);
        r = jg_config_load(path, &c, &d);
        t = diags_text(&d);
        if (cases[i].want == NULL) {
            if (r != 0 || c == NULL ||
                c->per_source_startups != cases[i].per_source ||
                c->pen_grace != cases[i].grace ||
                c->pen_noauth != cases[i].noauth ||
                c->pen_min != cases[i].min || c->pen_max != cases[i].max)
                fail_msg("case %zu: r=%d diags=%s", i, r, t);
        } else if (r != JG_ERR_INVALID || c != NULL ||
                   strstr(t, cases[i].want) == NULL) {
            fail_msg("case %zu: r=%d diags=%s, want %s", i, r, t,
                     cases[i].want);
        }
        free(t);
        free(text);
        jg_config_free(c);
        jg_diags_clear(&d);
    }
}

static void
test_startups_and_control(void **state)
{
    static const struct {
        const char *value;
        int begin, rate, full;   /* begin 0: refused */
    } cases[] = {
        {"10", 10, 100, 10},
        {"10:30:100", 10, 30, 100},
        {"1:100:2", 1, 100, 2},
        {"0", 0, 0, 0},
        {"10:30", 0, 0, 0},
        {"10:30:10", 0, 0, 0},
        {"10:0:100", 0, 0, 0},
        {"10:101:100", 0, 0, 0},
        {"10:30:100:5", 0, 0, 0},
        {"\"10\"", 0, 0, 0},
        {"\"10:30:100\"", 10, 30, 100},
        {"1x", 0, 0, 0},
        {"10::100", 0, 0, 0},
        {"100001", 0, 0, 0},
    };
    struct jg_config *c = NULL;
    struct jg_diags d = {0};
    char text[256];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text),
                 "policy: p.yaml\nlimits: {max_startups: %s}\n",
                 cases[i].value);
        put(text);
        if (cases[i].begin == 0) {
            assert_int_equal(jg_config_load(path, &c, &d), JG_ERR_INVALID);
            assert_int_equal(d.n, 1);
            assert_int_equal(d.v[0].line, 2);
            assert_int_equal(d.v[0].col, 24);
            assert_non_null(strstr(d.v[0].msg, "limits.max_startups"));
            jg_diags_clear(&d);
            continue;
        }
        assert_int_equal(jg_config_load(path, &c, &d), 0);
        assert_int_equal(c->startups_begin, cases[i].begin);
        assert_int_equal(c->startups_rate, cases[i].rate);
        assert_int_equal(c->startups_full, cases[i].full);
        assert_int_equal(c->max_startups, cases[i].full);
        assert_string_equal(c->control_socket, JG_CONTROL_SOCKET_DEFAULT);
        jg_config_free(c);
    }
    put("policy: p.yaml\ncontrol_socket: ctl.sock\n");
    assert_int_equal(jg_config_load(path, &c, &d), 0);
    assert_string_equal(c->control_socket, "/tmp/ctl.sock");
    jg_config_free(c);
    memset(text, 'x', 150);
    text[150] = '\0';
    {
        char doc[300];
        snprintf(doc, sizeof(doc), "policy: p.yaml\ncontrol_socket: /%s\n",
                 text);
        put(doc);
    }
    assert_int_equal(jg_config_load(path, &c, &d), JG_ERR_INVALID);
    assert_int_equal(d.v[0].line, 2);
    assert_int_equal(d.v[0].col, 17);
    assert_non_null(strstr(d.v[0].msg, "control_socket: the path is longer"));
    jg_diags_clear(&d);
}

static void
test_yaml_limits(void **state)
{
    struct jg_ynode *root = NULL;
    struct jg_diags d = {0};
    char deep[400];
    size_t i;

    for (i = 0; i < 100; i++)
        deep[i] = '[';
    deep[100] = '\0';
    assert_int_equal(jg_yaml_parse("deep", deep, 100, &root, &d), JG_ERR_INVALID);
    assert_null(root);
    jg_diags_clear(&d);
    assert_int_equal(jg_yaml_parse("nul", "a: \"x\\0y\"\n", 10, &root, &d), JG_ERR_INVALID);
    jg_diags_clear(&d);
    assert_int_equal(jg_yaml_parse("two", "a: 1\n---\nb: 2\n", 14, &root, &d), JG_ERR_INVALID);
    jg_diags_clear(&d);
    assert_int_equal(jg_yaml_parse("tag", "a: !!str 1\n", 11, &root, &d), JG_ERR_INVALID);
    jg_diags_clear(&d);
    assert_int_equal(jg_yaml_parse("empty", "", 0, &root, &d), 0);
    assert_null(root);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_example),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_seal_interval),
        cmocka_unit_test(test_yaml_limits),
        cmocka_unit_test(test_startups_and_control),
        cmocka_unit_test(test_source_limits),
        cmocka_unit_test(test_console),
        cmocka_unit_test(test_upstream_certs),
    };

    return cmocka_run_group_tests_name("common/config", tests, setup, teardown);
}
