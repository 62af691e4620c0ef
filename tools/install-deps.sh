#!/usr/bin/env bash
# Install the Debian 12 packages Amber needs, if any are missing.
# Idempotent; silent when everything is already installed.
set -euo pipefail

PACKAGES=(
	build-essential
	pkg-config
	libseccomp-dev
	libelf-dev
	libxml2-dev
	libcmocka-dev
	libzstd-dev
	libxxhash-dev
	libprotobuf-c-dev
	protobuf-c-compiler
	libsodium-dev       # keyed BLAKE2b: signed checkpoint images
	clang               # the image fuzzer (make fuzz-image) is built by clang ...
	libclang-rt-14-dev  # ... with libFuzzer and the sanitizers' runtimes
	util-linux # taskset
	procps
)

missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	if [[ $status != installed ]]; then
		missing+=("$pkg")
	fi
done
((${#missing[@]})) || exit 0

if ((EUID == 0)); then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: not root and no sudo; install them as root" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
