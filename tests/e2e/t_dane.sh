#!/bin/bash
# DANE against the real MTA (A3-A7, A13): every DANE-EE form of the
# Postfix key, DANE-TA records of the lab CA with matching, wildcard,
# next-hop and non-matching names, digest agility; MX failover from a
# server that never greets.
. tests/e2e/lib.sh

T=dane
RES=(--resolver "$LAB_RESOLVER")
tmp=$(mktemp -d)

send() {
	local name=$1 want=$2 dom=$3
	shift 3
	make_message "$(new_id dane)" "rcpt@$dom" >"$tmp/msg"
	timeout 120 "$MXCLIENT" "${RES[@]}" "$@" -f a@example.org "rcpt@$dom" \
	    <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	expect_eq "$T: $name" "$want" "$?" "$tmp"
}
out_has() {
	grep -Eq -- "$2" "$tmp/out" "$tmp/err" && pass "$T: $1" ||
		fail "$T: $1" "$(tail -n 4 "$tmp/out" "$tmp/err" | tr '\n' '|')"
}

send "A4 DANE-EE 3 1 1 delivered" 0 secure.example
out_has "A4 A13 3 1 1: verified at depth 0" 'authenticated by TLSA 3 1 1 .* at depth 0'
send "A4 DANE-EE 3 0 1 (certificate digest) delivered" 0 ee301.example
out_has "A4 3 0 1: verified" ', verified by TLSA 3 0 1'
send "A4 DANE-EE 3 1 2 (SHA2-512 of the key) delivered" 0 ee312.example
out_has "A4 3 1 2: verified" ', verified by TLSA 3 1 2'
send "A4 DANE-EE 3 0 0 (the full certificate) delivered" 0 ee300.example
out_has "A4 3 0 0: verified" ', verified by TLSA 3 0 0'
send "A5 DANE-TA 2 0 1 (CA certificate digest) delivered" 0 dane-ta.example
out_has "A5 2 0 1: trust anchor at depth 1" 'authenticated by TLSA 2 0 1 .* at depth 1'
send "A5 DANE-TA 2 1 1 (CA key digest) delivered" 0 dane-ta-spki.example
out_has "A5 2 1 1: verified" ', verified by TLSA 2 1 1'
send "A5 DANE-TA 2 0 0 (CA certificate in DNS) delivered" 0 ta200.example
out_has "A5 2 0 0: verified" ', verified by TLSA 2 0 0'
send "A6 DANE-TA with a wildcard name in the certificate delivered" 0 dane-ta-wild.example
send "A6 DANE-TA with the next-hop domain as the certificate name delivered" 0 dane-ta-nexthop.example
send "A6 DANE-TA without a matching name: exits 75" 75 dane-ta-badname.example
out_has "A6 name mismatch is the reason" 'DANE authentication failed: .*name'
send "A3 digest agility: a 3 1 1 match is ignored next to a 3 1 2 record: exits 75" 75 agility.example
out_has "A3 agility failure is a validation-failure" 'TLS-RPT: validation-failure'
send "A7 A10 a non-matching key: exits 75, nothing delivered" 75 wrongtlsa.example

# MX failover: the first MX never greets (a short greeting timeout)
start_fixture slow-greeting --delay 20
send "P11 M8 first MX silent, second MX delivers" 0 silent-backup.example --timeout greeting=1
out_has "P11 the silent MX timed out first" 'mx.slow.example \[127.0.0.11\]: greeting: timed out'
stop_fixture
rm -rf "$tmp"
