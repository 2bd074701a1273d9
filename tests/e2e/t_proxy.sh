#!/bin/bash
# Proxy transports (--proxy, MXCLIENT_PROXY): a real SOCKS5 server
# (microsocks, with and without RFC 1929 authentication) and a real sshd
# for `ssh -W`, both in front of the lab's Postfix with DANE; the
# scripted tests/fixtures/socks5.py for the faults and attacks a real
# proxy does not make (refusals, hang-ups, a proxy that answers STARTTLS
# itself, strips it, or flips a bit of the TLS stream).  Rule names:
# X1-X9 in doc/RULES.md and doc/proxies.md.
. tests/e2e/lib.sh

T=proxy
RES=(--resolver "$LAB_RESOLVER")
tmp=$(mktemp -d)
FIX_ADDR=127.0.0.24 # socks5.py

if ! tests/lab/proxies.sh start "$LAB" >"$tmp/proxies.log" 2>&1; then
	cat "$tmp/proxies.log"
	fail "$T: proxies.sh start" "could not start microsocks/sshd"
	exit 1
fi
on_cleanup "tests/lab/proxies.sh stop '$LAB' >/dev/null 2>&1"
# shellcheck disable=SC1091
. "$LAB/proxies/proxies.env"
SOCKS=socks5://$PROXY_SOCKS_ADDR:$PROXY_SOCKS_PORT
SOCKS_AUTH="socks5://$PROXY_SOCKS_USER:$PROXY_SOCKS_PASS@$PROXY_SOCKS_AUTH_ADDR:$PROXY_SOCKS_AUTH_PORT"
SSH=ssh://root@$PROXY_SSH_ADDR

# send NAME WANT DOMAIN [ARGS...]: one message, exit status checked
send() {
	local name=$1 want=$2 dom=$3
	shift 3
	ID=$(new_id proxy)
	make_message "$ID" "rcpt@$dom" >"$tmp/msg"
	timeout 120 "$MXCLIENT" "${RES[@]}" "$@" -f a@example.org "rcpt@$dom" \
	    <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	expect_eq "$T: $name" "$want" "$?" "$tmp"
}
out_has() {
	grep -Eq -- "$2" "$tmp/out" "$tmp/err" && pass "$T: $1" ||
		fail "$T: $1" "$(tail -n 4 "$tmp/out" "$tmp/err" | tr '\n' '|')"
}
out_count() {
	local n
	n=$(grep -Ec -- "$3" "$tmp/out")
	expect_eq "$T: $1" "$2" "$n"
}
arrived() {
	if wait_for_mail "$ID" 10 >/dev/null; then pass "$T: $1"; else fail "$T: $1" "no mail"; fi
}
not_arrived() {
	if assert_no_mail "$ID" 1; then pass "$T: $1"; else fail "$T: $1" "mail arrived"; fi
}

# start_socks MODE [socks5.py ARGS...]: the scripted proxy on FIX_ADDR:1080
start_socks() {
	local mode=$1
	shift
	SLOG=$tmp/socks-$mode.log
	rm -f "$SLOG" "$tmp/socks.ready"
	"$PYTHON" tests/fixtures/socks5.py --listen $FIX_ADDR --port 1080 \
	    --mode "$mode" --log "$SLOG" --ready-file "$tmp/socks.ready" \
	    --max-seconds 60 "$@" >"$tmp/socks.out" 2>&1 &
	SPID=$!
	for _ in $(seq 100); do
		[ -s "$tmp/socks.ready" ] && return 0
		sleep 0.05
	done
	fail "$T: socks5.py $mode" "did not start: $(cat "$tmp/socks.out")"
}
stop_socks() {
	kill "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
}
# no_cleartext NAME: the hostile proxy never saw the envelope in clear
no_cleartext() {
	if grep -q '"event":"c2s"' "$SLOG" && grep -Eiq 'MAIL FROM|RCPT TO|Subject:' "$SLOG"; then
		fail "$T: $1" "envelope in clear: $(grep -Ei 'MAIL FROM|RCPT TO' "$SLOG" | head -2)"
	elif grep -q '"event":"cmd"' "$SLOG" && grep -Eq '"line":"(MAIL|RCPT|DATA)' "$SLOG"; then
		fail "$T: $1" "envelope sent to the fake server: $(grep -E '"line":"(MAIL|RCPT)' "$SLOG" | head -2)"
	else
		pass "$T: $1"
	fi
}

