#!/bin/bash
# make check: the kernel tree's own style and correctness tools on this
# project's files, inside the prepared kernel tree.  Every step must report
# nothing; the first failing step's findings are printed and the script
# exits 1 after running all steps.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

KLP_IMPL=ours
KLP_PACKAGES+=(sparse shellcheck python3-docutils)
ensure_packages

# The tree must be prepared and configured; build-kernel.sh does both (and
# is quick when nothing changed).  Its progress lines stay visible: from a
# cold cache this is a whole kernel build.
printf '[check] preparing and building the kernel tree (harness/build-kernel.sh)\n'
"$KLP_ROOT/harness/build-kernel.sh"

cd "$KLP_ROOT"
failed=()
step() { printf '[check] %s\n' "$*"; }
fail() {
	failed+=("$1")
	printf '[check] FAIL: %s\n' "$1"
}

# Project C sources and headers, as paths relative to the repository.
mapfile -t cfiles < <(git ls-files -- 'kernel/livepatch/*.[ch]' \
	'include/linux/livepatch.h' 'include/linux/livepatch_sched.h' \
	'arch/x86/include/asm/livepatch.h' \
	'samples/livepatch/*.[ch]' 'lib/livepatch/*.[ch]' 'tools/livepatch/*.[ch]' \
	'tools/testing/selftests/livepatch/*.[ch]' 'scripts/livepatch/*.[ch]')

# --- checkpatch -------------------------------------------------------------
# Waived checks, each for a reason that the code cannot change:
#   CAMELCASE        Elf_Shdr, Elf_Sym, Elf_Rela are the kernel's own ELF types.
#                    GElf_Sym, Elf_Scn, Elf_Data (scripts/livepatch/klp-diff.c)
#                    are libelf's.
#   MACRO_ARG_REUSE  the klp_for_each_* iterators are 6.1's public API; their
#                    arguments are loop variables, evaluated for their address.
#   FILE_PATH_CHANGES  -f mode on a file list; MAINTAINERS is not ours.
# trace.h additionally waives the layout checks that every TRACE_EVENT()
# header in the kernel trips (the macro's arguments are laid out as blocks,
# and TRACE_INCLUDE_PATH is a path, not a division).
waive=CAMELCASE,MACRO_ARG_REUSE,FILE_PATH_CHANGES
trace_waive=$waive,PARENTHESIS_ALIGNMENT,OPEN_ENDED_LINE,SPACING
checkpatch() {
	"$KLP_SRC/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
		--ignore "$1" -f "${@:2}" 2>&1 | grep -v '^total:' || true
}
step "checkpatch --strict on ${#cfiles[@]} files"
plain=()
for f in "${cfiles[@]}"; do [[ $f == */trace.h ]] || plain+=("$f"); done
out=$(checkpatch "$waive" "${plain[@]}"; checkpatch "$trace_waive" kernel/livepatch/trace.h)
if [[ -n $out ]]; then
	printf '%s\n' "$out"
	fail checkpatch
fi

# The scheduler change is a patch with a commit message: checkpatch reads
# it as a patch (not -f), from stdin: given the path of a file that git
# tracks, it checked the file's own lines instead (blank context lines
# became trailing whitespace).
step "checkpatch --strict on ${KLP_PATCHES_OURS[*]}"
for p in "${KLP_PATCHES_OURS[@]}"; do
	out=$("$KLP_SRC/scripts/checkpatch.pl" --strict --no-tree --terse \
		--show-types - <"$p" 2>&1 | grep -v '^total:' || true)
	if [[ -n $out ]]; then
		printf '%s\n' "$out"
		fail "checkpatch $p"
	fi
done

# --- W=1 and sparse ---------------------------------------------------------
# Compile our directories afresh with W=1 and run sparse (C=2 checks every
# source whether or not it is rebuilt).  So that W=1 really applies, and
# that the next make test does not find W=1 objects in place of its own and
# compile them again, the normal build's output of these directories is
# moved aside for the W=1 build and put back, as it was, afterwards.
dirs=(kernel/livepatch lib/livepatch samples/livepatch)
step "W=1 C=2 (sparse) build of ${dirs[*]}"
lock_out
saved=$KLP_OUT/klp-check-saved
restore_objects() {
	local d
	for d in "${dirs[@]}"; do
		[[ -e $saved/$d ]] || continue
		rm -rf "${KLP_OUT:?}/$d"
		mv "$saved/$d" "$KLP_OUT/$d"
	done
	rm -rf "$saved"
}
rm -rf "$saved"
for d in "${dirs[@]}"; do
	[[ -d $KLP_OUT/$d ]] || continue
	mkdir -p "$(dirname "$saved/$d")"
	mv "$KLP_OUT/$d" "$saved/$d"
done
trap restore_objects EXIT
log=$KLP_OUT/klp-check-build.log
targets=()
for d in "${dirs[@]}"; do targets+=("$d/"); done
if ! make -C "$KLP_SRC" O="$KLP_OUT" ARCH=x86_64 CC="ccache gcc" \
	-j"$(nproc)" W=1 C=2 "${targets[@]}" >"$log" 2>&1; then
	tail -n 30 "$log"
	fail "W=1 build"
