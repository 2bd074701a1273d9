#!/bin/bash
# proxies.sh - proxies in front of the mxclient test lab: two SOCKS5
# servers (microsocks) and a real OpenSSH sshd for `ssh -W`.
#
# Usage:
#   tests/lab/proxies.sh start DIR    start the proxies for the lab in DIR
#   tests/lab/proxies.sh stop DIR     stop them (and their children), wait,
#                                     and undo the /etc/passwd bind mount
#   tests/lab/proxies.sh status DIR   exit 0 if all three run
#
# DIR is a lab made by `tests/lab/lab.sh start DIR` (DIR/lab.env must exist).
# Like lab.sh it MUST run inside the private network + mount namespace made
# by tests/lab/netns.sh, and refuses to start elsewhere: it adds 127.0.0.21,
# .22, .23 (/32) to lo and bind-mounts a file over /etc/passwd (see below).
# All traffic stays on 127.0.0.0/8; all files live under DIR/proxies/:
#
#   proxies.env          shell variables (source it; list below)
#   microsocks.log       127.0.0.21:1080 microsocks, no authentication
#   microsocks-auth.log  127.0.0.22:1080 microsocks, RFC 1929 user/password
#                        mxuser / p@ss:w0rd (the @ and : are on purpose)
#   sshd.log             127.0.0.23:22 OpenSSH sshd (-D -E, LogLevel VERBOSE),
#                        root may log in with the lab client key only,
#                        AllowTcpForwarding yes (for `ssh -W`)
#   sshd_config, ssh_host_ed25519_key(.pub), authorized_keys, *.pid
#   passwd               /etc/passwd with root's home = DIR/proxies/roothome;
#                        bind-mounted over /etc/passwd (private mount
#                        namespace: invisible outside), because the ssh
#                        client finds ~/.ssh via getpwuid(0), not $HOME
#   userhome/.ssh/       the same key and known_hosts for the local account
#                        mxproxy (uid 64990, only in the private passwd), as
#                        which mxclient --user mxproxy runs ssh when root
#   roothome/.ssh/       id_ed25519(.pub) (the client key), known_hosts with
#                        the sshd host key for 127.0.0.23 and [127.0.0.20]:2222
#                        (a delaying proxy in front of sshd may listen there)
#
# So, inside the namespace, as root:
#   ssh -o BatchMode=yes -l root -p 22 -W 127.0.0.10:25 127.0.0.23
# prints Postfix's 220 greeting.
#
# proxies.env: PROXY_DIR PROXY_SOCKS_ADDR PROXY_SOCKS_PORT PROXY_SOCKS_LOG
#   PROXY_SOCKS_AUTH_ADDR PROXY_SOCKS_AUTH_PORT PROXY_SOCKS_AUTH_LOG
#   PROXY_SOCKS_USER PROXY_SOCKS_PASS PROXY_SSH_ADDR PROXY_SSH_PORT
#   PROXY_SSH_USER PROXY_SSH_LOG PROXY_SSH_HOME PROXY_SSH_KEY
#   PROXY_SSH_KNOWN_HOSTS PROXY_SSH_HOSTKEY_PUB
#
# The daemons outlive the caller: always run `stop` (e.g. from a trap).
# LAB_TIMEOUT=SECONDS at start adds a watchdog that runs `stop` by itself
# after that long (as lab.sh does). PROXY_SSHD_LOGLEVEL=DEBUG1 at start
# makes sshd log the target of each `ssh -W` ("server_request_direct_tcpip:
# originator ..., target 127.0.0.10 port 25"); the default, VERBOSE, logs
# connections and logins only.
set -eu

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lab/ns.sh
. "$LAB_SRC/ns.sh"

SOCKS_ADDR=127.0.0.21
SOCKS_AUTH_ADDR=127.0.0.22
SOCKS_PORT=1080
SOCKS_USER=mxuser
SOCKS_PASS='p@ss:w0rd'
SSH_ADDR=127.0.0.23
SSH_PORT=22
SSH_DELAY_HOSTPORT='[127.0.0.20]:2222'   # known_hosts name for a delaying proxy
LOCAL_USER=mxproxy   # local account for ssh when mxclient runs as root
LOCAL_UID=64990

MICROSOCKS=/usr/bin/microsocks
SSHD=/usr/sbin/sshd

die() { echo "proxies.sh: error: $*" >&2; exit 1; }
say() { echo "proxies: $*"; }

