/* SPDX-License-Identifier: Apache-2.0 */
/* sync/ec2_sg.c - the three security-group calls the reconciler makes:
 * describe our rules (all pages), authorize one tagged ingress rule, and
 * revoke one rule by id. */
#include <stdlib.h>
#include <string.h>

#include "sync/internal.h"

#define MAX_PAGES 1000

int
jg_sync_sg_describe(struct jg_sync *s, const char *group,
                    struct jg_sync_sg_rule **out, size_t *n_out)
{
    struct jg_sync_sg_rule *v = NULL, *keep = NULL;
    size_t n = 0, i, kept = 0;
    char *token = NULL, *body = NULL;
    char err[512];
    size_t len;
    int page, r = JG_ERR_INTERNAL;

    *out = NULL;
    *n_out = 0;
    for (page = 0; page < MAX_PAGES; page++) {
        GString *f = g_string_new(NULL);

        if (group != NULL) {
            jg_sync_form_add(f, "Filter.1.Name", "group-id");
            jg_sync_form_add(f, "Filter.1.Value.1", group);
        }
        jg_sync_form_add(f, group != NULL ? "Filter.2.Name" : "Filter.1.Name",
                         "tag:managed-by");
        jg_sync_form_add(f, group != NULL ? "Filter.2.Value.1"
                                          : "Filter.1.Value.1",
                         "jumpgate");
        jg_sync_form_add(f, "MaxResults", "1000");
        if (token != NULL)
            jg_sync_form_add(f, "NextToken", token);
        r = jg_sync_ec2_call(s, "DescribeSecurityGroupRules", f, &body, &len);
        g_string_free(f, TRUE);
        if (r != 0)
            goto out;
        free(token);
        token = NULL;
        if ((r = jg_sync_ec2_parse_sg_rules(body, len, &v, &n, &token, err,
                                            sizeof(err))) != 0) {
            jg_sync_seterr(s, "EC2 DescribeSecurityGroupRules (%s): malformed "
                           "answer: %s", group != NULL ? group : "all groups",
                           err);
            goto out;
        }
        free(body);
        body = NULL;
        if (token == NULL)
            break;
    }
    if (token != NULL) {
        jg_sync_seterr(s, "EC2 DescribeSecurityGroupRules (%s): more than %d "
                       "pages", group != NULL ? group : "all groups",
                       MAX_PAGES);
        r = JG_ERR_TOOBIG;
        goto out;
    }
    /* Never trust the filter alone: keep only rules tagged as ours, in
     * this group. Moved entries are zeroed so that freeing v skips them. */
    keep = jg_xcalloc(n > 0 ? n : 1, sizeof(*keep));
    for (i = 0; i < n; i++) {
        if (v[i].managed &&
            (group == NULL || strcmp(v[i].group_id, group) == 0)) {
            keep[kept++] = v[i];
            memset(&v[i], 0, sizeof(v[i]));
        }
    }
    *out = keep;
    *n_out = kept;
    r = 0;
out:
    jg_sync_sg_rules_free(v, n);
    free(token);
    free(body);
    return r;
}

int
jg_sync_sg_authorize(struct jg_sync *s, const char *group, const char *exposure,
                     uint16_t port, const struct jg_cidr *cidr,
                     const char *description, bool *already)
{
    GString *f = g_string_new(NULL);
    char cs[JG_CIDR_STRLEN], err[512];
    char *body = NULL;
    size_t len;
    bool v6 = cidr->a.family == 6;
    int r;

    *already = false;
    jg_cidr_format(cidr, cs, sizeof(cs));
    jg_sync_form_add(f, "GroupId", group);
    jg_sync_form_add(f, "IpPermissions.1.IpProtocol", "tcp");
    jg_sync_form_addf(f, "IpPermissions.1.FromPort", "%u", (unsigned)port);
    jg_sync_form_addf(f, "IpPermissions.1.ToPort", "%u", (unsigned)port);
    jg_sync_form_add(f, v6 ? "IpPermissions.1.Ipv6Ranges.1.CidrIpv6"
                           : "IpPermissions.1.IpRanges.1.CidrIp",
                     cs);
    jg_sync_form_add(f, v6 ? "IpPermissions.1.Ipv6Ranges.1.Description"
                           : "IpPermissions.1.IpRanges.1.Description",
                     description);
    jg_sync_form_add(f, "TagSpecification.1.ResourceType",
                     "security-group-rule");
    jg_sync_form_add(f, "TagSpecification.1.Tag.1.Key", "managed-by");
    jg_sync_form_add(f, "TagSpecification.1.Tag.1.Value", "jumpgate");
    jg_sync_form_add(f, "TagSpecification.1.Tag.2.Key", "jumpgate-exposure");
    jg_sync_form_add(f, "TagSpecification.1.Tag.2.Value", exposure);
    r = jg_sync_ec2_call(s, "AuthorizeSecurityGroupIngress", f, &body, &len);
    if (r == JG_ERR_DENIED &&
        strcmp(s->aws_code, "InvalidPermission.Duplicate") == 0) {
        *already = true;
        r = 0;
        goto out;
    }
    if (r != 0)
        goto out;
    if ((r = jg_sync_ec2_parse_return(body, len,
                                      "AuthorizeSecurityGroupIngressResponse",
                                      err, sizeof(err))) != 0)
        jg_sync_seterr(s, "EC2 AuthorizeSecurityGroupIngress (%s %s): "
                       "malformed answer: %s", group, cs, err);
out:
    free(body);
    g_string_free(f, TRUE);
    return r;
}

int
jg_sync_sg_revoke(struct jg_sync *s, const char *group, const char *rule_id,
                  bool *already)
{
    GString *f = g_string_new(NULL);
    char err[512];
    char *body = NULL;
    size_t len;
    int r;

    *already = false;
    jg_sync_form_add(f, "GroupId", group);
    jg_sync_form_add(f, "SecurityGroupRuleId.1", rule_id);
    r = jg_sync_ec2_call(s, "RevokeSecurityGroupIngress", f, &body, &len);
    if (r == JG_ERR_DENIED &&
        (strcmp(s->aws_code, "InvalidPermission.NotFound") == 0 ||
         strcmp(s->aws_code, "InvalidSecurityGroupRuleId.NotFound") == 0)) {
        *already = true;
        r = 0;
        goto out;
    }
    if (r != 0)
        goto out;
    if ((r = jg_sync_ec2_parse_return(body, len,
                                      "RevokeSecurityGroupIngressResponse",
                                      err, sizeof(err))) != 0)
        jg_sync_seterr(s, "EC2 RevokeSecurityGroupIngress (%s %s): malformed "
                       "answer: %s", group, rule_id, err);
out:
    free(body);
    g_string_free(f, TRUE);
    return r;
}