fi
restore_objects
trap - EXIT
re=$(printf '%s|' "${dirs[@]}" include/linux/livepatch.h include/linux/livepatch_sched.h \
	arch/x86/include/asm/livepatch.h)
if grep -E "(^|/)(${re%|})[^ :]*:[0-9]+:([0-9]+:)? (warning|error):" "$log"; then
	fail "W=1/sparse warnings"
fi

# The files the scheduler patch changes, with W=1 and sparse: only the
# findings on lines the patch adds count (the rest is 6.1's own code).
step "W=1 C=1 (sparse) build of the files ${KLP_PATCHES_OURS[*]} change"
for p in "${KLP_PATCHES_OURS[@]}"; do
	mapfile -t pfiles < <(patch_files "$p")
	objs=()
	for f in "${pfiles[@]}"; do
		[[ $f == *.c ]] || continue
		# Only what this configuration builds (kernel/bpf/ needs BPF,
		# which KCONFIG=distro has and the default kernel has not).
		if [[ ! -f $KLP_OUT/${f%.c}.o ]]; then
			step "  $f: not built in this configuration, not checked here"
			continue
		fi
		rm -f "$KLP_OUT/${f%.c}.o"
		objs+=("${f%.c}.o")
	done
	((${#objs[@]})) || continue
	plog=$KLP_OUT/klp-check-patch-build.log
	if ! make -C "$KLP_SRC" O="$KLP_OUT" ARCH=x86_64 CC="ccache gcc" \
		W=1 C=1 "${objs[@]}" >"$plog" 2>&1; then
		tail -n 30 "$plog"
		fail "W=1 build of ${objs[*]}"
	fi
	# FILE:LINE of every line the patch adds, as in the patched file.
	added=$(awk '/^\+\+\+ b\// { f = substr($2, 3); next }
		/^@@ / { split($3, a, ","); n = substr(a[1], 2); next }
		f == "" { next }
		/^\+/ { print f ":" n; n++; next }
		/^ / { n++ }' "$p")
	while read -r w; do
		[[ $w =~ ([a-z0-9_/.-]+):([0-9]+):([0-9]+:)?\ (warning|error): ]] || continue
		loc=${BASH_REMATCH[1]#"$KLP_SRC/"}:${BASH_REMATCH[2]}
		if grep -qxF "$loc" <<<"$added"; then
			echo "$w"
			fail "W=1/sparse warning on a line of $p"
		fi
	done <"$plog"
done

# --- kernel-doc and documentation ------------------------------------------
step "kernel-doc on our sources"
"$KLP_ROOT/harness/check-docs.sh" kdoc "$KLP_SRC" || fail kernel-doc
step "reStructuredText and ABI file"
"$KLP_ROOT/harness/check-docs.sh" rst || fail rst
if command -v sphinx-build >/dev/null; then
	step "make htmldocs SPHINXDIRS=livepatch"
	"$KLP_ROOT/harness/check-docs.sh" sphinx "$KLP_SRC" || fail sphinx
fi

# --- the distro configuration ------------------------------------------------
# KCONFIG=distro against Debian's own configuration: every difference must
# be listed with its reason in harness/configs/distro.allow.  Configuring
# in a scratch directory takes seconds; nothing is built.
step "KCONFIG=distro against Debian's configuration (check-distro-config.sh)"
"$KLP_ROOT/harness/check-distro-config.sh" >/dev/null || fail "distro configuration"

# --- shell ------------------------------------------------------------------
mapfile -t shfiles < <(git ls-files -- 'harness/*.sh' 'harness/bench/*.sh' \
	harness/guest-init .ci/run 'tools/testing/selftests/livepatch/*.sh' \
	scripts/livepatch/klp-build)
step "shellcheck on ${#shfiles[@]} scripts"
shellcheck -x -P SCRIPTDIR "${shfiles[@]}" || fail shellcheck

# --- systemd unit -------------------------------------------------------------
# The unit as "make -C tools/livepatch install" lays it out, into a
# scratch prefix so that its ExecStart names a klpctl that exists.
unit=klpctl-load-installed.service
if command -v systemd-analyze >/dev/null; then
	step "systemd-analyze verify $unit"
	tmp=$(mktemp -d)
	mkdir -p "$tmp/build"
	if ! make -s -C tools/livepatch OUTPUT="$tmp/build/" prefix="$tmp" \
		install >"$tmp/make.log" 2>&1; then
		cat "$tmp/make.log"
		fail "tools/livepatch install"
	elif ! systemd-analyze verify --man=no "$tmp/lib/systemd/system/$unit"; then
		fail "systemd-analyze verify"
	fi
	rm -rf "$tmp"
else
	step "systemd-analyze verify $unit: skipped, no systemd-analyze on this host"
fi

if ((${#failed[@]})); then
	printf '[check] failed: %s\n' "${failed[*]}"
	exit 1
fi
printf '[check] all clean: checkpatch, W=1, sparse, kernel-doc, rst, distro configuration, shellcheck, systemd unit\n'
