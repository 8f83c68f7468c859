/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/ctlreq.c - the requests of the control socket, read
 * without acting on them: a word line ("list", "status", "reload",
 * "kill ID") or a JSON object {"req": "kill"|"reload"|"auth-failure"|
 * "banned", "id", "by", "reason", "from"}. Each string must be printable
 * and within its size; "from" must be an IP address. control.c carries a
 * request out; tests/fuzz/fuzz_gw_ctl.c feeds this parser. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "gateway/master/master.h"

/* A printable one-line string of at most max bytes at key of j into buf
 * (max + 1 bytes): 1 copied, 0 absent, -1 present but not such a string. */
static int
req_str(json_t *j, const char *key, char *buf, size_t max)
{
    json_t *x = json_object_get(j, key);
    const char *v = json_string_value(x);
    size_t i;

    if (x == NULL)
        return 0;
    if (v == NULL || v[0] == '\0' || strlen(v) > max)
        return -1;
    for (i = 0; v[i] != '\0'; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return -1;
    memcpy(buf, v, strlen(v) + 1);
    return 1;
}

static int
bad(char *err, size_t n, const char *why)
{
    snprintf(err, n, "%s", why);
    return JG_ERR_INVALID;
}

static int
parse_json(const char *line, struct jg_gw_ctl_req *r, char *err, size_t n)
{
    json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
    const char *req = json_string_value(json_object_get(j, "req"));
    unsigned char addr[sizeof(struct in6_addr)];
    int rc = JG_ERR_INVALID;

    if (!json_is_object(j)) {
        rc = bad(err, n, "bad request");
        goto out;
    }
    if (req_str(j, "by", r->by, sizeof(r->by) - 1) < 0) {
        rc = bad(err, n, "bad 'by'");
        goto out;
    }
    if (req != NULL && strcmp(req, "reload") == 0) {
        r->kind = JG_GW_CTL_RELOAD;
    } else if (req != NULL && (strcmp(req, "auth-failure") == 0 ||
                                strcmp(req, "banned") == 0)) {
        r->kind = req[0] == 'a' ? JG_GW_CTL_AUTH_FAILURE : JG_GW_CTL_BANNED;
        if (req_str(j, "from", r->from, sizeof(r->from) - 1) != 1 ||
            (inet_pton(AF_INET, r->from, addr) != 1 &&
             inet_pton(AF_INET6, r->from, addr) != 1)) {
            rc = bad(err, n, "bad 'from': an IP address");
            goto out;
        }
    } else if (req != NULL && strcmp(req, "kill") == 0) {
        r->kind = JG_GW_CTL_KILL;
        if (req_str(j, "id", r->id, 64) != 1) {
            rc = bad(err, n, "no session id");
            goto out;
        }
        if (req_str(j, "reason", r->reason, sizeof(r->reason) - 1) < 0) {
            rc = bad(err, n, "bad 'reason'");
            goto out;
        }
    } else {
        rc = bad(err, n, "unknown request");
        goto out;
    }
    rc = 0;
out:
    json_decref(j);
    return rc;
}

int
jg_gw_ctl_parse(const char *line, struct jg_gw_ctl_req *r, char *err,
                size_t n)
{
    memset(r, 0, sizeof(*r));
    err[0] = '\0';
    if (strcmp(line, "list") == 0) {
        r->kind = JG_GW_CTL_LIST;
    } else if (strcmp(line, "status") == 0) {
        r->kind = JG_GW_CTL_STATUS;
    } else if (strcmp(line, "reload") == 0) {
        r->kind = JG_GW_CTL_RELOAD;
    } else if (strncmp(line, "kill ", 5) == 0) {
        /* the rest of the line, as it is: an id that is no session's is
         * answered as such */
        r->kind = JG_GW_CTL_KILL;
        if (line[5] == '\0' || strlen(line + 5) >= sizeof(r->id))
            return bad(err, n, "no such session");
        memcpy(r->id, line + 5, strlen(line + 5) + 1);
    } else if (line[0] == '{') {
        return parse_json(line, r, err, n);
    } else {
        return bad(err, n, "unknown request");
    }
    return 0;
}
