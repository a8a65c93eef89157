// SPDX-License-Identifier: GPL-2.0
/* Second source file of test_klp_dups: the other test_klp_dup_show(). */

#include <linux/seq_file.h>
#include "test_klp_dups.h"

static noinline void test_klp_dup_show(struct seq_file *m)
{
	seq_puts(m, "test_klp_dups: second copy\n");
}

void test_klp_dups_second(struct seq_file *m)
{
	test_klp_dup_show(m);
}
