/*
 * dnsdrv: a per-process test driver for dns.  It forks the real
 * dns_main() over socketpairs, plays both the parent (log frames) and
 * tls (MX and host requests) with real frames, and prints what dns
 * decided, one line per fact, for the lab tests to check:
 *
 *	mx STATUS secure=0|1 validating=0|1 waves=N expanded=NAME
 *	host NAME pref=N status=STATUS policy=P base=B cname=0|1
 *	    addrsecure=0|1 addrs=N tlsa=N waves=N reason=TEXT
 *	log TEXT
 *
 * usage: dnsdrv [-r resolver[#port]] [-p probe] domain
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "parent.h"
#include "proc.h"

#define WAIT_MS 60000

static struct chan tls, parent;

/* Log frames from dns come on the parent channel: print them. */
static void
drain_logs(void)
{
	struct frame   f;
	struct msg_log l;

	while (chan_read(&parent) == 1 && chan_get(&parent, &f) == 1) {
		memcpy(&l, f.data, sizeof(l));
		printf("log %s%s\n", l.level == LOGL_WARN ? "warning: " : "",
		    frame_str(&f, sizeof(l)));
	}
}

static void
next(struct frame *f, uint32_t id)
{
	int r = chan_wait(&tls, f, WAIT_MS);

	drain_logs();
	if (r != 1 || f->id != id) {
		fprintf(stderr, "dnsdrv: no answer from dns: %s\n",
		    tls.err ? tls.err : "timeout");
		exit(2);
	}
}

static void
ask(uint32_t type, uint32_t id, const char *name)
{
	if (chan_compose(&tls, type, id, -1, name, strlen(name) + 1) == -1)
		exit(2);
}

static void
print_host(const struct msg_mx_host *mx, uint32_t id)
{
	struct msg_host_policy p;
	struct msg_dns_end     e;
	struct frame           f;
	int                    addrs = 0, tlsa = 0;
	size_t                 longest = 0;

	ask(MSG_HOST_REQ, id, mx->name);
	for (next(&f, id); f.type != MSG_HOST_END; next(&f, id)) {
		if (f.type == MSG_HOST_ADDR)
			addrs++;
		else if (f.type == MSG_HOST_TLSA) {
			tlsa++;
			if (f.len - sizeof(struct msg_tlsa) > longest)
				longest = f.len - sizeof(struct msg_tlsa);
		} else if (f.type == MSG_HOST_POLICY)
			memcpy(&p, f.data, sizeof(p));
	}
	memcpy(&e, f.data, sizeof(e));
	printf("host %s pref=%u status=%s policy=%s base=%s cname=%d "
	       "addrsecure=%d addrs=%d tlsa=%d usable=%u longest=%zu waves=%u "
	       "reason=%s\n",
	    mx->name, mx->pref, dns_status_name(e.status),
	    policy_name(p.policy), p.base[0] ? p.base : "-",
	    (p.flags & HP_CNAME) != 0, (p.flags & HP_ADDR_SECURE) != 0, addrs,
	    tlsa, p.nusable, longest, p.waves, p.reason);
}

static int
run(const char *domain)
{
	struct msg_mx_host hosts[64];
	struct msg_mx_info info;
	struct msg_dns_end e;
	struct frame       f;
	size_t             n = 0, i;

	memset(&info, 0, sizeof(info));
	ask(MSG_MX_REQ, 1, domain);
	for (next(&f, 1); f.type != MSG_MX_END; next(&f, 1)) {
		if (f.type == MSG_MX_INFO)
			memcpy(&info, f.data, sizeof(info));
		else if (f.type == MSG_MX_HOST && n < 64)
			memcpy(&hosts[n++], f.data, sizeof(hosts[0]));
	}
	memcpy(&e, f.data, sizeof(e));
	printf("mx %s secure=%d validating=%d waves=%u expanded=%s\n",
	    dns_status_name(e.status), (info.flags & MXI_SECURE) != 0,
	    (info.flags & MXI_VALIDATING) != 0, info.waves,
	    info.expanded[0] ? info.expanded : "-");
	for (i = 0; i < n; i++)
		print_host(&hosts[i], 2 + i);
	return 0;
}

int
main(int argc, char **argv)
{
	struct child_cfg cfg;
	int              a[2], b[2], d[2], ch, status;
	const char      *resolver = "127.0.0.1", *why;
	pid_t            pid;

	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.dnssec_probe, ".");
	while ((ch = getopt(argc, argv, "p:r:")) != -1) {
		if (ch == 'p')
			snprintf(cfg.dnssec_probe, sizeof(cfg.dnssec_probe),
			    "%s", strcmp(optarg, "none") ? optarg : "");
		else if (ch == 'r')
			resolver = optarg;
		else
			return 2;
	}
	if (optind + 1 != argc)
		return 2;
	if ((why = resolver_setup(resolver, NULL, &cfg.resolvers)) != NULL) {
		fprintf(stderr, "dnsdrv: -r %s: %s\n", resolver, why);
		return 2;
	}
	cfg.dns_timeout = 2;
	cfg.sb.death_fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, d) == -1)
		return 2;
	if ((pid = fork()) == 0) {
		close(a[0]);
		close(b[0]);
		close(d[0]);
		struct child_fds fds = { a[1], -1, -1, b[1], -1, -1 };

		cfg.sb.death_fd = d[1];
		dns_main(&fds, &cfg);
	}
	close(a[1]);
	close(b[1]);
	close(d[1]);
	chan_init(&parent, a[0], PROC_PARENT, PROC_DNS, "parent");
	chan_init(&tls, b[0], PROC_TLS, PROC_DNS, "tls");
	run(argv[optind]);
	chan_close(&tls); /* dns exits when tls goes */
	waitpid(pid, &status, 0);
	drain_logs();
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 3;
}
