/* SPDX-License-Identifier: Apache-2.0 */
/* common/common.h - small shared pieces: errors, logging, diagnostics,
 * time and duration parsing, addresses and CIDRs, a YAML tree with source
 * positions, and the daemon configuration.
 *
 * Conventions: functions return 0 or a negative JG_ERR_* code; results go
 * out through pointers; every *_free(NULL) is a no-op. */
#ifndef JG_COMMON_H
#define JG_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef JG_VERSION
#define JG_VERSION "0.0.0"
#endif

#define JG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define JG_EXPORT __attribute__((visibility("default")))

/* ---- errors (err.c) --------------------------------------------------- */

#define JG_OK 0
#define JG_ERR_INTERNAL -1 /* a bug or an impossible state */
#define JG_ERR_NOMEM -2
#define JG_ERR_INVALID -3  /* the input is not valid; diagnostics say why */
#define JG_ERR_IO -4       /* a system call failed; errno says why */
#define JG_ERR_NOTFOUND -5
#define JG_ERR_EXISTS -6
#define JG_ERR_TOOBIG -7
#define JG_ERR_DENIED -8

/* Text for a JG_ERR_* code. Never NULL. */
const char *jg_strerror(int r);

/* ---- logging (log.c) --------------------------------------------------- */

enum jg_log_level { JG_LOG_ERROR, JG_LOG_WARN, JG_LOG_INFO, JG_LOG_DEBUG };

/* Process-wide log settings (the one piece of global state in common/):
 * messages go to stderr as "PROG: message", or to syslog. */
void jg_log_init(const char *progname, bool use_syslog, int max_level);
void jg_log(int level, const char *file, const char *func, int line,
            const char *fmt, ...) JG_PRINTF(5, 6);
const char *jg_log_progname(void);

#define jg_error(...) jg_log(JG_LOG_ERROR, __FILE__, __func__, __LINE__, __VA_ARGS__)
#define jg_warn(...) jg_log(JG_LOG_WARN, __FILE__, __func__, __LINE__, __VA_ARGS__)
#define jg_info(...) jg_log(JG_LOG_INFO, __FILE__, __func__, __LINE__, __VA_ARGS__)
#define jg_debug(...) jg_log(JG_LOG_DEBUG, __FILE__, __func__, __LINE__, __VA_ARGS__)

/* ---- diagnostics (diag.c) ----------------------------------------------
 * Errors found in input files, each with its place. Collected so that one
 * run reports all of them. */

struct jg_diag {
    char *file;
    int line; /* 1-based; 0 when the error is about the whole file */
    int col;  /* 1-based */
    char *msg;
};

struct jg_diags {
    struct jg_diag *v;
    size_t n, cap;
};

void jg_diags_add(struct jg_diags *d, const char *file, int line, int col,
                  const char *fmt, ...) JG_PRINTF(5, 6);
void jg_diags_vadd(struct jg_diags *d, const char *file, int line, int col,
                   const char *fmt, va_list ap) JG_PRINTF(5, 0);
/* Sorts by file, line and column (stable) and prints "FILE:LINE:COL: msg". */
void jg_diags_print(struct jg_diags *d, FILE *out);
void jg_diags_clear(struct jg_diags *d);

/* ---- time (time.c) ---------------------------------------------------- */

#define JG_TIME_NEVER INT64_MAX

/* "90s", "30m", "4h", "7d", "2w" and sums like "1h30m". Rejects zero,
 * negatives, unknown units and overflow. */
int jg_duration_parse(const char *s, int64_t *secs);
/* "2h30m", "45s", "3d"; exact. */
void jg_duration_format(int64_t secs, char *buf, size_t n);
/* RFC 3339 ("2026-11-27T18:00:00Z", "...+01:00", fractional seconds are
 * truncated) or a date alone ("2027-06-30", meaning 00:00 UTC). */
int jg_time_parse(const char *s, int64_t *t);
/* "2026-11-27T18:00:00Z"; "never" for JG_TIME_NEVER. */
void jg_time_format(int64_t t, char *buf, size_t n);
#define JG_TIME_STRLEN 32
int64_t jg_now(void);

/* ---- addresses (addr.c) ----------------------------------------------- */

struct jg_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t b[16];  /* network order; IPv4 uses b[0..3] */
};

struct jg_cidr {
    struct jg_addr a;
    uint8_t prefix;
};

