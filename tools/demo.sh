#!/usr/bin/env bash
# The README's first command: Amber's main job end to end. It runs
# scenarios/cr_demo.xml, checkpoints the running counter (with --kill: its
# process ends, its place stays), shows the stopped component and its
# image, restores it, and the counter goes on from the step it had
# reached, while the rest of the system never noticed.
#
#   tools/demo.sh            (after tools/install-deps.sh && make)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
B=${AMBER_BUILD:-build}
NAME=demo-$$
IMG=$(mktemp -d /tmp/amber-demo-XXXXXX)
OUT=$IMG.log
trap 'kill "$CORE" 2>/dev/null || true; rm -rf "$IMG" "$OUT"' EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
wait_for() { # TEXT: until amber-core printed it (10 s at most)
	for _ in $(seq 1 200); do grep -qF -- "$1" "$OUT" && return 0; sleep 0.05; done
	echo "demo: '$1' did not appear" >&2
	exit 1
}

say "amber run scenarios/cr_demo.xml  (init, a counter, the hello pair)"
"$B/amber" -s "$NAME" run --timeout 60 scenarios/cr_demo.xml >"$OUT" 2>&1 &
CORE=$!
wait_for "[init -> counter] step 25:"
grep -v '^core: control' "$OUT" | tail -n 6 | sed 's/^/   | /'
say "amber ps"
"$B/amber" -s "$NAME" ps
say "amber checkpoint --kill init/counter $IMG"
"$B/amber" -s "$NAME" checkpoint --kill init/counter "$IMG/counter"
STEP=$(grep -o '\[init -> counter\] step [0-9]*' "$OUT" | tail -1)
say "amber ps  (the counter is stopped; it printed up to '$STEP')"
"$B/amber" -s "$NAME" ps
say "amber inspect $IMG/counter  (part of it)"
"$B/amber" inspect "$IMG/counter" | sed -n '12,45p'
sleep 1
say "amber restore $IMG/counter"
"$B/amber" -s "$NAME" restore "$IMG/counter"
wait_for "core: init exited with code 0"
wait "$CORE" || true
say "what the counter printed after the restore (it went on from its checkpoint to the end)"
sed -n '/restored from/,$p' "$OUT" | grep -F '[init -> counter]' | sed -n '1,3p;$p' | sed 's/^/   | /'
grep -F 'core: init exited' "$OUT" | sed 's/^/   | /'
