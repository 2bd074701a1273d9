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

struct deny {
	const char *name;
	int         err;
	const char *why;
};

/* clang-format off */
static const struct deny deny_both[] = {
	{ "ptrace", EPERM, "no debugging of other processes" },
	{ "process_vm_readv", EPERM, "no reading of others' memory" },
	{ "process_vm_writev", EPERM, "no writing of others' memory" },
	{ "pidfd_getfd", EPERM, "no taking others' descriptors" },
	{ "bpf", EPERM, "no BPF programs" },
	{ "perf_event_open", EPERM, "no performance counters" },
	{ "userfaultfd", EPERM, "an exploitation aid" },
	{ "io_uring_setup", EPERM, "its operations pass by this filter" },
	{ "keyctl", EPERM, "no kernel keyrings" },
	{ "add_key", EPERM, "no kernel keyrings" },
	{ "request_key", EPERM, "no kernel keyrings" },
	{ "init_module", EPERM, "no kernel modules" },
	{ "finit_module", EPERM, "no kernel modules" },
	{ "delete_module", EPERM, "no kernel modules" },
	{ "kexec_load", EPERM, "no other kernel" },
	{ "kexec_file_load", EPERM, "no other kernel" },
	{ "reboot", EPERM, "no reboot" },
	{ "settimeofday", EPERM, "the clock is not ours" },
	{ "clock_settime", EPERM, "the clock is not ours" },
	{ "clock_adjtime", EPERM, "the clock is not ours" },
	{ "adjtimex", EPERM, "the clock is not ours" },
	{ "open_by_handle_at", EPERM, "would open files past Landlock" },
	{ "setns", EPERM, "no other namespaces" },
	{ "pivot_root", EPERM, "no other root (mxclient uses chroot)" },
	{ "mount", EPERM, "no mounts (mxclient falls back to mkdtemp)" },
	{ "fsopen", EPERM, "no mounts (new API)" },
	{ "fsmount", EPERM, "no mounts (new API)" },
	{ "move_mount", EPERM, "no mounts (new API)" },
	{ "open_tree", EPERM, "no mounts (new API)" },
	{ "swapon", EPERM, "no swap" },
	{ "syslog", EPERM, "no kernel log (syslog(3) is a socket)" },
};

static const struct deny deny_submit[] = {
	{ "execve", EPERM, "the kick helper was forked before" },
	{ "execveat", EPERM, "nothing to execute" },
	{ "fork", EPERM, "no new processes" },
	{ "vfork", EPERM, "no new processes" },
	{ "clone", EPERM, "no new processes or threads" },
	{ "clone3", ENOSYS, "no new processes or threads" },
	{ "unshare", EPERM, "no namespaces" },
	{ "chroot", EPERM, "no other root" },
	{ "bind", EPERM, "no listening" },
	{ "listen", EPERM, "no listening" },
};

static const struct deny deny_run[] = {
	{ "clone3", ENOSYS, "flags out of the filter's reach: glibc "
	    "falls back to clone" },
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
deny_rows(scmp_filter_ctx ctx, const struct deny *d, size_t n)
{
	size_t i;
	int    nr;

	for (i = 0; i < n; i++)
		if ((nr = seccomp_syscall_resolve_name(d[i].name)) >= 0 &&
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(d[i].err), nr, 0) < 0)
			die(d[i].name);
}

#define ROWS(t) (t), sizeof(t) / sizeof((t)[0])

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
	deny_rows(ctx, ROWS(deny_both));
	if (role == QR_SUBMIT) {
		deny_rows(ctx, ROWS(deny_submit));
		/* syslog(3) keeps its unix socket; no other kind */
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		        SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX)) < 0)
			die("socket");
	} else
		deny_rows(ctx, ROWS(deny_run));
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
