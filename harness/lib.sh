# shellcheck shell=bash disable=SC2034
# Common variables and functions of the build-and-boot harness.
# Sourced by the other harness scripts; never run directly.

# ---- configuration (all may be overridden from the environment) ----------
KLP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Where the project's files are taken from (default: this checkout).
KLP_REPO=${KLP_REPO:-$KLP_ROOT}
KLP_IMPL=${KLP_IMPL:-ours}          # ours | stock
KLP_KCONFIG=${KLP_KCONFIG:-default} # harness/configs/<name>.config
KLP_CACHE=${KLP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/klp}
KLP_PKG=linux-source-6.1
KLP_TARBALL=/usr/src/$KLP_PKG.tar.xz
KLP_PRISTINE=$KLP_CACHE/$KLP_PKG
KLP_SRC=$KLP_CACHE/src-$KLP_IMPL
KLP_OUT=$KLP_CACHE/out-$KLP_IMPL-$KLP_KCONFIG
KLP_STAGE=$KLP_OUT/klp-stage            # modules_install + kselftest install
KLP_BUILD_LOG=$KLP_OUT/klp-build.log
KLP_INITRAMFS=$KLP_OUT/klp-initramfs.cpio
KLP_TEST_LOGS=$KLP_OUT/klp-test         # .log, .N.log, .N.out, -times
# KLP_SUITE=upstream (make test-upstream, harness/stage-upstream.sh): the
# same kernel with the pristine tree's own test modules and selftests,
# staged, packed and logged apart from ours.
if [[ ${KLP_SUITE:-} == upstream ]]; then
	KLP_STAGE=$KLP_OUT/klp-stage-upstream
	KLP_INITRAMFS=$KLP_OUT/klp-initramfs-upstream.cpio
	KLP_TEST_LOGS=$KLP_OUT/klp-upstream
fi
# make deb (harness/deb.sh) packs a guest's initramfs from the unpacked
# packages: KLP_STAGE_DIR stands in for the staging directory and
# KLP_INITRAMFS_FILE names the initramfs made from it.
KLP_STAGE=${KLP_STAGE_DIR:-$KLP_STAGE}
KLP_INITRAMFS=${KLP_INITRAMFS_FILE:-$KLP_INITRAMFS}
# Debian's configuration (KCONFIG=distro) has DWARF in every object: its
# cache is kept apart and bigger, so that one build of it does not push the
# small kernels' objects out of theirs.
if [[ $KLP_KCONFIG == distro ]]; then
	export CCACHE_DIR=${CCACHE_DIR:-$KLP_CACHE/ccache-distro}
	export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-30G}
else
	export CCACHE_DIR=${CCACHE_DIR:-$KLP_CACHE/ccache}
	export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
fi

case $KLP_IMPL in ours | stock) ;; *)
	echo "klp: KLP_IMPL must be 'ours' or 'stock', not '$KLP_IMPL'" >&2
	exit 1
	;;
esac
[[ $KLP_KCONFIG =~ ^[A-Za-z0-9_-]+$ ]] || {
	echo "klp: bad KCONFIG name '$KLP_KCONFIG'" >&2
	exit 1
}

# What this project owns in the kernel tree.  Directories are replaced as a
# whole (files the repository lacks are deleted from the tree); single files
# are replaced, or deleted when the repository lacks them.
KLP_DIRS_OURS=(kernel/livepatch samples/livepatch lib/livepatch
	tools/testing/selftests/livepatch Documentation/livepatch tools/livepatch
	scripts/livepatch)
KLP_FILES_OURS=(include/linux/livepatch.h include/linux/livepatch_sched.h
	arch/x86/include/asm/livepatch.h
	Documentation/ABI/testing/sysfs-kernel-livepatch)
# Changes to files that the project does not own, as patches (patch -p1)
# kept in the repository: the scheduler's calls of live patching
# (switching in cond_resched()), ftrace's trampolines per call site
# (calls without the handler, and a jump standing in for such a call:
# ftrace_site_alias()), two fixes for BPF trampolines on patched
# functions (test-bpf.sh), and x86's batches of code changes written page
# by page (faster patch operations).  Trees of KLP_IMPL=ours get them
# applied, stock trees get the files as the pristine tree has them
# (patch_tree).
KLP_PATCHES_OURS=(harness/patches/livepatch-sched.patch
	harness/patches/ftrace-site-trampoline.patch
	harness/patches/ftrace-site-alias.patch
	harness/patches/ftrace-ipmodify-share.patch
	harness/patches/bpf-trampoline-modify-share.patch
	harness/patches/text-poke-batch-pages.patch)
