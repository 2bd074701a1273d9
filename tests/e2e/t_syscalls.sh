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

# table PROC: the syscall names of PROC's calls and rules tables
table() {
	awk -v p="$1" '
	    $0 ~ "^static const struct sb_(call|rule) " p "_(calls|rules)\\[\\]" { on = 1; next }
	    on && /^};/ { on = 0 }
	    on && match($0, /^\t\{ "[a-z0-9_]+"/) { s = substr($0, RSTART + 4, RLENGTH - 5); print s }
	' "$TABLES" | sort -u
}

n=0
for dom in secure.example bigtlsa.example wrongtlsa.example multi.example; do
	n=$((n + 1))
	make_message "$(new_id sys)" "rcpt@$dom" >"$tmp/msg"
	strace -f -ff -qq -o "$tmp/tr.$n" "$MXCLIENT" "${RES[@]}" -f a@example.org "rcpt@$dom" \
	    <"$tmp/msg" >/dev/null 2>&1
done
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
		# after the filter that took (libseccomp probes first)
		awk '/SECCOMP_SET_MODE_FILTER.*= 0$/ { n = NR } { l[NR] = $0 }
		    END { for (i = n + 1; n && i <= NR; i++) print l[i] }' "$f" |
		    grep -o '^[a-z0-9_]*(' | tr -d '('
	done | sort -u
}

# where CALLS: for a failure report, each trace file with such a call:
# its first line, its PR_SET_NAME and the call with the line before it
where() {
	local f c
	for f in "$tmp"/tr.*; do
		for c in $1; do
			grep -q "^$c(" "$f" || continue
			echo "${f##*/}: $(head -1 "$f" | cut -c1-80) / $(grep -o 'PR_SET_NAME, "[a-z-]*"' "$f" | tr '\n' ' ')/ $(grep -B1 -m1 "^$c(" "$f" | tr '\n' ' ')"
		done
	done | head -4 | tr '\n' '|'
}

for p in parent dns net tls; do
	table "$p" >"$tmp/allowed.$p"
	used "$p" >"$tmp/used.$p"
	if [ ! -s "$tmp/allowed.$p" ] || [ ! -s "$tmp/used.$p" ]; then
		fail "$T: $p: table and trace found" "allowed $(wc -l <"$tmp/allowed.$p"), used $(wc -l <"$tmp/used.$p")"
		continue
	fi
	extra=$(comm -23 "$tmp/used.$p" "$tmp/allowed.$p" | grep -vx 'exit\|rt_sigreturn' | tr '\n' ' ')
	[ -z "$extra" ] && pass "$T: $p: every call after lock-down is in its allow-list ($(wc -l <"$tmp/used.$p") calls)" ||
		fail "$T: $p: every call after lock-down is in its allow-list" "not listed: $extra; $(where "$extra")"
	echo "note: $p: allow-list entries these runs did not use: $(comm -13 "$tmp/used.$p" "$tmp/allowed.$p" | tr '\n' ' ')"
done
rm -rf "$tmp"
