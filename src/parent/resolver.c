/*
 * Which resolvers dns asks, decided by the parent before any child
 * starts, so that a bad choice is a configuration error (78) and not a
 * dns process that dies (75, retried for ever): --resolver ADDR[#PORT],
 * else the nameservers of resolv.conf (read with ldns: no search list,
 * M1).  Only IP addresses: a resolver found by name would need a
 * resolver.  The AD bits dns trusts are only as good as the path to the
 * resolver (D1), so the parent also says whether that path leaves this
 * host.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ldns/ldns.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parent.h"
#include "proc.h"

/* One address with its port; -1 if text is no IP address. */
static int
resolver_add(struct resolver_cfg *r, const char *text, uint16_t port)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&r->addr[r->n];
	struct sockaddr_in  *s4 = (struct sockaddr_in *)&r->addr[r->n];

	if (r->n == RESOLVERS_MAX)
		return 0; /* as glibc: the first three */
	memset(&r->addr[r->n], 0, sizeof(r->addr[r->n]));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		r->len[r->n++] = sizeof(*s4);
	} else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		r->len[r->n++] = sizeof(*s6);
	} else
		return -1;
	return 0;
}

/* --resolver ADDR[#PORT]; NULL, or what is wrong with it. */
static const char *
resolver_spec(const char *spec, struct resolver_cfg *r)
{
	const char *hash = strchr(spec, '#');
	char        addr[INET6_ADDRSTRLEN];
	size_t      alen = hash ? (size_t)(hash - spec) : strlen(spec);
	char       *end;
	long        port = 53;

	if (hash != NULL) {
		port = strtol(hash + 1, &end, 10);
		if (*end != '\0' || end == hash + 1 || port < 1 || port > 65535)
			return "want ADDR[#PORT], PORT 1 to 65535";
	}
	if (alen == 0 || alen >= sizeof(addr))
		return "want ADDR[#PORT], ADDR an IPv4 or IPv6 address";
	memcpy(addr, spec, alen);
	addr[alen] = '\0';
	if (resolver_add(r, addr, (uint16_t)port) == -1)
		return "not an IP address (a resolver cannot be found by name)";
	return NULL;
}

/* The nameservers of resolv.conf, as ldns reads it. */
static const char *
resolver_file(const char *path, struct resolver_cfg *r)
{
	static char    why[160];
	ldns_resolver *lr;
	ldns_rdf     **ns;
	size_t         i;
	char          *text;

	if (ldns_resolver_new_frm_file(&lr, path) != LDNS_STATUS_OK) {
		snprintf(why, sizeof(why), "cannot read %s",
		    path ? path : "/etc/resolv.conf");
		return why;
	}
	ns = ldns_resolver_nameservers(lr);
	for (i = 0; i < ldns_resolver_nameserver_count(lr); i++) {
		if ((text = ldns_rdf2str(ns[i])) == NULL)
			continue;
		(void)resolver_add(r, text, ldns_resolver_port(lr));
		free(text);
	}
	ldns_resolver_deep_free(lr);
	if (r->n == 0) {
		snprintf(why, sizeof(why), "no nameserver in %s",
		    path ? path : "/etc/resolv.conf");
		return why;
	}
	return NULL;
}

/* NULL and the resolvers in *r, or why there are none. */
const char *
resolver_setup(const char *spec, const char *path, struct resolver_cfg *r)
{
	memset(r, 0, sizeof(*r));
	return spec != NULL ? resolver_spec(spec, r) : resolver_file(path, r);
}

static int
is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in  *s4 = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
}

/* The first resolver that is not on this host, as text, or NULL. */
const char *
resolver_remote(const struct resolver_cfg *r, char *buf, size_t len)
{
	const void *a;
	int         i;

	for (i = 0; i < r->n; i++) {
		if (is_loopback(&r->addr[i]))
			continue;
		a = r->addr[i].ss_family == AF_INET
		    ? (const void *)&((const struct sockaddr_in *)&r->addr[i])
		          ->sin_addr
		    : (const void *)&((const struct sockaddr_in6 *)&r->addr[i])
		          ->sin6_addr;
		return inet_ntop(r->addr[i].ss_family, a, buf, len);
	}
	return NULL;
}
