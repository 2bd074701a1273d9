#!/bin/bash
# Resource bounds: hostile sizes from the server, from DNS and from the
# message.  The outcome code must be right and the memory of every
# process bounded; -v prints each process's peak RSS (from wait4), which
# this test prints and checks against a ceiling.
. tests/e2e/lib.sh

T=bounds
RES=(--resolver "$LAB_RESOLVER")
tmp=$(mktemp -d)
CEILING_KB=${CEILING_KB:-30000}	# 30 MB per process

# run NAME WANT DOMAIN MSG [ARGS]: exit code, and the peak RSS line
run() {
	local name=$1 want=$2 dom=$3 msg=$4 line kb worst=0
	shift 4
	timeout 300 "$MXCLIENT" -v "${RES[@]}" "$@" -f a@example.org "rcpt@$dom" \
	    <"$msg" >"$tmp/out" 2>"$tmp/err"
	expect_eq "$T: $name" "$want" "$?" "$tmp"
	line=$(grep '^peak RSS:' "$tmp/out" | tail -1)
	echo "# $name: $line"
	for kb in $(echo "$line" | grep -o '[0-9]* kB' | awk '{print $1}'); do
		[ "$kb" -gt "$worst" ] && worst=$kb
	done
	[ -n "$line" ] && [ "$worst" -le "$CEILING_KB" ] &&
		pass "$T: $name: every process under $CEILING_KB kB (largest $worst kB)" ||
		fail "$T: $name: every process under $CEILING_KB kB" "${line:-no peak RSS line}"
}

make_message "$(new_id bounds)" >"$tmp/msg"
start_fixture ehlo-10mb
run "P4 §8 a 10 MB EHLO reply is refused, not stored: protocol error 76" 76 slow.example "$tmp/msg"
stop_fixture
start_fixture line-1mb
run "P4 §8 a 1 MB reply line is refused, never split: protocol error 76" 76 slow.example "$tmp/msg"
stop_fixture
run "M4 300 MX records (over TCP): the first is used" 0 manymx.example "$tmp/msg"
run "D4 a CNAME chain longer than 8 links: a lookup error, exit 75" 75 longcname.example "$tmp/msg"

# a 1 GB message: spooled on disk, refused before MAIL for Postfix's SIZE
yes 'A line of a large message, seventy-odd octets long, repeated many times.' |
    head -c 1073741824 >"$tmp/big"
run "P16 a 1 GB message over the server's SIZE exits 65" 65 secure.example "$tmp/big"
grep -q '^>>> MAIL' "$tmp/out" && fail "$T: P16 1 GB: no MAIL FROM" "MAIL sent" ||
	pass "$T: P16 1 GB: refused before MAIL FROM"
rm -f "$tmp/big"
# 8 MB actually sent (to a server without SIZE; it takes up to 10 MB)
yes 'A line of a large message, seventy-odd octets long, repeated many times.' |
    head -c 8388608 >"$tmp/mid"
start_fixture no-size
run "P16 an 8 MB message to a server without SIZE is delivered" 0 slow.example "$tmp/mid"
stop_fixture
rm -rf "$tmp"
