#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/tools/check-rooms.sh - checks the privilege rooms of gateway/:
#   1. a file of one room cannot build with another room's own header
#      (each header's guard), tried by compiling one line per pair;
#   2. no file includes a header of a room it must not reach (worker and
#      monitor see only proto/, daemon/ and their own; proto/ and daemon/
#      see no room);
#   3. the calls between gateway's object files (from nm over BUILD) point
#      one way: no file reaches a room it must not, and no two files call
#      each other, directly or round a circle (tsort finds no loop).
# Usage: check-rooms.sh CC BUILD CFLAGS...   (from the top of the tree)
set -eu

cc=$1 build=$2
shift 2
fail=0
say() { echo "check-rooms: $*" >&2; fail=1; }

# 1. The header guards: room R including header H must not compile.
for pair in worker:monitor/internal.h worker:monitor/monitor.h \
            worker:master/master.h monitor:worker/internal.h \
            monitor:worker/worker.h monitor:master/master.h \
            master:worker/internal.h master:monitor/internal.h \
            none:master/master.h none:monitor/internal.h \
            none:worker/internal.h; do
    room=${pair%%:*} hdr=${pair#*:}
    def=
    [ "$room" = none ] || def="-DJG_GW_ROOM_$(echo "$room" | tr a-z A-Z)"
    if printf '#include "gateway/%s"\n' "$hdr" |
        "$cc" "$@" $def -fsyntax-only -x c - >/dev/null 2>&1; then
        say "a $room file can include gateway/$hdr"
    fi
done

# 2. The includes, as written.
allowed() {   # room -> the gateway folders its files may include
    case $1 in
    master) echo "daemon proto monitor/monitor.h worker/worker.h master" ;;
    monitor) echo "daemon proto monitor" ;;
    worker) echo "daemon proto worker" ;;
    proto) echo "proto" ;;
    daemon) echo "daemon" ;;
    esac
}
for f in gateway/*/*.c gateway/*/*.h; do
    room=$(echo "$f" | cut -d/ -f2)
    for inc in $(sed -n 's/^#include "gateway\/\(.*\)"$/\1/p' "$f"); do
        ok=0
        for a in $(allowed "$room"); do
            case $inc in "$a" | "$a"/*) ok=1 ;; esac
        done
        [ $ok = 1 ] || say "$f includes gateway/$inc"
    done
done

# 3. The calls between files.
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
(cd "$build/gateway" && for o in */*.o; do
    nm "$o" | awk -v f="${o%.o}" '$2 ~ /^[TDBR]$/ {print "D", f, $3}
                                  $1 == "U" {print "U", f, $2}'
done) | awk '$1 == "D" {def[$3] = $2} $1 == "U" {u[NR] = $2 " " $3}
    END {for (i in u) {split(u[i], a, " ");
         if ((a[2] in def) && def[a[2]] != a[1]) print a[1], def[a[2]]}}' |
    sort -u >"$edges"
[ -s "$edges" ] || say "no calls between files found in $build/gateway"
while read -r from to; do
    fr=${from%%/*} tr_=${to%%/*}
    [ "$fr" = "$tr_" ] && continue
    case "$fr>$tr_" in
    master\>monitor | master\>worker | master\>proto | master\>daemon) ;;
    monitor\>proto | monitor\>daemon | worker\>proto | worker\>daemon) ;;
    *) say "$from calls into $to" ;;
    esac
done <"$edges"
if ! tsort "$edges" >/dev/null 2>"$edges.loop"; then
    say "files of gateway/ call each other in a circle:"
    cat "$edges.loop" >&2
fi
rm -f "$edges.loop"

[ $fail = 0 ] && echo "check-rooms: gateway/ rooms and calls are in order"
exit $fail
