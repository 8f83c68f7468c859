/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_gw_reports.c - libFuzzer target for the master's side of
 * the monitor channel (gateway/master/child.c): what a monitor - treated
 * as untrusted-ish - reports is parsed, bounded and applied to the live
 * session table, the bans and the metrics. The input is a list of
 * messages, each a length byte and that many bytes ({u8 type, payload});
 * they go over a real SOCK_SEQPACKET pair, the way monitors send them, and
 * the session list and the metrics are rendered afterwards. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define JG_GW_ROOM_MASTER
#include "gateway/master/master.h"

static const char policy[] =
    "version: 1\n"
    "users:\n"
    "  alice:\n"
    "    keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHLhqf40Rr0bwyOlGZtIcRUoqGrLXbvRyfCc/pprH6R5 a\"]\n"
    "    from: [127.0.0.0/8]\n"
    "    max_sessions: 1\n"
    "targets:\n"
    "  web-1: {kind: ssh, address: \"127.0.0.1:1\"}\n"
    "rules:\n"
    "  - {name: r, users: [alice], targets: [web-1], allow: [shell, exec]}\n";

static struct jg_gw_daemon daemon_;
static struct jg_config config_;
static struct jg_gw_master master_;

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
    config_.auth_fail_max = 3;
    config_.auth_fail_window = 60;
    config_.auth_fail_ban = 60;
    daemon_.cfg = &config_;
    master_.d = &daemon_;
    master_.bans = jg_gw_bans_new(3, 60, 60);
    master_.pen = jg_gw_penalties_new(15, 600);
    if (jg_gw_metrics_start(&master_) != 0)
        abort();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_gw_child kids[2];
    int sv[2][2];
    size_t i, k;

    memset(kids, 0, sizeof(kids));
    for (k = 0; k < 2; k++) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       0, sv[k]) != 0)
            abort();
        kids[k].pid = 1;        /* never signalled: the kill order is a message */
        kids[k].sock = sv[k][0];
        jg_strlcpy(kids[k].peer, k == 0 ? "127.0.0.3" : "::1",
                   sizeof(kids[k].peer));
    }
    master_.kids = kids;
    master_.n_kids = 2;
    /* Messages alternate between the two monitors. */
    for (i = 0, k = 0; i < size; k ^= 1) {
        size_t n = data[i++];
        if (n > size - i)
            n = size - i;
        if (send(sv[k][1], data + i, n, MSG_DONTWAIT) < 0 && n > 0)
            break;
        i += n;
        if (kids[k].sock >= 0)
            jg_gw_master_child_input(&master_, &kids[k]);
    }
    for (k = 0; k < 2; k++) {
        if (kids[k].sock >= 0)
            jg_gw_master_child_input(&master_, &kids[k]);
    }
    free(jg_metrics_render(master_.metrics, NULL));
    jg_gw_master_child_lost(&master_, &kids[0], 9);
    for (k = 0; k < 2; k++) {
        jg_gw_master_child_gone(&master_, &kids[k]);
        close(sv[k][1]);
    }
    master_.kids = NULL;
    master_.n_kids = 0;
    return 0;
}
