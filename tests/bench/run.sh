#!/bin/sh
# tests/bench/run.sh BUILD_DIR - runs the policy benchmark (bench_policy),
# then, as root, jumpgated against OpenSSH on loopback (bench_ssh.py), and
# writes tests/bench/RESULTS.md (or $BENCH_OUT) with the machine, the
# commands, the figures and the targets. `make bench` calls it after
# building. Knobs: BENCH_SCALE (1 = full sizes), BENCH_RUNS, BENCH_SSH=0
# (policy only), BENCH_NOTE (a line for the top of the results), and the
# others listed at the top of bench_ssh.py.
set -eu

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${BENCH_OUT:-$HERE/RESULTS.md}
PYTHON=/usr/bin/python3
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

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
ssh_md=$(mktemp)
trap 'rm -f "$ssh_md"' EXIT
if [ "${BENCH_SSH:-1}" = 0 ]; then
    echo "(SSH benchmarks not run: BENCH_SSH=0.)" > "$ssh_md"
elif [ "$(id -u)" -ne 0 ]; then
    echo "bench: the SSH benchmarks need root (sshd, jumpgated, a bench account); skipped" >&2
    echo "(SSH benchmarks not run: they need root.)" > "$ssh_md"
else
    echo "bench: $PYTHON $HERE/bench_ssh.py $BUILD"
    "$PYTHON" "$HERE/bench_ssh.py" "$BUILD" > "$ssh_md"
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

cat > "$OUT" <<MD
# Benchmark results

Written by \`tests/bench/run.sh\` (\`make bench\`) on $(date -u +%Y-%m-%dT%H:%M:%SZ).
${BENCH_NOTE:+
**Note:** $BENCH_NOTE
}
## Machine

- CPU: ${cpu:-unknown} ($(grep -qw aes /proc/cpuinfo && echo "AES-NI" || echo "no AES-NI"))
- cores: $cores; memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
- kernel: $kernel
- compiler: $cc (build flags from the Makefile: -O2 -g)
- load average (1, 5, 15 min) at the start: $load_start; at the end: $load_end

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
cat "$ssh_md" >> "$OUT"
echo "bench: results in $OUT"
