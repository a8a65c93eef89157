#!/bin/bash
# Configure and build the kernel, its modules and the livepatch selftests
# into $KLP_OUT; stage modules_install and the kselftest install in
# $KLP_STAGE.  Output of the kernel build goes to $KLP_BUILD_LOG.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

mapfile -t frags < <(klp_frags)
for f in "${frags[@]}"; do
	[[ -f $f ]] || die "no harness/configs/${f##*/}"
done

lock_out
lock_src
"$KLP_ROOT/harness/prepare-tree.sh"

kmake() { make -C "$KLP_SRC" O="$KLP_OUT" ARCH=x86_64 CC="ccache gcc" "$@"; }

mkdir -p "$KLP_OUT"
start=$SECONDS
info "$KLP_PKG $(klp_pkg_version), impl=$KLP_IMPL, kconfig=$KLP_KCONFIG, out=$KLP_OUT"
: >"$KLP_BUILD_LOG"

# --- configuration: tinyconfig (Debian's for distro) + fragments, redone
# when any input changes ------------------------------------------------------
base=tinyconfig
[[ $KLP_KCONFIG == distro ]] && base=$KLP_DISTRO_CONFIG
cfg_inputs=("${frags[@]}" "$KLP_SRC/kernel/livepatch/Kconfig"
	"$KLP_SRC/lib/Kconfig.debug" "$KLP_SRC/samples/Kconfig")
[[ $base == tinyconfig ]] || cfg_inputs+=("$base")
stamp=$(cat "${cfg_inputs[@]}" | sha256sum)
if [[ ! -f $KLP_OUT/.config || $(cat "$KLP_OUT/klp-config.stamp" 2>/dev/null) != "$stamp" ]]; then
	info "configuring (${base##*/} + ${frags[*]##*/})"
	rm -f "$KLP_OUT/klp-config.stamp"
	klp_configure "$KLP_OUT" >>"$KLP_BUILD_LOG" 2>&1 || {
		tail -n 40 "$KLP_BUILD_LOG"
		die "configuration failed (log: $KLP_BUILD_LOG)"
	}
	echo "$stamp" >"$KLP_OUT/klp-config.stamp"
