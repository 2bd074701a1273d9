#!/bin/bash
# Crash safety and concurrency of mxqueue (Q5, Q6, Q11, Q14): the
# submitter and the runner killed with SIGKILL at many points (strace
# injects the signal at the Nth write, fsync, rename or unlink: no test
# hook in the program), the runner killed while mxclient waits for a slow
# server's reply to the final dot; afterwards every message is absent
# (and the submitter exited non-zero) or delivered exactly once.  Then
# three runners at once over 200 jobs: each delivered exactly once.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/queue_lib.sh"
q_setup
msg() { printf 'Subject: %s\nMessage-ID: <%s@e2e.test>\n\nbody\n' "$1" "$1"; }
killed_at() { strace -o /dev/null -e inject="$1":signal=KILL:when="$2" "${@:3}"; }

# Q5: the submitter, killed before and after each step of the commit
bad=""
for point in write:1 fsync:1 renameat2:1 fsync:2; do
	id=sub-${point/:/-}-$RANDOM$RANDOM
	rc=0
	msg "$id" | killed_at "${point%:*}" "${point#*:}" "$MXQUEUE" \
		-f crash@secure.example sub@secure.example 2>/dev/null || rc=$?
	q_run >/dev/null 2>&1 || true
	n=$(wait_count "$id" 1 2)
	if [ "$rc" = 0 ] && [ "$n" != 1 ]; then bad="$bad $point:exit0,n=$n"; fi
	if [ "$rc" != 0 ] && [ "$n" -gt 1 ]; then bad="$bad $point:n=$n"; fi
	[ "$rc" != 0 ] || bad="$bad $point:not-killed"
done
expect_eq "Q5 a killed submitter leaves no message or one complete message" "" "$bad"
check "Q5 nothing corrupt was ever visible in new/" test -z "$(ls -A "$SPOOL/new")"
check "Q5 what killed submitters left is in tmp/ only (the runner removes it after a day)" \
	test -n "$(ls -A "$SPOOL/tmp")"
rm -f "$SPOOL"/tmp/*

# Q6, Q14: the runner, killed at its Nth rename, fsync and unlink
bad=""
for point in renameat:1 renameat:2 renameat:3 renameat:4 fsync:1 fsync:3 \
	fsync:5 fsync:7 unlinkat:1 unlinkat:2 unlinkat:3; do
	id=run-${point/:/-}-$RANDOM$RANDOM
	msg "$id" | "$MXQUEUE" -f crash@secure.example r1@secure.example r2@secure.example r3@secure.example
	rc=0
	killed_at "${point%:*}" "${point#*:}" "$MXQUEUE" -q >/dev/null 2>&1 || rc=$?
	[ "$rc" = 137 ] || bad="$bad $point:not-killed($rc)"
	q_run >/dev/null 2>&1 || bad="$bad $point:queue-not-empty"
	n=$(wait_count "$id" 3)
	[ "$n" = 3 ] || bad="$bad $point:n=$n"
done
expect_eq "Q14 a runner killed at any step: each recipient gets the message exactly once" "" "$bad"
check "Q7 nothing left in the spool after the killed runners" q_clean

# Q14: the runner killed while mxclient waits for the reply to the dot
q_fixture --slow 3
msg held-$RANDOM | "$MXQUEUE" -f crash@secure.example slow-k@slow.example
"$MXQUEUE" -q &
runner=$!
sleep 1.5
kill -KILL $runner
wait $runner 2>/dev/null || true
check "Q14 the job stays claimed while the orphaned mxclient runs" \
	test "$(q_jobs)" = 1
"$MXQUEUE" -q -v 2>"$E2E_TMP/skip.log"
expect_eq "Q11 another runner does not take the claimed job" 0 "$(grep -c 'attempt=' "$E2E_TMP/skip.log" || true)"
for _ in $(seq 50); do
	[ -s "$ACCEPTS" ] && break
	sleep 0.1
done
sleep 0.5
"$MXQUEUE" -q -v 2>"$E2E_TMP/recover.log" || true
q_run >/dev/null 2>&1 || true
expect_eq "Q14 accepted once: the report mxclient left is recorded, not sent again" 1 "$(grep -c slow-k@slow.example "$ACCEPTS")"
check "Q14 the next runner says it recorded the dead runner's attempt" \
	grep -q 'was not recorded (runner stopped): recording it now' "$E2E_TMP/recover.log"
check "Q7 the spool is empty again" q_clean

# Q11: three runners at once over 200 jobs (100 messages, 2 recipients)
tag=conc-$RANDOM$RANDOM
for i in $(seq 100); do
	msg "$tag-$i" | "$MXQUEUE" -f conc@secure.example c1@secure.example c2@secure.example
done
start=$EPOCHREALTIME
"$MXQUEUE" -q & p1=$!
"$MXQUEUE" -q & p2=$!
"$MXQUEUE" -q & p3=$!
rc=0
wait $p1 || rc=$?
wait $p2 || rc=$?
wait $p3 || rc=$?
end=$EPOCHREALTIME
expect_eq "Q11 three runners exit 0" 0 "$rc"
n=$(wait_count "$tag-" 200 20)
expect_eq "Q11 200 jobs, three runners: 200 deliveries" 200 "$n"
dups=$(for i in $(seq 100); do c=$(count_mail "<$tag-$i@"); [ "$c" = 2 ] || echo "$i:$c"; done)
expect_eq "Q11 every message reached each of its two recipients exactly once" "" "$dups"
check "Q11 the queue is empty after the three runners" q_clean
awk -v a="$start" -v b="$end" 'BEGIN { printf "# measured: 200 deliveries by 3 concurrent runners (parallelism 4 each) in %.2f s: %.1f/s\n", b - a, 200 / (b - a) }'
