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
	left=$(pgrep -f "^$MXCLIENT" ; pgrep '^mxclient-')
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
left=$(pgrep '^mxclient-')
[ -z "$left" ] && pass "$T: malformed frame: no process left behind" ||
	fail "$T: malformed frame: no process left behind" "$left"
rm -rf "$tmp"
