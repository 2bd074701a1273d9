#!/bin/bash
# The whole test suite (make check): the runner's self-test, unit tests,
# fuzz smoke run and documentation checks, then, as root, the sandbox
# test, the lab's self-test and the end-to-end tests against the lab
# (NSD, Unbound, Postfix, scripted servers) inside a private network and
# mount namespace.  Every check prints one line, PASS: or FAIL:; the last
# line counts them.
#
# Every program runs through check_program, which passes its output on
# and then judges the program as a whole.  It adds "FAIL: <program>:
# <why>" when the program
#   - dies by a signal (status 128+N) or is stopped by timeout (124);
#   - exits with any other status but 0, except 1 after a FAIL line of
#     its own (that line already counts);
#   - prints no PASS: or FAIL: line at all;
#   - with --count: lacks its count line "# NAME: N passed, M failed"
#     (tests/unit/check.h, tests/e2e/lib.sh and test_sandbox print one
#     last), or the count differs from the PASS:/FAIL: lines it printed.
#
#   tests/run.sh                      the whole suite
#   tests/run.sh --one NAME [--count] CMD [ARG...]
#                                     one program, judged as above
#   tests/run.sh --e2e tests/e2e/t_X.sh
#                                     one end-to-end script, with a
#                                     time limit (E2E_TIMEOUT, 300 s);
#                                     tests/e2e/run-lab.sh uses it
#   tests/run.sh --selftest           the runner's self-test: it runs
#                                     tests/unit/test_runner, which goes
#                                     wrong on purpose, through
#                                     check_program and checks that each
#                                     way is flagged; the test program's
#                                     own lines never reach the totals
set -u
cd "$(dirname "$0")/.."

# check_program NAME [--count] CMD [ARG...]: run CMD, pass its output
# on, add FAIL lines for the faults above.  Returns 1 if CMD printed a
# FAIL line or was flagged.
check_program() {
	local name=$1 count=0 log rc p f want why=""
	shift
	if [ "${1:-}" = --count ]; then
		count=1
		shift
	fi
	log=$(mktemp)
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	want=$(grep -E '^# [^ ]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1 |
		sed -E 's/^# [^ ]+: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')
	rm -f "$log"
	if [ "$rc" -eq 124 ]; then
		why="timed out"
	elif [ "$rc" -gt 128 ] && [ "$rc" -le 192 ]; then
		why="killed by SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
	elif [ "$rc" -ne 0 ] && { [ "$rc" -ne 1 ] || [ "$f" -eq 0 ]; }; then
		why="exited with status $rc"
	elif [ $((p + f)) -eq 0 ]; then
		why="printed no PASS: or FAIL: line"
	elif [ "$count" = 1 ] && [ -z "$want" ]; then
		why="no count line '# ...: N passed, M failed' (it stopped early)"
	elif [ "$count" = 1 ] && [ "$want" != "$p $f" ]; then
		echo "FAIL: $name: counted ${want% *} passed, ${want#* } failed," \
		    "but printed $p PASS: and $f FAIL: lines"
		return 1
	fi
	if [ -n "$why" ]; then
		echo "FAIL: $name: $why (after $p PASS: and $f FAIL: lines)"
		return 1
	fi
	[ "$f" -eq 0 ]
}

# e2e_script tests/e2e/t_X.sh: one end-to-end script (inside the lab).
e2e_script() {
	check_program "$1" --count timeout -k 10 "${E2E_TIMEOUT:-300}" bash "$1"
}

# --- the runner's self-test ---

st_pass=0
st_fail=0

# expect_cmd WHAT VERDICT NAME CMD...: CMD (which judges a program
# called NAME) flags it with a reason matching the regex VERDICT, or
# flags nothing when VERDICT is "-".  Its output is kept out of the
# totals.
expect_cmd() {
	local what=$1 verdict=$2 name=$3 tmp got rc
	shift 3
	tmp=$(mktemp)
	"$@" >"$tmp" 2>&1
	rc=$?
	got=$(grep -F "FAIL: $name: " "$tmp" | grep "^FAIL: " | sed 's/^FAIL: [^ ]*: //')
	rm -f "$tmp"
	if { [ "$verdict" = - ] && [ -z "$got" ]; } ||
		{ [ "$verdict" != - ] && [ "$rc" -ne 0 ] && grep -qE "$verdict" <<<"$got"; }; then
		echo "PASS: runner: $what"
		st_pass=$((st_pass + 1))
	else
		echo "FAIL: runner: $what: got '${got:-no verdict}' (status $rc)"
		st_fail=$((st_fail + 1))
	fi
}

# expect WHAT VERDICT [--count] CMD...: the same for check_program CMD.
expect() {
	local what=$1 verdict=$2
	shift 2
	expect_cmd "$what" "$verdict" subject check_program subject "$@"
}