#define JG_CIDR_STRLEN 52

/* An IPv4 or IPv6 address; IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4. */
int jg_addr_parse(const char *s, struct jg_addr *out);
void jg_addr_format(const struct jg_addr *a, char *buf, size_t n);
/* "10.0.0.0/8", "2001:db8::/48", or an address alone (/32, /128). Host bits
 * are cleared; *had_host_bits (may be NULL) tells whether there were any. */
int jg_cidr_parse(const char *s, struct jg_cidr *out, bool *had_host_bits);
void jg_cidr_format(const struct jg_cidr *c, char *buf, size_t n);
bool jg_cidr_contains(const struct jg_cidr *c, const struct jg_addr *a);
int jg_cidr_cmp(const struct jg_cidr *x, const struct jg_cidr *y);
/* Sorts v, removes duplicates and networks inside others, and merges
 * sibling halves into their parent. Returns the new count. */
size_t jg_cidr_canonicalize(struct jg_cidr *v, size_t n);

/* "host:port", "[2001:db8::1]:22". *host is allocated; caller frees. */
int jg_hostport_parse(const char *s, char **host, uint16_t *port);

/* ---- YAML tree (yaml.c) ------------------------------------------------
 * A whole YAML document as a tree whose nodes keep their line and column.
 * Anchors and aliases, tags, and more than one document are refused;
 * duplicate keys in a mapping are errors. */

enum jg_ytype { JG_Y_SCALAR, JG_Y_SEQ, JG_Y_MAP };

struct jg_ynode {
    enum jg_ytype type;
    int line, col;   /* 1-based */
    char *str;       /* scalar text (NUL-terminated) */
    size_t len;      /* scalar length */
    bool quoted;     /* scalar was quoted */
    struct jg_ynode **kids; /* SEQ: items; MAP: key0, value0, key1, ... */
    size_t n;               /* number of entries in kids */
    struct jg_yarena *arena; /* the root's: owns every node of the tree */
};

#define JG_YAML_MAX_BYTES (16u << 20)
#define JG_YAML_MAX_DEPTH 64

/* Parses data (len bytes) named file in messages. On success *root is the
 * document (NULL for an empty one); caller frees with jg_ynode_free. On bad
 * YAML returns JG_ERR_INVALID with diagnostics in d. */
int jg_yaml_parse(const char *file, const char *data, size_t len,
                  struct jg_ynode **root, struct jg_diags *d);
/* Reads and parses a file (at most JG_YAML_MAX_BYTES). JG_ERR_IO (errno
 * set) when it cannot be read or is too large; JG_ERR_INVALID with a
 * diagnostic when it is not a regular file (never opened blocking). */
int jg_yaml_load_file(const char *path, struct jg_ynode **root,
                      struct jg_diags *d);
/* The reading half of jg_yaml_load_file(), with its errors: the bytes of
 * path for jg_yaml_parse(); caller frees *data. */
int jg_yaml_read_file(const char *path, char **data, size_t *len,
                      struct jg_diags *d);
/* Frees a whole document; n must be a root from jg_yaml_parse. */
void jg_ynode_free(struct jg_ynode *n);

/* Reads a whole regular file (at most max bytes; a symlink to one is
 * followed); caller frees *data. Never blocks on what it opens: a FIFO,
 * socket or device is refused without reading (JG_ERR_INVALID, errno
 * EINVAL), a folder is JG_ERR_IO (EISDIR). Otherwise JG_ERR_IO (errno
 * set), JG_ERR_TOOBIG (EFBIG) or JG_ERR_NOMEM (ENOMEM); never aborts. */
int jg_read_file(const char *path, size_t max, char **data, size_t *len);
/* Why jg_read_file() returned r (uses errno for JG_ERR_IO). Never NULL. */
const char *jg_read_strerror(int r);

/* Schema helpers: each reports a diagnostic at the node and returns false
 * when the node is not of the asked shape. */
bool jg_y_expect(const struct jg_ynode *n, enum jg_ytype t, const char *file,
                 const char *what, struct jg_diags *d);
/* Checks that every key of map n is in allowed (NULL-terminated list). */
void jg_y_check_keys(const struct jg_ynode *n, const char *const *allowed,
                     const char *file, const char *what, struct jg_diags *d);
