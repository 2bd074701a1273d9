#!/bin/bash
# The allow-lists against what the processes really do: a few deliveries
# (DANE, TCP fallback for a big TLSA RRset, a DANE failure, a refused
# connection, DANE through a SOCKS5 proxy) run under strace; for each process, every system call made
# after its seccomp filter was loaded must be in its table in
# sandbox/seccomp_tables.c, and the entries that none of these runs used
# are listed (candidates for removal, or kept for a path named in their
# reason: abort(), vDSO fallbacks, other architectures).
. tests/e2e/lib.sh

T=syscalls
RES=(--resolver "$LAB_RESOLVER")
tmp=$(mktemp -d)
TABLES=sandbox/seccomp_tables.c

# table PROC: "NAME must" or "NAME rare" for every row of PROC's calls
# and rules tables; a rare row names, with RARE("..."), the path that
# needs it and that these runs do not take
table() {
	python3 - "$1" "$TABLES" <<'PY'
import re, sys
proc, path = sys.argv[1], sys.argv[2]
src = open(path).read()
rows = {}
for kind in ("calls", "rules"):
    m = re.search(r"static const struct sb_(call|rule) %s_%s\[\] = \{(.*?)\n\};" % (proc, kind), src, re.S)
    if not m:
        continue
    body, depth, start = m.group(2), 0, None
    for i, c in enumerate(body):
        if c == "{":
            depth += 1
            if depth == 1:
                start = i
        elif c == "}":
            depth -= 1
            if depth == 0 and start is not None:
                row = body[start:i + 1]
                name = re.match(r'\{\s*"([a-z0-9_]+)"', row).group(1)
                rare = "RARE(" in row
                rows[name] = rows.get(name, True) and rare
for name in sorted(rows):
    print(name, "rare" if rows[name] else "must")
PY
}

n=0
for dom in secure.example bigtlsa.example wrongtlsa.example multi.example; do
	n=$((n + 1))
	make_message "$(new_id sys)" "rcpt@$dom" >"$tmp/msg"
	strace -f -ff -qq -o "$tmp/tr.$n" "$MXCLIENT" "${RES[@]}" -f a@example.org "rcpt@$dom" \
	    <"$tmp/msg" >/dev/null 2>&1
done
# -v, --status-fd, --syslog: the peak RSS (getrusage), the report
# (malloc), the summary line on a log socket (sendto)
"$PYTHON" "$E2E_FIXTURES/syslogd.py" "$tmp/log.sock" "$tmp/syslog" --ready-file "$tmp/log.ready" \
    --max-seconds 60 >/dev/null 2>&1 &
logpid=$!
for _ in $(seq 100); do [ -s "$tmp/log.ready" ] && break; sleep 0.05; done
printf 'syslog-socket = %s\n' "$tmp/log.sock" >"$tmp/log.conf"
n=$((n + 1))
MXCLIENT_CONF=$tmp/log.conf strace -f -ff -qq -o "$tmp/tr.$n" "$MXCLIENT" "${RES[@]}" -v \
    --status-fd 3 --syslog -f a@example.org rcpt@secure.example <"$tmp/msg" >/dev/null 2>&1 3>/dev/null
kill "$logpid" 2>/dev/null
# large RRsets and certificates: TCP answers, growing lists, Full(0) data
for dom in tlsa-33.example tlsa-bigcert-ok.example; do
	n=$((n + 1))
	make_message "$(new_id sys)" "rcpt@$dom" >"$tmp/msg"
	strace -f -ff -qq -o "$tmp/tr.$n" "$MXCLIENT" "${RES[@]}" -f a@example.org "rcpt@$dom" \
	    <"$tmp/msg" >/dev/null 2>&1
done
# a signal to the parent while a slow server holds the greeting: its
# handler returns (rt_sigreturn), it kills the children
start_fixture slow-greeting --delay 5
n=$((n + 1))
make_message "$(new_id sys)" rcpt@slow.example >"$tmp/msg"
strace -f -ff -qq -o "$tmp/tr.$n" "$MXCLIENT" "${RES[@]}" -f a@example.org rcpt@slow.example \
    <"$tmp/msg" >/dev/null 2>&1 &
spid=$!
for _ in $(seq 100); do
	grep -q 'connection from' "$FIXTURE_TRANSCRIPT" 2>/dev/null && break
	sleep 0.05
