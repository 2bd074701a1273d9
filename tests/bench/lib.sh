# shellcheck shell=bash
# lib.sh - sourced by the benchmarks: timing helpers.

# ms START_NS -> milliseconds since START_NS (from date +%s%N)
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }

# median: the median of the numbers on stdin, one per line
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
