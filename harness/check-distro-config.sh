#!/bin/bash
# Compare the configuration of KCONFIG=distro with Debian's own one
# (linux-config-6.1, cloud-amd64) and fail on any difference that
# harness/configs/distro.allow does not list with its reason.
#
# Usage: check-distro-config.sh [CONFIG]
#   CONFIG  a .config to check (say $KLP_CACHE/out-ours-distro/.config
#           after a build); by default the script makes one in a scratch
#           directory as build-kernel.sh does (Debian's configuration,
#           harness/configs/distro.config merged on top, olddefconfig),
#           which takes seconds and needs no build.
# KLP_DISTRO_ALLOW names another allow-list (to show the check failing).
#
# distro.allow: one entry a line, "PATTERN REASON"; # starts a comment.
# PATTERN is an option name (CONFIG_FOO) or a glob of names (CONFIG_FOO_*),
# or, if it holds a "/", a glob of the Kconfig files that define options
# ("drivers/net/ethernet/*": every option defined under that directory).
# An option unset and an option absent are the same (n).  An entry
# without a reason, or that matches no difference, fails the check too:
# the list must say why, and must not outlive its reason.
set -euo pipefail
export KLP_KCONFIG=distro
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

allow=${KLP_DISTRO_ALLOW:-$KLP_ROOT/harness/configs/distro.allow}
[[ -f $allow ]] || die "no allow-list $allow"
ensure_packages
[[ -f $KLP_DISTRO_CONFIG ]] || die "$KLP_DISTRO_CONFIG missing (is linux-config-6.1 installed?)"
[[ -f $KLP_SRC/Makefile ]] || "$KLP_ROOT/harness/prepare-tree.sh" >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/klp-distro-config.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if (($#)); then
	config=$1
	[[ -f $config ]] || die "no $config"
else
	config=$tmp/out/.config
	klp_configure "$tmp/out" >"$tmp/configure.log" 2>&1 || {
		tail -n 20 "$tmp/configure.log" >&2
		die "configuring KCONFIG=distro failed"
	}
fi

# NAME VALUE per option; "is not set" is n.
options() {
	sed -nE 's/^(CONFIG_[A-Za-z0-9_]+)=(.*)$/\1 \2/p
		s/^# (CONFIG_[A-Za-z0-9_]+) is not set$/\1 n/p'
}
declare -A deb=() ours=() where=()
while read -r o v; do deb[$o]=$v; done < <(xz -dc "$KLP_DISTRO_CONFIG" | options)
while read -r o v; do ours[$o]=$v; done < <(options <"$config")
((${#deb[@]} > 1000 && ${#ours[@]} > 1000)) || die "too few options read (${#deb[@]}, ${#ours[@]})"

# Where each option is defined: the Kconfig files of the tree, relative,
# those of other architectures left out.
# shellcheck disable=SC2016 # $2 is awk's
while read -r o f; do
	where[CONFIG_$o]+="${where[CONFIG_$o]:+ }$f"
done < <(cd "$KLP_SRC" && find . -name 'Kconfig*' -not -path './Documentation/*' \
	\( -not -path './arch/*/*' -o -path './arch/x86/*' \) -print0 |
	xargs -0 awk '/^[ \t]*(menu)?config [A-Za-z0-9_]+[ \t]*$/ {
		f = FILENAME; sub(/^\.\//, "", f); print $2, f }')

# The allow-list: patterns and reasons, in order.
pats=() reasons=() used=()
bad=0
n=0
while IFS= read -r line; do
	n=$((n + 1))
	line=${line%%#*}
	[[ $line =~ ^[[:space:]]*$ ]] && continue
	read -r pat reason <<<"$line"
	if [[ -z $reason ]]; then
		echo "distro.allow:$n: $pat has no reason" >&2
		bad=1
	fi
	pats+=("$pat")
	reasons+=("$reason")
	used+=(0)
done <"$allow"

# allowed OPTION: the index of the first entry that matches OPTION.
allowed() {
	local i p f
	for i in "${!pats[@]}"; do
		p=${pats[i]}
		if [[ $p == */* ]]; then
			for f in ${where[$1]:-}; do
				# shellcheck disable=SC2053 # a glob, on purpose
				[[ $f == $p ]] && { echo "$i"; return 0; }
			done
		else
			# shellcheck disable=SC2053
			[[ $1 == $p ]] && { echo "$i"; return 0; }
		fi
	done
	return 1
}

diffs=0 unlisted=0
mapfile -t names < <(printf '%s\n' "${!deb[@]}" "${!ours[@]}" | LC_ALL=C sort -u)
for o in "${names[@]}"; do
	d=${deb[$o]:-n} h=${ours[$o]:-n}
	[[ $d == "$h" ]] && continue
	diffs=$((diffs + 1))
	if i=$(allowed "$o"); then
		used[i]=$((used[i] + 1))
	else
		unlisted=$((unlisted + 1))
		echo "$o: Debian $d, here $h (${where[$o]:-defined nowhere in the tree}): not in ${allow##*/}" >&2
	fi
done
for i in "${!pats[@]}"; do
	if ((used[i] == 0)); then
		echo "${allow##*/}: ${pats[i]} matches no difference (stale entry?)" >&2
		bad=1
	fi
done
if ((unlisted || bad)); then
	die "distro config: $diffs differences from Debian's, $unlisted of them not in ${allow##*/}"
fi
info "distro config: $diffs differences from Debian's cloud-amd64 configuration, each listed in ${allow##*/}:"
for i in "${!pats[@]}"; do
	printf '  %4d %s: %s\n' "${used[i]}" "${pats[i]}" "${reasons[i]}"
done
