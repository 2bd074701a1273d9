#!/bin/bash
# End-to-end delivery through the real lab: NSD (signed zones), Unbound
# (validating), Postfix (receiving MX with STARTTLS).  The message must
# arrive byte-exact after CRLF normalisation (P12, P13).
. tests/e2e/lib.sh

T=deliver
RES=(--resolver 127.0.0.1)
tmp=$(mktemp -d)

# A message with every line shape dot-stuffing must handle, LF endings,
# one CRLF line and a final line without a newline.
id="deliver-$$-$RANDOM@mxclient.test"
printf 'From: a@example.org\nTo: rcpt@secure.example\nDate: Sun, 29 Nov 2026 10:00:00 +0000\nSubject: e2e\nMessage-ID: <%s>\n\n.leading dot\n..two dots\n.\nmiddle\r\nsecret body line\n. dot space\nlast line without newline' "$id" >"$tmp/msg"

start=$(date +%s%N)
"$MXCLIENT" "${RES[@]}" -f a@example.org rcpt@secure.example <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
echo "one delivery took $ms ms"
expect_eq "$T: exit 0 for a delivered message" 0 "$rc" "$tmp"

if f=$(wait_for_mail "$id" 10); then
	pass "$T: message arrived in the maildir"
	# Postfix prepends Return-Path, Delivered-To and Received; compare
	# from our first header on, with the input's CRLF turned to LF and
	# the final newline that mxclient adds (P13).
	sed -n '/^From: a@example.org$/,$p' "$f" >"$tmp/got"
	{ tr -d '\r' <"$tmp/msg"; echo; } >"$tmp/want"
	if cmp -s "$tmp/got" "$tmp/want"; then
		pass "$T: P12/P13 body byte-exact (dots, CRLF, last line)"
	else
		fail "$T: P12/P13 body byte-exact" "$(diff "$tmp/want" "$tmp/got" | head -5)"
	fi
	n=$(grep -l "Message-ID: <$id>" "$LAB_MAILDIR"/new/* "$LAB_MAILDIR"/cur/* 2>/dev/null | wc -l)
	expect_eq "$T: exactly one copy delivered" 1 "$n"
else
	fail "$T: message arrived in the maildir" "not found within 10 s"
fi

grep -q '^>>> STARTTLS' "$tmp/out" && grep -q '^TLS started: TLSv1\.[23]' "$tmp/out" &&
	pass "$T: STARTTLS used when offered" ||
	fail "$T: STARTTLS used when offered" "$(head -30 "$tmp/out")"
grep -q '^>>> MAIL FROM:<a@example.org> SIZE=' "$tmp/out" &&
	pass "$T: P8 MAIL FROM with SIZE= after EHLO offered SIZE" ||
	fail "$T: P8 MAIL FROM with SIZE=" "$(grep MAIL "$tmp/out")"
last=$(tail -n 1 "$tmp/out")
case $last in
"delivered: rcpt@secure.example via mx.secure.example [127.0.0.10], TLSv1."*" 250 "*)
	pass "$T: summary names recipient, MX, address, TLS, reply" ;;
*)	fail "$T: summary line" "$last" ;;
esac
if grep -q 'secret body line' "$tmp/out" "$tmp/err"; then
	fail "$T: transcript never shows the message body" "body seen"
else
	pass "$T: transcript never shows the message body"
fi
grep -q '^<<< 221' "$tmp/out" && pass "$T: P7 QUIT ends the session" ||
	fail "$T: P7 QUIT ends the session" "no 221"

# CRLF input gives the same result as LF input.
id2="crlf-$$-$RANDOM@mxclient.test"
printf 'From: a@example.org\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%s>\r\n\r\n.x\r\nend\r\n' "$id2" >"$tmp/msg2"
"$MXCLIENT" "${RES[@]}" -q -f a@example.org rcpt@secure.example <"$tmp/msg2" >"$tmp/out2" 2>&1
expect_eq "$T: CRLF input delivered" 0 "$?" "$tmp" 
if f=$(wait_for_mail "$id2" 10) && grep -q '^\.x$' "$f" && ! grep -q $'\r' "$f"; then
	pass "$T: CRLF input arrives with single line ends"
else
	fail "$T: CRLF input arrives with single line ends" "${f:-missing}"
fi
[ -s "$tmp/out2" ] && fail "$T: -q prints nothing on success" "$(cat "$tmp/out2")" ||
	pass "$T: -q prints nothing on success"

# Implicit MX (RFC 5321 §5.1): no MX record, the domain's own address.
id3="implicit-$$-$RANDOM@mxclient.test"
make_message "$id3" | "$MXCLIENT" "${RES[@]}" -f a@example.org rcpt@nomx.example >"$tmp/out3" 2>&1
expect_eq "$T: M2 implicit MX delivers" 0 "$?" "$tmp"
grep -q 'MX 0 nomx.example (implicit)' "$tmp/out3" &&
	pass "$T: M2 implicit MX reported" || fail "$T: M2 implicit MX reported" "$(head -3 "$tmp/out3")"

# The better MX refuses connections: the next one gets the message (M8).
id4="multi-$$-$RANDOM@mxclient.test"
make_message "$id4" | "$MXCLIENT" "${RES[@]}" -f a@example.org rcpt@multi.example >"$tmp/out4" 2>&1
expect_eq "$T: M8 falls back to the next MX" 0 "$?" "$tmp"
grep -q 'connect: Connection refused' "$tmp/out4" &&
	pass "$T: M8 first MX failure reported" || fail "$T: M8 first MX failure reported" "$(cat "$tmp/out4")"
wait_for_mail "$id4" 10 >/dev/null && pass "$T: M8 message arrived via the second MX" ||
	fail "$T: M8 message arrived via the second MX" "missing"

rm -rf "$tmp"
