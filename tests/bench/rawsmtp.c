/*
 * rawsmtp - the benchmarks' floor: the least an SMTP client must do to
 * hand one message to one server over STARTTLS.
 *
 *   rawsmtp -c ADDR[:PORT] -f FROM -r RCPT -m FILE [-n SERVERNAME]
 *           [-C CAFILE] [-H HELO] [-v]
 *
 * FILE holds the message exactly as it goes on the wire between DATA and
 * the final dot: CRLF line endings, dot-stuffed, ending in CRLF (the
 * benchmarks' genmsg.py writes it).  rawsmtp connects to ADDR (port 25),
 * and sends EHLO, STARTTLS, EHLO, then MAIL, RCPT and DATA in one write
 * when the server offers PIPELINING (one at a time otherwise), the bytes
 * of FILE in read()s and tls_write()s of 256 KiB (an mmap would be no
 * faster and would count the whole file in the peak RSS), and ".",
 * QUIT in one write; it waits for the 221.  No DNS, no parsing of the
 * message.  The certificate is not checked unless -C names a CA file
 * (then chain and SERVERNAME, default the ADDR, are verified by libtls).
 * -v prints the replies.  Exit 0 when the server said 250 after the dot,
 * 1 otherwise (with the reason on stderr), 2 on a usage error.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tls.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

struct conn {
	int         fd;
	struct tls *tls; /* NULL before STARTTLS */
	char        buf[8192];
	size_t      len, off;
	int         verbose;
};

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("rawsmtp: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: rawsmtp -c ADDR[:PORT] -f FROM -r RCPT -m FILE "
	    "[-n SERVERNAME] [-C CAFILE] [-H HELO] [-v]\n");
	exit(2);
}

/*
 * sock_read: read(), asking for an immediate ACK first.  Postfix does not
 * set TCP_NODELAY: a reply it writes in two pieces (a TLS 1.3 session
 * ticket, then the EHLO reply) waits for the ACK of the first, and a
 * client that only reads would delay that ACK by up to 40 ms.
 */
static ssize_t
sock_read(int fd, void *buf, size_t n)
{
	int     one = 1;
	ssize_t r;

	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
	do
		r = read(fd, buf, n);
	while (r == -1 && errno == EINTR);
	return r;
}

static ssize_t
tls_read_cb_fd(struct tls *ctx, void *buf, size_t n, void *arg)
{
	(void)ctx;
	return sock_read(*(int *)arg, buf, n);
}

static ssize_t
tls_write_cb_fd(struct tls *ctx, const void *buf, size_t n, void *arg)
{
	ssize_t w;

	(void)ctx;
	do
		w = write(*(int *)arg, buf, n);
	while (w == -1 && errno == EINTR);
	return w;
}

static void
send_all(struct conn *c, const void *p, size_t n)
{
	const char *s = p;
	ssize_t     w;

	while (n > 0) {
		if (c->tls) {
			w = tls_write(c->tls, s, n);
			if (w == TLS_WANT_POLLIN || w == TLS_WANT_POLLOUT)
				continue;
			if (w == -1)
				die("tls_write: %s", tls_error(c->tls));
		} else {
			w = write(c->fd, s, n);
			if (w == -1 && errno == EINTR)
				continue;
			if (w == -1)
				die("write: %s", strerror(errno));
		}
		s += w;
		n -= w;
	}
}

static void
sendf(struct conn *c, const char *fmt, ...)
{
	char    buf[2048];
	va_list ap;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		die("command too long");
	send_all(c, buf, n);
}

/* fill: read more into c->buf; 0 at end of file */
static size_t
fill(struct conn *c)
{
	ssize_t r;

	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == sizeof c->buf)
		die("reply line too long");
	for (;;) {
		if (c->tls) {
			r = tls_read(
			    c->tls, c->buf + c->len, sizeof c->buf - c->len);
			if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT)
				continue;
			if (r == -1)
				die("tls_read: %s", tls_error(c->tls));
		} else {
			r = sock_read(
			    c->fd, c->buf + c->len, sizeof c->buf - c->len);
			if (r == -1)
				die("read: %s", strerror(errno));
		}
		c->len += r;
		return r;
	}
}

/*
 * reply: read one (multi-line) reply; return its code.  If ext is not
 * NULL, set *ext when a line of it is that EHLO keyword.
 */
static int
reply(struct conn *c, const char *ext, int *found)
{
	size_t klen = ext ? strlen(ext) : 0;
	int    code;

	for (;;) {
		char *line = c->buf + c->off, *nl;
		int   last;

		nl = memchr(line, '\n', c->len - c->off);
		if (!nl) {
			if (fill(c) == 0)
				die("connection closed by the server");
			continue;
		}
		if (nl - line < 4 || line[0] < '2' || line[0] > '5')
			die("malformed reply: %.*s", (int)(nl - line), line);
		if (c->verbose)
			printf("<<< %.*s\n", (int)(nl - line), line);
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		last = line[3] == ' ' || line[3] == '\r';
		if (ext && (size_t)(nl - line) >= 4 + klen &&
		    strncasecmp(line + 4, ext, klen) == 0 &&
		    (line[4 + klen] == '\r' || line[4 + klen] == ' ' ||
		        line[4 + klen] == '\n'))
			*found = 1;
		c->off = nl + 1 - c->buf;
		if (last)
			return code;
	}
}

