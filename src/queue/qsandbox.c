/*
 * The two sandboxes of mxqueue (Q23, Q24), after the project's
 * pattern (sandbox/README.md): no_new_privs, Landlock, then seccomp.
 *
 * Landlock handles every filesystem right the kernel knows and grants:
 *  - the submitter: create, write and rename files in tmp/, and rename
 *    them into new/; nothing else, not even reading (its configuration
 *    is read before), so stdin and the spool are all it has;
 *  - the runner: read the filesystem (mxclient reads its libraries, the
 *    CA bundle, resolv.conf), write only the spool and /dev/null, and
 *    execute only mxclient and the dynamic loader.
 * mxclient inherits the runner's domain and filter and adds its own.
 *
 * seccomp is a deny-list (a filter outlives exec, and mxclient needs
 * what it needs): calls neither role ever makes, failing with EPERM
 * (ENOSYS for clone3, so that glibc falls back to clone).  The
 * submitter also may not create a network socket, fork or exec.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/landlock.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <seccomp.h>

#include "queue.h"

#define LL_ALL_V1   ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define LL_REFER    (1ULL << 13)       /* ABI 2 */
#define LL_TRUNCATE (1ULL << 14)       /* ABI 3 */
#define LL_IOCTL    (1ULL << 15)       /* ABI 5 */
#define LL_X        LANDLOCK_ACCESS_FS_EXECUTE
#define LL_R        (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_W \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG | \
	    LANDLOCK_ACCESS_FS_REMOVE_FILE)
#define LL_DIRS (LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR)

/* Which roles a row of the deny-list applies to. */
#define SUB  (1 << QR_SUBMIT)
#define RUN  (1 << QR_RUN)
#define BOTH (SUB | RUN)

struct deny {
	const char *name;
	int         roles;
	int         err;
	const char *why;
};

/* clang-format off */
static const struct deny denied[] = {
	{ "ptrace", BOTH, EPERM, "no debugging of other processes" },
	{ "process_vm_readv", BOTH, EPERM, "no reading of others' memory" },
	{ "process_vm_writev", BOTH, EPERM, "no writing of others' memory" },
	{ "pidfd_getfd", BOTH, EPERM, "no taking others' descriptors" },
	{ "bpf", BOTH, EPERM, "no BPF programs" },
	{ "perf_event_open", BOTH, EPERM, "no performance counters" },
	{ "userfaultfd", BOTH, EPERM, "an exploitation aid" },
	{ "io_uring_setup", BOTH, EPERM, "its operations pass by this filter" },
	{ "keyctl", BOTH, EPERM, "no kernel keyrings" },
	{ "add_key", BOTH, EPERM, "no kernel keyrings" },
	{ "request_key", BOTH, EPERM, "no kernel keyrings" },
	{ "init_module", BOTH, EPERM, "no kernel modules" },
	{ "finit_module", BOTH, EPERM, "no kernel modules" },
	{ "delete_module", BOTH, EPERM, "no kernel modules" },
	{ "kexec_load", BOTH, EPERM, "no other kernel" },
	{ "kexec_file_load", BOTH, EPERM, "no other kernel" },
	{ "reboot", BOTH, EPERM, "no reboot" },
	{ "settimeofday", BOTH, EPERM, "the clock is not ours" },
	{ "clock_settime", BOTH, EPERM, "the clock is not ours" },
	{ "clock_adjtime", BOTH, EPERM, "the clock is not ours" },
	{ "adjtimex", BOTH, EPERM, "the clock is not ours" },
	{ "open_by_handle_at", BOTH, EPERM, "would open files past Landlock" },
	{ "setns", BOTH, EPERM, "no other namespaces" },
	{ "pivot_root", BOTH, EPERM, "no other root (mxclient uses chroot)" },
	{ "mount", BOTH, EPERM, "no mounts (mxclient falls back to mkdtemp)" },
	{ "fsopen", BOTH, EPERM, "no mounts (new API)" },
	{ "fsmount", BOTH, EPERM, "no mounts (new API)" },
	{ "move_mount", BOTH, EPERM, "no mounts (new API)" },
	{ "open_tree", BOTH, EPERM, "no mounts (new API)" },
	{ "swapon", BOTH, EPERM, "no swap" },
	{ "syslog", BOTH, EPERM, "no kernel log (syslog(3) is a socket)" },
	{ "clone3", BOTH, ENOSYS, "flags out of the filter's reach: glibc "
	    "falls back to clone" },
	{ "execve", SUB, EPERM, "the kick helper was forked before" },
	{ "execveat", SUB, EPERM, "nothing to execute" },
	{ "fork", SUB, EPERM, "no new processes" },
	{ "vfork", SUB, EPERM, "no new processes" },
	{ "clone", SUB, EPERM, "no new processes or threads" },
	{ "unshare", SUB, EPERM, "no namespaces" },
	{ "chroot", SUB, EPERM, "no other root" },
	{ "bind", SUB, EPERM, "no listening" },
	{ "listen", SUB, EPERM, "no listening" },
};
/* clang-format on */

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "mxqueue: sandbox: %s: %s\n", what, strerror(errno));
	exit(71);
}

