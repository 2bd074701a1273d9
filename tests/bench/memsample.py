#!/usr/bin/env python3
"""memsample.py PID: the memory a process tree occupies while it runs.

Every SAMPLE seconds (default 0.02) until PID has exited, it walks the
tree of PID (/proc/PID/task/*/children) and, for every process, reads
/proc/P/pagemap (root: physical frame numbers) for every mapping in
/proc/P/maps, and /proc/P/smaps_rollup. It prints one line with the
largest values seen:

  procs N union_kb U rss_sum_kb R pss_sum_kb S private_sum_kb V

union_kb counts each resident physical page once however many of the
processes map it (shared libraries, pages shared since fork()): the
memory the tree holds together. rss_sum_kb adds each process's RSS (a
shared page once per process), pss_sum_kb their proportional shares
(divided also with processes outside the tree), private_sum_kb their
private pages. Sampled: a peak shorter than the interval can be missed.
"""
import os
import struct
import sys
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree(pid):
    out = [pid]
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                for c in f.read().split():
                    out += tree(int(c))
    except OSError:
        pass
    return out


def frames(pid):
    got = set()
    try:
        with open("/proc/%d/maps" % pid) as f:
            maps = f.read().splitlines()
        pm = open("/proc/%d/pagemap" % pid, "rb")
    except OSError:
        return got
    with pm:
        for line in maps:
            if line.endswith("[vsyscall]"):
                continue
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            try:
                pm.seek(lo // PAGE * 8)
                data = pm.read((hi - lo) // PAGE * 8)
            except OSError:
                continue
            for (e,) in struct.iter_unpack("<Q", data):
                if e >> 63:  # present
                    got.add(e & ((1 << 55) - 1))
    return got


def rollup(pid):
    r = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                p = line.split()
                r[p[0].rstrip(":")] = int(p[1]) if len(p) > 1 and p[1].isdigit() else 0
    except OSError:
        pass
    return r


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main():
    pid = int(sys.argv[1])
    step = float(sys.argv[2]) if len(sys.argv) > 2 else 0.02
    best = dict(procs=0, union_kb=0, rss_sum_kb=0, pss_sum_kb=0, private_sum_kb=0)
    while alive(pid):
        ps = tree(pid)
        union, rss, pss, priv = set(), 0, 0, 0
        for p in ps:
            union |= frames(p)
            r = rollup(p)
            rss += r.get("Rss", 0)
            pss += r.get("Pss", 0)
            priv += r.get("Private_Clean", 0) + r.get("Private_Dirty", 0)
        if len(union) * PAGE // 1024 > best["union_kb"]:
            best["union_kb"] = len(union) * PAGE // 1024
            best["procs"] = len(ps)
        best["rss_sum_kb"] = max(best["rss_sum_kb"], rss)
        best["pss_sum_kb"] = max(best["pss_sum_kb"], pss)
        best["private_sum_kb"] = max(best["private_sum_kb"], priv)
        time.sleep(step)
    print(" ".join("%s %d" % (k, v) for k, v in best.items()))


if __name__ == "__main__":
    main()
