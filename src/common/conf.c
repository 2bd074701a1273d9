/*
 * The configuration file shared by mxclient and mxqueue (mxclient.conf(5)).
 * The whole file is read into memory and parsed line by line; the first
 * bad line stops the parse and is reported as "file:line: what".  A
 * missing default file is no error (every setting has a default); a file
 * named by the caller or by MXCLIENT_CONF must exist.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "parent.h"

#define CONF_FILE_MAX (1024 * 1024)
#define DAY           86400u

struct conf_key;
typedef const char *(*conf_setter)(
    struct conf *, const struct conf_key *, const char *);

struct conf_key {
	const char *name;
	conf_setter set;
	size_t      off;      /* member of struct conf */
	size_t      size;     /* its size, for strings */
	uint32_t    min, max; /* for numbers and durations */
	int         time;     /* a duration: units allowed */
};

/* Postfix's defaults where mxqueue has a counterpart (see mxqueue(8)). */
void
conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->spool, sizeof(c->spool), "/var/spool/mxqueue");
	c->parallelism = 4;
	c->domain_parallelism = 2;
	c->retry_first = 300;
	c->retry_max = 3600;
	c->lifetime = 5 * DAY;
	c->long_lines = CONF_LONG_REFUSE;
}

static char *
member(struct conf *c, const struct conf_key *k)
{
	return (char *)c + k->off;
}

/* Printable ASCII, no spaces: every string value. */
static const char *
set_str(struct conf *c, const struct conf_key *k, const char *v)
{
	const char *p;

	if (*v == '\0')
		return "empty value";
	for (p = v; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~')
			return "spaces, control or non-ASCII characters";
	if (strlen(v) >= k->size)
		return "value too long";
	memcpy(member(c, k), v, strlen(v) + 1);
	return NULL;
}

static const char *
set_path(struct conf *c, const struct conf_key *k, const char *v)
{
	if (v[0] != '/')
		return "not an absolute path";
	return set_str(c, k, v);
}

/* A unix socket's path: absolute, and short enough for sun_path. */
static const char *
set_socket(struct conf *c, const struct conf_key *k, const char *v)
{
	if (strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return "longer than a socket's path may be (107 octets)";
	return set_path(c, k, v);
}

/* A host or domain name: the domain part of a valid address. */
static const char *
set_host(struct conf *c, const struct conf_key *k, const char *v)
{
	char        a[CONF_STR_MAX + 8];
	const char *why;

	if (strlen(v) >= k->size)
		return "value too long";
	snprintf(a, sizeof(a), "x@%s", v);
	if ((why = addr_check(a, 0)) != NULL)
		return why;
	return set_str(c, k, v);
}

static const char *
set_addr(struct conf *c, const struct conf_key *k, const char *v)
{
	const char *why;

	if ((why = addr_check(v, 0)) != NULL)
		return why;
	return set_str(c, k, v);
}

/* An IPv4 or IPv6 address, optionally "#PORT" (mxclient's --resolver). */
static const char *
set_resolver(struct conf *c, const struct conf_key *k, const char *v)
{
	char          a[INET6_ADDRSTRLEN + 8];
	unsigned char buf[16];
	const char   *hash = strchr(v, '#');
	size_t        alen = hash ? (size_t)(hash - v) : strlen(v);
	char         *end;
	unsigned long port;

	if (alen == 0 || alen >= sizeof(a))
		return "want ADDRESS[#PORT]";
	memcpy(a, v, alen);
	a[alen] = '\0';
	if (inet_pton(AF_INET, a, buf) != 1 && inet_pton(AF_INET6, a, buf) != 1)
		return "not an IPv4 or IPv6 address";
	if (hash != NULL) {
		errno = 0;
		port = strtoul(hash + 1, &end, 10);
		if (hash[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
			return "port must be 1 to 65535";
	}
	return set_str(c, k, v);
}

/* The scheme only; mxclient parses the rest (its --proxy rules, X1). */
static const char *
set_proxy(struct conf *c, const struct conf_key *k, const char *v)
{
	if (strcmp(v, "none") != 0 && strncmp(v, "socks5://", 9) != 0 &&
	    strncmp(v, "ssh://", 6) != 0)
		return "want socks5://..., ssh://... or none";
	return set_str(c, k, v);
}

/* A login name as useradd(8) takes it. */
static const char *
set_user(struct conf *c, const struct conf_key *k, const char *v)
{
	const char *p;

	for (p = v; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("._-", *p) == NULL)
			return "a user name has letters, digits, '.', '_', '-'";
	if (v[0] == '-')
		return "a user name cannot start with '-'";
	return set_str(c, k, v);
}

/* Numbers, flags and the long-lines enum are all 32-bit members. */
_Static_assert(sizeof(int) == sizeof(uint32_t) &&
        sizeof(enum conf_longlines) == sizeof(uint32_t),
    "numeric members are 32 bits wide");

static void
set_u32(struct conf *c, const struct conf_key *k, uint32_t v)
{
	memcpy(member(c, k), &v, sizeof(v));
}

static const char *
set_bool(struct conf *c, const struct conf_key *k, const char *v)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "on") == 0)
		set_u32(c, k, 1);
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "off") == 0)
		set_u32(c, k, 0);
	else
		return "want yes or no";
	return NULL;
}

