/*
 * Linux lock-down, in the same order for every process:
 *
 *	1. rlimits		no core files, no processes, few descriptors
 *	2. chroot, setres*id	only when started as root (cfg->drop); the
 *				root is an empty read-only tmpfs in a mount
 *				namespace of our own, or cfg->chroot_dir
 *	3. no_new_privs		needed by Landlock and seccomp without root
 *	4. Landlock		no filesystem at all; TCP connect to the
 *				configured ports only; no signals or abstract
 *				sockets across the domain boundary
 *	5. seccomp		an allow-list per process (seccomp_tables.c);
 *				anything else traps, is reported to the
 *				parent and kills the process
 *
 * Landlock is optional (old kernels lack it); everything else is not.
 *
 * The ssh process (--proxy ssh:// only) differs, because what it runs is
 * ssh(1) and everything it sets up is inherited by ssh: no chroot (ssh
 * needs the user's keys and known_hosts; as root it empties its
 * capability sets and becomes --user), Landlock is required and allows
 * reading files, executing only the ssh binary, writing only /dev/null
 * and connecting only to the ssh server's port, and seccomp is a
 * deny-list that refuses with EPERM.
 */
#ifdef __linux__

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#include <linux/securebits.h>

#include <err.h>
#include <fcntl.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "frame.h"
#include "hooks.h"
#include "sandbox_priv.h"
#include "seccomp_tables.h"

/* The frame the SIGSYS handler writes, built before the filter loads. */
struct sb_death_frame {
	struct frame_hdr         hdr;
	struct msg_sandbox_death body;
};
_Static_assert(sizeof(struct sb_death_frame) ==
        FRAME_HDR_SIZE + sizeof(struct msg_sandbox_death),
    "death frame must be header + payload, without padding");

/* State of the SIGSYS handler: set once, before it is installed. */
static struct sb_death_frame sb_death;
static int                   sb_death_fd = -1;
static uint32_t              sb_arch;
static char                  sb_note[64];
static size_t                sb_notelen;

static int  sb_chroot_tmpfs(enum proc_id);
static void sb_nnp(enum proc_id);
static void sb_ssh_identity(enum proc_id, const struct sandbox_cfg *);
static void sb_write_note(int);
static void sb_sigsys(int, siginfo_t *, void *);
static void sb_sigsys_setup(enum proc_id, const struct sandbox_cfg *);
static void sb_add_calls(scmp_filter_ctx, enum proc_id, uint32_t);
static void sb_add_rules(
    scmp_filter_ctx, enum proc_id, uint32_t, const struct sandbox_cfg *);
static void sb_seccomp(enum proc_id, const struct sandbox_cfg *);
static void sb_add_enosys(scmp_filter_ctx, enum proc_id);

/* Linux has no set-up stage: each process locks down once. */
void
sandbox_start(void)
{
}

/*
 * libseccomp learns here, once, what the kernel supports (nine seccomp()
 * probes): every child inherits the answer instead of asking again.
 */
void
sandbox_prepare(const struct sandbox_cfg *cfg)
{
	if (!hook_sandbox_off(cfg))
		(void)seccomp_api_get();
}

void
sandbox_lock(enum proc_id proc, const struct sandbox_cfg *cfg)
{
	sb_check_cfg(proc, cfg);
	/* test builds only (hooks.h): valgrind runs the processes bare */
	if (hook_sandbox_off(cfg)) {
		sb_ready(cfg);
		return;
	}
	sb_rlimits(proc);
	if (proc == PROC_SSH)
		sb_ssh_identity(proc, cfg);
	else if (cfg->drop) {
		if (cfg->chroot_dir != NULL || sb_chroot_tmpfs(proc) == -1)
			sb_chroot(proc, cfg);
		sb_drop_privs(proc, cfg);
	}
	sb_nnp(proc);
	sb_landlock(proc, cfg);
	sb_seccomp(proc, cfg);
	sb_ready(cfg);
	hook_sandbox_locked(proc, cfg);
}

/*
 * libseccomp hands out a malloc'd string; keep a copy in a static buffer
 * so that a locked-down parent can name a syscall without leaking.
 */
const char *
sandbox_syscall_name(int nr)
{
	static char name[64];
	char       *s;

	if ((s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr)) ==
	    NULL)
		return NULL;
	(void)snprintf(name, sizeof(name), "%s", s);
	free(s);
	return name;
}

