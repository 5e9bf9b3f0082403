#!/usr/bin/env bash
# Runs wimlib's own test scripts (tests/test-imagex, test-imagex-capture_and_apply,
# test-imagex-update_and_extract) against `tsmedia` installed as `wimlib-imagex`, and counts
# the cases that pass.
#
#   scripts/wimlib-tests.sh [--imagex PROGRAM] [--keep] [SCRIPT...]
#
# PROGRAM defaults to target/debug/tsmedia (build it first: cargo build -p tsmedia); pass
# --imagex /usr/bin/wimlib-imagex to count what the real wimlib passes. wimlib's sources
# (GPL) are never copied into this repository: they are checked out into a scratch folder from
# $WIMLIB_GIT (a git directory; default the mirror /work/.mirror/ebiggers+wimlib/repo, else a
# clone of https://github.com/ebiggers/wimlib) at $WIMLIB_REV (default HEAD).
#
# What a case is. wimlib's scripts stop at the first failure (`set -e`, and `error` exits), so
# a plain run says only "all passed" or "something failed". In the scratch copy:
# - test-imagex and test-imagex-capture_and_apply: every check that guards an `error` call
#   (`if COND; then error ...` and `COND && error ...` / `COND || error ...`) is one case, and so
#   is every `../tree-cmp in.dir out.dir` comparison (wimlib reports those only when
#   /usr/bin/tree is installed). `error` records the failure and the script goes on. A command
#   outside any check that fails still ends the script (`set -e` is kept, so a failure never
#   runs the later `rm -rf` in the wrong folder): the checks it did not reach count as failed,
#   using the number of cases the same script reaches with the real wimlib-imagex.
# - test-imagex-update_and_extract checks by `set -e` alone: each `msg` section is a case;
#   the section a failure happens in and every later one count as failed.
# Failures are listed with wimlib's message; the summary line is `PASS n / N`.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
imagex="$here/target/debug/tsmedia"
keep=false
scripts=()
while [ $# -gt 0 ]; do
	case "$1" in
	--imagex) imagex="$2"; shift 2 ;;
	--keep) keep=true; shift ;;
	-h|--help) sed -n '2,27p' "$0"; exit 0 ;;
	*) scripts+=("$1"); shift ;;
	esac