# --- SOCKS5 through a real proxy (microsocks) ---
send "X4 delivery through SOCKS5 (microsocks) to a DANE MX" 0 secure.example --proxy "$SOCKS"
out_has "X4 DANE authenticated through the proxy" 'verified by TLSA 3 1 1'
out_has "X4 the proxy is named" "reached through $SOCKS"
arrived "X4 the message arrived"
grep -q 'connected to 127.0.0.10:25' "$PROXY_SOCKS_LOG" &&
	pass "$T: X2 microsocks connected to the validated address" ||
	fail "$T: X2 microsocks connected to the validated address" "$(tail -2 "$PROXY_SOCKS_LOG")"

# MTA-STS through the proxy: the policy fetch (port 443) too (Y17)
STS_D=sts-enforce.insecure.example
send "X4 Y17 MTA-STS through SOCKS5: policy fetched through the proxy" 0 "$STS_D" \
    --proxy "$SOCKS" --ca-file "$LAB_CA_CERT" --sts-cache none
out_has "X4 Y18 MTA-STS through SOCKS5: verified" 'verified by the MTA-STS policy'
arrived "X4 MTA-STS through SOCKS5: arrived"
grep -q "connected to $LAB_NGINX_ADDR:443" "$PROXY_SOCKS_LOG" &&
	pass "$T: X2 Y17 microsocks connected to the policy host" ||
	fail "$T: X2 Y17 microsocks connected to the policy host" "$(tail -3 "$PROXY_SOCKS_LOG")"

send "X4 RFC 1929 user/password (raw @ and : in the password)" 0 secure.example --proxy "$SOCKS_AUTH"
out_has "X4 authenticated proxy: verified" ', verified by TLSA'
arrived "X4 authenticated proxy: arrived"
out_has "X4 the password is never printed" "socks5://$PROXY_SOCKS_USER@$PROXY_SOCKS_AUTH_ADDR"
if grep -Fq "$PROXY_SOCKS_PASS" "$tmp/out" "$tmp/err"; then
	fail "$T: X4 password not in the output" "printed"
else
	pass "$T: X4 password not in the output"
fi

send "X4 --json through the proxy" 0 secure.example --proxy "$SOCKS_AUTH" --json
if python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
sys.exit(not (d["exit"] == 0 and d["proxy"] == sys.argv[2] and d["security"] == "verified (DANE)"))' \
    "$tmp/out" "socks5://$PROXY_SOCKS_USER@$PROXY_SOCKS_AUTH_ADDR:$PROXY_SOCKS_AUTH_PORT"; then
	pass "$T: X4 the JSON report names the proxy, without the password"
else
	fail "$T: X4 the JSON report names the proxy, without the password" "$(head -c 300 "$tmp/out")"
fi

ID=$(new_id proxy)
make_message "$ID" rcpt@secure.example >"$tmp/msg"
MXCLIENT_PROXY=$SOCKS_AUTH timeout 60 "$MXCLIENT" "${RES[@]}" -f a@example.org \
    rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: X8 MXCLIENT_PROXY in the environment delivers" 0 "$?" "$tmp"
out_has "X8 MXCLIENT_PROXY: went through the proxy" "reached through socks5://$PROXY_SOCKS_USER@"
MXCLIENT_PROXY=$SOCKS_AUTH timeout 60 "$MXCLIENT" "${RES[@]}" --proxy none \
    -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: X8 --proxy none overrides MXCLIENT_PROXY" 0 "$?" "$tmp"
if grep -q 'reached through' "$tmp/out"; then
	fail "$T: X8 --proxy none: direct" "went through a proxy"
else
	pass "$T: X8 --proxy none: direct"
fi
MXCLIENT_PROXY=socks5h://127.0.0.1 timeout 20 "$MXCLIENT" "${RES[@]}" \
    -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: X8 a bad MXCLIENT_PROXY is a configuration error (78)" 78 "$?" "$tmp"

# --- proxy failures: all temporary, the proxy's own ones stop at once ---
send "X3 wrong password: 75" 75 multi.example --proxy "socks5://$PROXY_SOCKS_USER:wrong@$PROXY_SOCKS_AUTH_ADDR:1080"
out_has "X3 wrong password: named" 'refused the user name or password'
out_count "X3 wrong password: no second attempt (every address would fail)" 0 '^connecting to mx.secure.example'
send "X3 no credentials for a proxy that wants them: 75" 75 secure.example --proxy "socks5://$PROXY_SOCKS_AUTH_ADDR:1080"
out_has "X3 no credentials: 'requires authentication'" 'requires authentication'
send "X3 proxy unreachable: 75" 75 secure.example --proxy socks5://127.0.0.25:1080
out_has "X3 proxy unreachable: named" 'SOCKS5 proxy socks5://127.0.0.25:1080: connect: Connection refused'
not_arrived "X3 proxy unreachable: no fallback to a direct connection"