/* A decimal number with an optional unit; *mult is the unit's size. */
static const char *
number(const char *v, const char *units, const uint32_t *mults, uint64_t *out)
{
	const char *u;
	char       *end;

	if (!isdigit((unsigned char)v[0]))
		return "not a number";
	errno = 0;
	*out = strtoull(v, &end, 10);
	if (errno != 0 || *out > UINT32_MAX)
		return "number too large";
	if (*end == '\0')
		return NULL;
	if (end[1] != '\0' || (u = strchr(units, *end)) == NULL || *u == '\0')
		return "bad unit (use s, m, h or d)";
	*out *= mults[u - units];
	return NULL;
}

static const char *
in_range(struct conf *c, const struct conf_key *k, uint64_t n, int time)
{
	static char msg[64];

	if (n < k->min || n > k->max) {
		snprintf(msg, sizeof(msg), "want %u to %u%s", k->min, k->max,
		    time ? " seconds" : "");
		return msg;
	}
	set_u32(c, k, (uint32_t)n);
	return NULL;
}

/* A count, or for a duration key seconds or a number with s, m, h, d. */
static const char *
set_number(struct conf *c, const struct conf_key *k, const char *v)
{
	static const uint32_t mults[] = { 1, 60, 3600, DAY };
	uint64_t              n;
	const char           *why;

	if ((why = number(v, k->time ? "smhd" : "", mults, &n)) != NULL)
		return why;
	return in_range(c, k, n, k->time);
}

static const char *
set_long(struct conf *c, const struct conf_key *k, const char *v)
{
	if (strcmp(v, "refuse") == 0)
		set_u32(c, k, CONF_LONG_REFUSE);
	else if (strcmp(v, "qp") == 0)
		set_u32(c, k, CONF_LONG_QP);
	else
		return "want refuse or qp";
	return NULL;
}

#define STR(m)          offsetof(struct conf, m), sizeof(((struct conf *)0)->m), 0, 0, 0
#define NUM(m, lo, hi)  offsetof(struct conf, m), 0, (lo), (hi), 0
#define TIME(m, lo, hi) offsetof(struct conf, m), 0, (lo), (hi), 1

/* Every key; the index of a row is its bit in conf->set. */
static const struct conf_key conf_keys[] = {
	{ "resolver", set_resolver, STR(resolver) },
	{ "helo", set_host, STR(helo) },
	{ "dane-only", set_bool, NUM(dane_only, 0, 1) },
	{ "proxy", set_proxy, STR(proxy) },
	{ "user", set_user, STR(user) },
	{ "domain", set_host, STR(domain) },
	{ "admin", set_addr, STR(admin) },
	{ "spool", set_path, STR(spool) },
	{ "mxclient", set_path, STR(mxclient) },
	{ "parallelism", set_number, NUM(parallelism, 1, 64) },
	{ "domain-parallelism", set_number, NUM(domain_parallelism, 1, 64) },
	{ "retry-first", set_number, TIME(retry_first, 1, DAY) },
	{ "retry-max", set_number, TIME(retry_max, 1, 7 * DAY) },
	{ "lifetime", set_number, TIME(lifetime, 60, 100 * DAY) },
	{ "delay-warning", set_number, TIME(delay_warning, 0, 100 * DAY) },
	{ "long-lines", set_long, NUM(long_lines, 0, 1) },
	{ "run-on-submit", set_bool, NUM(run_on_submit, 0, 1) },
	{ "syslog-socket", set_socket, STR(syslog_socket) },
};
#define NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))
_Static_assert(NKEYS <= 64, "conf->set has 64 bits");

