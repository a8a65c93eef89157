#!/bin/bash
# Build $KLP_INITRAMFS: Debian's own userland (bash, coreutils, kmod, procps,
# util-linux, grep, sed, gawk, findutils, diffutils) with its shared
# libraries, the staged modules (/lib/modules), selftests (/kselftest) and
# klpctl (/usr/bin), and harness/guest-init as /init.  No downloads, no busybox.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lock_out
[[ -d $KLP_STAGE/lib/modules ]] || die "nothing staged in $KLP_STAGE; build first"

PKGS=(bash dash coreutils kmod procps util-linux mount bsdutils grep sed gawk
	findutils diffutils)

# Nothing to do when the staged files (names, sizes, times), this script,
# guest-init and the versions of the packages are those the initramfs was
# last made from.
inputs=$({
	(cd "$KLP_STAGE" && find . -printf '%p %s %T@ %m\n' | LC_ALL=C sort)
	sha256sum "$0" "$KLP_ROOT/harness/guest-init" "$KLP_ROOT/harness/lib.sh"
	dpkg-query -W "${PKGS[@]}"
} | sha256sum | cut -d' ' -f1)
if [[ -f $KLP_INITRAMFS && $(cat "$KLP_INITRAMFS.stamp" 2>/dev/null) == "$inputs" ]]; then
	info "initramfs $KLP_INITRAMFS is up to date"
	exit 0
fi
rm -f "$KLP_INITRAMFS.stamp"
root=$KLP_OUT/klp-rootfs
rm -rf "$root"
mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc,proc,sys,dev,tmp,run,root,mnt}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done
chmod 1777 "$root/tmp"

# copy_file PATH: copy PATH (a file or symlink) to the same place in $root.
copy_file() {
	local dst=$root$1
	[[ -e $dst || -L $dst ]] && return 0
	mkdir -p "$(dirname "$dst")"
	cp -a "$1" "$dst"
}

# is_elf FILE: FILE starts with the ELF magic.
is_elf() {
	[[ $(head -c 4 "$1" | od -An -c | tr -d ' ') == 177ELF ]]
}

elves=()
for p in "${PKGS[@]}"; do
	while IFS= read -r f; do
		case $f in /bin/* | /sbin/* | /usr/bin/* | /usr/sbin/*) ;; *) continue ;; esac
		[[ -f $f || -L $f ]] || continue
		copy_file "$f"
		[[ -L $f ]] && continue
		is_elf "$f" && elves+=("$f")
	done < <(dpkg -L "$p")
done
# klpctl, staged by build-kernel.sh from tools/livepatch.
if [[ -f $KLP_STAGE/usr/bin/klpctl ]]; then
	install -m 755 "$KLP_STAGE/usr/bin/klpctl" "$root/usr/bin/klpctl"
	elves+=("$root/usr/bin/klpctl")
fi
# The selftests' helper programs (klp_bpf links libelf and zlib).
if [[ -d $KLP_STAGE/kselftest ]]; then
	while IFS= read -r f; do
		is_elf "$f" && elves+=("$f")
	done < <(find "$KLP_STAGE/kselftest" -type f -perm -u+x)
fi
ln -sf gawk "$root/usr/bin/awk"
ln -sf dash "$root/usr/bin/sh"

# Shared libraries (and the dynamic loader) of every ELF file copied.
while read -r lib; do
	dst=$root$lib
	[[ -e $dst ]] && continue
	mkdir -p "$(dirname "$dst")"
	cp -L "$lib" "$dst"
done < <(ldd "${elves[@]}" 2>/dev/null | grep -oE '(=> )?/[^ ]+ \(0x' |
	sed -E 's/^=> //; s/ \(0x$//' | sort -u)

# A terminal description or two for `make vm`.
for t in l/linux v/vt100 x/xterm d/dumb; do
	for d in /lib/terminfo /usr/share/terminfo; do
		[[ -f $d/$t ]] && { mkdir -p "$root/usr/share/terminfo/${t%/*}"; cp -L "$d/$t" "$root/usr/share/terminfo/$t"; }
	done
done

cat >"$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PW
cat >"$root/etc/group" <<'GR'
root:x:0:
nogroup:x:65534:
GR
printf 'passwd: files\ngroup: files\nshadow: files\n' >"$root/etc/nsswitch.conf"
: >"$root/etc/fstab"
printf 'PS1="klp-vm:\\w# "\n' >"$root/root/.bashrc"

cp -a "$KLP_STAGE/lib/modules" "$root/usr/lib/modules"
[[ -d $KLP_STAGE/kselftest ]] && cp -a "$KLP_STAGE/kselftest" "$root/kselftest"
install -m 755 "$KLP_ROOT/harness/guest-init" "$root/init"
if ((EUID == 0)); then
	mknod -m 600 "$root/dev/console" c 5 1
	mknod -m 666 "$root/dev/null" c 1 3
fi

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) >"$KLP_INITRAMFS.tmp"
mv "$KLP_INITRAMFS.tmp" "$KLP_INITRAMFS"
echo "$inputs" >"$KLP_INITRAMFS.stamp"
info "initramfs $KLP_INITRAMFS ($(du -h "$KLP_INITRAMFS" | cut -f1))"
