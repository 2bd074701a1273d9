/*
 * JSON for --json and --status-fd: tls's members of the report (the
 * writer is src/common/jsonw.c).  Every string that goes in was made
 * printable ASCII already (server text through printable()).
 */
#include <stdio.h>
#include <string.h>

#include "report.h"

struct report_attempt *
report_attempt(struct report *r, const char *mx, const char *address,
    const char *policy, const char *result)
{
	static struct report_attempt spare; /* past the last one kept */
	struct report_attempt       *a;

	if (r->nattempt == REPORT_ATTEMPTS) {
		memset(&spare, 0, sizeof(spare));
		return &spare;
	}
	a = &r->attempt[r->nattempt++];
	memset(a, 0, sizeof(*a));
	snprintf(a->mx, sizeof(a->mx), "%s", mx);
	snprintf(a->address, sizeof(a->address), "%s", address ? address : "");
	snprintf(a->policy, sizeof(a->policy), "%s", policy);
	snprintf(a->result, sizeof(a->result), "%s", result);
	return a;
}

/* A JSON array of the lines of text (a policy, "\n" between records). */
void
put_lines(struct out *o, const char *text, size_t len)
{
	char   line[1024];
	size_t i = 0, n;
	int    first = 1;

	put(o, "[");
	while (text != NULL && i < len) {
		n = strcspn(text + i, "\r\n");
		if (n > len - i)
			n = len - i;
		if (n > 0 && n < sizeof(line)) {
			memcpy(line, text + i, n);
			line[n] = '\0';
			put(o, first ? "" : ",");
			put_str(o, line);
			first = 0;
		}
		i += n;
		while (i < len && (text[i] == '\r' || text[i] == '\n'))
			i++;
	}
	put(o, "]");
}

static const char *const rpt_policy_names[] = {
	[RPT_TLSA] = "tlsa", [RPT_STS] = "sts", [RPT_NONE] = "no-policy-found"
};

/* The TLS-RPT part of one attempt (RFC 8460 §4.4 names). */
static void
attempt_rpt(struct out *o, const struct report_attempt *a)
{
	int f = 1;

	put(o, ",\"tlsrpt\":{");
	member(o, "policy-type",
	    a->rpt_policy ? rpt_policy_names[a->rpt_policy] : "no-policy-found",
	    &f);
	member(o, "policy-domain", a->rpt_domain, &f);
	member(o, "result-type", a->rpt_result, &f);
	member(o, "receiving-mx-hostname", a->mx, &f);
	member(o, "receiving-ip", a->address, &f);
	member(o, "sending-mta-ip", a->sending, &f);
	if (a->rpt_policy == RPT_TLSA) {
		put(o, ",\"policy-string\":");
		put_lines(o, a->tlsa, strlen(a->tlsa));
		if (a->tlsa_cut)
			put(o, ",\"policy-string-truncated\":true");
	}
	put(o, "}");
}

/* The delivery's TLS-RPT view: the record, the MTA-STS policy in force. */
static void
delivery_rpt(struct out *o, const struct report *r)
{
	int f = 1;

	put(o, ",\"tlsrpt\":{");
	member(o, "record", r->rpt_record, &f);
	put(o, ",\"sts\":");
	if (r->sts_text == NULL && r->sts_failure[0] == '\0') {
		put(o, "null}");
		return;
	}
	f = 1;
	put(o, "{");
	member(o, "policy-domain", r->sts_domain, &f);
	member(o, "result-type", r->sts_failure, &f);
	member(o, "failure-reason", r->sts_reason, &f);
	put(o, ",\"policy-string\":");
	put_lines(o, r->sts_text, r->sts_len);
	put(o, "}}");
}

/* The TLS-RPT result type (RFC 8460 §4.3) named in a reason, if any. */
void
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
	(void)rcpt; /* the parent's members name it */
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
	delivery_rpt(&o, r);
	put(&o, ",\"attempts\":[");
	for (i = 0; i < r->nattempt; i++) {
		f = 1;
		put(&o, i ? ",{" : "{");
		member(&o, "mx", r->attempt[i].mx, &f);
		member(&o, "address", r->attempt[i].address, &f);
		member(&o, "policy", r->attempt[i].policy, &f);
		member(&o, "security", r->attempt[i].security, &f);
		member(&o, "result", r->attempt[i].result, &f);
		attempt_rpt(&o, &r->attempt[i]);
		put(&o, "}");
	}
	put(&o, "]");
	return o.used;
}
