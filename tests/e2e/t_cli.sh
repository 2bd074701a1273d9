#!/bin/bash
# Command line and message checks that must stop mxclient before it
# sends anything (P12-P19, M10): the right exit code, a clear message,
# and not one network socket opened (strace proves it); a message that
# cannot be sent may see its MX looked up (dns starts while it is read)
# but never a connection to port 25 (K5).
. tests/e2e/lib.sh

T=cli
tmp=$(mktemp -d)
make_message "cli-$$@mxclient.test" >"$tmp/msg"

# run_nosend NAME WANT_RC STDIN ARGS...: exit code, and no socket made;
# run_noconnect: the same, but dns may have looked the MX up while the
# message was read (K5): no connection to any port 25.
run_checked() {
	local mode=$1 name=$2 want=$3 input=$4 rc
	shift 4
	strace -f -qq -e trace=socket,connect -o "$tmp/trace" \
	    "$MXCLIENT" --resolver 127.0.0.1 "$@" <"$input" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$T: $name" "exit $rc, want $want: $(head -c 300 "$tmp/err")"
	elif [ "$mode" = nosend ] && grep -q 'socket(AF_INET' "$tmp/trace"; then
		fail "$T: $name" "a network socket was created"
	elif [ "$mode" = noconnect ] && grep -q 'htons(25)' "$tmp/trace"; then
		fail "$T: $name" "a connection to port 25 was made"
	elif [ "$want" != 0 ] && [ ! -s "$tmp/err" ]; then
		fail "$T: $name" "no error message"
	else
		pass "$T: $name"
	fi
}
run_nosend() { run_checked nosend "$@"; }
run_noconnect() { run_checked noconnect "$@"; }

long64=$(printf 'a%.0s' $(seq 64))
long65=$(printf 'a%.0s' $(seq 65))
label64=$(printf 'b%.0s' $(seq 64))

# Bad recipients: every one exits 64 before any I/O (P17, P18, P19, M10).
i=0
for bad in $'a\rb@secure.example' $'a\nb@secure.example' $'a\tb@secure.example' \
    'a<b@secure.example' 'a>b@secure.example' '<a@secure.example>' \
    'a b@secure.example' 'a@b@secure.example' '@secure.example' 'a@' 'a' \
    'a..b@secure.example' '.a@secure.example' 'a.@secure.example' \
    "$long65@secure.example" "a@$label64.example" 'a@-x.example' \
    'a@x-.example' 'a@under_score.example' 'a@secure.example.' \
    'a@[127.0.0.10]' $'r\xc3\xa9@secure.example' '"unterminated@secure.example' \
    'a@secure..example' ''; do
	i=$((i + 1))
	run_nosend "P17 bad recipient #$i $(printf %q "$bad") exits 64" 64 "$tmp/msg" -f a@example.org "$bad"
done

# Bad senders, same rule.
for bad in $'a\r@example.org' 'a<b>@example.org' 'a b@example.org' 'nodomain'; do
	run_nosend "P17 bad sender $(printf %q "$bad") exits 64" 64 "$tmp/msg" -f "$bad" rcpt@secure.example
done

# Usage errors.
run_nosend "no recipient exits 64" 64 "$tmp/msg" -f a@example.org
run_nosend "two recipients exit 64" 64 "$tmp/msg" -f a@example.org a@secure.example b@secure.example
run_nosend "unknown option exits 64" 64 "$tmp/msg" -X -f a@example.org a@secure.example
run_nosend "bad --resolver exits 78" 78 "$tmp/msg" --resolver '127.0.0.1#99999' -f a@example.org a@secure.example
# The resolvers are configuration: a bad choice is 78 (a queue retries 75
# for ever), decided before any socket (D1, D6).
run_nosend "D1 --resolver given by name exits 78" 78 "$tmp/msg" --resolver resolver.example -f a@example.org a@secure.example
grep -q 'not an IP address' "$tmp/err" && pass "$T: D1 --resolver by name: says it must be an address" ||
	fail "$T: D1 --resolver by name: says it must be an address" "$(cat "$tmp/err")"
run_nosend "D1 --dane-only with a resolver off this host exits 78" 78 "$tmp/msg" \
    --dane-only --resolver 192.0.2.53 -f a@example.org a@secure.example
grep -q -- '--dane-only needs a validating resolver on this host' "$tmp/err" &&
	pass "$T: D1 --dane-only, remote resolver: the reason is given" ||
	fail "$T: D1 --dane-only, remote resolver: the reason is given" "$(cat "$tmp/err")"