static void
ll_rule(int rfd, int fd, const char *path, uint64_t allowed)
{
	struct landlock_path_beneath_attr pb;

	if (fd == -1 && (fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		die(path);
	pb.allowed_access = allowed;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb,
	        0) == -1)
		die("landlock_add_rule");
	if (path != NULL)
		close(fd);
}

/* The dynamic loader this process runs with, which mxclient needs too. */
static int
loader_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	if (info->dlpi_addr != getauxval(AT_BASE) || info->dlpi_name[0] != '/')
		return 0;
	snprintf(arg, 256, "%s", info->dlpi_name);
	return 1;
}

static void
ll_rules(int rfd, enum qrole role, const struct qsandbox *sb, uint64_t all)
{
	char loader[256] = "";

	if (role == QR_SUBMIT) {
		ll_rule(rfd, sb->tmpfd, NULL,
		    (LL_W | LL_REFER | LL_TRUNCATE) & all);
		ll_rule(rfd, sb->newfd, NULL,
		    (LANDLOCK_ACCESS_FS_MAKE_REG | LL_REFER) & all);
		return;
	}
	ll_rule(rfd, -1, "/", LL_R);
	ll_rule(rfd, sb->spoolfd, NULL,
	    (LL_R | LL_W | LL_DIRS | LL_REFER | LL_TRUNCATE) & all);
	ll_rule(rfd, -1, "/dev/null",
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE);
	ll_rule(rfd, -1, sb->exec, LL_X | LANDLOCK_ACCESS_FS_READ_FILE);
	if (getauxval(AT_BASE) != 0 && dl_iterate_phdr(loader_cb, loader) &&
	    loader[0] == '/')
		ll_rule(rfd, -1, loader, LL_X | LANDLOCK_ACCESS_FS_READ_FILE);
}

static void
landlock(enum qrole role, const struct qsandbox *sb)
{
	struct landlock_ruleset_attr attr;
	long                         abi;
	int                          rfd;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi == -1 && (errno == ENOSYS || errno == EOPNOTSUPP))
		return; /* no Landlock in this kernel: seccomp still holds */
	if (abi < 1)
		die("landlock_create_ruleset");
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = LL_ALL_V1 | (abi >= 2 ? LL_REFER : 0) |
	    (abi >= 3 ? LL_TRUNCATE : 0) | (abi >= 5 ? LL_IOCTL : 0);
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr.handled_access_fs), 0);
	if (rfd == -1)
		die("landlock_create_ruleset");
	ll_rules(rfd, role, sb, attr.handled_access_fs);
	if (syscall(SYS_landlock_restrict_self, rfd, 0) == -1)
		die("landlock_restrict_self");
	close(rfd);
}

static void
deny_rows(scmp_filter_ctx ctx, enum qrole role)
{
	const struct deny *d;
	int                nr;

	for (d = denied; d < denied + sizeof(denied) / sizeof(denied[0]); d++)
		if ((d->roles & (1 << role)) &&
		    (nr = seccomp_syscall_resolve_name(d->name)) >= 0 &&
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(d->err), nr, 0) < 0)
			die(d->name);
}

static void
filter(enum qrole role)
{
	scmp_filter_ctx ctx;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		die("seccomp_init");
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 ||
	    seccomp_attr_set(
	        ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0)
		die("seccomp_attr_set");
	deny_rows(ctx, role);
	if (role == QR_SUBMIT) {
		/* the log socket is open (slog_open()); no socket but unix */
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		        SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX)) < 0)
			die("socket");
	}
	if (seccomp_load(ctx) < 0)
		die("seccomp_load");
	seccomp_release(ctx);
}

void
qsandbox_lock(enum qrole role, const struct qsandbox *sb)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		die("PR_SET_NO_NEW_PRIVS");
	landlock(role, sb);
	filter(role);
}
