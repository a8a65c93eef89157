#!/bin/bash
# make deb [KCONFIG=distro]: Debian packages of the kernel make test builds
# (Debian's 6.1 configuration by default), made by the kernel's own
# bindeb-pkg: linux-image-<release> (kernel and modules, this subsystem
# built in) and linux-headers-<release> (what out-of-tree modules build
# against), and then tested as a user would use them:
#
#  1. both packages are unpacked (dpkg-deb -x) into $KLP_OUT/klp-deb/;
#  2. samples/livepatch/livepatch-sample.c is built out of tree
#     (make -C <headers>/usr/src/linux-headers-<release> M=...) against the
#     unpacked headers alone;
#  3. a guest boots the packaged kernel (boot/vmlinuz-<release>) with an
#     initramfs whose modules are the packaged ones, loads a packaged
#     module, and live patches /proc/cmdline with the out-of-tree sample,
#     disables the patch and unloads it (the steps of make demo).
#
# The test patch modules of lib/livepatch get their livepatch relocations
# (klp_convert_modules) in the package as in the harness's own staging:
# bindeb-pkg installs them as kbuild left them, so the image package is
# unpacked, converted and packed again (dpkg-deb -R / -b, md5sums redone).
# The packages are left in $KLP_OUT/klp-deb/ and their paths printed.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
H=$KLP_ROOT/harness

KLP_PACKAGES+=(dpkg-dev fakeroot kmod libssl-dev python3)
ensure_packages
start=$SECONDS
lock_out
"$H/build-kernel.sh"