usage() {
	sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

check_namespace() {
	refuse_outside_netns "$@"
	private_mntns || die "refusing to bind-mount /etc/passwd outside a private mount namespace; use: $LAB_SRC/netns.sh $0 $*"
	ip link set lo up 2>/dev/null || true
	local a
	for a in $SOCKS_ADDR $SOCKS_AUTH_ADDR $SSH_ADDR; do
		ip -4 addr show dev lo | grep -q "inet $a/" ||
			ip addr add "$a/32" dev lo 2>/dev/null ||
			die "cannot add $a to lo (not root? not in a private netns?)"
	done
}

check_tools() {
	local t missing=""
	for t in "$MICROSOCKS" "$SSHD" ssh ssh-keygen ip ss setsid mount umount findmnt; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -z "$missing" ] || die "missing tools:$missing (apt-get install microsocks openssh-server openssh-client iproute2)"
	[ "$(id -u)" = 0 ] || die "must run as root"
}

# pid_alive PID -> 0 if PID runs (a zombie does not: our daemons are not
# our children, and whoever inherits them may be slow to reap them)
pid_alive() {
	local st
	[ -n "${1:-}" ] && st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}
read_pid() { if [ -s "$1" ]; then awk '{print $1; exit}' "$1" 2>/dev/null || true; fi; }

