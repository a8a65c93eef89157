// SPDX-License-Identifier: GPL-2.0
/*
 * BPF programs of test-bpf.sh: an fentry and an fexit program on
 * cmdline_proc_show(), a function that test_klp_livepatch live patches.
 * They count the calls they see and keep the last return value, in the
 * array map klp_counts (index KLP_BPF_ENTRIES, KLP_BPF_EXITS,
 * KLP_BPF_RET), which klp_bpf reads from its pinned copy.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "klp_bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KLP_BPF_NR);
	__type(key, __u32);
	__type(value, __u64);
} klp_counts SEC(".maps");

static void klp_count(__u32 idx)
{
	__u64 *slot = bpf_map_lookup_elem(&klp_counts, &idx);

	if (slot)
		__sync_fetch_and_add(slot, 1);
}

/* int cmdline_proc_show(struct seq_file *m, void *v): two arguments. */
SEC("fentry/cmdline_proc_show")
int klp_entry(__u64 *ctx)
{
	klp_count(KLP_BPF_ENTRIES);
	return 0;
}

/* An fexit program's context holds the arguments, then the return value. */
SEC("fexit/cmdline_proc_show")
int klp_exit(__u64 *ctx)
{
	__u32 idx = KLP_BPF_RET;
	__u64 ret = (__u64)(int)ctx[2];

	klp_count(KLP_BPF_EXITS);
	bpf_map_update_elem(&klp_counts, &idx, &ret, BPF_ANY);
	return 0;
}
