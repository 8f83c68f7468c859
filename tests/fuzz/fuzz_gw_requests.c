/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_gw_requests.c - libFuzzer target for the monitor's
 * request handlers: what a compromised worker can send to the privileged
 * side. The input is a list of requests, each a length byte, a byte
 * choosing the request type and the payload; every handler the worker may
 * reach runs (the authentication request first, then those of an
 * authenticated connection), with answers drained from a non-blocking
 * socketpair. A type byte past the table writes the payload into the tap
 * ring instead (as a worker would, head moved past it) and has the monitor
 * read the ring. Targets point at loopback ports nothing listens on, and no
 * audit folder is set, so the run has no effects outside the process. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define JG_GW_ROOM_MONITOR
#include "gateway/monitor/internal.h"

static const char policy[] =
    "version: 1\n"
    "users:\n"
    "  alice:\n"
    "    keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHLhqf40Rr0bwyOlGZtIcRUoqGrLXbvRyfCc/pprH6R5 a\"]\n"
    "    from: [127.0.0.0/8]\n"
    "targets:\n"
    "  web-1: {kind: ssh, address: \"127.0.0.1:1\"}\n"
    "  db: {kind: tcp, address: \"127.0.0.1:1\"}\n"
    "  mdb: {kind: tcp, address: \"127.0.0.1:2\", protocol: mysql, tls: false,"
    " auth: {password_file: /nonexistent/db.pw}}\n"
    "rules:\n"
    "  - {name: r, users: [alice], targets: [web-1], allow: [shell, exec, sftp],"
    " logins: [root]}\n"
    "  - {name: f, users: [alice], targets: [db, mdb], allow: [forward],"
    " logins: [app]}\n";

static const struct {
    uint8_t type;
    int (*handler)(struct jg_gw_mon *, struct jg_gw_msg *);
} reqs[] = {
    {JG_GW_REQ_AUTH_PUBKEY, jg_gw_mon_auth_pubkey},
    {JG_GW_REQ_DECIDE, jg_gw_mon_decide},
    {JG_GW_REQ_CONNECT, jg_gw_mon_connect},
    {JG_GW_REQ_HOSTKEY, jg_gw_mon_hostkey},
    {JG_GW_REQ_TARGETS, jg_gw_mon_targets},
    {JG_GW_REQ_FORWARD, jg_gw_mon_forward},
    {JG_GW_REQ_REC_OPEN, jg_gw_mon_rec_open},
    {JG_GW_REQ_REC_TAP, jg_gw_mon_rec_tap},
    {JG_GW_REQ_REC_EXIT, jg_gw_mon_rec_exit},
    {JG_GW_REQ_CHAN_END, jg_gw_mon_chan_end},
    {JG_GW_REQ_CHAN_STATE, jg_gw_mon_chan_state},
    {JG_GW_REQ_BYTES, jg_gw_mon_bytes},
    {JG_GW_REQ_SFTP_START, jg_gw_mon_sftp_start},
    {JG_GW_REQ_SFTP_EVENT, jg_gw_mon_sftp_event},
    {JG_GW_REQ_SFTP_END, jg_gw_mon_sftp_end},
    {JG_GW_REQ_DB_CA, jg_gw_mon_db_ca},
    {JG_GW_REQ_DB_AUTH, jg_gw_mon_db_auth},
    {JG_GW_REQ_DB_EVENT, jg_gw_mon_db_event},
    {JG_GW_REQ_DB_END, jg_gw_mon_db_end},
};

static struct jg_gw_daemon daemon_;
static struct jg_config config_;
static char known_hosts_[] = "/nonexistent/known_hosts";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct jg_diags d = {0};

    (void)argc;
    (void)argv;
    jg_log_init("fuzz", false, 0);
    if (jg_policy_load_mem("fuzz.yaml", policy, sizeof(policy) - 1,
                           JG_POLICY_NO_FILES, &daemon_.pol, &d) != 0)
        abort();
    config_.audit_on_failure = JG_ON_FAILURE_REFUSE;
    config_.upstream_known_hosts = known_hosts_;
    daemon_.cfg = &config_;
    return 0;
}

static void
drain(int fd)
{
    char buf[65536];
    int i;

    for (i = 0; i < 64 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
        ;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_gw_conn conn = {.fd = -1, .master_fd = -1};
    struct jg_gw_mon *m = jg_xcalloc(1, sizeof(*m));
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q));
    int sv[2];
    size_t i;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   sv) != 0)
        abort();
    jg_strlcpy(conn.peer, "127.0.0.1", sizeof(conn.peer));
    m->d = &daemon_;
    m->conn = &conn;
    m->sock = sv[0];
    m->agent_fd = -1;
    m->state = JG_GW_MS_PREAUTH;
    if ((m->tap = jg_gw_tap_new()) == NULL)
        abort();
    for (i = 0; i + 2 <= size;) {
        size_t n = data[i];
        uint8_t which = data[i + 1] % (sizeof(reqs) / sizeof(reqs[0]) + 1);
        i += 2;
        if (n > size - i)
            n = size - i;
        if (n > sizeof(q->data))
            n = sizeof(q->data);
        if (which == sizeof(reqs) / sizeof(reqs[0])) {
            uint64_t h = atomic_load(&m->tap->head);
            size_t k;
            for (k = 0; k < n; k++)
                m->tap->data[(h + k) % JG_GW_TAP_SIZE] = data[i + k];
            atomic_store(&m->tap->head, h + (n + 15) / 16 * 16);
            i += n;
            if (m->state != JG_GW_MS_AUTHED || jg_gw_mon_tap_drain(m) != 0)
                break;
            continue;
        }
        jg_gw_msg_init(q, reqs[which].type);
        memcpy(q->data, data + i, n);
        q->len = n;
        q->fd = -1;
        i += n;
        /* The monitor's table allows authentication only before, the rest
         * only after it. */
        if ((which == 0) != (m->state != JG_GW_MS_AUTHED))
            continue;
        if (reqs[which].handler(m, q) != 0)
            break;      /* the monitor would end the connection */
        drain(sv[1]);
        if (q->fd >= 0)
            close(q->fd);
    }
    jg_gw_mon_sftp_finish(m);
    jg_gw_mon_agent_clear(m);
    jg_gw_tap_free(m->tap);
    close(sv[0]);
    close(sv[1]);
    free(q);
    free(m);
    return 0;
}