timeout 60 "$MXCLIENT" --dane-only --trust-remote-resolver --resolver 192.0.2.53 --dns-timeout 1 \
    -f a@example.org a@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: D1 --trust-remote-resolver: --dane-only goes on (here: unreachable, 75)" 75 "$?" "$tmp"
timeout 60 "$MXCLIENT" --resolver 192.0.2.53 --dns-timeout 1 -q \
    -f a@example.org a@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
grep -q 'warning: resolver 192.0.2.53 is not on this host' "$tmp/err" &&
	pass "$T: D1 a resolver off this host: a warning on stderr, -q or not" ||
	fail "$T: D1 a resolver off this host: a warning on stderr, -q or not" "$(cat "$tmp/err")"
: >"$tmp/resolv.conf"
if mount --bind "$tmp/resolv.conf" /etc/resolv.conf; then
	strace -f -qq -e trace=socket -o "$tmp/trace" "$MXCLIENT" -f a@example.org a@secure.example \
	    <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	expect_eq "$T: D1 no nameserver in resolv.conf exits 78" 78 "$?" "$tmp"
	grep -q 'socket(AF_INET' "$tmp/trace" && fail "$T: D1 empty resolv.conf: no socket" "$(cat "$tmp/trace")" ||
		pass "$T: D1 empty resolv.conf: no socket"
	umount /etc/resolv.conf
else
	fail "$T: D1 empty resolv.conf" "cannot bind-mount over /etc/resolv.conf"
fi
# mxclient.conf(5) (Q20, Q21): the settings mxclient and mxqueue share; the
# command line wins; a bad line or a missing named file is 78.
printf 'resolver = 127.0.0.1\nhelo = conf.example.org\n' >"$tmp/good.conf"
id="conf-$$-$RANDOM@mxclient.test"
make_message "$id" | MXCLIENT_CONF="$tmp/good.conf" "$MXCLIENT" -f a@example.org rcpt@secure.example \
    >"$tmp/out" 2>&1
expect_eq "$T: Q20 MXCLIENT_CONF gives the resolver and the EHLO name" 0 "$?" "$tmp"
grep -q '^>>> EHLO conf.example.org' "$tmp/out" && pass "$T: Q20 the configuration's helo is used" ||
	fail "$T: Q20 the configuration's helo is used" "$(grep EHLO "$tmp/out" | head -2)"
make_message "$id-2" | MXCLIENT_CONF="$tmp/good.conf" "$MXCLIENT" --helo cli.example.org \
    -f a@example.org rcpt@secure.example >"$tmp/out" 2>&1
grep -q '^>>> EHLO cli.example.org' "$tmp/out" && pass "$T: Q20 the command line wins over the file" ||
	fail "$T: Q20 the command line wins over the file" "$(grep EHLO "$tmp/out" | head -2)"
printf 'resolver = 127.0.0.1\nno-such-key = 1\n' >"$tmp/bad.conf"
MXCLIENT_CONF="$tmp/bad.conf" strace -f -qq -e trace=socket -o "$tmp/trace" "$MXCLIENT" \
    -f a@example.org a@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: Q21 a bad line in the configuration exits 78" 78 "$?" "$tmp"
grep -q "bad.conf:2:" "$tmp/err" && pass "$T: Q21 the error names the file and line" ||
	fail "$T: Q21 the error names the file and line" "$(cat "$tmp/err")"
"$MXCLIENT" --config "$tmp/none.conf" -f a@example.org a@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: Q21 --config naming a missing file exits 78" 78 "$?" "$tmp"
# K6: a configuration file the user may not read is 78, not 75
printf 'resolver = 127.0.0.1\n' >"$tmp/secret.conf"
chmod 600 "$tmp/secret.conf"
chmod 755 "$tmp"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$MXCLIENT" --config "$tmp/secret.conf" \
    -f a@example.org a@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: K6 an unreadable configuration file exits 78" 78 "$?" "$tmp"
