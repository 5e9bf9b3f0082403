#!/usr/bin/env bash
# Runs every cargo-fuzz target: `scripts/fuzz-smoke.sh [N [M]]` — the readers, LZX and LZMS targets for N
# seconds (default 60), the others for M (default 20, at most N).
# Installs cargo-fuzz when missing. Exits non-zero when any target crashes; the crashing
# input is left in fuzz/artifacts/<target>/ (turn it into a test in crates/*/tests/fuzz_regressions.rs).
#
# The toolchain is stable Rust: RUSTC_BOOTSTRAP=1 lets it accept the -Z flags cargo-fuzz passes
# (sanitizer coverage; AddressSanitizer). Set FUZZ_SANITIZER=none to build without ASan (faster,
# finds panics, overflows and OOMs but not memory errors in unsafe code — we forbid unsafe code).
set -euo pipefail

secs="${1:-60}"
# The WIM and solid-resource readers, the LZX and LZMS decoders and the parsers of untrusted
# media at boot (ISO, disk/FAT, sealed Variables.dat/policy) run the full time (the issues ask
# for 60 s); the others (among them the small TsmBootstrap.ini and manifest parsers, also covered
# by unit tests) get a shorter smoke run so CI stays within its budget.
short_secs="${2:-20}"
long_targets=" wim_reader solid_reader lzx_decompress lzms_decompress iso_reader fat_reader sealed_media_files "
sanitizer="${FUZZ_SANITIZER:-address}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz-smoke: installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz
fi

export RUSTC_BOOTSTRAP=1
targets="$(cargo fuzz list)"
[ -n "$targets" ] || { echo "fuzz-smoke: no fuzz targets" >&2; exit 1; }

# A seed ISO for the ISO reader, made by xorriso (not committed: generated data only).
if [ ! -e corpus/iso_reader/seed-xorriso.iso ] && command -v xorriso >/dev/null 2>&1; then
    seed_src="$(mktemp -d)"
    mkdir -p "$seed_src/SMS/data" "$seed_src/SMS/PKG/PS100001" corpus/iso_reader
    printf '[MediaInfo]\r\nMediaType=FullMedia\r\n' > "$seed_src/SMS/data/TsmBootstrap.ini"
    printf 'label=TSMEDIA\ndisc=1\ndiscs=1\n' > "$seed_src/MediaLabel.txt"
    printf 'hello' > "$seed_src/SMS/PKG/PS100001/a.txt"
    xorriso -as mkisofs -quiet -J -R -o corpus/iso_reader/seed-xorriso.iso "$seed_src" || true
    rm -rf "$seed_src"
fi

# Build everything first so the time limits below are spent fuzzing.
cargo fuzz build --sanitizer "$sanitizer"

status=0
for t in $targets; do
    seeds=()
    [ -d "seeds/$t" ] && seeds=("seeds/$t")
    mkdir -p "corpus/$t"
    t_secs="$short_secs"
    case "$long_targets" in *" $t "*) t_secs="$secs" ;; esac
    [ "$t_secs" -le "$secs" ] || t_secs="$secs"
    echo "fuzz-smoke: $t for ${t_secs}s" >&2
    # -rss_limit_mb: a hostile header must not make the reader allocate gigabytes.
    if ! cargo fuzz run --sanitizer "$sanitizer" "$t" "corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$t_secs" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1; then
        echo "fuzz-smoke: $t CRASHED; inputs in fuzz/artifacts/$t/" >&2
        status=1
    fi
done
# The wim_reader, solid_reader and iso_reader targets keep one scratch file per process on tmpfs.
rm -f /dev/shm/tsmedia-fuzz-wim-*.wim /dev/shm/tsmedia-fuzz-solid-*.wim /dev/shm/tsmedia-fuzz-iso-*.iso
exit "$status"
