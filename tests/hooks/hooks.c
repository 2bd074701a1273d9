/*
 * The test build's hooks (src/common/hooks.h): mxclient-sbtest and the
 * sandbox unit test link this file in place of src/common/hooks.c.
 *
 *   MXCLIENT_SANDBOX_TEST=proc:test  that process runs test (below) right
 *                                    after locking down; "all:off": no
 *                                    process locks down (valgrind)
 *   MXCLIENT_LANDLOCK_ABI=N          use at most Landlock ABI N (an older
 *                                    kernel, such as Debian 12's: 2)
 *   MXCLIENT_FAULT_TEST=badframe     tls sends the parent a RESULT two
 *                                    octets long, then waits to be stopped
 */
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "hooks.h"
#include "log.h"
#include "sandbox.h"

void
hook_sandbox_cfg(enum proc_id proc, struct sandbox_cfg *sb)
{
	const char *spec = getenv("MXCLIENT_SANDBOX_TEST"), *colon;
	size_t      n = strlen(proc_name(proc));

	if (spec == NULL || (colon = strchr(spec, ':')) == NULL)
		return;
	if (strcmp(spec, "all:off") == 0 ||
	    ((size_t)(colon - spec) == n &&
	        strncmp(spec, proc_name(proc), n) == 0))
		sb->test_syscall = colon + 1;
}

/*
 * "off" skips the whole lock-down, so that valgrind (which refuses
 * rlimit changes and makes system calls no allow-list expects) can run
 * the real processes.  mxclient itself has no such switch.
 */
int
hook_sandbox_off(const struct sandbox_cfg *cfg)
{
	return cfg->test_syscall != NULL &&
	    strcmp(cfg->test_syscall, "off") == 0;
}

int
hook_landlock_abi(int abi)
{
	const char *cap = getenv("MXCLIENT_LANDLOCK_ABI");

	return cap != NULL && atoi(cap) < abi ? atoi(cap) : abi;
}

/* A RESULT frame two octets long: the parent must cut tls off, exit 75. */
void
hook_tls_locked(int fd)
{
	struct frame_hdr h = { MSG_RESULT, FRAME_HDR_SIZE + 2, 0, PROC_TLS, 0 };
	uint8_t          buf[FRAME_HDR_SIZE + 2] = { 0 };
	const char      *t = getenv("MXCLIENT_FAULT_TEST");

	if (t == NULL || strcmp(t, "badframe") != 0)
		return;
	memcpy(buf, &h, sizeof(h));
	if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		fatal("fault test: write");
	for (;;)
		(void)poll(NULL, 0, -1);
}

/*
 * Test builds only: right after lock-down, make one system call the
 * sandbox should refuse (or, for a control, allow).  A refused call
 * normally never returns; one that returns is reported on stderr and
 * the process exits with its errno (0: the call succeeded).  Landlock
 * refuses a connect with EACCES rather than killing: exit 13.
 */
static long
sb_t_open(void)
{
	return openat(AT_FDCWD, "/etc/passwd", O_RDONLY);
}

static long
sb_t_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, 0);
}

static long
sb_t_socket_unix(void)
{
	return socket(AF_UNIX, SOCK_STREAM, 0);
}

static long
sb_t_execve(void)
{
	char *argv[] = { "sh", "-c", "exit 0", NULL };
	char *envp[] = { NULL };

	return execve("/bin/sh", argv, envp);
}

static long
sb_t_fork(void)
{
	pid_t pid;

	if ((pid = fork()) == 0)
		_exit(0);
	return pid;
}

static long
sb_t_ptrace(void)
{
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static long
sb_t_mmap_exec(void)
{
	void *p;

	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	return p == MAP_FAILED ? -1 : 0;
}

static long
sb_t_connect80(void)
{
	struct sockaddr_in sin;
	int                s;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(80);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return connect(s, (struct sockaddr *)&sin, sizeof(sin));
}

static long
sb_t_abort(void)
{
	abort();
}

/* The parent may signal its children with SIGKILL only, nobody else. */
static pid_t sb_t_peer;

static long
sb_t_kill_other(void)
{
	return kill(1, 0); /* harmless even where it is allowed */
}

static long
sb_t_kill_peer_term(void)
{
	return kill(sb_t_peer, SIGTERM);
}

static long
sb_t_kill_peer(void)
{
	return kill(sb_t_peer, SIGKILL);
}

static const struct {
	const char *name;
	const char *what;
	long (*fn)(void);
} sb_tests[] = {
	{ "open", "openat /etc/passwd", sb_t_open },
	{ "socket", "socket AF_INET SOCK_STREAM", sb_t_socket },
	{ "socket-unix", "socket AF_UNIX SOCK_STREAM", sb_t_socket_unix },
	{ "execve", "execve /bin/sh", sb_t_execve },
	{ "fork", "fork", sb_t_fork },
	{ "ptrace", "ptrace PTRACE_TRACEME", sb_t_ptrace },
	{ "mmap-exec", "mmap PROT_EXEC", sb_t_mmap_exec },
	{ "connect-port-80", "connect to 127.0.0.1 port 80", sb_t_connect80 },
	{ "abort", "abort", sb_t_abort },
	{ "kill-other", "kill pid 1, signal 0", sb_t_kill_other },
	{ "kill-peer-term", "SIGTERM to a child", sb_t_kill_peer_term },
	{ "kill-peer", "SIGKILL to a child", sb_t_kill_peer },
};

void
hook_sandbox_locked(enum proc_id proc, const struct sandbox_cfg *cfg)
{
	const char *name = cfg->test_syscall;
	size_t      i;
	int         save;

	if (name == NULL)
		return;
	sb_t_peer = cfg->npeers > 0 ? cfg->peers[0] : -1;
	for (i = 0; i < sizeof(sb_tests) / sizeof(sb_tests[0]); i++) {
		if (strcmp(sb_tests[i].name, name) != 0)
			continue;
		if (sb_tests[i].fn() == -1) {
			save = errno;
			fprintf(stderr, "sandbox test: %s: %s: %s\n",
			    proc_name(proc), sb_tests[i].what, strerror(save));
			_exit(save);
		}
		fprintf(stderr, "sandbox test: %s: %s: allowed\n",
		    proc_name(proc), sb_tests[i].what);
		_exit(0);
	}
	errx(2, "sandbox test: %s: unknown test %s", proc_name(proc), name);
}
