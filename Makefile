# mxclient: send one message directly to the recipient domain's MX,
# with STARTTLS and DANE.  Local settings go in config.mak (CC, CFLAGS,
# PREFIX, ...), which this file reads last.

PREFIX ?=	/usr/local
BINDIR ?=	$(PREFIX)/bin
MANDIR ?=	$(PREFIX)/share/man
DESTDIR ?=
CC ?=		cc
PKG_CONFIG ?=	pkg-config
CFLAGS ?=	-O2 -g
# The one program the ssh process may execute (--proxy ssh://).
SSH_PATH ?=	/usr/bin/ssh

# Hardening, on by default; set any of these empty (or to your own) to
# change it.  Kept apart from CFLAGS/LDFLAGS so that flags given on the
# command line (as dpkg-buildflags does) add to them, never replace them.
HARDEN_CFLAGS ?=	-fstack-protector-strong -fPIE -D_FORTIFY_SOURCE=2
HARDEN_LDFLAGS ?=	-pie -Wl,-z,relro,-z,now

# Built from git: 0.1 and what git describe says (commit, dirty tree).
VERSION_BASE =	0.1
GIT_DESCRIBE !=	git describe --tags --always --dirty 2>/dev/null || true
VERSION =	$(VERSION_BASE)$(if $(GIT_DESCRIBE),+git.$(GIT_DESCRIBE))
OS !=		uname -s
-include config.mak

# OpenBSD has libtls and libcrypto in base and no libseccomp (pledge).
ifeq ($(OS),OpenBSD)
PKGS =		libtls ldns libcrypto
LIBS_DEFAULT =	-ltls -lldns -lcrypto
else
PKGS =		libtls libseccomp ldns libcrypto
LIBS_DEFAULT =	-ltls -lseccomp -lldns -lcrypto
endif
WARN =		-Wall -Wextra -Werror -Wstrict-prototypes \
		-Wmissing-prototypes -Wshadow -Wpointer-arith
override CFLAGS +=	$(WARN) $(HARDEN_CFLAGS)
override CPPFLAGS +=	-D_GNU_SOURCE -DMXCLIENT_VERSION='"$(VERSION)"' \
		-DSSH_PATH='"$(SSH_PATH)"' \
		-Isrc/common -Isrc/parent -Isrc/dns -Isrc/tls -Isrc/net \
		-Isandbox \
		$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
override LDLIBS +=	$(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || \
		    echo $(LIBS_DEFAULT))
# Full RELRO: every symbol is bound once, in the parent before it forks,
# not again in each child (and the GOT is read-only from the start).
override LDFLAGS +=	$(HARDEN_LDFLAGS)

COMMON_SRCS =	src/common/addr.c \
		src/common/clock.c \
		src/common/conf.c \
		src/common/fds.c \
		src/common/frame.c \
		src/common/hooks.c \
		src/common/jsonw.c \
		src/common/log.c \
		src/common/msg.c \
		src/common/slog.c \
		src/common/sts.c \
		src/common/sts_cache.c \
		src/common/tlsa.c
PARENT_SRCS =	src/parent/children.c \
		src/parent/exitreport.c \
		src/parent/main.c \
		src/parent/options.c \
		src/parent/norm.c \
		src/parent/proxy.c \
		src/parent/resolver.c \
		src/parent/setup.c \
		src/parent/stscache.c \
		src/parent/spool.c
DNS_SRCS =	src/dns/answer.c \
		src/dns/dns.c \
		src/dns/policy.c \
		src/dns/query.c \
		src/dns/tell.c \
		src/dns/txt.c \
		src/dns/wire.c
CHILD_SRCS =	$(DNS_SRCS) \
		src/net/net.c \
		src/net/socks.c \
		src/ssh/ssh.c \
		src/tls/conn.c \
		src/tls/dane.c \
		src/tls/deliver.c \
		src/tls/mail.c \
		src/tls/pkix.c \
		src/tls/fetch.c \
		src/tls/http.c \
		src/tls/sts.c \
		src/tls/tlsrpt.c \
		src/tls/reply.c \
		src/tls/report.c \
		src/tls/smtp.c \
		src/tls/starttls.c \
		src/tls/tls.c
