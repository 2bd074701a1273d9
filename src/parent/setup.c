/*
 * What the command line decides, before any child starts: the addresses
 * checked (64), the configuration file read (mxclient.conf), the
 * resolvers and the proxy chosen (a bad choice is 78, a configuration
 * error), the EHLO name and sender, the user the children run as when
 * started as root.  Nothing here opens a socket.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <tls.h>

#include "conf.h"
#include "log.h"
#include "parent.h"
#include "proc.h"

#define DNS_TIMEOUT 5

static void
check_address(const char *what, const char *a, int nullok)
{
	const char *why;

	if ((why = addr_check(a, nullok)) != NULL) {
		config_exit(EX_USAGE, "bad %s address: %s", what, why);
	}
}

static const char *
helo_check(const char *name)
{
	char probe[NAME_MAX_LEN + 3];

	if (snprintf(probe, sizeof(probe), "x@%s", name) >= (int)sizeof(probe))
		return "name too long";
	return addr_check(probe, 0);
}

/* This host's name if it is an FQDN; else "" (tls uses [address]). */
static void
default_helo(char *buf, size_t len)
{
	if (gethostname(buf, len) == -1 || strchr(buf, '.') == NULL ||
	    helo_check(buf) != NULL)
		buf[0] = '\0';
}

static void
default_sender(struct options *o, const char *fqdn)
{
	static char    buf[300];
	struct passwd *pw;

	if (o->sender != NULL)
		return;
	if (*fqdn == '\0' || (pw = getpwuid(getuid())) == NULL) {
		config_exit(EX_USAGE,
		    "no -f sender given and this host has no FQDN to build one");
	}
	snprintf(buf, sizeof(buf), "%s@%s", pw->pw_name, fqdn);
	o->sender = buf;
}

/*
 * The resolvers dns will ask (resolver.c).  AD bits from a resolver off
 * this host cross the network unauthenticated (D1): a warning, and under
 * --dane-only a configuration error, unless --trust-remote-resolver says
 * the path to it is protected (an IPsec or WireGuard tunnel, say).
 */
static void
setup_resolvers(const struct options *o, struct child_cfg *cfg)
{
	char        text[64];
	const char *why, *remote;

	if ((why = resolver_setup(o->resolver, NULL, &cfg->resolvers)) !=
	    NULL) {
		if (o->resolver != NULL)
			config_exit(EX_CONFIG, "bad --resolver %s: %s",
			    o->resolver, why);
		config_exit(EX_CONFIG, "%s: no resolver to use", why);
	}
	if ((remote = resolver_remote(&cfg->resolvers, text, sizeof(text))) ==
	        NULL ||
	    o->trust_remote)
		return;
	if (o->flags & JOB_DANE_ONLY) {
		config_exit(EX_CONFIG,
		    "--dane-only needs a validating resolver on this host, and %s is not: the DNSSEC answers would cross the network unauthenticated (--trust-remote-resolver if the path to it is protected)",
		    remote);
	}
	fprintf(stderr,
	    "mxclient: warning: resolver %s is not on this host: its DNSSEC answers cross the network unauthenticated\n",
	    remote);
}

/*
 * --proxy, else MXCLIENT_PROXY ("none" or "" for a direct connection).
 * A bad URL is a usage error on the command line, a configuration
 * error in the environment; an unresolvable proxy name may be
 * temporary.  There is never a fallback to a direct connection.
 */
static void
setup_proxy(struct options *o, struct child_cfg *cfg)
{
	const char *url = o->proxy, *why, *from = "--proxy";
	int         bad = EX_USAGE;

	if (url == NULL && (url = getenv("MXCLIENT_PROXY")) != NULL)
		from = "MXCLIENT_PROXY", bad = EX_CONFIG;
	else if (url == NULL && (url = o->conf_proxy) != NULL)
		from = "proxy in the configuration file", bad = EX_CONFIG;
	if (url == NULL)
		return;
	if ((why = proxy_parse(url, &cfg->proxy)) != NULL) {
		if (o->proxy != NULL)
			proxy_scrub(o->proxy);
		config_exit(bad, "bad %s: %s", from, why);
	}
	/* neither ps(1) nor /proc/PID/environ shows a password now */
	if (o->proxy != NULL)
		proxy_scrub(o->proxy);
	if (getenv("MXCLIENT_PROXY") != NULL)
		proxy_scrub(getenv("MXCLIENT_PROXY"));
	if ((why = proxy_resolve(&cfg->proxy)) != NULL) {
		config_exit(EX_TEMPFAIL, "proxy %s: %s", cfg->proxy.text, why);
	}
}

/*
 * --chroot: a directory the children can be locked into, checked now so
 * that a wrong one is a configuration error (78), not a child dying in
 * its sandbox (75, retried for ever): it must exist, be a directory
 * owned by root that nobody else may write, and be empty (whatever is
 * in it would be visible to every child).
 */
