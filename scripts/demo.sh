#!/usr/bin/env bash
# The main job on an embedded default, from a fresh machine: installs QEMU and OVMF with apt-get
# when missing, downloads tsmedia PE's Debian packages, builds tsmedia and its lean runtime, and
# runs `tsmedia demo`: a WIM round trip, a demo site and media, then tsmedia PE booting
# stand-alone media in QEMU and deploying a blank virtual disk, read back on the host.
# Extra arguments go to `tsmedia demo` (for example --firmware uefi, or --dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || missing+=(ovmf)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "==> tsmedia PE packages"
scripts/fetch-pe-debs.sh target/pe-debs

echo "==> building tsmedia and tsmedia-runtime (release)"
cargo build --release -q -p tsmedia -p tsmedia-client

exec target/release/tsmedia demo --debs target/pe-debs "$@"
