/*
 * Output.  Only the parent writes progress to stdout, so lines from the
 * three children come out in one stream; children send MSG_LOG frames.
 * Server text reaches here already made printable by the caller.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"

#define LOG_BATCH_MAX 16384 /* queued log octets that go out at once */

const char *log_procname = "mxclient";

static enum proc_id log_proc = PROC_PARENT;
static struct chan *log_chan;  /* children: the channel to the parent */
static int          log_flags; /* JOB_VERBOSE, JOB_QUIET */

void
log_init(enum proc_id proc, struct chan *c, int flags)
{
	log_proc = proc;
	log_chan = c;
	log_flags = flags;
	if (c != NULL)
		chan_set_lazy(c); /* sent at the process's next wait */
	log_procname = proc == PROC_PARENT ? "mxclient" : proc_name(proc);
}

/* Whether a line of this level is shown: -q hides progress, -v adds. */
static int
log_wanted(uint32_t level)
{
	switch (level) {
	case LOGL_ERROR:
	case LOGL_WARN:
		return 1;
	case LOGL_DEBUG:
		return (log_flags & JOB_VERBOSE) != 0;
	default:
		return !(log_flags & JOB_QUIET);
	}
}

/* Parent side: print one line at its level. */
void
log_print(uint32_t level, const char *line)
{
	if (!log_wanted(level))
		return;
	if (level == LOGL_ERROR)
		fprintf(stderr, "mxclient: %s\n", line);
	else if (level == LOGL_WARN)
		fprintf(stderr, "mxclient: warning: %s\n", line);
	else {
		printf("%s\n", line);
		fflush(stdout);
	}
}

/*
 * snprintf() into a field, for the setters that pair a text with a code
 * (set_result(), set_reason()): one variadic function for all of them.
 */
void
textf(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}

/* One line at a level: log_info() and log_debug() in log.h. */
void
log_at(uint32_t level, const char *fmt, ...)
{
	char           line[1024];
	struct msg_log l;
	va_list        ap;

	/* a child sends only what the parent would show: -q costs no frame */
	if (!log_wanted(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_chan == NULL) {
		log_print(level, line);
		return;
	}
	l.level = level;
	/*
	 * A lost log line is not worth dying for; the flush error is.  The
	 * line waits for the next wait (chan_flush_lazy()) unless much has
	 * gathered.
	 */
	if (chan_compose2(log_chan, MSG_LOG, 0, &l, sizeof(l), line) == 0 &&
	    log_chan->wqlen > LOG_BATCH_MAX && chan_flush(log_chan) == -1)
		fatalx("lost the channel to the parent");
}

/* An internal fault, with errno's text unless err is 0 (fatalx()). */
void
fatal_err(int err, const char *fmt, ...)
{
	char    msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	chan_flush_lazy(); /* what this process said before it failed */
	if (err)
		fprintf(stderr, "mxclient[%s]: %s: %s\n", log_procname, msg,
		    strerror(err));
	else
		fprintf(stderr, "mxclient[%s]: %s\n", log_procname, msg);
	fflush(stderr);
	/*
	 * An internal fault must never bounce the message: the parent exits
	 * EX_TEMPFAIL, and a child exits 1, which the parent maps to it.
	 */
	_exit(log_proc == PROC_PARENT ? EX_TEMPFAIL : 1);
}
