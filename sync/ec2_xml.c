/* SPDX-License-Identifier: Apache-2.0 */
/* sync/ec2_xml.c - parsers of EC2 Query API answers (namespace
 * http://ec2.amazonaws.com/doc/2016-11-15/): the error envelope, security
 * group rules, Authorize/Revoke results and instances. Untrusted input:
 * sizes are capped, DTDs refused, entities never expanded, no network. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "sync/internal.h"

static void
quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static xmlDocPtr
load(const char *buf, size_t len, const char *root, char *err, size_t errlen)
{
    xmlDocPtr doc;
    xmlNodePtr r;

    if (len > JG_SYNC_XML_MAX || len > INT_MAX) {
        snprintf(err, errlen, "answer larger than %u bytes", JG_SYNC_XML_MAX);
        return NULL;
    }
    xmlSetGenericErrorFunc(NULL, quiet);
    doc = xmlReadMemory(buf, (int)len, "ec2.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (doc == NULL) {
        snprintf(err, errlen, "answer is not well-formed XML");
        return NULL;
    }
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        snprintf(err, errlen, "answer has a DTD");
        goto bad;
    }
    r = xmlDocGetRootElement(doc);
    if (r == NULL || strcmp((const char *)r->name, root) != 0) {
        snprintf(err, errlen, "root element is <%.64s>, expected <%s>",
                 r != NULL ? (const char *)r->name : "", root);
        goto bad;
    }
    return doc;
bad:
    xmlFreeDoc(doc);
    return NULL;
}

/* First element child of n named name, or NULL. */
static xmlNodePtr
child(xmlNodePtr n, const char *name)
{
    xmlNodePtr c;

    for (c = n != NULL ? n->children : NULL; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE &&
            strcmp((const char *)c->name, name) == 0)
            return c;
    }
    return NULL;
}

/* Text of child name of n, allocated (caller frees), or NULL. */
static char *
text(xmlNodePtr n, const char *name)
{
    xmlNodePtr c = child(n, name);
    xmlChar *t;
    char *s;

    if (c == NULL)
        return NULL;
    t = xmlNodeGetContent(c);
    s = jg_xstrdup(t != NULL ? (const char *)t : "");
    xmlFree(t);
    return s;
}

static bool
parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v;

    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

int
jg_sync_ec2_parse_error(const char *buf, size_t len, char *code,
                        size_t codelen, char *msg, size_t msglen)
{
    char err[128];
    xmlDocPtr doc = load(buf, len, "Response", err, sizeof(err));
    xmlNodePtr e;
    char *c = NULL, *m = NULL;
    int r = JG_ERR_INVALID;

    if (doc == NULL)
        return JG_ERR_INVALID;
    e = child(child(xmlDocGetRootElement(doc), "Errors"), "Error");
    if (e == NULL || (c = text(e, "Code")) == NULL || *c == '\0')
        goto out;
    m = text(e, "Message");
    snprintf(code, codelen, "%s", c);
    snprintf(msg, msglen, "%s", m != NULL ? m : "");
    r = 0;
out:
    free(c);
    free(m);
    xmlFreeDoc(doc);
    return r;
}

static void
rule_clear(struct jg_sync_sg_rule *g)
{
    free(g->rule_id);
    free(g->group_id);
    free(g->protocol);
    free(g->description);
    free(g->exposure);
    memset(g, 0, sizeof(*g));
}

void
jg_sync_sg_rules_free(struct jg_sync_sg_rule *v, size_t n)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++)
        rule_clear(&v[i]);
    free(v);
}

static int
parse_tags(xmlNodePtr item, struct jg_sync_sg_rule *g, size_t idx, char *err,
           size_t errlen)
{
    xmlNodePtr set = child(item, "tagSet"), t;

    for (t = set != NULL ? set->children : NULL; t != NULL; t = t->next) {
        char *k, *v;

        if (t->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)t->name, "item") != 0) {
            snprintf(err, errlen, "rule %zu: tagSet holds <%.64s>", idx,
                     (const char *)t->name);
            return JG_ERR_INVALID;
        }
        k = text(t, "key");
        v = text(t, "value");
        if (k == NULL || v == NULL) {
            snprintf(err, errlen, "rule %zu: tagSet item without %s", idx,
                     k == NULL ? "key" : "value");
            free(k);
            free(v);
            return JG_ERR_INVALID;
        }
        if (strcmp(k, "managed-by") == 0 && strcmp(v, "jumpgate") == 0)
            g->managed = true;
        if (strcmp(k, "jumpgate-exposure") == 0 && g->exposure == NULL) {
            g->exposure = v;
            v = NULL;
        }
        free(k);
        free(v);
    }
    return 0;
}

