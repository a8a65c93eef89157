#!/bin/bash
# Compare the ours/stock ratios of two make bench runs.
# Usage: compare.sh RUN_DIR_A RUN_DIR_B   (e.g. ~/.cache/klp/bench/<date>-full)
# Prints each metric's ratio in both runs and how far apart they are
# (B/A - 1), using the ratio at the reference guest speed where report.sh
# gives one (its "at 20 ns" column, marked "*" here; see "Speed" in
# report.sh), else the ratio as measured; flags differences over 20 %
# among the table's metrics (the rows above "details" in report.sh); the
# detail rows are shown, marked, and not counted.
set -euo pipefail

a=${1:?usage: compare.sh RUN_DIR_A RUN_DIR_B}
b=${2:?usage: compare.sh RUN_DIR_A RUN_DIR_B}
for d in "$a" "$b"; do
	[[ -f $d/results.csv ]] || {
		echo "[klp] error: no $d/results.csv" >&2
		exit 1
	}
done

# The label is quoted and may contain commas: take the fields around it.
fields() {
	awk 'NR == 1 {
		n = split($0, h, ",")
		for (i = 3; i <= n; i++) col[h[i]] = i - 2
		next
	}
	{
		id = $0; sub(/,.*/, "", id)
		rest = $0; sub(/^[^,]*,"[^"]*",/, "", rest)
		split(rest, f, ",")
		r = f[col["ratio"]]
		if (("ratio_ref_speed" in col) && f[col["ratio_ref_speed"]] != "")
			r = f[col["ratio_ref_speed"]] "*"
		print id, r
	}' "$1/results.csv"
}

join -a 1 -a 2 -e - -o 0,1.2,2.2 <(fields "$a" | sort) <(fields "$b" | sort) |
	awk -v a="${a##*/}" -v b="${b##*/}" '
	BEGIN {
		main = "^(call_unpatched|call_overhead|call_overhead_k1000|enable_[0-9]+|disable_[0-9]+|replace_[0-9]+|trans_[a-z0-9]+|mem_slab|mem_vmalloc)$"
		printf "%-24s %12s %12s %9s\n", "metric", "A", "B", "B/A-1"
		bad = 0; n = 0
	}
	{
		d = "n/a"; flag = ""
		ismain = $1 ~ main
		if ($2 != "-" && $3 != "-" && $2 != "" && $3 != "" && $2 + 0 != 0) {
			if (($2 ~ /\*$/) != ($3 ~ /\*$/))
				flag = "  (one run has no speed-adjusted ratio)"
			d = sprintf("%+.0f%%", ($3 / $2 - 1) * 100)
			if (ismain) n++
			if ($3 / $2 > 1.2 || $3 / $2 < 1 / 1.2) {
				if (ismain) { flag = "  <-- over 20 %"; bad++ }
				else flag = "  (detail, over 20 %)"
			}
		}
		if (!ismain && flag == "") flag = "  (detail)"
		printf "%-24s %12s %12s %9s%s\n", $1, ($2 == "" ? "-" : $2), ($3 == "" ? "-" : $3), d, flag
	}
	END {
		printf "A: %s\nB: %s\n", a, b
		printf "(* ratio at the reference guest speed, see harness/bench/report.sh)\n"
		printf "%d of %d ratios differ by more than 20 %%\n", bad, n
	}'