# With the stock implementation only the samples, tests and tools are ours.
KLP_DIRS_STOCK=(samples/livepatch lib/livepatch tools/testing/selftests/livepatch
	tools/livepatch)
# Never copied from the repository (build leftovers of out-of-tree builds).
KLP_EXCLUDES=('*.o' '*.ko' '*.a' '.*.cmd' '*.mod' '*.mod.c' 'modules.order'
	'Module.symvers' '*.orig' '*.rej' '*~' '.*.swp')

# ---- helpers ---------------------------------------------------------------
info() { printf '[klp] %s\n' "$*"; }
warn() { printf '[klp] warning: %s\n' "$*" >&2; }
die() {
	printf '[klp] error: %s\n' "$*" >&2
	exit 1
}

# KCONFIG=distro starts from Debian's own configuration of its cloud
# kernel (package linux-config-6.1) instead of tinyconfig, and merges
# harness/configs/distro.config alone on top (not base.config: every
# option outside drivers stays as Debian has it, harness/configs/distro.allow
# lists the exceptions, harness/check-distro-config.sh checks them).
KLP_DISTRO_CONFIG=/usr/src/linux-config-6.1/config.amd64_none_cloud-amd64.xz
if [[ $KLP_KCONFIG == distro ]]; then
	# pahole: Kconfig records its version (CONFIG_PAHOLE_VERSION), which
	# must be Debian's (dwarves 1.24) for check-distro-config.sh; the
	# build makes BTF with it.
	# clang and libbpf-dev: test-bpf.sh's BPF programs and their loader.
	KLP_PACKAGES_DISTRO=(linux-config-6.1 openssl libssl-dev dwarves clang
		libbpf-dev)
else
	KLP_PACKAGES_DISTRO=()
fi

# klp_frags: the fragments merged for KLP_KCONFIG, in order, one a line.
klp_frags() {
	local d=$KLP_ROOT/harness/configs
	if [[ $KLP_KCONFIG == distro ]]; then
		echo "$d/distro.config"
		return
	fi
	echo "$d/base.config"
	case $KLP_KCONFIG in
	default | preempt | kcsan) echo "$d/mitigations.config" ;;
	esac
	[[ $KLP_KCONFIG != base ]] && echo "$d/$KLP_KCONFIG.config"
	return 0
}

# klp_configure DIR: write DIR/.config for KLP_KCONFIG in the prepared tree
# $KLP_SRC: the base configuration (tinyconfig, or Debian's for distro),
# the fragments of klp_frags merged on top, then olddefconfig.  Output goes
# to stdout.
klp_configure() {
	local dir=$1 frags
	mapfile -t frags < <(klp_frags)
	mkdir -p "$dir"
	if [[ $KLP_KCONFIG == distro ]]; then
		[[ -f $KLP_DISTRO_CONFIG ]] || die "$KLP_DISTRO_CONFIG missing (is linux-config-6.1 installed?)"
		xz -dc "$KLP_DISTRO_CONFIG" >"$dir/.config"
	else
		make -C "$KLP_SRC" O="$dir" ARCH=x86_64 tinyconfig
	fi
	"$KLP_SRC/scripts/kconfig/merge_config.sh" -m -O "$dir" "$dir/.config" "${frags[@]}"
	make -C "$KLP_SRC" O="$dir" ARCH=x86_64 olddefconfig
}

# klp_config_wanted OPTION: what the configuration of KLP_KCONFIG asks for
# CONFIG_OPTION (the fragments of klp_frags, and for distro Debian's
# configuration under them): its value, "n" for "is not set", nothing if
# they do not name it.  The last one counts, as in build-kernel.sh.
klp_config_wanted() {
	local frags
	mapfile -t frags < <(klp_frags)
	{
		if [[ $KLP_KCONFIG == distro ]]; then xz -dc "$KLP_DISTRO_CONFIG"; fi
		cat "${frags[@]}"
	} | awk -v o="CONFIG_$1" 'index($0, o "=") == 1 { v = substr($0, length(o) + 2) }
		$0 == "# " o " is not set" { v = "n" }
		END { print v }'
}

