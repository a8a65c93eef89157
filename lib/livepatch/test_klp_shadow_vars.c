// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_shadow_vars - exercise the shadow variable API from module init.
 *
 * Nothing is patched.  Every call's result is printed in a form that does
 * not depend on addresses: parent objects are named a, b, c, values are
 * the ints stored in the shadow data, and "same variable" / "new variable"
 * tell whether a pointer matches the one returned earlier.  Each check
 * that does not hold is also reported ("check failed: ...") and counted;
 * the last line is "result: all N checks passed" or
 * "result: F of N checks failed".
 *
 * dup=Y adds the duplicate klp_shadow_alloc() case.  Stock 6.1 WARN()s on
 * it, so the selftest only asks for it on implementations that do not.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/jiffies.h>

static bool dup;
module_param(dup, bool, 0444);
MODULE_PARM_DESC(dup, "Also try a duplicate klp_shadow_alloc() (default N)");

#define MANY_OBJS	10000

/* Parent objects.  Only their addresses matter. */
static int obj_a, obj_b, obj_c;

static unsigned int failed, checks;
static unsigned int ctor_calls, dtor_calls;
static int dtor_sum;

static void expect(bool ok, const char *what)
{
	checks++;
	if (!ok) {
		failed++;
		pr_info("check failed: %s\n", what);
	}
}

static const char *name_of(void *obj)
{
	if (obj == &obj_a)
		return "a";
	if (obj == &obj_b)
		return "b";
	if (obj == &obj_c)
		return "c";
	return "?";
}

/* ctor_data points to the int to store. */
static int copy_ctor(void *obj, void *shadow_data, void *ctor_data)
{
	int *val = shadow_data;

	ctor_calls++;
	*val = *(int *)ctor_data;
	return 0;
}

static int failing_ctor(void *obj, void *shadow_data, void *ctor_data)
{
	ctor_calls++;
	return -ENOMEM;
}

static void counting_dtor(void *obj, void *shadow_data)
{
	dtor_calls++;
	dtor_sum += *(int *)shadow_data;
}

/* Prints "dtor(b): value 21"; only used where a single call is expected. */
static void printing_dtor(void *obj, void *shadow_data)
{
	counting_dtor(obj, shadow_data);
	pr_info("  dtor(%s): value %d\n", name_of(obj), *(int *)shadow_data);
}

static void show(const char *op, void *obj, unsigned long id, int *sv,
		 int *earlier)
{
	if (!sv)
		pr_info("%s(%s, %lu): none\n", op, name_of(obj), id);
	else if (earlier)
		pr_info("%s(%s, %lu): value %d, %s variable\n", op, name_of(obj),
			id, *sv, sv == earlier ? "same" : "different");
	else
		pr_info("%s(%s, %lu): value %d\n", op, name_of(obj), id, *sv);
}

static int *sv_alloc(void *obj, unsigned long id, int val)
{
	int *sv = klp_shadow_alloc(obj, id, sizeof(int), GFP_KERNEL,
				   copy_ctor, &val);

	show("alloc", obj, id, sv, NULL);
	return sv;
}

static int *sv_get(void *obj, unsigned long id, int *earlier)
{
	int *sv = klp_shadow_get(obj, id);

	show("get", obj, id, sv, earlier);
	return sv;
}

