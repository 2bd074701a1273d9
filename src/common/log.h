/*
 * Progress and error output.  The parent prints; a child sends MSG_LOG
 * frames to the parent, which keeps stdout in one order.  fatal() and
 * fatalx() are for internal faults only: they name the process and the
 * call that failed, write to stderr and exit(1), which the parent maps
 * to EX_TEMPFAIL.
 */
#ifndef MXC_LOG_H
#define MXC_LOG_H

#include <errno.h>
#include <stdarg.h>

#include "msg.h"

struct chan;

extern const char *log_procname;

void log_init(enum proc_id, struct chan *, int);
void log_at(uint32_t, const char *, ...) __attribute__((format(printf, 2, 3)));
void log_print(uint32_t, const char *);
void textf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
void fatal_err(int, const char *, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#define log_info(...)  log_at(LOGL_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOGL_DEBUG, __VA_ARGS__)
/* what the user must see even with -q: stderr, "warning: " */
#define log_warn(...) log_at(LOGL_WARN, __VA_ARGS__)
/* fatal(): with errno's text; fatalx(): without */
#define fatal(...)  fatal_err(errno, __VA_ARGS__)
#define fatalx(...) fatal_err(0, __VA_ARGS__)

#endif
