/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/seccomp.c - the worker's system call allowlist (libseccomp,
 * default: kill the process). Installed right after the drop to the
 * unprivileged user and before the first byte from the client is read, so
 * the whole SSH session - key exchange, authentication, channels, the
 * upstream legs - runs under it. The worker may move bytes on descriptors
 * it already holds or receives from the monitor, manage its memory and
 * read the clock; it cannot open files, make sockets, connect, execute,
 * fork or trace. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include "gateway/worker/internal.h"

/* Allowed as they are. */
static const char *const allowed[] = {
    /* bytes on descriptors it holds: the client, the monitor, upstream
     * and forward sockets, the agent socket, stderr */
    "read", "write", "readv", "writev", "recvfrom", "recvmsg", "sendto",
    "sendmsg", "poll", "ppoll", "close", "shutdown",
    /* libssh reads socket options and addresses of the sockets it runs */
    "getsockopt", "getsockname", "getpeername",
    /* memory: malloc, OpenSSL's secure heap */
    "brk", "mmap", "munmap", "mremap", "madvise", "mprotect",
    /* time and randomness (OpenSSL, libssh) */
    "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
    "clock_nanosleep", "getrandom",
    /* signals and the process's own ending */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "restart_syscall",
    "sigaltstack",      /* sanitizer runtimes set one per thread */
    "exit", "exit_group",
    /* identity queries that cannot change anything (logging, libraries) */
    "getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
    /* stdio and libraries look at descriptors they were given */
    "fstat", "newfstatat", "lseek",
    /* single-threaded, but glibc and OpenSSL take their locks */
    "futex",
};

/* Refused with an error: libraries probe files (OpenSSL's config, libssh's
 * ~/.ssh) and syslog reconnects; failing is the right answer. */
static const char *const refused[] = {
    "open", "openat", "openat2", "socket", "connect", "stat", "lstat",
    "access", "faccessat", "faccessat2", "readlink", "readlinkat", "statx",
    "uname", "sysinfo", "sched_getaffinity", "setsockopt",
};

/* Allowed (or refused) only with one argument equal to a value. */
static const struct {
    const char *name;
    unsigned arg;
    scmp_datum_t value;
    uint32_t action;
} narrow[] = {
    /* fcntl: file status and descriptor flags only (no locks, no dup) */
    {"fcntl", 1, F_GETFL, SCMP_ACT_ALLOW},
    {"fcntl", 1, F_SETFL, SCMP_ACT_ALLOW},
    {"fcntl", 1, F_GETFD, SCMP_ACT_ALLOW},
    {"fcntl", 1, F_SETFD, SCMP_ACT_ALLOW},
    /* ioctl: bytes waiting and non-blocking mode on its sockets; a
     * terminal query (isatty) is told "not a terminal" */
    {"ioctl", 1, FIONREAD, SCMP_ACT_ALLOW},
    {"ioctl", 1, FIONBIO, SCMP_ACT_ALLOW},
    {"ioctl", 1, TCGETS, SCMP_ACT_ERRNO(ENOTTY)},
};

static int
add(scmp_filter_ctx ctx, uint32_t action, const char *name)
{
    int nr = seccomp_syscall_resolve_name(name);

    if (nr == __NR_SCMP_ERROR)
        return 0;   /* not a system call on this architecture */
    return seccomp_rule_add(ctx, action, nr, 0);
}

/* A rule matching one argument equal to a value. (libseccomp's SCMP_A*
 * macros leave a field to its default, which clang warns about.) */
static int
add_eq(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned arg,
       scmp_datum_t value)
{
    struct scmp_arg_cmp cmp = {.arg = arg, .op = SCMP_CMP_EQ,
                               .datum_a = value, .datum_b = 0};

    return seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
}

/* Resource limits as tight as the worker works with. */
static int
limits(void)
{
    /* descriptors: client, monitor, stdio, and per channel an upstream or
     * forward socket (JG_GW_MAX_GRANTS bounds the channels) */
    struct rlimit nofile = {JG_GW_WORKER_NOFILE, JG_GW_WORKER_NOFILE};
    struct rlimit zero = {0, 0};
    struct stat st;

    if (setrlimit(RLIMIT_NOFILE, &nofile) != 0)
        return JG_ERR_IO;
    /* It writes no file; only stderr may be a log file (foreground). */
    if ((fstat(STDERR_FILENO, &st) != 0 || !S_ISREG(st.st_mode)) &&
        setrlimit(RLIMIT_FSIZE, &zero) != 0)
        return JG_ERR_IO;
    return 0;
}

int
jg_gw_sandbox(void)
{
    scmp_filter_ctx ctx;
    size_t i;
    int r = 0;

    if (limits() != 0) {
        jg_error("worker: setrlimit: %s", strerror(errno));
        return JG_ERR_IO;
    }
    if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
        jg_error("worker: seccomp_init failed");
        return JG_ERR_INTERNAL;
    }
    for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && r == 0; i++)
        r = add(ctx, SCMP_ACT_ALLOW, allowed[i]);
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]) && r == 0; i++)
        r = add(ctx, SCMP_ACT_ERRNO(EACCES), refused[i]);
    for (i = 0; i < sizeof(narrow) / sizeof(narrow[0]) && r == 0; i++)
        r = add_eq(ctx, narrow[i].action, seccomp_syscall_resolve_name(
                       narrow[i].name), narrow[i].arg, narrow[i].value);
    /* abort() signals itself; it may signal nobody else. */
    if (r == 0)
        r = add_eq(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 0,
                   (scmp_datum_t)getpid());
    if (r == 0)
        r = seccomp_load(ctx);
    seccomp_release(ctx);
    if (r != 0) {
        jg_error("worker: cannot install the seccomp filter: %s",
                 strerror(-r));
        return JG_ERR_INTERNAL;
    }
    return 0;
}
