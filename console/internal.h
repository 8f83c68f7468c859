/* SPDX-License-Identifier: Apache-2.0 */
/* console/internal.h - what the files of console/ share (the public view
 * is console.h). One console holds the policy, the audit log it appends
 * its own events to, the signed-in auditors and the per-source failure
 * counts, under one mutex: libmicrohttpd runs a thread per connection. */
#ifndef JG_CONSOLE_INTERNAL_H
#define JG_CONSOLE_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <microhttpd.h>

#include "audit/audit.h"
#include "console/console.h"
#include "policy/policy.h"

#define JGC_COOKIE "jg_console"
#define JGC_TOKEN_LEN 43          /* base64url of 32 random bytes */
#define JGC_SESSIONS_MAX 256      /* signed-in auditors at once */
#define JGC_FAILS_MAX 1024        /* sources with failed sign-ins kept */
#define JGC_PAGE 50               /* sessions a page */
#define JGC_BODY_MAX 4096         /* bytes of a form */
#define JGC_CONNS 64              /* connections at once */
#define JGC_CONNS_PER_IP 16
#define JGC_IDLE 30               /* s without a byte */

/* A signed-in auditor. */
struct jgc_session {
    char token[JGC_TOKEN_LEN + 1];   /* the cookie */
    char csrf[JGC_TOKEN_LEN + 1];    /* in every form */
    char account[64];
    char auditor[72];                /* the policy entry's name */
    char from[64];
    int64_t expires;                 /* CLOCK_REALTIME s */
};

/* Failed sign-ins of one source address. */
struct jgc_fail {
    char from[64];
    int64_t times[64];               /* ring of failure times (s) */
    unsigned n, at;
    int64_t banned_until;
};

struct jg_console {
    const struct jg_config *cfg;
    const struct jg_console_opts *opts;
    bool tls;
    pthread_mutex_t mu;
    struct jg_policy *pol;           /* reloaded when its files change */
    struct timespec pol_mtime, dropins_mtime;
    struct jg_audit_key *key;        /* audit.signing_key (private) */
    struct jg_audit_key *pub;        /* its public half, for verify */
    struct jg_audit_log *log;
    struct jgc_session sessions[JGC_SESSIONS_MAX];
    struct jgc_fail fails[JGC_FAILS_MAX];
    size_t n_fails;
};

/* One request as the handlers see it. */
struct jgc_req {
    struct jg_console *x;
    struct MHD_Connection *c;
    const char *url, *method;
    char from[64];                   /* the client's address */
    bool signed_in;
    struct jgc_session s;            /* a copy, when signed_in */
    const char *form;                /* a POST body (urlencoded), or NULL */
    size_t form_len;
};

/* ---- HTML built in a growing buffer (html.c) ---------------------------- */
struct jgc_buf {
    char *p;
    size_t n, cap;
};
void jgc_put(struct jgc_buf *b, const char *s);
void jgc_putn(struct jgc_buf *b, const char *s, size_t n);
void jgc_putf(struct jgc_buf *b, const char *fmt, ...) JG_PRINTF(2, 3);
/* s escaped for HTML text and attribute values (& < > " ' as entities;
 * control bytes and invalid UTF-8 as U+FFFD); NULL puts "-". */
void jgc_esc(struct jgc_buf *b, const char *s);
/* s percent-encoded for a query value. */
void jgc_urlenc(struct jgc_buf *b, const char *s);
/* The page around body: head, the navigation for the signed-in auditor
 * (with the sign-out form), and the end. */
void jgc_page_begin(struct jgc_buf *b, const struct jgc_req *q,
                    const char *title);
void jgc_page_end(struct jgc_buf *b);
/* A table cell of class cls holding text, escaped. */
void jgc_cell(struct jgc_buf *b, const char *cls, const char *text);
/* An event's members other than the fixed ones (seq, time, type, session,
 * user, from, target, login, action, rule, the chain), as "key=value ..."
 * (raw text: escape it to show it). Caller frees. */
char *jgc_event_details(json_t *ev);

/* ---- answers (server.c) ------------------------------------------------- */
/* Queues status with body (taken: freed by the server) and the security
 * headers every answer carries; type NULL means text/html. */
enum MHD_Result jgc_answer(struct jgc_req *q, unsigned status,
                           struct jgc_buf *body, const char *type);
/* Queues r (taken) as a file the browser must not read as a page: type,
 * disposition (NULL: none), nosniff, no script, not cached. */
enum MHD_Result jgc_answer_raw(struct jgc_req *q, struct MHD_Response *r,
                               const char *type, const char *disposition);
/* 503: the console's own event could not be written, so nothing is shown. */
enum MHD_Result jgc_unrecorded(struct jgc_req *q);
/* What jgc_find() returning NULL means: 500 when the folder could not be
 * read (r), else 404 "no such WHAT". */
enum MHD_Result jgc_not_found(struct jgc_req *q, int r, const char *what);
/* A short page with a message: 4xx and 5xx answers. */
enum MHD_Result jgc_error(struct jgc_req *q, unsigned status,
                          const char *fmt, ...) JG_PRINTF(3, 4);
/* 303 to location (a path of this console). */
enum MHD_Result jgc_redirect(struct jgc_req *q, const char *location,
                             const char *cookie);
