/*
 * Landlock (step 4 of sandbox_linux.c's lock-down): no filesystem access
 * at all, TCP connect only to the configured ports (ABI 4 and later),
 * abstract unix sockets and signals scoped (ABI 6); for the ssh process
 * also read access, exec of the ssh binary alone and /dev/null.  What the
 * running kernel enforces is what sandbox_describe() says, no more.
 */
#ifdef __linux__

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/syscall.h>

#include <linux/landlock.h>

#include <elf.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hooks.h"
#include "sandbox_priv.h"

static int  sb_ll_abi(enum proc_id);
static int  sb_ll_applied; /* the ABI sb_landlock() used, 0: none */
static void sb_ll_ports(int, enum proc_id, const struct sandbox_cfg *);
static void sb_ll_write_dir(int, int, uint64_t);
static void sb_ll_exec(int, const struct sandbox_cfg *);

/*
 * Landlock constants newer than the installed headers (Linux 6.1 has
 * ABI 1 and 2 only).  The values are kernel ABI and never change.
 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP    (1ULL << 0) /* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL               (1ULL << 1)
#endif
#define SB_LL_RULE_NET_PORT 2 /* ABI 4 */

#define SB_LL_FS_V1 \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
	    LANDLOCK_ACCESS_FS_MAKE_SYM)

/* The kernel's struct landlock_ruleset_attr as of ABI 6. */
struct sb_ll_ruleset {
	uint64_t handled_fs;
	uint64_t handled_net;
	uint64_t scoped;
};

/* The kernel's struct landlock_net_port_attr. */
struct sb_ll_port {
	uint64_t allowed;
	uint64_t port;
};

/* What each ABI version added; we handle all of it. */
static const struct {
	int      abi;
	uint64_t fs, net, scoped;
} sb_ll_abis[] = {
	{ 1, SB_LL_FS_V1, 0, 0 }, { 2, LANDLOCK_ACCESS_FS_REFER, 0, 0 },
	{ 3, LANDLOCK_ACCESS_FS_TRUNCATE, 0, 0 },
	{ 4, 0, LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP,
	    0 },
	{ 5, LANDLOCK_ACCESS_FS_IOCTL_DEV, 0, 0 },
	{ 6, 0, 0,
	    LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL },
	/* 7 added audit logging controls, no access rights. */
};

/* The Landlock ABI version, or 0 when the kernel has no Landlock. */
static int
sb_ll_abi(enum proc_id proc)
{
	long abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi == -1 && (errno == ENOSYS || errno == EOPNOTSUPP))
		return 0;
	if (abi < 1)
		err(1, "sandbox: %s: landlock_create_ruleset",
		    sb_procname(proc));
	return hook_landlock_abi((int)abi); /* test builds may play older */
}

/*
 * What holds beyond seccomp depends on the kernel: say exactly that, and
 * no more (doc/design.md).  UDP is never covered by Landlock, so dns
 * may send UDP to any address whatever the ABI.
 */
const char *
sandbox_describe(void)
{
	static char buf[400];
	int         abi = sb_ll_abi(PROC_PARENT);

	if (abi == 0)
		return "sandbox: no Landlock in this kernel: no TCP port rules, so net may connect to any TCP port and dns to any address; files stay closed by seccomp";
	if (abi < 4)
		snprintf(buf, sizeof(buf),
		    "sandbox: Landlock ABI %d: no file system access; TCP port rules need ABI 4 (Linux 6.7), so net may connect to any TCP port and dns to any address (UDP: any address on every kernel)",
		    abi);
	else
		snprintf(buf, sizeof(buf),
		    "sandbox: Landlock ABI %d: no file system access; net may connect to its one TCP port, dns to the resolvers' port (UDP: any address, Landlock has no UDP rules)%s",
		    abi,
		    abi >= 6 ? "; signals and abstract sockets scoped" : "");
	return buf;
}

/*
 * Handle every access right the kernel knows and grant none on the
 * filesystem: after lock-down no process opens, creates or removes
 * anything (descriptors opened before stay usable).  TCP bind is refused
 * everywhere, TCP connect allowed to cfg->ports only: net gets 25, dns
 * the resolver's port for its TCP fallback, tls and the parent nothing.
 * UDP is not covered by Landlock; seccomp keeps it to dns.
 *
 * Scopes: no process connects to an abstract unix socket, so all are
 * scoped for that.  Signals are different.  A scoped process may signal
 * only processes in its own domain or in domains nested under it.  The
 * children lock down after fork, each creating a domain that descends
 * from none (they had none when forked), and the parent locks down
 * after forking them; so the children are never nested under the
 * parent's domain, and a signal-scoped parent could not kill() them.
 * The parent is therefore not scoped for signals; the children are (the
 * only signal they send is abort()'s to themselves, in their domain).
 */
