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
	    "(0, 'delivered', 'verified (DANE)', 2)" "$(cat "$tmp/j")"
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

# Q10 --syslog: one line per run, facility mail, on the socket that
# mxclient.conf names (syslog-socket), for success and for failures
logsock=$tmp/log.sock
"$PYTHON" "$E2E_FIXTURES/syslogd.py" "$logsock" "$tmp/syslog" --ready-file "$tmp/log.ready" \
    --max-seconds 120 >/dev/null 2>&1 &
logpid=$!
on_cleanup "kill $logpid 2>/dev/null"
for _ in $(seq 100); do [ -s "$tmp/log.ready" ] && break; sleep 0.05; done
printf 'syslog-socket = %s\n' "$logsock" >"$tmp/log.conf"
MXCLIENT_CONF=$tmp/log.conf run "Q10 --syslog delivery exits 0" 0 secure.example --syslog
MXCLIENT_CONF=$tmp/log.conf run "Q10 --syslog, a domain that does not exist, exits 68" 68 \
    nonexistent.example --syslog
cp "$tmp/msg" "$tmp/msg.good"
printf 'Subject: x\n\nbad\0line\n' >"$tmp/msg"
MXCLIENT_CONF=$tmp/log.conf run "Q10 --syslog, a message with a NUL, exits 65" 65 secure.example --syslog
cp "$tmp/msg.good" "$tmp/msg"
MXCLIENT_CONF=$tmp/log.conf run "Q10 without --syslog nothing is logged" 0 secure.example
sleep 0.3
expect_eq "$T: Q10 one syslog line per --syslog run" 3 "$(wc -l <"$tmp/syslog")"
grep -Eq '^<22>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} mxclient\[[0-9]+\]: from=<a@example.org> to=<rcpt@secure.example> exit=0 status=sent: delivered: rcpt@secure.example via mx.secure.example' "$tmp/syslog" &&
	pass "$T: Q10 a delivery logs mail.info with sender, recipient, exit 0 and the MX" ||
	fail "$T: Q10 a delivery logs mail.info with sender, recipient, exit 0 and the MX" "$(cat "$tmp/syslog")"
grep -Eq '^<19>.* mxclient\[[0-9]+\]: from=<a@example.org> to=<rcpt@nonexistent.example> exit=68 status=bounced: .*does not exist' "$tmp/syslog" &&
	pass "$T: Q10 a permanent failure logs mail.err with the reason" ||
	fail "$T: Q10 a permanent failure logs mail.err with the reason" "$(tr '\n' '|' <"$tmp/syslog")"
grep -Eq '^<19>.* exit=65 status=bounced: NUL octet' "$tmp/syslog" &&
	pass "$T: Q10 a refused message logs mail.err and why" ||
	fail "$T: Q10 a refused message logs mail.err and why" "$(tr '\n' '|' <"$tmp/syslog")"
kill "$logpid" 2>/dev/null

# --json for every exit (doc/json.md): usage errors, bad messages and
# configuration errors too, each with the schema, the envelope, a UTC
# timestamp and why
cp "$tmp/msg.good" "$tmp/msg"
jsonrun() { # NAME WANT ARGS...: --json on stdout, exit checked, kept as report.N
	local name=$1 want=$2
	shift 2
	"$MXCLIENT" --json "$@" <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	expect_eq "$T: $name" "$want" "$?" "$tmp"
	nrep=$((${nrep:-0} + 1))
	cp "$tmp/out" "$tmp/report.$nrep"
}
early() { # the first members, as doc/json.md lists them
	json "$tmp/out" 'd["schema"], d["exit"], d["outcome"], d["sender"], d["recipient"], bool(d["reason"]), __import__("re").fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d["timestamp"]) is not None' 2>&1
}
jsonrun "--json: an unknown option exits 64" 64 --resolver "$LAB_RESOLVER" --no-such-option -f a@example.org rcpt@secure.example
expect_eq "$T: --json on a usage error (64): schema, exit, envelope, timestamp" \
    "(1, 64, 'usage error', 'a@example.org', 'rcpt@secure.example', True, True)" "$(early)"
