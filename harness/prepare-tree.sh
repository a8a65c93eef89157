#!/bin/bash
# Make the working kernel tree $KLP_CACHE/src-$KLP_IMPL: a hard-link copy of
# the pristine linux-source-6.1 tree with this project's files laid in.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ensure_packages
ensure_pristine
lock_src

if [[ $KLP_IMPL == ours ]]; then
	for f in kernel/livepatch/core.c kernel/livepatch/Makefile \
		kernel/livepatch/Kconfig include/linux/livepatch.h; do
		[[ -f $KLP_REPO/$f ]] ||
			die "KLP_IMPL=ours but $KLP_REPO has no $f; refusing to build (use KLP_IMPL=stock for the stock implementation)"
	done
fi
for d in samples/livepatch lib/livepatch; do
	[[ -f $KLP_REPO/$d/Makefile ]] ||
		die "$KLP_REPO has no $d/Makefile (the config builds it)"
done

if [[ ! -f $KLP_SRC/Makefile ]]; then
	info "creating $KLP_SRC (hard-link copy of $KLP_PRISTINE)"
	rm -rf "$KLP_SRC.tmp" "$KLP_SRC"
	cp -al "$KLP_PRISTINE" "$KLP_SRC.tmp"
	mv "$KLP_SRC.tmp" "$KLP_SRC"
fi

info "laying $KLP_IMPL files from $KLP_REPO into $KLP_SRC"
lay_files "$KLP_SRC"
verify_files "$KLP_SRC"
patch_tree "$KLP_SRC" "$KLP_PRISTINE"
