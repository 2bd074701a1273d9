/*
 * What each process may ask of the kernel once it is locked down.
 *
 * The lists start from what glibc 2.36 on x86_64, ldns 1.8 and libtls
 * (on OpenSSL 3.0) were seen to call after initialisation (strace of
 * the real code paths).  Each row says which code path needs it; a row
 * that no longer has a reason should go.  Names are resolved by
 * libseccomp at run time: a name that does not exist on this
 * architecture (poll on arm64 and riscv, which only have ppoll) is
 * skipped, a name libseccomp does not know at all is an error.
 *
 * Not allowed anywhere, on purpose: anything that opens a path (the
 * processes have no files, and Landlock would refuse them anyway),
 * mprotect (nothing here changes page protections: no threads, no
 * dlopen after lock-down, no OpenSSL secure heap; should it ever be
 * needed, give it NOEXEC like mmap), fork, exec, ptrace, setsockopt
 * (but TCP_NODELAY in net), bind, clock_nanosleep (ldns 1.8.3 cannot
 * reach the sleep() in its retry loop) and the exit system call (no
 * threads).
 *
 * Initialise before locking down, or the first use after it opens a
 * file and is killed: glibc opens /etc/localtime the first time a time
 * is converted (libtls does at the end of the handshake), so tls and
 * dns call tzset() first; OpenSSL reads openssl.cnf on its first use,
 * so dns starts libcrypto without it (tlsa_init(): only Full(0) TLSA
 * records are decoded there, lazily) and tls_init() reads it for tls;
 * libtls loads the CA bundle in tls_config_new().
 *
 * Rows that are only there so that a bug ends as the bug it is rather
 * than as a sandbox kill: abort() (assertions, glibc's heap checks,
 * OpenSSL's fatal errors) needs rt_sigprocmask, getpid, gettid and a
 * tgkill to itself; glibc writes its fatal messages with writev.
 */
#ifdef __linux__

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <linux/futex.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>

#include "seccomp_tables.h"

#define EQ(n, v) \
	{ \
		(n), SCMP_CMP_EQ, (scmp_datum_t)(v), 0 \
	}
#define MASKED(n, m, v) \
	{ \
		(n), SCMP_CMP_MASKED_EQ, (scmp_datum_t)(m), (scmp_datum_t)(v) \
	}

/* mmap(addr, len, prot, ...): never executable memory. */
#define NOEXEC MASKED(2, PROT_EXEC, 0)
/* socket(domain, type, protocol): the type without its flags. */
#define SOCKFLAGS   (SOCK_NONBLOCK | SOCK_CLOEXEC)
#define SOCKTYPE(t) MASKED(1, ~(scmp_datum_t)SOCKFLAGS, (t))

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A row whose path the tests cannot make every time: RARE("...") names
 * it.  tests/e2e/t_syscalls.sh fails on any other row that no run used.
 */
#define RARE(why) "(rare) " why

/*
 * Rows that several processes need are repeated in each table rather
 * than shared, so that one table reads as the whole truth about one
 * process.
 */