jsonrun "--json: --chroot that does not exist exits 78" 78 --resolver "$LAB_RESOLVER" --chroot "$tmp/none" -f a@example.org rcpt@secure.example
expect_eq "$T: K6 --json on a configuration error (78)" \
    "(1, 78, 'configuration error', 'a@example.org', 'rcpt@secure.example', True, True)" "$(early)"
grep -q 'chroot' "$tmp/out" && pass "$T: K6 the 78 report says why" || fail "$T: K6 the 78 report says why" "$(cat "$tmp/out")"
printf 'Subject: x\n\nbad\0line\n' >"$tmp/msg"
jsonrun "--json: a message with a NUL exits 65" 65 --resolver "$LAB_RESOLVER" -f a@example.org rcpt@secure.example
expect_eq "$T: --json on a refused message (65)" \
    "(1, 65, 'data error', 'a@example.org', 'rcpt@secure.example', True, True)" "$(early)"
cp "$tmp/msg.good" "$tmp/msg"
# a failed delivery never reports QUIT's 221 as the reply
jsonrun "--json: a DANE failure exits 75" 75 --resolver "$LAB_RESOLVER" -f a@example.org rcpt@wrongtlsa.example
expect_eq "$T: A13 a DANE failure: no deciding reply (not QUIT's 221)" "(None, None)" \
    "$(json "$tmp/out" 'd["reply"], d["enhanced_status"]' 2>&1)"
jsonrun "--json: a delivery exits 0" 0 --resolver "$LAB_RESOLVER" -f a@example.org rcpt@secure.example
# every member a report holds is documented, and the first table's all appear
"$PYTHON" - "$tmp" "$nrep" doc/json.md >"$tmp/doccheck" 2>&1 <<'PY'
import json, re, sys
tmp, n, doc = sys.argv[1], int(sys.argv[2]), open(sys.argv[3]).read()
documented = set(re.findall(r"`([a-z_-]+)`", doc))
first = re.search(r"## Members of the report\n(.*?)\n## ", doc, re.S).group(1)
second = re.search(r"## Members of an attempted delivery\n(.*?)\n`tlsrpt`", doc, re.S).group(1)
need = set(re.findall(r"^\| `([a-z_-]+)`", first, re.M))
need_attempt = set(re.findall(r"^\| `([a-z_-]+)`", second, re.M))
seen, top = set(), []
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            seen.add(k); walk(x)
    elif isinstance(v, list):
        for x in v: walk(x)
for i in range(1, n + 1):
    d = json.load(open("%s/report.%d" % (tmp, i)))
    top.append(set(d)); walk(d)
bad = sorted(seen - documented)
missing = sorted(k for k in need if not all(k in t for t in top))
full = [t for t in top if "attempts" in t]
missing2 = sorted(k for k in need_attempt if not full or not all(k in t for t in full))
print("undocumented:", bad, "missing:", missing, "missing-in-deliveries:", missing2)
sys.exit(1 if bad or missing or missing2 else 0)
PY
expect_eq "$T: doc/json.md lists every member, and every report has the first table's" 0 "$?" "$tmp"
[ "$(cat "$tmp/doccheck")" = "undocumented: [] missing: [] missing-in-deliveries: []" ] ||
	cat "$tmp/doccheck"

# a permanent failure's stderr line begins with the remote's enhanced
# status code (pipe(8) takes it for the bounce)
start_fixture reject-rcpt
run "a 550 5.1.1 to RCPT exits 67" 67 slow.example
tail -1 "$tmp/err" | grep -q '^5\.1\.1 mxclient: not delivered' &&
	pass "$T: a permanent failure's last stderr line begins with 5.1.1" ||
	fail "$T: a permanent failure's last stderr line begins with 5.1.1" "$(tail -1 "$tmp/err")"
stop_fixture
run "a domain that does not exist exits 68" 68 nonexistent.example
tail -1 "$tmp/err" | grep -q '^5\.1\.2 mxclient: ' &&
	pass "$T: no such domain: the stderr line begins with 5.1.2" ||
	fail "$T: no such domain: the stderr line begins with 5.1.2" "$(tail -1 "$tmp/err")"
rm -rf "$tmp"