/*
 * The empty root, preferred form: a read-only, empty tmpfs mounted over
 * $TMPDIR (or /tmp) in a mount namespace of our own.  Nothing is
 * created on any real filesystem, and the namespace and the tmpfs go
 * away with the process however it ends.  That matters because the
 * parent stops children with SIGKILL, possibly while one is between
 * mkdtemp and rmdir in sb_chroot(); the e2e tests found such a
 * leftover.  "/" is made private first so that the mount does not
 * propagate back to the namespace we came from.  Returns -1 when mount
 * namespaces are not allowed here (a container without CAP_SYS_ADMIN):
 * the caller falls back to the mkdtemp directory.
 */
static int
sb_chroot_tmpfs(enum proc_id proc)
{
	const char *name = sb_procname(proc), *tmp;

	tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	if (unshare(CLONE_NEWNS) == -1) {
		if (errno == EPERM || errno == EINVAL || errno == ENOSYS)
			return -1;
		err(1, "sandbox: %s: unshare CLONE_NEWNS", name);
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("mxclient", tmp, "tmpfs",
	        MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
	        "size=4k,nr_inodes=1,mode=0555") == -1) {
		/*
		 * Refused (an LSM; "/" not a mount point when run in a
		 * chroot): the namespace is ours, nothing has leaked.
		 */
		if (errno == EPERM || errno == EACCES || errno == EINVAL)
			return -1;
		err(1, "sandbox: %s: mount tmpfs on %s", name, tmp);
	}
	if (chroot(tmp) == -1)
		err(1, "sandbox: %s: chroot %s", name, tmp);
	if (chdir("/") == -1)
		err(1, "sandbox: %s: chdir /", name);
	return 0;
}

/*
 * The ssh process is not chrooted: ssh(1) needs the user's ~/.ssh.
 * Started as root it becomes --user (the parent insists on one: ssh
 * never runs as root, whose unix sockets and files a capability-less
 * uid 0 could still reach), after emptying the bounding and ambient
 * capability sets and locking SECBIT_NOROOT, so that nothing it execs
 * can regain a capability.  The final capset() is a no-op unless a
 * capability survived.
 */
static void
sb_ssh_identity(enum proc_id proc, const struct sandbox_cfg *cfg)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct   data[2];
	int                             c;

	if (geteuid() == 0) {
		if (prctl(PR_SET_SECUREBITS,
		        SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
		            SECBIT_KEEP_CAPS_LOCKED) == -1)
			err(1, "sandbox: %s: PR_SET_SECUREBITS",
			    sb_procname(proc));
		for (c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
			if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1)
				err(1, "sandbox: %s: PR_CAPBSET_DROP %d",
				    sb_procname(proc), c);
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) ==
		        -1 &&
		    errno != EINVAL)
			err(1, "sandbox: %s: PR_CAP_AMBIENT",
			    sb_procname(proc));
	}
	if (cfg->drop)
		sb_drop_privs(proc, cfg);
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &hdr, data) == -1)
		err(1, "sandbox: %s: capset", sb_procname(proc));
}

/* Without it a non-root process can neither use Landlock nor seccomp. */
static void
sb_nnp(enum proc_id proc)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		err(1, "sandbox: %s: PR_SET_NO_NEW_PRIVS", sb_procname(proc));
	/*
	 * Not dumpable: no process of the same user (ssh(1) run by the ssh
	 * process, say) may ptrace us or open our /proc/PID/mem and fd/.
	 * exec() resets it for ssh itself, which holds nothing of ours.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		err(1, "sandbox: %s: PR_SET_DUMPABLE", sb_procname(proc));
}

/* "sandbox: dns: forbidden system call 257" on stderr, signal-safely. */
static void
sb_write_note(int nr)
{
	char         buf[sizeof(sb_note) + 16];
	char         digits[12];
	size_t       len, n = 0;
	unsigned int u = (unsigned int)nr;
	ssize_t      r;

	memcpy(buf, sb_note, sb_notelen);
	len = sb_notelen;
	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0 && n < sizeof(digits));
	while (n > 0)
		buf[len++] = digits[--n];
	buf[len++] = '\n';
	r = write(STDERR_FILENO, buf, len);
	(void)r;
}

