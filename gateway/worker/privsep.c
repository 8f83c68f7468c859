/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/privsep.c - the worker's drop to the unprivileged user in
 * an empty, root-owned chroot, with no way back (no new privileges, no
 * fork, not ptrace-able by its siblings). */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "gateway/worker/internal.h"
int
jg_gw_drop_privileges(uid_t uid, gid_t gid)
{
    struct rlimit zero = {0, 0};

    if (chroot(JG_GW_CHROOT) != 0 || chdir("/") != 0) {
        jg_error("chroot %s: %s", JG_GW_CHROOT, strerror(errno));
        return JG_ERR_IO;
    }
    if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
        setresuid(uid, uid, uid) != 0) {
        jg_error("cannot drop privileges: %s", strerror(errno));
        return JG_ERR_IO;
    }
    /* Paranoia: the way back must be closed. */
    if (setuid(0) == 0 || seteuid(0) == 0) {
        jg_error("privileges could be regained");
        return JG_ERR_INTERNAL;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        jg_error("prctl: %s", strerror(errno));
        return JG_ERR_IO;
    }
    /* No new processes and no core files; jg_gw_sandbox() adds the
     * other limits and the seccomp filter on top of this. */
    if (setrlimit(RLIMIT_NPROC, &zero) != 0 ||
        setrlimit(RLIMIT_CORE, &zero) != 0) {
        jg_error("setrlimit: %s", strerror(errno));
        return JG_ERR_IO;
    }
    return 0;
}
