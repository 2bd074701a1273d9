#!/bin/bash
# The sandboxes of both mxqueue roles as the kernel
# shows them (Q23, Q24): no_new_privs and a seccomp filter in the
# submitter (blocked on its standard input, after lock-down) and in the
# runner and the mxclient it started (blocked on a slow server).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/queue_lib.sh"
top=$(cd "$E2E_LIB_DIR/../.." && pwd)
q_setup
status_of() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
fifo=$E2E_TMP/stdin
mkfifo "$fifo"
"$MXQUEUE" -f sb@secure.example sb@secure.example <"$fifo" &
sub=$!
exec 7>"$fifo"
printf 'Subject: sandbox\n\n' >&7
sleep 0.5
expect_eq "Q23 the submitter runs with no_new_privs" 1 "$(status_of $sub NoNewPrivs)"
expect_eq "Q23 the submitter runs under a seccomp filter" 2 "$(status_of $sub Seccomp)"
check "Q23 the submitter holds no write descriptor outside tmp/ and new/" sh -c "
	for fd in /proc/$sub/fd/*; do l=\$(readlink \$fd); case \$l in $SPOOL/*|/dev/*|pipe:*|socket:*|$fifo) ;; *) echo \$l; exit 1;; esac; done"
echo body >&7
exec 7>&-
rc=0
wait $sub || rc=$?
expect_eq "Q23 the sandboxed submitter queues the message" 0 "$rc"

q_fixture --slow 2
printf 'Subject: held\n\n' | "$MXQUEUE" -f sb@secure.example slow-sb@slow.example
"$MXQUEUE" -q &
run=$!
sleep 0.8
mx=$(pgrep -P $run -x mxclient | head -1)
expect_eq "Q24 the runner runs with no_new_privs" 1 "$(status_of $run NoNewPrivs)"
expect_eq "Q24 the runner runs under a seccomp filter" 2 "$(status_of $run Seccomp)"
if [ -n "$mx" ]; then
	expect_eq "Q24 mxclient, started by the runner, inherits the filter" 2 "$(status_of "$mx" Seccomp)"
else
	fail "Q24 mxclient, started by the runner, inherits the filter" "no mxclient child found"
fi
rc=0
wait $run || rc=$?
expect_eq "Q24 the sandboxed runner delivers (mxclient runs inside its domain)" "0 1" "$rc $(grep -c slow-sb "$ACCEPTS")"

# the man pages: clean under mandoc -Tlint and groff, every long option
# of mxqueue --help documented
for p in man/mxqueue.8 man/mxclient.conf.5; do
	lint=$(mandoc -Tlint -W warning "$top/$p" 2>&1)
	expect_eq "Q19 $p is clean under mandoc -Tlint" "" "$lint"
	lint=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$top/$p" 2>&1 >/dev/null)
	expect_eq "Q19 $p renders under groff (man -l) without warnings" "" "$lint"
done
missing=$(for o in $("$MXQUEUE" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q "Fl \\\\${o#-}" "$top/man/mxqueue.8" || echo "$o"; done)
expect_eq "Q19 every option of mxqueue --help is in mxqueue(8)" "" "$missing"
