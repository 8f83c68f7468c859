/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/common/test_addr.c - addresses, CIDRs, canonical CIDR sets and
 * host:port strings. */
#include "jgtest.h"

static const char *
fmt(const struct jg_cidr *c)
{
    static char buf[JG_CIDR_STRLEN];

    jg_cidr_format(c, buf, sizeof(buf));
    return buf;
}

static void
test_cidr_parse(void **state)
{
    static const struct { const char *in, *out; bool host; } ok[] = {
        {"10.0.0.0/8", "10.0.0.0/8", false},
        {"10.1.2.3/8", "10.0.0.0/8", true},
        {"192.0.2.7", "192.0.2.7/32", false},
        {"0.0.0.0/0", "0.0.0.0/0", false},
        {"2001:DB8::1/32", "2001:db8::/32", true},
        {"::/0", "::/0", false},
        {"fe80::1", "fe80::1/128", false},
        {"::ffff:192.0.2.1", "192.0.2.1/32", false},
        {"::ffff:192.0.2.0/120", "192.0.2.0/24", false},
    };
    static const char *const bad[] = {"", "10.0.0.0/33", "10.0.0/8", "10.0.0.0/", "/8",
        "10.0.0.0/8/8", "2001:db8::/129", "x", "10.0.0.0/-1", "10.0.0.0/08x",
        "1.2.3.4 ", "::ffff:1.2.3.4/64"};
    struct jg_cidr c;
    bool host;
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(jg_cidr_parse(ok[i].in, &c, &host), 0);
        assert_string_equal(fmt(&c), ok[i].out);
        assert_int_equal(host, ok[i].host);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (jg_cidr_parse(bad[i], &c, NULL) == 0)
            fail_msg("accepted bad CIDR '%s'", bad[i]);
    }
}

static void
test_contains(void **state)
{
    struct jg_cidr c;
    struct jg_addr a;

    assert_int_equal(jg_cidr_parse("203.0.113.0/25", &c, NULL), 0);
    assert_int_equal(jg_addr_parse("203.0.113.127", &a), 0);
    assert_true(jg_cidr_contains(&c, &a));
    assert_int_equal(jg_addr_parse("203.0.113.128", &a), 0);
    assert_false(jg_cidr_contains(&c, &a));
    assert_int_equal(jg_addr_parse("::ffff:203.0.113.1", &a), 0);
    assert_true(jg_cidr_contains(&c, &a));
    assert_int_equal(jg_cidr_parse("2001:db8:8000::/33", &c, NULL), 0);
    assert_int_equal(jg_addr_parse("2001:db8:8000::1", &a), 0);
    assert_true(jg_cidr_contains(&c, &a));
    assert_int_equal(jg_addr_parse("2001:db8:7fff::1", &a), 0);
    assert_false(jg_cidr_contains(&c, &a));
    assert_int_equal(jg_addr_parse("203.0.113.1", &a), 0);
    assert_false(jg_cidr_contains(&c, &a)); /* families differ */
}

static void
test_canonical_set(void **state)
{
    static const char *const in[] = {"10.0.0.0/9", "10.128.0.0/9", "10.1.0.0/16",
        "192.0.2.0/25", "192.0.2.128/26", "192.0.2.192/26", "2001:db8::/48",
        "2001:db8::/48", "2001:db8:0:1::/64", "198.51.100.1", "198.51.100.3"};
    static const char *const want[] = {"10.0.0.0/8", "192.0.2.0/24", "198.51.100.1/32",
        "198.51.100.3/32", "2001:db8::/48"};
    struct jg_cidr v[16];
    size_t n = sizeof(in) / sizeof(in[0]), i;

    for (i = 0; i < n; i++)
        assert_int_equal(jg_cidr_parse(in[i], &v[i], NULL), 0);
    n = jg_cidr_canonicalize(v, n);
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (i = 0; i < n; i++)
        assert_string_equal(fmt(&v[i]), want[i]);
    assert_int_equal(jg_cidr_canonicalize(v, 0), 0);
}

static void
test_hostport(void **state)
{
    static const struct { const char *in, *host; uint16_t port; } ok[] = {
        {"10.0.1.11:22", "10.0.1.11", 22},
        {"[2001:db8::1]:22", "2001:db8::1", 22},
        {"shop.abc.eu-west-1.rds.amazonaws.com:3306", "shop.abc.eu-west-1.rds.amazonaws.com", 3306},
        {"localhost:65535", "localhost", 65535},
    };
    static const char *const bad[] = {"", "10.0.0.1", "10.0.0.1:", ":22", "h:0", "h:65536",
        "2001:db8::1:22", "[2001:db8::1]22", "[nothost]:22", "h:22x", "h o:22", "h:+22"};
    char *host;
    uint16_t port;
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(jg_hostport_parse(ok[i].in, &host, &port), 0);
        assert_string_equal(host, ok[i].host);
        assert_int_equal(port, ok[i].port);
        free(host);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (jg_hostport_parse(bad[i], &host, &port) == 0)
            fail_msg("accepted bad address '%s'", bad[i]);
        assert_null(host);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_parse),
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_canonical_set),
        cmocka_unit_test(test_hostport),
    };

    return cmocka_run_group_tests_name("common/addr", tests, NULL, NULL);
}
