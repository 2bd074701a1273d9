/*
 * The message, read from the input into the spool while dns already
 * looks up the MX hosts.  Nothing is connected before
 * the whole message is read and checked (tls waits for MSG_BODY), so a
 * message that cannot be sent is refused without a half-sent
 * transaction, and every MX gets the same bytes.  tls gets a read-only
 * descriptor of the finished file: the only message it could ever read
 * is the one it sends.  Nothing is left behind whatever happens to the
 * process.
 *
 * The spool: on Linux a memfd, sealed once the message is complete
 * (nothing can change it after the check, not even through a descriptor
 * that could write), and no file system inode to create and delete for
 * every run (ext4's inode allocator was 6 % of a delivery's CPU); an
 * input that is a regular file of more than SPOOL_MEM_MAX octets goes
 * to an unlinked file in $TMPDIR instead, as everything does on other
 * systems or where memfd_create() fails.
 */
#include <sys/stat.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parent.h"

#define SPOOL_CHUNK   65536
#define SPOOL_MEM_MAX (16 * 1024 * 1024)

#ifdef __linux__
static int
spool_memfd(struct spool *s)
{
	struct stat st;
	char        path[64];

	if (fstat(s->in, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > SPOOL_MEM_MAX)
		return -1;
	s->fd = memfd_create("mxclient-spool", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->fd == -1)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
	if ((s->rfd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	s->seal = 1;
	return 0;
}
#endif

/*
 * The spool is created and opened a second time read-only (for tls); a
 * file is unlinked at once.  Both descriptors are close-on-exec.
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
#ifdef __linux__
	if (spool_memfd(s) == 0)
		return NULL;
#endif
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

static uint8_t ibuf[SPOOL_CHUNK], obuf[2 * SPOOL_CHUNK];

/* The input's end: the file is final (and sealed if it is a memfd). */
static enum spool_state
spool_end(struct spool *s, const char **why)
{
	(void)why; /* only Linux seals */
#ifdef __linux__
	if (s->seal &&
	    fcntl(s->fd, F_ADD_SEALS,
	        F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) ==
	        -1) {
		*why = "cannot seal the spool";
		return SPOOL_FAILED;
	}
#endif
	close(s->fd);
	s->fd = -1;
	return SPOOL_DONE;
}

static enum spool_state
spool_read(struct spool *s, const char **why)
{
	ssize_t r;
	size_t  o;

	if ((r = read(s->in, ibuf, sizeof(ibuf))) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return SPOOL_MORE;
		*why = "cannot read the message";
		return SPOOL_FAILED;
	}
	o = r == 0 ? norm_finish(&s->n, obuf) : norm_feed(&s->n, ibuf, r, obuf);
	if (s->n.err != NORM_OK) {
		*why = norm_strerror(s->n.err);
		return SPOOL_FAILED;
	}
	if (write_all(s->fd, obuf, o) == -1) {
		*why = "cannot write the spool file";
		return SPOOL_FAILED;
	}
	return r > 0 ? SPOOL_MORE : spool_end(s, why);
}

/*
 * One read of the input, normalised into the spool.  SPOOL_FAILED sets
 * *why: the message's fault if s->n.err is set, else an I/O error
 * (errno).  At SPOOL_DONE the write end is closed: the file is final.
 */
enum spool_state
spool_step(struct spool *s, const char **why)
{
	enum spool_state st = spool_read(s, why);
	int              e = errno;

	/* each read overwrites the last; at the end no text stays here */
	if (st != SPOOL_MORE) {
		explicit_bzero(ibuf, sizeof(ibuf));
		explicit_bzero(obuf, sizeof(obuf));
	}
	errno = e;
	return st;
}
