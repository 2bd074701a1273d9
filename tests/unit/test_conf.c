/*
 * conf_parse() and conf_load(): mxclient.conf(5), rules Q20-Q22 of
 * doc/RULES.md (Q rules): every key with a good and a bad value, aliases and
 * the catch-all, "file:line: what" for every error, a missing default
 * file is no error but a missing named one is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK_PROG "test_conf"
#include "check.h"
#include "conf.h"

struct ccase {
	const char   *name;
	const char   *text;
	enum conf_err want;
	const char   *msg; /* expected error, "" for none */
};

static const struct ccase cases[] = {
	{ "Q20 empty file", "", CONF_OK, "" },
	{ "Q20 comments and blank lines", "# c\n\n   # d\n\t\n", CONF_OK, "" },
	{ "Q20 every key",
	    "resolver = 127.0.0.1#53\nhelo = mx.example.org\n"
	    "dane-only = yes\nproxy = socks5://h:1080\nuser = mxqueue\n"
	    "domain = example.org\nadmin = postmaster@example.org\n"
	    "spool = /var/spool/q\nmxclient = /usr/bin/mxclient\n"
	    "parallelism = 8\ndomain-parallelism = 1\nretry-first = 5m\n"
	    "retry-max = 1h\nlifetime = 5d\ndelay-warning = 4h\n"
	    "long-lines = qp\nrun-on-submit = no\n",
	    CONF_OK, "" },
	{ "Q20 CRLF line ends", "helo = a.example\r\n", CONF_OK, "" },
	{ "Q20 no final newline", "helo = a.example", CONF_OK, "" },
	{ "Q20 IPv6 resolver", "resolver = ::1#5353", CONF_OK, "" },
	{ "Q21 unknown key", "\nhelo = a.example\ncolour = red\n", CONF_ERR_KEY,
	    "t.conf:3: unknown key: colour" },
	{ "Q21 syntax", "helo a.example\n", CONF_ERR_SYNTAX,
	    "t.conf:1: want \"key = value\" or \"name: address\"" },
	{ "Q21 key set twice", "helo = a.example\nhelo = b.example\n",
	    CONF_ERR_TWICE, "t.conf:2: set twice: helo" },
	{ "Q21 bad resolver", "resolver = localhost\n", CONF_ERR_VALUE,
	    "t.conf:1: resolver: not an IPv4 or IPv6 address" },
	{ "Q21 bad resolver port", "resolver = 127.0.0.1#0\n", CONF_ERR_VALUE,
	    "t.conf:1: resolver: port must be 1 to 65535" },
	{ "Q21 bad bool", "dane-only = maybe\n", CONF_ERR_VALUE,
	    "t.conf:1: dane-only: want yes or no" },
	{ "Q21 bad helo", "helo = -x.example\n", CONF_ERR_VALUE, "" },
	{ "Q21 bad proxy", "proxy = http://x\n", CONF_ERR_VALUE, "" },
	{ "Q21 bad user", "user = a b\n", CONF_ERR_VALUE, "" },
	{ "Q21 relative spool", "spool = spool\n", CONF_ERR_VALUE,
	    "t.conf:1: spool: not an absolute path" },
	{ "Q21 parallelism 0", "parallelism = 0\n", CONF_ERR_VALUE,
	    "t.conf:1: parallelism: want 1 to 64" },
	{ "Q21 parallelism huge", "parallelism = 99999999999999\n",
	    CONF_ERR_VALUE, "t.conf:1: parallelism: number too large" },
	{ "Q21 bad unit", "retry-first = 5w\n", CONF_ERR_VALUE,
	    "t.conf:1: retry-first: bad unit (use s, m, h or d)" },
	{ "Q21 lifetime too short", "lifetime = 10\n", CONF_ERR_VALUE,
	    "t.conf:1: lifetime: want 60 to 8640000 seconds" },
	{ "Q21 bad long-lines", "long-lines = wrap\n", CONF_ERR_VALUE, "" },
	{ "Q21 bad admin", "admin = nobody\n", CONF_ERR_VALUE, "" },
	{ "Q21 empty value", "helo =\n", CONF_ERR_VALUE, "" },
	{ "Q21 NUL octet", "helo = a\0b\n", CONF_ERR_SYNTAX,
	    "t.conf:1: NUL octet" },
	{ "Q22 alias", "root: admin@example.org\n", CONF_OK, "" },
	{ "Q22 alias list", "root: a@example.org, b@example.org\n", CONF_OK,
	    "" },
	{ "Q22 alias set twice", "root: a@example.org\nRoot: b@example.org\n",
	    CONF_ERR_TWICE, "t.conf:2: alias set twice: root" },
	{ "Q22 alias to a bare name", "root: admin\n", CONF_ERR_VALUE, "" },
	{ "Q22 alias without target", "root:\n", CONF_ERR_VALUE,
	    "t.conf:1: root: no address" },
};