static int
parse_rule(xmlNodePtr item, struct jg_sync_sg_rule *g, size_t idx, char *err,
           size_t errlen)
{
    char *egress = NULL, *fp = NULL, *tp = NULL, *c4 = NULL, *c6 = NULL;
    const char *missing = NULL;
    int r = JG_ERR_INVALID;

    memset(g, 0, sizeof(*g));
    g->rule_id = text(item, "securityGroupRuleId");
    g->group_id = text(item, "groupId");
    g->protocol = text(item, "ipProtocol");
    g->description = text(item, "description");
    egress = text(item, "isEgress");
    fp = text(item, "fromPort");
    tp = text(item, "toPort");
    c4 = text(item, "cidrIpv4");
    c6 = text(item, "cidrIpv6");
    if (g->rule_id == NULL || *g->rule_id == '\0')
        missing = "securityGroupRuleId";
    else if (g->group_id == NULL)
        missing = "groupId";
    else if (g->protocol == NULL)
        missing = "ipProtocol";
    else if (egress == NULL)
        missing = "isEgress";
    if (missing != NULL) {
        snprintf(err, errlen, "rule %zu: no <%s>", idx, missing);
        goto out;
    }
    if (strcmp(egress, "true") != 0 && strcmp(egress, "false") != 0) {
        snprintf(err, errlen, "rule %zu (%.32s): isEgress is not true/false",
                 idx, g->rule_id);
        goto out;
    }
    g->egress = strcmp(egress, "true") == 0;
    g->from_port = g->to_port = -1;
    if ((fp != NULL && !parse_int(fp, -1, 65535, &g->from_port)) ||
        (tp != NULL && !parse_int(tp, -1, 65535, &g->to_port))) {
        snprintf(err, errlen, "rule %zu (%.32s): %s is not a port number",
                 idx, g->rule_id,
                 fp != NULL && !parse_int(fp, -1, 65535, &g->from_port)
                     ? "fromPort"
                     : "toPort");
        goto out;
    }
    if (c4 != NULL || c6 != NULL) {
        const char *cs = c4 != NULL ? c4 : c6;

        if (jg_cidr_parse(cs, &g->cidr, NULL) != 0 ||
            g->cidr.a.family != (c4 != NULL ? 4 : 6)) {
            snprintf(err, errlen, "rule %zu (%.32s): %s is not a CIDR", idx,
                     g->rule_id, c4 != NULL ? "cidrIpv4" : "cidrIpv6");
            goto out;
        }
        g->has_cidr = true;
    }
    r = parse_tags(item, g, idx, err, errlen);
out:
    free(egress);
    free(fp);
    free(tp);
    free(c4);
    free(c6);
    return r;
}

/* The nextToken of a page; NULL on the last one. */
static int
next_token_of(xmlNodePtr root, char **next_token)
{
    char *t = text(root, "nextToken");

    if (t != NULL && *t == '\0') {
        free(t);
        t = NULL;
    }
    *next_token = t;
    return 0;
}

int
jg_sync_ec2_parse_sg_rules(const char *buf, size_t len,
                           struct jg_sync_sg_rule **v, size_t *n,
                           char **next_token, char *err, size_t errlen)
{
    xmlDocPtr doc;
    xmlNodePtr root, set, it;
    size_t idx = 0;
    int r = JG_ERR_INVALID;

    *next_token = NULL;
    if ((doc = load(buf, len, "DescribeSecurityGroupRulesResponse", err,
                    errlen)) == NULL)
        return JG_ERR_INVALID;
    root = xmlDocGetRootElement(doc);
    if ((set = child(root, "securityGroupRuleSet")) == NULL) {
        snprintf(err, errlen, "no <securityGroupRuleSet>");
        goto out;
    }
    for (it = set->children; it != NULL; it = it->next) {
        struct jg_sync_sg_rule g;

        if (it->type != XML_ELEMENT_NODE)
            continue;
        idx++;
        if (strcmp((const char *)it->name, "item") != 0) {
            snprintf(err, errlen, "securityGroupRuleSet holds <%.64s>",
                     (const char *)it->name);
            goto out;
        }
        if ((r = parse_rule(it, &g, idx, err, errlen)) != 0) {
            rule_clear(&g);
            goto out;
        }
        *v = jg_xrealloc(*v, *n + 1, sizeof(**v));
        (*v)[(*n)++] = g;
    }
    next_token_of(root, next_token);
    r = 0;
out:
    xmlFreeDoc(doc);
    return r;
}

