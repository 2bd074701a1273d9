/*
 * /etc/mxclient.conf: the settings mxclient and mxqueue share.  One
 * setting per line, "key = value"; an alias line is "name: address[,
 * address...]"; '#' starts a comment line.  Unknown keys, a key set twice
 * and bad values are errors that name the file and line.  The keys live
 * in one table in conf.c: a new key is one row and, if its value is of a
 * new kind, one handler.
 */
#ifndef MXC_CONF_H
#define MXC_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_DEFAULT_PATH "/etc/mxclient.conf"
#define CONF_ENV          "MXCLIENT_CONF"
#define CONF_LINE_MAX     1024
#define CONF_STR_MAX      256
#define CONF_PATH_MAX     1024
#define CONF_ALIAS_MAX    1024 /* alias lines per file */
#define CONF_TARGETS_MAX  32   /* addresses per alias */

enum conf_err {
	CONF_OK = 0,
	CONF_ERR_OPEN,   /* a named file cannot be opened */
	CONF_ERR_READ,   /* read error, or the file is too large */
	CONF_ERR_SYNTAX, /* not "key = value" nor "name: addresses" */
	CONF_ERR_KEY,    /* unknown key */
	CONF_ERR_VALUE,  /* the value is not valid for the key */
	CONF_ERR_TWICE,  /* a key or alias set twice */
	CONF_ERR_NOMEM
};

enum conf_longlines {
	CONF_LONG_REFUSE = 0, /* exit 65, as mxclient would */
	CONF_LONG_QP          /* re-encode the body as quoted-printable */
};

struct conf_alias {
	char  *name;    /* local part, lower case; "default" = catch-all */
	char **targets; /* addresses */
	size_t ntargets;
};

struct conf {
	/* mxclient's settings */
	char resolver[CONF_STR_MAX];
	char helo[CONF_STR_MAX];
	char proxy[CONF_STR_MAX];
	char user[CONF_STR_MAX];
	int  dane_only;
	char syslog_socket[CONF_PATH_MAX]; /* "": /dev/log */
	/* addresses */
	char domain[CONF_STR_MAX]; /* for unqualified addresses */
	char admin[CONF_STR_MAX];  /* double bounces */
	/* the queue */
	char                spool[CONF_PATH_MAX];
	char                mxclient[CONF_PATH_MAX]; /* "": beside mxqueue */
	uint32_t            parallelism;
	uint32_t            domain_parallelism;
	uint32_t            retry_first; /* seconds */
	uint32_t            retry_max;
	uint32_t            lifetime;
	uint32_t            delay_warning; /* seconds; 0: no warnings */
	enum conf_longlines long_lines;
	int                 run_on_submit;
	/* aliases, in file order */
	struct conf_alias *aliases;
	size_t             naliases;
	/* where the settings came from ("" when no file was read) */
	char     path[CONF_PATH_MAX];
	uint64_t set; /* bit i: key i of the table was set by the file */
};

void          conf_init(struct conf *);
enum conf_err conf_load(const char *, struct conf *, char *, size_t);
enum conf_err conf_parse(
    const char *, const char *, size_t, struct conf *, char *, size_t);
const struct conf_alias *conf_alias(const struct conf *, const char *);
int                      conf_isset(const struct conf *, const char *);
void                     conf_free(struct conf *);
const char              *conf_strerror(enum conf_err);

#endif
