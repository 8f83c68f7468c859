/* SPDX-License-Identifier: Apache-2.0 */
/* console/auth.c - signing auditors in and out. The account's password
 * and one-time code go to the console's PAM service (audit.console.
 * pam_service, else pam_service: pam_unix and pam_oath, as for the
 * gateway's second factor); the account must then be an auditor of the
 * policy. A sign-in gets a random session token in an HttpOnly,
 * SameSite=Strict cookie (Secure with TLS) that lasts
 * audit.console.session_timeout, and a CSRF token that every form sends
 * back. Failed sign-ins from one address count toward a ban, with the
 * gateway's limits.auth_failures numbers, and toward the running
 * jumpgated's own bans of that address (shared both ways over its control
 * socket). Each attempt is an event. */
#include <inttypes.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "console/internal.h"

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

int
jgc_token(char *out)
{
    unsigned char raw[32], b64[48];
    int n, i;

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return JG_ERR_INTERNAL;
    n = EVP_EncodeBlock(b64, raw, sizeof(raw));   /* 44 with one '=' */
    for (i = 0; i < n; i++)
        out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    out[JGC_TOKEN_LEN] = '\0';
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

/* Compares two tokens in time that does not depend on where they differ. */
static bool
token_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    return la == JGC_TOKEN_LEN && lb == JGC_TOKEN_LEN &&
           CRYPTO_memcmp(a, b, JGC_TOKEN_LEN) == 0;
}

void
jgc_auth_lookup(struct jgc_req *q)
{
    const char *tok = MHD_lookup_connection_value(q->c, MHD_COOKIE_KIND,
                                                  JGC_COOKIE);
    struct jg_console *x = q->x;
    int64_t now = now_s();
    size_t i;

    q->signed_in = false;
    if (tok == NULL)
        return;
    pthread_mutex_lock(&x->mu);
    for (i = 0; i < JGC_SESSIONS_MAX; i++) {
        struct jgc_session *s = &x->sessions[i];
        if (s->token[0] == '\0')
            continue;
        if (s->expires <= now) {
            memset(s, 0, sizeof(*s));
            continue;
        }
        if (token_eq(tok, s->token)) {
            q->s = *s;
            q->signed_in = true;
            break;
        }
    }
    pthread_mutex_unlock(&x->mu);
    /* Still an auditor under the policy as it is now? */
    if (q->signed_in) {
        const struct jg_policy *p;
        bool still;

        pthread_mutex_lock(&x->mu);
        still = jgc_auditor(q, &p) != NULL;
        pthread_mutex_unlock(&x->mu);
        if (!still) {
            q->signed_in = false;
            memset(&q->s, 0, sizeof(q->s));
        }
    }
}

bool
jgc_csrf_ok(const struct jgc_req *q)
{
    char got[JGC_TOKEN_LEN + 8];

    return q->signed_in && jgc_field(q, "csrf", got, sizeof(got)) &&
           token_eq(got, q->s.csrf);
}

/* ---- failed sign-ins, by source address --------------------------------- */

static struct jgc_fail *
fail_of(struct jg_console *x, const char *from, bool make)
{
    size_t i, oldest = 0;

    for (i = 0; i < x->n_fails; i++) {
        if (strcmp(x->fails[i].from, from) == 0)
            return &x->fails[i];
    }
    if (!make)
        return NULL;
    if (x->n_fails < JGC_FAILS_MAX) {
        i = x->n_fails++;
    } else {
        /* Full: the source with the oldest last failure goes. */
        for (i = 1; i < x->n_fails; i++) {
            const struct jgc_fail *a = &x->fails[i], *o = &x->fails[oldest];
            if (a->times[(a->at + 63) % 64] < o->times[(o->at + 63) % 64])
                oldest = i;
        }
        i = oldest;
    }
    memset(&x->fails[i], 0, sizeof(x->fails[i]));
    jg_strlcpy(x->fails[i].from, from, sizeof(x->fails[i].from));
    return &x->fails[i];
}