done
kill -TERM "$(pgrep -P "$spid" -x mxclient)"
wait "$spid"
stop_fixture
# MTA-STS: tls fetches a policy (net connects to 443, then narrows
# Landlock to port 25), the parent writes it into the cache
n=$((n + 1))
make_message "$(new_id sys)" rcpt@sts-enforce.insecure.example >"$tmp/msg"
strace -f -ff -qq -o "$tmp/tr.$n" "$MXCLIENT" "${RES[@]}" --sts-cache "$tmp/sts" \
    --ca-file "$LAB_CA_CERT" -f a@example.org rcpt@sts-enforce.insecure.example \
    <"$tmp/msg" >/dev/null 2>&1
# and one through a SOCKS5 proxy (net's handshake: read, getsockname)
"$PYTHON" tests/fixtures/socks5.py --listen 127.0.0.24 --port 1080 --mode relay \
    --ready-file "$tmp/socks.ready" --max-seconds 60 >/dev/null 2>&1 &
spid=$!
for _ in $(seq 100); do [ -s "$tmp/socks.ready" ] && break; sleep 0.05; done
n=$((n + 1))
strace -f -ff -qq -o "$tmp/tr.$n" "$MXCLIENT" "${RES[@]}" --proxy socks5://127.0.0.24:1080 \
    -f a@example.org rcpt@secure.example <"$tmp/msg" >/dev/null 2>&1
kill $spid 2>/dev/null
wait $spid 2>/dev/null

# used PROC: syscalls after lock-down in the traces of PROC's processes
used() {
	local f
	for f in "$tmp"/tr.*; do
		# the parent is the process that strace started (execve); a
		# child's first lines can land in its parent's file when
		# strace sees them before the fork event, so a file with an
		# execve is never a child's
		if [ "$1" = parent ]; then
			grep -q '^execve(' "$f" || continue
			grep -q 'SECCOMP_SET_MODE_FILTER.*= 0$' "$f" || continue
		else
			grep -q '^execve(' "$f" && continue
			grep -q "PR_SET_NAME, \"mxclient-$1\"" "$f" || continue
		fi
		after "$f" | grep -o '^[a-z0-9_]*(' | tr -d '('
	done | sort -u
}

# after FILE: the lines of one trace after its seccomp filter took
# (libseccomp probes first; a load that strace split into "unfinished"
# and "resumed" halves counts at its "resumed" line)
after() {
	awk '/(SECCOMP_SET_MODE_FILTER|<\.\.\. seccomp resumed>).*= 0$/ { n = NR } { l[NR] = $0 }
	    END { for (i = n + 1; n && i <= NR; i++) print l[i] }' "$1"
}

# where PROC CALLS: for a failure report, each trace file of PROC with
# such a call after lock-down: its first line and the call with the
# line before it
where() {
	local f c
	for f in "$tmp"/tr.*; do
		grep -q "PR_SET_NAME, \"mxclient-$1\"" "$f" || continue
		for c in $2; do
			after "$f" | grep -q "^$c(" || continue
			echo "${f##*/}: $(head -1 "$f" | cut -c1-60) / $(after "$f" | grep -B2 -m1 "^$c(" | tr '\n' ' ')"
		done
	done | head -4 | tr '\n' '|'
}

for p in parent dns net tls; do
	table "$p" >"$tmp/rows.$p"
	awk '{ print $1 }' "$tmp/rows.$p" >"$tmp/allowed.$p"
	used "$p" >"$tmp/used.$p"
	if [ ! -s "$tmp/allowed.$p" ] || [ ! -s "$tmp/used.$p" ]; then
		fail "$T: $p: table and trace found" "allowed $(wc -l <"$tmp/allowed.$p"), used $(wc -l <"$tmp/used.$p")"
		continue
	fi
	extra=$(comm -23 "$tmp/used.$p" "$tmp/allowed.$p" | grep -vx 'exit\|rt_sigreturn' | tr '\n' ' ')
	[ -z "$extra" ] && pass "$T: $p: every call after lock-down is in its allow-list ($(wc -l <"$tmp/used.$p") calls)" ||
		fail "$T: $p: every call after lock-down is in its allow-list" "not listed: $extra; $(where "$p" "$extra")"
	unused=$(comm -13 "$tmp/used.$p" "$tmp/allowed.$p")
	idle=$(for c in $unused; do grep -qx "$c must" "$tmp/rows.$p" && echo "$c"; done | tr '\n' ' ')
	[ -z "$idle" ] && pass "$T: $p: every allow-list row is used here or names its rare path" ||
		fail "$T: $p: every allow-list row is used here or names its rare path" "used by no run and not RARE(): $idle"
	echo "note: $p: rare rows these runs did not use: $(echo $unused)"
done
[ -n "${KEEP_TMP:-}" ] && cp -r "$tmp" /tmp/syskeep; rm -rf "$tmp"