# descendants PID... -> every descendant of the PIDs (sshd's per-connection
# processes call setsid(), so they are found by parentage)
descendants() {
	[ $# -gt 0 ] || return 0
	# /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold anything
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots=" $* " '
		{
			pid = $1; line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
			parent[pid] = f[2]
		}
		END {
			n = split(roots, r, " ")
			for (i = 1; i <= n; i++) want[r[i]] = 1
			do {
				changed = 0
				for (p in parent)
					if (!(p in want) && (parent[p] in want)) { want[p] = 1; out[p] = 1; changed = 1 }
			} while (changed)
			for (p in out) print p
		}'
}

# ours: the pids started by `start` in DIR (from the pid files)
daemon_pids() {
	local f pid
	for f in "$P/microsocks.pid" "$P/microsocks-auth.pid" "$P/sshd.pid"; do
		pid=$(read_pid "$f")
		pid_alive "$pid" && echo "$pid"
	done
	return 0
}

# listening ADDR PORT -> 0 if something listens there (no connection made:
# a probe would only add noise to sshd.log)
listening() { [ -n "$(ss -Hltn "src $1:$2" 2>/dev/null)" ]; }

show_logs() {
	local f
	for f in "$P/microsocks.log" "$P/microsocks-auth.log" "$P/sshd.log" "$P/start.log"; do
		[ -s "$f" ] || continue
		echo "---- tail $f" >&2
		tail -n 25 "$f" >&2
	done
}

# our_passwd_mount -> 0 if /etc/passwd is a mount of DIR/proxies/passwd
our_passwd_mount() {
	[ -f "$P/passwd" ] || return 1
	findmnt -rn -o TARGET /etc/passwd >/dev/null 2>&1 || return 1
	cmp -s /etc/passwd "$P/passwd"
}

# ---------------------------------------------------------------------------

cmd_start() {
	local t0 t1 a pids=() pid hostpub n
	t0=$EPOCHREALTIME
	check_tools
	[ -f "$DIR/lab.env" ] || die "$DIR/lab.env not found: start the lab first (tests/lab/lab.sh start $DIR)"
	if [ -n "$(daemon_pids)" ] || our_passwd_mount; then
		say "proxies in $DIR are running; stopping them first"
		cmd_stop >/dev/null
	fi
	for a in "$SOCKS_ADDR $SOCKS_PORT" "$SOCKS_AUTH_ADDR $SOCKS_PORT" "$SSH_ADDR $SSH_PORT"; do
		# shellcheck disable=SC2086 # "ADDR PORT"
		! listening $a || die "${a% *} port ${a#* } is in use (other proxies in this namespace?)"
	done
	rm -rf "$P"
	mkdir -p "$P/roothome/.ssh"
	chmod 755 "$P"
	chmod 700 "$P/roothome" "$P/roothome/.ssh"
	: > "$P/start.log"

	# keys: the sshd host key and the client key of root
	ssh-keygen -q -t ed25519 -N '' -C "lab sshd $SSH_ADDR" -f "$P/ssh_host_ed25519_key" \
		>>"$P/start.log" 2>&1 & pids+=($!)
	ssh-keygen -q -t ed25519 -N '' -C "lab client root" -f "$P/roothome/.ssh/id_ed25519" \
		>>"$P/start.log" 2>&1 & pids+=($!)
	for pid in "${pids[@]}"; do wait "$pid" || die "ssh-keygen failed (see $P/start.log)"; done
	chmod 600 "$P/roothome/.ssh/id_ed25519" "$P/roothome/.ssh/id_ed25519.pub"
	cp "$P/roothome/.ssh/id_ed25519.pub" "$P/authorized_keys"
	hostpub=$(awk '{print $1, $2}' "$P/ssh_host_ed25519_key.pub")
	printf '%s %s\n' "$SSH_ADDR" "$hostpub" "$SSH_DELAY_HOSTPORT" "$hostpub" \
		> "$P/roothome/.ssh/known_hosts"
	chmod 600 "$P/roothome/.ssh/known_hosts"

	cat > "$P/sshd_config" <<-EOF
	# generated by tests/lab/proxies.sh
	ListenAddress $SSH_ADDR:$SSH_PORT
	HostKey "$P/ssh_host_ed25519_key"
	PidFile "$P/sshd.pid"
	AuthorizedKeysFile "$P/authorized_keys"
	StrictModes no
	UsePAM no
	PermitRootLogin prohibit-password
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	AuthenticationMethods publickey
	AllowTcpForwarding yes
	AllowAgentForwarding no
	AllowStreamLocalForwarding no
	X11Forwarding no
	PermitTTY no
	PrintMotd no
	UseDNS no
	LogLevel ${PROXY_SSHD_LOGLEVEL:-VERBOSE}
	# many parallel mxclient runs (benchmarks) must not be dropped
	MaxStartups 200
	EOF

	# root's home for the ssh client: a private /etc/passwd; it also has
	# the local account mxclient runs ssh as when started as root
	# (--user mxproxy): the same key and known_hosts, owned by it
	awk -F: -v OFS=: -v home="$P/roothome" '$1 == "root" { $6 = home } { print }' \
		/etc/passwd > "$P/passwd"
	printf '%s:x:%s:%s:mxclient lab ssh user:%s:/usr/sbin/nologin\n' \
		"$LOCAL_USER" "$LOCAL_UID" "$LOCAL_UID" "$P/userhome" >> "$P/passwd"
	rm -rf "$P/userhome"
	mkdir -p "$P/userhome/.ssh"
	cp -p "$P/roothome/.ssh/id_ed25519" "$P/roothome/.ssh/known_hosts" "$P/userhome/.ssh/"
	chmod 700 "$P/userhome" "$P/userhome/.ssh"
	chown -R "$LOCAL_UID:$LOCAL_UID" "$P/userhome"
	chmod 644 "$P/passwd"
	grep -q "^root:[^:]*:0:[^:]*:[^:]*:$P/roothome:" "$P/passwd" || die "no root entry in /etc/passwd"
	mount --bind "$P/passwd" /etc/passwd || die "cannot bind-mount $P/passwd over /etc/passwd"

	# sshd refuses to start without its privilege separation directory
	[ -d /run/sshd ] || { mkdir -p /run/sshd; chmod 755 /run/sshd; }

	setsid "$MICROSOCKS" -i "$SOCKS_ADDR" -p "$SOCKS_PORT" \
		</dev/null >>"$P/microsocks.log" 2>&1 &
	echo $! > "$P/microsocks.pid"
	setsid "$MICROSOCKS" -i "$SOCKS_AUTH_ADDR" -p "$SOCKS_PORT" -u "$SOCKS_USER" -P "$SOCKS_PASS" \
		</dev/null >>"$P/microsocks-auth.log" 2>&1 &
	echo $! > "$P/microsocks-auth.pid"
	# sshd writes its own pid file (same pid: -D does not fork)
	setsid "$SSHD" -D -f "$P/sshd_config" -E "$P/sshd.log" \
		</dev/null >>"$P/start.log" 2>&1 &
	echo $! > "$P/sshd.pid"

	n=200          # 200 x 10 ms
	until listening "$SOCKS_ADDR" "$SOCKS_PORT" && listening "$SOCKS_AUTH_ADDR" "$SOCKS_PORT" &&
		listening "$SSH_ADDR" "$SSH_PORT"; do
		n=$((n - 1))
		for pid in $(read_pid "$P/microsocks.pid") $(read_pid "$P/microsocks-auth.pid") \
			$(read_pid "$P/sshd.pid"); do
			pid_alive "$pid" || { show_logs; die "a proxy exited at start (pid $pid)"; }
		done
		[ $n -gt 0 ] || { show_logs; die "timed out waiting for the proxies to listen"; }
		sleep 0.01
	done

	cat > "$P/proxies.env" <<-EOF
	# generated by tests/lab/proxies.sh; source it
	PROXY_DIR='$P'
	# microsocks without authentication
	PROXY_SOCKS_ADDR=$SOCKS_ADDR
	PROXY_SOCKS_PORT=$SOCKS_PORT
	PROXY_SOCKS_LOG='$P/microsocks.log'
	# microsocks with RFC 1929 username/password
	PROXY_SOCKS_AUTH_ADDR=$SOCKS_AUTH_ADDR
	PROXY_SOCKS_AUTH_PORT=$SOCKS_PORT
	PROXY_SOCKS_AUTH_LOG='$P/microsocks-auth.log'
	PROXY_SOCKS_USER=$SOCKS_USER
	PROXY_SOCKS_PASS='$SOCKS_PASS'
	# OpenSSH sshd for ssh -W (user root, key in PROXY_SSH_HOME/.ssh)
	PROXY_SSH_ADDR=$SSH_ADDR
	PROXY_SSH_PORT=$SSH_PORT
	PROXY_SSH_USER=root
	PROXY_SSH_LOG='$P/sshd.log'
	PROXY_SSH_HOME='$P/roothome'
	PROXY_SSH_KEY='$P/roothome/.ssh/id_ed25519'
	PROXY_SSH_KNOWN_HOSTS='$P/roothome/.ssh/known_hosts'
	PROXY_SSH_HOSTKEY_PUB='$P/ssh_host_ed25519_key.pub'
	# the local account (private /etc/passwd) with the same key: as root,
	# mxclient runs ssh only as --user NAME
	PROXY_LOCAL_USER=$LOCAL_USER
	PROXY_LOCAL_UID=$LOCAL_UID
	EOF

	if [ "${LAB_TIMEOUT:-0}" -gt 0 ] 2>/dev/null; then
		# shellcheck disable=SC2016 # $1.. are the arguments of bash -c
		setsid bash -c 'echo $$ > "$3/watchdog.pid"; sleep "$1" & wait; exec "$2" stop "$4"' \
			watchdog "$LAB_TIMEOUT" "$LAB_SRC/proxies.sh" "$P" "$DIR" </dev/null >/dev/null 2>&1 &
	fi

	t1=$EPOCHREALTIME
	say "started in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s; dir $P (variables: $P/proxies.env)"
	say "  socks5  $SOCKS_ADDR:$SOCKS_PORT microsocks, no auth  log $P/microsocks.log"
	say "  socks5  $SOCKS_AUTH_ADDR:$SOCKS_PORT microsocks, user $SOCKS_USER pass $SOCKS_PASS  log $P/microsocks-auth.log"
	say "  ssh     $SSH_ADDR:$SSH_PORT sshd (root, key $P/roothome/.ssh/id_ed25519)  log $P/sshd.log"
}

cmd_stop() {
	local pid pids all n
	pid=$(read_pid "$P/watchdog.pid")
	if pid_alive "$pid" && [ "$(ps -o pgid= -p $$ | tr -d ' ')" != "$pid" ]; then
		kill -- "-$pid" 2>/dev/null || true
	fi
	rm -f "$P/watchdog.pid"
	pids=$(daemon_pids)
	# sshd's connection processes first (they outlive the listener), then
	# the listeners
	# shellcheck disable=SC2086
	all="$(descendants $pids) $pids"
	# shellcheck disable=SC2086
	[ -z "${all// /}" ] || kill $all 2>/dev/null || true
	n=100
	while :; do
		pids=""
		for pid in $all; do pid_alive "$pid" && pids="$pids $pid"; done
		[ -n "$pids" ] || break
		n=$((n - 1))
		if [ $n -eq 0 ]; then
			echo "proxies.sh: killing leftover processes:$pids" >&2
			# shellcheck disable=SC2086
			kill -9 $pids 2>/dev/null || true
		elif [ $n -lt 0 ]; then
			[ $n -gt -40 ] || die "processes would not die:$pids"
		fi
		sleep 0.02
	done
	rm -f "$P/microsocks.pid" "$P/microsocks-auth.pid" "$P/sshd.pid"
	# undo the /etc/passwd bind mount (all layers of it, if start ran twice)
	while our_passwd_mount; do
		umount /etc/passwd || die "cannot umount /etc/passwd"
	done
	say "stopped ($P)"
}

cmd_status() {
	local ok=0
	pid_alive "$(read_pid "$P/microsocks.pid")" || { echo "microsocks ($SOCKS_ADDR): not running"; ok=1; }
	pid_alive "$(read_pid "$P/microsocks-auth.pid")" || { echo "microsocks ($SOCKS_AUTH_ADDR): not running"; ok=1; }
	pid_alive "$(read_pid "$P/sshd.pid")" || { echo "sshd: not running"; ok=1; }
	our_passwd_mount || { echo "/etc/passwd: not bind-mounted"; ok=1; }
	[ $ok -ne 0 ] || echo "proxies in $P: running"
	return $ok
}

[ $# -eq 2 ] || usage
DIR=$(realpath -m -- "$2")
[ "$DIR" != / ] || die "DIR must not be /"
P=$DIR/proxies
case "$1" in
start)
	check_namespace "$@"
	# shellcheck disable=SC2154
	trap 'rc=$?; if [ $rc -ne 0 ]; then echo "proxies.sh: start failed; stopping" >&2; cmd_stop >/dev/null 2>&1 || true; fi' EXIT
	cmd_start "$@"
	trap - EXIT
	;;
stop)   cmd_stop ;;
status) cmd_status ;;
*)      usage ;;
esac
