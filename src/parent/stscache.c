/*
 * The MTA-STS policy cache (Y20), which only the parent writes: one file
 * per policy domain, named by its validated lower-case A-label
 * (sts_cache_name(): never a raw string), holding when the policy was
 * fetched, when it expires, its id, when a fetch last failed, and the
 * verbatim policy text (TLS-RPT reports quote it).  The parent reads the
 * recipient domain's entry before any child starts and re-parses
 * everything it reads and everything tls sends before it writes: a file
 * that does not parse is ignored with a warning, never trusted.  Writes
 * go through a directory descriptor opened before the lock-down: a new
 * file (O_EXCL), fsync, rename over the old one, fsync of the directory
 * — a crash leaves the old entry or the new one, never a torn file.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"
#include "proc.h"
#include "sts.h"

#define UNUSED_MAX (180 * 24 * 60 * 60) /* entries unused this long go */
#define FILE_MAX   (2 * STS_BODY_MAX)   /* an entry, text and all */

static struct sts_cache entry; /* the recipient domain's, as read */

/* mkdir -p, mode 0700; for root, owned by the children's user. */
static int
make_dir(char *path, uid_t uid, gid_t gid, int chown_it)
{
	char *p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	/* the parent writes as the children's user once it drops root */
	if (chown_it && chown(path, uid, gid) == -1)
		return -1;
	return 0;
}

/* The default place: /var/cache for root, the XDG cache for a user. */
static int
default_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (geteuid() == 0)
		return snprintf(buf, len, "/var/cache/mxclient/sts") >=
		    (int)len;
	if (xdg != NULL && xdg[0] == '/')
		return snprintf(buf, len, "%s/mxclient/sts", xdg) >= (int)len;
	if (home != NULL && home[0] == '/')
		return snprintf(buf, len, "%s/.cache/mxclient/sts", home) >=
		    (int)len;
	return -1;
}

/*
 * Open the cache directory (creating it), before the lock-down.  An
 * explicit --sts-cache that cannot be used is a configuration error
 * (78); the default one is only warned about.
 */
