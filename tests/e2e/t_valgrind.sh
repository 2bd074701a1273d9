#!/bin/bash
# One DANE delivery with every process under valgrind memcheck: no
# invalid access, no uninitialised byte sent over a channel, no leak.
# The test build's MXCLIENT_SANDBOX_TEST=all:off skips the lock-down
# (valgrind's own system calls are in no allow-list); mxclient itself
# has no such switch.
. tests/e2e/lib.sh

T=valgrind
tmp=$(mktemp -d)
if ! command -v valgrind >/dev/null; then
	fail "$T: valgrind is installed" "not found"
	exit 1
fi
make_message "$(new_id vg)" >"$tmp/msg"
MXCLIENT_SANDBOX_TEST=all:off valgrind -q --leak-check=full \
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=99 --log-file="$tmp/vg.%p.log" \
    "$MXCLIENT_SBTEST" --resolver "$LAB_RESOLVER" -f a@example.org rcpt@secure.example \
    <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: DANE delivery under valgrind exits 0" 0 "$?" "$tmp"
grep -q ', verified by TLSA' "$tmp/out" && pass "$T: the run under valgrind was a verified DANE delivery" ||
	fail "$T: the run under valgrind was a verified DANE delivery" "$(tail -2 "$tmp/out")"
n=$(ls "$tmp"/vg.*.log 2>/dev/null | wc -l)
expect_eq "$T: four processes ran under valgrind" 4 "$n"
for f in "$tmp"/vg.*.log; do
	[ -s "$f" ] && fail "$T: no memcheck report in ${f##*/}" "$(head -12 "$f" | tr '\n' '|')" ||
		pass "$T: no memcheck report in process ${f##*/vg.}"
done

# the SOCKS5 handshake with RFC 1929 authentication in net, and the
# proxy URL parser in the parent
rm -f "$tmp"/vg.*.log
"$PYTHON" tests/fixtures/socks5.py --listen 127.0.0.24 --port 1080 --mode relay \
    --auth mxuser:pw --ready-file "$tmp/socks.ready" --max-seconds 120 >/dev/null 2>&1 &
spid=$!
for _ in $(seq 100); do [ -s "$tmp/socks.ready" ] && break; sleep 0.05; done
MXCLIENT_SANDBOX_TEST=all:off valgrind -q --leak-check=full \
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=99 --log-file="$tmp/vg.%p.log" \
    "$MXCLIENT_SBTEST" --resolver "$LAB_RESOLVER" --proxy socks5://mxuser:pw@127.0.0.24:1080 \
    -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: DANE delivery through SOCKS5 under valgrind exits 0" 0 "$?" "$tmp"
kill $spid 2>/dev/null
wait $spid 2>/dev/null
for f in "$tmp"/vg.*.log; do
	[ -s "$f" ] && fail "$T: SOCKS5: no memcheck report in ${f##*/}" "$(head -12 "$f" | tr '\n' '|')" ||
		pass "$T: SOCKS5: no memcheck report in process ${f##*/vg.}"
done
rm -rf "$tmp"