/*
 * The default action of the filter traps here.  Report the system call
 * (a pre-built frame to the parent, or a line on stderr), then die *by
 * SIGSYS*, so that the parent's wait status says what happened: SIGSYS
 * is blocked while its handler runs, and when seccomp traps a second
 * time on a blocked SIGSYS the kernel resets the action to SIG_DFL,
 * unblocks it and delivers it, which kills the process.  So issue the
 * same call again.  Its arguments are all ones, which fail every
 * argument comparison in seccomp_tables.c (they compare with small
 * constants), so an argument-filtered call traps again too.  Only calls
 * of our own architecture are re-issued (the filter kills foreign ones
 * before they get here).  exit_group is the last resort.  Everything
 * here is async-signal-safe: stores, write(), raw system calls.
 */
static void
sb_sigsys(int sig, siginfo_t *si, void *uc)
{
	ssize_t r;

	(void)sig;
	(void)uc;
	if (sb_death_fd != -1) {
		sb_death.body.syscall_nr = si->si_syscall;
		sb_death.body.arch = si->si_arch;
		r = write(sb_death_fd, &sb_death, sizeof(sb_death));
		(void)r;
	} else
		sb_write_note(si->si_syscall);
	if (si->si_arch == sb_arch)
		(void)syscall(si->si_syscall, -1L, -1L, -1L, -1L, -1L, -1L);
	(void)syscall(SYS_exit_group, 127);
}