/* clang-format off */
static const struct sb_call parent_calls[] = {
	{ "read",		"read_input(): the message from stdin, while "
				"dns already looks up the MX hosts" },
	{ "write",		"chan_flush(): frames to tls; the message "
				"into the spool; progress lines on stdout, "
				"errors on stderr" },
	{ "recvmsg",		"framing layer: receiving frames" },
	{ "sendmsg",		"framing layer: sending frames" },
	{ "ppoll",		"parent_loop(): waits with the signals "
				"unblocked only while it waits" },
	{ "fsync",		"write_entry(): a cache file and its "
				"directory, before and after the rename" },
	{ "dup2",		"read_input(): /dev/null replaces stdin "
				"once the message is read" },
	{ "dup3",		RARE("dup2() where the arch has no dup2") },
	{ "close",		"a channel whose child has gone; the spool's "
				"write end once the message is complete" },
	{ "wait4",		"reap(): the children, with their peak "
				"RSS" },
	{ "getrusage",		"print_peak_rss() (-v): the parent's own "
				"peak RSS" },
	{ "clock_gettime",	RARE("deadlines; the vDSO falls back to the "
				"system call when the clock source has no "
				"vDSO support") },
	{ "brk",		RARE("malloc when the heap must grow: a long report or log line") },
	{ "munmap",		RARE("free() of large blocks") },
	{ "mremap",		RARE("realloc() of large blocks") },
	{ "newfstatat",		"stdio: the first write to stdout stats it "
				"to size its buffer (glibc 2.33-2.38: "
				"fstat(fd) is newfstatat(fd, \"\", "
				"AT_EMPTY_PATH))" },
	{ "fstat",		RARE("the same in glibc versions that call "
				"fstat") },
	{ "exit_group",		"exit()" },
	{ "rt_sigreturn",	"return from a signal handler" },
	{ "writev",		RARE("glibc's fatal messages (heap corruption, "
				"stack smashing) before abort()") },
	{ "rt_sigprocmask",	RARE("abort(): unblock SIGABRT") },
	{ "getpid",		RARE("abort(): raise() addresses itself") },
	{ "gettid",		RARE("abort(): raise() addresses itself") },
};

static const struct sb_rule parent_rules[] = {
	{ "mmap",
	    { NOEXEC },
	    RARE("malloc: large blocks") },
	/* the MTA-STS cache (stscache.c), only with a cache directory */
	{ "openat",
	    { EQ(0, SB_DIRFD), EQ(2, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	        O_NOFOLLOW) },
	    "write_entry(): a new cache file in the cache directory" },
	{ "renameat",
	    { EQ(0, SB_DIRFD), EQ(2, SB_DIRFD) },
	    "write_entry(): the new file over the old entry" },
	{ "renameat2",
	    { EQ(0, SB_DIRFD), EQ(2, SB_DIRFD), EQ(4, 0) },
	    RARE("renameat() where glibc uses renameat2") },
	{ "unlinkat",
	    { EQ(0, SB_DIRFD), EQ(2, 0) },
	    "write_entry(): a temporary file a crash left, or a failed one" },
	{ "ioctl",
	    { EQ(1, TCGETS) },
	    "stdio: isatty() on a stdout that is a character device but "
	    "not a pty (mxclient >/dev/null)" },
	{ "tgkill",
	    { EQ(0, SB_SELF), EQ(2, SIGABRT) },
	    RARE("abort(): raise(SIGABRT) on itself") },
	{ "sendto",
	    { EQ(4, 0) },
	    "--syslog: log_summary()'s line on the log socket connected "
	    "before lock-down (send(): no address, so only a connected "
	    "socket)" },
	{ "fcntl",
	    { EQ(1, F_ADD_SEALS) },
	    "spool_step(): the finished spool (a memfd) is sealed against "
	    "any change" },
	{ "kill",
	    { MASKED(0, 0xffffffffU, SB_PEER), EQ(1, SIGKILL) },
	    "stop_children(): SIGKILL to one of its own children, nothing "
	    "else to anyone" },
};

static const struct sb_call dns_calls[] = {
	{ "write",		RARE("chan_flush(): frames; fatal() on stderr") },
	{ "recvmsg",		"framing layer: receiving frames" },
	{ "sendmsg",		"framing layer: sending frames" },
	{ "poll",		"run_wave(): waits for the answers of one "
				"wave of queries" },
	{ "ppoll",		RARE("glibc poll() where the arch has no poll") },
	{ "connect",		"query_socket(): UDP and TCP sockets are "
				"connected to the resolver (Landlock "
				"allows only its port for TCP)" },
	{ "sendto",		"query_send(), tcp_io(): send()" },
	{ "recvfrom",		"udp_read(), tcp_io(): recv()" },
	{ "close",		"query_free(): the socket of each query" },
	{ "clock_gettime",	RARE("deadlines; vDSO fallback (see parent)") },
	{ "getrandom",		"arc4random(): query ids, order_mx()'s "
				"shuffle" },
	{ "getpid",		RARE("abort(): raise() addresses itself") },
	{ "brk",		"malloc" },
	{ "munmap",		RARE("free() of large blocks") },
	{ "mremap",		RARE("realloc() of large blocks (TCP answers)") },
	{ "exit_group",		"exit()" },
	{ "writev",		RARE("glibc's fatal messages before abort()") },
	{ "rt_sigprocmask",	RARE("abort(): unblock SIGABRT") },
	{ "gettid",		RARE("abort(): raise() addresses itself") },
};