void
sb_landlock(enum proc_id proc, const struct sandbox_cfg *cfg)
{
	struct sb_ll_ruleset attr;
	size_t               i;
	int                  abi, fd;

	abi = sb_ll_abi(proc);
	sb_ll_applied = abi;
	/* what keeps ssh(1) to itself is Landlock: exec and the port */
	if (proc == PROC_SSH && abi < 4)
		errx(1,
		    "sandbox: ssh: an ssh proxy needs Landlock ABI 4 (Linux 6.7) or later to confine ssh; this kernel has %d",
		    abi);
	if (abi == 0)
		return;
	memset(&attr, 0, sizeof(attr));
	for (i = 0; i < sizeof(sb_ll_abis) / sizeof(sb_ll_abis[0]); i++) {
		if (sb_ll_abis[i].abi > abi)
			break;
		attr.handled_fs |= sb_ll_abis[i].fs;
		attr.handled_net |= sb_ll_abis[i].net;
		attr.scoped |= sb_ll_abis[i].scoped;
	}
	if (proc == PROC_PARENT)
		attr.scoped &= ~LANDLOCK_SCOPE_SIGNAL;
	/* Older kernels accept the larger struct: the unknown tail is 0. */
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd == -1)
		err(1, "sandbox: %s: landlock_create_ruleset",
		    sb_procname(proc));
	if (attr.handled_net != 0)
		sb_ll_ports(fd, proc, cfg);
	if (proc == PROC_SSH)
		sb_ll_exec(fd, cfg);
	if (proc == PROC_PARENT && cfg->write_dir)
		sb_ll_write_dir(fd, cfg->write_dirfd, attr.handled_fs);
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1)
		err(1, "sandbox: %s: landlock_restrict_self",
		    sb_procname(proc));
	if (close(fd) == -1)
		err(1, "sandbox: %s: close", sb_procname(proc));
}

/*
 * A second layer over net's ports: from now on TCP connect only to
 * `port' (ABI 4+; earlier kernels have no port rules to narrow).  Layers
 * intersect, so this takes away, never adds: once the first SMTP
 * connection is made, port 443 (MTA-STS policy fetches) is closed for
 * good.
 */
void
sandbox_narrow_port(enum proc_id proc, uint16_t port)
{
	struct sb_ll_ruleset attr;
	struct sandbox_cfg   one;
	int                  fd;

	/* only a process that Landlock confined at all (not valgrind's) */
	if (sb_ll_applied < 4)
		return;
	memset(&attr, 0, sizeof(attr));
	attr.handled_net = LANDLOCK_ACCESS_NET_CONNECT_TCP;
	memset(&one, 0, sizeof(one));
	one.ports[0] = port;
	one.nports = 1;
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd == -1)
		err(1, "sandbox: %s: landlock_create_ruleset",
		    sb_procname(proc));
	sb_ll_ports(fd, proc, &one);
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1)
		err(1, "sandbox: %s: landlock_restrict_self",
		    sb_procname(proc));
	close(fd);
}

/*
 * The parent's one writable place, the MTA-STS cache directory (Y20):
 * create files there, write, replace and remove them (rename over an
 * old entry); nothing else, and nothing below or above it.
 */
static void
sb_ll_write_dir(int fd, int dirfd, uint64_t handled)
{
	struct landlock_path_beneath_attr pb;

	pb.allowed_access = handled &
	    (LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_WRITE_FILE |
	        LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE);
	pb.parent_fd = dirfd;
	if (syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &pb,
	        0) == -1)
		err(1,
		    "sandbox: parent: landlock_add_rule (the cache directory)");
}

static void
sb_ll_ports(int fd, enum proc_id proc, const struct sandbox_cfg *cfg)
{
	struct sb_ll_port rule;
	int               i;

	for (i = 0; i < cfg->nports; i++) {
		rule.allowed = LANDLOCK_ACCESS_NET_CONNECT_TCP;
		rule.port = cfg->ports[i];
		if (syscall(SYS_landlock_add_rule, fd, SB_LL_RULE_NET_PORT,
		        &rule, 0) == -1)
			err(1, "sandbox: %s: landlock_add_rule port %u",
			    sb_procname(proc), (unsigned int)cfg->ports[i]);
	}
}