static void test_basic(void)
{
	int *a1, *a2, *b1, *c1, *sv;
	int val;

	pr_info("== alloc and get\n");
	expect(!sv_get(&obj_a, 1, NULL), "get before alloc");

	a1 = sv_alloc(&obj_a, 1, 11);
	a2 = sv_alloc(&obj_a, 2, 12);
	b1 = sv_alloc(&obj_b, 1, 21);
	expect(a1 && a2 && b1 && a1 != a2 && a1 != b1, "three distinct allocs");

	/* Without a constructor the new variable reads zero. */
	c1 = klp_shadow_alloc(&obj_c, 1, sizeof(int), GFP_KERNEL, NULL, NULL);
	pr_info("alloc(c, 1) without ctor: %s, value %d\n",
		c1 ? "allocated" : "NULL", c1 ? *c1 : -1);
	expect(c1 && *c1 == 0, "zeroed without ctor");
	pr_info("ctor calls so far: %u\n", ctor_calls);
	expect(ctor_calls == 3, "one ctor call per alloc with ctor");

	expect(sv_get(&obj_a, 1, a1) == a1, "get(a, 1)");
	expect(sv_get(&obj_a, 2, a2) == a2, "get(a, 2)");
	expect(sv_get(&obj_b, 1, b1) == b1, "get(b, 1)");
	expect(!sv_get(&obj_b, 2, NULL), "get(b, 2) never allocated");

	pr_info("== get_or_alloc\n");
	val = 99;
	sv = klp_shadow_get_or_alloc(&obj_a, 1, sizeof(int), GFP_KERNEL,
				     copy_ctor, &val);
	show("get_or_alloc", &obj_a, 1, sv, a1);
	expect(sv == a1 && *sv == 11, "get_or_alloc returns existing");
	val = 22;
	sv = klp_shadow_get_or_alloc(&obj_b, 2, sizeof(int), GFP_KERNEL,
				     copy_ctor, &val);
	show("get_or_alloc", &obj_b, 2, sv, NULL);
	expect(sv && *sv == 22, "get_or_alloc creates missing");
	expect(sv_get(&obj_b, 2, sv) == sv, "get after get_or_alloc");
	pr_info("ctor calls so far: %u\n", ctor_calls);
	expect(ctor_calls == 4, "no ctor call for an existing variable");

	pr_info("== failing ctor\n");
	sv = klp_shadow_alloc(&obj_b, 3, sizeof(int), GFP_KERNEL,
			      failing_ctor, NULL);
	pr_info("alloc(b, 3) with failing ctor: %s\n", sv ? "allocated" : "NULL");
	expect(!sv, "alloc with failing ctor");
	expect(!sv_get(&obj_b, 3, NULL), "nothing left by failing alloc");
	sv = klp_shadow_get_or_alloc(&obj_b, 3, sizeof(int), GFP_KERNEL,
				     failing_ctor, NULL);
	pr_info("get_or_alloc(b, 3) with failing ctor: %s\n",
		sv ? "allocated" : "NULL");
	expect(!sv, "get_or_alloc with failing ctor");
	expect(!sv_get(&obj_b, 3, NULL), "nothing left by failing get_or_alloc");
	pr_info("ctor calls so far: %u\n", ctor_calls);
	expect(ctor_calls == 6, "failing ctor called once per attempt");

	pr_info("== free\n");
	pr_info("free(a, 1)\n");
	klp_shadow_free(&obj_a, 1, printing_dtor);
	expect(dtor_calls == 1 && dtor_sum == 11, "dtor of free(a, 1)");
	expect(!sv_get(&obj_a, 1, NULL), "get after free");
	expect(sv_get(&obj_a, 2, a2) == a2, "other id of the same object kept");
	expect(sv_get(&obj_b, 1, b1) == b1, "same id of another object kept");
	pr_info("free(a, 1) again\n");
	klp_shadow_free(&obj_a, 1, printing_dtor);
	pr_info("free(c, 7), never allocated\n");
	klp_shadow_free(&obj_c, 7, printing_dtor);
	pr_info("dtor calls so far: %u\n", dtor_calls);
	expect(dtor_calls == 1, "no dtor call for missing variables");

	pr_info("== free_all\n");
	dtor_calls = 0;
	dtor_sum = 0;
	klp_shadow_free_all(1, counting_dtor);
	pr_info("free_all(1): %u dtor calls, values add up to %d\n",
		dtor_calls, dtor_sum);
	expect(dtor_calls == 2 && dtor_sum == 21, "free_all(1) dtors");
	expect(!sv_get(&obj_b, 1, NULL), "free_all(1) removed b");
	expect(!sv_get(&obj_c, 1, NULL), "free_all(1) removed c");
	expect(sv_get(&obj_a, 2, a2) == a2, "free_all(1) kept id 2");
	dtor_calls = 0;
	dtor_sum = 0;
	klp_shadow_free_all(2, counting_dtor);
	pr_info("free_all(2): %u dtor calls, values add up to %d\n",
		dtor_calls, dtor_sum);
	expect(dtor_calls == 2 && dtor_sum == 34, "free_all(2) dtors");
	expect(!sv_get(&obj_a, 2, NULL), "free_all(2) removed a");
	expect(!sv_get(&obj_b, 2, NULL), "free_all(2) removed b");
	dtor_calls = 0;
	klp_shadow_free_all(1, counting_dtor);
	pr_info("free_all(1) again: %u dtor calls\n", dtor_calls);
	expect(dtor_calls == 0, "free_all on an empty id");
}

static DEFINE_SPINLOCK(test_lock);

