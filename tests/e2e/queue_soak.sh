#!/bin/bash
# make soak: the lab, then t_queue_soak.sh with QUEUE_SOAK_N (500).
set -u
cd "$(dirname "$0")/../.."
export LAB MXCLIENT QUEUE_SOAK_N=${QUEUE_SOAK_N:-500}
LAB=$(mktemp -d /tmp/mxclient-lab.XXXXXX)
MXCLIENT=$PWD/mxclient
tests/lab/lab.sh start "$LAB" >/dev/null 2>&1 || { echo "FAIL: lab: could not start"; exit 1; }
rc=0
timeout 1800 bash tests/e2e/t_queue_soak.sh || rc=$?
tests/lab/lab.sh stop "$LAB" >/dev/null 2>&1
rm -rf "$LAB"
exit $rc
