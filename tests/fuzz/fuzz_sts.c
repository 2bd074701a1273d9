/*
 * libFuzzer: the MTA-STS parsers (src/common/sts.c, sts_cache.c), which
 * read what a DNS server, a policy host or a cache file holds.  Octet 0
 * modulo 5 picks the parser, the rest is its input:
 *   0  a TXT record (Y1, Y2): a valid one has a 1-32 alphanumeric id
 *   1  a policy (Y3-Y6): a parsed one is consistent, parses the same
 *      twice, and each of its patterns matches the names it stands for
 *   2  a cache record (Y8): one that is read back is written out again
 *      octet for octet (one spelling only), and agrees with its text
 *   3  a policy, NUL, an MX name (Y7): matching never crashes, and a
 *      name that matches is one the policy's patterns describe
 *   4  a cache file name (Y9): lower-case LDH, no path, idempotent
 * Every finding aborts (an oracle, not only a crash).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sts.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct sts_policy pol, pol2;
static struct sts_cache  rec, rec2;
static char              out[2 * STS_BODY_MAX + 1024];

static void
need(int ok)
{
	if (!ok)
		abort();
}

static void
fuzz_txt(const uint8_t *d, size_t n)
{
	char id[STS_ID_MAX + 1];

	memset(id, 'x', sizeof(id));
	if (sts_txt_parse(d, n, id) == STS_TXT_OK)
		need(memchr(id, '\0', sizeof(id)) != NULL &&
		    sts_id_valid(id, strlen(id)));
	else
		need(id[0] == '\0');
}

/* What a pattern stands for: itself, or one label in front of it. */
static void
check_patterns(const struct sts_policy *p)
{
	char   name[STS_NAME_MAX + 3];
	size_t i;

	for (i = 0; i < p->nmx; i++) {
		const char *m = sts_mx(p, i);

		need(m[0] != '\0');
		for (size_t k = 0; m[k] != '\0'; k++)
			need(!isupper((unsigned char)m[k]));
		if (strncmp(m, "*.", 2) == 0) {
			need(snprintf(name, sizeof(name), "a.%s", m + 2) > 0);
			need(!sts_mx_match(p, m + 2) || p->nmx > 1);
		} else
			snprintf(name, sizeof(name), "%s", m);
		if (strlen(name) <= 253)
			need(sts_mx_match(p, name));
	}
}

static void
fuzz_policy(const uint8_t *d, size_t n)
{
	enum sts_perr e = sts_policy_parse((const char *)d, n, &pol);

	need(sts_perr_text(e) != NULL);
	need(sts_policy_parse((const char *)d, n, &pol2) == e);
	need(memcmp(&pol, &pol2, sizeof(pol)) == 0);
	if (e != STS_P_OK) {
		need(pol.nmx == 0 && pol.max_age == 0);
		return;
	}
	need(n <= STS_BODY_MAX && pol.max_age <= STS_MAX_AGE_MAX);
	need(pol.nmx <= STS_MX_MAX);
	need(pol.mode == STS_MODE_NONE || pol.nmx > 0);
	check_patterns(&pol);
}

static void
fuzz_cache(const uint8_t *d, size_t n)
{
	size_t len;

	if (sts_cache_parse(d, n, &rec) != 0)
		return;
	len = sts_cache_format(&rec, out, sizeof(out));
	need(len == n && memcmp(out, d, n) == 0);
	need(sts_cache_parse((const uint8_t *)out, len, &rec2) == 0);
	need(memcmp(&rec.pol, &rec2.pol, sizeof(rec.pol)) == 0);
	if (rec.fetched == 0) {
		need(rec.textlen == 0 && rec.expires == 0 && rec.id[0] == '\0');
		return;
	}
	need(sts_id_valid(rec.id, strlen(rec.id)));
	need(sts_policy_parse(rec.text, rec.textlen, &pol) == STS_P_OK);
	need(rec.expires == rec.fetched + (int64_t)pol.max_age);
}

static void
fuzz_match(const uint8_t *d, size_t n)
{
	const uint8_t *nul = memchr(d, '\0', n);
	char           mx[STS_NAME_MAX + 2];
	size_t         mlen;

	if (nul == NULL ||
	    sts_policy_parse((const char *)d, (size_t)(nul - d), &pol) !=
	        STS_P_OK)
		return;
	mlen = n - (size_t)(nul - d) - 1;
	if (mlen >= sizeof(mx))
		return;
	memcpy(mx, nul + 1, mlen);
	mx[mlen] = '\0';
	if (!sts_mx_match(&pol, mx))
		return;
	/* a matching name (up to its NUL) is a host name: no wildcard */
	mlen = strlen(mx);
	need(mlen > 0 && strchr(mx, '*') == NULL);
	for (size_t i = 0; i < mlen; i++)
		need(isalnum((unsigned char)mx[i]) || mx[i] == '-' ||
		    mx[i] == '.');
}

static void
fuzz_name(const uint8_t *d, size_t n)
{
	char in[512], name[STS_NAME_MAX + 1], again[STS_NAME_MAX + 1];

	if (n >= sizeof(in))
		return;
	memcpy(in, d, n);
	in[n] = '\0';
	if (sts_cache_name(in, name, sizeof(name)) != 0)
		return;
	need(name[0] != '.' && strchr(name, '/') == NULL);
	need(strlen(name) <= 253 && strchr(name, '.') != NULL);
	for (size_t i = 0; name[i] != '\0'; i++)
		need(islower((unsigned char)name[i]) ||
		    isdigit((unsigned char)name[i]) || name[i] == '-' ||
		    name[i] == '.');
	need(sts_cache_name(name, again, sizeof(again)) == 0);
	need(strcmp(name, again) == 0 && strcasecmp(name, in) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_txt(data + 1, size - 1);
		break;
	case 1:
		fuzz_policy(data + 1, size - 1);
		break;
	case 2:
		fuzz_cache(data + 1, size - 1);
		break;
	case 3:
		fuzz_match(data + 1, size - 1);
		break;
	default:
		fuzz_name(data + 1, size - 1);
		break;
	}
	return 0;
}