static void test_atomic(void)
{
	unsigned long flags;
	int *sv1, *sv2;
	int val = 66;

	pr_info("== atomic context\n");
	spin_lock_irqsave(&test_lock, flags);
	sv1 = klp_shadow_alloc(&obj_c, 5, sizeof(int), GFP_ATOMIC, NULL, NULL);
	sv2 = klp_shadow_get_or_alloc(&obj_c, 6, sizeof(int), GFP_ATOMIC,
				      copy_ctor, &val);
	spin_unlock_irqrestore(&test_lock, flags);
	pr_info("GFP_ATOMIC alloc(c, 5): %s\n", sv1 ? "allocated" : "NULL");
	pr_info("GFP_ATOMIC get_or_alloc(c, 6): %s, value %d\n",
		sv2 ? "allocated" : "NULL", sv2 ? *sv2 : -1);
	expect(sv1 && sv2 && *sv2 == 66, "GFP_ATOMIC allocations");
	klp_shadow_free(&obj_c, 5, NULL);
	klp_shadow_free(&obj_c, 6, NULL);
	expect(!klp_shadow_get(&obj_c, 5) && !klp_shadow_get(&obj_c, 6),
	       "atomic variables freed");
}

static void test_many(void)
{
	unsigned int allocated = 0, found = 0, left = 0, i;
	unsigned long start, took;
	int *parents;
	int *sv;

	pr_info("== %d objects\n", MANY_OBJS);
	parents = kcalloc(MANY_OBJS, sizeof(*parents), GFP_KERNEL);
	if (!parents) {
		expect(false, "parent array");
		return;
	}

	for (i = 0; i < MANY_OBJS; i++) {
		int val = i;

		if (klp_shadow_alloc(&parents[i], 3, sizeof(int), GFP_KERNEL,
				     copy_ctor, &val))
			allocated++;
	}
	/* One parent with a second id, to check that ids are kept apart. */
	klp_shadow_alloc(&parents[0], 4, sizeof(int), GFP_KERNEL, NULL, NULL);

	start = jiffies;
	for (i = 0; i < MANY_OBJS; i++) {
		sv = klp_shadow_get(&parents[i], 3);
		if (sv && *sv == i)
			found++;
	}
	took = jiffies - start;

	dtor_calls = 0;
	klp_shadow_free_all(3, counting_dtor);
	for (i = 0; i < MANY_OBJS; i++)
		if (klp_shadow_get(&parents[i], 3))
			left++;

	pr_info("allocated %u, found %u with the right value\n",
		allocated, found);
	pr_info("free_all(3): %u dtor calls, %u left\n", dtor_calls, left);
	pr_info("lookups fast: %s\n", took < 2 * HZ ? "yes" : "no");
	expect(allocated == MANY_OBJS && found == MANY_OBJS, "many: alloc/get");
	expect(dtor_calls == MANY_OBJS && left == 0, "many: free_all");
	expect(took < 2 * HZ, "many: lookup time");

	sv = klp_shadow_get(&parents[0], 4);
	pr_info("other id on the same parent: %s\n", sv ? "kept" : "gone");
	expect(sv, "free_all(3) kept id 4");
	klp_shadow_free(&parents[0], 4, NULL);
	kfree(parents);
}

static void test_dup(void)
{
	int *first, *second;
	unsigned int calls;
	int val = 82;

	pr_info("== duplicate alloc\n");
	first = sv_alloc(&obj_a, 8, 81);
	calls = ctor_calls;
	second = klp_shadow_alloc(&obj_a, 8, sizeof(int), GFP_KERNEL,
				  copy_ctor, &val);
	pr_info("second alloc(a, 8): %s, ctor %s\n",
		second ? "allocated" : "NULL",
		ctor_calls == calls ? "not called" : "called");
	expect(first && !second, "duplicate alloc refused");
	expect(ctor_calls == calls, "no ctor call for a duplicate");
	expect(sv_get(&obj_a, 8, first) == first && *first == 81,
	       "first variable kept");
	klp_shadow_free(&obj_a, 8, NULL);
}

static int __init klpt_shadow_vars_init(void)
{
	test_basic();
	test_atomic();
	test_many();
	if (dup)
		test_dup();

	if (failed)
		pr_info("result: %u of %u checks failed\n", failed, checks);
	else
		pr_info("result: all %u checks passed\n", checks);
	return 0;
}

static void __exit klpt_shadow_vars_exit(void)
{
}

module_init(klpt_shadow_vars_init);
module_exit(klpt_shadow_vars_exit);
MODULE_DESCRIPTION("Livepatch selftest: shadow variable API");
MODULE_LICENSE("GPL");