static const struct sb_rule dns_rules[] = {
	{ "socket",
	    { EQ(0, AF_INET), SOCKTYPE(SOCK_DGRAM), EQ(2, 0) },
	    "query_socket(): UDP query to an IPv4 resolver (protocol 0)" },
	{ "socket",
	    { EQ(0, AF_INET6), SOCKTYPE(SOCK_DGRAM), EQ(2, 0) },
	    "query_socket(): UDP query to an IPv6 resolver (protocol 0)" },
	{ "socket",
	    { EQ(0, AF_INET), SOCKTYPE(SOCK_STREAM), EQ(2, 0) },
	    "tcp_start(): TCP after truncation, IPv4 (protocol 0)" },
	{ "socket",
	    { EQ(0, AF_INET6), SOCKTYPE(SOCK_STREAM), EQ(2, 0) },
	    "tcp_start(): TCP after truncation, IPv6 (protocol 0)" },
	{ "mmap",
	    { NOEXEC },
	    RARE("malloc: large blocks") },
	{ "futex",
	    { EQ(1, FUTEX_WAKE_PRIVATE) },
	    "OpenSSL's run-once initialisers (OPENSSL_cleanup() at exit, "
	    "decoding a Full(0) TLSA record): glibc pthread_once() wakes "
	    "waiters when one completes" },
	{ "tgkill",
	    { EQ(0, SB_SELF), EQ(2, SIGABRT) },
	    RARE("abort(): raise(SIGABRT) on itself") },
};

static const struct sb_call net_calls[] = {
	{ "write",		"chan_flush(): frames; fatal() on stderr" },
	{ "recvmsg",		"framing layer: receiving frames; the "
				"socket from ssh (SCM_RIGHTS)" },
	{ "sendmsg",		"framing layer; MSG_CONNECT_OK carries the "
				"connected socket to tls (SCM_RIGHTS)" },
	{ "read",		"SOCKS5: the proxy's replies" },
	{ "getsockname",	"our address, for the EHLO address literal "
				"when there is no FQDN" },
	{ "poll",		"the event loop; waiting for connect() to "
				"finish" },
	{ "ppoll",		RARE("glibc poll() where the arch has no poll") },
	{ "connect",		"the MX on port 25, a policy host on 443 "
				"(MTA-STS), or the SOCKS5 proxy (Landlock "
				"allows those ports)" },
	{ "landlock_create_ruleset", RARE("https_allowed(): the layer "
				"that closes port 443 at the first SMTP "
				"connection, on Landlock ABI 4+ without a proxy") },
	{ "landlock_add_rule",	RARE("https_allowed(): port 25 in that layer") },
	{ "landlock_restrict_self", RARE("https_allowed(): that layer") },
	{ "close",		"our copy of the socket after the "
				"hand-off, or a failed attempt" },
	{ "clock_gettime",	RARE("connect deadlines; vDSO fallback (see "
				"parent)") },
	{ "brk",		RARE("malloc when the heap must grow: a long report or log line") },
	{ "munmap",		RARE("free() of large blocks") },
	{ "mremap",		RARE("realloc() of large blocks") },
	{ "exit_group",		"exit()" },
	{ "writev",		RARE("glibc's fatal messages before abort()") },
	{ "rt_sigprocmask",	RARE("abort(): unblock SIGABRT") },
	{ "getpid",		RARE("abort(): raise() addresses itself") },
	{ "gettid",		RARE("abort(): raise() addresses itself") },
};

