#!/bin/bash
# mxqueue as /usr/sbin/sendmail for the real callers (Q1-Q4, doc/RULES.md (Q rules)):
# PHP CLI mail() (-t -i), git send-email to three recipients, bsd-mailx -r,
# mutt in batch mode, and the exact argv of Debian cron and cronie with a
# bare "root" mapped by the alias table.  Each message arrives once, with
# Bcc gone and Date/Message-ID present.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/queue_lib.sh"
q_setup
export HOME=$E2E_TMP/home
mkdir -p "$HOME"

# arrived NAME TAG N: N messages containing TAG, each with Date and
# Message-ID and without Bcc
arrived() {
	local name=$1 tag=$2 want=$3 f ok=1 n
	n=$(wait_count "$tag" "$want")
	for f in $(grep -l -F -- "$tag" "$LAB_MAILDIR"/new/* 2>/dev/null); do
		sed '/^$/q' "$f" | grep -q '^Date: ' || ok=0
		sed '/^$/q' "$f" | grep -qi '^Message-ID: <' || ok=0
		sed '/^$/q' "$f" | grep -qi '^Bcc:' && ok=0
	done
	if [ "$n" = "$want" ] && [ $ok = 1 ]; then
		pass "$name"
	else
		fail "$name" "$n messages with $tag (want $want), headers ok=$ok; $(tail -3 "$E2E_TMP/err" 2>/dev/null | tr '\n' '|')"
	fi
}

run_queue() {
	"$MXQUEUE" -q 2>>"$E2E_TMP/err" || fail "$1: mxqueue -q" "exit $?"
}

# PHP's mail() runs "sendmail -t -i" (sendmail_path's default)
tag=php-$RANDOM$RANDOM
rc=0
as_sendmail php -n -r "exit(mail('php@secure.example', '$tag', 'from php', \"From: php-sender@secure.example\r\nBcc: php-bcc@secure.example\") ? 0 : 1);" 2>"$E2E_TMP/err" || rc=$?
expect_eq "Q1 PHP mail() -t -i is queued (exit 0)" 0 "$rc"
run_queue php
arrived "Q2 PHP mail(): To and Bcc recipients get it once, Bcc removed" "$tag" 2
check "Q2 PHP mail(): the Bcc recipient got its copy" \
	test "$(grep -l -F "$tag" "$LAB_MAILDIR"/new/* | xargs grep -l '^Delivered-To: php-bcc@secure.example' | wc -l)" = 1

# git send-email -i -f sender r1 r2 r3
tag=git-$RANDOM$RANDOM
repo=$E2E_TMP/repo
git init -q "$repo"
echo "$tag" >"$repo/f"
git -C "$repo" add f
git -C "$repo" -c user.name=T -c user.email=t@secure.example commit -q -m "$tag"
git -C "$repo" format-patch -q -1 -o "$E2E_TMP/patches"
rc=0
as_sendmail git -C "$repo" -c user.name=T -c user.email=git@secure.example send-email \
	--quiet --confirm=never --suppress-cc=all --smtp-server=/usr/sbin/sendmail \
	--from=git@secure.example --to=g1@secure.example --to=g2@secure.example \
	--to=g3@secure.example "$E2E_TMP"/patches/*.patch >"$E2E_TMP/out" 2>>"$E2E_TMP/err" || rc=$?
expect_eq "Q1 git send-email to three recipients is queued (exit 0)" 0 "$rc"
run_queue git
arrived "Q1 git send-email: three recipients, one copy each" "$tag" 3

# bsd-mailx -r from
tag=mailx-$RANDOM$RANDOM
rc=0
echo "from mailx" | as_sendmail bsd-mailx -r mailx@secure.example -s "$tag" mx@secure.example 2>>"$E2E_TMP/err" || rc=$?
expect_eq "Q1 bsd-mailx -r is queued (exit 0)" 0 "$rc"
run_queue mailx
arrived "Q1 bsd-mailx: delivered once" "$tag" 1
check "Q1 bsd-mailx -r sets the envelope sender" \
	grep -q '^Return-Path: <mailx@secure.example>' "$(grep -l -F "$tag" "$LAB_MAILDIR"/new/* | head -1)"

# mutt batch mode: -oem -oi, a Bcc recipient, "--" before the recipients
tag=mutt-$RANDOM$RANDOM
rc=0
echo "from mutt" | as_sendmail mutt -n -F /dev/null \
	-e 'set from=mutt@secure.example' -e 'set use_from=yes' \
	-e 'set sendmail="/usr/sbin/sendmail -oem -oi"' \
	-s "$tag" -b mutt-bcc@secure.example -- m1@secure.example 2>>"$E2E_TMP/err" || rc=$?
expect_eq "Q1 mutt (batch) is queued (exit 0)" 0 "$rc"
run_queue mutt
arrived "Q2 mutt: To and Bcc each get one copy, without a Bcc field" "$tag" 2

# Debian cron: -i -FCronDaemon -B8BITMIME -oem root
tag=cron-$RANDOM$RANDOM
rc=0
printf 'From: root (Cron Daemon)\nTo: root\nSubject: %s\n\nout\n' "$tag" |
	as_sendmail /usr/sbin/sendmail -i -FCronDaemon -B8BITMIME -oem root 2>>"$E2E_TMP/err" || rc=$?
expect_eq "Q1 Debian cron's argv is accepted (exit 0)" 0 "$rc"
run_queue cron
arrived "Q9 Debian cron: bare root goes to the alias admin@secure.example" "$tag" 1
check "Q9 Debian cron: delivered to the alias target" \
	grep -q '^Delivered-To: admin@secure.example' "$(grep -l -F "$tag" "$LAB_MAILDIR"/new/* | head -1)"

# cronie / OpenBSD cron: -FCronDaemon -i -odi -oem -oi -t, "To: root"
tag=cronie-$RANDOM$RANDOM
rc=0
printf 'To: root\nSubject: %s\n\nout\n' "$tag" |
	as_sendmail /usr/sbin/sendmail -FCronDaemon -i -odi -oem -oi -t 2>>"$E2E_TMP/err" || rc=$?
expect_eq "Q1 cronie's argv (-t) is accepted (exit 0)" 0 "$rc"
run_queue cronie
arrived "Q9 cronie: To: root maps through the alias table" "$tag" 1
check "Q3 cronie: From is added from -F and the sender" \
	grep -q '^From: "CronDaemon" <root@secure.example>' "$(grep -l -F "$tag" "$LAB_MAILDIR"/new/* | head -1)"

# unattended-upgrades style: -oi -t, several To/Cc with display names
tag=multi-$RANDOM$RANDOM
rc=0
printf 'To: "Doe, John" <u1@secure.example>, u2@secure.example (two)\nCc: team: u3@secure.example;\nSubject: %s\n\nx\n' "$tag" |
	as_sendmail /usr/sbin/sendmail -oi -t 2>>"$E2E_TMP/err" || rc=$?
expect_eq "Q1 -oi -t with display names, comments and a group (exit 0)" 0 "$rc"
run_queue multi
arrived "Q1 -t reads every address of To and Cc" "$tag" 3

check "Q7 the queue is empty after the callers" q_clean
