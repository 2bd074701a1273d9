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

VERSION =	0.1
OS !=		uname -s
-include config.mak

PKGS =		libtls libseccomp ldns libcrypto
WARN =		-Wall -Wextra -Werror -Wstrict-prototypes \
		-Wmissing-prototypes -Wshadow -Wpointer-arith
CFLAGS +=	$(WARN)
CPPFLAGS +=	-D_GNU_SOURCE -DMXCLIENT_VERSION='"$(VERSION)"' \
		-DSSH_PATH='"$(SSH_PATH)"' \
		-Isrc/common -Isrc/parent -Isrc/tls -Isrc/net -Isandbox \
		$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LDLIBS +=	$(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || \
		    echo -ltls -lseccomp -lldns -lcrypto)

COMMON_SRCS =	src/common/fds.c \
		src/common/frame.c \
		src/common/log.c \
		src/common/msg.c \
		src/common/tlsa.c
PARENT_SRCS =	src/parent/addr.c \
		src/parent/main.c \
		src/parent/norm.c \
		src/parent/proxy.c \
		src/parent/resolver.c \
		src/parent/spool.c
CHILD_SRCS =	src/dns/dns.c \
		src/net/net.c \
		src/net/socks.c \
		src/ssh/ssh.c \
		src/tls/conn.c \
		src/tls/dane.c \
		src/tls/reply.c \
		src/tls/report.c \
		src/tls/tls.c
ifeq ($(OS),OpenBSD)
SANDBOX_SRCS =	sandbox/sandbox_common.c \
		sandbox/sandbox_openbsd.c
else
SANDBOX_SRCS =	sandbox/sandbox_common.c \
		sandbox/sandbox_linux.c \
		sandbox/seccomp_tables.c
endif
SRCS =		$(COMMON_SRCS) $(PARENT_SRCS) $(CHILD_SRCS) $(SANDBOX_SRCS)
HDRS =		$(wildcard src/*/*.h sandbox/*.h)

# Test builds: unit tests, and mxclient-sbtest whose children can be told
# to try a forbidden system call after locking down.
UNIT_TESTS =	tests/unit/test_fds \
		tests/unit/test_frame \
		tests/unit/test_addr \
		tests/unit/test_norm \
		tests/unit/test_reply \
		tests/unit/test_dane \
		tests/unit/test_proxy \
		tests/unit/test_sandbox

all: mxclient

mxclient: $(SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(SRCS) $(LDLIBS)

mxclient-sbtest: $(SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) -DSANDBOX_TEST $(CFLAGS) $(LDFLAGS) -o $@ \
	    $(SRCS) $(LDLIBS)

tests/unit/test_frame: tests/unit/test_frame.c $(COMMON_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(COMMON_SRCS) -lcrypto

tests/unit/test_fds: tests/unit/test_fds.c src/common/fds.c $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< src/common/fds.c

tests/unit/test_addr: tests/unit/test_addr.c src/parent/addr.c $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< src/parent/addr.c

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

tests/unit/test_sandbox: tests/unit/test_sandbox.c $(COMMON_SRCS) \
    $(SANDBOX_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) -DSANDBOX_TEST $(CFLAGS) -o $@ $< $(COMMON_SRCS) \
	    $(SANDBOX_SRCS) $(LDLIBS)

# Per-process driver: the real dns_main() over socketpairs (lab tests).
tests/proc/dnsdrv: tests/proc/dnsdrv.c src/dns/dns.c src/parent/resolver.c \
    $(COMMON_SRCS) $(SANDBOX_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< src/dns/dns.c \
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
		tests/unit/test_proxy-asan

tests/unit/test_frame-asan: tests/unit/test_frame.c $(COMMON_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< $(COMMON_SRCS) -lcrypto

tests/unit/test_fds-asan: tests/unit/test_fds.c src/common/fds.c $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< src/common/fds.c

tests/unit/test_addr-asan: tests/unit/test_addr.c src/parent/addr.c $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< src/parent/addr.c

tests/unit/test_norm-asan: tests/unit/test_norm.c src/parent/norm.c $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< src/parent/norm.c

tests/unit/test_proxy-asan: tests/unit/test_proxy.c $(PROXY_SRCS) $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< $(PROXY_SRCS)

tests/unit/test_reply-asan: tests/unit/test_reply.c src/tls/reply.c $(HDRS)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -o $@ $< src/tls/reply.c

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
		tests/fuzz/fuzz_socks

tests/fuzz/fuzz_reply: tests/fuzz/fuzz_reply.c src/tls/reply.c $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< src/tls/reply.c

tests/fuzz/fuzz_frame: tests/fuzz/fuzz_frame.c $(COMMON_SRCS) $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< $(COMMON_SRCS) -lcrypto

tests/fuzz/fuzz_norm: tests/fuzz/fuzz_norm.c src/parent/norm.c $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< src/parent/norm.c

tests/fuzz/fuzz_addr: tests/fuzz/fuzz_addr.c src/parent/addr.c $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< src/parent/addr.c

tests/fuzz/fuzz_socks: tests/fuzz/fuzz_socks.c $(PROXY_SRCS) $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< $(PROXY_SRCS)

tests/fuzz/fuzz_dane: tests/fuzz/fuzz_dane.c src/tls/dane.c \
    src/common/tlsa.c $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< src/tls/dane.c \
	    src/common/tlsa.c -lcrypto

# dns.c is #included by the target (its parsers are static).
tests/fuzz/fuzz_dns: tests/fuzz/fuzz_dns.c src/dns/dns.c $(COMMON_SRCS) \
    $(SANDBOX_SRCS) $(HDRS)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_FLAGS) -o $@ $< $(COMMON_SRCS) \
	    $(SANDBOX_SRCS) $(LDLIBS)

fuzz: $(FUZZ_TARGETS)
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

.PHONY: all check demo deps fuzz install clean test-programs

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
