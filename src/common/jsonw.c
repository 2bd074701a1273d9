/*
 * A small JSON writer for the reports (--json, --status-fd): text into a
 * fixed buffer, cut short rather than overrun; strings escaped, control
 * octets dropped, octets of 0x7f and above written as \\u00XX so that
 * the output is always valid JSON.  Used by tls (its members) and the
 * parent (the fixed members of every report).
 */
#include <stdio.h>
#include <string.h>

#include "jsonw.h"

void
put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->used + n + 1 > o->len)
		n = o->len > o->used + 1 ? o->len - o->used - 1 : 0;
	memcpy(o->buf + o->used, s, n);
	o->used += n;
	o->buf[o->used] = '\0';
}

void
put_str(struct out *o, const char *s)
{
	char c[3] = { 0 }, u[8];

	put(o, "\"");
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20)
			continue;
		if ((unsigned char)*s >= 0x7f) {
			/* never invalid UTF-8: an octet as its code point */
			snprintf(u, sizeof(u), "\\u%04x", (unsigned char)*s);
			put(o, u);
			continue;
		}
		c[0] = *s == '"' || *s == '\\' ? '\\' : *s;
		c[1] = c[0] == '\\' ? *s : '\0';
		put(o, c);
	}
	put(o, "\"");
}

/* "name":"value" with a comma before all but the first member. */
void
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
