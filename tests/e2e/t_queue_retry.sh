#!/bin/bash
# Retry, bounce and configuration rules of mxqueue (doc/RULES.md (Q rules)):
# Q12 a server that answers 451 twice then accepts (delivered once after
# two reschedules, on the injected clock --now, no sleeping); Q16 a 550
# recipient gets one RFC 3464 bounce to the sender, parsed and checked;
# Q17 a null-sender message that fails gets none; Q13 lifetime expiry;
# Q18 double bounces to admin; Q21 configuration errors exit 78.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/queue_lib.sh"
q_setup
q_fixture
T=1900000000
msg() { printf 'Subject: %s\nMessage-ID: <%s@e2e.test>\n\nbody %s\n' "$1" "$1" "$1"; }
job_field() { sed -n "s/^$1 //p" "$SPOOL"/queue/*/1 | head -1; }

# Q12: 451, 451, then 250
id=retry-$RANDOM$RANDOM
msg "$id" | "$MXQUEUE" --now $T -f retry@secure.example t451x2-a@slow.example
"$MXQUEUE" -q --now $T
expect_eq "Q12 first 451: rescheduled, one attempt recorded" 1 "$(job_field attempts)"
next=$(job_field next)
check "Q12 first retry 5 min +-25% later (got $((next - T)) s)" \
	test $((next - T)) -ge 225 -a $((next - T)) -le 375
check "Q12 the job records the 451 reply" grep -q '^last-reply 451 4.3.0' "$SPOOL"/queue/*/1
"$MXQUEUE" -q --now $((T + 200)) -v 2>"$E2E_TMP/early" || true
expect_eq "Q12 not tried again before it is due" 1 "$(job_field attempts)"
"$MXQUEUE" -q --now $((T + 400))
expect_eq "Q12 second 451: two attempts" 2 "$(job_field attempts)"
next2=$(job_field next)
check "Q12 the delay doubles (got $((next2 - T - 400)) s)" \
	test $((next2 - T - 400)) -ge 450 -a $((next2 - T - 400)) -le 750
"$MXQUEUE" -q --now $((T + 2000))
expect_eq "Q12 accepted at the third attempt, exactly once" 1 "$(grep -c "t451x2-a@slow.example" "$ACCEPTS")"
expect_eq "Q12 the job is gone" 0 "$(q_jobs)"

# Q16: 550 -> one DSN to the sender
id=bounce-$RANDOM$RANDOM
msg "$id" | "$MXQUEUE" --now $T -f bouncer@secure.example p550-x@slow.example
"$MXQUEUE" -q --now $T
n=$(wait_count "Final-Recipient: rfc822; p550-x@slow.example" 1)
expect_eq "Q16 one bounce for a 550 recipient" 1 "$n"
f=$(grep -l -F "Final-Recipient: rfc822; p550-x@slow.example" "$LAB_MAILDIR"/new/* | head -1)
check "Q16 the bounce has the null sender" grep -q '^Return-Path: <>' "$f"
check "Q16 the bounce goes to the envelope sender" grep -q '^Delivered-To: bouncer@secure.example' "$f"
check "Q16 multipart/report; report-type=delivery-status (RFC 3464)" \
	grep -q 'Content-Type: multipart/report; report-type=delivery-status' "$f"
check "Q16 Action failed, Status 5.1.1" sh -c "grep -q '^Action: failed' '$f' && grep -q '^Status: 5.1.1' '$f'"
check "Q16 Remote-MTA and the server's reply" sh -c "grep -q '^Remote-MTA: dns; mx.slow.example' '$f' && grep -q '^Diagnostic-Code: smtp; 550 5.1.1' '$f'"
check "Q16 the security level is reported" grep -q '^X-Mxqueue-Security: ' "$f"
check "Q16 the original's header as text/rfc822-headers" \
	sh -c "grep -q '^Content-Type: text/rfc822-headers' '$f' && grep -q 'Subject: $id' '$f'"
check "Q16 the DSN parses as MIME (python email)" "$PYTHON" -c "
import email,sys
m=email.message_from_binary_file(open('$f','rb'))
parts=[p.get_content_type() for p in m.walk()]
assert parts[0]=='multipart/report', parts
assert 'message/delivery-status' in parts and 'text/rfc822-headers' in parts, parts
"
expect_eq "Q16 nothing left in the queue" 0 "$(q_jobs)"

# Q17: a null-sender message that fails: no bounce, no admin configured
id=null-$RANDOM$RANDOM
msg "$id" | "$MXQUEUE" --now $T -f '' p550-null@slow.example
"$MXQUEUE" -q --now $T
sleep 1
expect_eq "Q17 no bounce for a null-sender message" 0 "$(count_mail "p550-null@slow.example")"
expect_eq "Q17 and the failed job is gone" 0 "$(q_jobs)"

# Q13: lifetime expiry (5 days of 451)
id=expire-$RANDOM$RANDOM
msg "$id" | "$MXQUEUE" --now $T -f expire@secure.example t451x999-e@slow.example
"$MXQUEUE" -q --now $T
"$MXQUEUE" -q --now $((T + 3 * 86400))
expect_eq "Q13 still queued before the lifetime ends" 1 "$(q_jobs)"
"$MXQUEUE" -q --now $((T + 5 * 86400 + 1))
n=$(wait_count "Final-Recipient: rfc822; t451x999-e@slow.example" 1)
expect_eq "Q13 bounced once when the lifetime (5 d) is over" 1 "$n"
f=$(grep -l -F "Final-Recipient: rfc822; t451x999-e@slow.example" "$LAB_MAILDIR"/new/* | head -1)
check "Q13 the bounce says the delivery time expired" grep -q 'delivery time expired after 3 attempts' "$f"
expect_eq "Q13 nothing left in the queue" 0 "$(q_jobs)"

# Q18: admin gets double bounces (a failing null-sender message)
printf 'admin = postmaster@secure.example\n' >>"$QCONF"
id=double-$RANDOM$RANDOM
msg "$id" | "$MXQUEUE" --now $T -f '' p550-double@slow.example
"$MXQUEUE" -q --now $T
n=$(wait_count "Final-Recipient: rfc822; p550-double@slow.example" 1)
expect_eq "Q18 the admin gets the double bounce" 1 "$n"
check "Q18 to the admin address" grep -q '^Delivered-To: postmaster@secure.example' \
	"$(grep -l -F "p550-double@slow.example" "$LAB_MAILDIR"/new/* | head -1)"

# Q25: the long-line fix-up
long=$(head -c 1500 /dev/zero | tr '\0' 'x')
rc=0
printf 'Subject: long\n\n%s\n' "$long" | "$MXQUEUE" -f l@secure.example l1@secure.example 2>"$E2E_TMP/err" || rc=$?
expect_eq "Q25 a 1500-octet line is refused by default (65)" 65 "$rc"
check "Q25 the refusal names the line" grep -q 'line 3: line longer than 998 octets' "$E2E_TMP/err"
printf 'long-lines = qp\n' >>"$QCONF"
id=qp-$RANDOM$RANDOM
printf 'Subject: %s\nContent-Type: text/html\n\n<p>%s</p>\n' "$id" "$long" |
	"$MXQUEUE" -f l@secure.example l2@secure.example
"$MXQUEUE" -q
n=$(wait_count "$id" 1)
f=$(grep -l -F "$id" "$LAB_MAILDIR"/new/* | head -1)
check "Q25 with long-lines = qp it is re-encoded and delivered" \
	sh -c "[ $n = 1 ] && grep -q '^Content-Transfer-Encoding: quoted-printable' '$f' && grep -q '^MIME-Version: 1.0' '$f'"
check "Q25 the quoted-printable body decodes to the original line" "$PYTHON" -c "
import email
m=email.message_from_binary_file(open('$f','rb'))
assert m.get_payload(decode=True).decode().strip()=='<p>'+'x'*1500+'</p>'
"

# Q21: configuration errors are 78 with file:line, never 75
printf 'colour = red\n' >>"$QCONF"
rc=0
echo x | "$MXQUEUE" -f a@secure.example b@secure.example 2>"$E2E_TMP/err" || rc=$?
expect_eq "Q21 an unknown key exits 78" 78 "$rc"
check "Q21 the error says file:line: what" grep -q "mxclient.conf:[0-9]*: unknown key: colour" "$E2E_TMP/err"
rc=0
"$MXQUEUE" -q 2>/dev/null || rc=$?
expect_eq "Q21 the runner too exits 78 on a bad configuration" 78 "$rc"
rc=0
echo x | "$MXQUEUE" --config "$E2E_TMP/missing.conf" -f a@secure.example b@secure.example 2>/dev/null || rc=$?
expect_eq "Q21 a missing --config file exits 78" 78 "$rc"
q_setup
rc=0
echo x | "$MXQUEUE" --spool "$E2E_TMP/nospool" -f a@secure.example b@secure.example 2>/dev/null || rc=$?
expect_eq "Q21 a missing spool exits 78" 78 "$rc"
rc=0
echo x | "$MXQUEUE" -bs 2>"$E2E_TMP/err" || rc=$?
expect_eq "Q1 -bs is refused clearly (64)" 64 "$rc"
check "Q1 -bs: the error says why" grep -q 'no SMTP on standard input' "$E2E_TMP/err"
rc=0
echo x | "$MXQUEUE" -f a@secure.example 2>/dev/null || rc=$?
expect_eq "Q1 no recipient: 64" 64 "$rc"
sed -i '/^domain = /d; /^root: /d' "$QCONF"
rc=0
echo x | "$MXQUEUE" -f a@secure.example www-data 2>/dev/null || rc=$?
expect_eq "Q9 a local name without alias or domain: 67" 67 "$rc"
printf 'default: catchall@secure.example\n' >>"$QCONF"
echo x | "$MXQUEUE" -f a@secure.example www-data
check "Q9 the default alias catches any local name" grep -rq '^recipient catchall@secure.example' "$SPOOL/new"
rc=0
printf 'a\0b\n' | "$MXQUEUE" -f a@secure.example b@secure.example 2>/dev/null || rc=$?
expect_eq "Q4 a NUL octet is refused as mxclient would (65)" 65 "$rc"

# Q19: listing and control; Q15: mxclient beside mxqueue
q_setup
sed -i '/^mxclient = /d' "$QCONF"
ln -s "$MXCLIENT" "$E2E_TMP/mxclient"
cp "$MXQUEUE" "$E2E_TMP/mxqueue"
MXQUEUE=$E2E_TMP/mxqueue
id=list-$RANDOM$RANDOM
msg "$id" | "$MXQUEUE" --now $T -f lister@secure.example t451x9-l@slow.example
"$MXQUEUE" -q --now $T
qid=$(ls "$SPOOL/queue")
"$MXQUEUE" -bp --now $((T + 60)) >"$E2E_TMP/bp"
check "Q19 mailq lists id, size, age, attempts, next, sender and recipient" \
	grep -q "^$qid/1 .* 1m  attempts 1  next .*<lister@secure.example> -> <t451x9-l@slow.example>" "$E2E_TMP/bp"
check "Q19 mailq shows the last error" grep -q 'last: exit 75 .*451 4.3.0' "$E2E_TMP/bp"
"$MXQUEUE" --hold "$qid" >/dev/null
"$MXQUEUE" -qI "$qid" --now $((T + 99999))
expect_eq "Q19 a held message is not run, even by -qI (accepts, attempts)" "0 1" \
	"$(grep -c t451x9-l "$ACCEPTS" || true) $(sed -n 's/^attempts //p' "$SPOOL"/queue/*/1)"
"$MXQUEUE" --release "$qid" >/dev/null
"$MXQUEUE" -qI "$qid" --now $((T + 61))
expect_eq "Q19 -qI runs a released message now, before it is due" 2 "$(sed -n 's/^attempts //p' "$SPOOL"/queue/*/1)"
"$MXQUEUE" -qR slow.example --now $((T + 62))
expect_eq "Q19 -qR runs the jobs of a domain now" 3 "$(sed -n 's/^attempts //p' "$SPOOL"/queue/*/1)"
check "Q15 the runner used the mxclient beside it (no mxclient in the configuration)" \
	grep -q '^last-mx mx.slow.example' "$SPOOL"/queue/*/1
"$MXQUEUE" --delete "$qid" >/dev/null
"$MXQUEUE" -q --now $((T + 99999))
check "Q19 --delete removes the message; the runner cleans up" q_clean
"$MXQUEUE" -bp >"$E2E_TMP/bp"
check "Q19 mailq says the queue is empty" grep -qx 'Mail queue is empty' "$E2E_TMP/bp"

# Q10: one syslog line per event, facility mail, on the socket that
# mxclient.conf names: the submission, the attempt, the delivery
echo "syslog-socket = $E2E_TMP/log.sock" >>"$QCONF"
"$PYTHON" "$E2E_FIXTURES/syslogd.py" "$E2E_TMP/log.sock" "$E2E_TMP/syslog" \
    --ready-file "$E2E_TMP/log.ready" --max-seconds 120 >/dev/null 2>&1 &
logpid=$!
on_cleanup "kill $logpid 2>/dev/null"
for _ in $(seq 100); do [ -s "$E2E_TMP/log.ready" ] && break; sleep 0.05; done
id=log-$RANDOM$RANDOM
msg "$id" | "$MXQUEUE" --now $T -f logger@secure.example t451x1-g@slow.example
"$MXQUEUE" -q --now $T
"$MXQUEUE" -q --now $((T + 400))
sleep 0.3
check "Q10 the submission is logged as mail.info with id, sender, recipient and size" \
	grep -Eq '^<22>.* mxqueue\[[0-9]+\]: [^ ]+: submitted: from=<logger@secure.example>, to=<t451x1-g@slow.example>, size=[0-9]+' "$E2E_TMP/syslog"
check "Q10 the 451 attempt is logged with the MX and the reply" \
	grep -Eq '^<2[0-9]>.* mxqueue\[[0-9]+\]: .*to=<t451x1-g@slow.example>.*mx.slow.example.*451' "$E2E_TMP/syslog"
check "Q10 the reschedule is logged" \
	grep -Eq 'to=<t451x1-g@slow.example>: rescheduled: next attempt in [0-9]+ s' "$E2E_TMP/syslog"
check "Q10 the delivery is logged" \
	grep -Eq '^<22>.* to=<t451x1-g@slow.example>: delivered' "$E2E_TMP/syslog"
kill "$logpid" 2>/dev/null
