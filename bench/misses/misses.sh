#!/usr/bin/env bash
# Cache misses per decision, counted by valgrind's cache simulator rather than timed, so that a
# change to the table's layout can be judged on a machine whose timings move by ±50 %.
# Counts 2 and 8 rounds of 8,000 subject-handle decisions on the independent generator's policy
# and prints the difference per decision: instructions, data reads, D1 and last-level read misses.
# usage: bash bench/misses/misses.sh RULES [LL_BYTES]   (npm run build first; needs valgrind)
#   LL_BYTES: the simulated last level, 1 MiB by default (this machine's L2 per core)
set -euo pipefail
rules=$1
ll=${2:-1048576}
here=$(cd "$(dirname "$0")" && pwd)
command -v valgrind >/dev/null || { echo "misses.sh: valgrind is not installed" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
node "$here/prepare.mjs" "$rules" "$dir"
count() {
  rm -f "$dir/ready" "$dir/go" "$dir/done" "$dir/stop"
  valgrind --tool=callgrind --instr-atstart=no --cache-sim=yes --D1=32768,8,64 --LL="$ll",16,64 \
    --callgrind-out-file="$dir/out.$1" node --single-threaded "$here/decide.mjs" "$dir" "$1" >/dev/null 2>"$dir/log.$1" &
  local pid=$!
  until [ -f "$dir/ready" ]; do sleep 1; done
  callgrind_control -i on "$pid" >/dev/null 2>&1
  touch "$dir/go"
  until [ -f "$dir/done" ]; do sleep 1; done
  callgrind_control -i off "$pid" >/dev/null 2>&1
  touch "$dir/stop"
  wait "$pid"
  grep 'Collected' "$dir/log.$1" | sed 's/.*Collected : //'
}
two=$(count 2)
eight=$(count 8)
python3 - "$rules" "$ll" "$two" "$eight" <<'PY'
import sys
rules, ll, a, b = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
names = 'Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw'.split()
per = {k: (int(y) - int(x)) / 48000 for k, x, y in zip(names, a, b)}
print(f"{rules} rules, last level {ll // 1024} KiB, per decision: {per['Ir']:.0f} instructions, {per['Dr']:.0f} data reads, "
      f"{per['D1mr']:.1f} D1 read misses, {per['DLmr']:.1f} last-level read misses")
PY
