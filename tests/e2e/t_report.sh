#!/bin/bash
# Timeouts per stage (P11), the overall --deadline, the JSON report
# (--json, --status-fd) and the pipelined end of the session.
. tests/e2e/lib.sh

T=report
RES=(--resolver "$LAB_RESOLVER")
tmp=$(mktemp -d)
make_message "$(new_id report)" >"$tmp/msg"

# run NAME WANT DOMAIN [ARGS]: exit code, and the time taken in $ms
run() {
	local name=$1 want=$2 dom=$3 start
	shift 3
	start=$(date +%s%N)
	timeout 120 "$MXCLIENT" "${RES[@]}" "$@" -f a@example.org "rcpt@$dom" \
	    <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	expect_eq "$T: $name" "$want" "$rc" "$tmp"
}

json() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"
}

# --json on stdout: one object, nothing else
run "--json delivery exits 0" 0 multi.example --json
if json "$tmp/out" 'd["exit"], d["outcome"], d["security"], len(d["attempts"])' >"$tmp/j" 2>&1; then
	expect_eq "$T: A13 --json: exit, outcome, security, both MX tried" \
	    "(0, 'delivered', 'verified', 2)" "$(cat "$tmp/j")"
	expect_eq "$T: --json: the final reply, not QUIT's" 250 \
	    "$(json "$tmp/out" 'd["reply"][:3]')"
	expect_eq "$T: --json: the first attempt names the refused MX" \
	    "('mx1.multi.example', '127.0.0.12')" \
	    "$(json "$tmp/out" 'd["attempts"][0]["mx"], d["attempts"][0]["address"]')"
else
	fail "$T: --json output is one JSON object" "$(head -c 400 "$tmp/out")"
fi
# --status-fd: progress as usual, JSON on the descriptor
run "--status-fd after a DANE failure exits 75" 75 wrongtlsa.example --status-fd 3 3>"$tmp/status"
expect_eq "$T: --status-fd: TLS-RPT result type of a DANE failure" \
    "(75, 'validation-failure')" "$(json "$tmp/status" 'd["exit"], d["tlsrpt_result_type"]')"
grep -q '^>>> STARTTLS' "$tmp/out" && pass "$T: --status-fd keeps the progress on stdout" ||
	fail "$T: --status-fd keeps the progress on stdout" "$(head -3 "$tmp/out")"
run "--status-fd of a closed descriptor exits 64" 64 secure.example --status-fd 9
run "--timeout with an unknown stage exits 64" 64 secure.example --timeout nosuch=5
run "--timeout of 0 seconds exits 64" 64 secure.example --timeout ehlo=0

# P11: per-stage timeouts, each configurable
start_fixture slow-greeting --delay 8
run "P11 --timeout greeting=1 against a silent server exits 75" 75 slow.example --timeout greeting=1
[ "$ms" -lt 5000 ] && pass "$T: P11 the greeting timeout fires after about 1 s ($ms ms)" ||
	fail "$T: P11 the greeting timeout fires after about 1 s" "$ms ms"
grep -q 'timed out' "$tmp/err" && pass "$T: P11 the timeout is named" ||
	fail "$T: P11 the timeout is named" "$(cat "$tmp/err")"
stop_fixture
start_fixture hang-after-data
run "P11 no reply after the final dot exits 75" 75 slow.example --timeout data-done=1
grep -q 'delivery status unknown' "$tmp/err" && pass "$T: P11 a timeout after the dot says 'status unknown'" ||
	fail "$T: P11 a timeout after the dot says 'status unknown'" "$(cat "$tmp/err")"
stop_fixture
start_fixture slow-greeting --delay 8
run "P11 --deadline 2 stops a run that would take longer" 75 slow.example --deadline 2
[ "$ms" -lt 5000 ] && pass "$T: P11 --deadline bounds the run ($ms ms)" ||
	fail "$T: P11 --deadline bounds the run" "$ms ms"
stop_fixture

# RFC 2920 §3.1: QUIT rides behind the final dot when PIPELINING is offered
start_fixture plain
run "P7 P20 delivery with QUIT pipelined behind the dot" 0 slow.example
grep -q '^>>> QUIT (pipelined behind the final "\.")' "$tmp/out" &&
	pass "$T: P20 QUIT pipelined behind the final dot" ||
	fail "$T: P20 QUIT pipelined behind the final dot" "$(tail -5 "$tmp/out")"
grep -q '^<<< 221' "$tmp/out" && pass "$T: P7 the QUIT reply is still read" ||
	fail "$T: P7 the QUIT reply is still read" "$(tail -3 "$tmp/out")"
tail -1 "$FIXTURE_TRANSCRIPT" | grep -q 'QUIT\|221' && pass "$T: P7 QUIT is the last command" ||
	fail "$T: P7 QUIT is the last command" "$(tail -3 "$FIXTURE_TRANSCRIPT")"
stop_fixture
rm -rf "$tmp"
