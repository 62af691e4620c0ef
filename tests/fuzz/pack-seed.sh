#!/usr/bin/env bash
# Pack one image generation into an input of the image fuzzer
# (tests/fuzz/fuzz_image.c): a flags byte, image.pb's size as 4 bytes
# little-endian, image.pb, then pages.bin (FLAGS without bit 3) or a few
# bytes to fill synthesized page runs with (FLAGS with bit 3, value 8).
#   tests/fuzz/pack-seed.sh FLAGS IMAGE_DIR OUT
# The committed seeds (tests/fuzz/corpus/image/seed-*) are images of
# scenarios/cr_counter.xml and scenarios/cr_init.xml made with
#   build/amber -s S run scenarios/cr_counter.xml &  build/amber -s S checkpoint cr_counter DIR
# and packed with flags 9 (repair, synthesize), 11 (+ inspect) and 13 (+ inspect --json).
set -euo pipefail
flags=$1 gen=$2 out=$3
[[ -e $gen/current ]] && gen=$gen/$(readlink "$gen/current")
m=$(stat -c %s "$gen/image.pb")
{
	printf "\\x$(printf %02x "$flags")"
	for shift in 0 8 16 24; do printf "\\x$(printf %02x $(((m >> shift) & 255)))"; done
	cat "$gen/image.pb"
	if ((flags & 8)); then printf amber; else cat "$gen/pages.bin"; fi
} >"$out"
