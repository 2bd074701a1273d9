/*
 * benchrun - run a command N times, at most J at once, and print the wall
 * time and the CPU time and peak RSS of every process it made.
 *
 *   benchrun [-n RUNS] [-j PARALLEL] [-i INPUT] [-o OUTPUT] [-t SECONDS]
 *            -- COMMAND [ARG...]
 *
 * Each run gets standard input from INPUT (default /dev/null), opened
 * afresh, and standard output and error appended to OUTPUT (default
 * /dev/null).  Each run is the leader of a new process group, so that a
 * run still alive after SECONDS (default 600, counted from the first
 * start) is killed with all its processes.
 *
 * When every run has been reaped it prints one line:
 *
 *   runs N failed F wall_us W user_us U sys_us S maxrss_kb M status X
 *
 * wall_us is from the first fork to the last reap (CLOCK_MONOTONIC).
 * user_us and sys_us add up the rusage that wait4() gives for each run:
 * on Linux that is the process itself plus every descendant it waited
 * for (mxclient's parent reaps dns, net and tls, so a run counts all
 * four).  maxrss_kb is the largest ru_maxrss of a run, which is the
 * largest of its process tree.  failed counts runs that did not exit 0;
 * status is the wait status of the last failed one (0 if none).  The
 * exit status is 0 if no run failed, 1 if one did, 2 on a usage error.
 */
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long
tv_us(const struct timeval *tv)
{
	return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: benchrun [-n RUNS] [-j PARALLEL] [-i INPUT] "
	    "[-o OUTPUT] [-t SECONDS] -- COMMAND [ARG...]\n");
	exit(2);
}

static long
number(const char *s, long min, long max)
{
	char *end;
	long  v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		usage();
	return v;
}

static sigset_t orig; /* the signal mask to give each run */

static pid_t
start(char **argv, const char *input, int out)
{
	pid_t pid;
	int   in;

	pid = fork();
	if (pid == -1) {
		perror("benchrun: fork");
		return -1;
	}
	if (pid > 0)
		return pid;
	setpgid(0, 0);
	in = open(input, O_RDONLY);
	if (in == -1) {
		fprintf(stderr, "benchrun: %s: %s\n", input, strerror(errno));
		_exit(127);
	}
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(out, 2) == -1)
		_exit(127);
	if (in > 2)
		close(in);
	if (out > 2)
		close(out);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	execvp(argv[0], argv);
	fprintf(stderr, "benchrun: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int
main(int argc, char **argv)
{
	const char *input = "/dev/null", *output = "/dev/null";
	long        runs = 1, par = 1, timeout = 600, started = 0, live = 0;
	long        failed = 0, maxrss = 0;
	long long   t0, utime = 0, stime = 0, deadline;
	int         c, out, laststatus = 0;
	pid_t      *pids;
	sigset_t    chld;

	while ((c = getopt(argc, argv, "+n:j:i:o:t:")) != -1) {
		switch (c) {
		case 'n':
			runs = number(optarg, 1, 1000000);
			break;
		case 'j':
			par = number(optarg, 1, 4096);
			break;
		case 'i':
			input = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 't':
			timeout = number(optarg, 1, 86400);
			break;
		default:
			usage();
		}
	}
	argv += optind;
	if (!argv[0])
		usage();
	out = open(output, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (out == -1) {
		fprintf(stderr, "benchrun: %s: %s\n", output, strerror(errno));
		return 2;
	}
	pids = calloc(par, sizeof *pids);
	if (!pids)
		return 2;
	/* SIGCHLD stays blocked: sigtimedwait() picks it up */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &orig);

	t0 = now_us();
	deadline = t0 + (long long)timeout * 1000000;
	while (started < runs || live > 0) {
		struct rusage   ru;
		struct timespec ts;
		long long       left;
		int             status;
		pid_t           pid;
		long            i;

		while (started < runs && live < par) {
			pid = start(argv, input, out);
			if (pid == -1)
				return 2;
			for (i = 0; pids[i]; i++)
				;
			pids[i] = pid;
			live++;
			started++;
		}
		pid = wait4(-1, &status, WNOHANG, &ru);
		if (pid == 0) {
			left = deadline - now_us();
			if (left <= 0) {
				for (i = 0; i < par; i++)
					if (pids[i])
						kill(-pids[i], SIGKILL);
				deadline = LLONG_MAX;
				continue;
			}
			ts.tv_sec = left / 1000000;
			ts.tv_nsec = left % 1000000 * 1000;
			sigtimedwait(&chld, NULL, &ts);
			continue;
		}
		if (pid == -1) {
			perror("benchrun: wait4");
			return 2;
		}
		for (i = 0; i < par && pids[i] != pid; i++)
			;
		if (i == par)
			continue;
		pids[i] = 0;
		live--;
		utime += tv_us(&ru.ru_utime);
		stime += tv_us(&ru.ru_stime);
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			failed++;
			laststatus = status;
		}
	}
	printf("runs %ld failed %ld wall_us %lld user_us %lld sys_us %lld "
	       "maxrss_kb %ld status %d\n",
	    runs, failed, now_us() - t0, utime, stime, maxrss, laststatus);
	return failed ? 1 : 0;
}
