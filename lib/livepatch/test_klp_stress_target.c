// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_stress_target - the module that test-stress.sh patches while
 * tasks call its functions (see test_klp_stress.h for the functions).
 *
 * /proc/test_klp_stress_target/check	each read calls every function
 *		test_klp_stress_f000 .. f999 once and the pair
 *		TEST_KLP_STRESS_PAIR_CALLS times, checks every result and
 *		prints "calls <n> bad <n>" (and the first bad result)
 * /proc/test_klp_stress_target/versions	one digit per function, the
 *		version the reader runs (1 original, 2, 3; x for a bad
 *		result), then " pair <digit>"
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include "test_klp_stress.h"

#define TARGET_FUNC(a, b, c)						\
static noinline u32 test_klp_stress_f##a##b##c(void)			\
{									\
	return TEST_KLP_STRESS_VAL(1, TEST_KLP_STRESS_IDX(a, b, c));	\
}

TEST_KLP_STRESS_FOR_EACH(TARGET_FUNC)

#define TARGET_ENTRY(a, b, c)	test_klp_stress_f##a##b##c,
static u32 (*const test_klp_stress_funcs[TEST_KLP_STRESS_NFUNCS])(void) = {
	TEST_KLP_STRESS_FOR_EACH(TARGET_ENTRY)
};

static struct proc_dir_entry *test_klp_stress_dir;

/*
 * The pair.  The callee is reached through a pointer that is read at run
 * time, so that the compiler cannot specialise the caller for it.
 */
static noinline __noclone u32 test_klp_stress_callee(struct test_klp_stress_req *req)
{
	return TEST_KLP_STRESS_VAL(1, TEST_KLP_STRESS_PAIR);
}

static noinline __noclone u32 test_klp_stress_caller(struct test_klp_stress_req *req)
{
	return req->callee(req);
}

static u32 (*test_klp_stress_callee_ptr)(struct test_klp_stress_req *req);

static u32 test_klp_stress_pair(unsigned long seq)
{
	struct test_klp_stress_req req = {
		.callee = READ_ONCE(test_klp_stress_callee_ptr),
		.seq = seq,
	};

	return test_klp_stress_caller(&req);
}

/* version_char - the version digit of result R of function I, or 'x'. */
static char version_char(u32 r, u32 i)
{
	return test_klp_stress_valid(r, i) ? '0' + TEST_KLP_STRESS_VERSION(r) : 'x';
}

static void report_bad(unsigned long *bad, const char *what, u32 i, u32 r,
		       u32 *first_i, u32 *first_r)
{
	if (!(*bad)++) {
		*first_i = i;
		*first_r = r;
	}
	pr_err_ratelimited("mismatch: %s %u returned %#x\n", what, i, r);
}

static int check_show(struct seq_file *m, void *v)
{
	unsigned long calls = 0, bad = 0;
	u32 i, r, first_i = 0, first_r = 0;

	for (i = 0; i < TEST_KLP_STRESS_NFUNCS; i++) {
		r = test_klp_stress_funcs[i]();
		calls++;
		if (!test_klp_stress_valid(r, i))
			report_bad(&bad, "function", i, r, &first_i, &first_r);
		/* let the task be switched between calls */
		if (i % 100 == 99)
			cond_resched();
	}
	for (i = 0; i < TEST_KLP_STRESS_PAIR_CALLS; i++) {
		r = test_klp_stress_pair(i);
		calls++;
		if (!test_klp_stress_valid(r, TEST_KLP_STRESS_PAIR))
			report_bad(&bad, "pair call", i, r, &first_i, &first_r);
	}

	seq_printf(m, "calls %lu bad %lu\n", calls, bad);
	if (bad)
		seq_printf(m, "first bad: index %u returned %#x\n", first_i, first_r);
	return 0;
}

static int versions_show(struct seq_file *m, void *v)
{
	u32 i;

	for (i = 0; i < TEST_KLP_STRESS_NFUNCS; i++)
		seq_putc(m, version_char(test_klp_stress_funcs[i](), i));
	seq_printf(m, " pair %c\n",
		   version_char(test_klp_stress_pair(0), TEST_KLP_STRESS_PAIR));
	return 0;
}

static int __init test_klp_stress_target_init(void)
{
	WRITE_ONCE(test_klp_stress_callee_ptr, test_klp_stress_callee);

	test_klp_stress_dir = proc_mkdir(KBUILD_MODNAME, NULL);
	if (!test_klp_stress_dir)
		return -ENOMEM;
	if (!proc_create_single("check", 0444, test_klp_stress_dir, check_show) ||
	    !proc_create_single("versions", 0444, test_klp_stress_dir, versions_show)) {
		proc_remove(test_klp_stress_dir);
		return -ENOMEM;
	}
	return 0;
}

static void __exit test_klp_stress_target_exit(void)
{
	proc_remove(test_klp_stress_dir);
}

module_init(test_klp_stress_target_init);
module_exit(test_klp_stress_target_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch selftest: stress target with 1000 small functions");
