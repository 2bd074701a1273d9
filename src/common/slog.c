/*
 * Syslog without syslog(3), for processes that lock down: a datagram
 * socket connected once, before the lock-down, to the log socket
 * (/dev/log, or "syslog-socket" in mxclient.conf), then one line per
 * message in the form syslog(3) writes (RFC 3164: "<PRI>Mmm dd hh:mm:ss
 * ident[pid]: text"), facility mail.  syslog(3) would reconnect on a
 * failed send, which means socket() after the lock-down, and has its
 * path compiled in.  No log daemon listening is no error: the lines are
 * dropped, as syslog(3) drops them.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slog.h"

static int         slog_sock = -1;
static const char *slog_ident = "mxclient";
static pid_t       slog_pid;

/* A datagram socket connected to the unix socket path, or -1. */
int
dgram_connect(const char *path)
{
	struct sockaddr_un sun;
	int                s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path == NULL || strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, strlen(path));
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(s);
		return -1;
	}
	return s;
}

/* 0 if connected; -1 (and nothing is ever logged) otherwise. */
int
slog_open(const char *path, const char *ident)
{
	slog_ident = ident;
	slog_pid = getpid();
	tzset(); /* the timestamps need /etc/localtime before lock-down */
	return (slog_sock = dgram_connect(path)) == -1 ? -1 : 0;
}

/* The socket, for a process that must keep it across a descriptor sweep. */
int
slog_fd(void)
{
	return slog_sock;
}

void
slog(int prio, const char *fmt, ...)
{
	char      line[2048], stamp[32];
	time_t    now = time(NULL);
	struct tm tm;
	va_list   ap;
	int       n;

	if (slog_sock == -1)
		return;
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
		stamp[0] = '\0';
	n = snprintf(line, sizeof(line),
	    "<%d>%s %s[%ld]: ", LOG_MAIL | (prio & LOG_PRIMASK), stamp,
	    slog_ident, (long)slog_pid);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	/* one datagram; a full or absent daemon costs the line, not the run */
	(void)send(slog_sock, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
}
