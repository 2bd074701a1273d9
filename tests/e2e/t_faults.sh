#!/bin/bash
# Internal faults during a delivery held open by a slow server: a child
# killed from outside, or a signal to the parent.  Every one must end in
# exit 75 (never 70: Postfix's pipe(8) bounces on it), name the cause,
# deliver nothing and leave no process behind.
. tests/e2e/lib.sh

T=faults
RES=(--resolver 127.0.0.1)
tmp=$(mktemp -d)
make_message "faults-$$@mxclient.test" >"$tmp/msg"

# held_run: a delivery held at the greeting; sets $pid
held_run() {
	held_delivery 20 "$tmp/msg" "$tmp/out" "$tmp/err"
	pid=$HELD_PID
}

# child_pid NAME: the pid of mxclient-NAME under $pid
child_pid() {
	local c
	for c in $(pgrep -P "$pid"); do
		[ "$(cat /proc/$c/comm)" = "mxclient-$1" ] && echo "$c"
	done
}

# finish NAME PATTERN: exit 75, stderr matches, nothing left, nothing sent
finish() {
	local name=$1 pattern=$2 rc left
	wait "$pid"
	rc=$?
	expect_eq "$T: $name exits 75" 75 "$rc" "$tmp"
	grep -q "$pattern" "$tmp/err" && pass "$T: $name is named on stderr" ||
		fail "$T: $name is named on stderr" "$(cat "$tmp/err")"
	left=$(pgrep --ns $$ --nslist net -f "^$MXCLIENT" ; pgrep --ns $$ --nslist net '^mxclient-')
	[ -z "$left" ] && pass "$T: $name leaves no process behind" ||
		fail "$T: $name leaves no process behind" "$left"
	stop_fixture
	[ ! -e "$FIXTURE_SAVE" ] && pass "$T: $name delivers nothing" ||
		fail "$T: $name delivers nothing" "message saved"
}

for child in dns net tls; do
	held_run
	c=$(child_pid "$child")
	[ -n "$c" ] && pass "$T: found mxclient-$child by its process name" ||
		fail "$T: found mxclient-$child by its process name" "$(ps -o pid,comm --ppid "$pid")"
	kill -KILL "$c"
	finish "SIGKILL of $child" "$child: killed by signal 9"
done

for sig in TERM INT HUP; do
	held_run
	kill -"$sig" "$pid"
	finish "SIG$sig to the parent" "interrupted\|terminated by a signal"
done
# A child that breaks the framing rules is cut off the same way
# (test build: tls sends the parent a RESULT of the wrong size).
MXCLIENT_FAULT_TEST=badframe timeout 60 "$MXCLIENT_SBTEST" "${RES[@]}" \
    -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: a malformed frame from tls exits 75" 75 "$?" "$tmp"
grep -q 'tls: wrong payload length' "$tmp/err" && pass "$T: the malformed frame is named" ||
	fail "$T: the malformed frame is named" "$(cat "$tmp/err")"
left=$(pgrep --ns $$ --nslist net '^mxclient-')
[ -z "$left" ] && pass "$T: malformed frame: no process left behind" ||
	fail "$T: malformed frame: no process left behind" "$left"

# After the final "." (the server holds its reply 20 s): a signal to the
# parent or a child's death must say "delivery status unknown", never "not
# delivered" — the server may have the message, and a queue that trusts
# "not delivered" would send it twice (P11, RFC 5321 §6.1).  --status-fd
# must say "unknown" too.
dot_run() {
	start_fixture slow-data-reply --delay 20
	"$MXCLIENT" "${RES[@]}" --status-fd 3 -f a@example.org rcpt@slow.example \
	    <"$tmp/msg" >"$tmp/out" 2>"$tmp/err" 3>"$tmp/json" &
	pid=$!
	for _ in $(seq 200); do
		grep -q 'before data_end reply' "$FIXTURE_TRANSCRIPT" 2>/dev/null && break
		sleep 0.05
	done
	sleep 0.2
}

# dot_finish NAME: 75, "status unknown" on stderr and in the report
dot_finish() {
	local name=$1 rc
	wait "$pid"
	rc=$?
	expect_eq "$T: P11 $name after the dot exits 75" 75 "$rc" "$tmp"
	grep -q 'delivery status unknown' "$tmp/err" &&
		! grep -q 'not delivered' "$tmp/err" &&
		pass "$T: P11 $name after the dot: stderr says status unknown" ||
		fail "$T: P11 $name after the dot: stderr says status unknown" "$(cat "$tmp/err")"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["outcome"] != "unknown" or d["exit"] != 75)' "$tmp/json" &&
		pass "$T: P11 $name after the dot: the report's outcome is unknown" ||
		fail "$T: P11 $name after the dot: the report's outcome is unknown" "$(cat "$tmp/json")"
	left=$(pgrep --ns $$ --nslist net '^mxclient-')
	[ -z "$left" ] && pass "$T: $name after the dot leaves no process behind" ||
		fail "$T: $name after the dot leaves no process behind" "$left"
	stop_fixture
}

dot_run
kill -TERM "$pid"
dot_finish "SIGTERM to the parent"
for child in tls dns; do
	dot_run
	kill -KILL "$(child_pid "$child")"
	dot_finish "SIGKILL of $child"
done
rm -rf "$tmp"
