#!/bin/sh
# demo/run.sh - starts the demo gateway; see README.
echo "jumpgate: the demo gateway (jumpgated) is not part of this build yet." >&2
echo "jumpgate: what works today: build/jumpgate policy check|explain|grant|grants|exposure" >&2
exit 2
