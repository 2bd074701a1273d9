/*
 * Header fields of a submitted message.  The header section is every
 * line from the top that is a field ("name:" with printable name
 * octets, RFC 5322 §2.2) or continues one (starts with space or tab);
 * it ends at the first empty line, or at the first line that is
 * neither, which then starts the body (sendmail and Postfix do the
 * same, so "echo hi | sendmail root" still works).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "header.h"

/* Length of the field name at s, or 0 if the line is not a field. */
static size_t
field_name(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && s[i] != ':'; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return (i < len && i > 0) ? i : 0;
}

static size_t
line_len(const struct message *m, size_t off)
{
	const char *nl = memchr(m->buf + off, '\n', m->len - off);

	return nl ? (size_t)(nl - (m->buf + off)) + 1 : m->len - off;
}

enum hdr_err
hdr_split(struct message *m)
{
	size_t off = 0, n, name;

	m->nf = 0;
	while (off < m->len) {
		n = line_len(m, off);
		if (m->buf[off] == '\n') {
			m->body = off + 1;
			return HDR_OK;
		}
		if ((m->buf[off] == ' ' || m->buf[off] == '\t') && m->nf > 0) {
			m->f[m->nf - 1].len += n;
		} else if ((name = field_name(m->buf + off, n)) > 0) {
			if (m->nf == HDR_FIELDS_MAX)
				return HDR_TOO_MANY;
			m->f[m->nf++] = (struct field){ off, n, name, 0 };
		} else
			break;
		off += n;
	}
	m->body = off; /* no empty line: the body starts here */
	return HDR_OK;
}

int
hdr_is(const struct message *m, const struct field *f, const char *name)
{
	return !f->gone && f->nlen == strlen(name) &&
	    strncasecmp(m->buf + f->off, name, f->nlen) == 0;
}

/* The first field of that name that is not removed, or NULL. */
struct field *
hdr_find(struct message *m, const char *name, size_t from)
{
	size_t i;

	for (i = from; i < m->nf; i++)
		if (hdr_is(m, &m->f[i], name))
			return &m->f[i];
	return NULL;
}

/* The value after "name:", folding included, without the final LF. */
void
hdr_value(
    const struct message *m, const struct field *f, const char **v, size_t *len)
{
	*v = m->buf + f->off + f->nlen + 1;
	*len = f->len - f->nlen - 1;
	if (*len > 0 && (*v)[*len - 1] == '\n')
		(*len)--;
}
