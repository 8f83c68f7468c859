#!/bin/sh
# tests/tools/run-unit.sh - runs each cmocka unit-test binary given, and
# prints one summary line "N passed, N failed".
pass=0
fail=0
for t in "$@"; do
    if "$t"; then
        pass=$((pass + 1))
    else
        echo "FAIL: $t"
        fail=$((fail + 1))
    fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
