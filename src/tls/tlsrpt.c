/*
 * TLS-RPT datagrams (RFC 8460, Y21): with --tlsrpt-socket, one per
 * connection attempt to an MX host (as Postfix sends them), in the form
 * libtlsrpt's collector reads ("dpv" 1), so that an existing aggregator
 * (tlsrpt-reporter) sends the daily reports.  Only for a domain that
 * publishes exactly one TLS-RPT record.  The parent, which holds the
 * collector's socket, forwards it; tls writes no socket of its own.
 */
#include <stdio.h>
#include <string.h>

#include "delivery.h"

#define RPT_DATAGRAM_MAX 60000

static const struct {
	const char *type;
	int         code;
} rpt_codes[] = {
	{ "starttls-not-supported", 201 },
	{ "certificate-host-mismatch", 202 },
	{ "certificate-not-trusted", 203 },
	{ "certificate-expired", 204 },
	{ "validation-failure", 205 },
	{ "sts-policy-fetch-error", 301 },
	{ "sts-policy-invalid", 302 },
	{ "sts-webpki-invalid", 303 },
	{ "tlsa-invalid", 304 },
	{ "dnssec-invalid", 305 },
	{ "dane-required", 306 },
};

static int
rpt_code(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(rpt_codes) / sizeof(rpt_codes[0]); i++)
		if (strcmp(rpt_codes[i].type, type) == 0)
			return rpt_codes[i].code;
	return 205; /* validation-failure: what every other failure is */
}

/* "policy-domain", "policy-string" and "mx-host" of the attempt's policy. */
static void
policy(struct out *o, const struct delivery *d, const struct report_attempt *a)
{
	size_t i;

	if (a->rpt_policy == RPT_NONE)
		return;
	put(o, ",\"policy-domain\":");
	put_str(o, a->rpt_domain);
	put(o, ",\"policy-string\":");
	if (a->rpt_policy == RPT_TLSA) {
		put_lines(o, a->tlsa, strlen(a->tlsa));
		return;
	}
	put_lines(o, d->sts.text, d->sts.text ? d->sts.textlen : 0);
	put(o, ",\"mx-host\":[");
	for (i = 0; i < d->sts.pol.nmx && d->sts.mode != STS_MODE_NONE; i++) {
		put(o, i ? "," : "");
		put_str(o, sts_mx(&d->sts.pol, i));
	}
	put(o, "]");
}

/* The failure detail of a failed attempt. */
static void
failure(struct out *o, const struct report_attempt *a)
{
	char code[16];

	snprintf(code, sizeof(code), "%d", rpt_code(a->rpt_result));
	put(o, ",\"failure-details\":[{\"c\":");
	put(o, code);
	if (a->sending[0] != '\0') {
		put(o, ",\"s\":");
		put_str(o, a->sending);
	}
	put(o, ",\"n\":");
	put_str(o, a->mx);
	if (a->address[0] != '\0') {
		put(o, ",\"r\":");
		put_str(o, a->address);
	}
	put(o, ",\"a\":");
	put_str(o, a->result);
	put(o, "}],\"t\":1,\"f\":1}]}");
}

void
tlsrpt_send(struct delivery *d, const struct report_attempt *a)
{
	static char buf[RPT_DATAGRAM_MAX];
	struct out  o = { buf, sizeof(buf), 0 };
	char        type[8];

	if (!(d->job.j.flags & JOB_TLSRPT) || d->sts.txt.rpt != TXT_FOUND ||
	    (a->security[0] == '\0' && a->rpt_result[0] == '\0'))
		return;
	buf[0] = '\0';
	put(&o, "{\"dpv\":\"1\",\"d\":");
	put_str(&o, d->domain);
	put(&o, ",\"pr\":");
	put_str(&o, d->sts.txt.rpt_txt);
	snprintf(type, sizeof(type), "%d", a->rpt_policy);
	put(&o, ",\"policies\":[{\"policy-type\":");
	put(&o, type);
	policy(&o, d, a);
	if (a->rpt_result[0] != '\0')
		failure(&o, a);
	else
		put(&o, ",\"t\":0,\"f\":0}]}");
	if (o.used + 1 >= sizeof(buf))
		return; /* cut short: no report rather than a broken one */
	if (chan_compose(&d->parent, MSG_TLSRPT, 0, -1, buf, o.used + 1) == -1)
		fatalx("parent: %s", d->parent.err);
}
