#!/bin/bash
# The Postfix pipe(8) recipe of the README and mxclient(1), tested as
# written: a second, private Postfix (the "relay": mail injected with
# its sendmail, no SMTP listener) routes every message through pipe(8)
# to mxclient, which delivers to the lab's Postfix MX. Sent, deferred
# (75), bounced (67, 68) with the remote's enhanced status code in the
# DSN, a message to two recipients of one domain, and the relay's own
# null-sender bounce, delivered by mxclient with MAIL FROM:<>.
. tests/e2e/lib.sh

T=pipe
r=$E2E_TMP/relay
c=$r/etc q=$r/queue dd=$r/data log=$r/relay.log
mapfile -t pf_dirs < <(postconf -dh command_directory daemon_directory meta_directory shlib_directory)

# the queue as postfix-files has it (as tests/lab/lab.sh builds its own)
private=()
for sub in active bounce corrupt defer deferred flush hold incoming private saved trace; do
	private+=("$q/$sub")
done
mkdir -p "$c" "$dd" "$q/pid" "${private[@]}" "$q/maildrop" "$q/public"
chown root: "$q" "$q/pid"; chmod 755 "$q" "$q/pid"
chown postfix: "${private[@]}" "$dd"; chmod 700 "${private[@]}" "$dd"
chown postfix:postdrop "$q/maildrop" "$q/public"
chmod 730 "$q/maildrop"; chmod 710 "$q/public"
# pipe(8) runs mxclient as nobody, who must reach the binary
chmod 755 "$E2E_TMP" "$r"

cat >"$c/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $q
data_directory = $dd
command_directory = ${pf_dirs[0]}
daemon_directory = ${pf_dirs[1]}
meta_directory = ${pf_dirs[2]}
shlib_directory = ${pf_dirs[3]}
mail_owner = postfix
setgid_group = postdrop
maillog_file = $log
maillog_file_prefixes = $r
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = relay.test
mydestination =
alias_maps =
alias_database =
notify_classes =
biff = no
# the recipe: every message through mxclient, one recipient per run
default_transport = mxclient
relay_transport = mxclient
mxclient_destination_recipient_limit = 1
EOF
# The master.cf line of the recipe (README, mxclient(1)); the lab's
# resolver and no policy cache for the nobody account
cat >"$c/master.cf" <<EOF
pickup     unix  n       -       n       1       1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
showq      unix  n       -       n       -       -       showq
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
mxclient   unix  -       n       n       -       -       pipe
  flags=q null_sender= user=nobody argv=$MXCLIENT -q --resolver $LAB_RESOLVER --sts-cache none
  -f \${sender} -- \${recipient}
EOF
touch -d '-1 minute' "$c/main.cf" "$c/master.cf"
touch "$q/quick-start"
if ! postfix -c "$c" start >"$r/start.log" 2>&1; then
	fail "$T: the relay Postfix starts" "$(tail -3 "$r/start.log") $(tail -3 "$log" 2>/dev/null)"
	exit 1
fi
on_cleanup "postfix -c '$c' stop >/dev/null 2>&1"
pass "$T: the relay Postfix starts"

# inject FROM RCPT...: a message through the relay's sendmail; its id in $id
inject() {
	local from=$1
	shift
	id=$(new_id pipe)
	make_message "$id" "$1" "${from:-nobody@relay.test}" >"$E2E_TMP/msg"
	sendmail -C "$c" -f "$from" -- "$@" <"$E2E_TMP/msg"
}
# status RCPT WANT NAME: the relay logged WANT (sent, deferred, bounced)
# for RCPT within 30 s; the log line in $line
status() {
	local rcpt=$1 want=$2 name=$3 i
	for i in $(seq 300); do
		line=$(grep -F "to=<$rcpt>" "$log" 2>/dev/null | grep "status=$want" | tail -1)
		[ -n "$line" ] && break
		sleep 0.1
	done
	[ -n "$line" ] && pass "$T: $name" ||
		fail "$T: $name" "$(grep -F "to=<$rcpt>" "$log" | tail -2 | tr '\n' '|')"
}

inject a@relay.test one@secure.example two@secure.example
status one@secure.example sent "sent: the first of two recipients of one domain"
status two@secure.example sent "sent: the second (recipient limit 1: a run each)"
wait_for_mail "$id" 10 >/dev/null && [ "$(grep -lF "$id" "$LAB_MAILDIR"/new/* | wc -l)" -eq 2 ] &&
	pass "$T: both copies arrived at the MX" || fail "$T: both copies arrived at the MX" "not two"

start_fixture tempfail-rcpt
inject a@relay.test later@slow.example
status later@slow.example deferred "deferred: a 450 to RCPT is exit 75, the relay keeps it"
# mxclient's own words, with the server's 450: not pipe failing to run it
grep -q 'dsn=4\.' <<<"$line" && grep -q '450 4\.2\.0' <<<"$line" &&
	pass "$T: deferred with the server's 450 4.2.0 in the status" ||
	fail "$T: deferred with the server's 450 4.2.0 in the status" "$line"
settle
grep -q 'C: RCPT TO:<later@slow.example>' "$FIXTURE_TRANSCRIPT" &&
	pass "$T: mxclient reached the server for the deferred message" ||
	fail "$T: mxclient reached the server for the deferred message" "$(grep 'C:' "$FIXTURE_TRANSCRIPT" | tr '\n' '|')"
postqueue -c "$c" -p | grep -q 'later@slow.example' && pass "$T: the deferred message is still queued" ||
	fail "$T: the deferred message is still queued" "$(postqueue -c "$c" -p | tail -3)"
stop_fixture

# a bounce: the remote's 5.1.1 becomes the DSN's status, and the relay's
# bounce (null sender) goes back through mxclient to the sender
start_fixture reject-rcpt
inject bounceme@secure.example gone@slow.example
status gone@slow.example bounced "bounced: a 550 5.1.1 to RCPT is exit 67"
grep -q 'dsn=5\.1\.1' <<<"$line" && pass "$T: the DSN says 5.1.1 (the remote's code), not pipe's 5.3.0" ||
	fail "$T: the DSN says 5.1.1 (the remote's code), not pipe's 5.3.0" "$line"
orig=$id
status bounceme@secure.example sent "the null-sender bounce is sent through mxclient"
found=""
for _ in $(seq 100); do
	found=$(grep -l -F "$orig" "$LAB_MAILDIR"/new/* 2>/dev/null | xargs -r grep -l '^Return-Path: <>' 2>/dev/null | head -1)
	[ -n "$found" ] && break
	sleep 0.1
done
[ -n "$found" ] && pass "$T: the bounce arrived with MAIL FROM:<> (Return-Path: <>)" ||
	fail "$T: the bounce arrived with MAIL FROM:<> (Return-Path: <>)" "no such message"
[ -n "$found" ] && grep -q '5\.1\.1' "$found" && pass "$T: the bounce names 5.1.1" ||
	fail "$T: the bounce names 5.1.1" "${found:-none}"
stop_fixture

inject a@relay.test someone@nonexistent.example
status someone@nonexistent.example bounced "bounced: a domain that does not exist is exit 68"
grep -q 'dsn=5\.1\.2' <<<"$line" && pass "$T: its DSN says 5.1.2" || fail "$T: its DSN says 5.1.2" "$line"