done
[ ${#scripts[@]} -gt 0 ] || scripts=(test-imagex test-imagex-capture_and_apply test-imagex-update_and_extract)
imagex="$(readlink -f "$(command -v "$imagex")")"
[ -x "$imagex" ] || { echo "no program $imagex (cargo build -p tsmedia?)" >&2; exit 2; }

scratch="$(mktemp -d /tmp/wimlib-tests.XXXXXX)"
$keep || trap 'rm -rf "$scratch"' EXIT
git_dir="${WIMLIB_GIT:-/work/.mirror/ebiggers+wimlib/repo}"
if [ ! -d "$git_dir" ]; then
	git clone --quiet --bare https://github.com/ebiggers/wimlib "$scratch/wimlib.git"
	git_dir="$scratch/wimlib.git"
fi
src="$scratch/wimlib"
mkdir -p "$src"
git --git-dir="$git_dir" archive "${WIMLIB_REV:-HEAD}" tests src | tar -x -C "$src"
touch "$src/config.h"
cc -O1 -I"$src" -o "$src/tests/tree-cmp" "$src/tests/tree-cmp.c"
# test_utils.sh runs ../../wimlib-imagex (relative to tests/TMPDIR); put it on PATH too.
ln -s "$imagex" "$src/wimlib-imagex"
mkdir "$scratch/bin"
ln -s "$imagex" "$scratch/bin/wimlib-imagex"
export PATH="$scratch/bin:$PATH"

# The instrumentation, appended to the scratch copy of test_utils.sh.
cat >> "$src/tests/test_utils.sh" <<'EOF'
__case() { echo case >> "$WIMLIB_TESTS_LOG"; }
error() {
	echo "FAIL: $(echo $*)" >> "$WIMLIB_TESTS_LOG"
	echo "**** Test failure (counted, going on): $(echo $*)"
}
EOF
# Marks every check that guards an `error` call as a case (`__case;` at its start).
instrument() {
	perl -0777 -pe '
		# if COND; then error ...   (COND may span lines; `then` may start the next line)
		s/\b(if|elif)(\s+)((?:(?!\b(?:then|fi|if)\b).)*?;?\s*then\s+error\b)/$1$2__case; $3/gs;
		# COND && error / COND || error, possibly with a line continuation before error
		s/^([ \t]*)(?!__case)([^\n#]*?(?:&&|\|\|)[ \t]*(?:\\\n[ \t]*)?error\b)/$1__case; $2/gm;
		# tree-cmp reports only when /usr/bin/tree exists: count it here
		s/if ! \.\.\/tree-cmp in\.dir out\.dir; then/if __case; ! ..\/tree-cmp in.dir out.dir; then error "tree-cmp: the applied tree differs from in.dir (compression \$ctype)";/g;
		s/\[ -x \/usr\/bin\/tree \]/false/g;
		# an exclusion-list test ends with an unguarded diff of wimdir\x27s listing
		s/^(\s*)diff expected_out actual_out$/$1if __case; ! diff expected_out actual_out; then error "exclusion list \${t_file##*\/}: wimdir lists other files"; fi/m;
	' "$1" > "$1.new"
	mv "$1.new" "$1"
	chmod +x "$1"
}

# The cases each script has when it runs to its end (wimlib v1.14.5's scripts). The real
# wimlib-imagex 1.13.5 (Debian's wimtools) reaches all of them but passes 158, 824 and 15:
# it stops test-imagex-update_and_extract at "UTF-16LE-NOBOM command update file", which
# wimlib 1.14 added. `--imagex /usr/bin/wimlib-imagex` measures it again.
expected() {
	case "$1" in
	test-imagex) echo 158 ;;
	test-imagex-capture_and_apply) echo 824 ;;
	test-imagex-update_and_extract) echo 33 ;;
	*) echo 0 ;;
	esac
}

total_pass=0
total_cases=0
for s in "${scripts[@]}"; do
	log="$scratch/$s.cases"
	out="$scratch/$s.out"
	: > "$log"
	f="$src/tests/$s"
	if [ "$s" = test-imagex-update_and_extract ]; then
		# Each msg section is a case.
		perl -0777 -pi -e 's/^(msg\(\) \{\n)/$1\techo case >> "\$WIMLIB_TESTS_LOG"\n/m' "$f"
	else
		instrument "$f"
	fi
	rc=0
	(cd "$src" && WIMLIB_TESTS_LOG="$log" srcdir=. bash "tests/$s") > "$out" 2>&1 || rc=$?
	reached=$(grep -c '^case' "$log" || true)
	failed=$(grep -c '^FAIL' "$log" || true)
	if [ "$s" = test-imagex-update_and_extract ]; then
		if [ $rc -ne 0 ]; then
			failed=1
			echo "FAIL: script stopped (status $rc) in section: $(grep -E '^Testing' "$out" | tail -1)" >> "$log"
		fi
	fi
	pass=$((reached - failed))
	# Cases after a stop count as failed: the total is what the real wimlib-imagex reaches.
	total=$(expected "$s")
	[ "$reached" -gt "$total" ] && total=$reached
	echo "== $s: $pass of $total passed ($reached reached, exit status $rc)"
	if [ $rc -ne 0 ] && [ "$s" != test-imagex-update_and_extract ]; then
		echo "   stopped by a command outside a check; last lines:"
		tail -5 "$out" | sed 's/^/   | /'
	fi
	grep '^FAIL' "$log" | sort | uniq -c | sed 's/^/   /' || true
	total_pass=$((total_pass + pass))
	total_cases=$((total_cases + total))
done
echo "PASS $total_pass / $total_cases (program: $imagex)"
$keep && echo "scratch kept: $scratch"
exit 0