start_socks relay
send "X3 a destination the proxy cannot reach: next MX" 0 multi.example --proxy socks5://$FIX_ADDR:1080
out_has "X3 reply 5 named, the next MX was tried" 'mx1.multi.example \[127.0.0.12\]: SOCKS5 proxy .* refused the destination: (connection refused|host unreachable|network unreachable) \(reply [345]\)'
out_has "X3 next MX delivered" 'delivered: .* via mx.secure.example'
if grep '"event":"request"' "$SLOG" | grep -vq '"atyp":1'; then
	fail "$T: X2 every SOCKS request carried an IPv4 address (ATYP 1)" "$(grep '"event":"request"' "$SLOG")"
else
	n=$(grep -c '"event":"request".*"atyp":1.*"addr":"127.0.0.1[02]"' "$SLOG")
	expect_eq "$T: X2 every SOCKS request carried an IPv4 address (ATYP 1), the MX's" 2 "$n"
fi
stop_socks

for m in refuse:2 refuse:1; do
	start_socks "$m"
	send "X3 SOCKS $m: 75" 75 secure.example --proxy socks5://$FIX_ADDR:1080
	stop_socks
done
out_has "X3 reply 1 named" 'general SOCKS server failure \(reply 1\)'
start_socks close-greeting
send "X3 proxy closes after the greeting: 75" 75 secure.example --proxy socks5://$FIX_ADDR:1080
out_has "X3 closed at the greeting: named" 'greeting: the proxy closed the connection'
stop_socks
start_socks close-request
send "X3 proxy closes instead of answering CONNECT: 75" 75 secure.example --proxy socks5://$FIX_ADDR:1080
out_has "X3 closed at CONNECT: named" 'no reply to CONNECT: the proxy closed the connection'
stop_socks
start_socks bad-version
send "X3 a SOCKS4-speaking proxy: 75" 75 secure.example --proxy socks5://$FIX_ADDR:1080
out_has "X3 wrong version: named" 'not a SOCKS5 proxy'
stop_socks
start_socks slow:30
send "X3 a proxy that never answers: connect timeout, 75" 75 secure.example --proxy socks5://$FIX_ADDR:1080 --timeout connect=2
out_has "X3 silent proxy: timed out" 'greeting: Connection timed out'
stop_socks

# --- hostile proxies: DANE fails, nothing leaves in clear ---
start_socks fake-starttls
send "X6 a proxy that answers STARTTLS itself: DANE fails, 75" 75 secure.example --proxy socks5://$FIX_ADDR:1080
out_has "X6 fake STARTTLS: validation-failure" 'TLS-RPT: validation-failure'
no_cleartext "X6 fake STARTTLS: the fake server got no MAIL/RCPT/DATA"
not_arrived "X6 fake STARTTLS: not delivered"
stop_socks
start_socks strip-starttls
send "X6 a proxy that strips STARTTLS: 75" 75 secure.example --proxy socks5://$FIX_ADDR:1080
out_has "X6 stripped STARTTLS: starttls-not-supported" 'starttls-not-supported'
no_cleartext "X6 stripped STARTTLS: no envelope in clear"
stop_socks
start_socks flip
send "X6 a proxy that flips a bit of the TLS stream: 75" 75 secure.example --proxy socks5://$FIX_ADDR:1080
out_has "X6 flipped bit: the handshake failed" '(TLS handshake|handshake).*(fail|error)'
no_cleartext "X6 flipped bit: no envelope in clear"
stop_socks
start_socks redirect:127.0.0.24:2525
"$PYTHON" tests/fixtures/smtpd.py --listen 127.0.0.24 --port 2525 --mode starttls \
    --tls-cert "$LAB/tls/ca.crt" --tls-key "$LAB/tls/ca.key" --log "$tmp/redir.log" \
    --max-seconds 60 >/dev/null 2>&1 &
