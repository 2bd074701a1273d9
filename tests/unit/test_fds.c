/*
 * fds_close_except() and its /proc walk (K1): nothing the caller left
 * open survives, however high its number; what is kept stays open.
 */
#include <sys/resource.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CHECK_PROG "test_fds"
#include "check.h"
#include "fds.h"

static int
is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* /dev/null at exactly fd. */
static void
open_at(int fd)
{
	int n = open("/dev/null", O_RDONLY);

	if (n == -1 || dup2(n, fd) == -1) {
		perror("test_fds: open_at");
		exit(2);
	}
	if (n != fd)
		close(n);
}

static void
check_except(void)
{
	int keep[] = { 50, 40, 50 }; /* unsorted, with a duplicate */
	int rv;

	open_at(40);
	open_at(41);
	open_at(50);
	open_at(1500);
	open_at(4000);
	rv = fds_close_except(keep, 3);
	CHECK(rv == 0 && is_open(40) && is_open(50),
	    "K1 the descriptors to keep stay open", "rv %d", rv);
	CHECK(!is_open(41) && !is_open(1500) && !is_open(4000),
	    "K1 every other one is closed, 1500 and 4000 too", "41 %d 1500 %d",
	    is_open(41), is_open(1500));
	CHECK(is_open(0) && is_open(1) && is_open(2),
	    "K1 stdin, stdout and stderr are never closed", "one is closed");
	rv = fds_close_except(NULL, 0);
	CHECK(rv == 0 && !is_open(40) && !is_open(50),
	    "K1 with nothing to keep, everything from 3 goes", "rv %d", rv);
}

/* The fallback for kernels without close_range(2). */
static void
check_listed(void)
{
	int rv;

	open_at(40);
	open_at(1500);
	open_at(3000);
	rv = fds_close_listed(1000, 2000);
	CHECK(rv == 0 && is_open(40) && !is_open(1500) && is_open(3000),
	    "K1 the /proc/self/fd walk closes exactly the range asked for",
	    "rv %d: 40 %d 1500 %d 3000 %d", rv, is_open(40), is_open(1500),
	    is_open(3000));
	rv = fds_close_listed(3, ~0U);
	CHECK(rv == 0 && !is_open(40) && !is_open(3000),
	    "K1 the /proc/self/fd walk up to the top closes the rest", "rv %d",
	    rv);
}

int
main(void)
{
	struct rlimit rl = { 8192, 8192 };

	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	check_except();
	check_listed();
	return check_exit();
}
