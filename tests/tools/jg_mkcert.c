/* SPDX-License-Identifier: Apache-2.0 */
/* tests/tools/jg_mkcert.c - for the integration tests: makes a user
 * certificate with the gateway's own encoder (gateway/monitor/cert.c) and
 * a user CA made by `jumpgate ca keygen`, for a fresh Ed25519 key, so that
 * a test can present it with the OpenSSH client (ssh -i OUT
 * -o CertificateFile=OUT-cert.pub) - one that expired, one for another
 * principal. Writes OUT (the private key, 0600) and OUT-cert.pub.
 * Usage: jg_mkcert CA_KEY PRINCIPAL VALID_AFTER VALID_BEFORE SERIAL OUT
 * (times in seconds since the epoch). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#define JG_GW_ROOM_MONITOR
#include "gateway/monitor/internal.h"

static int
write_text(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode), r = 0;

    if (fd < 0)
        return -1;
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        r = -1;
    close(fd);
    return r;
}

int
main(int argc, char **argv)
{
    struct jg_gw_agent_key *ca = NULL;
    struct jg_gw_cert_spec spec;
    struct jg_gw_wr cert = {0};
    ssh_key k = NULL;
    uint8_t pub[32], raw[128];
    char *b64 = NULL, *line = NULL, *certpath = NULL, err[512];
    int rc = 1;

    if (argc != 7) {
        fprintf(stderr, "usage: jg_mkcert CA_KEY PRINCIPAL VALID_AFTER "
                "VALID_BEFORE SERIAL OUT\n");
        return 2;
    }
    if (jg_gw_agent_key_load(argv[1], "upstream.ca", &ca, err,
                             sizeof(err)) != 0) {
        fprintf(stderr, "jg_mkcert: %s\n", err);
        return 1;
    }
    spec = (struct jg_gw_cert_spec){
        .serial = strtoull(argv[5], NULL, 10),
        .key_id = "jg_mkcert",
        .principal = argv[2],
        .valid_after = strtoull(argv[3], NULL, 10),
        .valid_before = strtoull(argv[4], NULL, 10),
        .permit_pty = true,
    };
    /* The key in OpenSSH's own format, which ssh reads for Ed25519. */
    if (ssh_pki_generate_key(SSH_KEYTYPE_ED25519, NULL, &k) != SSH_OK ||
        ssh_pki_export_pubkey_base64(k, &b64) != SSH_OK ||
        jg_gw_unb64((const uint8_t *)b64, strlen(b64), raw) != 51 ||
        ssh_pki_export_privkey_base64(k, NULL, NULL, NULL, &line) != SSH_OK) {
        fprintf(stderr, "jg_mkcert: cannot make a key\n");
        goto out;
    }
    memcpy(pub, raw + 19, sizeof(pub));
    ssh_string_free_char(b64);
    b64 = NULL;
    if (jg_gw_cert_make(ca->pkey, ca->blob, ca->blob_len, pub, &spec,
                        &cert) != 0) {
        fprintf(stderr, "jg_mkcert: cannot make the certificate\n");
        goto out;
    }
    if (write_text(argv[6], line, 0600) != 0)
        goto out;
    ssh_string_free_char(line);
    line = NULL;
    b64 = jg_gw_b64(cert.p, cert.n);
    line = jg_xasprintf("ssh-ed25519-cert-v01@openssh.com %s jg_mkcert\n", b64);
    certpath = jg_xasprintf("%s-cert.pub", argv[6]);
    if (write_text(certpath, line, 0644) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "jg_mkcert: cannot write %s: %s\n", argv[6],
                strerror(errno));
    jg_gw_agent_key_free(ca);
    ssh_key_free(k);
    free(cert.p);
    free(b64);
    free(line);
    free(certpath);
    return rc;
}
