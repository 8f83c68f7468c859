#!/bin/sh
# tests/bench/run.sh BUILD_DIR - runs the policy benchmark (bench_policy) and
# writes tests/bench/RESULTS.md with the machine, the command, the figures
# and the targets of issue 2. `make bench` calls it after building.
set -eu

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/RESULTS.md"
LOAD_RUNS=${BENCH_LOAD_RUNS:-9}
DECISIONS=${BENCH_DECISIONS:-200000}
BIN="$BUILD/tests/bench/bench_policy"

[ -x "$BIN" ] || { echo "jumpgate: $BIN is not built (make bench builds it)" >&2; exit 2; }

cmd="$BIN $LOAD_RUNS $DECISIONS"
echo "bench: $cmd"
figures=$($cmd)
echo "$figures"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cores=$(nproc)
kernel=$(uname -sr)
cc=$(${CC:-cc} --version 2>/dev/null | head -1)
load_ms=$(echo "$figures" | sed -n 's/^load+validate ms: median \([0-9.]*\).*/\1/p')
dec_ns=$(echo "$figures" | sed -n 's/^decide ns: median \([0-9]*\).*/\1/p')
verdict() { # value limit
    awk -v v="$1" -v l="$2" 'BEGIN { print (v + 0 < l + 0) ? "met" : "MISSED" }'
}

cat > "$OUT" <<MD
# Benchmark results

Written by \`tests/bench/run.sh\` (\`make bench\`) on $(date -u +%Y-%m-%dT%H:%M:%SZ).

## Machine

- CPU: ${cpu:-unknown}
- cores: $cores
- kernel: $kernel
- compiler: $cc (build flags from the Makefile: -O2 -g)

## Policy engine (libjgpolicy)

Command: \`make bench\`, which runs \`$cmd\`.

The benchmark writes a policy to a temporary folder: 10,000 users (each with
an Ed25519 key, one or two of 50 groups, an IPv4 /24 and for a third of them
an IPv6 /48 in \`from\`, some with mfa or an expiry), 1,000 targets with
labels (ssh and tcp, IPv4, IPv6 and host names), 500 rules (names, globs and
\`key=value\` selectors; 50 deny rules; time windows in Europe/Madrid;
max_session, record_input), 300 grants in \`policy.d/grants.yaml\` (half of
them expired) and 4 exposure entries. It times \`jg_policy_load()\` (read,
parse, validate, index) $LOAD_RUNS times, then \`jg_policy_decide()\` on
$DECISIONS random requests: half built to match an allow rule, half random
(user, target, action, source inside or outside \`from\`, a time in one week).

\`\`\`
$figures
\`\`\`

| measure | result | target (issue 2) | |
|---|---|---|---|
| load + validate, median | ${load_ms} ms | < 100 ms | $(verdict "$load_ms" 100) |
| decide, median | ${dec_ns} ns | < 2000 ns | $(verdict "$dec_ns" 2000) |

Each decide is timed on its own with a pair of \`clock_gettime(CLOCK_MONOTONIC)\`
calls, whose cost (tens of ns) is included.
MD
echo "bench: results in $OUT"
