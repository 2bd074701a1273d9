/*
 * The message, read from the input into an unlinked file in $TMPDIR
 * while dns already looks up the MX hosts.  Nothing is connected before
 * the whole message is read and checked (tls waits for MSG_BODY), so a
 * message that cannot be sent is refused without a half-sent
 * transaction, and every MX gets the same bytes.  tls gets a read-only
 * descriptor of the finished file: the only message it could ever read
 * is the one it sends.  Nothing is left behind whatever happens to the
 * process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parent.h"

#define SPOOL_CHUNK 65536

/*
 * The file is created, opened a second time read-only (for tls) and
 * unlinked at once; both descriptors are close-on-exec.
 */
const char *
spool_open(struct spool *s, int in)
{
	const char *dir = getenv("TMPDIR");
	char        path[4096];

	memset(s, 0, sizeof(*s));
	s->in = in;
	s->fd = s->rfd = -1;
	norm_init(&s->n);
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/mxclient.XXXXXX", dir) >=
	    sizeof(path))
		return "the spool directory's name is too long";
	if ((s->fd = mkostemp(path, O_CLOEXEC)) == -1)
		return "cannot create the spool file";
	s->rfd = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	if (s->rfd == -1)
		return "cannot open the spool file";
	return NULL;
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

/*
 * One read of the input, normalised into the spool.  SPOOL_FAILED sets
 * *why: the message's fault if s->n.err is set, else an I/O error
 * (errno).  At SPOOL_DONE the write end is closed: the file is final.
 */
enum spool_state
spool_step(struct spool *s, const char **why)
{
	static uint8_t ibuf[SPOOL_CHUNK], obuf[2 * SPOOL_CHUNK];
	ssize_t        r;
	size_t         o;

	if ((r = read(s->in, ibuf, sizeof(ibuf))) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return SPOOL_MORE;
		*why = "cannot read the message";
		return SPOOL_FAILED;
	}
	o = r == 0 ? norm_finish(&s->n, obuf) : norm_feed(&s->n, ibuf, r, obuf);
	/* no message text stays in memory longer than it must */
	explicit_bzero(ibuf, r > 0 ? (size_t)r : 0);
	if (s->n.err != NORM_OK) {
		*why = norm_strerror(s->n.err);
		return SPOOL_FAILED;
	}
	if (write_all(s->fd, obuf, o) == -1) {
		*why = "cannot write the spool file";
		return SPOOL_FAILED;
	}
	explicit_bzero(obuf, o);
	if (r > 0)
		return SPOOL_MORE;
	close(s->fd);
	s->fd = -1;
	return SPOOL_DONE;
}
