/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/gateway/test_gw_cert.c - the OpenSSH certificates of
 * gateway/monitor/cert.c: a user certificate the monitor makes reads back,
 * field for field, as OpenSSH's own `ssh-keygen -L -f` prints it (type,
 * key, CA, key id, serial, validity, principal, source-address,
 * permit-pty), and as jg_gw_cert_parse() reads it; a changed byte,
 * truncation, junk after the signature and another CA's signature are
 * refused. The sources are compiled in here (jumpgated is not a library). */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "jgtest.h"

#define JG_GW_ROOM_MONITOR
#include "gateway/daemon/escape.c"
#include "gateway/monitor/wire.c"
#include "gateway/monitor/cert.c"

struct kp {
    EVP_PKEY *k;
    uint8_t pub[32];
    uint8_t blob[51];        /* string "ssh-ed25519", string pub */
};

static void
kp_new(struct kp *p)
{
    size_t n = sizeof(p->pub);
    struct jg_gw_wr w = {0};

    p->k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(p->k);
    assert_int_equal(EVP_PKEY_get_raw_public_key(p->k, p->pub, &n), 1);
    jg_gw_wr_cstr(&w, "ssh-ed25519");
    jg_gw_wr_str(&w, p->pub, 32);
    assert_int_equal(w.n, sizeof(p->blob));
    memcpy(p->blob, w.p, w.n);
    free(w.p);
}

/* "SHA256:..." as ssh-keygen prints it: base64 without padding. */
static void
fingerprint(const uint8_t *blob, size_t n, char *out, size_t outn)
{
    uint8_t md[32];
    char *b64;
    size_t l;

    EVP_Digest(blob, n, md, NULL, EVP_sha256(), NULL);
    b64 = jg_gw_b64(md, sizeof(md));
    for (l = strlen(b64); l > 0 && b64[l - 1] == '='; l--)
        b64[l - 1] = '\0';
    snprintf(out, outn, "SHA256:%s", b64);
    free(b64);
}

/* What `ssh-keygen -L -f` prints for the certificate, in UTC. */
static char *
keygen_list(const struct jg_gw_wr *cert)
{
    char path[] = "/tmp/jg-cert-XXXXXX", cmd[128], *b64, *out;
    size_t cap = 8192, n = 0, got;
    FILE *f, *p;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    b64 = jg_gw_b64(cert->p, cert->n);
    fprintf(f, "ssh-ed25519-cert-v01@openssh.com %s test\n", b64);
    fclose(f);
    free(b64);
    snprintf(cmd, sizeof(cmd), "TZ=UTC ssh-keygen -L -f %s 2>&1", path);
    p = popen(cmd, "r");
    assert_non_null(p);
    out = malloc(cap);
    while ((got = fread(out + n, 1, cap - 1 - n, p)) > 0)
        n += got;
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    unlink(path);
    return out;
}

