/* SPDX-License-Identifier: Apache-2.0 */
/* common/log.c - messages to stderr ("PROG: message") or to syslog. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "common/common.h"

/* Process-wide log settings: set once at start-up by main(), read after. */
static const char *log_prog = "jumpgate";
static bool log_syslog;
static int log_max = JG_LOG_INFO;

void
jg_log_init(const char *progname, bool use_syslog, int max_level)
{
    log_prog = progname;
    log_syslog = use_syslog;
    log_max = max_level;
    if (use_syslog)
        openlog(progname, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

const char *
jg_log_progname(void)
{
    return log_prog;
}

void
jg_log(int level, const char *file, const char *func, int line,
       const char *fmt, ...)
{
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    char msg[2048];
    va_list ap;

    if (level > log_max)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log_syslog) {
        syslog(prio[level], "%s", msg);
    } else if (level == JG_LOG_DEBUG) {
        fprintf(stderr, "%s: %s:%d %s: %s\n", log_prog, file, line, func, msg);
    } else {
        fprintf(stderr, "%s: %s\n", log_prog, msg);
    }
}
