#!/bin/bash
# The Debian package: built from a copy of this tree with
# dpkg-buildpackage -us -uc -b, checked by lintian (no error, no
# warning), installed with dpkg into an overlay of this system (a
# private mount namespace: the host's own dpkg database and files stay
# as they are), and used: one delivery with the installed mxclient, one
# through the installed sendmail (mxclient-mta, mxqueue's queue run),
# then a purge that leaves no user data behind.
. tests/e2e/lib.sh

T=deb
b=$E2E_TMP/build
mkdir -p "$b/src"
tests/build/copy_tree.sh "$b/src"
if (cd "$b/src" && dpkg-buildpackage -us -uc -b) >"$b/build.log" 2>&1; then
	pass "$T: dpkg-buildpackage -us -uc -b builds the packages"
else
	fail "$T: dpkg-buildpackage -us -uc -b builds the packages" "$(tail -5 "$b/build.log" | tr '\n' '|')"
	exit 1
fi
deb=$(ls "$b"/mxclient_*_*.deb) mta=$(ls "$b"/mxclient-mta_*_all.deb)
lintian --fail-on error,warning "$b"/mxclient_*.changes >"$b/lintian.log" 2>&1 &&
	pass "$T: lintian finds no error and no warning" ||
	fail "$T: lintian finds no error and no warning" "$(grep -E '^[EW]:' "$b/lintian.log" | head -5 | tr '\n' '|')"
dpkg-deb -c "$deb" >"$b/contents"
for f in usr/bin/mxclient usr/sbin/mxqueue usr/share/man/man1/mxclient.1.gz \
    usr/share/man/man8/mxqueue.8.gz usr/share/man/man5/mxclient.conf.5.gz \
    lib/systemd/system/mxqueue.timer; do
	grep -q " \./$f\$" "$b/contents" && pass "$T: mxclient contains /$f" ||
		fail "$T: mxclient contains /$f" "not in the package"
done
dpkg-deb -f "$mta" Provides | grep -qx 'mail-transport-agent' &&
	pass "$T: mxclient-mta provides mail-transport-agent" ||
	fail "$T: mxclient-mta provides mail-transport-agent" "$(dpkg-deb -f "$mta" Provides)"

# an overlay of / to install into; the lab's processes are untouched
o=$E2E_TMP/ovl
mkdir -p "$o/up" "$o/work" "$o/root"
if ! mount -t overlay overlay -o "lowerdir=/,upperdir=$o/up,workdir=$o/work" "$o/root"; then
	fail "$T: an overlay of / to install into" "mount failed"
	exit 1
fi
on_cleanup "umount -R '$o/root' 2>/dev/null"
for m in proc sys dev run; do mount --rbind "/$m" "$o/root/$m"; done
in_root() { chroot "$o/root" "$@"; }
# no services started from maintainer scripts; the lab's Postfix package
# leaves the overlay (a mail-transport-agent conflicts with mxclient-mta)
printf '#!/bin/sh\nexit 101\n' >"$o/root/usr/sbin/policy-rc.d"
chmod 755 "$o/root/usr/sbin/policy-rc.d"
in_root dpkg --remove --force-depends postfix >"$o/remove.log" 2>&1
cp "$deb" "$mta" "$o/root/tmp/"
if in_root dpkg -i "/tmp/${deb##*/}" "/tmp/${mta##*/}" >"$o/dpkg.log" 2>&1; then
	pass "$T: dpkg -i installs mxclient and mxclient-mta"
else
	fail "$T: dpkg -i installs mxclient and mxclient-mta" "$(tail -5 "$o/dpkg.log" | tr '\n' '|')"
	exit 1
fi
in_root getent passwd mxqueue >/dev/null && pass "$T: postinst created the mxqueue user" ||
	fail "$T: postinst created the mxqueue user" "no such user"
expect_eq "$T: mxqueue is set-gid mxsubmit" "2755 root mxsubmit" \
    "$(in_root stat -c '%a %U %G' /usr/sbin/mxqueue)"
expect_eq "$T: the spool's new/ is 1730 mxqueue:mxsubmit" "1730 mxqueue mxsubmit" \
    "$(in_root stat -c '%a %U %G' /var/spool/mxqueue/new)"
expect_eq "$T: /usr/sbin/sendmail is mxqueue" mxqueue "$(in_root readlink /usr/sbin/sendmail)"

# the installed binaries deliver
id=$(new_id deb)
make_message "$id" >"$o/root/tmp/msg"
in_root /usr/bin/mxclient --resolver "$LAB_RESOLVER" -f a@example.org rcpt@secure.example \
    <"$o/root/tmp/msg" >"$o/out" 2>"$o/err"
expect_eq "$T: the installed mxclient delivers (exit 0)" 0 "$?" "$o"
wait_for_mail "$id" 10 >/dev/null && pass "$T: the message arrived" || fail "$T: the message arrived" "no mail"
grep -q 'verified by TLSA' "$o/out" && pass "$T: the installed mxclient verified DANE" ||
	fail "$T: the installed mxclient verified DANE" "$(tail -1 "$o/out")"
printf 'resolver = %s\n' "$LAB_RESOLVER" >"$o/root/etc/mxclient.conf"
id=$(new_id deb-mta)
make_message "$id" >"$o/root/tmp/msg2"
in_root /usr/sbin/sendmail -i -f a@example.org rcpt@secure.example \
    <"$o/root/tmp/msg2" >"$o/out" 2>"$o/err"
expect_eq "$T: the installed sendmail (mxqueue) queues (exit 0)" 0 "$?" "$o"
in_root /usr/sbin/mxqueue -q >"$o/out" 2>"$o/err"
expect_eq "$T: mxqueue -q runs the queue (exit 0)" 0 "$?" "$o"
wait_for_mail "$id" 10 >/dev/null && pass "$T: the queued message arrived" ||
	fail "$T: the queued message arrived" "no mail: $(tail -2 "$o/err" | tr '\n' '|')"

# (--force-depends: bsd-mailx, from make deps, wants some MTA)
in_root dpkg --purge --force-depends mxclient-mta mxclient >"$o/purge.log" 2>&1
rc=$?; expect_eq "$T: dpkg --purge removes both" 0 "$rc"; [ "$rc" = 0 ] || sed "s/^/# /" "$o/purge.log"
[ ! -e "$o/root/var/spool/mxqueue" ] && [ ! -e "$o/root/usr/bin/mxclient" ] &&
	! in_root dpkg-statoverride --list /usr/sbin/mxqueue >/dev/null 2>&1 &&
	pass "$T: after the purge: no binary, no empty spool, no statoverride" ||
	fail "$T: after the purge: no binary, no empty spool, no statoverride" "$(ls -d "$o/root/var/spool/mxqueue" "$o/root/usr/bin/mxclient" 2>&1 | tr '\n' ' ')"
