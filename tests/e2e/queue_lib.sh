# shellcheck shell=bash
# tests/e2e/queue_lib.sh - helpers for the mxqueue tests (t_queue*.sh),
# sourced after lib.sh.  Each test gets a private spool and configuration
# in $E2E_TMP (no root-owned paths): MXQUEUE_CONF is exported as
# MXCLIENT_CONF, so every caller that runs /usr/sbin/sendmail finds it.
#
#   q_setup [EXTRA CONF LINES]   spool in $SPOOL, configuration $QCONF
#   q_fixture [ARGS]             tests/fixtures/queue_smtpd.py on
#                                127.0.0.11 (slow.example); $ACCEPTS
#   as_sendmail CMD...           CMD with mxqueue bind-mounted over
#                                /usr/sbin/sendmail in a mount namespace
#   q_jobs                       number of job files in the queue
#   q_clean                      0 if tmp/, new/, queue/, run/ are empty
MXQUEUE=${MXQUEUE:-$(cd "$E2E_LIB_DIR/../.." && pwd)/mxqueue}

q_setup() {
	SPOOL=$E2E_TMP/spool
	QCONF=$E2E_TMP/mxclient.conf
	mkdir -p "$SPOOL/tmp" "$SPOOL/new" "$SPOOL/queue" "$SPOOL/run"
	{
		echo "# written by queue_lib.sh"
		echo "resolver = $LAB_RESOLVER"
		echo "domain = secure.example"
		echo "spool = $SPOOL"
		echo "mxclient = $MXCLIENT"
		echo "root: admin@secure.example"
		for l in "$@"; do echo "$l"; done
	} >"$QCONF"
	export MXCLIENT_CONF=$QCONF
}

q_fixture() {
	ACCEPTS=$E2E_TMP/accepts
	: >"$ACCEPTS"
	local ready=$E2E_TMP/qfix.ready
	rm -f "$ready"
	"$PYTHON" "$E2E_FIXTURES/queue_smtpd.py" --accepts "$ACCEPTS" \
		--ready-file "$ready" "$@" >"$E2E_TMP/qfix.out" 2>&1 &
	QFIX_PID=$!
	E2E_FIXTURE_PIDS+=("$QFIX_PID")
	for _ in $(seq 100); do
		[ -s "$ready" ] && return 0
		sleep 0.05
	done
	cat "$E2E_TMP/qfix.out" >&2
	return 1
}

as_sendmail() {
	unshare --mount --propagation private -- bash -c '
		mount --bind "$1" /usr/sbin/sendmail || exit 99
		shift
		exec "$@"' as_sendmail "$MXQUEUE" "$@"
}

q_jobs() {
	find "$SPOOL/queue" -mindepth 2 -type f -regex '.*/w?[0-9]+' | wc -l
}

q_clean() {
	local left
	left=$(find "${@:-$SPOOL/tmp}" "$SPOOL/new" "$SPOOL/queue" "$SPOOL/run" \
		-mindepth 1 2>/dev/null)
	[ -z "$left" ] && return 0
	echo "left in the spool: $left" | head -5 >&2
	return 1
}

# count_mail PATTERN -> delivered messages (Maildir) containing PATTERN
count_mail() {
	grep -l -F -- "$1" "$LAB_MAILDIR"/new/* "$LAB_MAILDIR"/cur/* 2>/dev/null | wc -l
}

# q_run [ARGS] -> mxqueue -q until the queue is empty (at most 20 runs)
q_run() {
	local i
	for i in $(seq 20); do
		"$MXQUEUE" -q "$@" || return $?
		[ "$(q_jobs)" -eq 0 ] && return 0
		sleep 0.3
	done
	return 1
}

# wait_count PATTERN N [SECONDS=10] -> waits until N delivered messages
# contain PATTERN (Postfix delivers to the Maildir after it queued), then
# half a second more so that an extra copy would show; prints the count
wait_count() {
	local i n
	for i in $(seq $((${3:-10} * 10))); do
		n=$(count_mail "$1")
		[ "$n" -ge "$2" ] && break
		sleep 0.1
	done
	sleep 0.5
	count_mail "$1"
}
