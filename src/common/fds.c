/*
 * A descriptor the caller left open (at any number: 1500 is as easy to
 * leave open as 5) must not survive into a sandboxed child or ssh(1),
 * where it would outlive every restriction placed on opening things.
 * close_range(2) closes any range in one call (Linux 5.9, glibc 2.34);
 * where the kernel lacks it, /proc/self/fd lists what is open; closefrom()
 * does it on OpenBSD.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "fds.h"

int
fds_close_listed(unsigned int lo, unsigned int hi)
{
	DIR           *dir;
	struct dirent *e;
	char          *end;
	unsigned long  fd;
	int            self, rv = 0;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return -1;
	self = dirfd(dir);
	while ((e = readdir(dir)) != NULL) {
		fd = strtoul(e->d_name, &end, 10);
		if (*end != '\0' || end == e->d_name || fd < lo || fd > hi ||
		    (int)fd == self)
			continue;
		/* closing what readdir() lists is safe: the list is a snapshot */
		if (close((int)fd) == -1 && errno != EBADF)
			rv = -1;
	}
	closedir(dir);
	return rv;
}

/* [lo, hi] closed, whatever is open there. */
static int
close_span(unsigned int lo, unsigned int hi)
{
	if (lo > hi)
		return 0;
#if defined(__linux__)
	if (close_range(lo, hi, 0) == 0)
		return 0;
	if (errno != ENOSYS && errno != EPERM)
		return -1;
	/* an old kernel, or a seccomp filter that refuses the new call */
	return fds_close_listed(lo, hi);
#else
	if (hi == UINT_MAX) {
		closefrom((int)lo);
		return 0;
	}
	for (; lo <= hi; lo++)
		(void)close((int)lo);
	return 0;
#endif
}

int
fds_close_except(const int *keep, size_t n)
{
	unsigned int lo = 3, k;
	size_t       i, j;
	int          sorted[16];

	if (n > sizeof(sorted) / sizeof(sorted[0]))
		return errno = EINVAL, -1;
	/* ascending, so that the gaps between them are the spans to close */
	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && sorted[j - 1] > keep[i]; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = keep[i];
	}
	for (i = 0; i < n; i++) {
		if (sorted[i] < 3)
			continue;
		k = (unsigned int)sorted[i];
		if (k > lo && close_span(lo, k - 1) == -1)
			return -1;
		if (k >= lo)
			lo = k + 1;
	}
	return close_span(lo, UINT_MAX);
}