/* One parse: the file's name and line for messages, and the output. */
struct parse {
	const char   *file;
	unsigned long line;
	struct conf  *c;
	char         *err;
	size_t        errlen;
};

static enum conf_err
bad(struct parse *p, enum conf_err e, const char *what, const char *why)
{
	if (p->errlen > 0)
		snprintf(p->err, p->errlen, "%s:%lu: %s%s%s", p->file, p->line,
		    what, why ? ": " : "", why ? why : "");
	return e;
}

static enum conf_err
setting(struct parse *p, const char *key, const char *val)
{
	const char *why;
	size_t      i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(conf_keys[i].name, key) == 0)
			break;
	if (i == NKEYS)
		return bad(p, CONF_ERR_KEY, "unknown key", key);
	if (p->c->set & (1ULL << i))
		return bad(p, CONF_ERR_TWICE, "set twice", key);
	if ((why = conf_keys[i].set(p->c, &conf_keys[i], val)) != NULL)
		return bad(p, CONF_ERR_VALUE, key, why);
	p->c->set |= 1ULL << i;
	return CONF_OK;
}

/* "a@b, c@d": split in place, each address checked. */
static enum conf_err
targets(struct parse *p, struct conf_alias *a, char *list)
{
	char       *t, *save = NULL;
	const char *why;

	for (t = strtok_r(list, ", \t", &save); t != NULL;
	     t = strtok_r(NULL, ", \t", &save)) {
		if ((why = addr_check(t, 0)) != NULL)
			return bad(p, CONF_ERR_VALUE, t, why);
		if (a->ntargets == CONF_TARGETS_MAX)
			return bad(p, CONF_ERR_VALUE, a->name,
			    "more than 32 addresses");
		if ((a->targets[a->ntargets++] = strdup(t)) == NULL)
			return bad(p, CONF_ERR_NOMEM, "out of memory", NULL);
	}
	if (a->ntargets == 0)
		return bad(p, CONF_ERR_VALUE, a->name, "no address");
	return CONF_OK;
}