int
jg_sync_ec2_parse_return(const char *buf, size_t len, const char *root,
                         char *err, size_t errlen)
{
    xmlDocPtr doc;
    char *ret = NULL;
    int r = JG_ERR_INVALID;

    if ((doc = load(buf, len, root, err, errlen)) == NULL)
        return JG_ERR_INVALID;
    ret = text(xmlDocGetRootElement(doc), "return");
    if (ret == NULL) {
        snprintf(err, errlen, "no <return>");
        goto out;
    }
    if (strcmp(ret, "true") != 0) {
        snprintf(err, errlen, "<return> is %.16s", ret);
        goto out;
    }
    r = 0;
out:
    free(ret);
    xmlFreeDoc(doc);
    return r;
}

void
jg_sync_instances_free(struct jg_sync_instance *v, size_t n)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++) {
        free(v[i].instance_id);
        free(v[i].private_ip);
        free(v[i].state);
        free(v[i].name_tag);
    }
    free(v);
}

/* The value of tag Name in an instance's tagSet, or NULL. */
static char *
name_tag(xmlNodePtr in)
{
    xmlNodePtr t, set = child(in, "tagSet");

    for (t = set != NULL ? set->children : NULL; t != NULL; t = t->next) {
        char *k;

        if (t->type != XML_ELEMENT_NODE)
            continue;
        k = text(t, "key");
        if (k != NULL && strcmp(k, "Name") == 0) {
            free(k);
            return text(t, "value");
        }
        free(k);
    }
    return NULL;
}

int
jg_sync_ec2_parse_instances(const char *buf, size_t len,
                            struct jg_sync_instance **v, size_t *n,
                            char **next_token, char *err, size_t errlen)
{
    xmlDocPtr doc;
    xmlNodePtr root, rs, res, is, in;
    struct jg_addr a;
    int r = JG_ERR_INVALID;

    *next_token = NULL;
    if ((doc = load(buf, len, "DescribeInstancesResponse", err, errlen)) ==
        NULL)
        return JG_ERR_INVALID;
    root = xmlDocGetRootElement(doc);
    if ((rs = child(root, "reservationSet")) == NULL) {
        snprintf(err, errlen, "no <reservationSet>");
        goto out;
    }
    for (res = rs->children; res != NULL; res = res->next) {
        if (res->type != XML_ELEMENT_NODE)
            continue;
        if ((is = child(res, "instancesSet")) == NULL) {
            snprintf(err, errlen, "reservation without <instancesSet>");
            goto out;
        }
        for (in = is->children; in != NULL; in = in->next) {
            struct jg_sync_instance x = {0};

            if (in->type != XML_ELEMENT_NODE)
                continue;
            x.instance_id = text(in, "instanceId");
            x.private_ip = text(in, "privateIpAddress");
            x.state = text(child(in, "instanceState"), "name");
            x.name_tag = name_tag(in);
            if (x.instance_id == NULL || *x.instance_id == '\0' ||
                (x.private_ip != NULL && *x.private_ip != '\0' &&
                 jg_addr_parse(x.private_ip, &a) != 0)) {
                snprintf(err, errlen, "instance: %s",
                         x.instance_id == NULL || *x.instance_id == '\0'
                             ? "no <instanceId>"
                             : "privateIpAddress is not an address");
                free(x.instance_id);
                free(x.private_ip);
                free(x.state);
                free(x.name_tag);
                goto out;
            }
            if (x.private_ip != NULL && *x.private_ip == '\0') {
                free(x.private_ip);
                x.private_ip = NULL;
            }
            *v = jg_xrealloc(*v, *n + 1, sizeof(**v));
            (*v)[(*n)++] = x;
        }
    }
    next_token_of(root, next_token);
    r = 0;
out:
    xmlFreeDoc(doc);
    return r;
}
