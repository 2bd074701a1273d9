/*
 * sbtest: checks the sandbox from the outside.  Run it as root: each
 * process kind is forked, locks itself down (children drop to nobody in
 * a fresh empty chroot, as mxclient does) and is then examined:
 *
 *	- /proc says seccomp filter mode, no_new_privs, the new uid, the
 *	  rlimits, and a root directory that no longer exists;
 *	- the work the process exists for still works (frames on a
 *	  socketpair, the socket hand-off net -> tls, the spool, a SIGKILL
 *	  of its own child);
 *	- a forbidden call kills it by SIGSYS, and the death frame on
 *	  death_fd names the call;
 *	- Landlock lets net connect to port 25 only and dns to its resolver
 *	  port only.
 *
 * It makes a private network namespace so that 127.0.0.1:25, :53 and :80
 * are its own.  `make tests/unit/test_sandbox' builds it with
 * -DSANDBOX_TEST; tests/run.sh runs it when started as root.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include <linux/capability.h>
#include <linux/magic.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "frame.h"
#include "msg.h"
#include "sandbox.h"

#define TIMEOUT_MS 10000
#define DEATH_LEN  (FRAME_HDR_SIZE + sizeof(struct msg_sandbox_death))

struct kid {
	enum proc_id proc;
	pid_t        pid;
	int          fd;    /* our end of the child's socketpair */
	int          errfd; /* the child's stderr, or -1 */
};

/* A forbidden (or, as a control, allowed) call and what should follow. */
struct killcase {
	enum proc_id proc;
	const char  *test;
	int          report;  /* give the child a death_fd */
	const char  *syscall; /* SIGSYS naming this call */
	int          sig;     /* or death by this signal */
	int          code;    /* or this exit code */
};

static const struct killcase killcases[] = {
	{ PROC_TLS, "open", 1, "openat", SIGSYS, 0 },
	{ PROC_TLS, "socket", 1, "socket", SIGSYS, 0 },
	{ PROC_TLS, "execve", 1, "execve", SIGSYS, 0 },
	{ PROC_TLS, "fork", 1, "clone", SIGSYS, 0 },
	{ PROC_TLS, "ptrace", 1, "ptrace", SIGSYS, 0 },
	{ PROC_TLS, "mmap-exec", 1, "mmap", SIGSYS, 0 },
	{ PROC_TLS, "connect-port-80", 1, "socket", SIGSYS, 0 },
	{ PROC_TLS, "abort", 1, NULL, SIGABRT, 0 },
	{ PROC_DNS, "open", 1, "openat", SIGSYS, 0 },
	{ PROC_DNS, "execve", 1, "execve", SIGSYS, 0 },
	{ PROC_DNS, "fork", 1, "clone", SIGSYS, 0 },
	{ PROC_DNS, "socket-unix", 1, "socket", SIGSYS, 0 },
	{ PROC_DNS, "socket", 1, NULL, 0, 0 },
	{ PROC_DNS, "connect-port-80", 1, NULL, 0, EACCES },
	{ PROC_NET, "open", 1, "openat", SIGSYS, 0 },
	{ PROC_NET, "ptrace", 1, "ptrace", SIGSYS, 0 },
	{ PROC_NET, "socket-unix", 1, "socket", SIGSYS, 0 },
	{ PROC_NET, "mmap-exec", 1, "mmap", SIGSYS, 0 },
	{ PROC_NET, "socket", 1, NULL, 0, 0 },
	{ PROC_NET, "connect-port-80", 1, NULL, 0, EACCES },
	{ PROC_NET, "abort", 1, NULL, SIGABRT, 0 },
	{ PROC_PARENT, "open", 1, "openat", SIGSYS, 0 },
	{ PROC_PARENT, "socket", 1, "socket", SIGSYS, 0 },
	{ PROC_PARENT, "fork", 1, "clone", SIGSYS, 0 },
	{ PROC_PARENT, "execve", 0, NULL, SIGSYS, 0 },
};

static const char *const procnames[PROC_COUNT] = { "parent", "dns", "net",
	"tls", "ssh" };

static uid_t nobody_uid;
static gid_t nobody_gid;
static char  tmpdir[] = "/tmp/sbtest.XXXXXX";
static int   listen25 = -1, listen53 = -1, listen80 = -1;
static int   npass, nfail;
static int   no_sys_admin; /* children lose CAP_SYS_ADMIN */

/* Parent kind: what it set up before locking down. */
static int   spoolfd = -1;
static pid_t grandkid = -1;