/* Value for key in map n, or NULL. */
const struct jg_ynode *jg_y_get(const struct jg_ynode *n, const char *key);
/* A YAML boolean (true/false/yes/no as YAML 1.1 spells them). */
bool jg_y_bool(const struct jg_ynode *n, const char *file, bool *out,
               struct jg_diags *d);
/* A scalar, or a sequence of scalars, as a NULL-terminated string vector;
 * caller frees with jg_strv_free. Reports non-scalars. */
bool jg_y_strv(const struct jg_ynode *n, const char *file, const char *what,
               char ***out, size_t *count, struct jg_diags *d);
void jg_strv_free(char **v);

/* Path of rel relative to the folder of base (rel unchanged when absolute).
 * Caller frees. */
char *jg_path_relative_to(const char *base, const char *rel);

/* ---- configuration (config.c): /etc/jumpgate/jumpgate.yaml ------------- */

#define JG_CONFIG_DEFAULT "/etc/jumpgate/jumpgate.yaml"
#define JG_CONTROL_SOCKET_DEFAULT "/run/jumpgated/control.sock"
#define JG_CONTROL_SOCKET_MAX 108   /* sizeof(sun_path) */

enum jg_on_failure { JG_ON_FAILURE_REFUSE, JG_ON_FAILURE_CONTINUE };

struct jg_config {
    char *path;
    char **listen;      /* "host:port" strings */
    size_t n_listen;
    char **host_keys;
    size_t n_host_keys;
    char *policy;       /* policy.yaml; policy.d/ beside it */
    char *upstream_identity;   /* static key; NULL when only certificates */
    char *upstream_ca;         /* user CA: a certificate per upstream login */
    int64_t upstream_cert_validity;  /* s a certificate stays valid */
    char *upstream_cert_source; /* "CIDR,CIDR" for source-address, or NULL */
    char *upstream_known_hosts;
    char *pam_service;
    char *audit_dir;
    char *audit_signing_key;
    enum jg_on_failure audit_on_failure;
    int64_t audit_seal_interval; /* s between the daemon's timed seals */
    char *s3_bucket, *s3_prefix, *s3_region;
    int s3_part_size_mib;   /* multipart part size and threshold, MiB */
    /* audit.console: `jumpgate audit serve` (NULL listen: not set) */
    char *console_listen;   /* "host:port"; loopback unless TLS */
    char *console_tls_cert, *console_tls_key;   /* both or neither */
    char *console_pam_service;                   /* default: pam_service */
    int64_t console_session_timeout;             /* s a sign-in lasts */
    char *metrics_listen;   /* NULL: no metrics endpoint */
    int max_startups;       /* = startups_full */
    /* limits.max_startups as sshd's start:rate:full ("N" is N:100:N):
     * from startups_begin unauthenticated connections on, a new one is
     * refused with startups_rate percent, rising linearly to 100 at
     * startups_full */
    int startups_begin, startups_rate, startups_full;
    /* limits.per_source_startups: unauthenticated connections from one
     * source address at once */
    int per_source_startups;
    /* limits.penalties (seconds): what a connection that ends without
     * authenticating adds to its source's penalty (grace_exceeded: it
     * held on until login_grace; noauth: it closed before), and the
     * penalty from which the source is refused (min) and its cap (max) */
    int64_t pen_grace, pen_noauth, pen_min, pen_max;
    char *control_socket;   /* the daemon's root-only unix socket */
    int64_t login_grace, idle_timeout;
    int auth_fail_max;
    int64_t auth_fail_window, auth_fail_ban;
    int64_t sync_interval;
    char *aws_region;
    char *cf_account_id, *cf_api_token_file, *cf_api_base;
    int max_removals;
    char *sync_metrics_listen;
};

/* $JUMPGATE_CONFIG, or JG_CONFIG_DEFAULT. */
const char *jg_config_default_path(void);
/* Loads and validates a config file. Relative paths in it are taken from
 * the config file's folder. JG_ERR_IO when unreadable (errno set),
 * JG_ERR_INVALID with diagnostics. Caller frees *out. */
int jg_config_load(const char *path, struct jg_config **out,
                   struct jg_diags *d);
void jg_config_free(struct jg_config *c);

/* ---- small helpers (util.c) ------------------------------------------- */

