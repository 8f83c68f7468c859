#!/bin/sh
# tests/tools/run-fuzz.sh DIR SECONDS - runs every libFuzzer target in
# DIR/tests/fuzz for SECONDS each, seeded from tests/fuzz/corpus/NAME/.
set -eu
dir=$1
secs=$2
status=0
for f in "$dir"/tests/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    seeds=tests/fuzz/corpus/$name
    work=$dir/corpus/$name
    mkdir -p "$work"
    echo "fuzz: $name for ${secs}s"
    if ! "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=0 "$work" $( [ -d "$seeds" ] && echo "$seeds" ) \
        >"$dir/$name.log" 2>&1; then
        tail -40 "$dir/$name.log"
        echo "fuzz: $name FAILED (log: $dir/$name.log)"
        status=1
    fi
done
exit $status
