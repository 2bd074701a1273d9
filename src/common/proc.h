/*
 * The entry points of the children (the ssh process runs only with an
 * ssh:// proxy).  Each one initialises its
 * libraries, locks itself down with sandbox_lock() and then runs its
 * loop; none of them returns.
 */
#ifndef MXC_PROC_H
#define MXC_PROC_H

#include <sys/types.h>
#include <sys/socket.h>

#include <signal.h>
#include <stdint.h>

#include "sandbox.h"

#define RESOLVERS_MAX 3 /* as glibc: the first three of resolv.conf */

/* The resolvers dns asks, chosen by the parent (resolver.c). */
struct resolver_cfg {
	struct sockaddr_storage addr[RESOLVERS_MAX];
	socklen_t               len[RESOLVERS_MAX];
	int                     n;
};

/* The one program the ssh process may run (make SSH_PATH=...). */
#ifndef SSH_PATH
#define SSH_PATH "/usr/bin/ssh"
#endif

enum proxy_kind { PROXY_NONE = 0, PROXY_SOCKS5, PROXY_SSH };

#define PROXY_CRED_MAX 256 /* RFC 1929: 1..255 octets, plus NUL */

/*
 * --proxy or MXCLIENT_PROXY, parsed by the parent (proxy.c).  A SOCKS5
 * proxy's address is resolved before the children start; ssh resolves
 * its own host.  Only net (SOCKS5) and ssh keep the credentials: the
 * other children wipe them right after fork.
 */
struct proxy_cfg {
	int      kind;                   /* enum proxy_kind */
	char     host[NAME_MAX_LEN + 1]; /* as given, without [] */
	uint16_t port;
	uint8_t  family; /* SOCKS5: 4 or 6, the proxy's address */
	uint8_t  addr[16];
	char     user[PROXY_CRED_MAX]; /* SOCKS5 user or ssh login, or "" */
	char     pass[PROXY_CRED_MAX]; /* SOCKS5 only */
	char     text[PROXY_CRED_MAX + NAME_MAX_LEN + 32]; /* no password */
};

/* What a child inherits from the parent besides its descriptors. */
struct child_cfg {
	struct sandbox_cfg  sb;
	struct resolver_cfg resolvers;
	uint32_t            dns_timeout; /* seconds per query try */
	char                dnssec_probe[NAME_MAX_LEN + 1]; /* D6, "" = none */
	int                 log_flags;     /* JOB_VERBOSE, JOB_QUIET */
	char                ca_file[1024]; /* the WebPKI store (MTA-STS) */
	struct proxy_cfg    proxy;
	sigset_t            sigmask; /* to restore after fork */
};

/*
 * The descriptors a child starts with, by name; -1 where it has none.
 * Its SIGSYS report channel is cfg->sb.death_fd, its ready pipe
 * cfg->sb.ready_fd (sandbox.h).
 */
struct child_fds {
	int parent; /* frames to the parent (logs; tls: the job, the result) */
	int dns;    /* tls: to dns */
	int net;    /* tls: to net */
	int tls;    /* dns, net: to tls */
	int ssh;    /* net: to the ssh process (ssh:// only) */
	int peer;   /* ssh: to net */
};

void dns_main(const struct child_fds *, const struct child_cfg *)
    __attribute__((noreturn));
void net_main(const struct child_fds *, const struct child_cfg *)
    __attribute__((noreturn));
void tls_main(const struct child_fds *, const struct child_cfg *)
    __attribute__((noreturn));
void ssh_main(const struct child_fds *, const struct child_cfg *)
    __attribute__((noreturn));

#endif
