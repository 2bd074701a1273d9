/*
 * The JSON report (--json, --status-fd) is written for every exit, not
 * only after a delivery: a caller that parses it must never find nothing
 * because the command line or the configuration was wrong (64, 78).
 * Until the options are parsed, what is known comes from a scan of argv
 * (where the report goes, the sender, the recipient); errors before the
 * children start go through config_exit(), which says why on stderr and
 * in the report.  The fields are documented in doc/json.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "jsonw.h"
#include "parent.h"

static struct {
	int         fd; /* -1: no report asked for */
	const char *sender, *rcpt;
	int         written;
} rep = { -1, NULL, NULL, 0 };

/* Best effort, before getopt: --json, --status-fd N, -f/-r X, the last word. */
void
exit_report_scan(int argc, char **argv)
{
	int   i;
	long  fd;
	char *end;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0 && rep.fd == -1)
			rep.fd = STDOUT_FILENO;
		else if (strcmp(a, "--status-fd") == 0 && i + 1 < argc) {
			fd = strtol(argv[i + 1], &end, 10);
			if (*end == '\0' && fd > 0 && fd < 1024 &&
			    fcntl((int)fd, F_GETFD) != -1)
				rep.fd = (int)fd;
		} else if ((strcmp(a, "-f") == 0 || strcmp(a, "-r") == 0) &&
		    i + 1 < argc)
			rep.sender = argv[i + 1];
		else if ((a[0] == '-' && (a[1] == 'f' || a[1] == 'r')) &&
		    a[2] != '\0' && a[1] != '-')
			rep.sender = a + 2;
	}
	if (argc > 1 && argv[argc - 1][0] != '-')
		rep.rcpt = argv[argc - 1];
}

/* After parsing: what the options say. */
void
exit_report_set(const struct options *o)
{
	rep.fd = o->status_fd;
	rep.sender = o->sender;
	rep.rcpt = o->rcpt;
}

/*
 * now as 2026-12-08T10:00:00Z.  By arithmetic, not gmtime(): glibc may
 * open /etc/localtime for it, which the locked-down parent cannot.
 * Days since 1970 to a civil date, with 400-year eras of 146097 days
 * and years that start on 1 March (so the leap day comes last).
 */
static void
utc_stamp(time_t now, char *buf, size_t len)
{
	long long days = now / 86400, secs = now % 86400, era, doe, yoe, doy;
	long long mp, y, m, d;

	days += 719468; /* 0000-03-01 to 1970-01-01 */
	era = days / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	snprintf(buf, len, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", y, m,
	    d, secs / 3600, secs / 60 % 60, secs % 60);
}

/* The report: fixed members first, then tls's (may be NULL). */
void
exit_report_write(
    int code, const char *outcome, const char *reason, const char *members)
{
	static char buf[4096];
	struct out  o = { buf, sizeof(buf), 0 };
	char        ts[128], num[16];
	time_t      now = time(NULL);
	const char *q;
	size_t      left;
	ssize_t     n;
	int         first = 0;

	if (rep.fd == -1 || rep.written)
		return;
	rep.written = 1;
	buf[0] = '\0';
	utc_stamp(now, ts, sizeof(ts));
	snprintf(num, sizeof(num), "%d", code);
	put(&o, "{\"schema\":1,\"exit\":");
	put(&o, num);
	member(&o, "outcome", outcome, &first);
	member(&o, "timestamp", ts, &first);
	member(&o, "sender", rep.sender, &first);
	member(&o, "recipient", rep.rcpt, &first);
	/* with tls's members, theirs says why */
	if (members == NULL)
		member(&o, "reason",
		    reason ? reason : "see the message on standard error",
		    &first);
	fflush(stdout);
	/* plain write(): stdio would lseek(), which the sandbox forbids */
	for (int i = 0; i < 4; i++) {
		q = i == 0   ? buf
		    : i == 2 ? (members ? members : "")
		    : i == 3 ? "}\n"
		             : "";
		if (i == 1 && members != NULL && *members != '\0')
			q = ",";
		for (left = strlen(q);
		     left > 0 && (n = write(rep.fd, q, left)) > 0; left -= n)
			q += n;
	}
}

/* The name of an exit that did not come from a delivery attempt. */
static const char *
early_outcome(int code)
{
	switch (code) {
	case EX_USAGE:
		return "usage error";
	case EX_CONFIG:
		return "configuration error";
	case EX_DATAERR:
		return "data error";
	case EX_IOERR:
		return "input error";
	case EX_TEMPFAIL:
		return "temporary failure";
	default:
		return "internal error";
	}
}

/* "mxclient: why" on stderr, the report, exit(code). */
void
config_exit(int code, const char *fmt, ...)
{
	char    why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mxclient: %s\n", why);
	exit_report_write(code, early_outcome(code), why, NULL);
	exit(code);
}

/* exit(code) with a report whose reason stderr has already given. */
void
report_exit(int code)
{
	exit_report_write(code, early_outcome(code), NULL, NULL);
	exit(code);
}