static void
check_chroot(const char *dir)
{
	struct stat    st;
	struct dirent *de;
	const char    *why = NULL;
	DIR           *d;

	if (stat(dir, &st) == -1)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	else if (st.st_uid != 0)
		why = "not owned by root";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		why = "writable by others than root";
	else if ((d = opendir(dir)) == NULL)
		why = strerror(errno);
	else {
		while (why == NULL && (de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				why = "not empty";
		closedir(d);
	}
	if (why == NULL)
		return;
	config_exit(EX_CONFIG,
	    "--chroot %s: %s (it must be an empty directory owned by root, writable by nobody else)",
	    dir, why);
}

static void
setup_privdrop(const struct options *o, struct child_cfg *cfg)
{
	struct passwd *pw;

	if (o->chroot_dir != NULL)
		check_chroot(o->chroot_dir);
	if (geteuid() != 0)
		return;
	if ((pw = getpwnam(o->user ? o->user : "nobody")) == NULL) {
		config_exit(
		    EX_CONFIG, "unknown user %s", o->user ? o->user : "nobody");
	}
	if (pw->pw_uid == 0) {
		config_exit(EX_CONFIG, "--user must not be root");
	}
	cfg->sb.drop = 1;
	cfg->sb.uid = pw->pw_uid;
	cfg->sb.gid = pw->pw_gid;
	cfg->sb.chroot_dir = o->chroot_dir;
}

/* The timeout of one stage: --timeout, else the default above. */

/* A proxy by ssh needs --user as root, and an EHLO name by address. */
static void
check_ssh_proxy(const struct options *o, const struct child_cfg *cfg)
{
	if (cfg->proxy.kind != PROXY_SSH)
		return;
	if (geteuid() == 0 && o->user == NULL) {
		config_exit(EX_CONFIG,
		    "as root, --proxy ssh:// needs --user NAME: the account whose ~/.ssh has the key (ssh never runs as root)");
	}
	if (o->helo[0] == '\0' && !proxy_numeric(&cfg->proxy)) {
		config_exit(EX_CONFIG,
		    "through ssh://%s the MX's view of our address is unknown and this host has no FQDN: give --helo NAME",
		    cfg->proxy.host);
	}
}

/*
 * mxclient.conf(5): what the command line did not set.  A file that is
 * named (--config, MXCLIENT_CONF) must be readable; a bad line is a
 * configuration error with its file and line.
 */
static void
read_config(struct options *o)
{
	static struct conf c;
	char               err[CONF_PATH_MAX + 128];

	conf_init(&c);
	if (conf_load(o->config, &c, err, sizeof(err)) != CONF_OK) {
		config_exit(EX_CONFIG, "%s", err);
	}
	if (o->resolver == NULL && c.resolver[0] != '\0')
		o->resolver = c.resolver;
	if (o->helo == NULL && c.helo[0] != '\0')
		o->helo = c.helo;
	if (c.proxy[0] != '\0')
		o->conf_proxy = c.proxy; /* after --proxy and MXCLIENT_PROXY */
	if (o->user == NULL && c.user[0] != '\0')
		o->user = c.user;
	if (c.syslog_socket[0] != '\0')
		snprintf(o->syslog_socket, sizeof(o->syslog_socket), "%s",
		    c.syslog_socket);
	if (c.dane_only)
		o->flags |= JOB_DANE_ONLY;
}

/*
 * The WebPKI store for MTA-STS (Y18): --ca-file, else libtls's default
 * bundle.  A --ca-file that cannot be read is a configuration error.
 */
static void
setup_webpki(const struct options *o, struct child_cfg *cfg)
{
	const char *f = o->ca_file ? o->ca_file : tls_default_ca_cert_file();

	if (o->ca_file != NULL && access(o->ca_file, R_OK) == -1) {
		config_exit(
		    EX_CONFIG, "--ca-file %s: %s", o->ca_file, strerror(errno));
	}
	snprintf(cfg->ca_file, sizeof(cfg->ca_file), "%s", f);
}

/*
 * Everything the command line decides, in *o and *cfg; exits 64 (usage),
 * 78 (configuration) or 75 (a proxy name that does not resolve now).
 */
void
configure(int argc, char **argv, struct options *o, struct child_cfg *cfg)
{
	const char *why;

	memset(o, 0, sizeof(*o));
	o->status_fd = -1;
	o->lock_fd = -1;
	memset(cfg, 0, sizeof(*cfg));
	exit_report_scan(argc, argv);
	parse_args(argc, argv, o);
	exit_report_set(o);
	read_config(o);
	check_address("recipient", o->rcpt, 0);
	if (o->helo != NULL && (why = helo_check(o->helo)) != NULL) {
		config_exit(EX_USAGE, "bad --helo name: %s", why);
	}
	default_helo(o->fqdn, sizeof(o->fqdn));
	if (o->helo == NULL)
		o->helo = o->fqdn;
	default_sender(o, o->helo);
	check_address("sender", o->sender, 1);
	cfg->dns_timeout = o->dns_timeout ? o->dns_timeout : DNS_TIMEOUT;
	snprintf(cfg->dnssec_probe, sizeof(cfg->dnssec_probe), "%s",
	    o->probe ? o->probe : ".");
	if (strcmp(cfg->dnssec_probe, "none") == 0)
		cfg->dnssec_probe[0] = '\0';
	cfg->log_flags = o->flags & (JOB_VERBOSE | JOB_QUIET);
	setup_webpki(o, cfg);
	cfg->sb.death_fd = -1;
	setup_resolvers(o, cfg);
	setup_proxy(o, cfg);
	check_ssh_proxy(o, cfg);
	setup_privdrop(o, cfg);
}
