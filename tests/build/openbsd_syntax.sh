#!/bin/sh
# The OpenBSD branches (#ifdef __OpenBSD__, sandbox_openbsd.c) compiled
# here with -fsyntax-only: __linux__ undefined, __OpenBSD__ defined, and
# openbsd.h declaring pledge, unveil and setproctitle.  This catches what
# the Linux build never compiles (a typo, a wrong type or call in those
# branches); it is not an OpenBSD build: the headers are glibc's (so a
# Linux-only flag glibc defines, such as MSG_MORE, still passes), nothing
# is linked and nothing runs (README, Platforms).
cd "$(dirname "$0")/../.." || exit 1
CC=${CC:-cc}
pass=0 fail=0
for f in src/common/*.c src/parent/*.c src/dns/*.c src/net/*.c src/tls/*.c \
    src/ssh/*.c sandbox/sandbox_common.c sandbox/sandbox_openbsd.c; do
	if out=$($CC -fsyntax-only -U__linux__ -D__OpenBSD__ \
	    -include tests/build/openbsd.h -D_GNU_SOURCE \
	    -DMXCLIENT_VERSION='"openbsd"' -DSSH_PATH='"/usr/bin/ssh"' \
	    -Isrc/common -Isrc/parent -Isrc/dns -Isrc/tls -Isrc/net \
	    -Isandbox -Wall -Wextra -Werror "$f" 2>&1); then
		echo "PASS: openbsd: $f compiles with the OpenBSD branches"
		pass=$((pass + 1))
	else
		printf '%s\n' "$out" | sed 's/^/# /'
		echo "FAIL: openbsd: $f compiles with the OpenBSD branches"
		fail=$((fail + 1))
	fi
done
echo "# openbsd_syntax.sh: $pass passed, $fail failed"
[ "$fail" = 0 ]