static const struct sb_rule net_rules[] = {
	{ "socket",
	    { EQ(0, AF_INET), SOCKTYPE(SOCK_STREAM), EQ(2, 0) },
	    "tcp_connect(): TCP to an IPv4 MX or proxy (protocol 0)" },
	{ "socket",
	    { EQ(0, AF_INET6), SOCKTYPE(SOCK_STREAM), EQ(2, 0) },
	    "tcp_connect(): TCP to an IPv6 MX or proxy (protocol 0)" },
	{ "getsockopt",
	    { EQ(1, SOL_SOCKET), EQ(2, SO_ERROR) },
	    "outcome of the non-blocking connect" },
	{ "setsockopt",
	    { EQ(1, IPPROTO_TCP), EQ(2, TCP_NODELAY) },
	    "tcp_connect(): TCP_NODELAY, so that no short write (the last "
	    "block of the message, a pipelined group) waits for an ACK" },
	{ "mmap",
	    { NOEXEC },
	    RARE("malloc: large blocks") },
	{ "tgkill",
	    { EQ(0, SB_SELF), EQ(2, SIGABRT) },
	    RARE("abort(): raise(SIGABRT) on itself") },
};

static const struct sb_call tls_calls[] = {
	{ "read",		"chan_read(): frames; TLS records "
				"(OpenSSL's socket BIO reads with read())" },
	{ "write",		"chan_flush(): frames; conn_write(): SMTP "
				"before STARTTLS; TLS records; fatal() on "
				"stderr" },
	{ "recvmsg",		"framing layer; the connected socket from "
				"net (SCM_RIGHTS)" },
	{ "sendmsg",		"framing layer: sending frames" },
	{ "poll",		"the event loop over channels and the SMTP "
				"socket" },
	{ "ppoll",		RARE("glibc poll() where the arch has no poll") },
	{ "pread64",		"body_read(): the spooled message (MSG_BODY), "
				"from its start for every MX tried" },
	{ "close",		"the SMTP socket after an attempt" },
	{ "clock_gettime",	RARE("SMTP timeouts; vDSO fallback (see parent)") },
	{ "getrandom",		RARE("OpenSSL DRBG reseeding (it was seeded "
				"before lock-down)") },
	{ "getpid",		"OpenSSL checks for a fork on each "
				"RAND_bytes(); abort()" },
	{ "brk",		"malloc" },
	{ "munmap",		RARE("free() of large blocks") },
	{ "mremap",		RARE("realloc() of large blocks") },
	{ "exit_group",		"exit()" },
	{ "writev",		RARE("glibc's fatal messages before abort()") },
	{ "rt_sigprocmask",	RARE("abort(): unblock SIGABRT") },
	{ "gettid",		RARE("abort(): raise() addresses itself") },
};

static const struct sb_rule tls_rules[] = {
	{ "mmap",
	    { NOEXEC },
	    RARE("malloc: large blocks (TLS buffers)") },
	{ "futex",
	    { EQ(1, FUTEX_WAKE_PRIVATE) },
	    RARE("OpenSSL's run-once initialisers that a handshake meets "
	    "first after lock-down (a key or signature type tls_setup() did "
	    "not touch): glibc pthread_once() wakes waiters when one "
	    "completes") },
	{ "tgkill",
	    { EQ(0, SB_SELF), EQ(2, SIGABRT) },
	    RARE("abort(): raise(SIGABRT) on itself") },
};

/*
 * The ssh process execs ssh(1), which inherits this filter, so it is a
 * deny-list: what neither needs and what would reach beyond the
 * process (debugging others, the kernel's keyrings, namespaces,
 * mounts, modules, BPF, perf, the clock).  What may be executed, read,
 * written and connected to is Landlock's job (sandbox_linux.c).
 */