void
stscache_open(
    struct stscache *c, const struct options *o, const struct child_cfg *cfg)
{
	char dir[1024];

	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
	if (o->sts_cache != NULL && strcmp(o->sts_cache, "none") == 0)
		return;
	if (o->sts_cache != NULL)
		snprintf(dir, sizeof(dir), "%s", o->sts_cache);
	else if (default_dir(dir, sizeof(dir)) != 0)
		return;
	if (make_dir(dir, cfg->sb.uid, cfg->sb.gid, cfg->sb.drop) == -1 ||
	    (c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (o->sts_cache != NULL)
			config_exit(EX_CONFIG, "MTA-STS cache %s: %s", dir,
			    strerror(errno));
		fprintf(stderr, "mxclient: warning: MTA-STS cache %s: %s\n",
		    dir, strerror(errno));
		return;
	}
}

/* The recipient domain's entry, if any: read, re-parsed, marked used. */
void
stscache_load(struct stscache *c, const char *domain)
{
	static uint8_t buf[FILE_MAX];
	ssize_t        n;
	int            fd;

	if (c->dirfd == -1 || sts_cache_name(domain, c->name, sizeof(c->name)))
		return;
	snprintf(c->domain, sizeof(c->domain), "%s", domain);
	if ((fd = openat(
	         c->dirfd, c->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return; /* no entry yet */
	n = read(fd, buf, sizeof(buf));
	/* "last used" is the file's time: entries unused for long go */
	(void)futimens(fd, NULL);
	close(fd);
	if (n <= 0 || n == (ssize_t)sizeof(buf) ||
	    sts_cache_parse(buf, (size_t)n, &entry) == -1) {
		fprintf(stderr,
		    "mxclient: warning: ignoring the damaged MTA-STS cache entry for %s\n",
		    domain);
		return;
	}
	c->have = 1;
}

/* The entry to tls, before the job (MSG_STS_CACHED). */
void
stscache_send(const struct stscache *c, struct chan *tls)
{
	static uint8_t buf[sizeof(struct msg_sts) + STS_BODY_MAX];
	struct msg_sts m;

	if (!c->have)
		return;
	memset(&m, 0, sizeof(m));
	m.fetched = entry.fetched;
	m.expires = entry.expires;
	m.failed = entry.failed;
	snprintf(m.id, sizeof(m.id), "%s", entry.id);
	snprintf(m.domain, sizeof(m.domain), "%s", c->domain);
	memcpy(buf, &m, sizeof(m));
	memcpy(buf + sizeof(m), entry.text, entry.textlen);
	if (chan_compose(tls, MSG_STS_CACHED, 0, -1, buf,
	        sizeof(m) + entry.textlen) == -1)
		fatalx("cannot send the cached policy: %s", tls->err);
}

/* Write one entry: a new file, fsync, rename over, fsync the directory. */
static void
write_entry(struct stscache *c, const struct sts_cache *e)
{
	static char buf[FILE_MAX];
	char        tmp[300];
	size_t      len = sts_cache_format(e, buf, sizeof(buf));
	ssize_t     n = -1;
	int         fd;

	snprintf(tmp, sizeof(tmp), ".new.%s", c->name);
	(void)unlinkat(c->dirfd, tmp, 0); /* left by a crash */
	fd = openat(c->dirfd, tmp,
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (len > 0 && fd != -1)
		n = write(fd, buf, len);
	if (fd == -1 || n != (ssize_t)len || fsync(fd) == -1 ||
	    close(fd) == -1 ||
	    renameat(c->dirfd, tmp, c->dirfd, c->name) == -1 ||
	    fsync(c->dirfd) == -1) {
		fprintf(stderr,
		    "mxclient: warning: cannot write the MTA-STS cache entry for %s: %s\n",
		    c->domain, strerror(errno));
		(void)unlinkat(c->dirfd, tmp, 0);
	}
}

/*
 * tls fetched a policy, or failed to (MSG_STS_STORE).  The text is
 * parsed again here: the parent writes only what it has checked itself.
 */
void
stscache_store(struct stscache *c, const struct frame *f)
{
	static struct sts_cache e;
	struct msg_sts          m;
	size_t                  len = f->len - sizeof(m);

	memcpy(&m, f->data, sizeof(m));
	if (c->dirfd == -1 || strcmp(m.domain, c->domain) != 0)
		return;
	if (m.fetched == 0) {
		/* a failed fetch: remembered, the old policy kept */
		if (c->have)
			e = entry;
		else
			memset(&e, 0, sizeof(e));
		e.failed = m.failed;
	} else {
		memset(&e, 0, sizeof(e));
		if (len > STS_BODY_MAX ||
		    sts_policy_parse((const char *)f->data + sizeof(m), len,
		        &e.pol) != STS_P_OK ||
		    m.expires != m.fetched + e.pol.max_age)
			return; /* not what tls should have sent: not written */
		e.fetched = m.fetched;
		e.expires = m.expires;
		memcpy(e.id, m.id, sizeof(e.id));
		memcpy(e.text, f->data + sizeof(m), len);
		e.text[len] = '\0';
		e.textlen = len;
	}
	e.used = time(NULL);
	write_entry(c, &e);
}

/* --sts-refresh: entries unused for 180 days are dropped (before lock-down). */
void
stscache_prune(const struct stscache *c)
{
	struct dirent *de;
	struct stat    st;
	time_t         now = time(NULL);
	DIR           *dir;
	int            fd;

	if (c->dirfd == -1 || (fd = dup(c->dirfd)) == -1 ||
	    (dir = fdopendir(fd)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' && de->d_name[1] != 'n')
			continue; /* ".", "..", but not ".new." leftovers */
		if (fstatat(c->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		        0 &&
		    S_ISREG(st.st_mode) && now - st.st_mtime > UNUSED_MAX)
			(void)unlinkat(c->dirfd, de->d_name, 0);
	}
	closedir(dir);
}
