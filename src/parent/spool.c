/*
 * Read the whole message before any connection is made, so that a
 * message that cannot be sent is refused without a half-sent transaction
 * and every MX gets the same bytes.  The spool is an unlinked file in
 * $TMPDIR: nothing is left behind whatever happens to the process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parent.h"

#define SPOOL_CHUNK 65536

static int
spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char        path[4096];
	int         fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/mxclient.XXXXXX", dir) >=
	    sizeof(path))
		return -1;
	if ((fd = mkstemp(path)) == -1)
		return -1;
	unlink(path);
	return fd;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* 0 on success; -1 with *why set: a data error if s->n.err is set. */
int
spool_read(int in, struct spool *s, const char **why)
{
	static uint8_t ibuf[SPOOL_CHUNK], obuf[2 * SPOOL_CHUNK];
	ssize_t        r;
	size_t         o;
	int            rv = -1;

	norm_init(&s->n);
	if ((s->fd = spool_open()) == -1)
		return *why = "cannot create the spool file", -1;
	for (;;) {
		if ((r = read(in, ibuf, sizeof(ibuf))) == -1) {
			if (errno == EINTR)
				continue;
			*why = "cannot read the message";
			goto done;
		}
		o = r == 0 ? norm_finish(&s->n, obuf)
		           : norm_feed(&s->n, ibuf, r, obuf);
		if (s->n.err != NORM_OK) {
			*why = norm_strerror(s->n.err);
			goto done;
		}
		if (write_all(s->fd, obuf, o) == -1) {
			*why = "cannot write the spool file";
			goto done;
		}
		if (r == 0)
			break;
	}
	rv = 0;
done:
	/* The children are forked later: leave no message text in memory. */
	explicit_bzero(ibuf, sizeof(ibuf));
	explicit_bzero(obuf, sizeof(obuf));
	return rv;
}