fi
# Check every option the fragments ask for; where several set the same
# option, the last one (as merge_config.sh applies them) counts.
while IFS= read -r line; do
	if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
		grep -qxF "$line" "$KLP_OUT/.config" || {
			rm -f "$KLP_OUT/klp-config.stamp"
			die "config: ${BASH_REMATCH[1]} is not ${BASH_REMATCH[2]} after olddefconfig (have: $(grep -E "^(# )?${BASH_REMATCH[1]}[= ]" "$KLP_OUT/.config" || echo unset)); check its dependencies"
		}
	elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
		if grep -qE "^${BASH_REMATCH[1]}=" "$KLP_OUT/.config"; then
			rm -f "$KLP_OUT/klp-config.stamp"
			die "config: ${BASH_REMATCH[1]} should not be set"
		fi
	fi
done < <(cat "${frags[@]}" | awk '
	match($0, /^(# )?CONFIG_[A-Za-z0-9_]+[= ]/) {
		opt = substr($0, 1, RLENGTH - 1); sub(/^# /, "", opt)
		last[opt] = NR; line[NR] = $0
	}
	END { for (o in last) print line[last[o]] }')

# --- nothing changed? -------------------------------------------------------
# The build's inputs: the configuration, the files laid into the tree (the
# owned paths, as the tree now has them), the harness files that shape the
# build and the pristine tree's version.  When they are what the last
# successful build had, and its output is still there, there is nothing to
# do: even a make that compiles nothing walks the whole tree, and staging
# and converting the modules again takes as long.
build_inputs() {
	local p
	{
		echo "$KLP_IMPL $KLP_KCONFIG $(klp_pkg_version)"
		cat "$KLP_OUT/.config"
		for p in $(klp_dirs) $(klp_files); do
			[[ -e $KLP_SRC/$p ]] && find "$KLP_SRC/$p" -type f -print0
		done | LC_ALL=C sort -z | xargs -0r sha256sum
		find "$KLP_ROOT/harness" -maxdepth 1 -type f \( -name '*.sh' -o -name guest-init \) \
			-print0 | LC_ALL=C sort -z | xargs -0r sha256sum
		if [[ -d $KLP_ROOT/harness/patches ]]; then
			find "$KLP_ROOT/harness/patches" -type f -print0 | LC_ALL=C sort -z |
				xargs -0r sha256sum
		fi
	} | sed "s#$KLP_ROOT/##; s#$KLP_SRC/##" | sha256sum | cut -d' ' -f1
}
built_stamp=$KLP_OUT/klp-built.stamp
inputs=$(build_inputs)
if [[ -f $KLP_OUT/arch/x86/boot/bzImage && -d $KLP_STAGE/lib/modules &&
	$(cat "$built_stamp" 2>/dev/null) == "$inputs" ]]; then
	info "nothing changed since the last build of $(kernel_release): not building"
	exit 0
fi
rm -f "$built_stamp"

# --- build ---------------------------------------------------------------
info "building bzImage and modules with $(nproc) jobs (log: $KLP_BUILD_LOG)"
# A cold build takes many minutes: say how far it is every 30 s, counted in
# build steps against the most that a build of this directory ever made
# (klp-build.count, that of its full build).
counted=$KLP_OUT/klp-build.count
progress() {
	local total n
	total=$(cat "$counted" 2>/dev/null || true)
	while sleep 30; do
		n=$(grep -cE '^  (CC|AS|LD|AR)' "$KLP_BUILD_LOG" || true)
		if [[ $total =~ ^[0-9]+$ ]] && ((total >= n && total > 0)); then
			info "building: $n of about $total steps ($((n * 100 / total))%), $(elapsed "$start")"
		else
			info "building: $n steps so far, $(elapsed "$start")"
		fi
	done
}
progress &
progress_pid=$!
trap 'kill "$progress_pid" 2>/dev/null || true' EXIT
rc=0
kmake -j"$(nproc)" bzImage modules >>"$KLP_BUILD_LOG" 2>&1 || rc=$?
kill "$progress_pid" 2>/dev/null || true
wait "$progress_pid" 2>/dev/null || true
if ((rc)); then
	grep -E ': (error|Error|fatal error):|\*\*\*' "$KLP_BUILD_LOG" | head -n 20 >&2 || true
	echo "----- tail of $KLP_BUILD_LOG -----" >&2
	tail -n 40 "$KLP_BUILD_LOG" >&2
	die "kernel build failed"
fi

steps=$(grep -cE '^  (CC|AS|LD|AR)' "$KLP_BUILD_LOG" || true)
if ((steps > $(cat "$counted" 2>/dev/null || echo 0))); then
	echo "$steps" >"$counted"
fi

# Compiler warnings in this project's files fail the build.
mapfile -t owned < <(klp_dirs; klp_files)
re=$(printf '%s|' "${owned[@]}")
re="(^|/)(${re%|})[^ :]*:([0-9]+:)* warning:|^WARNING: modpost: .*(${re%|})"
if grep -E "$re" "$KLP_BUILD_LOG" >&2; then
	# Make the next build compile them again, so the warnings are not lost.
	for d in $(klp_dirs); do
		[[ -d $KLP_OUT/$d ]] && find "$KLP_OUT/$d" \( -name '*.o' -o -name '*.ko' \) -delete
	done
	die "compiler warnings in this project's files (see above)"
fi

# --- stage modules and selftests -----------------------------------------
rm -rf "$KLP_STAGE"
mkdir -p "$KLP_STAGE"
kmake INSTALL_MOD_PATH="$KLP_STAGE" INSTALL_MOD_STRIP=1 modules_install \
	>>"$KLP_BUILD_LOG" 2>&1 || {
	tail -n 20 "$KLP_BUILD_LOG" >&2
	die "modules_install failed"
}
# Livepatch relocations of the test patch modules (klp_convert_modules).
klp_convert_modules "$KLP_STAGE/lib/modules"
if [[ -d $KLP_SRC/tools/testing/selftests/livepatch ]]; then
	make -C "$KLP_SRC/tools/testing/selftests" O="$KLP_OUT" TARGETS=livepatch \
		KSFT_INSTALL_PATH="$KLP_STAGE/kselftest" install >>"$KLP_BUILD_LOG" 2>&1 || {
		tail -n 20 "$KLP_BUILD_LOG" >&2
		die "selftests install failed"
	}
	[[ -x $KLP_STAGE/kselftest/run_kselftest.sh ]] ||
		die "selftests install produced no run_kselftest.sh"
else
	info "no tools/testing/selftests/livepatch in the repository: no selftests staged"
fi

# klpctl (tools/livepatch) for the initramfs; built on the host, libc only.
if [[ -f $KLP_SRC/tools/livepatch/Makefile ]]; then
	mkdir -p "$KLP_OUT/tools/livepatch"
	make -C "$KLP_SRC/tools/livepatch" OUTPUT="$KLP_OUT/tools/livepatch/" \
		CC="ccache gcc" >>"$KLP_BUILD_LOG" 2>&1 || {
		tail -n 20 "$KLP_BUILD_LOG" >&2
		die "building tools/livepatch (klpctl) failed"
	}
	install -D -m 755 "$KLP_OUT/tools/livepatch/klpctl" "$KLP_STAGE/usr/bin/klpctl"
fi

echo "$inputs" >"$built_stamp"
info "built $(kernel_release) in $(elapsed "$start")"
