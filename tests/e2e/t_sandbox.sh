#!/bin/bash
# Privilege separation as the kernel sees it: during a delivery held open
# by a slow server, every process is under a seccomp filter with
# no_new_privs, the children run as nobody in an empty root; and a test
# build proves each filter kills a forbidden call and that the parent
# names the process and the call.
. tests/e2e/lib.sh

T=sandbox
RES=(--resolver 127.0.0.1)
tmp=$(mktemp -d)
make_message "sandbox-$$@mxclient.test" >"$tmp/msg"

ls -a /tmp | sort >"$tmp/tmp-before"
held_delivery 4 "$tmp/msg" "$tmp/out" "$tmp/err"
pid=$HELD_PID
kids=$(pgrep -P "$pid" | tr '\n' ' ')
nk=$(echo $kids | wc -w)
expect_eq "$T: parent has three children during a delivery" 3 "$nk"
for p in "$pid" $kids; do
	st=/proc/$p/status
	name=$(tr -d '\0' </proc/$p/cmdline | head -c 40)
	role=child
	[ "$p" = "$pid" ] && role=parent
	grep -q $'^Seccomp:\t2$' "$st" && pass "$T: $role $p has Seccomp: 2" ||
		fail "$T: $role $p has Seccomp: 2" "$(grep Seccomp "$st")"
	grep -q $'^NoNewPrivs:\t1$' "$st" && pass "$T: $role $p has NoNewPrivs: 1" ||
		fail "$T: $role $p has NoNewPrivs: 1" "$(grep NoNewPrivs "$st")"
	if [ "$role" = child ]; then
		uid=$(awk '/^Uid:/ {print $2 $3 $4 $5}' "$st")
		nobody=$(id -u nobody)
		expect_eq "$T: child $p runs as nobody (real, effective, saved, fs)" "$nobody$nobody$nobody$nobody" "$uid"
		root=$(readlink "/proc/$p/root")
		[ "$root" != / ] && pass "$T: child $p is chrooted ($root)" ||
			fail "$T: child $p is chrooted" "root is /"
		# stdio, then sockets only: its channels (at most 4) and,
		# in tls, the SMTP connection
		other=$(ls -l /proc/$p/fd | awk 'NR > 1 && $9 > 2 && $11 !~ /^socket:/')
		n=$(ls /proc/$p/fd | awk '$1 > 2' | wc -l)
		[ -z "$other" ] && [ "$n" -le 5 ] &&
			pass "$T: child $p holds only sockets besides stdio ($n)" ||
			fail "$T: child $p holds only sockets besides stdio" "$(ls -l /proc/$p/fd)"
	fi
done
wait "$pid"
expect_eq "$T: the held delivery still succeeds" 0 "$?" "$tmp"
stop_fixture

# Forbidden calls in a test build: killed, reported, exit 75 (never 70).
forbid() {
	local proc=$1 call=$2 pattern=$3
	MXCLIENT_SANDBOX_TEST="$proc:$call" timeout 60 "$MXCLIENT_SBTEST" "${RES[@]}" \
	    -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = 75 ] && grep -q "$pattern" "$tmp/err"; then
		pass "$T: $call in $proc is killed and reported, exit 75"
	else
		fail "$T: $call in $proc is killed and reported, exit 75" "exit $rc: $(cat "$tmp/err")"
	fi
}
forbid tls open "tls: killed by its sandbox: system call [0-9]* (open"
forbid tls socket "tls: killed by its sandbox: system call [0-9]* (socket)"
forbid dns execve "dns: killed by its sandbox: system call [0-9]* (execve)"
forbid net execve "net: killed by its sandbox: system call [0-9]* (execve)"
forbid tls execve "tls: killed by its sandbox: system call [0-9]* (execve)"
forbid net open "net: killed by its sandbox: system call [0-9]* (open"
forbid dns fork "dns: killed by its sandbox: system call [0-9]* "
forbid tls ptrace "tls: killed by its sandbox: system call [0-9]* (ptrace)"

# The parent, too: it dies by SIGSYS (it cannot report itself).
MXCLIENT_SANDBOX_TEST="parent:execve" timeout 60 "$MXCLIENT_SBTEST" "${RES[@]}" \
    -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: execve in the parent dies by SIGSYS (128+31)" 159 "$?" "$tmp"

# Landlock: net may connect to port 25 only.
MXCLIENT_SANDBOX_TEST="net:connect-port-80" timeout 60 "$MXCLIENT_SBTEST" "${RES[@]}" \
    -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
rc=$?
# the test mode exits with the errno of the refused connect: 13, EACCES
# (the parent's line; the child's own note may interleave with tls's)
grep -q 'net: exited with status 13;' "$tmp/err" && [ "$rc" = 75 ] &&
	pass "$T: Landlock denies net a connection to port 80, exit 75" ||
	fail "$T: Landlock denies net a connection to port 80" "exit $rc: $(cat "$tmp/err")"
# Nothing left behind by any of the runs above, killed ones included.
# (spool files and fallback chroot directories are /tmp/mxclient.XXXXXX)
left=$(comm -13 "$tmp/tmp-before" <(ls -a /tmp | sort) | grep '^mxclient\.')
[ -z "$left" ] && pass "$T: no spool file or chroot directory left in /tmp after all runs" ||
	fail "$T: no spool file or chroot directory left in /tmp after all runs" "$left"
rm -rf "$tmp"