# klp_preempt_dynamic: true if the kernel of KLP_KCONFIG chooses its
# preemption model at boot (PREEMPT_DYNAMIC; preempt=none|voluntary|full).
klp_preempt_dynamic() { [[ $(klp_config_wanted PREEMPT_DYNAMIC) == y ]]; }

# klp_preempt_built: the preemption model the fragments choose (none,
# voluntary or full): with PREEMPT_DYNAMIC the one a guest runs without a
# preempt= option, else the only one.  tinyconfig's default is none.
klp_preempt_built() {
	if [[ $(klp_config_wanted PREEMPT) == y ]]; then
		echo full
	elif [[ $(klp_config_wanted PREEMPT_VOLUNTARY) == y ]]; then
		echo voluntary
	else
		echo none
	fi
}

# klp_preempt_expected [MODEL]: what a guest booted with preempt=MODEL (or
# none) must report as its preemption model on its KLP-INIT line
# (preempt_model in harness/guest-init): MODEL, or the built one, with
# PREEMPT_DYNAMIC; without it static-full, or static-none/voluntary (which
# the guest cannot tell apart).
klp_preempt_expected() {
	local built
	built=$(klp_preempt_built)
	if klp_preempt_dynamic; then
		echo "${1:-$built}"
	elif [[ $built == full ]]; then
		echo static-full
	else
		echo static-none/voluntary
	fi
}

# klp_dirs / klp_files: the owned paths for KLP_IMPL (one per line).
klp_dirs() {
	if [[ $KLP_IMPL == ours ]]; then printf '%s\n' "${KLP_DIRS_OURS[@]}"; else printf '%s\n' "${KLP_DIRS_STOCK[@]}"; fi
}
klp_files() {
	if [[ $KLP_IMPL == ours ]]; then printf '%s\n' "${KLP_FILES_OURS[@]}"; fi
}

# ensure_packages: install the Debian packages the harness needs, once,
# only when something is missing.
KLP_PACKAGES=(make gcc libc6-dev bc flex bison libelf-dev ccache cpio rsync
	xz-utils kmod procps util-linux mount bsdutils bash dash coreutils grep
	sed gawk findutils diffutils qemu-system-x86 socat "$KLP_PKG" "${KLP_PACKAGES_DISTRO[@]}")
ensure_packages() {
	local p have missing=()
	# One dpkg-query for all: the installed ones, one name a line.  It
	# exits 1 when it knows a name not at all (a fresh machine), which
	# under pipefail and set -e would end the script here.
	have=$'\n'$({ dpkg-query -W -f='${Package} ${Status}\n' "${KLP_PACKAGES[@]}" 2>/dev/null || :; } |
		awk '/ ok installed$/ { print $1 }')$'\n'
	for p in "${KLP_PACKAGES[@]}"; do
		[[ $have == *$'\n'"$p"$'\n'* ]] || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	# apt's progress and debconf's notes go to a log, not the terminal.
	local sudo=() log=$KLP_CACHE/apt.log
	((EUID == 0)) || sudo=(sudo)
	mkdir -p "$KLP_CACHE"
	info "installing ${#missing[@]} missing packages: ${missing[*]} (log: $log)"
	if ! { "${sudo[@]}" apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
			--no-install-recommends "${missing[@]}"; } >"$log" 2>&1 </dev/null; then
		tail -n 20 "$log" >&2
		die "installing packages failed (log: $log)"
	fi
	info "installed: ${missing[*]}"
}

klp_pkg_version() { dpkg-query -W -f='${Version}' "$KLP_PKG"; }

# ensure_pristine: unpack the kernel tarball into the cache once.
ensure_pristine() {
	mkdir -p "$KLP_CACHE"
	if [[ ! -f $KLP_PRISTINE/Makefile ]]; then
		local tmp
		exec 8>"$KLP_CACHE/pristine.lock"
		flock 8
		if [[ ! -f $KLP_PRISTINE/Makefile ]]; then
			[[ -f $KLP_TARBALL ]] || die "$KLP_TARBALL missing (is $KLP_PKG installed?)"
			info "unpacking $KLP_TARBALL into $KLP_CACHE (once)"
			tmp=$(mktemp -d "$KLP_CACHE/unpack.XXXXXX")
			tar -xJf "$KLP_TARBALL" -C "$tmp"
			rm -rf "$KLP_PRISTINE"
			mv "$tmp/$KLP_PKG" "$KLP_PRISTINE"
			rmdir "$tmp"
			klp_pkg_version >"$KLP_PRISTINE.version"
		fi
		exec 8>&-
	fi
	[[ -f $KLP_PRISTINE.version ]] || klp_pkg_version >"$KLP_PRISTINE.version"
	local have want
	have=$(cat "$KLP_PRISTINE.version")
	want=$(klp_pkg_version)
	[[ $have == "$want" ]] ||
		warn "cached tree is $KLP_PKG $have but $want is installed; rm -rf $KLP_CACHE to refresh"
}