static void
utc(uint64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* out holds the line, trimmed of its leading blanks. */
static void
assert_line(const char *out, const char *line)
{
    const char *p = out;
    size_t n = strlen(line);

    while ((p = strstr(p, line)) != NULL) {
        const char *b = p;
        while (b > out && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if ((b == out || b[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return;
        p += n;
    }
    fail_msg("ssh-keygen -L printed no line \"%s\":\n%s", line, out);
}

static void
test_user_cert_as_ssh_keygen_reads_it(void **state)
{
    struct kp ca, key;
    struct jg_gw_wr cert = {0};
    struct jg_gw_cert_spec s = {
        .serial = 9007199254740991ULL,
        .key_id = "jumpgate:alice:0193a5b0-7c1d-7e2f-8a9b-0c1d2e3f4a5b",
        .principal = "deploy",
        .valid_after = 1767225540,
        .valid_before = 1767225900,
        .source_address = "10.0.0.5/32,192.0.2.0/24",
        .permit_pty = true,
    };
    char line[256], fp[128], from[32], to[32], *out;

    (void)state;
    kp_new(&ca);
    kp_new(&key);
    assert_int_equal(jg_gw_cert_make(ca.k, ca.blob, sizeof(ca.blob), key.pub,
                                     &s, &cert), 0);
    out = keygen_list(&cert);
    assert_line(out, "Type: ssh-ed25519-cert-v01@openssh.com user certificate");
    fingerprint(key.blob, sizeof(key.blob), fp, sizeof(fp));
    snprintf(line, sizeof(line), "Public key: ED25519-CERT %s", fp);
    assert_line(out, line);
    fingerprint(ca.blob, sizeof(ca.blob), fp, sizeof(fp));
    snprintf(line, sizeof(line), "Signing CA: ED25519 %s (using ssh-ed25519)",
             fp);
    assert_line(out, line);
    snprintf(line, sizeof(line), "Key ID: \"%s\"", s.key_id);
    assert_line(out, line);
    assert_line(out, "Serial: 9007199254740991");
    utc(s.valid_after, from, sizeof(from));
    utc(s.valid_before, to, sizeof(to));
    snprintf(line, sizeof(line), "Valid: from %s to %s", from, to);
    assert_line(out, line);
    assert_line(out, "Principals: ");
    assert_line(out, "deploy");
    assert_line(out, "source-address 10.0.0.5/32,192.0.2.0/24");
    assert_line(out, "permit-pty");
    assert_null(strstr(out, "permit-agent-forwarding"));
    assert_null(strstr(out, "permit-port-forwarding"));
    assert_null(strstr(out, "permit-X11-forwarding"));
    free(out);
    free(cert.p);

    /* No pty, no source: both lists empty. */
    s.permit_pty = false;
    s.source_address = NULL;
    assert_int_equal(jg_gw_cert_make(ca.k, ca.blob, sizeof(ca.blob), key.pub,
                                     &s, &cert), 0);
    out = keygen_list(&cert);
    assert_line(out, "Critical Options: (none)");
    assert_line(out, "Extensions: (none)");
    free(out);
    free(cert.p);
    EVP_PKEY_free(ca.k);
    EVP_PKEY_free(key.k);
}

static void
test_parse_reads_back_and_refuses_tampering(void **state)
{
    struct kp ca, other, key;
    struct jg_gw_wr cert = {0}, cert2 = {0}, junk = {0};
    struct jg_gw_cert_spec s = {
        .serial = 42,
        .key_id = "jumpgate:bob:x",
        .principal = "root",
        .valid_after = 100,
        .valid_before = 200,
    };
    struct jg_gw_cert c;
    char why[256];
    size_t i;

    (void)state;
    kp_new(&ca);
    kp_new(&other);
    kp_new(&key);
    assert_int_equal(jg_gw_cert_make(ca.k, ca.blob, sizeof(ca.blob), key.pub,
                                     &s, &cert), 0);
    assert_int_equal(jg_gw_cert_parse(cert.p, cert.n, &c, why, sizeof(why)), 0);
    assert_string_equal(c.key_type, "ssh-ed25519");
    assert_int_equal(c.serial, 42);
    assert_int_equal(c.type, JG_GW_CERT_USER);
    assert_string_equal(c.key_id, "jumpgate:bob:x");
    assert_int_equal(c.valid_after, 100);
    assert_int_equal(c.valid_before, 200);
    assert_true(jg_gw_cert_names(&c, "root"));
    assert_false(jg_gw_cert_names(&c, "roo"));
    assert_int_equal(c.plain.n, sizeof(key.blob));
    assert_memory_equal(c.plain.p, key.blob, sizeof(key.blob));
    assert_int_equal(c.ca_len, sizeof(ca.blob));
    assert_memory_equal(c.ca, ca.blob, sizeof(ca.blob));
    jg_gw_cert_clear(&c);

    /* Every single changed byte is refused (signed, or the signature). */
    for (i = 0; i < cert.n; i++) {
        cert.p[i] ^= 0x01;
        why[0] = '\0';
        assert_int_not_equal(jg_gw_cert_parse(cert.p, cert.n, &c, why,
                                              sizeof(why)), 0);
        assert_true(why[0] != '\0');
        cert.p[i] ^= 0x01;
    }
    /* Truncated anywhere, or with junk after the signature. */
    for (i = 0; i < cert.n; i += 7)
        assert_int_not_equal(jg_gw_cert_parse(cert.p, i, &c, why,
                                              sizeof(why)), 0);
    jg_gw_wr_put(&junk, cert.p, cert.n);
    jg_gw_wr_put(&junk, "x", 1);
    assert_int_not_equal(jg_gw_cert_parse(junk.p, junk.n, &c, why,
                                          sizeof(why)), 0);
    /* Signed by one CA, claiming another: the signature does not hold. */
    assert_int_equal(jg_gw_cert_make(other.k, ca.blob, sizeof(ca.blob),
                                     key.pub, &s, &cert2), 0);
    assert_int_not_equal(jg_gw_cert_parse(cert2.p, cert2.n, &c, why,
                                          sizeof(why)), 0);
    assert_non_null(strstr(why, "signature"));
    free(cert.p);
    free(cert2.p);
    free(junk.p);
    EVP_PKEY_free(ca.k);
    EVP_PKEY_free(other.k);
    EVP_PKEY_free(key.k);
}

/* A key id is whatever the certificate's maker wrote: any length and any
 * bytes, kept only in a form safe to log and show. */
static void
test_key_id_is_kept_printable(void **state)
{
    struct kp ca, key;
    struct jg_gw_wr cert = {0};
    char id[600], why[256];
    struct jg_gw_cert_spec s = {
        .serial = 7, .key_id = id, .principal = "h",
        .valid_after = 1, .valid_before = 2,
    };
    struct jg_gw_cert c;

    (void)state;
    kp_new(&ca);
    kp_new(&key);
    memset(id, 'k', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    memcpy(id, "\x1b]0;x\x07\\", 7);
    assert_int_equal(jg_gw_cert_make(ca.k, ca.blob, sizeof(ca.blob), key.pub,
                                     &s, &cert), 0);
    assert_int_equal(jg_gw_cert_parse(cert.p, cert.n, &c, why, sizeof(why)), 0);
    assert_int_equal(strncmp(c.key_id, "\\x1b]0;x\\x07\\x5ckkk", 19), 0);
    assert_true(strlen(c.key_id) < sizeof(c.key_id));
    for (const char *p = c.key_id; *p != '\0'; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
    jg_gw_cert_clear(&c);
    free(cert.p);
    EVP_PKEY_free(ca.k);
    EVP_PKEY_free(key.k);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_cert_as_ssh_keygen_reads_it),
        cmocka_unit_test(test_parse_reads_back_and_refuses_tampering),
        cmocka_unit_test(test_key_id_is_kept_printable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