selftest() {
	local prog=tests/unit/test_runner tmp
	if [ ! -x $prog ] || [ ! -x $prog-asan ]; then
		echo "FAIL: runner: $prog and $prog-asan are built"
		echo "# runner: 0 passed, 1 failed"
		return 1
	fi
	tmp=$(mktemp -d)
	expect "a program that passes and counts is not flagged" - --count $prog ok
	expect "a program whose FAIL line explains its exit 1 is not flagged" - --count $prog fail
	expect "a script whose FAIL line explains its exit 1 is not flagged" - \
		bash -c 'echo "FAIL: s: x: y"; exit 1'
	expect "abort() after two PASS lines is flagged" 'killed by SIGABRT' --count $prog abort
	expect "SIGSEGV after two PASS lines is flagged" 'killed by SIGSEGV' --count $prog segv
	expect "exit 1 after PASS lines, without a FAIL line, is flagged" \
		'exited with status 1' --count $prog exit1
	expect "exit 0 without the count line is flagged" 'no count line' --count $prog exit0
	expect "a count above the lines printed is flagged" \
		'counted 3 passed, 0 failed, but printed 2 PASS' --count $prog short
	expect "an AddressSanitizer report after PASS lines is flagged" \
		'exited with status|killed by' --count $prog-asan overflow
	expect "a program that prints no result is flagged" 'no PASS: or FAIL: line' true
	expect "a script killed by SIGKILL is flagged" 'killed by SIGKILL' \
		bash -c 'echo "PASS: s: x"; kill -KILL $$'
	# the path tests/e2e/run-lab.sh takes for each t_*.sh
	printf '%s\n' 'echo "PASS: t: first"' 'sleep 30' >"$tmp/t_hang.sh"
	printf '%s\n' 'echo "PASS: t: first"' 'kill -KILL $$' >"$tmp/t_killed.sh"
	printf '%s\n' 'echo "PASS: t: first"' 'echo "# t_exit.sh: 1 passed, 0 failed"' \
		'exit 3' >"$tmp/t_exit.sh"
	E2E_TIMEOUT=1 expect_cmd "an e2e script over its time limit is flagged" \
		'timed out' "$tmp/t_hang.sh" e2e_script "$tmp/t_hang.sh"
	expect_cmd "an e2e script killed by a signal is flagged" 'killed by SIGKILL' \
		"$tmp/t_killed.sh" e2e_script "$tmp/t_killed.sh"
	expect_cmd "an e2e script that exits 3 is flagged" 'exited with status 3' \
		"$tmp/t_exit.sh" e2e_script "$tmp/t_exit.sh"
	rm -rf "$tmp"
	echo "# runner: $st_pass passed, $st_fail failed"
	[ "$st_fail" -eq 0 ]
}

case "${1:-}" in
--one)
	shift
	check_program "$@"
	exit
	;;
--e2e)
	e2e_script "$2"
	exit
	;;
--selftest)
	selftest
	exit
	;;
esac

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# run NAME [--count] CMD [ARG...]: one program of the suite, into the totals
run() {
	check_program "$@" 2>&1 | tee -a "$out"
}

run tests/run.sh --count tests/run.sh --selftest

for t in tests/unit/test_fds tests/unit/test_fds-asan \
    tests/unit/test_frame tests/unit/test_addr tests/unit/test_norm \
    tests/unit/test_reply tests/unit/test_dane tests/unit/test_proxy \
    tests/unit/test_frame-asan tests/unit/test_addr-asan \
    tests/unit/test_norm-asan tests/unit/test_reply-asan \
    tests/unit/test_dane-asan tests/unit/test_proxy-asan \
    tests/unit/test_conf tests/unit/test_conf-asan \
    tests/unit/test_sts tests/unit/test_sts-asan \
    tests/unit/test_sts_cache tests/unit/test_sts_cache-asan \
    tests/unit/test_http tests/unit/test_http-asan; do
	if [ -x "$t" ]; then
		run "$t" --count "$t"
	else
		echo "FAIL: $t: not built" | tee -a "$out"
	fi
done

run tests/fuzz/run.sh tests/fuzz/run.sh 3
run tests/doc/check_docs.sh tests/doc/check_docs.sh
run tests/build/openbsd_syntax.sh --count tests/build/openbsd_syntax.sh
run tests/build/flags.sh --count tests/build/flags.sh
run tests/doc/check_rules.sh --count tests/doc/check_rules.sh

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: e2e: the sandbox tests and the lab need root" | tee -a "$out"
else
	# drops privileges, chroots, makes its own network namespace
	run tests/unit/test_sandbox --count tests/unit/test_sandbox
	# the lab itself, checked without mxclient (its own namespace)
	run tests/lab/selftest.sh --count tests/lab/selftest.sh
	run tests/e2e/run-lab.sh tests/lab/netns.sh tests/e2e/run-lab.sh
fi

pass=$(grep -c '^PASS: ' "$out")
fail=$(grep -c '^FAIL: ' "$out")
if [ "$fail" -gt 0 ]; then
	echo
	echo "Failed checks:"
	grep '^FAIL: ' "$out"
fi
echo
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
