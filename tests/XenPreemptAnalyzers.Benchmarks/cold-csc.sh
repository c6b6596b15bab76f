#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CPU (user+sys, /usr/bin/time) of a fresh csc process compiling one project, three variants interleaved round by
# round: without our analyzer assemblies, with the IL analyzer (XenPreemptUseReadyToRun=false), with the ReadyToRun
# image the package hands this RID by default. The SDK's NetAnalyzers stay on in all three, as in any .NET 5+ build,
# so the difference is our assemblies' own cost in a compiler without a server (first-use JIT included).
#
# usage: cold-csc.sh <project dir> [runs=9]
#   The project consumes XenPreemptAnalyzers (directly or through XenPreempt.Kernel) and is restored. Each variant is
#   built once at -v:n to read csc's command line; then csc runs from those command lines (response files written
#   into the project dir). Prints each run, min/median/max per variant, the median of the paired per-round
#   differences, and the load average.
set -euo pipefail
dir=${1:?usage: cold-csc.sh <project dir> [runs]}; runs=${2:-9}
cd "$dir"
sdk=$(dotnet --list-sdks | tail -1 | sed -E 's/^([^ ]+) \[(.*)\]$/\2\/\1/')
csc="$sdk/Roslyn/bincore/csc.dll"
for v in il r2r; do
  extra=""; [ "$v" = il ] && extra="-p:XenPreemptUseReadyToRun=false"
  dotnet build --no-restore --no-incremental -nologo -v:n -m:1 -nodeReuse:false -p:UseSharedCompilation=false $extra > "cold-csc-build-$v.log" 2>&1
  grep -m1 'Roslyn/bincore/csc /noconfig' "cold-csc-build-$v.log" | sed 's|^ *[^ ]*Roslyn/bincore/csc ||' > "cold-csc-$v.rsp"
done
grep -q '/analyzer:[^ ]*/r2r/[^ ]*XenPreemptAnalyzers.dll' cold-csc-r2r.rsp || { echo "the default build did not use a ReadyToRun image (no image for this RID?)" >&2; exit 1; }
sed -E 's#/analyzer:[^ ]*XenPreemptAnalyzers(\.CodeFixes)?\.dll##g' cold-csc-r2r.rsp > cold-csc-none.rsp
for run in $(seq 0 "$runs"); do       # round 0 warms the disk cache and is not counted
  for v in none il r2r; do
    t=$( { /usr/bin/time -f "%U %S" dotnet "$csc" "@cold-csc-$v.rsp" > /dev/null; } 2>&1 | tail -1)
    [ "$run" -gt 0 ] && echo "$run $v $(awk '{printf "%.2f", $1 + $2}' <<< "$t") load $(cut -d' ' -f1 /proc/loadavg)"
  done
done | tee cold-csc-results.txt
stats() { sort -n | awk '{a[NR]=$1} END {printf "min %.2f / median %.2f / max %.2f (n=%d)", a[1], (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2), a[NR], NR}'; }
for v in none il r2r; do echo "$v CPU s: $(awk -v v="$v" '$2 == v {print $3}' cold-csc-results.txt | stats)"; done
paired() { awk -v a="$1" -v b="$2" '$2 == a {x[$1]=$3} $2 == b {y[$1]=$3} END {for (r in x) print y[r] - x[r]}' cold-csc-results.txt | stats; }
echo "IL - none (paired by round): $(paired none il)"
echo "ReadyToRun - none (paired by round): $(paired none r2r)"
echo "ReadyToRun - IL (paired by round): $(paired il r2r)"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
