#!/bin/sh
# Install what mxclient needs to build and to run its tests, on Debian
# or Ubuntu.  Only missing packages are fetched.  Postfix is preseeded
# with "No configuration" so that no system instance is set up: the
# tests run private instances of their own.
set -eu

PKGS="build-essential pkg-config libtls-dev libseccomp-dev libldns-dev
libssl-dev ldnsutils nsd unbound postfix swaks mandoc python3 openssl
iproute2 util-linux procps strace groff-base bsdextrautils clang libclang-rt-14-dev valgrind
openssh-client openssh-server microsocks curl nginx
debhelper lintian fakeroot dpkg-dev
php-cli git-email libmailtools-perl bsd-mailx mutt"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: everything is installed"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: run as root (apt-get) to install:$missing" >&2
	exit 1
fi
echo "deps: installing:$missing"
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
# The tests run private instances of every daemon; no system instance may
# start while installing (policy-rc.d, unless the host has its own) ...
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	policy=/usr/sbin/policy-rc.d
fi
trap '[ -z "$policy" ] || rm -f "$policy"' EXIT
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# ... or at the next boot: the services of the packages installed here
# (never of ones the host had: its own sshd stays as it was)
for ps in nsd:nsd unbound:unbound postfix:postfix openssh-server:ssh nginx:nginx; do
	case " $missing " in *" ${ps%%:*} "*) ;; *) continue ;; esac
	s=${ps#*:}
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now "$s" >/dev/null 2>&1 || true
	elif command -v service >/dev/null 2>&1; then
		service "$s" stop >/dev/null 2>&1 || true
	fi
done
echo "deps: done"
