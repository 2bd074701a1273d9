#!/bin/bash
# Runs inside tests/lab/netns.sh: start the lab once, run every
# tests/e2e/t_*.sh against it, stop the lab.  Each test prints PASS:/FAIL:
# lines itself and its count last (tests/e2e/lib.sh); tests/run.sh --e2e
# runs it with a time limit (E2E_TIMEOUT, 300 s) and adds a FAIL line
# when it exits with an error, dies by a signal, is stopped by the time
# limit or prints fewer lines than it counts.  Exits 1 if anything
# failed.
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

failed=0
for t in tests/e2e/t_*.sh; do
	echo "--- $t"
	start=$(date +%s%N)
	tests/run.sh --e2e "$t" || failed=1
	echo "--- $t: $((($(date +%s%N) - start) / 1000000)) ms"
done

tests/lab/lab.sh stop "$LAB" >/dev/null 2>&1
rm -rf "$LAB" "$LAB.start.log"
exit $failed
