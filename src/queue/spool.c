/*
 * Spool files: the durable write (temporary name, fsync, rename, fsync
 * of the directory: Q5), queue ids, and the "key value" line format of
 * envelopes and jobs.  The parsers treat their input as hostile: the
 * envelope comes from whoever could run the submitter.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "spool.h"

int
write_all(int fd, const void *buf, size_t len)
{
	size_t  off;
	ssize_t n;

	for (off = 0; off < len; off += (size_t)n)
		if ((n = write(fd, (const char *)buf + off, len - off)) == -1 &&
		    errno != EINTR)
			return -1;
		else if (n == -1)
			n = 0;
	return 0;
}

int
qspool_fsync_dir(int dirfd)
{
	return fsync(dirfd);
}

/* A directory stream of its own (a dup() would share the offset). */
DIR *
qspool_opendir(int at, const char *name)
{
	DIR *d;
	int  fd;

	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

/*
 * name in dirfd gets exactly buf, or keeps what it had: written as
 * ".name.tmp", fsync()ed, renamed over name, the directory fsync()ed.
 */
int
qspool_write(
    int dirfd, const char *name, const void *buf, size_t len, mode_t mode)
{
	char tmp[64];
	int  fd, save;

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = openat(dirfd, tmp,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd == -1)
		return -1;
	if (write_all(fd, buf, len) == -1 || fsync(fd) == -1) {
		save = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		errno = save;
		return -1;
	}
	if (close(fd) == -1 || renameat(dirfd, tmp, dirfd, name) == -1)
		return -1;
	return qspool_fsync_dir(dirfd);
}

/* A whole small file (at most max octets), NUL-terminated. */
int
qspool_read(int dirfd, const char *name, char **buf, size_t *len, size_t max)
{
	struct stat st;
	ssize_t     n;
	int         fd;

	*buf = NULL;
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > max || (*buf = malloc(max + 1)) == NULL) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	*len = 0;
	while ((n = read(fd, *buf + *len, max - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	(*buf)[*len] = '\0';
	return n == -1 ? -1 : 0;
}

/* Seconds since the epoch, then 64 random bits: unique and sortable. */
void
qspool_newid(char *out, int64_t now)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint64_t)getpid() << 32 ^ (uint64_t)now;
	snprintf(
	    out, QID_LEN + 1, "%08" PRIx32 "%016" PRIx64, (uint32_t)now, r);
}

int
qspool_valid_id(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		        (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return i == QID_LEN;
}

/* One line of text for a job file: printable ASCII, cut to fit. */
void
sanitize(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = (src[i] >= ' ' && src[i] <= '~') ? src[i] : '?';
	dst[i] = '\0';
}

/*
 * The next "key value" line at *pos: 1 and the pair, 0 at an empty line
 * or the end, -1 for anything else (no newline, a bad key, control
 * octets, a value too long).
 */
int
kv_next(const char *t, size_t len, size_t *pos, char *key, char *val)
{
	size_t i = *pos, k = 0, v = 0;

	if (i >= len)
		return 0;
	if (t[i] == '\n') {
		*pos = i + 1;
		return 0;
	}
	while (i < len && ((t[i] >= 'a' && t[i] <= 'z') || t[i] == '-'))
		if (k < KV_KEY_MAX - 1)
			key[k++] = t[i++];
		else
			return -1;
	if (k == 0 || i >= len || (t[i] != ' ' && t[i] != '\n'))
		return -1;
	if (t[i] == ' ')
		i++;
	for (; i < len && t[i] != '\n'; i++) {
		if (t[i] < ' ' || t[i] > '~' || v >= KV_VAL_MAX - 1)
			return -1;
		val[v++] = t[i];
	}
	if (i >= len)
		return -1;
	key[k] = val[v] = '\0';
	*pos = i + 1;
	return 1;
}

static int
copy_val(char *dst, size_t size, const char *val)
{
	if (strlen(val) >= size)
		return -1;
	memcpy(dst, val, strlen(val) + 1);
	return 0;
}

static int
num_val(int64_t *dst, const char *val, int64_t max)
{
	char     *end;
	long long n;

	if (val[0] < '0' || val[0] > '9')
		return -1;
	errno = 0;
	n = strtoll(val, &end, 10);
	if (errno != 0 || *end != '\0' || n > max)
		return -1;
	*dst = n;
	return 0;
}

/* An envelope address: "" (null sender) only where nullok. */
static int
addr_val(char *dst, const char *val, int nullok)
{
	if (addr_check(val, nullok) != NULL)
		return -1;
	return copy_val(dst, ADDR_MAX, val);
}

static int
env_pair(struct envelope *e, const char *key, const char *val)
{
	char(*r)[ADDR_MAX];

	if (strcmp(key, "sender") == 0)
		return addr_val(e->sender, val, 1);
	if (strcmp(key, "created") == 0)
		return num_val(&e->created, val, INT32_MAX * 4LL);
	if (strcmp(key, "recipient") != 0 || e->nrcpts >= RCPT_MAX)
		return -1;
	if ((r = realloc(e->rcpts, (e->nrcpts + 1) * sizeof(*r))) == NULL)
		return -1;
	e->rcpts = r;
	return addr_val(e->rcpts[e->nrcpts++], val, 0);
}

/* new/ID: the magic line, sender, created, recipients, an empty line. */
int
env_parse(const char *t, size_t len, struct envelope *e)
{
	char   key[KV_KEY_MAX], val[KV_VAL_MAX];
	size_t pos = sizeof(ENV_MAGIC);
	int    r, have_sender = 0;

	memset(e, 0, sizeof(*e));
	if (len < pos || memcmp(t, ENV_MAGIC "\n", pos) != 0)
		return -1;
	while ((r = kv_next(t, len, &pos, key, val)) == 1) {
		have_sender |= strcmp(key, "sender") == 0;
		if (env_pair(e, key, val) == -1)
			return -1;
	}
	/* the envelope ends at an empty line, not at the end of the file */
	if (r == -1 || !have_sender || e->nrcpts == 0 || e->created <= 0 ||
	    pos > len || pos < 2 || t[pos - 1] != '\n' || t[pos - 2] != '\n')
		return -1;
	e->body_off = pos;
	return 0;
}

void
env_free(struct envelope *e)
{
	free(e->rcpts);
	e->rcpts = NULL;
}

void
job_init(struct job *j)
{
	memset(j, 0, sizeof(*j));
	j->last_exit = -1;
	snprintf(j->body, sizeof(j->body), BODY_NAME);
}

static const char *const kinds[] = { "normal", "bounce", "double", "warning" };

static int
kind_val(enum job_kind *k, const char *val)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i], val) == 0) {
			*k = (enum job_kind)i;
			return 0;
		}
	return -1;
}