static void check(int, const char *, ...) __attribute__((format(printf, 2, 3)));
static void die(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static void setup(void);
static int  listen_on(uint16_t);
static int  tcp_connect(uint16_t, int);
static int  send_fd(int, int);
static int  recv_fd(int);
static int  wait_readable(int);
static int  wait_kid(pid_t, int *);
static void spawn(struct kid *, enum proc_id, const char *, int, int);
static void child_main(enum proc_id, int, const char *, int);
static void child_ready(int);
static void body_parent_pre(void);
static void body_parent(int);
static void body_dns(int);
static void body_net(int);
static void body_tls(int);
static int  proc_field(pid_t, const char *, const char *, char *, size_t);
static int  limit_is(pid_t, const char *, const char *);
static void check_proc(struct kid *);
static void check_root_gone(struct kid *);
static int  count_entries(const char *);
static void drop_sys_admin(void);
static void talk_net(struct kid *);
static void talk_tls(struct kid *);
static void test_alive(enum proc_id);
static void read_stderr(struct kid *, char *, size_t);
static int  read_death(struct kid *, const struct killcase *);
static void test_kill(const struct killcase *);
static void check_tmpdir_empty(void);

static void
check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: test_sandbox: ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		npass++;
	else
		nfail++;
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sbtest: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	exit(2);
}