static enum conf_err
alias(struct parse *p, char *name, char *list)
{
	struct conf       *c = p->c;
	struct conf_alias *a, *n;
	char              *q;

	for (q = name; *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	if (conf_alias(c, name) != NULL &&
	    strcmp(conf_alias(c, name)->name, name) == 0)
		return bad(p, CONF_ERR_TWICE, "alias set twice", name);
	if (c->naliases == CONF_ALIAS_MAX)
		return bad(p, CONF_ERR_VALUE, "too many aliases", NULL);
	n = realloc(c->aliases, (c->naliases + 1) * sizeof(*n));
	if (n == NULL)
		return bad(p, CONF_ERR_NOMEM, "out of memory", NULL);
	c->aliases = n;
	a = &c->aliases[c->naliases++];
	memset(a, 0, sizeof(*a));
	a->name = strdup(name);
	a->targets = calloc(CONF_TARGETS_MAX, sizeof(char *));
	if (a->name == NULL || a->targets == NULL)
		return bad(p, CONF_ERR_NOMEM, "out of memory", NULL);
	return targets(p, a, list);
}

static char *
trim(char *s)
{
	char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* One line, without its newline and NUL-free. */
static enum conf_err
one_line(struct parse *p, char *s)
{
	size_t n;
	char  *rest;

	s = trim(s);
	if (*s == '\0' || *s == '#')
		return CONF_OK;
	n = strspn(s,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._+-");
	rest = s + n;
	if (n > 0 && *rest == ':') {
		*rest = '\0';
		return alias(p, s, trim(rest + 1));
	}
	rest = trim(rest);
	if (n == 0 || *rest != '=')
		return bad(p, CONF_ERR_SYNTAX,
		    "want \"key = value\" or \"name: address\"", NULL);
	s[n] = '\0';
	return setting(p, s, trim(rest + 1));
}

enum conf_err
conf_parse(const char *file, const char *text, size_t len, struct conf *c,
    char *err, size_t errlen)
{
	struct parse  p = { file, 0, c, err, errlen };
	char          line[CONF_LINE_MAX + 2];
	size_t        i = 0, n;
	enum conf_err e;

	while (i < len) {
		p.line++;
		for (n = 0; i + n < len && text[i + n] != '\n'; n++)
			if (text[i + n] == '\0')
				return bad(
				    &p, CONF_ERR_SYNTAX, "NUL octet", NULL);
		if (n > CONF_LINE_MAX)
			return bad(&p, CONF_ERR_SYNTAX, "line too long", NULL);
		memcpy(line, text + i, n);
		line[n] = '\0';
		if ((e = one_line(&p, line)) != CONF_OK)
			return e;
		i += n + 1;
	}
	return CONF_OK;
}

static enum conf_err
read_all(int fd, char **buf, size_t *len)
{
	struct stat st;
	ssize_t     r;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONF_FILE_MAX)
		return CONF_ERR_READ;
	if ((*buf = malloc((size_t)st.st_size + 1)) == NULL)
		return CONF_ERR_NOMEM;
	*len = 0;
	while ((r = read(fd, *buf + *len, (size_t)st.st_size + 1 - *len)) > 0)
		if ((*len += (size_t)r) > (size_t)st.st_size)
			return CONF_ERR_READ; /* grew while read */
	return r == -1 ? CONF_ERR_READ : CONF_OK;
}

/*
 * path NULL: $MXCLIENT_CONF if set, else the default file, which may be
 * missing.  Any other file must exist and be readable.
 */
enum conf_err
conf_load(const char *path, struct conf *c, char *err, size_t errlen)
{
	const char   *env = getenv(CONF_ENV);
	char         *buf = NULL;
	size_t        len = 0;
	int           fd, named = 1;
	enum conf_err e;

	if (path == NULL && env != NULL && *env != '\0')
		path = env;
	else if (path == NULL) {
		path = CONF_DEFAULT_PATH;
		named = 0;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (!named && errno == ENOENT)
			return CONF_OK;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return CONF_ERR_OPEN;
	}
	if ((e = read_all(fd, &buf, &len)) != CONF_OK)
		snprintf(err, errlen, "%s: %s", path,
		    e == CONF_ERR_NOMEM
		        ? "out of memory"
		        : "cannot read (not a file, or over 1 MB)");
	else if ((e = conf_parse(path, buf, len, c, err, errlen)) == CONF_OK)
		snprintf(c->path, sizeof(c->path), "%s", path);
	close(fd);
	free(buf);
	return e;
}

/* The alias of a local part (any case), else the "default" one, or NULL. */
const struct conf_alias *
conf_alias(const struct conf *c, const char *name)
{
	const struct conf_alias *dflt = NULL;
	size_t                   i;

	for (i = 0; i < c->naliases; i++) {
		if (strcasecmp(c->aliases[i].name, name) == 0)
			return &c->aliases[i];
		if (strcmp(c->aliases[i].name, "default") == 0)
			dflt = &c->aliases[i];
	}
	return dflt;
}

/* Did the file set this key?  (The command line wins only over those.) */
int
conf_isset(const struct conf *c, const char *key)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(conf_keys[i].name, key) == 0)
			return (c->set & (1ULL << i)) != 0;
	return 0;
}

void
conf_free(struct conf *c)
{
	size_t i, j;

	for (i = 0; i < c->naliases; i++) {
		for (j = 0; j < c->aliases[i].ntargets; j++)
			free(c->aliases[i].targets[j]);
		free(c->aliases[i].targets);
		free(c->aliases[i].name);
	}
	free(c->aliases);
	c->aliases = NULL;
	c->naliases = 0;
}

const char *
conf_strerror(enum conf_err e)
{
	switch (e) {
	case CONF_OK:
		return "no error";
	case CONF_ERR_OPEN:
		return "cannot open the file";
	case CONF_ERR_READ:
		return "cannot read the file";
	case CONF_ERR_SYNTAX:
		return "syntax error";
	case CONF_ERR_KEY:
		return "unknown key";
	case CONF_ERR_VALUE:
		return "bad value";
	case CONF_ERR_TWICE:
		return "set twice";
	case CONF_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}