static const struct sb_call ssh_denied[] = {
	{ "ptrace",		"no tracing of other processes" },
	{ "process_vm_readv",	"no reading other processes' memory" },
	{ "process_vm_writev",	"no writing other processes' memory" },
	{ "kcmp",		"no probing other processes" },
	{ "pidfd_getfd",	"no stealing descriptors" },
	{ "mount",		"no mounts" },
	{ "umount2",		"no mounts" },
	{ "pivot_root",		"no new root" },
	{ "chroot",		"no new root" },
	{ "unshare",		"no namespaces" },
	{ "setns",		"no namespaces" },
	{ "fsopen",		"no mounts (the new mount API)" },
	{ "fsconfig",		"no mounts (the new mount API)" },
	{ "fsmount",		"no mounts (the new mount API)" },
	{ "fspick",		"no mounts (the new mount API)" },
	{ "move_mount",		"no mounts (the new mount API)" },
	{ "open_tree",		"no mounts (the new mount API)" },
	{ "mount_setattr",	"no mounts (the new mount API)" },
	{ "open_by_handle_at",	"no opening files past Landlock by handle" },
	{ "name_to_handle_at",	"no file handles" },
	{ "bpf",		"no BPF programs" },
	{ "perf_event_open",	"no performance counters" },
	{ "userfaultfd",	"a classic exploitation aid" },
	{ "io_uring_setup",	"bypasses this filter for its operations" },
	{ "keyctl",		"no kernel keyrings" },
	{ "add_key",		"no kernel keyrings" },
	{ "request_key",	"no kernel keyrings" },
	{ "init_module",	"no kernel modules" },
	{ "finit_module",	"no kernel modules" },
	{ "delete_module",	"no kernel modules" },
	{ "kexec_load",		"no new kernel" },
	{ "kexec_file_load",	"no new kernel" },
	{ "reboot",		"no reboot" },
	{ "swapon",		"no swap" },
	{ "swapoff",		"no swap" },
	{ "acct",		"no process accounting" },
	{ "settimeofday",	"no clock changes" },
	{ "clock_settime",	"no clock changes" },
	{ "clock_adjtime",	"no clock changes" },
	{ "adjtimex",		"no clock changes" },
	{ "sethostname",	"no host name changes" },
	{ "setdomainname",	"no domain name changes" },
	{ "iopl",		"no port I/O" },
	{ "ioperm",		"no port I/O" },
	{ "syslog",		"no kernel log" },
	{ "personality",	"no execution domain changes" },
	{ "quotactl",		"no quota changes" },
	{ "fanotify_init",	"no filesystem-wide watches" },
};

/* clone() with a namespace flag: no namespaces through fork either. */
#define NEWNS(f) { "clone", { MASKED(0, (f), (f)) }, "no new namespaces" }
static const struct sb_rule ssh_denied_rules[] = {
	NEWNS(CLONE_NEWUSER), NEWNS(CLONE_NEWNS), NEWNS(CLONE_NEWPID),
	NEWNS(CLONE_NEWNET), NEWNS(CLONE_NEWIPC), NEWNS(CLONE_NEWUTS),
	NEWNS(CLONE_NEWCGROUP),
};

/* Its flags live in memory seccomp cannot read: glibc falls back. */
static const struct sb_call ssh_enosys[] = {
	{ "clone3",		"flags out of reach; glibc falls back to "
				"clone, whose flags the rules check" },
};

const struct sb_policy sb_policies[PROC_COUNT] = {
	[PROC_PARENT] = { parent_calls, NROWS(parent_calls),
	    parent_rules, NROWS(parent_rules), 0, NULL, 0 },
	[PROC_DNS] = { dns_calls, NROWS(dns_calls),
	    dns_rules, NROWS(dns_rules), 0, NULL, 0 },
	[PROC_NET] = { net_calls, NROWS(net_calls),
	    net_rules, NROWS(net_rules), 0, NULL, 0 },
	[PROC_TLS] = { tls_calls, NROWS(tls_calls),
	    tls_rules, NROWS(tls_rules), 0, NULL, 0 },
	[PROC_SSH] = { ssh_denied, NROWS(ssh_denied), ssh_denied_rules,
	    NROWS(ssh_denied_rules), 1, ssh_enosys, NROWS(ssh_enosys) },
};
/* clang-format on */

#endif /* __linux__ */
