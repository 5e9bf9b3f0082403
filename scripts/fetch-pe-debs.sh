#!/usr/bin/env bash
# Downloads the Debian packages tsmedia PE is built from into DIR (default: target/pe-debs),
# with apt-get from the machine's configured Debian archive:
#   the signed kernel that linux-image-amd64 currently depends on, busybox-static, shim-signed,
#   shim-helpers-amd64-signed, grub-efi-amd64-signed, isolinux, syslinux-common, libc6, libgcc-s1,
#   ntfs-3g and libntfs-3g89 (mkntfs and the FUSE driver that write the Windows volume).
# Packages already in DIR are kept; an older kernel package is replaced by the current one.
#
#   scripts/fetch-pe-debs.sh debs && tsmedia pe build --debs debs --out tspe.wim
set -euo pipefail
dir=${1:-"$(dirname "$0")/../target/pe-debs"}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
fi
kernel=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$kernel" ]; then
  echo "fetch-pe-debs: cannot tell which kernel linux-image-amd64 depends on (apt-cache depends linux-image-amd64)" >&2
  exit 1
fi
pkgs=("$kernel" busybox-static shim-signed shim-helpers-amd64-signed grub-efi-amd64-signed
      isolinux syslinux-common libc6 libgcc-s1 ntfs-3g libntfs-3g89)

# Keep one kernel: drop linux-image-* packages other than the current one.
for f in "$dir"/linux-image-*.deb; do
  [ -e "$f" ] || continue
  case "$(basename "$f")" in "${kernel}"_*) ;; *) rm -f "$f" ;; esac
done

need=()
for p in "${pkgs[@]}"; do
  ver=$(apt-cache policy "$p" | awk '/Candidate:/ {print $2}')
  if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
    echo "fetch-pe-debs: package $p is not in the configured archive" >&2
    exit 1
  fi
  # Other versions of the same package would make `tsmedia pe build` refuse the folder.
  for f in "$dir/${p}"_*.deb; do
    [ -e "$f" ] || continue
    have=$(dpkg-deb -f "$f" Version)
    [ "$have" = "$ver" ] && continue 2
    rm -f "$f"
  done
  need+=("$p=$ver")
done

if [ ${#need[@]} -gt 0 ]; then
  echo "==> apt-get download ${need[*]} (into $dir)"
  # _apt cannot write to most folders; download in a temporary folder it can reach.
  tmp=$(mktemp -d)
  chmod 777 "$tmp"
  (cd "$tmp" && apt-get download -q "${need[@]}" 2>&1 | grep -v "^W: Download is performed unsandboxed" || true)
  mv "$tmp"/*.deb "$dir"/
  rmdir "$tmp"
fi
for p in "${pkgs[@]}"; do
  ls "$dir/${p}"_*.deb >/dev/null 2>&1 || { echo "fetch-pe-debs: $p was not downloaded" >&2; exit 1; }
done
echo "tsmedia PE packages in $dir"