/* Seconds the source must still wait, 0 when it may try. */
static int64_t
banned_for(struct jg_console *x, const char *from)
{
    struct jgc_fail *f;
    int64_t left = 0;

    pthread_mutex_lock(&x->mu);
    if ((f = fail_of(x, from, false)) != NULL && f->banned_until > now_s())
        left = f->banned_until - now_s();
    pthread_mutex_unlock(&x->mu);
    return left;
}

static void
count_failure(struct jg_console *x, const char *from)
{
    const struct jg_config *cfg = x->cfg;
    int64_t now = now_s();
    unsigned max = cfg->auth_fail_max > 64 ? 64 : (unsigned)cfg->auth_fail_max;
    unsigned i, recent = 0;
    struct jgc_fail *f;

    pthread_mutex_lock(&x->mu);
    f = fail_of(x, from, true);
    f->times[f->at] = now;
    f->at = (f->at + 1) % 64;
    if (f->n < 64)
        f->n++;
    for (i = 0; i < f->n; i++) {
        if (now - f->times[i] < cfg->auth_fail_window)
            recent++;
    }
    if (recent >= max) {
        f->banned_until = now + cfg->auth_fail_ban;
        jg_warn("audit console: %s banned for %" PRId64 " s after %u failed "
                "sign-ins", from, cfg->auth_fail_ban, recent);
    }
    pthread_mutex_unlock(&x->mu);
}

/* The running jumpgated keeps the gateway's bans (limits.auth_failures):
 * a failed sign-in here counts there as an SSH failure does, and a source
 * banned there is banned here. Asked over the control socket; when no
 * daemon answers, the console's own count above still holds. Returns
 * true when jumpgated says from is banned. */
static bool
daemon_source(struct jg_console *x, const char *from, bool failure)
{
    json_t *req = json_pack("{s:s,s:s,s:s}", "req",
                            failure ? "auth-failure" : "banned", "from", from,
                            "by", "the auditors' console");
    char *line = json_dumps(req, JSON_COMPACT), *text, *answer = NULL;
    char why[256];
    size_t len;
    json_t *a;
    bool banned = false;

    json_decref(req);
    text = jg_xasprintf("%s\n", line ? line : "{}");
    free(line);
    if (jg_control_request(x->cfg->control_socket, text, 2000, &answer, &len,
                           why, sizeof(why)) == 0 &&
        (a = json_loadb(answer, len, 0, NULL)) != NULL) {
        banned = json_is_true(json_object_get(a, "banned"));
        json_decref(a);
    }
    free(answer);
    free(text);
    return banned;
}

/* ---- PAM ---------------------------------------------------------------- */

struct conv_data {
    const char *password, *code;
    unsigned secrets;       /* echo-off prompts answered so far */
};

/* Answers the service's questions: the first hidden prompt gets the
 * password, the second the one-time code; anything else is refused. */
