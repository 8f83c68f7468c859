/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/hostcert.c - host certificates of targets. libssh's
 * client negotiates only plain host keys (no version of it offers the
 * *-cert-v01@openssh.com host key algorithms), so for a target whose key
 * upstream.known_hosts does not accept on its own but whose host has
 * @cert-authority lines, the monitor asks the target for its host
 * certificates with OpenSSH's `ssh-keyscan -c` and accepts the key only if
 * one of them certifies that very key under a trusted CA. The key
 * exchange has proved that the target holds the key; the certificate
 * binds the key to the host, as when OpenSSH receives it in the exchange.
 * What ssh-keyscan prints is untrusted: each certificate is parsed and its
 * signature checked before anything of it is believed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gateway/monitor/internal.h"

#define KEYSCAN "/usr/bin/ssh-keyscan"
#define KEYSCAN_MAX (64u << 10)   /* a few certificates are a few KiB */

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts ssh-keyscan -c for host:port with its output on *rfd; its pid,
 * or -1 with errno. */
static pid_t
spawn(const char *host, uint16_t port, int timeout_s, int *rfd)
{
    char portstr[8], tstr[8];
    int pfd[2], e;
    pid_t pid;

    snprintf(portstr, sizeof(portstr), "%u", port);
    snprintf(tstr, sizeof(tstr), "%d", timeout_s);
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return -1;
    if ((pid = fork()) < 0) {
        e = errno;
        close(pfd[0]);
        close(pfd[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        char *argv[] = {KEYSCAN, "-c", "-T", tstr, "-p", portstr, "--",
                        (char *)host, NULL};
        char *envp[] = {NULL};
        sigset_t none;
        int nul = open("/dev/null", O_RDWR);

        /* The monitor blocks its signals and ignores SIGPIPE; the child
         * must die of both like any program. */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        if (nul < 0 || dup2(nul, 0) < 0 || dup2(pfd[1], 1) < 0 ||
            dup2(nul, 2) < 0)
            _exit(127);
        close_range(3, ~0U, 0);
        execve(KEYSCAN, argv, envp);
        _exit(127);
    }
    close(pfd[1]);
    *rfd = pfd[0];
    return pid;
}

/* Reaps pid into *st: a child that has said all (eof) still has until the
 * deadline to end; one that has not, or does not end, is killed. False
 * when it had to be killed after its eof (it hung). */
static bool
reap(pid_t pid, bool eof, int64_t deadline, int *st)
{
    while (eof) {
        pid_t w = waitpid(pid, st, WNOHANG);

        if (w == pid || (w < 0 && errno != EINTR))
            return true;
        if (now_ms() >= deadline)
            break;
        poll(NULL, 0, 20);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, st, 0) < 0 && errno == EINTR)
        ;
    return !eof;
}

/* Runs ssh-keyscan -c for host:port; its output (NUL-terminated, caller
 * frees) or NULL with why. At most KEYSCAN_MAX bytes are read, and the
 * child is gone, one way or another, by the deadline. */
static char *
keyscan(const char *host, uint16_t port, int timeout_s, char *why,
        size_t whyn)
{
    char *out = jg_xmalloc(KEYSCAN_MAX + 1);
    size_t n = 0;
    int fd = -1, st = 0;
    int64_t deadline = now_ms() + (int64_t)(timeout_s + 2) * 1000;
    bool timed_out = false, eof = false;
    pid_t pid;

    if ((pid = spawn(host, port, timeout_s, &fd)) < 0) {
        snprintf(why, whyn, "cannot run %s: %s", KEYSCAN, strerror(errno));
        free(out);
        return NULL;
    }
    while (!eof) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = deadline - now_ms();
        ssize_t got;
        if (left <= 0) {
            timed_out = true;
            break;
        }
        if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
            break;
        if (p.revents == 0)
            continue;
        got = read(fd, out + n, KEYSCAN_MAX - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            eof = true;     /* or an error: nothing more comes either way */
        else if ((n += (size_t)got) == KEYSCAN_MAX)
            break;          /* more than any set of certificates */
    }
    close(fd);
    if (!reap(pid, eof, deadline, &st))
        timed_out = true;
    out[n] = '\0';
    if (timed_out) {
        snprintf(why, whyn, "%s did not answer within %d s", KEYSCAN,
                 timeout_s + 2);
        free(out);
        return NULL;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
        snprintf(why, whyn, "cannot run %s (is openssh-client installed?)",
                 KEYSCAN);
        free(out);
        return NULL;
    }
    return out;
}

/* The public key blob of key (caller frees), or NULL. */
static uint8_t *
key_blob(const ssh_key key, size_t *len)
{
    char *b64 = NULL;
    uint8_t *blob = NULL;
    int n;

    if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
        return NULL;
    blob = jg_xmalloc(strlen(b64) + 1);
    if ((n = jg_gw_unb64((const uint8_t *)b64, strlen(b64), blob)) <= 0) {
        free(blob);
        blob = NULL;
    } else {
        *len = (size_t)n;
    }
    ssh_string_free_char(b64);
    return blob;
}

int
jg_gw_hostcert_check(const char *file, const char *host, uint16_t port,
                     const ssh_key key, int timeout_s,
                     char *why, size_t whyn)
{
    char *out, *line, *save = NULL, first[512] = "";
    uint8_t *kb = NULL, *cb = NULL;
    size_t klen = 0, certs = 0;
    int r = JG_ERR_DENIED;

    if ((kb = key_blob(key, &klen)) == NULL) {
        snprintf(why, whyn, "cannot encode its host key");
        return JG_ERR_DENIED;
    }
    if ((out = keyscan(host, port, timeout_s, why, whyn)) == NULL) {
        free(kb);
        return JG_ERR_DENIED;
    }
    /* Lines "TYPE BASE64" (ssh-keyscan -c prints no host name). */
    for (line = strtok_r(out, "\n", &save); line != NULL && r != 0;
         line = strtok_r(NULL, "\n", &save)) {
        char *sp = NULL, *type = strtok_r(line, " \t\r", &sp);
        char *b64 = type ? strtok_r(NULL, " \t\r", &sp) : NULL, msg[400];
        struct jg_gw_cert c;
        size_t tl, sl = strlen(JG_GW_CERT_SUFFIX);
        int len;

        if (b64 == NULL || (tl = strlen(type)) <= sl ||
            strcmp(type + tl - sl, JG_GW_CERT_SUFFIX) != 0)
            continue;
        certs++;
        cb = jg_xrealloc(cb, strlen(b64) + 1, 1);
        if ((len = jg_gw_unb64((const uint8_t *)b64, strlen(b64), cb)) <= 0 ||
            jg_gw_cert_parse(cb, (size_t)len, &c, msg, sizeof(msg)) != 0) {
            if (first[0] == '\0')
                snprintf(first, sizeof(first), "its host certificate is not "
                         "valid: %s", len <= 0 ? "not base64" : msg);
            continue;
        }
        /* Only a certificate of the key the exchange proved counts. */
        if (c.plain.n == klen && memcmp(c.plain.p, kb, klen) == 0) {
            r = jg_gw_knownhosts_cert_ok(file, host, port, &c, cb,
                                         (size_t)len, (int64_t)time(NULL), msg,
                                         sizeof(msg));
            if (r != 0 && first[0] == '\0')
                jg_strlcpy(first, msg, sizeof(first));
        }
        jg_gw_cert_clear(&c);
    }
    if (r != 0) {
        if (first[0] != '\0')
            jg_strlcpy(why, first, whyn);
        else if (certs == 0)
            snprintf(why, whyn, "its key is not known and it shows no host "
                     "certificate");
        else
            snprintf(why, whyn, "none of its host certificates is for the key "
                     "it used");
    }
    free(out);
    free(kb);
    free(cb);
    return r;
}