# K6: --chroot must be an empty root-owned directory nobody else writes
mkdir -p "$tmp/root-ok" "$tmp/root-full" "$tmp/root-open"
chmod 755 "$tmp/root-ok" "$tmp/root-full"
chmod 777 "$tmp/root-open"
: >"$tmp/root-full/file"
run_nosend "K6 --chroot to a missing directory exits 78" 78 "$tmp/msg" --chroot "$tmp/root-none" -f a@example.org a@secure.example
run_nosend "K6 --chroot to a file exits 78" 78 "$tmp/msg" --chroot "$tmp/msg" -f a@example.org a@secure.example
run_nosend "K6 --chroot to a directory that is not empty exits 78" 78 "$tmp/msg" --chroot "$tmp/root-full" -f a@example.org a@secure.example
run_nosend "K6 --chroot to a directory others may write exits 78" 78 "$tmp/msg" --chroot "$tmp/root-open" -f a@example.org a@secure.example
grep -q 'writable by others' "$tmp/err" && pass "$T: K6 the --chroot error says why" ||
	fail "$T: K6 the --chroot error says why" "$(cat "$tmp/err")"
timeout 60 "$MXCLIENT" --resolver "$LAB_RESOLVER" --chroot "$tmp/root-ok" -f a@example.org rcpt@secure.example \
    <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
expect_eq "$T: K2 K6 --chroot to an empty root-owned directory delivers" 0 "$?" "$tmp"
run_nosend "bad --helo exits 64" 64 "$tmp/msg" --helo 'bad name' -f a@example.org a@secure.example
run_nosend "--version exits 0" 0 /dev/null --version
"$MXCLIENT" --version | grep -q '^mxclient [0-9]' && pass "$T: --version prints the version" ||
	fail "$T: --version prints the version" "$("$MXCLIENT" --version)"

# Messages that cannot be sent faithfully: 65, naming the line (P12, P14).
printf 'Subject: x\n\nok\nbad\0nul\n' >"$tmp/nul"
run_noconnect "P15 NUL octet exits 65" 65 "$tmp/nul" -f a@example.org rcpt@secure.example
grep -q 'line 4: NUL' "$tmp/err" && pass "$T: NUL error names line 4" || fail "$T: NUL error names line 4" "$(cat "$tmp/err")"
printf 'Subject: x\n\nbare\rcr\n' >"$tmp/cr"
run_noconnect "P12 bare CR exits 65" 65 "$tmp/cr" -f a@example.org rcpt@secure.example
{ printf 'Subject: x\n\n'; printf 'x%.0s' $(seq 999); printf '\n'; } >"$tmp/long"
run_noconnect "P14 line of 999 octets exits 65" 65 "$tmp/long" -f a@example.org rcpt@secure.example
grep -q 'line 3: line longer than 998' "$tmp/err" && pass "$T: long-line error names line 3" ||
	fail "$T: long-line error names line 3" "$(cat "$tmp/err")"
: >"$tmp/empty"
run_noconnect "empty input exits 65" 65 "$tmp/empty" -f a@example.org rcpt@secure.example

# K5: the MX hosts are looked up while the message is still coming in,
# and nothing connects before its end: a message written in two halves
# through a FIFO, the second half only once dns has answered.
# slow_send NAME WANT_RC SECOND-HALF-FILE
slow_send() {
	local name=$1 want=$2 second=$3 rc pid
	rm -f "$tmp/fifo"
	mkfifo "$tmp/fifo"
	strace -f -qq -e trace=connect -o "$tmp/trace" "$MXCLIENT" -v \
	    --resolver 127.0.0.1 -f a@example.org rcpt@secure.example \
	    <"$tmp/fifo" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	exec 8>"$tmp/fifo"
	cat "$tmp/first" >&8
	for _ in $(seq 200); do
		grep -q 'mx.secure.example: DANE required' "$tmp/out" && break
		sleep 0.05
	done
	sleep 0.3 # time enough for a connection, were one to be made
	grep -q 'mx.secure.example: DANE required' "$tmp/out" &&
		pass "$T: K5 $name: the MX host and its TLSA records are known before the message ends" ||
		fail "$T: K5 $name: the MX host and its TLSA records are known before the message ends" \
		    "$(tail -n 5 "$tmp/out" "$tmp/err" | tr '\n' '|')"
	grep -q 'htons(25)' "$tmp/trace" &&
		fail "$T: K5 $name: no connection before the message ends" "$(grep 'htons(25)' "$tmp/trace")" ||
		pass "$T: K5 $name: no connection before the message ends"
	cat "$second" >&8
	exec 8>&-
	wait "$pid"
	rc=$?
	expect_eq "$T: K5 $name: exit status" "$want" "$rc" "$tmp"
}
id=$(new_id slow)
make_message "$id" >"$tmp/whole"
head -c 60 "$tmp/whole" >"$tmp/first"
tail -c +61 "$tmp/whole" >"$tmp/rest"
slow_send "a message that comes slowly" 0 "$tmp/rest"
wait_for_mail "$id" >/dev/null && pass "$T: K5 the slow message is delivered" ||
	fail "$T: K5 the slow message is delivered" "no mail"
