/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_gw_agent.c - libFuzzer target for the monitor's SSH
 * agent (gateway/monitor/agent.c): the bytes a compromised worker writes
 * on its agent socket. The input is that byte stream, as the worker would
 * write it (u32 length, then {u8 type, payload}); it reaches the monitor
 * in pieces of varying size over a real non-blocking socketpair and is
 * read by jg_gw_mon_agent_serve(), the function the monitor's poll loop
 * calls. The monitor holds a fixed Ed25519 test identity and may sign
 * the user-auth request of login "deploy", plain or bound to a fixed host
 * key (publickey-hostbound-v00). Besides the sanitizers, the
 * answers are checked: one well-framed answer per request until the agent
 * hangs up, identities list exactly that key, and at most one signature,
 * which verifies over the data of the request it answers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#define JG_GW_ROOM_MONITOR
#include "gateway/monitor/internal.h"

/* A throw-away key made for this test only; it opens nothing. */
static const char test_key[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACC3Sb47lr8v2ofy2d/tA+2tG0ynYVteWDonkvtIy32SBAAAAKAlsbFbJbGx\n"
    "WwAAAAtzc2gtZWQyNTUxOQAAACC3Sb47lr8v2ofy2d/tA+2tG0ynYVteWDonkvtIy32SBA\n"
    "AAAEB0NxINEScy0k+nWnn4S3bKVaWRaGBNZedySnwHXVv0sbdJvjuWvy/ah/LZ3+0D7a0b\n"
    "TKdhW15YOieS+0jLfZIEAAAAFmp1bXBnYXRlIGZ1enogdGVzdCBrZXkBAgMEBQYH\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
/* Its public key blob: string "ssh-ed25519", string the 32 bytes. */
static const char test_pub[] =
    "AAAAC3NzaC1lZDI1NTE5AAAAILdJvjuWvy/ah/LZ3+0D7a0bTKdhW15YOieS+0jLfZIE";

#define AGENT_FAILURE 5
#define AGENTC_REQUEST_IDENTITIES 11
#define AGENT_IDENTITIES_ANSWER 12
#define AGENTC_SIGN_REQUEST 13
#define AGENT_SIGN_RESPONSE 14
#define FRAME_MAX (sizeof(((struct jg_gw_mon *)0)->agent_buf) - 4)

static struct jg_gw_agent_key *key_;
static EVP_PKEY *pub_;
static uint8_t blob_[64];
static size_t blob_len_;

static void
check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_gw_agent: %s\n", what);
        abort();
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char path[64], err[256] = "";
    int fd, n;

    (void)argc;
    (void)argv;
    jg_log_init("fuzz", false, 0);
    /* jg_gw_agent_key_load reads a file: give it one only in memory */
    fd = memfd_create("fuzz-agent-key", MFD_CLOEXEC);
    check(fd >= 0 && write(fd, test_key, sizeof(test_key) - 1) ==
                         (ssize_t)(sizeof(test_key) - 1),
          "memfd");
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (jg_gw_agent_key_load(path, "upstream.identity", &key_, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_gw_agent: %s\n", err);
        abort();
    }
    close(fd);
    n = EVP_DecodeBlock(blob_, (const uint8_t *)test_pub,
                        (int)sizeof(test_pub) - 1);
    check(n == 51, "public key blob");
    blob_len_ = (size_t)n;
    pub_ = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, blob_ + 19, 32);
    check(pub_ != NULL, "public key");
    return 0;
}

static uint32_t
get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* The string at *p of a buffer ending at end, or NULL. */
static const uint8_t *
get_str(const uint8_t **p, const uint8_t *end, size_t *len)
{
    const uint8_t *s;

    if (end - *p < 4 || get_u32(*p) > (size_t)(end - *p - 4))
        return NULL;
    *len = get_u32(*p);
    s = *p + 4;
    *p = s + *len;
    return s;
}

/* What the harness knows of the stream it sent: the frames, in order. */
struct frames {
    const uint8_t *data;
    size_t size, at;      /* the next frame not yet answered */
    unsigned signatures;
};

