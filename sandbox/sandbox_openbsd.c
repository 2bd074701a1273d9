/*
 * OpenBSD lock-down, in two pledges as the privsep daemons do: a wide
 * one for the whole set-up (sandbox_start(), the parent's first step,
 * inherited by every child), then in each process rlimits, setres*id,
 * unveil hiding the whole filesystem, and a narrow pledge for its loop.
 * There is no chroot here: pledge forbids chroot(2) once a process is
 * pledged, and unveil("/", "") hides every path anyway.  A pledge
 * violation kills the process with SIGABRT and the kernel logs the call,
 * so there is no SIGSYS report and cfg->death_fd is not used; neither is
 * the test mode.  This file has been written, not compiled (README).
 */
#ifdef __OpenBSD__

#include <err.h>
#include <stddef.h>
#include <unistd.h>

#include "sandbox_priv.h"

/*
 * pledge's "dns" promise only covers libc's resolver; ldns opens its
 * own sockets, so dns needs "inet".  Only the socket hand-off passes a
 * descriptor: net sends it, tls receives it.
 */
static const char *const sb_promises[PROC_COUNT] = {
	[PROC_PARENT] = "stdio proc", /* kill() the children */
	[PROC_DNS] = "stdio inet",
	/* the socket to tls; through ssh it comes from the ssh process */
	[PROC_NET] = "stdio inet sendfd recvfd",
	[PROC_TLS] = "stdio recvfd",
	/* fork and exec ssh(1), pass its stream to net */
	[PROC_SSH] = "stdio sendfd proc exec",
};

/*
 * The set-up: read resolv.conf, the OpenSSL configuration and localtime
 * (rpath), spool the message in TMPDIR (wpath cpath tmppath), fork the
 * children (proc) and, for an ssh proxy, exec ssh (exec), look up --user
 * (getpw) and switch to it (id), resolve a proxy's name (dns), open
 * sockets (inet unix), pass the stream (sendfd recvfd), unveil.
 */
void
sandbox_start(void)
{
	if (pledge("stdio rpath wpath cpath tmppath proc exec id getpw dns "
	           "inet unix sendfd recvfd unveil",
	        NULL) == -1)
		err(1, "sandbox: pledge");
}

/* pledge has no port rules: net's own check is all there is. */
void
sandbox_narrow_port(enum proc_id proc, uint16_t port)
{
	(void)proc;
	(void)port;
}

/* Nothing for all processes to share: pledge has no such state. */
void
sandbox_prepare(const struct sandbox_cfg *cfg)
{
	(void)cfg;
}

void
sandbox_lock(enum proc_id proc, const struct sandbox_cfg *cfg)
{
	const char *name = sb_procname(proc);

	sb_check_cfg(proc, cfg);
	sb_rlimits(proc);
	/*
	 * The ssh process is not chrooted (ssh needs the keys) and sees one
	 * path, the ssh binary, for execution only.  unveil and pledge end
	 * at execve() (no execpromises): ssh then confines itself.
	 */
	if (proc == PROC_SSH) {
		if (cfg->drop)
			sb_drop_privs(proc, cfg); /* --user, never root */
		if (unveil(cfg->exec_path, "x") == -1)
			err(1, "sandbox: %s: unveil %s", name, cfg->exec_path);
	} else if (cfg->drop)
		sb_drop_privs(proc, cfg); /* no chroot once pledged: unveil */
	/*
	 * unveil(NULL, NULL) alone only locks the unveil state; hiding "/"
	 * first is what makes every path invisible (the parent is not
	 * chrooted).
	 */
	if (unveil("/", "") == -1)
		err(1, "sandbox: %s: unveil /", name);
	if (unveil(NULL, NULL) == -1)
		err(1, "sandbox: %s: unveil", name);
	if (pledge(sb_promises[proc], NULL) == -1)
		err(1, "sandbox: %s: pledge", name);
	sb_ready(cfg);
}

const char *
sandbox_describe(void)
{
	return "sandbox: pledge and unveil (no file system access)";
}

/* pledge reports violations itself; there is no number to name. */
const char *
sandbox_syscall_name(int nr)
{
	(void)nr;
	return NULL;
}

#endif /* __OpenBSD__ */