static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
     void *arg)
{
    struct conv_data *cd = arg;
    struct pam_response *r;
    int i;

    if (n <= 0 || n > PAM_MAX_NUM_MSG)
        return PAM_CONV_ERR;
    if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
        return PAM_BUF_ERR;
    for (i = 0; i < n; i++) {
        const char *answer = NULL;
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
            answer = cd->secrets == 0 ? cd->password
                     : cd->secrets == 1 ? cd->code : NULL;
            cd->secrets++;
            break;
        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            continue;
        default:
            break;
        }
        if (answer == NULL || (r[i].resp = strdup(answer)) == NULL) {
            for (int k = 0; k < i; k++) {
                if (r[k].resp != NULL) {
                    explicit_bzero(r[k].resp, strlen(r[k].resp));
                    free(r[k].resp);
                }
            }
            free(r);
            return PAM_CONV_ERR;
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

/* 0 when account signs in with password and code. */
static int
pam_check(const struct jg_console *x, const char *account,
          const char *password, const char *code, const char *from,
          char *why, size_t n)
{
    const char *svc = x->cfg->console_pam_service ? x->cfg->console_pam_service
                      : x->cfg->pam_service ? x->cfg->pam_service : "jumpgate";
    struct conv_data cd = {password, code, 0};
    struct pam_conv pc = {conv, &cd};
    pam_handle_t *ph = NULL;
    int r;

    if ((r = pam_start(svc, account, &pc, &ph)) != PAM_SUCCESS) {
        snprintf(why, n, "PAM service %s: %s", svc, pam_strerror(NULL, r));
        return JG_ERR_INTERNAL;
    }
    pam_set_item(ph, PAM_RHOST, from);
    pam_set_item(ph, PAM_RUSER, account);
    if ((r = pam_authenticate(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK)) ==
            PAM_SUCCESS)
        r = pam_acct_mgmt(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    if (r != PAM_SUCCESS)
        snprintf(why, n, "%s", pam_strerror(ph, r));
    pam_end(ph, r);
    return r == PAM_SUCCESS ? 0 : JG_ERR_DENIED;
}

/* ---- pages -------------------------------------------------------------- */

/* An account name as the policy writes them: [a-z_][a-z0-9_.-]{0,31}. */
static bool
account_ok(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-'))
            return false;
    }
    return true;
}

static void
drop_session(struct jg_console *x, const char *token)
{
    size_t i;

    pthread_mutex_lock(&x->mu);
    for (i = 0; i < JGC_SESSIONS_MAX; i++) {
        if (x->sessions[i].token[0] != '\0' &&
            token_eq(x->sessions[i].token, token))
            memset(&x->sessions[i], 0, sizeof(x->sessions[i]));
    }
    pthread_mutex_unlock(&x->mu);
}

enum MHD_Result
jgc_signin_page(struct jgc_req *q, const char *msg, unsigned status)
{
    struct jgc_buf b = {0};

    jgc_page_begin(&b, q, "Sign in");
    jgc_put(&b, "<h1>Sign in</h1>");
    if (msg != NULL) {
        jgc_put(&b, "<p class=\"error\" id=\"signin-error\">");
        jgc_esc(&b, msg);
        jgc_put(&b, "</p>");
    }
    jgc_put(&b, "<form method=\"post\" action=\"/signin\" class=\"signin\">"
                "<label>Account <input name=\"account\" id=\"account\" "
                "autocomplete=\"username\" required maxlength=\"32\"></label>"
                "<label>Password <input name=\"password\" id=\"password\" "
                "type=\"password\" autocomplete=\"current-password\" required "
                "maxlength=\"512\"></label>"
                "<label>One-time code <input name=\"code\" id=\"code\" "
                "autocomplete=\"one-time-code\" inputmode=\"numeric\" "
                "maxlength=\"16\"></label>"
                "<button type=\"submit\" id=\"signin\">Sign in</button></form>");
    jgc_page_end(&b);
    return jgc_answer(q, status, &b, NULL);
}

/* A new session for q's account as auditor; its cookie into cookie. */
static int
start_session(struct jgc_req *q, char *cookie, size_t n)
{
    struct jg_console *x = q->x;
    struct jgc_session s = {0}, *slot = NULL;
    int64_t now = now_s();
    size_t i;

    if (jgc_token(s.token) != 0 || jgc_token(s.csrf) != 0)
        return JG_ERR_INTERNAL;
    jg_strlcpy(s.account, q->s.account, sizeof(s.account));
    jg_strlcpy(s.auditor, q->s.auditor, sizeof(s.auditor));
    jg_strlcpy(s.from, q->from, sizeof(s.from));
    s.expires = now + x->cfg->console_session_timeout;
    pthread_mutex_lock(&x->mu);
    for (i = 0; i < JGC_SESSIONS_MAX && slot == NULL; i++) {
        if (x->sessions[i].token[0] == '\0' || x->sessions[i].expires <= now)
            slot = &x->sessions[i];
    }
    if (slot != NULL)
        *slot = s;
    pthread_mutex_unlock(&x->mu);
    if (slot == NULL)
        return JG_ERR_TOOBIG;
    snprintf(cookie, n, JGC_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; "
             "Max-Age=%" PRId64 "%s", s.token, x->cfg->console_session_timeout,
             x->tls ? "; Secure" : "");
    q->s = s;
    q->signed_in = true;
    return 0;
}

enum MHD_Result
jgc_signin(struct jgc_req *q)
{
    char account[64], password[513], code[17], why[256] = "", cookie[256];
    const struct jg_policy *p;
    const struct jg_auditor *a;
    int64_t wait;
    int r;

    if ((wait = banned_for(q->x, q->from)) > 0 ||
        daemon_source(q->x, q->from, false)) {
        jgc_event(q, "console.login", NULL, "banned", "too many failed sign-ins");
        return jgc_signin_page(q, "Too many failed sign-ins from this address; "
                               "try again later.", MHD_HTTP_TOO_MANY_REQUESTS);
    }
    if (!jgc_field(q, "account", account, sizeof(account)) ||
        !jgc_field(q, "password", password, sizeof(password)) ||
        !account_ok(account)) {
        return jgc_signin_page(q, "Give an account and its password.",
                               MHD_HTTP_BAD_REQUEST);
    }
    if (!jgc_field(q, "code", code, sizeof(code)))
        code[0] = '\0';
    jg_strlcpy(q->s.account, account, sizeof(q->s.account));
    r = pam_check(q->x, account, password, code, q->from, why, sizeof(why));
    explicit_bzero(password, sizeof(password));
    explicit_bzero(code, sizeof(code));
    if (r == 0) {
        pthread_mutex_lock(&q->x->mu);
        a = (p = jgc_policy(q->x)) != NULL ? jg_policy_auditor(p, account) : NULL;
        if (a != NULL)
            jg_strlcpy(q->s.auditor, a->name, sizeof(q->s.auditor));
        pthread_mutex_unlock(&q->x->mu);
        if (a == NULL) {
            r = JG_ERR_DENIED;
            snprintf(why, sizeof(why), "%s is not an auditor in the policy",
                     account);
        }
    }
    if (r != 0) {
        count_failure(q->x, q->from);
        (void)daemon_source(q->x, q->from, true);
        jgc_event(q, "console.login", NULL, "denied", why);
        jg_warn("audit console: sign-in of %s from %s refused: %s", account,
                q->from, why);
        /* The same words whatever failed: no hint for a guesser. */
        return jgc_signin_page(q, "Sign-in refused: wrong account, password "
                               "or code, or not an auditor.", MHD_HTTP_FORBIDDEN);
    }
    if (start_session(q, cookie, sizeof(cookie)) != 0)
        return jgc_error(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                         "too many auditors are signed in");
    if (jgc_event(q, "console.login", NULL, "ok", NULL) != 0) {
        drop_session(q->x, q->s.token);
        return jgc_error(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                         "the audit log cannot be written; no sign-in without "
                         "a record of it");
    }
    jg_info("audit console: %s signed in as auditor %s from %s", account,
            q->s.auditor, q->from);
    return jgc_redirect(q, "/sessions", cookie);
}

enum MHD_Result
jgc_signout(struct jgc_req *q)
{
    if (!jgc_csrf_ok(q))
        return jgc_error(q, MHD_HTTP_FORBIDDEN, "the form is stale; reload it");
    drop_session(q->x, q->s.token);
    jgc_event(q, "console.logout", NULL, "ok", NULL);
    return jgc_redirect(q, "/signin", JGC_COOKIE "=; Path=/; HttpOnly; "
                        "SameSite=Strict; Max-Age=0");
}