# klp_lock FILE: take an exclusive lock for the rest of this process,
# saying so when someone else holds it.  Re-entrant across our scripts.
klp_lock() {
	local f=$1 fd
	case ":${KLP_LOCKS_HELD:-}:" in *":$f:"*) return 0 ;; esac
	mkdir -p "$(dirname "$f")"
	exec {fd}>"$f"
	if ! flock -n "$fd"; then
		info "waiting for $f (another build or run holds it)"
		flock "$fd"
	fi
	export KLP_LOCKS_HELD="${KLP_LOCKS_HELD:-}:$f"
}
lock_out() { klp_lock "$KLP_OUT.lock"; }
lock_src() { klp_lock "$KLP_SRC.lock"; }

# Keep the parent make's flags away from the kernel's make.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS

# klp_convert_modules DIR: give the test patch modules under DIR (a
# modules_install tree) their livepatch relocations
# (lib/livepatch/klp_convert.py): only the finished, stripped .ko can be
# converted, so it is done on installed copies of the modules that still
# hold marker symbols.  A kernel that signs its modules (MODULE_SIG_ALL,
# KCONFIG=distro) gets the converted module signed again with the build's
# key: the signature modules_install appended covered the module before
# conversion.
klp_convert_modules() {
	local dir=$1 ko hash sign=()
	if grep -qx 'CONFIG_MODULE_SIG_ALL=y' "$KLP_OUT/.config"; then
		hash=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"$/\1/p' "$KLP_OUT/.config")
		sign=("$KLP_OUT/scripts/sign-file" "${hash:-sha256}"
			"$KLP_OUT/certs/signing_key.pem" "$KLP_OUT/certs/signing_key.x509")
	fi
	while IFS= read -r -d '' ko; do
		grep -qaF '.klp.ref.' "$ko" || continue
		python3 "$KLP_SRC/lib/livepatch/klp_convert.py" "$ko" "$ko.klp" ||
			die "klp_convert.py failed on $ko"
		mv "$ko.klp" "$ko"
		if ((${#sign[@]})); then
			"${sign[@]}" "$ko" || die "signing $ko again failed"
		fi
	done < <(find "$dir" -path '*/lib/livepatch/*.ko' -print0)
}

# kernel_release: the release string of the built kernel.
kernel_release() { cat "$KLP_OUT/include/config/kernel.release"; }

elapsed() { echo "$((SECONDS - $1))s"; }

# lay_files TREE: make the owned paths of TREE (see klp_dirs/klp_files)
# identical to the repository's, printing "added/replaced/removed PATH".
# rsync writes a new file and renames it into place, so a hard link into the
# pristine tree is replaced, never written through; files whose content is
# unchanged keep their mtime, so rebuilds stay incremental.
lay_files() {
	local tree=$1 d f pat ex=()
	for pat in "${KLP_EXCLUDES[@]}"; do ex+=(--exclude="$pat"); done
	while read -r d; do
		if [[ -d $KLP_REPO/$d ]]; then
			mkdir -p "$tree/$d"
			rsync -rlc --delete --delete-excluded "${ex[@]}" -i \
				"$KLP_REPO/$d/" "$tree/$d/" | report_changes "$d/"
		elif [[ -e $tree/$d ]]; then
			echo "removed  $d/"
			rm -rf "${tree:?}/$d"
		fi
	done < <(klp_dirs)
	while read -r f; do
		if [[ -f $KLP_REPO/$f ]]; then
			mkdir -p "$(dirname "$tree/$f")"
			rsync -c -i "$KLP_REPO/$f" "$tree/$f" | report_changes "$(dirname "$f")/"
		elif [[ -e $tree/$f ]]; then
			echo "removed  $f"
			rm -f "$tree/$f"
		fi
	done < <(klp_files)
}

# patch_files PATCH: the files that PATCH changes, one per line.
patch_files() { sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$1"; }

# patch_tree TREE PRISTINE: make each file that the project's patches
# change the PRISTINE one with the patches of KLP_IMPL applied (none for
# stock).  The result is made in a scratch directory from copies of the
# pristine files and copied into TREE only where its content differs: rsync
# writes a new file and renames it into place, so the hard link into the
# pristine tree is replaced, never written through; an unchanged file keeps
# its mtime, so rebuilds stay incremental.  Idempotent, and a patch changed
# in the repository replaces what an older version left in TREE.
patch_tree() {
	local tree=$1 pristine=$2 tmp p f files=()
	for p in "${KLP_PATCHES_OURS[@]}"; do
		mapfile -t -O "${#files[@]}" files < <(patch_files "$KLP_REPO/$p")
	done
	((${#files[@]})) || return 0
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/klp-patch.XXXXXX")
	for f in "${files[@]}"; do
		mkdir -p "$tmp/$(dirname "$f")"
		cp "$pristine/$f" "$tmp/$f"
	done
	if [[ $KLP_IMPL == ours ]]; then
		for p in "${KLP_PATCHES_OURS[@]}"; do
			patch -d "$tmp" -p1 -s -f --no-backup-if-mismatch \
				<"$KLP_REPO/$p" >&2 || {
				rm -rf "$tmp"
				die "$p does not apply to $pristine"
			}
		done
	fi
	for f in "${files[@]}"; do
		rsync -c -i "$tmp/$f" "$tree/$f" | report_changes "$(dirname "$f")/"
		cmp -s "$tmp/$f" "$tree/$f" || {
			rm -rf "$tmp"
			die "$tree/$f: not what ${KLP_PATCHES_OURS[*]} make of it"
		}
	done
	rm -rf "$tmp"
}

# patch_tree_in_place TREE: apply the project's patches to a tree that has
# no pristine copy (make install): each one unless it is applied already
# (its reverse applies); one that applies neither way is an error.
patch_tree_in_place() {
	local tree=$1 p
	for p in "${KLP_PATCHES_OURS[@]}"; do
		if patch -d "$tree" -p1 -R -s -f --dry-run <"$KLP_REPO/$p" >/dev/null 2>&1; then
			info "already applied: $p"
		elif patch -d "$tree" -p1 -s -f --dry-run <"$KLP_REPO/$p" >/dev/null 2>&1; then
			patch -d "$tree" -p1 -s -f --no-backup-if-mismatch <"$KLP_REPO/$p" ||
				die "applying $p to $tree failed"
			patch_files "$KLP_REPO/$p" | sed 's/^/patched  /'
		else
			die "$p applies to $tree neither forward nor in reverse (not a Debian 6.1 tree, or changed by hand?)"
		fi
	done
}

# report_changes PREFIX: turn rsync --itemize-changes lines into words.
report_changes() {
	local flags name
	while read -r flags name; do
		case $flags in
		'*deleting') echo "removed  $1$name" ;;
		[\>c]f+++*) echo "added    $1$name" ;;
		[\>c]f*) echo "replaced $1$name" ;;
		esac
	done
}

# verify_files TREE: every repository file is what TREE has, and the owned
# directories of TREE hold nothing the repository lacks (one diff -rq per
# owned path: the files the build must never take from the repository,
# KLP_EXCLUDES, are left out on both sides).
verify_files() {
	local tree=$1 d f pat ex=() bad=0
	for pat in "${KLP_EXCLUDES[@]}"; do ex+=(-x "$pat"); done
	while read -r d; do
		if [[ -d $KLP_REPO/$d ]]; then
			diff -rq --no-dereference "${ex[@]}" "$KLP_REPO/$d" "$tree/$d" >&2 || bad=1
		elif [[ -e $tree/$d ]]; then
			echo "[klp] tree still has $d (the repository has none)" >&2
			bad=1
		fi
	done < <(klp_dirs)
	while read -r f; do
		if [[ -f $KLP_REPO/$f ]]; then
			cmp -s "$KLP_REPO/$f" "$tree/$f" || {
				echo "[klp] mismatch: $f" >&2
				bad=1
			}
		elif [[ -e $tree/$f ]]; then
			echo "[klp] tree still has $f (the repository has none)" >&2
			bad=1
		fi
	done < <(klp_files)
	((bad == 0)) || die "tree $tree does not match the repository"
}