static void
sb_ll_path(int fd, const char *path, uint64_t allowed)
{
	struct landlock_path_beneath_attr pb;
	int                               pfd;

	if ((pfd = open(path, O_PATH | O_CLOEXEC)) == -1)
		err(1, "sandbox: ssh: %s", path);
	pb.allowed_access = allowed;
	pb.parent_fd = pfd;
	if (syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &pb,
	        0) == -1)
		err(1, "sandbox: ssh: landlock_add_rule %s", path);
	close(pfd);
}

/*
 * The ELF interpreter (dynamic loader) a program names in PT_INTERP:
 * the kernel opens it for execution too.  0, or -1 for a static or
 * non-ELF program (then it needs none).
 */
static int
sb_elf_interp(const char *path, char *out, size_t outsz)
{
	union {
		unsigned char ident[EI_NIDENT];
		Elf64_Ehdr    e64;
		Elf32_Ehdr    e32;
	} eh;
	Elf64_Phdr ph64;
	Elf32_Phdr ph32;
	uint64_t   phoff, off = 0, size = 0;
	unsigned   i, phnum, phentsize;
	int        fd, r = -1, is64, type;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "sandbox: ssh: %s", path);
	if (pread(fd, &eh, sizeof(eh), 0) < (ssize_t)sizeof(eh.e32) ||
	    memcmp(eh.ident, ELFMAG, SELFMAG) != 0)
		goto out;
	is64 = eh.ident[EI_CLASS] == ELFCLASS64;
	phoff = is64 ? eh.e64.e_phoff : eh.e32.e_phoff;
	phnum = is64 ? eh.e64.e_phnum : eh.e32.e_phnum;
	phentsize = is64 ? eh.e64.e_phentsize : eh.e32.e_phentsize;
	if (phentsize < (is64 ? sizeof(ph64) : sizeof(ph32)))
		goto out;
	for (i = 0; i < phnum; i++) {
		off_t at = (off_t)(phoff + (uint64_t)i * phentsize);

		if (is64 ? pread(fd, &ph64, sizeof(ph64), at) !=
		            (ssize_t)sizeof(ph64)
		         : pread(fd, &ph32, sizeof(ph32), at) !=
		            (ssize_t)sizeof(ph32))
			break;
		type = is64 ? (int)ph64.p_type : (int)ph32.p_type;
		if (type != PT_INTERP)
			continue;
		off = is64 ? ph64.p_offset : ph32.p_offset;
		size = is64 ? ph64.p_filesz : ph32.p_filesz;
		if (size >= 2 && size <= outsz &&
		    pread(fd, out, size, (off_t)off) == (ssize_t)size &&
		    out[size - 1] == '\0')
			r = 0;
		break;
	}
out:
	close(fd);
	return r;
}

/*
 * What ssh(1) may do with files: read any (its config, the user's keys
 * and known_hosts, shared libraries), execute only the ssh binary and
 * its dynamic loader (which maps the libraries without an execute
 * check), write only /dev/null.  So no ProxyCommand or ProxyJump (they
 * run a shell), no LocalCommand, no "Match exec", no new known_hosts
 * entries, no control sockets.  The loader can map other programs
 * ("ld.so /bin/sh"), but only code that already runs in this domain
 * can ask it to, and what it starts inherits the same limits: the rule
 * is about what configuration can make ssh start, not a wall against
 * code that has taken over ssh (Landlock and seccomp are that).
 */
static void
sb_ll_exec(int fd, const struct sandbox_cfg *cfg)
{
	const uint64_t rd =
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	const uint64_t ex =
	    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE;
	char interp[256];

	if (cfg->exec_path == NULL)
		errx(1, "sandbox: ssh: no program to allow");
	sb_ll_path(fd, "/", rd);
	sb_ll_path(fd, cfg->exec_path, ex);
	if (sb_elf_interp(cfg->exec_path, interp, sizeof(interp)) == 0)
		sb_ll_path(fd, interp, ex);
	sb_ll_path(fd, "/dev/null",
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE);
}

#endif /* __linux__ */