static size_t
text_len(const struct ccase *t)
{
	/* the NUL case has an embedded NUL: count to the last newline */
	if (strstr(t->name, "NUL") != NULL)
		return 11;
	return strlen(t->text);
}

static void
test_cases(void)
{
	char          err[256];
	struct conf   c;
	enum conf_err e;
	size_t        i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_init(&c);
		err[0] = '\0';
		e = conf_parse("t.conf", cases[i].text, text_len(&cases[i]), &c,
		    err, sizeof(err));
		CHECK(e == cases[i].want &&
		        (cases[i].msg[0] == '\0' ||
		            strcmp(err, cases[i].msg) == 0) &&
		        (e == CONF_OK || strncmp(err, "t.conf:", 7) == 0),
		    cases[i].name, "got %s \"%s\"", conf_strerror(e), err);
		conf_free(&c);
	}
}

static void
test_values(void)
{
	static const char text[] =
	    "retry-first = 90s\nretry-max = 2h\nlifetime = 3d\n"
	    "dane-only = on\nlong-lines = qp\ndomain = example.org\n"
	    "root: admin@example.org, ops@example.org\n"
	    "default: catchall@example.org\n";
	const struct conf_alias *a;
	struct conf              c;
	char                     err[256];

	conf_init(&c);
	CHECK(c.parallelism == 4 && c.domain_parallelism == 2 &&
	        c.retry_first == 300 && c.retry_max == 3600 &&
	        c.lifetime == 432000 && c.long_lines == CONF_LONG_REFUSE &&
	        strcmp(c.spool, "/var/spool/mxqueue") == 0,
	    "Q20 defaults (4, 2, 5 min, 1 h, 5 d, refuse)", "wrong defaults");
	CHECK(conf_parse("t", text, strlen(text), &c, err, sizeof(err)) ==
	        CONF_OK,
	    "Q20 values parse", "%s", err);
	CHECK(c.retry_first == 90 && c.retry_max == 7200 &&
	        c.lifetime == 259200 && c.dane_only == 1 &&
	        c.long_lines == CONF_LONG_QP,
	    "Q20 units s, h, d and flags", "%u %u %u", c.retry_first,
	    c.retry_max, c.lifetime);
	CHECK(conf_isset(&c, "lifetime") && !conf_isset(&c, "helo"),
	    "Q20 conf_isset tells file settings from defaults", "wrong");
	a = conf_alias(&c, "ROOT");
	CHECK(a != NULL && a->ntargets == 2 &&
	        strcmp(a->targets[1], "ops@example.org") == 0,
	    "Q22 alias lookup ignores case, keeps the list", "wrong alias");
	a = conf_alias(&c, "www-data");
	CHECK(a != NULL && strcmp(a->targets[0], "catchall@example.org") == 0,
	    "Q22 default catches every other name", "no catch-all");
	conf_free(&c);
	conf_init(&c);
	CHECK(conf_alias(&c, "root") == NULL, "Q22 no alias without a table",
	    "found one");
}

static void
test_load(void)
{
	char          dir[] = "/tmp/test_conf.XXXXXX", path[64], err[256];
	struct conf   c;
	enum conf_err e;
	FILE         *f;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/mx.conf", dir);
	conf_init(&c);
	e = conf_load(path, &c, err, sizeof(err));
	CHECK(e == CONF_ERR_OPEN && strstr(err, path) != NULL,
	    "Q21 a named file that is missing is an error", "%s", err);
	f = fopen(path, "w");
	fputs("helo = a.example\nbogus = 1\n", f);
	fclose(f);
	setenv(CONF_ENV, path, 1);
	e = conf_load(NULL, &c, err, sizeof(err));
	CHECK(
	    e == CONF_ERR_KEY && strstr(err, "mx.conf:2: unknown key") != NULL,
	    "Q21 MXCLIENT_CONF names the file; errors say file:line", "%s",
	    err);
	conf_free(&c);
	f = fopen(path, "w");
	fputs("helo = a.example\n", f);
	fclose(f);
	conf_init(&c);
	e = conf_load(NULL, &c, err, sizeof(err));
	CHECK(e == CONF_OK && strcmp(c.helo, "a.example") == 0 &&
	        strcmp(c.path, path) == 0,
	    "Q20 conf_load reads the file and records its path", "%s", err);
	conf_free(&c);
	unsetenv(CONF_ENV);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	test_cases();
	test_values();
	test_load();
	return check_exit();
}