static void
expect(struct conn *c, int want, const char *what)
{
	int code = reply(c, NULL, NULL);

	if (code != want)
		die("%s: %d, not %d", what, code, want);
}

static int
ehlo(struct conn *c, const char *helo, const char *ext)
{
	int found = 0;

	sendf(c, "EHLO %s\r\n", helo);
	if (reply(c, ext, &found) != 250)
		die("EHLO refused");
	return found;
}

static int
dial(const char *spec)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char               host[64], *colon;
	int                fd, one = 1;

	if (strlen(spec) >= sizeof host)
		usage();
	strcpy(host, spec);
	sin.sin_port = htons(25);
	colon = strchr(host, ':');
	if (colon) {
		*colon = '\0';
		sin.sin_port = htons(atoi(colon + 1));
	}
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		die("%s: not an IPv4 address", host);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		die("connect %s: %s", spec, strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

int
main(int argc, char **argv)
{
	const char *addr = NULL, *from = NULL, *rcpt = NULL, *file = NULL;
	const char *name = NULL, *cafile = NULL, *helo = "rawsmtp.invalid";
	struct tls_config *cfg;
	struct conn        c = { .fd = -1 };
	static char        chunk[CHUNK];
	ssize_t            n;
	int                ch, mfd, pipelining;

	while ((ch = getopt(argc, argv, "c:f:r:m:n:C:H:v")) != -1) {
		switch (ch) {
		case 'c':
			addr = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 'r':
			rcpt = optarg;
			break;
		case 'm':
			file = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'C':
			cafile = optarg;
			break;
		case 'H':
			helo = optarg;
			break;
		case 'v':
			c.verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (!addr || !from || !rcpt || !file || optind != argc)
		usage();

	mfd = open(file, O_RDONLY | O_CLOEXEC);
	if (mfd == -1)
		die("%s: %s", file, strerror(errno));
	posix_fadvise(mfd, 0, 0, POSIX_FADV_SEQUENTIAL);

	if (tls_init() == -1 || !(cfg = tls_config_new()))
		die("tls_init failed");
	if (cafile) {
		if (tls_config_set_ca_file(cfg, cafile) == -1)
			die("%s: %s", cafile, tls_config_error(cfg));
	} else {
		tls_config_insecure_noverifycert(cfg);
		tls_config_insecure_noverifyname(cfg);
	}

	c.fd = dial(addr);
	expect(&c, 220, "greeting");
	if (!ehlo(&c, helo, "STARTTLS"))
		die("no STARTTLS offered");
	sendf(&c, "STARTTLS\r\n");
	expect(&c, 220, "STARTTLS");
	if (c.off != c.len)
		die("data after the 220 to STARTTLS");
	c.tls = tls_client();
	if (!c.tls || tls_configure(c.tls, cfg) == -1)
		die("tls_configure failed");
	if (!name) {
		/* the address without its port (libtls sends no SNI then) */
		static char host[64];

		snprintf(
		    host, sizeof host, "%.*s", (int)strcspn(addr, ":"), addr);
		name = host;
	}
	if (tls_connect_cbs(
	        c.tls, tls_read_cb_fd, tls_write_cb_fd, &c.fd, name) == -1)
		die("tls_connect_cbs: %s", tls_error(c.tls));
	if (tls_handshake(c.tls) == -1)
		die("TLS handshake: %s", tls_error(c.tls));
	if (c.verbose)
		printf("TLS: %s %s\n", tls_conn_version(c.tls),
		    tls_conn_cipher(c.tls));
	pipelining = ehlo(&c, helo, "PIPELINING");
	if (pipelining) {
		sendf(&c, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", from,
		    rcpt);
		expect(&c, 250, "MAIL");
		expect(&c, 250, "RCPT");
		expect(&c, 354, "DATA");
	} else {
		sendf(&c, "MAIL FROM:<%s>\r\n", from);
		expect(&c, 250, "MAIL");
		sendf(&c, "RCPT TO:<%s>\r\n", rcpt);
		expect(&c, 250, "RCPT");
		sendf(&c, "DATA\r\n");
		expect(&c, 354, "DATA");
	}
	while ((n = read(mfd, chunk, sizeof chunk)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("%s: %s", file, strerror(errno));
		send_all(&c, chunk, n);
	}
	if (pipelining) {
		sendf(&c, ".\r\nQUIT\r\n");
		expect(&c, 250, "end of data");
	} else {
		sendf(&c, ".\r\n");
		expect(&c, 250, "end of data");
		sendf(&c, "QUIT\r\n");
	}
	expect(&c, 221, "QUIT");
	tls_close(c.tls);
	tls_free(c.tls);
	tls_config_free(cfg);
	close(c.fd);
	return 0;
}
