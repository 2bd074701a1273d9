#!/bin/bash
# The whole test suite (make check): unit tests, then the end-to-end
# tests against the lab (NSD, Unbound, Postfix, scripted servers) inside
# a private network and mount namespace.  Every check prints one line,
# PASS: or FAIL:; the last line counts them.
set -u
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for t in tests/unit/test_fds tests/unit/test_fds-asan \
    tests/unit/test_frame tests/unit/test_addr tests/unit/test_norm \
    tests/unit/test_reply tests/unit/test_dane tests/unit/test_proxy \
    tests/unit/test_frame-asan tests/unit/test_addr-asan \
    tests/unit/test_norm-asan tests/unit/test_reply-asan \
    tests/unit/test_dane-asan tests/unit/test_proxy-asan; do
	if [ -x "$t" ]; then
		"$t" 2>&1 | tee -a "$out"
	else
		echo "FAIL: $t: not built" | tee -a "$out"
	fi
done

tests/fuzz/run.sh 3 2>&1 | tee -a "$out"
tests/doc/check_docs.sh 2>&1 | tee -a "$out"

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: e2e: the sandbox tests and the lab need root" | tee -a "$out"
else
	# drops privileges, chroots, makes its own network namespace
	tests/unit/test_sandbox 2>&1 | tee -a "$out"
	tests/lab/netns.sh tests/e2e/run-lab.sh 2>&1 | tee -a "$out"
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