/* The value of a query argument, or NULL. */
const char *jgc_arg(const struct jgc_req *q, const char *name);
/* A form field of q->form, decoded into buf (n bytes); false when absent
 * or too long. */
bool jgc_field(const struct jgc_req *q, const char *name, char *buf,
               size_t n);

/* ---- filters (filter.c) ------------------------------------------------- */
/* value matches the glob pattern; a NULL pattern matches anything. */
bool jgc_match(const char *pattern, const char *value);
/* Query argument name as a time in µs: "YYYY-MM-DD" (the day's start, or
 * its end with end_of_day) or RFC 3339; *us untouched when absent. false
 * when it is not a time. */
bool jgc_arg_time(const struct jgc_req *q, const char *name, int64_t *us,
                  bool end_of_day);
/* Query argument "page" as a number (0 when absent); false when it is not
 * one or is beyond any list. */
bool jgc_arg_page(const struct jgc_req *q, size_t *page);
/* A labelled text input of a GET form, filled with query argument name. */
void jgc_input(struct jgc_buf *b, const struct jgc_req *q, const char *name,
               const char *label, const char *type);
/* A link to page of path with the query arguments keys (NULL-ended) of q. */
void jgc_page_link(struct jgc_buf *b, const struct jgc_req *q,
                   const char *path, const char *const *keys, size_t page,
                   const char *text);
/* Queues fd's whole content (taken: closed by the server) as a download
 * of type, named by disposition (NULL: shown, not saved), with the
 * headers that keep a browser from reading it as a page. */
enum MHD_Result jgc_answer_fd(struct jgc_req *q, int fd, const char *type,
                              const char *disposition);

/* ---- auditors (auth.c) -------------------------------------------------- */
/* Looks up the session cookie of q; fills q->s and q->signed_in. */
void jgc_auth_lookup(struct jgc_req *q);
/* GET and POST /signin, POST /signout. */
enum MHD_Result jgc_signin_page(struct jgc_req *q, const char *msg,
                                unsigned status);
enum MHD_Result jgc_signin(struct jgc_req *q);
enum MHD_Result jgc_signout(struct jgc_req *q);
/* A form's csrf field matches the session's. */
bool jgc_csrf_ok(const struct jgc_req *q);
/* 32 random bytes as base64url (JGC_TOKEN_LEN + 1 bytes). */
int jgc_token(char *out);

/* ---- state (state.c) ---------------------------------------------------- */
/* The current policy (reloaded when its files changed); borrowed, valid
 * while x->mu is held. NULL when it cannot be loaded (all is refused). */
const struct jg_policy *jgc_policy(struct jg_console *x);
/* Appends a console.* event for q: type, the session it concerns (or
 * NULL), result ("ok", "denied", ...) and detail. 0 or a JG_ERR_*. */
int jgc_event(struct jgc_req *q, const char *type, const char *session,
              const char *result, const char *detail);
/* With x->mu held: the current policy into *pol and q's auditor entry in
 * it, or NULL when q's account is no longer that auditor (or the policy
 * does not load). */
const struct jg_auditor *jgc_auditor(struct jgc_req *q,
                                     const struct jg_policy **pol);
/* Session id of the audit folder, read into *all (free it whatever the
 * result), when q's auditor may see it; NULL when it does not exist or is
 * not theirs (the same to the caller), or *err when the folder cannot be
 * read. */
const struct jg_audit_session *jgc_find(struct jgc_req *q, const char *id,
                                        struct jg_audit_sessions *all,
                                        int *err);
/* Is the session of user on target visible to q's auditor now? */
bool jgc_sees(struct jgc_req *q, const char *user, const char *target);
/* The same, remembered for the length of one request: a scan of many
 * recordings or events asks about a few users and targets again and
 * again, and each pair goes to the policy once. */
#define JGC_SEEN_MAX 64
struct jgc_seen {
    char *user, *target;
    bool ok;
};
struct jgc_scope {
    struct jgc_req *q;
    struct jgc_seen v[JGC_SEEN_MAX];
    size_t n;
};
bool jgc_scope_sees(struct jgc_scope *sc, const char *user,
                    const char *target);
void jgc_scope_free(struct jgc_scope *sc);

/* ---- pages (page_*.c, cast.c, evidence.c, live.c, assets.c) -------------- */
enum MHD_Result jgc_list(struct jgc_req *q);
enum MHD_Result jgc_search(struct jgc_req *q);
enum MHD_Result jgc_events(struct jgc_req *q);
enum MHD_Result jgc_session(struct jgc_req *q, const char *id);
enum MHD_Result jgc_cast(struct jgc_req *q, const char *id);
enum MHD_Result jgc_evidence(struct jgc_req *q, const char *id);
/* GET /live, /sessions/ID/watch and its stream /sessions/ID/live. */
enum MHD_Result jgc_live(struct jgc_req *q);
enum MHD_Result jgc_watch(struct jgc_req *q, const char *id);
enum MHD_Result jgc_live_stream(struct jgc_req *q, const char *id);
enum MHD_Result jgc_asset(struct jgc_req *q, const char *name);
/* "intact", "unsealed" (a tail not proven yet) or "tampered", for the
 * recording at path; "" when there is no key to check with. */
const char *jgc_verify(struct jg_console *x, const char *path,
                       const char *id, char *detail, size_t n);

#endif
