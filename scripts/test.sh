#!/usr/bin/env bash
# Runs every test of tsmedia: formatting, lints, unit, property, interop (against the reference
# tools, installed here with apt-get when missing: CI fails rather than skips without them),
# QEMU boot tests, and a fuzz smoke run.
#
#   ./scripts/test.sh            # everything
#   FUZZ_SECONDS=10 ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# tool → Debian package
declare -A tools=(
  [wimlib-imagex]=wimtools
  [xorriso]=xorriso
  [isoinfo]=genisoimage
  [udfinfo]=udftools
  [7zz]=7zip
  [fsck.fat]=dosfstools
  [mdir]=mtools
  [sfdisk]=fdisk
  [sgdisk]=gdisk
  [qemu-system-x86_64]=qemu-system-x86
  [openssl]=openssl
  [mkfs.fat]=dosfstools
  [strip]=binutils
  [socat]=socat
  [mkntfs]=ntfs-3g
  [ntfsfix]=ntfs-3g
  [hivexsh]=libhivex-bin
  [hivexml]=libhivex-bin
)
missing=()
for t in "${!tools[@]}"; do
  command -v "$t" >/dev/null 2>&1 || missing+=("${tools[$t]}")
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || missing+=(ovmf)
[ -x /usr/bin/time ] || missing+=(time) # GNU time: peak RSS in `cargo xtask bench wim`
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "==> installing reference tools: $pkgs"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $pkgs
fi

# tsmedia PE's Debian packages (kernel, busybox, boot loaders, C library) for the PE boot tests.
echo "==> tsmedia PE packages"
scripts/fetch-pe-debs.sh target/pe-debs

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "==> cargo test"
cargo test --workspace
if [ -x scripts/fuzz-smoke.sh ]; then
  echo "==> fuzz smoke run"
  scripts/fuzz-smoke.sh "${FUZZ_SECONDS:-60}"
fi
echo "==> all tests passed"