kmake() { make -C "$KLP_SRC" O="$KLP_OUT" ARCH=x86_64 CC="ccache gcc" "$@"; }
release=$(kernel_release)
dir=$KLP_OUT/klp-deb
log=$dir/bindeb-pkg.log
# The package version names the configuration, so that the packages of two
# output directories (both written to their parent, $KLP_CACHE) never share
# a file name; its part after the last '-' becomes KBUILD_BUILD_VERSION,
# the "#..." of uname -v, by which the guest shows it booted this kernel.
revision=klp${KLP_KCONFIG//[^A-Za-z0-9]/}
pkgversion=$(make -s -C "$KLP_SRC" kernelversion)-$revision
rm -rf "$dir"
mkdir -p "$dir"
rm -f "$KLP_CACHE"/linux-*_"${pkgversion}"_*.deb "$KLP_CACHE"/linux-upstream_"${pkgversion}"_*

# --- 1. bindeb-pkg ---------------------------------------------------------
pkg_start=$SECONDS
info "bindeb-pkg $release (package version $pkgversion, log: $log)"
# dpkg-buildpackage runs debian/rules, whose make inherits CC from
# MAKEFLAGS: the same compiler command as the build, so nothing but the
# version banner is compiled again.
kmake KDEB_PKGVERSION="$pkgversion" DPKG_FLAGS="-j$(nproc)" bindeb-pkg >"$log" 2>&1 || {
	tail -n 30 "$log" >&2
	die "bindeb-pkg failed (log: $log)"
}
for f in "$KLP_CACHE"/linux-*_"${pkgversion}"_* "$KLP_CACHE"/linux-upstream_"${pkgversion}"_*; do
	[[ -e $f ]] && mv "$f" "$dir/"
done
image=$dir/linux-image-${release}_${pkgversion}_amd64.deb
headers=$dir/linux-headers-${release}_${pkgversion}_amd64.deb
for f in "$image" "$headers"; do
	[[ -f $f ]] || die "bindeb-pkg made no ${f##*/} (made: $(cd "$dir" && echo ./*.deb))"
done
info "bindeb-pkg took $(elapsed "$pkg_start")"

# --- the test patch modules: livepatch relocations -------------------------
raw=$dir/raw-image
dpkg-deb -R "$image" "$raw"
sums_before=$(cat "$raw/DEBIAN/md5sums")
klp_convert_modules "$raw/lib/modules/$release"
(cd "$raw" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
	xargs -0r md5sum) >"$raw/DEBIAN/md5sums"
if [[ $sums_before != "$(cat "$raw/DEBIAN/md5sums")" ]]; then
	dpkg-deb --root-owner-group -Zxz -b "$raw" "$image" >/dev/null ||
		die "packing ${image##*/} again failed"
	info "converted the test patch modules in ${image##*/}"
fi
rm -rf "$raw"

# --- 2. unpack, build the sample out of tree against the headers ----------
dpkg-deb -x "$image" "$dir/image"
dpkg-deb -x "$headers" "$dir/headers"
vmlinuz=$dir/image/boot/vmlinuz-$release
hdrs=$dir/headers/usr/src/linux-headers-$release
[[ -f $vmlinuz ]] || die "no boot/vmlinuz-$release in ${image##*/}"
[[ -d $dir/image/lib/modules/$release/kernel ]] || die "no modules in ${image##*/}"
[[ -f $hdrs/Makefile && -f $hdrs/.config && -f $hdrs/Module.symvers ]] ||
	die "${headers##*/} has no usr/src/linux-headers-$release with Makefile, .config and Module.symvers"
[[ -f $hdrs/include/linux/livepatch.h ]] || die "${headers##*/} lacks include/linux/livepatch.h"
cmp -s "$hdrs/include/linux/livepatch.h" "$KLP_SRC/include/linux/livepatch.h" ||
	die "${headers##*/}'s include/linux/livepatch.h is not this implementation's"
depmod -b "$dir/image" "$release" || die "depmod on the packaged modules failed"

sample=$dir/sample
mkdir -p "$sample"
cp "$KLP_ROOT/samples/livepatch/livepatch-sample.c" "$sample/"
echo 'obj-m := livepatch-sample.o' >"$sample/Kbuild"
info "building samples/livepatch/livepatch-sample.c out of tree against ${headers##*/}"
make -C "$hdrs" M="$sample" modules >"$sample/build.log" 2>&1 || {
	cat "$sample/build.log" >&2
	die "the out-of-tree build of livepatch-sample.c against the packaged headers failed"
}
ko=$sample/livepatch-sample.ko
[[ -f $ko ]] || die "the out-of-tree build made no livepatch-sample.ko"
vermagic=$(modinfo -F vermagic "$ko")
[[ $vermagic == "$release "* ]] || die "livepatch-sample.ko has vermagic '$vermagic', not for $release"
info "livepatch-sample.ko: vermagic $vermagic"

# --- 3. boot the packaged kernel with the packaged modules -----------------
# The initramfs of make demo, made from the packages: the unpacked image
# package stands in for the harness's staging (modules_install) directory.
# The out-of-tree module goes in an archive of its own, appended.
stage=$dir/stage
mkdir -p "$stage/lib" "$dir/extra/klp-deb"
cp -a "$dir/image/lib/modules" "$stage/lib/modules"
KLP_STAGE_DIR=$stage KLP_INITRAMFS_FILE=$dir/initrd-base.cpio "$H/mkinitramfs.sh"
install -m 644 "$ko" "$dir/extra/klp-deb/livepatch-sample.ko"
(cd "$dir/extra" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) >"$dir/extra.cpio"
cat "$dir/initrd-base.cpio" "$dir/extra.cpio" >"$dir/initrd.cpio"
guest=$dir/klp-deb.log
info "booting the packaged kernel: $vmlinuz"
KLP_VM_KERNEL=$vmlinuz KLP_VM_INITRD=$dir/initrd.cpio KLP_VM_LOG=$guest \
	KLP_APPEND="${KLP_APPEND:+$KLP_APPEND }klp.sample=/klp-deb/livepatch-sample.ko klp.modprobe=test_klp_callbacks_mod" \
	"$H/run-vm.sh" demo >/dev/null || true
problems=()
grep -qF "KLP-DEB: kernel $release #$revision " "$guest" ||
	problems+=("the guest did not boot the packaged kernel (no 'KLP-DEB: kernel $release #$revision ...' line)")
grep -q '^KLP-DEB: loaded test_klp_callbacks_mod from the packaged modules' "$guest" ||
	problems+=("the guest did not load a packaged module")
if ((${#problems[@]})); then
	printf '[klp] guest: %s\n' "${problems[@]}"
	"$H/check-log.sh" demo "$guest" || true
	die "make deb: the packaged kernel failed its test (log: $guest)"
fi
"$H/check-log.sh" demo "$guest" || die "make deb: the packaged kernel failed its test (log: $guest)"
info "make deb took $(elapsed "$start")"
for f in "$image" "$headers"; do info "package: $f ($(du -h "$f" | cut -f1))"; done