static void
sb_sigsys_setup(enum proc_id proc, const struct sandbox_cfg *cfg)
{
	struct sigaction sa;
	int              n;

	memset(&sb_death, 0, sizeof(sb_death));
	sb_death.hdr.type = MSG_SANDBOX_DEATH;
	sb_death.hdr.len = sizeof(sb_death);
	sb_death.hdr.id = 0;
	sb_death.hdr.sender = (uint16_t)proc;
	sb_death.hdr.flags = 0;
	sb_death_fd = cfg->death_fd;
	sb_arch = seccomp_arch_native();
	n = snprintf(sb_note, sizeof(sb_note),
	    "sandbox: %s: forbidden system call ", sb_procname(proc));
	if (n < 0 || (size_t)n >= sizeof(sb_note))
		errx(1, "sandbox: %s: note too long", sb_procname(proc));
	sb_notelen = (size_t)n;

	/* No SA_NODEFER: SIGSYS must stay blocked in the handler. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sb_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		err(1, "sandbox: %s: sigaction SIGSYS", sb_procname(proc));
}

/*
 * A table row's system call on this architecture; -1 where it does not
 * exist here (poll on arm64), fatal if libseccomp does not know it.
 */
static int
sb_resolve(enum proc_id proc, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		errx(1, "sandbox: %s: unknown system call %s",
		    sb_procname(proc), name);
	return nr < 0 ? -1 : nr;
}

/* Every row of a list of calls gets `action'. */
static void
sb_add_list(scmp_filter_ctx ctx, enum proc_id proc, const struct sb_call *rows,
    size_t n, uint32_t action)
{
	size_t i;
	int    nr, rc;

	for (i = 0; i < n; i++) {
		if ((nr = sb_resolve(proc, rows[i].name)) == -1)
			continue;
		if ((rc = seccomp_rule_add(ctx, action, nr, 0)) < 0)
			errx(1, "sandbox: %s: seccomp_rule_add %s: %s",
			    sb_procname(proc), rows[i].name, strerror(-rc));
	}
}

/* Every row of the table gets `action': allowed, or refused (deny). */
static void
sb_add_calls(scmp_filter_ctx ctx, enum proc_id proc, uint32_t action)
{
	const struct sb_policy *pol = &sb_policies[proc];

	sb_add_list(ctx, proc, pol->calls, pol->ncalls, action);
}

/* The value a comparison tests (datum_b for a masked one). */
static scmp_datum_t *
sb_cmp_value(struct scmp_arg_cmp *c)
{
	return c->op == SCMP_CMP_MASKED_EQ ? &c->datum_b : &c->datum_a;
}

/* One rule with SB_SELF, SB_PEER and SB_DIRFD replaced by real values. */
static void
sb_add_rule(scmp_filter_ctx ctx, enum proc_id proc, uint32_t action, int nr,
    const struct sb_rule *row, pid_t peer, const struct sandbox_cfg *cfg)
{
	struct scmp_arg_cmp cmp[SB_MAX_CMP];
	scmp_datum_t       *v;
	unsigned int        n;
	int                 rc;

	for (n = 0; n < SB_MAX_CMP && row->cmp[n].op != 0; n++) {
		cmp[n] = row->cmp[n];
		v = sb_cmp_value(&cmp[n]);
		if (*v == SB_SELF)
			*v = (scmp_datum_t)getpid();
		else if (*v == SB_PEER)
			*v = (scmp_datum_t)peer;
		else if (*v == SB_DIRFD)
			*v = (scmp_datum_t)cfg->write_dirfd;
	}
	if ((rc = seccomp_rule_add_array(ctx, action, nr, n, cmp)) < 0)
		errx(1, "sandbox: %s: seccomp_rule_add %s: %s",
		    sb_procname(proc), row->name, strerror(-rc));
}

/* Whether a row compares some argument with the placeholder `what'. */
static int
sb_names(const struct sb_rule *row, scmp_datum_t what)
{
	struct scmp_arg_cmp c;
	unsigned int        n;

	for (n = 0; n < SB_MAX_CMP && row->cmp[n].op != 0; n++) {
		c = row->cmp[n];
		if (*sb_cmp_value(&c) == what)
			return 1;
	}
	return 0;
}

static void
sb_add_rules(scmp_filter_ctx ctx, enum proc_id proc, uint32_t action,
    const struct sandbox_cfg *cfg)
{
	const struct sb_policy *pol = &sb_policies[proc];
	size_t                  i;
	int                     nr, k;

	for (i = 0; i < pol->nrules; i++) {
		if ((nr = sb_resolve(proc, pol->rules[i].name)) == -1)
			continue;
		if (sb_names(&pol->rules[i], SB_DIRFD) && !cfg->write_dir)
			continue; /* no directory to write in */
		if (!sb_names(&pol->rules[i], SB_PEER)) {
			sb_add_rule(
			    ctx, proc, action, nr, &pol->rules[i], 0, cfg);
			continue;
		}
		for (k = 0; k < cfg->npeers; k++)
			if (cfg->peers[k] > 0)
				sb_add_rule(ctx, proc, action, nr,
				    &pol->rules[i], cfg->peers[k], cfg);
	}
}

/*
 * Calls a deny-list refuses as if the kernel lacked them, so that libc
 * falls back (clone3: glibc then uses clone, which the rules check).
 */
static void
sb_add_enosys(scmp_filter_ctx ctx, enum proc_id proc)
{
	const struct sb_policy *pol = &sb_policies[proc];

	sb_add_list(
	    ctx, proc, pol->enosys, pol->nenosys, SCMP_ACT_ERRNO(ENOSYS));
}

/*
 * The handler goes in before the filter: from the moment the filter is
 * loaded, a forbidden call must be reported.  We set no_new_privs
 * ourselves (step 3), so libseccomp is told not to; a load failure is
 * fatal, never a reason to run unfiltered.
 */
static void
sb_seccomp(enum proc_id proc, const struct sandbox_cfg *cfg)
{
	scmp_filter_ctx ctx;
	int             rc, deny = sb_policies[proc].deny;

	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		errx(1, "sandbox: %s: no_new_privs is not set",
		    sb_procname(proc));
	/* a deny-list (the ssh process) refuses with EPERM, no trap */
	if (!deny)
		sb_sigsys_setup(proc, cfg);
	if ((ctx = seccomp_init(deny ? SCMP_ACT_ALLOW : SCMP_ACT_TRAP)) == NULL)
		errx(1, "sandbox: %s: seccomp_init failed", sb_procname(proc));
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 ||
	    (rc = seccomp_attr_set(
	         ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0)
		errx(1, "sandbox: %s: seccomp_attr_set: %s", sb_procname(proc),
		    strerror(-rc));
	sb_add_calls(ctx, proc, deny ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_ALLOW);
	sb_add_rules(
	    ctx, proc, deny ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_ALLOW, cfg);
	sb_add_enosys(ctx, proc);
	if ((rc = seccomp_load(ctx)) < 0)
		errx(1, "sandbox: %s: seccomp_load: %s", sb_procname(proc),
		    strerror(-rc));
	seccomp_release(ctx);
}

#endif /* __linux__ */
