/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_ec2_xml.c - libFuzzer target for the EC2 answer parsers
 * (error envelope, security group rules, Authorize/Revoke, instances). */
#include <stdint.h>
#include <stdlib.h>

#include "sync/sync.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct jg_sync_sg_rule *rules = NULL;
    struct jg_sync_instance *inst = NULL;
    size_t n = 0, ni = 0;
    char *tok = NULL;
    char code[128], msg[512], err[512];

    jg_sync_ec2_parse_error(buf, size, code, sizeof(code), msg, sizeof(msg));
    jg_sync_ec2_parse_sg_rules(buf, size, &rules, &n, &tok, err, sizeof(err));
    jg_sync_sg_rules_free(rules, n);
    free(tok);
    tok = NULL;
    jg_sync_ec2_parse_return(buf, size, "RevokeSecurityGroupIngressResponse",
                             err, sizeof(err));
    jg_sync_ec2_parse_instances(buf, size, &inst, &ni, &tok, err,
                                sizeof(err));
    jg_sync_instances_free(inst, ni);
    free(tok);
    return 0;
}