grep -q 'htons(25)' "$tmp/trace" && pass "$T: K5 ... through a connection made after its end" ||
	fail "$T: K5 ... through a connection made after its end" "no connect to port 25 in the trace"
printf 'more text\nbad\0nul\n' >"$tmp/rest"
slow_send "a slow message with a NUL in its second half" 65 "$tmp/rest"
grep -q 'htons(25)' "$tmp/trace" &&
	fail "$T: K5 the bad slow message: never a connection" "$(grep 'htons(25)' "$tmp/trace")" ||
	pass "$T: K5 the bad slow message: never a connection"
line=$(( $(tr -cd '\n' <"$tmp/first" | wc -c) + 2 ))
grep -q "message not sent: line $line: NUL" "$tmp/err" &&
	pass "$T: K5 the bad slow message: the error names its line" ||
	fail "$T: K5 the bad slow message: the error names its line" "$(cat "$tmp/err")"

# Sendmail options are accepted: -i, -oi, -oem, -F name.
id="sendmail-opts-$$-$RANDOM@mxclient.test"
make_message "$id" | "$MXCLIENT" --resolver 127.0.0.1 -i -oi -oem -F 'Some Name' -f a@example.org rcpt@secure.example >"$tmp/out" 2>&1
expect_eq "$T: sendmail options -i -oi -oem -F accepted" 0 "$?" "$tmp"

# What callers of /usr/sbin/sendmail pass (Q26): the exact argv of Debian
# cron and mutt, and every option that changes nothing for one message.
sendmail_argv() {
	local name=$1
	shift
	id="sendmail-argv-$RANDOM-$$@mxclient.test"
	make_message "$id" | "$MXCLIENT" --resolver 127.0.0.1 "$@" >"$tmp/out" 2>&1
	expect_eq "$T: Q26 $name" 0 "$?" "$tmp"
	wait_for_mail "$id" >"$tmp/file" && pass "$T: Q26 $name: delivered" ||
		fail "$T: Q26 $name: delivered" "no mail"
}
sendmail_argv "Debian cron's argv" -f a@example.org -i -FCronDaemon -B8BITMIME -oem rcpt@secure.example
sendmail_argv "mutt's argv" -f a@example.org -oem -oi -B8BITMIME -N failure,delay -R hdrs -- rcpt@secure.example
sendmail_argv "-V -O -L -m -bm -odi -odb" -V envid42 -O DeliveryMode=b -L tag -m -bm -odi -odb \
    -f a@example.org rcpt@secure.example
sendmail_argv "-r sender (mailx, smartd)" -i -r r-sender@example.org rcpt@secure.example
grep -qi '^Return-Path: <r-sender@example.org>' "$(cat "$tmp/file")" &&
	pass "$T: Q26 -r sets the envelope sender" ||
	fail "$T: Q26 -r sets the envelope sender" "$(grep -i '^Return-Path' "$(cat "$tmp/file")")"
make_message "cli-q-$$@mxclient.test" >"$tmp/msg"
run_nosend "Q26 -t exits 64" 64 "$tmp/msg" -f a@example.org -t
grep -q 'mxqueue' "$tmp/err" && pass "$T: Q26 -t: the message names mxqueue" ||
	fail "$T: Q26 -t: the message names mxqueue" "$(cat "$tmp/err")"
run_nosend "Q26 several recipients exit 64" 64 "$tmp/msg" -f a@example.org a@secure.example b@secure.example
grep -q 'mxqueue' "$tmp/err" && pass "$T: Q26 several recipients: the message names mxqueue" ||
	fail "$T: Q26 several recipients: the message names mxqueue" "$(cat "$tmp/err")"
for m in -bs -bp -bd -q30m -qRexample.org; do
	run_nosend "Q26 $m exits 64" 64 "$tmp/msg" -f a@example.org "$m" a@secure.example
done
"$MXCLIENT" --resolver 127.0.0.1 -q -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 0 ] && [ ! -s "$tmp/out" ] && pass "$T: Q26 -q alone is still --quiet" ||
	fail "$T: Q26 -q alone is still --quiet" "exit $rc, $(head -c 200 "$tmp/out")"
rm -rf "$tmp"
