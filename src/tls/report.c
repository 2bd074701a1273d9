/*
 * JSON for --json and --status-fd.  Every string that goes in was made
 * printable ASCII already (server text through printable()); here only
 * '"' and '\' need escaping, and anything else below 0x20 is dropped
 * defensively.
 */
#include <stdio.h>
#include <string.h>

#include "report.h"

struct out {
	char  *buf;
	size_t len, used;
};

static void
put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->used + n + 1 > o->len)
		n = o->len > o->used + 1 ? o->len - o->used - 1 : 0;
	memcpy(o->buf + o->used, s, n);
	o->used += n;
	o->buf[o->used] = '\0';
}

static void
put_str(struct out *o, const char *s)
{
	char c[3] = { 0 };

	put(o, "\"");
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20)
			continue;
		c[0] = *s == '"' || *s == '\\' ? '\\' : *s;
		c[1] = c[0] == '\\' ? *s : '\0';
		put(o, c);
	}
	put(o, "\"");
}

/* "name":"value" with a comma before all but the first member. */
static void
member(struct out *o, const char *name, const char *value, int *first)
{
	if (!*first)
		put(o, ",");
	*first = 0;
	put_str(o, name);
	put(o, ":");
	if (value == NULL || *value == '\0')
		put(o, "null");
	else
		put_str(o, value);
}

void
report_attempt(struct report *r, const char *mx, const char *address,
    const char *policy, const char *result)
{
	struct report_attempt *a;

	if (r->nattempt == REPORT_ATTEMPTS)
		return;
	a = &r->attempt[r->nattempt++];
	snprintf(a->mx, sizeof(a->mx), "%s", mx);
	snprintf(a->address, sizeof(a->address), "%s", address ? address : "");
	snprintf(a->policy, sizeof(a->policy), "%s", policy);
	snprintf(a->result, sizeof(a->result), "%s", result);
}

/* The TLS-RPT result type (RFC 8460 §4.3) named in a reason, if any. */
static void
tlsrpt_type(const char *reason, char *buf, size_t len)
{
	const char *p = reason ? strstr(reason, "TLS-RPT: ") : NULL;
	size_t      n;

	buf[0] = '\0';
	if (p == NULL)
		return;
	p += strlen("TLS-RPT: ");
	n = strspn(p, "abcdefghijklmnopqrstuvwxyz-");
	if (n > 0 && n < len) {
		memcpy(buf, p, n);
		buf[n] = '\0';
	}
}

/* The members of the report object; the parent adds "exit" and "outcome". */
size_t
report_json(const struct report *r, const char *rcpt, const char *reason,
    char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	char       rpt[40];
	size_t     i;
	int        first = 1, f;

	buf[0] = '\0';
	tlsrpt_type(reason, rpt, sizeof(rpt));
	member(&o, "recipient", rcpt, &first);
	member(&o, "proxy", r->proxy, &first);
	member(&o, "mx", r->mx, &first);
	member(&o, "address", r->address, &first);
	member(&o, "tls_version", r->tls_version, &first);
	member(&o, "cipher", r->cipher, &first);
	member(&o, "security", r->security, &first);
	member(&o, "tlsa", r->tlsa, &first);
	member(&o, "reply", r->reply, &first);
	member(&o, "enhanced_status", r->enhanced, &first);
	member(&o, "reason", reason, &first);
	member(&o, "tlsrpt_result_type", rpt, &first);
	put(&o, ",\"attempts\":[");
	for (i = 0; i < r->nattempt; i++) {
		f = 1;
		put(&o, i ? ",{" : "{");
		member(&o, "mx", r->attempt[i].mx, &f);
		member(&o, "address", r->attempt[i].address, &f);
		member(&o, "policy", r->attempt[i].policy, &f);
		member(&o, "result", r->attempt[i].result, &f);
		put(&o, "}");
	}
	put(&o, "]");
	return o.used;
}
