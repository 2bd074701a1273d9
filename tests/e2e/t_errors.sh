#!/bin/bash
# Outcomes that are not a delivery, each with its sysexits code (§8):
# DNS answers (M2, M3), unreachable resolvers, and server replies from a
# scripted server (faults a real MTA will not produce on demand).
. tests/e2e/lib.sh

T=errors
RES=(--resolver 127.0.0.1)
tmp=$(mktemp -d)
make_message "errors-$$@mxclient.test" >"$tmp/msg"

# run NAME WANT_RC RCPT [ARGS...]: run against the lab, check the code.
run() {
	local name=$1 want=$2 rcpt=$3
	shift 3
	timeout 120 "$MXCLIENT" "${RES[@]}" "$@" -f a@example.org "$rcpt" <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	expect_eq "$T: $name" "$want" "$?" "$tmp"
}

run "M2 NXDOMAIN recipient domain exits 68" 68 rcpt@nxdomain.example
grep -q 'does not exist' "$tmp/err" && pass "$T: M2 NXDOMAIN explained" ||
	fail "$T: M2 NXDOMAIN explained" "$(cat "$tmp/err")"
run "M3 null MX exits 68 without connecting" 68 rcpt@nullmx.example
grep -q 'null MX' "$tmp/err" && ! grep -q '^connecting' "$tmp/out" &&
	pass "$T: M3 null MX: no connection, reason given" ||
	fail "$T: M3 null MX: no connection, reason given" "$(cat "$tmp/out" "$tmp/err")"

# A resolver that does not answer: the MX lookup fails, retry later (M2).
RES=(--resolver 127.0.0.99)
run "M2 unreachable resolver exits 75" 75 rcpt@secure.example
RES=(--resolver 127.0.0.1)

# Scripted server on 127.0.0.11 (MX of slow.example).
start_fixture reject-rcpt
run "P9 5xx to RCPT exits 67" 67 rcpt@slow.example
grep -q '5.1.1' "$tmp/err" && pass "$T: RCPT refusal names the server's reply" ||
	fail "$T: RCPT refusal names the server's reply" "$(cat "$tmp/err")"
stop_fixture

start_fixture tempfail-greeting
run "P5 421 greeting exits 75" 75 rcpt@slow.example
stop_fixture

start_fixture close-after-greeting
run "P5 connection lost after greeting exits 75" 75 rcpt@slow.example
stop_fixture

# 8-bit data to a server without 8BITMIME: refused before MAIL (P15).
start_fixture no-8bitmime
printf 'Subject: x\n\ncaf\xc3\xa9\n' >"$tmp/msg8"
timeout 60 "$MXCLIENT" "${RES[@]}" -f a@example.org rcpt@slow.example <"$tmp/msg8" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: P15 8-bit message to a server without 8BITMIME exits 65" 65 "$?" "$tmp"
grep -q '^>>> MAIL' "$tmp/out" && fail "$T: P15 nothing sent" "MAIL was sent" ||
	pass "$T: P15 no MAIL FROM for an unsendable 8-bit message"
stop_fixture

# The same 8-bit message to Postfix (offers 8BITMIME) goes with BODY=8BITMIME.
id="eightbit-$$-$RANDOM@mxclient.test"
printf 'From: a@example.org\nMessage-ID: <%s>\nDate: Sun, 29 Nov 2026 10:00:00 +0000\n\ncaf\xc3\xa9\n' "$id" >"$tmp/msg8"
"$MXCLIENT" "${RES[@]}" -f a@example.org rcpt@secure.example <"$tmp/msg8" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: P15 8-bit message to an 8BITMIME server delivered" 0 "$?" "$tmp"
grep -q '^>>> MAIL FROM:<a@example.org> SIZE=[0-9]* BODY=8BITMIME$' "$tmp/out" &&
	pass "$T: P15 BODY=8BITMIME declared" || fail "$T: P15 BODY=8BITMIME declared" "$(grep MAIL "$tmp/out")"
rm -rf "$tmp"
