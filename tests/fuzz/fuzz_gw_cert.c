/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_gw_cert.c - libFuzzer target for what a target shows as
 * its host certificate in the key exchange (gateway/monitor/hostcert.c):
 * the input is the certificate blob, read by jg_gw_cert_parse()
 * (gateway/monitor/cert.c) and, when it parses, judged by
 * jg_gw_knownhosts_cert_ok() (knownhosts.c) against a known_hosts file
 * that trusts two host CAs made for this test only (Ed25519 for
 * 127.0.0.1 and web-1, RSA for every host), revokes nothing the seeds
 * use, and knows one plain key. The seeds in corpus/fuzz_gw_cert are host
 * certificates ssh-keygen made with those CAs. Besides the sanitizers:
 * every refusal has a reason, a parsed certificate points only into its
 * blob, and only a host certificate without critical options that names
 * 127.0.0.1 (the host, not a policy name) is accepted. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>

#define JG_GW_ROOM_MONITOR
#include "gateway/monitor/internal.h"

static const char known_hosts[] =
    "# two host CAs and a plain key, for this test only\n"
    "@cert-authority 127.0.0.1,web-1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAHT/P7fv0EJ57rCwTqXU2a7tGcAyhwH1UT1mrj2dN5y\n"
    "@cert-authority * ssh-rsa "
    "AAAAB3NzaC1yc2EAAAADAQABAAABAQCYue8xXWV5+oc+0FT7hXgW6s8rwD1UUlsQ"
    "0DcEA8yjaeCVB1FKKTu0b+ukOCe8oLUv/uvB0Xfrh8cVZmfQDA0AlRbVdIUbQZt5"
    "ZS3d10hl6Anp+KTfcdb1qlsI4L6BkVgm/mXj2bUlDfO3sB/MlWJeEryeY4JxJ7tV"
    "Nuczto2jhRHiHrBzilKRPaWdzrR8qYVNJUjr4wduxI1ar+eru7EegryAiAiFJv1P"
    "xlnAb569REO5z0JoVDd61tQ5bFtDRysoy2z666uTtXzRcLnPZqj0Pe/+NxjLl10x"
    "tOz9vMG2vl2SeUXOVv53Q1rgAJCrMbrCccSmXDrXugGeU8tBTsPz\n"
    "@cert-authority broken-line\n"
    "@revoked * ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH8WsQIYtC9thyfP3z1Xn+9gJDodaBkMpjmyT4dkvSK6\n"
    "127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIuu3Lk6d0hy2I2kJCoeuGR+MrPC6Ik5p5AagKqQlKLb\n";

static char path_[64];

static void
check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_gw_cert: %s\n", what);
        abort();
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int fd;

    (void)argc;
    (void)argv;
    jg_log_init("fuzz", false, 0);
    fd = memfd_create("fuzz-known-hosts", 0);
    check(fd >= 0 && write(fd, known_hosts, sizeof(known_hosts) - 1) ==
                         (ssize_t)(sizeof(known_hosts) - 1),
          "memfd");
    snprintf(path_, sizeof(path_), "/proc/self/fd/%d", fd);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_gw_cert c;
    char why[512] = "";
    int parsed, r;

    parsed = jg_gw_cert_parse(data, size, &c, why, sizeof(why));
    check(parsed == 0 || why[0] != '\0', "a refusal without a reason");
    if (parsed == 0) {
        check(c.plain.n > 0 && c.ca != NULL && c.ca >= data &&
                  c.ca + c.ca_len <= data + size,
              "a parsed certificate points outside its blob");
        why[0] = '\0';
        /* 2026-01-01: inside the seeds' validity (always:forever) */
        r = jg_gw_knownhosts_cert_ok(path_, "127.0.0.1", 22, &c, data, size,
                                     1767225600, why, sizeof(why));
        check(r == 0 || r == JG_ERR_DENIED || r == JG_ERR_NOTFOUND,
              "an unexpected result");
        check(r == 0 || why[0] != '\0', "a refusal without a reason");
        if (r == 0)
            check(c.type == JG_GW_CERT_HOST && c.n_critical == 0 &&
                      jg_gw_cert_names(&c, "127.0.0.1"),
                  "accepted what it must not");
        jg_gw_cert_clear(&c);
    }
    /* What the monitor runs on it: the same verdict, and the certified
     * key (for the plain check) exactly when no trusted CA vouches. */
    {
        ssh_key plain = NULL;
        int h = jg_gw_hostcert_check(path_, "127.0.0.1", 22, data, size,
                                     &plain, why, sizeof(why));

        check(parsed == 0 || h == JG_ERR_DENIED, "an invalid one not refused");
        check((h == JG_ERR_NOTFOUND) == (plain != NULL),
              "a plain key without a fallback, or a fallback without one");
        ssh_key_free(plain);
    }
    return 0;
}