/* Checks one answer body against the request it answers. */
static void
check_answer(struct frames *f, const uint8_t *body, size_t n)
{
    const uint8_t *req, *p, *end, *s, *data;
    size_t rlen, len, dlen;

    check(f->at + 4 <= f->size, "an answer with no request");
    rlen = get_u32(f->data + f->at);
    check(rlen > 0 && rlen <= FRAME_MAX && f->at + 4 + rlen <= f->size,
          "an answer to a request that was not whole");
    req = f->data + f->at + 4;
    f->at += 4 + rlen;
    check(n >= 1, "an empty answer");
    switch (body[0]) {
    case AGENT_FAILURE:
        check(n == 1, "a failure with a payload");
        break;
    case AGENT_IDENTITIES_ANSWER:
        check(req[0] == AGENTC_REQUEST_IDENTITIES, "identities not asked for");
        p = body + 1;
        end = body + n;
        check(end - p >= 4 && get_u32(p) == 1, "not exactly one identity");
        p += 4;
        s = get_str(&p, end, &len);
        check(s != NULL && len == blob_len_ && memcmp(s, blob_, len) == 0,
              "the identity is not the key");
        check(get_str(&p, end, &len) != NULL && p == end, "bad comment");
        break;
    case AGENT_SIGN_RESPONSE: {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        bool good;
        check(req[0] == AGENTC_SIGN_REQUEST, "a signature not asked for");
        check(++f->signatures == 1, "a second signature");
        p = req + 1;
        end = req + rlen;
        check(get_str(&p, end, &len) != NULL, "request blob");
        data = get_str(&p, end, &dlen);
        check(data != NULL, "request data");
        p = body + 1;
        end = body + n;
        s = get_str(&p, end, &len);
        check(s != NULL && p == end, "signature framing");
        end = s + len;
        p = s;
        s = get_str(&p, end, &len);
        check(s != NULL && len == 11 && memcmp(s, "ssh-ed25519", 11) == 0,
              "signature algorithm");
        s = get_str(&p, end, &len);
        check(s != NULL && p == end && len == 64, "signature length");
        good = ctx != NULL &&
               EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub_) == 1 &&
               EVP_DigestVerify(ctx, s, len, data, dlen) == 1;
        EVP_MD_CTX_free(ctx);
        check(good, "the signature does not verify over the request");
        break;
    }
    default:
        check(false, "an answer of unknown type");
    }
}

/* Reads and checks every whole answer waiting on fd. */
static void
drain(int fd, struct frames *f, uint8_t *buf, size_t *have, size_t cap)
{
    ssize_t got;
    size_t len;
    int i;

    for (i = 0; i < 64; i++) {
        got = recv(fd, buf + *have, cap - *have, MSG_DONTWAIT);
        if (got <= 0)
            break;
        *have += (size_t)got;
        while (*have >= 4 && *have >= 4 + (size_t)get_u32(buf)) {
            len = get_u32(buf);
            check_answer(f, buf + 4, len);
            memmove(buf, buf + 4 + len, *have - 4 - len);
            *have -= 4 + len;
        }
        check(*have < cap, "an oversized answer");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* piece sizes cycle so that requests straddle reads */
    static const size_t pieces[] = {1000, 3, 61, 1, 257, 16};
    static uint8_t ans[65536];
    struct jg_gw_conn conn = {.fd = -1, .master_fd = -1};
    struct jg_gw_mon *m = jg_xcalloc(1, sizeof(*m));
    struct frames f = {.data = data, .size = size};
    size_t i = 0, have = 0, k = 0, n;
    int sv[2], pending, rounds;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   sv) != 0)
        abort();
    jg_strlcpy(conn.peer, "127.0.0.1", sizeof(conn.peer));
    jg_strlcpy(m->user, "alice", sizeof(m->user));
    jg_strlcpy(m->agent_login, "deploy", sizeof(m->agent_login));
    m->conn = &conn;
    m->sock = -1;
    m->agent_key = m->agent_use = key_;
    m->agent_fd = sv[0];
    /* the host key accepted for this login, which a host-bound request
     * (publickey-hostbound-v00) must name: "ssh-ed25519" and 32 x 0x42 */
    m->agent_hostkey_len = 4 + 11 + 4 + 32;
    m->agent_hostkey = jg_xmalloc(m->agent_hostkey_len);
    memcpy(m->agent_hostkey, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 19);
    memset(m->agent_hostkey + 19, 0x42, 32);
    while (i < size && m->agent_fd >= 0) {
        n = pieces[k++ % (sizeof(pieces) / sizeof(pieces[0]))];
        if (n > size - i)
            n = size - i;
        if (send(sv[1], data + i, n, MSG_DONTWAIT | MSG_NOSIGNAL) !=
            (ssize_t)n)
            abort();
        i += n;
        for (rounds = 0; rounds < 8 && m->agent_fd >= 0; rounds++) {
            if (ioctl(m->agent_fd, FIONREAD, &pending) != 0 || pending == 0)
                break;
            jg_gw_mon_agent_serve(m);
            drain(sv[1], &f, ans, &have, sizeof(ans));
        }
    }
    /* the worker hangs up */
    shutdown(sv[1], SHUT_WR);
    jg_gw_mon_agent_serve(m);
    drain(sv[1], &f, ans, &have, sizeof(ans));
    check(m->agent_fd < 0, "the agent outlived the worker's end of stream");
    check(have == 0, "a partial answer");
    m->agent_key = m->agent_use = NULL; /* kept for the next input */
    jg_gw_mon_agent_clear(m);
    close(sv[1]);
    free(m);
    return 0;
}
