/*
 * The OS-independent first steps of every lock-down: resource limits,
 * an empty chroot and the switch to the unprivileged user.  Each failure
 * ends the process: nothing may run half-confined.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getresuid(), getresgid() in glibc */
#endif

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox_priv.h"

static void sb_limit(enum proc_id, int, const char *, rlim_t);
static void sb_chroot_fresh(enum proc_id);

static const char *const sb_names[PROC_COUNT] = {
	[PROC_PARENT] = "parent",
	[PROC_DNS] = "dns",
	[PROC_NET] = "net",
	[PROC_TLS] = "tls",
	[PROC_SSH] = "ssh",
};

const char *
sb_procname(enum proc_id proc)
{
	if ((unsigned int)proc >= PROC_COUNT)
		return "?";
	return sb_names[proc];
}

void
sb_check_cfg(enum proc_id proc, const struct sandbox_cfg *cfg)
{
	if ((unsigned int)proc >= PROC_COUNT)
		errx(1, "sandbox: bad process kind %d", (int)proc);
	if (cfg->nports < 0 || cfg->nports > SANDBOX_MAX_PORTS)
		errx(1, "sandbox: %s: bad port count %d", sb_procname(proc),
		    cfg->nports);
	if (cfg->npeers < 0 || cfg->npeers > PROC_COUNT)
		errx(1, "sandbox: %s: bad peer count %d", sb_procname(proc),
		    cfg->npeers);
}

/*
 * Locked down: say so by closing the ready descriptor.  The parent waits
 * until every child's is closed before it drops root itself, since it
 * could no longer kill a child still running as root.
 */
void
sb_ready(const struct sandbox_cfg *cfg)
{
	if (cfg->ready_fd > 2 && close(cfg->ready_fd) == -1)
		err(1, "sandbox: close the ready descriptor");
}

/* Set soft and hard limit, never above the hard limit we already have. */
static void
sb_limit(enum proc_id proc, int res, const char *what, rlim_t max)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) == -1)
		err(1, "sandbox: %s: getrlimit %s", sb_procname(proc), what);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < max)
		max = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = max;
	if (setrlimit(res, &rl) == -1)
		err(1, "sandbox: %s: setrlimit %s", sb_procname(proc), what);
}

/*
 * No core files (they would hold the message and TLS keys), no new
 * processes (the parent locks down after it has forked its children),
 * few descriptors.  There is deliberately no RLIMIT_FSIZE: after
 * lock-down no process can open or create a file (Landlock, seccomp),
 * so the only regular files one can write are a stdout or stderr that
 * the user redirected, and there a limit of 0 turns every progress line
 * or error message into a death by SIGXFSZ (2>err.log: a child's fatal()
 * killed it instead of being printed).  The parent's spool is written
 * before lock-down and only read after.
 */
void
sb_rlimits(enum proc_id proc)
{
	sb_limit(proc, RLIMIT_CORE, "RLIMIT_CORE", 0);
	/* the ssh process forks ssh(1), which needs a few more files */
	if (proc == PROC_SSH) {
		sb_limit(proc, RLIMIT_NOFILE, "RLIMIT_NOFILE", SB_NOFILE_SSH);
		return;
	}
	sb_limit(proc, RLIMIT_NPROC, "RLIMIT_NPROC", 0);
	sb_limit(proc, RLIMIT_NOFILE, "RLIMIT_NOFILE", SB_NOFILE);
}

void
sb_chroot(enum proc_id proc, const struct sandbox_cfg *cfg)
{
	if (cfg->chroot_dir == NULL) {
		sb_chroot_fresh(proc);
		return;
	}
	if (chroot(cfg->chroot_dir) == -1)
		err(1, "sandbox: %s: chroot %s", sb_procname(proc),
		    cfg->chroot_dir);
	if (chdir("/") == -1)
		err(1, "sandbox: %s: chdir /", sb_procname(proc));
}

/*
 * Make an empty directory, chroot into it and remove it while we sit in
 * it: the process keeps a root that is deleted and empty, and nothing
 * can be created in it.  Only a SIGKILL between mkdtemp and rmdir
 * leaves the directory behind, which is why sandbox_linux.c prefers a
 * tmpfs in a mount namespace of its own and comes here only where that
 * is refused.  The directory descriptor reaches outside the new root, so
 * it is closed before the privileges go.
 */
static void
sb_chroot_fresh(enum proc_id proc)
{
	const char *name = sb_procname(proc), *tmp, *leaf;
	char        path[PATH_MAX];
	int         dirfd, n, save;

	tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	if ((dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		err(1, "sandbox: %s: %s", name, tmp);
	n = snprintf(path, sizeof(path), "%s/mxclient.XXXXXX", tmp);
	if (n < 0 || (size_t)n >= sizeof(path))
		errx(1, "sandbox: %s: TMPDIR too long", name);
	if (mkdtemp(path) == NULL)
		err(1, "sandbox: %s: mkdtemp %s", name, path);
	leaf = strrchr(path, '/') + 1;
	if (chroot(path) == -1 || chdir("/") == -1) {
		save = errno;
		(void)unlinkat(dirfd, leaf, AT_REMOVEDIR);
		errno = save;
		err(1, "sandbox: %s: chroot %s", name, path);
	}
	if (unlinkat(dirfd, leaf, AT_REMOVEDIR) == -1)
		err(1, "sandbox: %s: rmdir %s", name, path);
	if (close(dirfd) == -1)
		err(1, "sandbox: %s: close", name);
}

/*
 * Become cfg->uid/cfg->gid for good: supplementary groups first (they
 * need root), then the gids, then the uids, and check that the saved ids
 * went too, so that root cannot be regained.
 */
void
sb_drop_privs(enum proc_id proc, const struct sandbox_cfg *cfg)
{
	const char *name = sb_procname(proc);
	uid_t       ru, eu, su;
	gid_t       rg, eg, sg;

	if (cfg->uid == 0 || cfg->gid == 0)
		errx(1, "sandbox: %s: will not run as root", name);
	if (setgroups(1, &cfg->gid) == -1)
		err(1, "sandbox: %s: setgroups", name);
	if (setresgid(cfg->gid, cfg->gid, cfg->gid) == -1)
		err(1, "sandbox: %s: setresgid", name);
	if (setresuid(cfg->uid, cfg->uid, cfg->uid) == -1)
		err(1, "sandbox: %s: setresuid", name);
	if (getresgid(&rg, &eg, &sg) == -1 || getresuid(&ru, &eu, &su) == -1)
		err(1, "sandbox: %s: getresuid", name);
	if (rg != cfg->gid || eg != cfg->gid || sg != cfg->gid ||
	    ru != cfg->uid || eu != cfg->uid || su != cfg->uid)
		errx(1, "sandbox: %s: ids did not change", name);
	if (setuid(0) != -1 || setgid(0) != -1)
		errx(1, "sandbox: %s: root could be regained", name);
}