/* Never return NULL: abort with a message on out-of-memory. */
void *jg_xmalloc(size_t n);
void *jg_xcalloc(size_t n, size_t size);
void *jg_xrealloc(void *p, size_t n, size_t size);
char *jg_xstrdup(const char *s);
char *jg_xasprintf(const char *fmt, ...) JG_PRINTF(1, 2);
/* Copies src into dst of size n, always terminating; truncates. */
void jg_strlcpy(char *dst, const char *src, size_t n);
/* Random bytes from the kernel. */
int jg_random(void *buf, size_t n);

/* ---- the running jumpgated's control socket (control.c) ----------------- */

/* Sends req (a line) to the control socket at path and reads the whole
 * answer (NUL-terminated, *len bytes; caller frees), waiting at most
 * timeout_ms for each read. 0; JG_ERR_NOTFOUND when the socket cannot be
 * reached (errno kept), another JG_ERR_* otherwise, with why. */
int jg_control_request(const char *path, const char *req, int timeout_ms,
                       char **answer, size_t *len, char *why, size_t n);

/* ---- listening sockets (listen.c) -------------------------------------- */

#define JG_LISTEN_NONBLOCK 1u   /* a non-blocking socket */
#define JG_LISTEN_NAMES 2u      /* HOST may be a name (else numeric only) */
/* A listening TCP socket (close-on-exec) on hostport into *fd; errors name
 * the setting what. 0, JG_ERR_INVALID (not host:port, not resolvable) or
 * JG_ERR_IO (socket, bind, listen). */
int jg_listen_tcp(const char *hostport, const char *what, unsigned flags,
                  int backlog, int *fd, char *err, size_t errn);

/* ---- Prometheus metrics (metrics.c, metrics_http.c) ------------------- */

enum jg_metric_type { JG_METRIC_COUNTER, JG_METRIC_GAUGE };
struct jg_metrics;
struct jg_metrics_server;

struct jg_metrics *jg_metrics_new(void);
void jg_metrics_free(struct jg_metrics *m);
/* Declares a metric family: name [a-zA-Z_:][a-zA-Z0-9_:]*, its help text.
 * Declaring it again with the same type is a no-op. */
int jg_metrics_declare(struct jg_metrics *m, const char *name,
                       enum jg_metric_type type, const char *help);
/* Adds v (>= 0) to a counter or a gauge, or sets a gauge, in the series
 * named by label pairs: "name", "value", ..., NULL. A series springs into
 * existence at its first update. JG_ERR_NOTFOUND for an undeclared family,
 * JG_ERR_INVALID for a bad label name, a negative counter step, or set on a
 * counter. Safe against a concurrent render. */
int jg_metrics_add(struct jg_metrics *m, const char *name, double v, ...);
int jg_metrics_set(struct jg_metrics *m, const char *name, double v, ...);
/* Drops every series of a family (an info gauge whose label changes).
 * JG_ERR_NOTFOUND for an undeclared family. */
int jg_metrics_clear(struct jg_metrics *m, const char *name);
/* The text exposition format (0.0.4), HELP and TYPE lines, families and
 * series in declaration order. Caller frees; NULL on out-of-memory. */
char *jg_metrics_render(struct jg_metrics *m, size_t *len);

/* The HTTP server's bounds: connections at once, from one address,
 * seconds without a byte, and seconds in all (enforced when polled through
 * jg_metrics_server_run()). */
#define JG_METRICS_CONNS 16
#define JG_METRICS_CONNS_PER_IP 4
#define JG_METRICS_IDLE 5
#define JG_METRICS_DEADLINE 15

/* Called before each scrape to bring gauges up to date (may be NULL). */
typedef void (*jg_metrics_refresh_fn)(struct jg_metrics *m, void *arg);
/* Serves GET /metrics of m on a numeric "host:port". threaded: on a
 * thread of its own; else the caller polls jg_metrics_server_fd() for
 * input and then calls jg_metrics_server_run(). A message is in err on
 * failure. */
int jg_metrics_serve(const char *hostport, struct jg_metrics *m,
                     bool threaded, jg_metrics_refresh_fn refresh, void *arg,
                     struct jg_metrics_server **out, char *err, size_t errn);
int jg_metrics_server_fd(const struct jg_metrics_server *s);
void jg_metrics_server_run(struct jg_metrics_server *s);
/* In a forked child: closes the server's descriptors, nothing else. */
void jg_metrics_server_forget(struct jg_metrics_server *s);
void jg_metrics_server_free(struct jg_metrics_server *s);

#endif