/* The body is a file name in the message directory, nothing else. */
static int
body_val(char *dst, const char *val)
{
	if (val[0] == '\0' || val[0] == '.' || strchr(val, '/') != NULL)
		return -1;
	return copy_val(dst, 32, val);
}

/* The job file's keys of the last attempt's texts (enum attempt_text). */
static const char *const last_keys[AT_COUNT] = { "last-outcome", "last-mx",
	"last-address", "last-security", "last-reply", "last-status",
	"last-reason" };

static int
job_pair(struct job *j, const char *key, const char *val)
{
	int64_t n = 0;
	int     r;

	if (strcmp(key, "kind") == 0)
		return kind_val(&j->kind, val);
	if (strcmp(key, "sender") == 0)
		return addr_val(j->sender, val, 1);
	if (strcmp(key, "recipient") == 0)
		return addr_val(j->rcpt, val, 0);
	if (strcmp(key, "orig") == 0)
		return addr_val(j->orig, val, 0);
	if (strcmp(key, "body") == 0)
		return body_val(j->body, val);
	if (strcmp(key, "created") == 0)
		return num_val(&j->created, val, INT64_MAX / 2);
	if (strcmp(key, "next") == 0)
		return num_val(&j->next, val, INT64_MAX / 2);
	if (strcmp(key, "attempts") == 0 || strcmp(key, "held") == 0 ||
	    strcmp(key, "warned") == 0 || strcmp(key, "last-exit") == 0) {
		if ((r = num_val(&n, val, 100000)) == -1)
			return -1;
		if (key[0] == 'a')
			j->attempts = (uint32_t)n;
		else if (key[0] == 'h')
			j->held = n != 0;
		else if (key[0] == 'w')
			j->warned = n != 0;
		else
			j->last_exit = (int)n;
		return 0;
	}
	for (n = 0; n < AT_COUNT; n++)
		if (strcmp(key, last_keys[n]) == 0)
			return copy_val(j->last[n], TEXT_MAX, val);
	return -1;
}

int
job_parse(const char *t, size_t len, struct job *j)
{
	char   key[KV_KEY_MAX], val[KV_VAL_MAX];
	size_t pos = sizeof(JOB_MAGIC);
	int    r;

	job_init(j);
	if (len < pos || memcmp(t, JOB_MAGIC "\n", pos) != 0)
		return -1;
	while ((r = kv_next(t, len, &pos, key, val)) == 1)
		if (job_pair(j, key, val) == -1)
			return -1;
	if (r == -1 || pos != len || j->rcpt[0] == '\0' || j->created <= 0)
		return -1;
	return 0;
}

size_t
job_format(const struct job *j, char *buf, size_t size)
{
	size_t o;
	int    n, i;

	n = snprintf(buf, size,
	    JOB_MAGIC "\nkind %s\nsender %s\nrecipient %s\n%s%s%sbody %s\n"
	              "created %" PRId64 "\nnext %" PRId64 "\nattempts %" PRIu32
	              "\nheld %d\nwarned %d\nlast-exit %d\n",
	    kinds[j->kind], j->sender, j->rcpt, j->orig[0] ? "orig " : "",
	    j->orig, j->orig[0] ? "\n" : "", j->body, j->created, j->next,
	    j->attempts, j->held, j->warned,
	    j->last_exit < 0 ? 0 : j->last_exit);
	for (i = 0; i < AT_COUNT && n >= 0 && (size_t)n < size; i++) {
		o = (size_t)n;
		n = snprintf(
		    buf + o, size - o, "%s %s\n", last_keys[i], j->last[i]);
		n = n < 0 ? -1 : n + (int)o;
	}
	if (n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}
