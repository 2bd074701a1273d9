/*
 * The MTA-STS cache record of one policy domain [project] (Y8).  One
 * process writes it and another reads it back trusting nothing, so the
 * format has one spelling only and the reader checks every octet:
 *
 *	mxclient-sts-cache 1
 *	fetched <n>
 *	expires <n>
 *	failed <n>
 *	used <n>
 *	id <id, or nothing>
 *	text <length>
 *	<length octets: the policy as fetched>
 *	end
 *
 * Numbers are decimal without sign or leading zeros, at most 18 digits
 * (so fetched + max_age cannot overflow); each line ends in one LF, the
 * text too (after its counted octets), and nothing follows "end".  The
 * parsed policy is derived from the text again, never stored.
 */
#include <stdio.h>
#include <string.h>

#include "sts.h"

#define CACHE_MAGIC "mxclient-sts-cache 1"
#define NUM_DIGITS  18

/* Where the reader is. */
struct cur {
	const uint8_t *p;
	size_t         len, off;
};

/* The line at the cursor (without its LF), and the cursor past it. */
static int
take_line(struct cur *k, const uint8_t **line, size_t *len)
{
	const uint8_t *nl = memchr(k->p + k->off, '\n', k->len - k->off);

	if (nl == NULL)
		return -1;
	*line = k->p + k->off;
	*len = nl - *line;
	k->off += *len + 1;
	return 0;
}

/*
 * A line "key" or "key value" (value not empty): the value, or NULL if
 * the line is something else.
 */
static const uint8_t *
keyed(struct cur *k, const char *key, size_t *vlen)
{
	const uint8_t *l;
	size_t         n, klen = strlen(key);

	if (take_line(k, &l, &n) == -1 || n < klen || memcmp(l, key, klen) != 0)
		return NULL;
	if (n == klen) {
		*vlen = 0;
		return l + n;
	}
	if (l[klen] != ' ' || n == klen + 1)
		return NULL;
	*vlen = n - klen - 1;
	return l + klen + 1;
}

/* A number: 0, or 1-18 digits without a leading zero. */
static int
number(const uint8_t *v, size_t len, int64_t *out)
{
	int64_t n = 0;
	size_t  i;

	if (len == 0 || len > NUM_DIGITS || (v[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	*out = n;
	return 0;
}

static int
num_field(struct cur *k, const char *key, int64_t *out)
{
	const uint8_t *v;
	size_t         len;

	if ((v = keyed(k, key, &len)) == NULL)
		return -1;
	return number(v, len, out);
}

/* The id: "" or 1-32 letters and digits. */
static int
id_field(struct cur *k, char *id)
{
	const uint8_t *v;
	size_t         len;

	if ((v = keyed(k, "id", &len)) == NULL)
		return -1;
	if (len > 0 && !sts_id_valid((const char *)v, len))
		return -1;
	memcpy(id, v, len);
	id[len] = '\0';
	return 0;
}

/* "text N", N octets and their LF. */
static int
text_field(struct cur *k, struct sts_cache *c)
{
	const uint8_t *v;
	size_t         len;
	int64_t        n;

	if ((v = keyed(k, "text", &len)) == NULL || number(v, len, &n) == -1 ||
	    n > STS_BODY_MAX || (size_t)n >= k->len - k->off ||
	    k->p[k->off + n] != '\n')
		return -1;
	memcpy(c->text, k->p + k->off, n);
	c->text[n] = '\0';
	c->textlen = n;
	k->off += n + 1;
	return 0;
}

/*
 * The fields agree: no policy (fetched 0) is a failure remembered, with
 * no text, no expiry and no id; a policy has an id, text that parses
 * and expires = fetched + max_age.  (What the parent sends tls from a
 * file must be what tls accepts, or one bad file would fail every run.)
 */
static int
consistent(struct sts_cache *c)
{
	if (c->fetched == 0)
		return c->textlen == 0 && c->expires == 0 && c->id[0] == '\0' &&
		        c->failed != 0
		    ? 0
		    : -1;
	if (c->id[0] == '\0' ||
	    sts_policy_parse(c->text, c->textlen, &c->pol) != STS_P_OK)
		return -1;
	return c->expires == c->fetched + (int64_t)c->pol.max_age ? 0 : -1;
}

int
sts_cache_parse(const uint8_t *in, size_t len, struct sts_cache *c)
{
	struct cur     k = { in, len, 0 };
	const uint8_t *v;
	size_t         vlen;

	memset(c, 0, sizeof(*c));
	if ((v = keyed(&k, CACHE_MAGIC, &vlen)) == NULL || vlen != 0 ||
	    num_field(&k, "fetched", &c->fetched) == -1 ||
	    num_field(&k, "expires", &c->expires) == -1 ||
	    num_field(&k, "failed", &c->failed) == -1 ||
	    num_field(&k, "used", &c->used) == -1 ||
	    id_field(&k, c->id) == -1 || text_field(&k, c) == -1 ||
	    (v = keyed(&k, "end", &vlen)) == NULL || vlen != 0 ||
	    k.off != k.len || consistent(c) == -1) {
		memset(c, 0, sizeof(*c));
		return -1;
	}
	return 0;
}

/* Within what number() reads back. */
static int
in_range(int64_t v)
{
	return v >= 0 && v <= 999999999999999999LL;
}

size_t
sts_cache_format(const struct sts_cache *c, char *out, size_t outlen)
{
	size_t idlen = strnlen(c->id, sizeof(c->id)), n;
	int    w;

	if (idlen == sizeof(c->id) ||
	    (idlen > 0 && !sts_id_valid(c->id, idlen)) ||
	    c->textlen > STS_BODY_MAX || !in_range(c->fetched) ||
	    !in_range(c->expires) || !in_range(c->failed) || !in_range(c->used))
		return 0;
	w = snprintf(out, outlen,
	    CACHE_MAGIC "\nfetched %lld\nexpires %lld\nfailed %lld\n"
	                "used %lld\nid%s%s\ntext %zu\n",
	    (long long)c->fetched, (long long)c->expires, (long long)c->failed,
	    (long long)c->used, idlen ? " " : "", c->id, c->textlen);
	if (w < 0 || (size_t)w >= outlen)
		return 0;
	n = w;
	if (outlen - n < c->textlen + sizeof("\nend\n"))
		return 0;
	memcpy(out + n, c->text, c->textlen);
	n += c->textlen;
	memcpy(out + n, "\nend\n", sizeof("\nend\n"));
	return n + sizeof("\nend\n") - 1;
}
