/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TEST_KLP_DUPS_H
#define _TEST_KLP_DUPS_H

struct seq_file;

/* Calls the copy of test_klp_dup_show() in test_klp_dups_b.c. */
void test_klp_dups_second(struct seq_file *m);

#endif
