#!/bin/bash
# netns.sh CMD [ARGS...] - run CMD in a new, private network + mount namespace
#
# The new network namespace has only the loopback interface, brought up, so
# any 127.0.0.0/8 address (and ::1) can be bound and nothing can reach the
# host's network. The mount namespace is made recursively private, so bind
# mounts made inside (e.g. of the lab's resolv.conf over /etc/resolv.conf)
# are invisible outside. Needs root (or CAP_SYS_ADMIN + CAP_NET_ADMIN).
#
# Everything started inside stays in the namespace; when the last process
# in it exits, the namespace disappears. LAB_NETNS=1 is exported inside.
#
# Examples:
#   tests/lab/netns.sh bash                         # an interactive shell
#   tests/lab/netns.sh tests/lab/selftest.sh
#   tests/lab/netns.sh bash -c 'd=$(mktemp -d); tests/lab/lab.sh start $d; ...'
set -eu
if [ $# -eq 0 ]; then
	sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//' >&2
	exit 2
fi
exec unshare --net --mount -- /bin/bash -c '
	set -e
	mount --make-rprivate /
	ip link set lo up
	export LAB_NETNS=1
	exec "$@"
' netns.sh "$@"
