/*
 * The addr-specs of an RFC 5322 §3.4 address list, as sendmail -t needs
 * them: "Name <a@b>", "a@b (comment)", quoted display names with commas
 * in them, groups ("team: a@b, c@d;", "undisclosed-recipients:;") and
 * the obsolete forms of §4.4 (routes "<@x:a@b>", spaces around '@').
 * Comments are dropped, quoted strings kept whole, and an element yields
 * its angle address when it has one, else its text without spaces.
 * Whether the result is a valid mailbox is the caller's check
 * (addr_check()).  Unterminated quotes, comments or angles are errors.
 */
#include <string.h>

#include "header.h"
#include "queue.h"

struct alp {
	char   text[ADDR_MAX]; /* the element outside comments and angles */
	size_t tlen;
	char   angle[ADDR_MAX]; /* inside <...> */
	size_t alen;
	int    have_angle;
	int    overflow;
};

static void
put(char *buf, size_t *len, int *overflow, char c)
{
	if (*len + 1 >= ADDR_MAX) {
		*overflow = 1;
		return;
	}
	buf[(*len)++] = c;
}

/* Outside quoted strings an addr-spec holds none of these. */
static int
clean(const char *a)
{
	int q = 0;

	for (; *a != '\0'; a++) {
		if (*a == '"')
			q = !q;
		else if (q && *a == '\\' && a[1] != '\0')
			a++;
		else if (!q && strchr(" \t<>,()", *a) != NULL)
			return 0;
	}
	return 1;
}

/* The element ends (',' or ';' or the end): hand its address over. */
static int
element(struct alp *a, addr_cb cb, void *arg)
{
	const char *addr, *colon;
	int         r = 0;

	a->text[a->tlen] = a->angle[a->alen] = '\0';
	addr = a->have_angle ? a->angle : a->text;
	if (a->have_angle && addr[0] == '@' &&
	    (colon = strchr(addr, ':')) != NULL)
		addr = colon + 1; /* obsolete route: drop it */
	if (a->overflow || !clean(addr))
		r = -1;
	else if (addr[0] != '\0')
		r = cb(arg, addr);
	memset(a, 0, sizeof(*a));
	return r;
}

/* A quoted string from s[*i] (the opening quote), copied with quotes. */
static int
quoted(const char *s, size_t len, size_t *i, struct alp *a, int in_angle)
{
	char   *buf = in_angle ? a->angle : a->text;
	size_t *bl = in_angle ? &a->alen : &a->tlen;

	put(buf, bl, &a->overflow, s[(*i)++]);
	while (*i < len && s[*i] != '"') {
		if (s[*i] == '\\' && *i + 1 < len)
			put(buf, bl, &a->overflow, s[(*i)++]);
		put(buf, bl, &a->overflow, s[(*i)++]);
	}
	if (*i >= len)
		return -1;
	put(buf, bl, &a->overflow, s[*i]);
	return 0;
}

/* Skip a comment from s[*i] ('('), nested ones too; *i at its ')'. */
static int
comment(const char *s, size_t len, size_t *i)
{
	int depth = 0;

	for (; *i < len; (*i)++) {
		if (s[*i] == '\\')
			(*i)++;
		else if (s[*i] == '(')
			depth++;
		else if (s[*i] == ')' && --depth == 0)
			return 0;
	}
	return -1;
}

/* One octet outside quotes and comments. */
static int
octet(struct alp *a, char c, int *in_angle, addr_cb cb, void *arg)
{
	if (*in_angle) {
		if (c == '>')
			*in_angle = 0;
		else if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			put(a->angle, &a->alen, &a->overflow, c);
		return 0;
	}
	if (c == '<') {
		*in_angle = a->have_angle = 1;
		a->alen = 0;
	} else if (c == ',' || c == ';')
		return element(a, cb, arg);
	else if (c == ':') {
		a->tlen = 0; /* a group's display name */
	} else if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
		put(a->text, &a->tlen, &a->overflow, c);
	return 0;
}

int
addrlist_parse(const char *s, size_t len, addr_cb cb, void *arg)
{
	struct alp a;
	size_t     i;
	int        in_angle = 0;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < len; i++) {
		if (s[i] == '"') {
			if (quoted(s, len, &i, &a, in_angle) == -1)
				return -1;
		} else if (s[i] == '(') {
			if (comment(s, len, &i) == -1)
				return -1;
		} else if (s[i] == '\\' || s[i] == '\0') {
			return -1;
		} else if (octet(&a, s[i], &in_angle, cb, arg) == -1)
			return -1;
	}
	if (in_angle)
		return -1;
	return element(&a, cb, arg);
}