/* A private network namespace with lo up; a scratch TMPDIR; nobody. */
static void
setup(void)
{
	struct passwd *pw;
	struct ifreq   ifr;
	int            s;

	if ((pw = getpwnam("nobody")) == NULL)
		die("no user nobody");
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;
	if (mkdtemp(tmpdir) == NULL)
		die("mkdtemp");
	if (setenv("TMPDIR", tmpdir, 1) == -1)
		die("setenv");
	if (unshare(CLONE_NEWNET) == -1)
		die("unshare CLONE_NEWNET");
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		die("socket");
	memset(&ifr, 0, sizeof(ifr));
	(void)snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
		die("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1)
		die("SIOCSIFFLAGS lo");
	close(s);
	listen25 = listen_on(25);
	listen53 = listen_on(53);
	listen80 = listen_on(80);
}

static int
listen_on(uint16_t port)
{
	struct sockaddr_in sin;
	int                s, on = 1;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket");
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("bind 127.0.0.1:%u", port);
	if (listen(s, 16) == -1)
		die("listen");
	return s;
}

/* Blocking connect to 127.0.0.1:port; -1 with errno on failure. */
static int
tcp_connect(uint16_t port, int proto)
{
	struct sockaddr_in sin;
	int                s, save;

	if ((s = socket(AF_INET, SOCK_STREAM, proto)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		save = errno;
		close(s);
		errno = save;
		return -1;
	}
	return s;
}

static int
send_fd(int chan, int fd)
{
	struct msghdr   msg;
	struct iovec    iov;
	struct cmsghdr *cm;
	union {
		struct cmsghdr hdr;
		char           buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	char byte = 'F';

	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(chan, &msg, 0) == 1 ? 0 : -1;
}

static int
recv_fd(int chan)
{
	struct msghdr   msg;
	struct iovec    iov;
	struct cmsghdr *cm;
	union {
		struct cmsghdr hdr;
		char           buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	char byte;
	int  fd;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	if (recvmsg(chan, &msg, 0) != 1)
		return -1;
	if ((cm = CMSG_FIRSTHDR(&msg)) == NULL || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static int
wait_readable(int fd)
{
	struct pollfd pfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	return poll(&pfd, 1, TIMEOUT_MS) == 1 ? 0 : -1;
}

/* waitpid with a deadline; a child that hangs is killed. */
static int
wait_kid(pid_t pid, int *status)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int             i;

	for (i = 0; i < TIMEOUT_MS / 10; i++) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	(void)waitpid(pid, status, 0);
	return -1;
}

/*
 * Fork a child of kind proc.  With errfile its stderr is an unlinked
 * regular file that we read afterwards: the sandbox's own messages come
 * back, and writing to a stderr redirected to a file must work.
 */
static void
spawn(
    struct kid *k, enum proc_id proc, const char *test, int report, int errfile)
{
	char path[PATH_MAX];
	int  sp[2], ef = -1;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		die("socketpair");
	if (errfile) {
		(void)snprintf(path, sizeof(path), "%s/stderr.XXXXXX", tmpdir);
		if ((ef = mkstemp(path)) == -1 || unlink(path) == -1)
			die("mkstemp");
	}
	fflush(stdout);
	k->proc = proc;
	if ((k->pid = fork()) == -1)
		die("fork");
	if (k->pid == 0) {
		close(sp[0]);
		if (errfile && dup2(ef, STDERR_FILENO) == -1)
			_exit(99);
		child_main(proc, sp[1], test, report);
	}
	close(sp[1]);
	k->fd = sp[0];
	k->errfd = ef;
}

static void
child_main(enum proc_id proc, int fd, const char *test, int report)
{
	struct sandbox_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.drop = proc != PROC_PARENT;
	cfg.uid = nobody_uid;
	cfg.gid = nobody_gid;
	cfg.chroot_dir = NULL;
	cfg.death_fd = report ? fd : -1;
	if (proc == PROC_NET) {
		cfg.ports[0] = 25;
		cfg.nports = 1;
	} else if (proc == PROC_DNS) {
		cfg.ports[0] = 53;
		cfg.nports = 1;
	}
	cfg.test_syscall = test;
	close(listen25);
	close(listen53);
	close(listen80);
	if (no_sys_admin)
		drop_sys_admin();
	if (proc == PROC_PARENT && test == NULL) {
		body_parent_pre();
		/* K3: its kill() reaches its own children only */
		cfg.peers[cfg.npeers++] = grandkid;
	}
	sandbox_lock(proc, &cfg);
	switch (proc) {
	case PROC_PARENT:
		body_parent(fd);
		break;
	case PROC_DNS:
		body_dns(fd);
		break;
	case PROC_NET:
		body_net(fd);
		break;
	default:
		body_tls(fd);
		break;
	}
	exit(0);
}

/*
 * Locked down: tell the test, wait for it to look at /proc.  recvmsg(),
 * as the framing layer does: read() is not in every allow-list.
 */
static void
child_ready(int fd)
{
	struct msghdr msg;
	struct iovec  iov;
	char          c;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &c;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (write(fd, "R", 1) != 1 || recvmsg(fd, &msg, 0) != 1 || c != 'G')
		_exit(10);
}

/*
 * Before the parent kind locks down: a spool file, and a child that
 * locks down on its own (as dns) so that the parent's kill() has to
 * cross into a Landlock domain that is not nested under its own.
 */
static void
body_parent_pre(void)
{
	struct sandbox_cfg cfg;
	char               path[PATH_MAX], c;
	int                ready[2], life[2];

	(void)snprintf(path, sizeof(path), "%s/spool.XXXXXX", tmpdir);
	if ((spoolfd = mkstemp(path)) == -1 || unlink(path) == -1)
		_exit(20);
	if (write(spoolfd, "spool-data", 10) != 10)
		_exit(21);
	if (pipe(ready) == -1 || pipe(life) == -1)
		_exit(22);
	if ((grandkid = fork()) == -1)
		_exit(23);
	if (grandkid == 0) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.drop = 1;
		cfg.uid = nobody_uid;
		cfg.gid = nobody_gid;
		cfg.death_fd = -1;
		close(ready[0]);
		close(life[1]);
		sandbox_lock(PROC_DNS, &cfg);
		if (write(ready[1], "R", 1) != 1)
			_exit(1);
		/* Wait to be killed; leave if the parent kind is gone. */
		{
			struct pollfd lp = { life[0], POLLIN, 0 };

			while (poll(&lp, 1, -1) == -1 && errno == EINTR)
				;
		}
		_exit(0);
	}
	close(ready[1]);
	close(life[0]);
	if (read(ready[0], &c, 1) != 1)
		_exit(24);
	close(ready[0]);
}

static void
body_parent(int fd)
{
	const char *name;
	char        buf[8];
	int         status;

	child_ready(fd);
	/* what the parent does after lock-down: input in, spool out */
	if (read(spoolfd, buf, 4) != 0 || write(spoolfd, "more", 4) != 4 ||
	    dup2(spoolfd, 0) != 0)
		_exit(30);
	if (kill(grandkid, SIGKILL) == -1)
		_exit(31);
	if (waitpid(grandkid, &status, 0) != grandkid || !WIFSIGNALED(status) ||
	    WTERMSIG(status) != SIGKILL)
		_exit(32);
	if ((name = sandbox_syscall_name(257)) == NULL ||
	    strcmp(name, "openat") != 0)
		_exit(33);
	printf("     parent kind, locked: stdout works, kill() reached "
	       "the child, syscall 257 is %s\n",
	    name);
	exit(0);
}

static void
body_dns(int fd)
{
	struct sockaddr_in sin;
	int                s;

	child_ready(fd);
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		_exit(40);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(53);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sendto(s, "q", 1, 0, (struct sockaddr *)&sin, sizeof(sin)) != 1)
		_exit(41);
	close(s);
	if ((s = tcp_connect(53, 0)) == -1)
		_exit(42);
	close(s);
	if (tcp_connect(25, 0) != -1 || errno != EACCES)
		_exit(43);
	exit(0);
}

/* What net does: non-blocking connect, SO_ERROR, hand the socket on. */
static void
body_net(int fd)
{
	struct pollfd      pfd;
	struct sockaddr_in sin;
	socklen_t          len;
	int                s, soerr;

	child_ready(fd);
	if ((s = socket(
	         AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		_exit(50);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(25);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS)
		_exit(51);
	pfd.fd = s;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, TIMEOUT_MS) != 1)
		_exit(52);
	len = sizeof(soerr);
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1 ||
	    soerr != 0)
		_exit(53);
	if (send_fd(fd, s) == -1)
		_exit(55);
	close(s);
	exit(0);
}

/* What tls does: receive the socket, write on it, use randomness. */
static void
body_tls(int fd)
{
	unsigned char rnd[16];
	char         *p;
	int           s;

	child_ready(fd);
	if ((s = recv_fd(fd)) == -1)
		_exit(60);
	if (write(s, "tls", 3) != 3)
		_exit(61);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		_exit(62);
	if ((p = malloc(4 << 20)) == NULL)
		_exit(63);
	memset(p, 1, 4 << 20);
	free(p);
	close(s);
	exit(0);
}

/* One "Name:\tvalue" line of /proc/PID/<file>. */
static int
proc_field(
    pid_t pid, const char *file, const char *field, char *out, size_t outlen)
{
	char   path[64], line[256];
	FILE  *f;
	size_t n = strlen(field);
	int    found = -1;

	(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, n) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		(void)snprintf(out, outlen, "%s", line + n);
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

/* Soft and hard limit of one line of /proc/PID/limits are both `want'. */
static int
limit_is(pid_t pid, const char *field, const char *want)
{
	char v[256], soft[32], hard[32];

	if (proc_field(pid, "limits", field, v, sizeof(v)) == -1 ||
	    sscanf(v, "%31s %31s", soft, hard) != 2)
		return 0;
	return strcmp(soft, want) == 0 && strcmp(hard, want) == 0;
}

static void
check_proc(struct kid *k)
{
	const char *name = procnames[k->proc];
	char        v[256], want[64];
	int         drop = k->proc != PROC_PARENT;

	check(proc_field(k->pid, "status", "Seccomp:", v, sizeof(v)) == 0 &&
	        strcmp(v, "\t2") == 0,
	    "%s: Seccomp:\\t2 in /proc status", name);
	check(proc_field(k->pid, "status", "NoNewPrivs:", v, sizeof(v)) == 0 &&
	        strcmp(v, "\t1") == 0,
	    "%s: NoNewPrivs:\\t1", name);
	(void)snprintf(want, sizeof(want), "\t%u\t%u\t%u\t%u",
	    drop ? nobody_uid : 0, drop ? nobody_uid : 0, drop ? nobody_uid : 0,
	    drop ? nobody_uid : 0);
	check(proc_field(k->pid, "status", "Uid:", v, sizeof(v)) == 0 &&
	        strcmp(v, want) == 0,
	    "%s: Uid:%s", name, v);
	check(limit_is(k->pid, "Max open files", "32"), "%s: RLIMIT_NOFILE 32",
	    name);
	check(
	    limit_is(k->pid, "Max processes", "0"), "%s: RLIMIT_NPROC 0", name);
	check(limit_is(k->pid, "Max core file size", "0"), "%s: RLIMIT_CORE 0",
	    name);
	check(!limit_is(k->pid, "Max file size", "0"),
	    "%s: RLIMIT_FSIZE untouched (stderr may be a file)", name);
	if (drop)
		check_root_gone(k);
}

/*
 * The child's root is empty: either a read-only tmpfs of its own mount
 * namespace (that did not show up in ours), or, where mount namespaces
 * are refused, a directory of TMPDIR that no longer exists.
 */
static void
check_root_gone(struct kid *k)
{
	char          lpath[64], root[PATH_MAX], *del;
	struct stat   st, tst;
	struct statfs sfs;
	ssize_t       n;

	(void)snprintf(lpath, sizeof(lpath), "/proc/%d/root", (int)k->pid);
	if ((n = readlink(lpath, root, sizeof(root) - 1)) == -1) {
		check(0, "%s: readlink %s", procnames[k->proc], lpath);
		return;
	}
	root[n] = '\0';
	if ((del = strstr(root, " (deleted)")) != NULL) {
		check(strncmp(root, tmpdir, strlen(tmpdir)) == 0,
		    "%s: root is %s", procnames[k->proc], root);
		*del = '\0';
		check(lstat(root, &st) == -1 && errno == ENOENT,
		    "%s: chroot directory %s is gone", procnames[k->proc],
		    root);
		return;
	}
	(void)snprintf(lpath, sizeof(lpath), "/proc/%d/root/", (int)k->pid);
	check(statfs(lpath, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC &&
	        (sfs.f_flags & ST_RDONLY) && count_entries(lpath) == 0,
	    "%s: root is an empty read-only tmpfs (%s)", procnames[k->proc],
	    root);
	check(stat(lpath, &st) == 0 && stat(tmpdir, &tst) == 0 &&
	        st.st_dev != tst.st_dev && access(tmpdir, W_OK) == 0,
	    "%s: its tmpfs is not mounted in our namespace",
	    procnames[k->proc]);
}

/* Entries of a directory other than . and .., or -1. */
static int
count_entries(const char *path)
{
	struct dirent *de;
	DIR           *d;
	int            n = 0;

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/*
 * Take CAP_SYS_ADMIN away, as a container does: sandbox_lock() must then
 * fall back to a removed directory of TMPDIR for the empty root.
 */
static void
drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct   data[2];

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		_exit(97);
	data[0].effective &= ~(1U << CAP_SYS_ADMIN);
	data[0].permitted &= ~(1U << CAP_SYS_ADMIN);
	data[0].inheritable &= ~(1U << CAP_SYS_ADMIN);
	if (syscall(SYS_capset, &hdr, data) == -1)
		_exit(98);
}

/* net hands us its connected socket; what we write arrives at :25. */
static void
talk_net(struct kid *k)
{
	char buf[8];
	int  s, a;

	if (wait_readable(k->fd) == -1 || (s = recv_fd(k->fd)) == -1) {
		check(0, "net: passes its socket (SCM_RIGHTS)");
		return;
	}
	check(write(s, "ping", 4) == 4, "net: socket received by us");
	if ((a = accept(listen25, NULL, NULL)) == -1) {
		check(0, "net: accept on :25");
		close(s);
		return;
	}
	check(wait_readable(a) == 0 && read(a, buf, 4) == 4 &&
	        memcmp(buf, "ping", 4) == 0,
	    "net: connect to 127.0.0.1:25 allowed, data flows");
	close(a);
	close(s);
}

/* tls receives a socket from us and writes on it. */
static void
talk_tls(struct kid *k)
{
	char buf[8];
	int  sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		die("socketpair");
	check(send_fd(k->fd, sp[1]) == 0, "tls: sent it a descriptor");
	close(sp[1]);
	check(wait_readable(sp[0]) == 0 && read(sp[0], buf, 3) == 3 &&
	        memcmp(buf, "tls", 3) == 0,
	    "tls: received descriptor (recvmsg) and wrote on it");
	close(sp[0]);
}

static void
test_alive(enum proc_id proc)
{
	struct kid  k;
	const char *name = procnames[proc];
	char        c;
	int         status, waited;

	spawn(&k, proc, NULL, 1, 0);
	if (wait_readable(k.fd) == -1 || read(k.fd, &c, 1) != 1 || c != 'R') {
		check(0, "%s: locks down and reports ready", name);
		(void)wait_kid(k.pid, &status);
		close(k.fd);
		return;
	}
	check(1, "%s: locked down, write on its socketpair works", name);
	check_proc(&k);
	if (write(k.fd, "G", 1) != 1)
		die("write");
	if (proc == PROC_NET)
		talk_net(&k);
	else if (proc == PROC_TLS)
		talk_tls(&k);
	waited = wait_kid(k.pid, &status);
	check(waited == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: allowed work done, clean exit() (status 0x%x)", name, status);
	close(k.fd);
}

static void
read_stderr(struct kid *k, char *buf, size_t len)
{
	ssize_t n;

	if ((n = pread(k->errfd, buf, len - 1, 0)) < 0)
		n = 0;
	buf[n] = '\0';
}

/* Check the frame the SIGSYS handler wrote; 1 if it named the call. */
static int
read_death(struct kid *k, const struct killcase *kc)
{
	unsigned char            buf[DEATH_LEN + 8];
	struct msg_sandbox_death d;
	uint32_t                 type, len, id;
	uint16_t                 sender, flags;
	const char              *name;
	ssize_t                  n;

	if (wait_readable(k->fd) == -1 ||
	    (n = read(k->fd, buf, sizeof(buf))) != (ssize_t)DEATH_LEN)
		return 0;
	memcpy(&type, buf, 4);
	memcpy(&len, buf + 4, 4);
	memcpy(&id, buf + 8, 4);
	memcpy(&sender, buf + 12, 2);
	memcpy(&flags, buf + 14, 2);
	memcpy(&d, buf + FRAME_HDR_SIZE, sizeof(d));
	if (type != MSG_SANDBOX_DEATH || len != DEATH_LEN || id != 0 ||
	    sender != k->proc || flags != 0 || d.arch != seccomp_arch_native())
		return 0;
	name = sandbox_syscall_name(d.syscall_nr);
	printf("     %s: killed by sandbox: syscall %d (%s)\n",
	    procnames[k->proc], (int)d.syscall_nr, name ? name : "?");
	return name != NULL && strcmp(name, kc->syscall) == 0;
}

static void
test_kill(const struct killcase *kc)
{
	struct kid  k;
	const char *name = procnames[kc->proc];
	char        errbuf[512], c;
	int         status, framed = 0, quiet;

	spawn(&k, kc->proc, kc->test, kc->report, 1);
	if (kc->syscall != NULL && kc->report)
		framed = read_death(&k, kc);
	if (wait_kid(k.pid, &status) == -1) {
		check(0, "%s: %s: child hung", name, kc->test);
		goto out;
	}
	read_stderr(&k, errbuf, sizeof(errbuf));
	if (errbuf[0] != '\0')
		printf("     %s: stderr: %s", name, errbuf);
	/* No frame may arrive unless the sandbox killed by SIGSYS. */
	quiet = kc->report == 0 || kc->syscall != NULL ||
	    (wait_readable(k.fd) == 0 && read(k.fd, &c, 1) == 0);
	if (kc->syscall != NULL && kc->report)
		check(
		    framed && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		    "%s: %s: killed by SIGSYS, death frame names %s", name,
		    kc->test, kc->syscall);
	else if (kc->sig == SIGSYS)
		check(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS &&
		        strstr(errbuf, "forbidden system call") != NULL,
		    "%s: %s: killed by SIGSYS, reported on stderr", name,
		    kc->test);
	else if (kc->sig != 0)
		check(
		    WIFSIGNALED(status) && WTERMSIG(status) == kc->sig && quiet,
		    "%s: %s: dies by signal %d, not by the sandbox", name,
		    kc->test, kc->sig);
	else
		check(WIFEXITED(status) && WEXITSTATUS(status) == kc->code &&
		        quiet,
		    "%s: %s: exit %d (%s)", name, kc->test, kc->code,
		    kc->code ? strerror(kc->code) : "allowed");
out:
	close(k.fd);
	close(k.errfd);
}

static void
check_tmpdir_empty(void)
{
	struct dirent *de;
	DIR           *d;
	int            n = 0;

	if ((d = opendir(tmpdir)) == NULL)
		die("opendir %s", tmpdir);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			printf("     left behind: %s/%s\n", tmpdir, de->d_name);
			n++;
		}
	closedir(d);
	check(n == 0, "nothing left in TMPDIR after all children");
	(void)rmdir(tmpdir);
}

int
main(void)
{
	size_t i;
	int    p;

	if (geteuid() != 0) {
		fprintf(stderr, "sbtest: must run as root\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup();
	/* the ssh process runs ssh(1): t_proxy.sh checks it (X9) */
	for (p = PROC_DNS; p <= PROC_TLS; p++)
		test_alive((enum proc_id)p);
	test_alive(PROC_PARENT);
	printf("     again without CAP_SYS_ADMIN (no mount namespace):\n");
	no_sys_admin = 1;
	test_alive(PROC_TLS);
	no_sys_admin = 0;
	for (i = 0; i < sizeof(killcases) / sizeof(killcases[0]); i++)
		test_kill(&killcases[i]);
	check_tmpdir_empty();
	printf("# test_sandbox: %d passed, %d failed\n", npass, nfail);
	return nfail == 0 ? 0 : 1;
}
