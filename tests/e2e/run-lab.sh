#!/bin/bash
# Runs inside tests/lab/netns.sh: start the lab once, run every
# tests/e2e/t_*.sh against it, stop the lab.  Each test prints PASS:/FAIL:
# lines itself; a test script that dies without saying so is a FAIL.
set -u
cd "$(dirname "$0")/../.."
export LAB MXCLIENT MXCLIENT_SBTEST
LAB=$(mktemp -d /tmp/mxclient-lab.XXXXXX)
MXCLIENT=$PWD/mxclient
MXCLIENT_SBTEST=$PWD/mxclient-sbtest

if ! tests/lab/lab.sh start "$LAB" >"$LAB.start.log" 2>&1; then
	cat "$LAB.start.log"
	echo "FAIL: lab: could not start the lab"
	tests/lab/lab.sh stop "$LAB" >/dev/null 2>&1
	exit 1
fi
echo "lab started in $LAB"

for t in tests/e2e/t_*.sh; do
	echo "--- $t"
	start=$(date +%s%N)
	if ! timeout 300 bash "$t"; then
		echo "FAIL: $t: script exited with an error"
	fi
	echo "--- $t: $((($(date +%s%N) - start) / 1000000)) ms"
done

tests/lab/lab.sh stop "$LAB" >/dev/null 2>&1
rm -rf "$LAB" "$LAB.start.log"