RPID=$!
sleep 0.5
send "X6 a proxy that connects elsewhere: DANE fails, 75" 75 secure.example --proxy socks5://$FIX_ADDR:1080
out_has "X6 redirected: validation-failure" 'TLS-RPT: validation-failure'
if grep -Eq '^C: (MAIL|RCPT|DATA)' "$tmp/redir.log"; then
	fail "$T: X6 redirected: the impostor got no envelope" "$(grep -E '^C: ' "$tmp/redir.log" | head -3)"
else
	pass "$T: X6 redirected: the impostor got no envelope"
fi
kill $RPID 2>/dev/null
wait $RPID 2>/dev/null
stop_socks

# --- the password leaves argv and the environment ---
# blanked NAME FILE: hunter2 is not in that /proc file of the running mxclient
blanked() {
	if tr '\0' '\n' <"$2" | grep -q hunter2; then
		fail "$T: $1" "$(tr '\0' ' ' <"$2" | grep -o '[^ ]*hunter2[^ ]*')"
	else
		pass "$T: $1"
	fi
}
start_socks slow:3 --auth mxuser:hunter2
make_message "$(new_id proxy)" rcpt@secure.example >"$tmp/msg"
"$MXCLIENT" "${RES[@]}" --proxy socks5://mxuser:hunter2@$FIX_ADDR:1080 \
    -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>&1 &
MPID=$!
sleep 1
blanked "X7 the password is blanked in ps" /proc/$MPID/cmdline
wait $MPID
expect_eq "$T: X7 the slow proxy still delivers" 0 "$?"
MXCLIENT_PROXY=socks5://mxuser:hunter2@$FIX_ADDR:1080 "$MXCLIENT" "${RES[@]}" \
    -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>&1 &
MPID=$!
sleep 1
blanked "X7 the password is blanked in /proc/PID/environ" /proc/$MPID/environ
wait $MPID
grep -q '"event":"auth".*"ok":true' "$SLOG" &&
	pass "$T: X7 the proxy got the real password" ||
	fail "$T: X7 the proxy got the real password" "$(grep auth "$SLOG")"
stop_socks

# --- ssh -W through a real sshd ---
send "X5 delivery through ssh -W to a DANE MX" 0 secure.example --user "$PROXY_LOCAL_USER" --proxy "$SSH"
out_has "X5 DANE authenticated through ssh" 'verified by TLSA 3 1 1'
out_has "X5 the ssh proxy is named" "reached through $SSH:22"
arrived "X5 through ssh: arrived"
send "X5 Y17 MTA-STS through ssh -W: policy fetched through ssh" 0 "$STS_D" \
    --user "$PROXY_LOCAL_USER" --proxy "$SSH" --ca-file "$LAB_CA_CERT" --sts-cache none
out_has "X5 Y18 MTA-STS through ssh: verified" 'verified by the MTA-STS policy'
arrived "X5 MTA-STS through ssh: arrived"
grep -q 'Accepted publickey for root' "$PROXY_SSH_LOG" &&
	pass "$T: X5 sshd saw a key login" || fail "$T: X5 sshd saw a key login" "$(tail -3 "$PROXY_SSH_LOG")"

send "X3 ssh: destination refused at the far end: next MX" 0 multi.example --user "$PROXY_LOCAL_USER" --proxy "$SSH"
out_has "X3 ssh: the refused address is reported with ssh's words" 'mx1.multi.example \[127.0.0.12\]: ssh proxy .*: ssh exited with status 255: .*(open failed|forwarding failed)'
out_has "X3 ssh: next MX delivered" 'delivered: .* via mx.secure.example'

# an MX that accepts and closes at once: ssh ends (status 0) before any
# greeting; that is this address's fault, the next MX is tried
"$PYTHON" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.11", 25))
s.listen(16)
s.settimeout(60)
while True:
    c, _ = s.accept()
    c.close()
' >/dev/null 2>&1 &
CPID=$!
sleep 0.3
send "X3 ssh: an MX that closes before its greeting: next MX" 0 silent-backup.example --user "$PROXY_LOCAL_USER" --proxy "$SSH"
out_has "X3 ssh ended before the greeting: reported for that address" 'mx.slow.example \[127.0.0.11\]: ssh proxy .*: ssh exited with status 0'
kill $CPID 2>/dev/null
wait $CPID 2>/dev/null

send "X3 ssh exits (nothing listens on the ssh port): 75" 75 multi.example --user "$PROXY_LOCAL_USER" --proxy "ssh://root@$PROXY_SSH_ADDR:2222"
out_has "X3 ssh exit: its stderr is shown" 'ssh exited with status 255: ssh: connect to host 127.0.0.23 port 2222: Connection refused'
out_count "X3 ssh exit: the ssh server is down, no other address is tried" 1 '^connecting to '
send "X3 ssh refuses the login: 75" 75 secure.example --user "$PROXY_LOCAL_USER" --proxy "ssh://nobody@$PROXY_SSH_ADDR"
out_has "X3 ssh login refused: named" 'Permission denied'

