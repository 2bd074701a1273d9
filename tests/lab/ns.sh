# shellcheck shell=bash
# ns.sh - sourced by lab.sh and proxies.sh: is this the private namespace
# that tests/lab/netns.sh makes?  Both refuse to touch anything otherwise.

# private_netns -> 0 if this is a private network namespace: not PID 1's
# (when that is readable) and with no interface but lo, as `unshare -n`
# makes it. (/proc/1/ns/net may be unreadable, e.g. in some VMs.)
private_netns() {
	local mine init others
	mine=$(readlink /proc/self/ns/net 2>/dev/null) || return 1
	init=$(readlink /proc/1/ns/net 2>/dev/null) || init=unknown
	[ "$mine" != "$init" ] || return 1
	others=$(ip -o link show 2>/dev/null | awk -F': ' '$2 != "lo" {print $2}')
	[ -z "$others" ]
}

# private_mntns -> 0 if the mount namespace is not PID 1's (when readable)
private_mntns() {
	local mine init
	mine=$(readlink /proc/self/ns/mnt 2>/dev/null) || return 1
	init=$(readlink /proc/1/ns/mnt 2>/dev/null) || init=unknown
	[ "$mine" != "$init" ]
}

# refuse_outside_netns ARGS... -> die (the caller's) unless private_netns
refuse_outside_netns() {
	private_netns ||
		die "refusing to run outside a private network namespace (found interfaces: $(ip -o link show | awk -F': ' '{printf "%s ", $2}')); use: $LAB_SRC/netns.sh $0 $*"
}
