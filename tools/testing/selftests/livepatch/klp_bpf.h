/* SPDX-License-Identifier: GPL-2.0 */
/* What klp_bpf_count.bpf.c counts, and where klp_bpf finds it. */
#ifndef KLP_BPF_H
#define KLP_BPF_H

enum {
	KLP_BPF_ENTRIES,	/* calls the fentry program saw */
	KLP_BPF_EXITS,		/* returns the fexit program saw */
	KLP_BPF_RET,		/* the last return value, sign-extended */
	KLP_BPF_NR
};

#endif
