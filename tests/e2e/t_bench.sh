#!/bin/bash
# Smoke test of make bench (tests/bench/bench.sh): every measurement
# starts and every run of mxclient and of the raw client delivers, with
# tiny counts against the running lab (BENCH_SMOKE=1, a few seconds).
# Nothing about speed is checked; what is checked is that the harness
# still reads what it needs from mxclient -v (the peak RSS and DNS round
# trip lines), so a change of those lines shows up here, not as a
# silently empty benchmark table.
. tests/e2e/lib.sh

T=bench
for f in tests/bench/benchrun tests/bench/rawsmtp; do
	[ -x "$f" ] || { fail "$T: $f is built" "missing (make test-programs)"; exit 1; }
done

rc=0
BENCH_LAB=$LAB BENCH_SMOKE=1 MXCLIENT=$MXCLIENT tests/bench/bench.sh >"$E2E_TMP/report" 2>&1 || rc=$?
expect_eq "$T: bench.sh BENCH_SMOKE=1 exits 0 (every run delivered)" 0 "$rc" "$E2E_TMP"
[ "$rc" = 0 ] || sed 's/^/    /' "$E2E_TMP/report" | tail -n 30

# report ROW_PATTERN NAME: the report has a line matching ROW_PATTERN
report() {
	grep -Eq -- "$1" "$E2E_TMP/report" && pass "$T: $2" ||
		fail "$T: $2" "no line like '$1' in the report"
}
report '^   mxclient +1/1 +[0-9.]+ ' "section 1 has mxclient's CPU per delivery"
report '^   raw +1/1 +[0-9.]+ ' "section 1 has the raw client's CPU per delivery"
report '^   mxclient +2 +4/4 +[0-9.]+ ' "section 2 has mxclient's deliveries per second"
report '^   mxclient +1 KB +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$' \
    "section 4 has mxclient's peak RSS per process (from -v's peak RSS line)"
report '^   mxclient +1/1 +1/1 +[0-9.]+ +[0-9.]+ +-?[0-9.]+ +[0-9]+$' \
    "section 6 has mxclient's own count of resolver round trips (from -v)"
report '^load average at end: ' "the report ends"

# The deliveries are queued in the lab's Postfix: let it empty its queue
# before the next test counts the Maildir.
for _ in $(seq 300); do
	postqueue -c "$LAB/postfix" -p 2>/dev/null | grep -q 'Mail queue is empty' && break
	sleep 0.1
done
postqueue -c "$LAB/postfix" -p 2>/dev/null | grep -q 'Mail queue is empty' &&
	pass "$T: Postfix delivered everything before the next test" ||
	fail "$T: Postfix delivered everything before the next test" "queue not empty after 30 s"