send "X9 as root, ssh:// without --user is refused (ssh never runs as root): 78" 78 secure.example --proxy "$SSH"
out_has "X9 ssh as root: asks for --user" 'needs --user NAME'

# --- the ssh process's sandbox ---
if [ -x "${MXCLIENT_SBTEST:-}" ]; then
	make_message "$(new_id proxy)" rcpt@secure.example >"$tmp/msg"
	MXCLIENT_SANDBOX_TEST=ssh:execve timeout 30 "$MXCLIENT_SBTEST" "${RES[@]}" \
	    --user "$PROXY_LOCAL_USER" --proxy "$SSH" -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	out_has "X9 the ssh process cannot execute /bin/sh (Landlock: EACCES)" 'sandbox test: ssh: execve /bin/sh: Permission denied'
	MXCLIENT_SANDBOX_TEST=ssh:ptrace timeout 30 "$MXCLIENT_SBTEST" "${RES[@]}" \
	    --user "$PROXY_LOCAL_USER" --proxy "$SSH" -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	out_has "X9 the ssh process cannot ptrace (seccomp deny-list: EPERM)" 'sandbox test: ssh: ptrace PTRACE_TRACEME: Operation not permitted'
	MXCLIENT_SANDBOX_TEST=net:connect-port-80 timeout 30 "$MXCLIENT_SBTEST" "${RES[@]}" \
	    --user "$PROXY_LOCAL_USER" --proxy "$SSH" -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	out_has "X9 with ssh, net may connect nowhere (Landlock)" 'sandbox test: net: connect to 127.0.0.1 port 80: Permission denied'
else
	fail "$T: X9 sandbox tests" "mxclient-sbtest not built"
fi

# capabilities and limits of the ssh process and of ssh itself, as root
start_fixture slow-greeting --delay 3
make_message "$(new_id proxy)" rcpt@slow.example >"$tmp/msg"
# K1: a descriptor the caller left open far above 1024 reaches neither
ulimit -n 4096
exec 1500<"$tmp/msg"
"$MXCLIENT" "${RES[@]}" --user "$PROXY_LOCAL_USER" --proxy "$SSH" -f a@example.org rcpt@slow.example \
    <"$tmp/msg" >"$tmp/out" 2>&1 &
MPID=$!
exec 1500<&-
sleep 1.5
sp=$(pgrep --ns $$ --nslist net -x mxclient-ssh | head -1)
kid=$(pgrep -P "${sp:-0}" -x ssh | head -1)
for p in "$sp" "$kid"; do
	what=$([ "$p" = "$sp" ] && echo "the ssh process" || echo "ssh itself")
	if [ -z "$p" ]; then
		fail "$T: X9 $what found" "no process"
		continue
	fi
	st=/proc/$p/status
	if grep -q "^Uid:[[:space:]]*$PROXY_LOCAL_UID[[:space:]]*$PROXY_LOCAL_UID[[:space:]]*$PROXY_LOCAL_UID" "$st" &&
		grep -q '^CapEff:[[:space:]]*0000000000000000' "$st" &&
		grep -q '^CapBnd:[[:space:]]*0000000000000000' "$st" &&
		grep -q '^NoNewPrivs:[[:space:]]*1' "$st" &&
		grep -q '^Seccomp:[[:space:]]*2' "$st"; then
		pass "$T: X9 $what: runs as --user, no capabilities, no_new_privs, seccomp"
	else
		fail "$T: X9 $what: runs as --user, no capabilities, no_new_privs, seccomp" "$(grep -E 'Uid|Cap|NoNew|Seccomp' "$st" | tr '\n' ' ')"
	fi
	inherited=$(ls -l /proc/$p/fd | awk -v m="$tmp/msg" '$9 == 1500 || $11 == m')
	[ -z "$inherited" ] && pass "$T: K1 $what holds no descriptor of the caller's (1500)" ||
		fail "$T: K1 $what holds no descriptor of the caller's (1500)" "$inherited"
done
wait $MPID
expect_eq "$T: X5 ssh tunnel to a slow greeting delivers" 0 "$?"
stop_fixture

rm -rf "$tmp"