ifeq ($(OS),OpenBSD)
SANDBOX_SRCS =	sandbox/sandbox_common.c \
		sandbox/sandbox_openbsd.c
else
SANDBOX_SRCS =	sandbox/landlock_linux.c \
		sandbox/sandbox_common.c \
		sandbox/sandbox_linux.c \
		sandbox/seccomp_tables.c
endif
SRCS =		$(COMMON_SRCS) $(PARENT_SRCS) $(CHILD_SRCS) $(SANDBOX_SRCS)
HDRS =		$(wildcard src/*/*.h sandbox/*.h)
# Test builds: the hooks of tests/hooks/hooks.c instead of the no-ops.
TEST_SRCS =	$(filter-out src/common/hooks.c,$(SRCS)) tests/hooks/hooks.c
TEST_COMMON =	$(filter-out src/common/hooks.c,$(COMMON_SRCS)) tests/hooks/hooks.c

# Test builds: unit tests, and mxclient-sbtest whose children can be told
# to try a forbidden system call after locking down.
UNIT_TESTS =	tests/unit/test_fds \
		tests/unit/test_frame \
		tests/unit/test_addr \
		tests/unit/test_norm \
		tests/unit/test_reply \
		tests/unit/test_dane \
		tests/unit/test_proxy \
		tests/unit/test_sts \
		tests/unit/test_sts_cache \
		tests/unit/test_http \
		tests/unit/test_sandbox

all: mxclient

mxclient: $(SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(SRCS) $(LDLIBS)

mxclient-sbtest: $(TEST_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(TEST_SRCS) $(LDLIBS)

tests/unit/test_frame: tests/unit/test_frame.c $(COMMON_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(COMMON_SRCS) -lcrypto

tests/unit/test_fds: tests/unit/test_fds.c src/common/fds.c $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< src/common/fds.c

tests/unit/test_addr: tests/unit/test_addr.c src/common/addr.c $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< src/common/addr.c

tests/unit/test_norm: tests/unit/test_norm.c src/parent/norm.c $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< src/parent/norm.c

PROXY_SRCS =	src/parent/proxy.c src/net/socks.c
tests/unit/test_proxy: tests/unit/test_proxy.c $(PROXY_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(PROXY_SRCS)

tests/unit/test_reply: tests/unit/test_reply.c src/tls/reply.c $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< src/tls/reply.c

tests/unit/test_dane: tests/unit/test_dane.c src/tls/dane.c \
    src/common/tlsa.c $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< src/tls/dane.c src/common/tlsa.c \
	    -lcrypto

# MTA-STS: the TXT record, policy and cache parsers, and the HTTP
# response reader of the policy fetch (no I/O in either).
STS_SRCS =	src/common/sts.c \
		src/common/sts_cache.c
HTTP_SRCS =	src/tls/http.c

tests/unit/test_sts: tests/unit/test_sts.c $(STS_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(STS_SRCS)

tests/unit/test_sts_cache: tests/unit/test_sts_cache.c $(STS_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(STS_SRCS)

tests/unit/test_http: tests/unit/test_http.c $(HTTP_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(HTTP_SRCS)

tests/unit/test_sandbox: tests/unit/test_sandbox.c $(TEST_COMMON) \
    $(SANDBOX_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(TEST_COMMON) $(SANDBOX_SRCS) \
	    $(LDLIBS)

# Per-process driver: the real dns_main() over socketpairs (lab tests).
tests/proc/dnsdrv: tests/proc/dnsdrv.c $(DNS_SRCS) src/parent/resolver.c \
    $(COMMON_SRCS) $(SANDBOX_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(DNS_SRCS) \
	    src/parent/resolver.c $(COMMON_SRCS) $(SANDBOX_SRCS) $(LDLIBS)

# The same unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
ASAN_FLAGS =	-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=undefined -DCHECK_VARIANT='"[asan]"'
ASAN_TESTS =	tests/unit/test_fds-asan \
		tests/unit/test_frame-asan \
		tests/unit/test_addr-asan \
		tests/unit/test_norm-asan \
		tests/unit/test_reply-asan \
		tests/unit/test_dane-asan \
		tests/unit/test_proxy-asan \
		tests/unit/test_sts-asan \
		tests/unit/test_sts_cache-asan \
		tests/unit/test_http-asan

tests/unit/test_frame-asan: tests/unit/test_frame.c $(COMMON_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< $(COMMON_SRCS) -lcrypto

tests/unit/test_fds-asan: tests/unit/test_fds.c src/common/fds.c $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< src/common/fds.c

tests/unit/test_addr-asan: tests/unit/test_addr.c src/common/addr.c $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< src/common/addr.c

tests/unit/test_norm-asan: tests/unit/test_norm.c src/parent/norm.c $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< src/parent/norm.c

tests/unit/test_proxy-asan: tests/unit/test_proxy.c $(PROXY_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< $(PROXY_SRCS)

tests/unit/test_reply-asan: tests/unit/test_reply.c src/tls/reply.c $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< src/tls/reply.c

tests/unit/test_sts-asan: tests/unit/test_sts.c $(STS_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< $(STS_SRCS)

tests/unit/test_sts_cache-asan: tests/unit/test_sts_cache.c $(STS_SRCS) \
    $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< $(STS_SRCS)

tests/unit/test_http-asan: tests/unit/test_http.c $(HTTP_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< $(HTTP_SRCS)

tests/unit/test_dane-asan: tests/unit/test_dane.c src/tls/dane.c \
    src/common/tlsa.c $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< src/tls/dane.c \
	    src/common/tlsa.c -lcrypto

# libFuzzer targets, one per parser of untrusted input (clang only).
# The smoke run (3 s each) is part of check; make fuzz runs longer.
FUZZ_CC =	clang
FUZZ_FLAGS =	-g -O1 -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined
FUZZ_SECONDS ?=	300
FUZZ_TARGETS =	tests/fuzz/fuzz_reply \
		tests/fuzz/fuzz_frame \
		tests/fuzz/fuzz_norm \
		tests/fuzz/fuzz_addr \
		tests/fuzz/fuzz_dane \
		tests/fuzz/fuzz_dns \
		tests/fuzz/fuzz_socks \
		tests/fuzz/fuzz_sts \
		tests/fuzz/fuzz_http

tests/fuzz/fuzz_reply: tests/fuzz/fuzz_reply.c src/tls/reply.c $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< src/tls/reply.c

tests/fuzz/fuzz_frame: tests/fuzz/fuzz_frame.c $(COMMON_SRCS) $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< $(COMMON_SRCS) -lcrypto

tests/fuzz/fuzz_norm: tests/fuzz/fuzz_norm.c src/parent/norm.c $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< src/parent/norm.c

tests/fuzz/fuzz_addr: tests/fuzz/fuzz_addr.c src/common/addr.c $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< src/common/addr.c

tests/fuzz/fuzz_socks: tests/fuzz/fuzz_socks.c $(PROXY_SRCS) $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< $(PROXY_SRCS)

tests/fuzz/fuzz_sts: tests/fuzz/fuzz_sts.c $(STS_SRCS) $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< $(STS_SRCS)

tests/fuzz/fuzz_http: tests/fuzz/fuzz_http.c $(HTTP_SRCS) $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< $(HTTP_SRCS)

tests/fuzz/fuzz_dane: tests/fuzz/fuzz_dane.c src/tls/dane.c \
    src/common/tlsa.c $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< src/tls/dane.c \
	    src/common/tlsa.c -lcrypto

# The answer parsers and the frames they become; no process entry point.
FUZZ_DNS_SRCS =	$(filter-out src/dns/dns.c,$(DNS_SRCS))
tests/fuzz/fuzz_dns: tests/fuzz/fuzz_dns.c $(FUZZ_DNS_SRCS) $(COMMON_SRCS) \
    $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< \
	    $(FUZZ_DNS_SRCS) $(COMMON_SRCS) $(LDLIBS)

fuzz: $(FUZZ_TARGETS) $(QUEUE_FUZZ)
	tests/fuzz/run.sh $(FUZZ_SECONDS)

test-programs: mxclient mxclient-sbtest $(UNIT_TESTS) $(ASAN_TESTS) \
    $(FUZZ_TARGETS) tests/proc/dnsdrv

# The README's test command: unit tests, then the lab tests inside a
# private network namespace (needs root for unshare, like the lab).
check: test-programs
	tests/run.sh

# On a fresh machine the libraries are missing too: install first, then
# build (tests/deps.sh installs only what is missing).
demo:
	@tests/deps.sh
	$(MAKE) mxclient
	tests/demo.sh

deps:
	@if [ "$(OS)" = OpenBSD ]; then \
		echo "pkg_add ldns-utils nsd unbound postfix"; \
		echo "(libtls is in base; tests are Linux-only)"; \
	else \
		tests/deps.sh; \
	fi

install: mxclient
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 mxclient $(DESTDIR)$(BINDIR)/mxclient
	install -m 644 man/mxclient.1 $(DESTDIR)$(MANDIR)/man1/mxclient.1

clean:
	rm -f mxclient mxclient-sbtest $(UNIT_TESTS) $(ASAN_TESTS) \
	    $(FUZZ_TARGETS) tests/proc/dnsdrv

# The version the binaries get (tests/build/flags.sh).
version:
	@echo $(VERSION)

.PHONY: all check demo deps fuzz install clean test-programs version

# --- runner self-test -------------------------------------------------
# tests/unit/test_runner fails on purpose in every way tests/run.sh must
# catch (abort, signal, exit without FAIL line, missing or wrong count,
# an AddressSanitizer report); tests/run.sh --selftest runs it and checks
# that each is flagged.  Its own lines never count in make check.
RUNNER_SELFTEST =	tests/unit/test_runner \
			tests/unit/test_runner-asan

tests/unit/test_runner: tests/unit/test_runner.c tests/unit/check.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $<

tests/unit/test_runner-asan: tests/unit/test_runner.c tests/unit/check.h
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $<

test-programs: $(RUNNER_SELFTEST)

# The unit tests print their count through check.h: rebuild them with it.
$(filter-out tests/unit/test_sandbox,$(UNIT_TESTS)) $(ASAN_TESTS): \
    tests/unit/check.h

clean: clean-runner-selftest
clean-runner-selftest:
	rm -f $(RUNNER_SELFTEST)

.PHONY: clean-runner-selftest
# --- end of runner self-test ------------------------------------------

# ---------------------------------------------------------------------------
# mxqueue (issue 14): the queuing sendmail front end, doc/mxqueue.md.
# Everything for it is in this block; the lines below add its targets to
# all, install, clean and test-programs.
SBINDIR ?=	$(PREFIX)/sbin
SPOOL ?=	/var/spool/mxqueue
QUEUE_USER ?=	mxqueue
SUBMIT_GROUP ?=	mxsubmit
SYSTEMD_DIR ?=	/etc/systemd/system
SENDMAIL_LINKS ?= no

QUEUE_PARSE =	src/common/conf.c \
		src/common/fds.c \
		src/common/addr.c \
		src/parent/norm.c \
		src/queue/addrlist.c \
		src/queue/header.c \
		src/queue/json.c \
		src/queue/qp.c \
		src/queue/spool.c
QUEUE_SRCS =	$(QUEUE_PARSE) \
		src/common/slog.c \
		src/queue/bounce.c \
		src/queue/fields.c \
		src/queue/import.c \
		src/queue/job.c \
		src/queue/list.c \
		src/queue/main.c \
		src/queue/qsandbox.c \
		src/queue/result.c \
		src/queue/run.c \
		src/queue/submit.c \
		src/queue/submit_init.c
QUEUE_CPPFLAGS = $(CPPFLAGS) -Isrc/queue -DMXCLIENT_PATH='"$(BINDIR)/mxclient"'
QUEUE_TESTS =	tests/unit/test_conf tests/unit/test_conf-asan
QUEUE_FUZZ =	tests/fuzz/fuzz_conf tests/fuzz/fuzz_json \
		tests/fuzz/fuzz_spool tests/fuzz/fuzz_addrlist

all: mxqueue
test-programs: mxqueue $(QUEUE_TESTS) $(QUEUE_FUZZ)
install: install-mxqueue
clean: clean-queue

mxqueue: $(QUEUE_SRCS) $(HDRS)
	$(CC) $(QUEUE_CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(QUEUE_SRCS) \
	    $(LDLIBS)

CONF_SRCS =	src/common/conf.c src/common/addr.c
tests/unit/test_conf: tests/unit/test_conf.c $(CONF_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(CONF_SRCS)

tests/unit/test_conf-asan: tests/unit/test_conf.c $(CONF_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< $(CONF_SRCS)

tests/fuzz/fuzz_conf: tests/fuzz/fuzz_conf.c $(CONF_SRCS) $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< $(CONF_SRCS)

tests/fuzz/fuzz_json: tests/fuzz/fuzz_json.c src/queue/json.c $(HDRS)
	$(FUZZ_CC) $(QUEUE_CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< \
	    src/queue/json.c

tests/fuzz/fuzz_spool: tests/fuzz/fuzz_spool.c src/queue/spool.c \
    src/common/addr.c $(HDRS)
	$(FUZZ_CC) $(QUEUE_CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< \
	    src/queue/spool.c src/common/addr.c

tests/fuzz/fuzz_addrlist: tests/fuzz/fuzz_addrlist.c src/queue/addrlist.c \
    src/queue/header.c $(HDRS)
	$(FUZZ_CC) $(QUEUE_CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< \
	    src/queue/addrlist.c src/queue/header.c

# The long soak (tests/e2e/t_queue_soak.sh with more messages).
soak: mxclient mxqueue
	QUEUE_SOAK_N=500 tests/lab/netns.sh tests/e2e/queue_soak.sh

install-mxqueue: mxqueue
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 755 mxqueue $(DESTDIR)$(SBINDIR)/mxqueue
	install -m 644 man/mxqueue.8 $(DESTDIR)$(MANDIR)/man8/mxqueue.8
	install -m 644 man/mxclient.conf.5 \
	    $(DESTDIR)$(MANDIR)/man5/mxclient.conf.5
	if [ "$(SENDMAIL_LINKS)" = yes ]; then \
		install -d $(DESTDIR)/usr/sbin $(DESTDIR)/usr/bin \
		    $(DESTDIR)/usr/lib; \
		ln -sf $(SBINDIR)/mxqueue $(DESTDIR)/usr/sbin/sendmail; \
		ln -sf $(SBINDIR)/mxqueue $(DESTDIR)/usr/bin/mailq; \
		ln -sf $(SBINDIR)/mxqueue $(DESTDIR)/usr/lib/sendmail; \
	fi

# The queue's user and group, the spool and the systemd units (root).
install-queue: install-mxqueue
	getent group $(SUBMIT_GROUP) >/dev/null || groupadd -r $(SUBMIT_GROUP)
	getent passwd $(QUEUE_USER) >/dev/null || useradd -r -d $(SPOOL) \
	    -s /usr/sbin/nologin -G $(SUBMIT_GROUP) $(QUEUE_USER)
	install -d -o $(QUEUE_USER) -g $(SUBMIT_GROUP) -m 750 $(DESTDIR)$(SPOOL)
	install -d -o $(QUEUE_USER) -g $(SUBMIT_GROUP) -m 2750 \
	    $(DESTDIR)$(SPOOL)/queue
	install -d -o $(QUEUE_USER) -g $(QUEUE_USER) -m 700 \
	    $(DESTDIR)$(SPOOL)/run
	install -d -o $(QUEUE_USER) -g $(SUBMIT_GROUP) -m 1730 \
	    $(DESTDIR)$(SPOOL)/tmp $(DESTDIR)$(SPOOL)/new
	chgrp $(SUBMIT_GROUP) $(DESTDIR)$(SBINDIR)/mxqueue
	chmod 2755 $(DESTDIR)$(SBINDIR)/mxqueue
	install -d $(DESTDIR)$(SYSTEMD_DIR)
	for u in dist/systemd/*; do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SPOOL@|$(SPOOL)|g' \
		    -e 's|@USER@|$(QUEUE_USER)|g' "$$u" \
		    >$(DESTDIR)$(SYSTEMD_DIR)/$$(basename "$$u"); \
	done
	if [ -d /run/systemd/system ] && [ -z "$(DESTDIR)" ]; then \
		systemctl daemon-reload; \
		systemctl enable --now mxqueue.path mxqueue.timer; \
	fi

# What install, install-mxqueue and install-queue put in place; the
# spool is kept when it still holds mail.
uninstall:
	-if [ -d /run/systemd/system ] && [ -z "$(DESTDIR)" ]; then \
		systemctl disable --now mxqueue.path mxqueue.timer; fi
	for u in dist/systemd/*; do \
		rm -f $(DESTDIR)$(SYSTEMD_DIR)/$$(basename "$$u"); done
	for l in /usr/sbin/sendmail /usr/bin/mailq /usr/lib/sendmail; do \
		[ "$$(readlink $(DESTDIR)$$l)" = $(SBINDIR)/mxqueue ] && \
		    rm -f $(DESTDIR)$$l; done; true
	rm -f $(DESTDIR)$(SBINDIR)/mxqueue $(DESTDIR)$(MANDIR)/man8/mxqueue.8 \
	    $(DESTDIR)$(MANDIR)/man5/mxclient.conf.5 \
	    $(DESTDIR)$(BINDIR)/mxclient $(DESTDIR)$(MANDIR)/man1/mxclient.1
	-rmdir $(DESTDIR)$(SPOOL)/tmp $(DESTDIR)$(SPOOL)/new \
	    $(DESTDIR)$(SPOOL)/queue $(DESTDIR)$(SPOOL)/run $(DESTDIR)$(SPOOL)

clean-queue:
	rm -f mxqueue $(QUEUE_TESTS) $(QUEUE_FUZZ)

.PHONY: install-mxqueue install-queue uninstall clean-queue soak
# --- benchmarks (issue 13; root; not part of check) -------------------
# make bench: one report of CPU per delivery, deliveries per second,
# large messages, peak RSS, SMTP round trips, DNS waves and instructions,
# mxclient side by side with PEER='template' (see doc/performance.md) and
# the raw STARTTLS client tests/bench/rawsmtp.  BENCH_QUICK=1: about a
# minute.  make bench-proxy: the round trips each proxy transport adds
# and mxclient against curl through SOCKS5.
BENCH_HELPERS =	tests/bench/benchrun \
		tests/bench/rawsmtp

tests/bench/benchrun: tests/bench/benchrun.c
	$(CC) $(CFLAGS) -o $@ $<

tests/bench/rawsmtp: tests/bench/rawsmtp.c
	$(CC) $(CFLAGS) $(shell $(PKG_CONFIG) --cflags libtls 2>/dev/null) \
	    -o $@ $< $(shell $(PKG_CONFIG) --libs libtls 2>/dev/null || echo -ltls)

bench: mxclient mxclient-sbtest $(BENCH_HELPERS)
	tests/lab/netns.sh tests/bench/bench.sh

bench-proxy: mxclient
	tests/lab/netns.sh tests/bench/proxy-rtt.sh 7 50
	tests/lab/netns.sh tests/bench/proxy-peer.sh 30

# the smoke test tests/e2e/t_bench.sh runs bench.sh with tiny counts
test-programs: $(BENCH_HELPERS)

clean: clean-bench
clean-bench:
	rm -f $(BENCH_HELPERS)

.PHONY: bench bench-proxy clean-bench
# --- end of benchmarks ------------------------------------------------
