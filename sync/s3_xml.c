/* SPDX-License-Identifier: Apache-2.0 */
/* sync/s3_xml.c - parsers of S3 REST answers: the <Error> envelope, and the
 * results of CreateMultipartUpload and CompleteMultipartUpload. Untrusted
 * input: sizes are capped, DTDs refused, entities never expanded, no
 * network; element names are matched without regard to namespace. */
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

/* The document in buf, or NULL with err. */
static xmlDocPtr
load(const char *buf, size_t len, char *err, size_t errlen)
{
    xmlDocPtr doc;

    if (len > JG_SYNC_XML_MAX || len > INT_MAX) {
        snprintf(err, errlen, "answer larger than %u bytes", JG_SYNC_XML_MAX);
        return NULL;
    }
    xmlSetGenericErrorFunc(NULL, quiet);
    doc = xmlReadMemory(buf, (int)len, "s3.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (doc == NULL) {
        snprintf(err, errlen, "answer is not well-formed XML");
        return NULL;
    }
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        snprintf(err, errlen, "answer has a DTD");
        xmlFreeDoc(doc);
        return NULL;
    }
    if (xmlDocGetRootElement(doc) == NULL) {
        snprintf(err, errlen, "answer has no root element");
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

static bool
is(xmlNodePtr n, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

/* Text of the first child element name of n into out (truncated), with
 * surrounding white space removed; false when there is no such child. */
static bool
text(xmlNodePtr n, const char *name, char *out, size_t outlen)
{
    xmlNodePtr c;
    xmlChar *t;
    const char *p;
    size_t l;

    for (c = n->children; c != NULL; c = c->next) {
        if (!is(c, name))
            continue;
        t = xmlNodeGetContent(c);
        p = t != NULL ? (const char *)t : "";
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        l = strlen(p);
        while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\t' ||
                         p[l - 1] == '\r' || p[l - 1] == '\n'))
            l--;
        if (l >= outlen)
            l = outlen - 1;
        memcpy(out, p, l);
        out[l] = '\0';
        xmlFree(t);
        return true;
    }
    return false;
}

/* Replaces control characters (they would reach a terminal) by '?'. */
static void
printable(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
    }
}

static int
error_of(xmlNodePtr root, struct jg_sync_s3_error *e)
{
    memset(e, 0, sizeof(*e));
    if (!is(root, "Error") || !text(root, "Code", e->code, sizeof(e->code)) ||
        e->code[0] == '\0')
        return JG_ERR_INVALID;
    text(root, "Message", e->message, sizeof(e->message));
    text(root, "RequestId", e->request_id, sizeof(e->request_id));
    printable(e->code);
    printable(e->message);
    printable(e->request_id);
    return 0;
}

int
jg_sync_s3_parse_error(const char *buf, size_t len, struct jg_sync_s3_error *e)
{
    char err[128];
    xmlDocPtr doc = load(buf, len, err, sizeof(err));
    int r;

    memset(e, 0, sizeof(*e));
    if (doc == NULL)
        return JG_ERR_INVALID;
    r = error_of(xmlDocGetRootElement(doc), e);
    xmlFreeDoc(doc);
    return r;
}

int
jg_sync_s3_parse_initiate(const char *buf, size_t len, char **upload_id,
                          char *err, size_t errlen)
{
    xmlDocPtr doc = load(buf, len, err, errlen);
    xmlNodePtr root;
    char id[1024];
    int r = JG_ERR_INVALID;

    *upload_id = NULL;
    if (doc == NULL)
        return JG_ERR_INVALID;
    root = xmlDocGetRootElement(doc);
    if (!is(root, "InitiateMultipartUploadResult")) {
        snprintf(err, errlen, "root element is <%.64s>, expected "
                 "<InitiateMultipartUploadResult>", (const char *)root->name);
        goto out;
    }
    if (!text(root, "UploadId", id, sizeof(id)) || id[0] == '\0' ||
        strlen(id) >= sizeof(id) - 1) {
        snprintf(err, errlen, "no usable <UploadId>");
        goto out;
    }
    *upload_id = jg_xstrdup(id);
    r = 0;
out:
    xmlFreeDoc(doc);
    return r;
}

int
jg_sync_s3_parse_complete(const char *buf, size_t len, char *etag,
                          size_t etaglen, struct jg_sync_s3_error *e,
                          char *err, size_t errlen)
{
    xmlDocPtr doc = load(buf, len, err, errlen);
    xmlNodePtr root;
    char t[128], *p;
    size_t l;
    int r = JG_ERR_INVALID;

    memset(e, 0, sizeof(*e));
    if (etaglen > 0)
        etag[0] = '\0';
    if (doc == NULL)
        return JG_ERR_INVALID;
    root = xmlDocGetRootElement(doc);
    if (is(root, "Error")) {
        if (error_of(root, e) == 0) {
            snprintf(err, errlen, "%s: %s", e->code, e->message);
            r = JG_ERR_DENIED;
        } else {
            snprintf(err, errlen, "an <Error> without a <Code>");
        }
        goto out;
    }
    if (!is(root, "CompleteMultipartUploadResult")) {
        snprintf(err, errlen, "root element is <%.64s>, expected "
                 "<CompleteMultipartUploadResult>", (const char *)root->name);
        goto out;
    }
    if (!text(root, "ETag", t, sizeof(t))) {
        snprintf(err, errlen, "no <ETag>");
        goto out;
    }
    p = t;
    l = strlen(p);
    if (l >= 2 && p[0] == '"' && p[l - 1] == '"') {
        p[l - 1] = '\0';
        p++;
    }
    if (*p == '\0') {
        snprintf(err, errlen, "empty <ETag>");
        goto out;
    }
    printable(p);
    snprintf(etag, etaglen, "%s", p);
    r = 0;
out:
    xmlFreeDoc(doc);
    return r;
}
