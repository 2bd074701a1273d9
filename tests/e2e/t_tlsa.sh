#!/bin/bash
# TLSA RRsets of any size and shape (T5, A1, A2, A11, M4): the policy of a
# host follows from every record of its RRset, dns and tls agree on which
# records are usable, and no limit drops a record that a decision needs.
# Two sources of answers: the lab's signed zones (NSD + Unbound, real
# DNSSEC), and dnsd.py --answers as a scripted resolver on 127.0.0.6 for
# exact counts, sizes and order.
. tests/e2e/lib.sh

T=tlsa
DNSDRV=${DNSDRV:-$PWD/tests/proc/dnsdrv}
SCRIPTED=127.0.0.6
tmp=$E2E_TMP/tlsa
mkdir -p "$tmp"
openssl x509 -in "$LAB/tls/big.crt" -outform DER -out "$tmp/big.der"
openssl x509 -in "$LAB_MX_CERT" -outform DER -out "$tmp/mx.der"
GOOD=${LAB_MX_TLSA#3 1 1 }

# send NAME WANT_RC DOMAIN [ARGS]: mxclient end to end; sets $id
send() {
	local name=$1 want=$2 dom=$3
	shift 3
	id=$(new_id tlsa)
	make_message "$id" "rcpt@$dom" >"$tmp/msg"
	timeout 120 "$MXCLIENT" "$@" -f a@example.org "rcpt@$dom" \
	    <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	expect_eq "$T: $name" "$want" "$?" "$tmp"
}

# out_has NAME REGEX: mxclient's stdout or stderr matches
out_has() {
	grep -Eq -- "$2" "$tmp/out" "$tmp/err" && pass "$T: $1" ||
		fail "$T: $1" "$(cat "$tmp/out" "$tmp/err" | tail -n 8 | tr '\n' '|')"
}

# delivered NAME / not_delivered NAME: the message of the last send
delivered() {
	wait_for_mail "$id" >/dev/null && pass "$T: $1" || fail "$T: $1" "no mail"
}
not_delivered() {
	assert_no_mail "$id" 1 && pass "$T: $1" || fail "$T: $1" "mail arrived"
}

# scripted TABLE-LINES...: (re)start the scripted resolver with the
# address of mx.scripted.example (Postfix's) plus the given lines; $MX is
# the usual MX line
MX="scripted.example MX ad 10 mx.scripted.example."
SCRIPTED_PID=
scripted() {
	[ -z "$SCRIPTED_PID" ] || { kill "$SCRIPTED_PID"; wait "$SCRIPTED_PID"; } 2>/dev/null
	{
		echo "mx.scripted.example A ad $LAB_MX_ADDR"
		echo "mx.scripted.example AAAA ad NODATA"
		printf '%s\n' "$@"
	} >"$tmp/answers"
	rm -f "$tmp/ready"
	"$PYTHON" "$E2E_FIXTURES/dnsd.py" --listen "$SCRIPTED" --answers "$tmp/answers" \
	    --ready-file "$tmp/ready" --log "$tmp/dnsd.log" --max-seconds 120 \
	    >"$tmp/dnsd.out" 2>&1 &
	SCRIPTED_PID=$!
	for _ in $(seq 100); do [ -s "$tmp/ready" ] && return; sleep 0.05; done
	fail "$T: scripted resolver starts" "$(cat "$tmp/dnsd.out")"
}
on_cleanup '[ -z "$SCRIPTED_PID" ] || kill "$SCRIPTED_PID" 2>/dev/null'
SRES=(--resolver "$SCRIPTED" --dnssec-probe none)
TLSA=_25._tcp.mx.scripted.example

# --- the review's reproductions, scripted ---
scripted "$MX" "$TLSA TLSA ad 1 1 1 random:32 x32" "$TLSA TLSA ad 3 1 1 hex:$GOOD"
decide scripted.example -r "$SCRIPTED" -p none
has "T5 33 records, the last usable: every record reaches tls, DANE required" \
    '^host mx.scripted.example .*policy=DANE required .*tlsa=33 usable=1 '
send "A7 33 records, the 33rd matches: delivered" 0 scripted.example "${SRES[@]}"
out_has "A13 33 records, the 33rd matches: verified by it" 'verified by TLSA 3 1 1'
delivered "33 records, the 33rd matches: the message arrives"

scripted "$MX" "$TLSA TLSA ad 1 1 1 random:32 x32" "$TLSA TLSA ad 3 1 1 random:32"
decide scripted.example -r "$SCRIPTED" -p none
has "T5 33 records, the last usable but wrong: still DANE required" \
    '^host mx.scripted.example .*policy=DANE required .*tlsa=33 usable=1 '
send "A10 33 records, none matching: exit 75, never unauthenticated TLS" 75 \
    scripted.example "${SRES[@]}"
not_delivered "33 records, none matching: nothing delivered"

scripted "$MX" "$TLSA TLSA ad 1 1 1 random:32" "$TLSA TLSA ad 3 0 0 file:$tmp/big.der"
decide scripted.example -r "$SCRIPTED" -p none
has "T5 a 3 0 0 record of $(stat -c %s "$tmp/big.der") octets counts: DANE required" \
    "^host mx.scripted.example .*policy=DANE required .*tlsa=2 usable=1 longest=$(stat -c %s "$tmp/big.der") "
send "A10 big 3 0 0 of another certificate: exit 75" 75 scripted.example "${SRES[@]}"
not_delivered "big 3 0 0 of another certificate: nothing delivered"

scripted "$MX" "$TLSA TLSA ad 3 0 0 random:60000" "$TLSA TLSA ad 3 0 0 file:$tmp/mx.der"
decide scripted.example -r "$SCRIPTED" -p none
has "T5 a record of 60000 octets is carried whole" \
    '^host mx.scripted.example .*policy=DANE required .*tlsa=2 usable=1 longest=60000 '
send "A4 next to a 60000-octet record, Postfix's certificate in full: 0" 0 \
    scripted.example "${SRES[@]}"
out_has "A13 ... verified by the full certificate" 'verified by TLSA 3 0 0'

scripted "$MX" "$TLSA TLSA ad 3 0 0 hex:3003020100"
decide scripted.example -r "$SCRIPTED" -p none
has "A1 Full(0) data that is no certificate is unusable in dns: TLS required" \
    '^host mx.scripted.example .*policy=TLS required, no authentication .*tlsa=1 usable=0 '
send "A11 the malformed record alone: TLS without authentication, 0" 0 \
    scripted.example "${SRES[@]}"
out_has "A11 ... reported as encrypted, not verified" \
    'encrypted \(server not authenticated\)'

scripted "$MX" "$TLSA TLSA ad 3 1 0 hex:3003020100" "$TLSA TLSA ad 3 0 0 hex:30820000" \
    "$TLSA TLSA ad 2 0 0 zeros:40" "$TLSA TLSA ad 3 1 1 hex:$GOOD"
decide scripted.example -r "$SCRIPTED" -p none
has "A1 malformed SPKI, short DER and zeros are unusable; the digest is not" \
    '^host mx.scripted.example .*policy=DANE required .*tlsa=4 usable=1 '
send "A7 three malformed Full(0) records and a good one: 0" 0 scripted.example "${SRES[@]}"

# M4: which 32 MX hosts are tried is decided after sorting by preference
lines=()
for i in $(seq 200); do lines+=("scripted.example MX ad 100 r$i.scripted.example."); done
scripted "${lines[@]}" "scripted.example MX ad 1 mx.scripted.example." \
    "$TLSA TLSA ad 3 1 1 hex:$GOOD"
decide scripted.example -r "$SCRIPTED" -p none
has "M4 201 MX records: the best preference comes first, wherever it stood" \
    '^host mx.scripted.example pref=1 '
send "M4 201 MX records, the best one last in the answer: delivered" 0 \
    scripted.example "${SRES[@]}"

# D5: ldns keeps only the last TSIG record and the last OPT record's
# options of an answer and leaks the others; dns ignores such an answer
# (found by fuzz_dns), so the TLSA lookup ends in a timeout
scripted "$MX" "$TLSA TLSA ad 3 1 1 hex:$GOOD" "$TLSA TSIG ad zeros:16 x3"
decide scripted.example -r "$SCRIPTED" -p none
has "D5 a TLSA answer with TSIG records is ignored: the host is unreachable" \
    '^host mx.scripted.example .*policy=unreachable'
scripted "$MX" "$TLSA TLSA ad 3 1 1 hex:$GOOD" "$TLSA OPT ad zeros:4"
decide scripted.example -r "$SCRIPTED" -p none
has "D5 a TLSA answer with two OPT records is ignored: the host is unreachable" \
    '^host mx.scripted.example .*policy=unreachable'
scripted "$MX" "$TLSA TLSA ad 3 1 1 hex:$GOOD" "scripted.example TSIG ad zeros:16"
decide scripted.example -r "$SCRIPTED" -p none
has "D5 an MX answer with a TSIG record is ignored: a lookup error" \
    '^mx temporary failure '

# --- the same in the lab's signed zones (real DNSSEC) ---
RES=(--resolver "$LAB_RESOLVER")
decide tlsa-33.example
has "T5 signed zone, 33 records: DANE required, all carried" \
    '^host mx.tlsa-33.example .*policy=DANE required .*tlsa=33 usable=1 '
send "A7 signed zone, 33 records, the 33rd matches: 0" 0 tlsa-33.example "${RES[@]}"
out_has "A13 signed zone, 33 records: verified" 'verified by TLSA 3 1 1'
send "A10 signed zone, 33 records, none matching: 75" 75 tlsa-33-bad.example "${RES[@]}"
not_delivered "signed zone, 33 records, none matching: nothing delivered"
decide tlsa-bigcert.example
has "T5 signed zone, 1 1 1 and a 10 KB 3 0 0: DANE required" \
    '^host mx.tlsa-bigcert.example .*policy=DANE required .*tlsa=2 usable=1 '
send "A10 signed zone, a 10 KB certificate of another server: 75" 75 \
    tlsa-bigcert.example "${RES[@]}"
not_delivered "signed zone, 10 KB certificate of another server: nothing delivered"
send "A4 signed zone, the 10 KB certificate and Postfix's: 0" 0 \
    tlsa-bigcert-ok.example "${RES[@]}"
decide tlsa-full-bad.example
has "A1 signed zone, 3 0 0 3003020100: TLS required, no authentication" \
    '^host mx.tlsa-full-bad.example .*policy=TLS required, no authentication .*usable=0 '
send "A11 signed zone, 3 0 0 3003020100 alone: 0, encrypted" 0 tlsa-full-bad.example "${RES[@]}"
out_has "A11 signed zone, the malformed record: not verified" \
    'encrypted \(server not authenticated\)'
send "A7 signed zone, the malformed record and a good one: 0" 0 \
    tlsa-full-bad-ok.example "${RES[@]}"
out_has "A13 signed zone, the malformed record and a good one: verified" \
    'verified by TLSA 3 1 1'
