// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * KUnit tests of the live patching core.
 *
 * They cover what can be checked without a patch module and without patching
 * anything: the shadow-variable table, the compatibility of system states,
 * symbol resolution by name and position, the validation of patch
 * descriptions, livepatch relocations (section and symbol names, resolution,
 * applying and clearing), the function the ftrace handler picks for a task
 * (klp_pick_func()), and the per-task decisions of a transition: which tasks
 * have to switch, switching, forcing, reversal, fork, a task switching
 * itself, which code on a task's stack keeps it from switching, and when
 * the bookkeeping of redirected calls waits for the handlers.  Patches
 * are built by hand; the module they claim to belong to is a zeroed struct
 * module with a name, which is not a livepatch module, so nothing can ever
 * be enabled by these tests.  Tasks are zeroed task_structs that never run.
 *
 * harness/kunit.sh (make kunit) counts the suites, cases and parameters
 * defined here and fails when fewer ran, so that a suite compiled out does
 * not vanish silently.
 *
 *   tools/testing/kunit/kunit.py run --arch=x86_64 \
 *		--kunitconfig=kernel/livepatch
 */

#include <kunit/test.h>
#include <linux/elf.h>
#include <linux/ftrace.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#ifdef CONFIG_X86
#include <asm/livepatch.h>
#endif
#include "internal.h"

/*
 * Named like the function of livepatch_kunit_twin.c: vmlinux has two
 * klp_kunit_twin symbols.  It also serves as new_func of hand-built patches.
 */
static noinline int klp_kunit_twin(int x)
{
	return x + 1;
}

/* ---- shadow variables ---------------------------------------------------- */

/* Ids no live patch uses; every test leaves none of them behind. */
#define KLP_KUNIT_ID1		0x4b4c5001UL
#define KLP_KUNIT_ID2		0x4b4c5002UL
#define KLP_KUNIT_SIZE		32

/**
 * struct klp_kunit_ctor - what klp_kunit_ctor() was asked to do and saw
 * @ret:	what it returns
 * @value:	what it stores in the first u64 of the data when @ret is 0
 * @calls:	how often it ran
 * @obj:	its @obj argument in the last call
 * @data:	its @shadow_data argument in the last call
 * @zeroed:	whether the data was all zero when it ran
 */
struct klp_kunit_ctor {
	int ret;
	u64 value;
	int calls;
	void *obj;
	void *data;
	bool zeroed;
};

static int klp_kunit_ctor(void *obj, void *shadow_data, void *ctor_data)
{
	struct klp_kunit_ctor *c = ctor_data;

	c->calls++;
	c->obj = obj;
	c->data = shadow_data;
	c->zeroed = !memchr_inv(shadow_data, 0, KLP_KUNIT_SIZE);
	if (!c->ret)
		*(u64 *)shadow_data = c->value;
	return c->ret;
}

/* What klp_kunit_dtor() saw since the test began. */
static struct {
	int calls;
	void *obj;
	void *data;
	u64 sum;	/* of the first u64 of every variable destroyed */
} klp_kunit_dtor_seen;

static void klp_kunit_dtor(void *obj, void *shadow_data)
{
	klp_kunit_dtor_seen.calls++;
	klp_kunit_dtor_seen.obj = obj;
	klp_kunit_dtor_seen.data = shadow_data;
	klp_kunit_dtor_seen.sum += *(u64 *)shadow_data;
}

static int klp_kunit_shadow_init(struct kunit *test)
{
	memset(&klp_kunit_dtor_seen, 0, sizeof(klp_kunit_dtor_seen));
	return 0;
}

static void klp_kunit_shadow_exit(struct kunit *test)
{
	klp_shadow_free_all(KLP_KUNIT_ID1, NULL);
	klp_shadow_free_all(KLP_KUNIT_ID2, NULL);
}

/* @n distinct objects to attach variables to. */
static u64 *klp_kunit_objs(struct kunit *test, unsigned int n)
{
	u64 *objs = kunit_kcalloc(test, n, sizeof(*objs), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, objs);
	return objs;
}

static void klp_kunit_shadow_alloc_get(struct kunit *test)
{
	u64 *objs = klp_kunit_objs(test, 2);
	u64 *v, *w;

	KUNIT_EXPECT_NULL(test, klp_shadow_get(&objs[0], KLP_KUNIT_ID1));

	v = klp_shadow_alloc(&objs[0], KLP_KUNIT_ID1, KLP_KUNIT_SIZE,
			     GFP_KERNEL, NULL, NULL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(v, 0, KLP_KUNIT_SIZE));
	*v = 0x1234;

	KUNIT_EXPECT_PTR_EQ(test, klp_shadow_get(&objs[0], KLP_KUNIT_ID1),
			    (void *)v);
	KUNIT_EXPECT_NULL(test, klp_shadow_get(&objs[0], KLP_KUNIT_ID2));
	KUNIT_EXPECT_NULL(test, klp_shadow_get(&objs[1], KLP_KUNIT_ID1));

	/* Another id on the same object is another variable. */
	w = klp_shadow_alloc(&objs[0], KLP_KUNIT_ID2, KLP_KUNIT_SIZE,
			     GFP_KERNEL, NULL, NULL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	KUNIT_EXPECT_PTR_NE(test, (void *)w, (void *)v);
	KUNIT_EXPECT_PTR_EQ(test, klp_shadow_get(&objs[0], KLP_KUNIT_ID2),
			    (void *)w);
	KUNIT_EXPECT_PTR_EQ(test, klp_shadow_get(&objs[0], KLP_KUNIT_ID1),
			    (void *)v);
	KUNIT_EXPECT_EQ(test, *v, 0x1234ULL);
	KUNIT_EXPECT_EQ(test, *w, 0ULL);
}

static void klp_kunit_shadow_ctor(struct kunit *test)
{
	struct klp_kunit_ctor c = { .value = 42 };
	u64 *obj = klp_kunit_objs(test, 1);
	u64 *v;

	v = klp_shadow_alloc(obj, KLP_KUNIT_ID1, KLP_KUNIT_SIZE, GFP_KERNEL,
			     klp_kunit_ctor, &c);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_EXPECT_EQ(test, c.calls, 1);
	KUNIT_EXPECT_PTR_EQ(test, c.obj, (void *)obj);
	KUNIT_EXPECT_PTR_EQ(test, c.data, (void *)v);
	KUNIT_EXPECT_TRUE(test, c.zeroed);
	KUNIT_EXPECT_EQ(test, *v, 42ULL);
	KUNIT_EXPECT_PTR_EQ(test, klp_shadow_get(obj, KLP_KUNIT_ID1),
			    (void *)v);
}

static void klp_kunit_shadow_duplicate(struct kunit *test)
{
	struct klp_kunit_ctor c1 = { .value = 42 }, c2 = { .value = 7 };
	u64 *obj = klp_kunit_objs(test, 1);
	u64 *v;

	v = klp_shadow_alloc(obj, KLP_KUNIT_ID1, KLP_KUNIT_SIZE, GFP_KERNEL,
			     klp_kunit_ctor, &c1);
	KUNIT_ASSERT_NOT_NULL(test, v);

	/* A second klp_shadow_alloc() fails and leaves the first alone. */
	KUNIT_EXPECT_NULL(test, klp_shadow_alloc(obj, KLP_KUNIT_ID1,
						 KLP_KUNIT_SIZE, GFP_KERNEL,
						 klp_kunit_ctor, &c2));
	KUNIT_EXPECT_EQ(test, c2.calls, 0);
	KUNIT_EXPECT_PTR_EQ(test, klp_shadow_get(obj, KLP_KUNIT_ID1),
			    (void *)v);
	KUNIT_EXPECT_EQ(test, *v, 42ULL);
}

static void klp_kunit_shadow_get_or_alloc(struct kunit *test)
{
	struct klp_kunit_ctor c1 = { .value = 5 }, c2 = { .value = 6 };
	u64 *obj = klp_kunit_objs(test, 1);
	u64 *v, *w;

	v = klp_shadow_get_or_alloc(obj, KLP_KUNIT_ID1, KLP_KUNIT_SIZE,
				    GFP_KERNEL, klp_kunit_ctor, &c1);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_EXPECT_EQ(test, c1.calls, 1);
	KUNIT_EXPECT_EQ(test, *v, 5ULL);

	/* The existing variable is returned; no constructor runs. */
	w = klp_shadow_get_or_alloc(obj, KLP_KUNIT_ID1, KLP_KUNIT_SIZE,
				    GFP_KERNEL, klp_kunit_ctor, &c2);
	KUNIT_EXPECT_PTR_EQ(test, (void *)w, (void *)v);
	KUNIT_EXPECT_EQ(test, c2.calls, 0);
	KUNIT_EXPECT_EQ(test, *v, 5ULL);

	/* GFP_ATOMIC with preemption disabled, as the API allows. */
	preempt_disable();
	w = klp_shadow_get_or_alloc(obj, KLP_KUNIT_ID2, KLP_KUNIT_SIZE,
				    GFP_ATOMIC, klp_kunit_ctor, &c2);
	preempt_enable();
	KUNIT_ASSERT_NOT_NULL(test, w);
	KUNIT_EXPECT_EQ(test, c2.calls, 1);
	KUNIT_EXPECT_EQ(test, *w, 6ULL);
}

static void klp_kunit_shadow_ctor_fails(struct kunit *test)
{
	struct klp_kunit_ctor bad = { .ret = -ENOSPC }, good = { .value = 9 };
	u64 *obj = klp_kunit_objs(test, 1);
	u64 *v;

	KUNIT_EXPECT_NULL(test, klp_shadow_alloc(obj, KLP_KUNIT_ID1,
						 KLP_KUNIT_SIZE, GFP_KERNEL,
						 klp_kunit_ctor, &bad));
	KUNIT_EXPECT_EQ(test, bad.calls, 1);
	KUNIT_EXPECT_NULL(test, klp_shadow_get(obj, KLP_KUNIT_ID1));

	KUNIT_EXPECT_NULL(test, klp_shadow_get_or_alloc(obj, KLP_KUNIT_ID1,
							KLP_KUNIT_SIZE,
							GFP_KERNEL,
							klp_kunit_ctor, &bad));
	KUNIT_EXPECT_EQ(test, bad.calls, 2);
	KUNIT_EXPECT_NULL(test, klp_shadow_get(obj, KLP_KUNIT_ID1));

	/* Nothing was left behind: a new allocation succeeds. */
	v = klp_shadow_alloc(obj, KLP_KUNIT_ID1, KLP_KUNIT_SIZE, GFP_KERNEL,
			     klp_kunit_ctor, &good);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_EXPECT_EQ(test, *v, 9ULL);
}

static void klp_kunit_shadow_free(struct kunit *test)
{
	struct klp_kunit_ctor c1 = { .value = 11 }, c2 = { .value = 12 };
	u64 *obj = klp_kunit_objs(test, 1);
	u64 *v, *w;

	v = klp_shadow_alloc(obj, KLP_KUNIT_ID1, KLP_KUNIT_SIZE, GFP_KERNEL,
			     klp_kunit_ctor, &c1);
	w = klp_shadow_alloc(obj, KLP_KUNIT_ID2, KLP_KUNIT_SIZE, GFP_KERNEL,
			     klp_kunit_ctor, &c2);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_ASSERT_NOT_NULL(test, w);

	klp_shadow_free(obj, KLP_KUNIT_ID1, klp_kunit_dtor);
	KUNIT_EXPECT_EQ(test, klp_kunit_dtor_seen.calls, 1);
	KUNIT_EXPECT_PTR_EQ(test, klp_kunit_dtor_seen.obj, (void *)obj);
	KUNIT_EXPECT_PTR_EQ(test, klp_kunit_dtor_seen.data, (void *)v);
	KUNIT_EXPECT_EQ(test, klp_kunit_dtor_seen.sum, 11ULL);
	KUNIT_EXPECT_NULL(test, klp_shadow_get(obj, KLP_KUNIT_ID1));
	KUNIT_EXPECT_PTR_EQ(test, klp_shadow_get(obj, KLP_KUNIT_ID2),
			    (void *)w);

	/* Freeing what does not exist does nothing. */
	klp_shadow_free(obj, KLP_KUNIT_ID1, klp_kunit_dtor);
	KUNIT_EXPECT_EQ(test, klp_kunit_dtor_seen.calls, 1);

	/* No destructor is fine too. */
	klp_shadow_free(obj, KLP_KUNIT_ID2, NULL);
	KUNIT_EXPECT_EQ(test, klp_kunit_dtor_seen.calls, 1);
	KUNIT_EXPECT_NULL(test, klp_shadow_get(obj, KLP_KUNIT_ID2));
}

#define KLP_KUNIT_NR_OBJS	100

static void klp_kunit_shadow_free_all(struct kunit *test)
{
	u64 *objs = klp_kunit_objs(test, KLP_KUNIT_NR_OBJS);
	struct klp_kunit_ctor c = { };
	int i, found = 0;
	u64 *other, **v;

	v = kunit_kcalloc(test, KLP_KUNIT_NR_OBJS, sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);

	/* ID1 on every object, with the values 1..100. */
	for (i = 0; i < KLP_KUNIT_NR_OBJS; i++) {
		c.value = i + 1;
		v[i] = klp_shadow_alloc(&objs[i], KLP_KUNIT_ID1,
					KLP_KUNIT_SIZE, GFP_KERNEL,
					klp_kunit_ctor, &c);
		KUNIT_ASSERT_NOT_NULL(test, v[i]);
	}
	/* ID2 on the first object only. */
	c.value = 1000;
	other = klp_shadow_alloc(&objs[0], KLP_KUNIT_ID2, KLP_KUNIT_SIZE,
				 GFP_KERNEL, klp_kunit_ctor, &c);
	KUNIT_ASSERT_NOT_NULL(test, other);

	for (i = 0; i < KLP_KUNIT_NR_OBJS; i++)
		found += klp_shadow_get(&objs[i], KLP_KUNIT_ID1) == v[i] &&
			 *v[i] == i + 1;
	KUNIT_EXPECT_EQ(test, found, KLP_KUNIT_NR_OBJS);

	klp_shadow_free_all(KLP_KUNIT_ID1, klp_kunit_dtor);
	KUNIT_EXPECT_EQ(test, klp_kunit_dtor_seen.calls, KLP_KUNIT_NR_OBJS);
	KUNIT_EXPECT_EQ(test, klp_kunit_dtor_seen.sum, 5050ULL);
	for (i = 0, found = 0; i < KLP_KUNIT_NR_OBJS; i++)
		found += !!klp_shadow_get(&objs[i], KLP_KUNIT_ID1);
	KUNIT_EXPECT_EQ(test, found, 0);
	KUNIT_EXPECT_PTR_EQ(test, klp_shadow_get(&objs[0], KLP_KUNIT_ID2),
			    (void *)other);

	klp_shadow_free_all(KLP_KUNIT_ID2, klp_kunit_dtor);
	KUNIT_EXPECT_EQ(test, klp_kunit_dtor_seen.calls,
			KLP_KUNIT_NR_OBJS + 1);
	KUNIT_EXPECT_EQ(test, klp_kunit_dtor_seen.sum, 6050ULL);
	KUNIT_EXPECT_NULL(test, klp_shadow_get(&objs[0], KLP_KUNIT_ID2));

	klp_shadow_free_all(KLP_KUNIT_ID2, klp_kunit_dtor);
	KUNIT_EXPECT_EQ(test, klp_kunit_dtor_seen.calls,
			KLP_KUNIT_NR_OBJS + 1);
}

static struct kunit_case klp_kunit_shadow_cases[] = {
	KUNIT_CASE(klp_kunit_shadow_alloc_get),
	KUNIT_CASE(klp_kunit_shadow_ctor),
	KUNIT_CASE(klp_kunit_shadow_duplicate),
	KUNIT_CASE(klp_kunit_shadow_get_or_alloc),
	KUNIT_CASE(klp_kunit_shadow_ctor_fails),
	KUNIT_CASE(klp_kunit_shadow_free),
	KUNIT_CASE(klp_kunit_shadow_free_all),
	{ }
};

static struct kunit_suite klp_kunit_shadow_suite = {
	.name = "livepatch_shadow",
	.init = klp_kunit_shadow_init,
	.exit = klp_kunit_shadow_exit,
	.test_cases = klp_kunit_shadow_cases,
};

/* ---- system states ------------------------------------------------------- */

/*
 * The state tests put hand-built patches on klp_patch_list for the duration
 * of one call, under klp_mutex; they need the list to be empty otherwise.
 */
static int klp_kunit_state_init(struct kunit *test)
{
	bool busy;

	mutex_lock(&klp_mutex);
	busy = !list_empty(&klp_patch_list) || klp_trans_patch;
	mutex_unlock(&klp_mutex);
	if (busy)
		kunit_skip(test, "live patches are enabled");
	return 0;
}

/*
 * Would @patch be accepted with the patches @old (oldest first, NULL
 * terminated) enabled?
 */
static bool klp_kunit_compatible(struct klp_patch *patch,
				 struct klp_patch **old)
{
	struct klp_patch **p;
	bool ret;

	mutex_lock(&klp_mutex);
	for (p = old; *p; p++)
		list_add_tail(&(*p)->list, &klp_patch_list);
	ret = klp_states_compatible(patch);
	for (p = old; *p; p++)
		list_del(&(*p)->list);
	mutex_unlock(&klp_mutex);
	return ret;
}

static void klp_kunit_state_get(struct kunit *test)
{
	struct klp_state states[] = {
		{ .id = 1, .version = 1 },
		{ .id = 5, .version = 3 },
		{ }
	};
	struct klp_patch patch = { .states = states }, none = { };

	KUNIT_EXPECT_PTR_EQ(test, klp_get_state(&patch, 1), &states[0]);
	KUNIT_EXPECT_PTR_EQ(test, klp_get_state(&patch, 5), &states[1]);
	KUNIT_EXPECT_NULL(test, klp_get_state(&patch, 2));
	KUNIT_EXPECT_NULL(test, klp_get_state(&none, 1));
}

static void klp_kunit_state_nothing_enabled(struct kunit *test)
{
	struct klp_state states[] = { { .id = 1, .version = 1 }, { } };
	struct klp_patch plain = { .states = states };
	struct klp_patch replace = { .states = states, .replace = true };
	struct klp_patch bare = { .replace = true };
	struct klp_patch *old[] = { NULL };

	KUNIT_EXPECT_TRUE(test, klp_kunit_compatible(&plain, old));
	KUNIT_EXPECT_TRUE(test, klp_kunit_compatible(&replace, old));
	KUNIT_EXPECT_TRUE(test, klp_kunit_compatible(&bare, old));
}

static void klp_kunit_state_version(struct kunit *test)
{
	struct klp_state old_states[] = { { .id = 1, .version = 2 }, { } };
	struct klp_state v1[] = { { .id = 1, .version = 1 }, { } };
	struct klp_state v2[] = { { .id = 1, .version = 2 }, { } };
	struct klp_state v3[] = { { .id = 1, .version = 3 }, { } };
	struct klp_state other[] = { { .id = 2, .version = 9 }, { } };
	struct klp_patch enabled = { .states = old_states };
	struct klp_patch *old[] = { &enabled, NULL };
	struct klp_patch patch = { };

	/* A lower version is refused, the same or a higher one accepted. */
	patch.states = v1;
	KUNIT_EXPECT_FALSE(test, klp_kunit_compatible(&patch, old));
	patch.states = v2;
	KUNIT_EXPECT_TRUE(test, klp_kunit_compatible(&patch, old));
	patch.states = v3;
	KUNIT_EXPECT_TRUE(test, klp_kunit_compatible(&patch, old));

	/* Not touching the state is fine unless the patch replaces. */
	patch.states = NULL;
	KUNIT_EXPECT_TRUE(test, klp_kunit_compatible(&patch, old));
	patch.states = other;
	KUNIT_EXPECT_TRUE(test, klp_kunit_compatible(&patch, old));

	patch.replace = true;
	patch.states = NULL;
	KUNIT_EXPECT_FALSE(test, klp_kunit_compatible(&patch, old));
	patch.states = other;
	KUNIT_EXPECT_FALSE(test, klp_kunit_compatible(&patch, old));
	patch.states = v1;
	KUNIT_EXPECT_FALSE(test, klp_kunit_compatible(&patch, old));
	patch.states = v2;
	KUNIT_EXPECT_TRUE(test, klp_kunit_compatible(&patch, old));
}

/*
 * A zeroed patch that lives as long as the test: struct klp_patch is too
 * big to have several in one stack frame of a KASAN kernel, whose redzones
 * around each take the frame past CONFIG_FRAME_WARN.
 */
static struct klp_patch *klp_kunit_new_patch(struct kunit *test,
					     struct klp_state *states)
{
	struct klp_patch *patch;

	patch = kunit_kzalloc(test, sizeof(*patch), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, patch);
	patch->states = states;
	return patch;
}

static void klp_kunit_state_several(struct kunit *test)
{
	struct klp_state s1[] = { { .id = 1, .version = 1 }, { } };
	struct klp_state s2[] = { { .id = 2, .version = 4 }, { } };
	struct klp_state both[] = {
		{ .id = 2, .version = 4 },
		{ .id = 1, .version = 1 },
		{ }
	};
	struct klp_state low2[] = {
		{ .id = 1, .version = 1 },
		{ .id = 2, .version = 3 },
		{ }
	};
	struct klp_patch *old[] = {
		klp_kunit_new_patch(test, s1),
		klp_kunit_new_patch(test, s2),
		klp_kunit_new_patch(test, NULL),
		NULL
	};
	struct klp_patch *patch = klp_kunit_new_patch(test, NULL);

	/* A replacing patch must carry on the states of every patch. */
	patch->replace = true;
	patch->states = both;
	KUNIT_EXPECT_TRUE(test, klp_kunit_compatible(patch, old));
	patch->states = s1;
	KUNIT_EXPECT_FALSE(test, klp_kunit_compatible(patch, old));
	patch->states = s2;
	KUNIT_EXPECT_FALSE(test, klp_kunit_compatible(patch, old));
	patch->states = low2;
	KUNIT_EXPECT_FALSE(test, klp_kunit_compatible(patch, old));

	patch->replace = false;
	patch->states = s2;
	KUNIT_EXPECT_TRUE(test, klp_kunit_compatible(patch, old));
	patch->states = low2;
	KUNIT_EXPECT_FALSE(test, klp_kunit_compatible(patch, old));
}

static void klp_kunit_state_prev(struct kunit *test)
{
	struct klp_state s1[] = { { .id = 1, .version = 1 }, { } };
	struct klp_state s2[] = {
		{ .id = 1, .version = 3 },
		{ .id = 2, .version = 1 },
		{ }
	};
	struct klp_state s3[] = { { .id = 1, .version = 5 }, { } };
	struct klp_patch *p1 = klp_kunit_new_patch(test, s1);
	struct klp_patch *p2 = klp_kunit_new_patch(test, s2);
	struct klp_patch *trans = klp_kunit_new_patch(test, s3);
	struct klp_state *got[4];

	mutex_lock(&klp_mutex);
	list_add_tail(&p1->list, &klp_patch_list);
	list_add_tail(&p2->list, &klp_patch_list);
	list_add_tail(&trans->list, &klp_patch_list);
	klp_trans_patch = trans;
	got[0] = klp_get_prev_state(1);
	got[1] = klp_get_prev_state(2);
	got[2] = klp_get_prev_state(3);
	/* Only the order of the list counts: p2 before p1 now. */
	list_move(&p2->list, &klp_patch_list);
	got[3] = klp_get_prev_state(1);
	klp_trans_patch = NULL;
	list_del(&p1->list);
	list_del(&p2->list);
	list_del(&trans->list);
	mutex_unlock(&klp_mutex);

	KUNIT_EXPECT_PTR_EQ(test, got[0], &s2[0]);
	KUNIT_EXPECT_PTR_EQ(test, got[1], &s2[1]);
	KUNIT_EXPECT_NULL(test, got[2]);
	KUNIT_EXPECT_PTR_EQ(test, got[3], &s1[0]);
}

static struct kunit_case klp_kunit_state_cases[] = {
	KUNIT_CASE(klp_kunit_state_get),
	KUNIT_CASE(klp_kunit_state_nothing_enabled),
	KUNIT_CASE(klp_kunit_state_version),
	KUNIT_CASE(klp_kunit_state_several),
	KUNIT_CASE(klp_kunit_state_prev),
	{ }
};

static struct kunit_suite klp_kunit_state_suite = {
	.name = "livepatch_state",
	.init = klp_kunit_state_init,
	.test_cases = klp_kunit_state_cases,
};

/* ---- symbol resolution --------------------------------------------------- */

/* The two klp_kunit_twin functions, in kallsyms (address) order. */
static void klp_kunit_twins(struct kunit *test, unsigned long *lo,
			    unsigned long *hi)
{
	unsigned long a = (unsigned long)klp_kunit_twin;
	unsigned long b = (unsigned long)klp_kunit_twin_b;

	/* They are two different functions. */
	KUNIT_ASSERT_EQ(test, klp_kunit_twin(1), 2);
	KUNIT_ASSERT_EQ(test, klp_kunit_twin_b(1), 3);
	KUNIT_ASSERT_NE(test, a, b);
	*lo = min(a, b);
	*hi = max(a, b);
}

static void klp_kunit_lookup_unique(struct kunit *test)
{
	unsigned long want = (unsigned long)klp_enable_patch, addr;

	addr = 1;
	KUNIT_EXPECT_EQ(test, klp_lookup_symbol(NULL, "klp_enable_patch", 0,
						&addr), 0);
	KUNIT_EXPECT_EQ(test, addr, want);

	addr = 1;
	KUNIT_EXPECT_EQ(test, klp_lookup_symbol("vmlinux", "klp_enable_patch",
						0, &addr), 0);
	KUNIT_EXPECT_EQ(test, addr, want);

	/* Position 1 of a unique name is that name. */
	addr = 1;
	KUNIT_EXPECT_EQ(test, klp_lookup_symbol(NULL, "klp_enable_patch", 1,
						&addr), 0);
	KUNIT_EXPECT_EQ(test, addr, want);

	/* Data symbols resolve too (CONFIG_KALLSYMS_ALL). */
	addr = 1;
	KUNIT_EXPECT_EQ(test, klp_lookup_symbol(NULL, "klp_patch_list", 0,
						&addr), 0);
	KUNIT_EXPECT_EQ(test, addr, (unsigned long)&klp_patch_list);
}

static void klp_kunit_lookup_missing(struct kunit *test)
{
	unsigned long addr;

	addr = 1;
	KUNIT_EXPECT_EQ(test, klp_lookup_symbol(NULL, "klp_kunit_no_such_symbol",
						0, &addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, addr, 0UL);

	/* A unique name has no second position. */
	addr = 1;
	KUNIT_EXPECT_EQ(test, klp_lookup_symbol(NULL, "klp_enable_patch", 2,
						&addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, addr, 0UL);

	/* A module that is not loaded: no fallback to vmlinux. */
	addr = 1;
	KUNIT_EXPECT_EQ(test, klp_lookup_symbol("klp_kunit_absent",
						"klp_enable_patch", 0, &addr),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, addr, 0UL);
}

static void klp_kunit_lookup_sympos(struct kunit *test)
{
	unsigned long lo, hi, addr;

	klp_kunit_twins(test, &lo, &hi);

	/* Without a position the name is ambiguous. */
	addr = 1;
	KUNIT_EXPECT_EQ(test, klp_lookup_symbol(NULL, "klp_kunit_twin", 0,
						&addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, addr, 0UL);

	addr = 1;
	KUNIT_EXPECT_EQ(test, klp_lookup_symbol(NULL, "klp_kunit_twin", 1,
						&addr), 0);
	KUNIT_EXPECT_EQ(test, addr, lo);

	addr = 1;
	KUNIT_EXPECT_EQ(test, klp_lookup_symbol("vmlinux", "klp_kunit_twin", 2,
						&addr), 0);
	KUNIT_EXPECT_EQ(test, addr, hi);

	/* Beyond the number of occurrences. */
	addr = 1;
	KUNIT_EXPECT_EQ(test, klp_lookup_symbol(NULL, "klp_kunit_twin", 3,
						&addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, addr, 0UL);
}

static struct kunit_case klp_kunit_lookup_cases[] = {
	KUNIT_CASE(klp_kunit_lookup_unique),
	KUNIT_CASE(klp_kunit_lookup_missing),
	KUNIT_CASE(klp_kunit_lookup_sympos),
	{ }
};

static struct kunit_suite klp_kunit_lookup_suite = {
	.name = "livepatch_lookup",
	.test_cases = klp_kunit_lookup_cases,
};

/* ---- validation of patch descriptions ------------------------------------ */

/**
 * struct klp_kunit_def - a patch description to break in one place
 * @patch:	the patch
 * @objs:	vmlinux, the module "klp_kunit_target", terminator
 * @vmlinux_funcs: klp_kunit_twin at positions 1 and 2, terminator
 * @mod_funcs:	one function, terminator
 * @mod:	the (fake) module the patch belongs to
 * @name:	room for a name longer than any valid one
 */
struct klp_kunit_def {
	struct klp_patch patch;
	struct klp_object objs[3];
	struct klp_func vmlinux_funcs[3];
	struct klp_func mod_funcs[2];
	struct module mod;
	char name[KSYM_NAME_LEN + 1];
};

static struct klp_kunit_def *klp_kunit_def(struct kunit *test)
{
	struct klp_kunit_def *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, d);
	strscpy(d->mod.name, "klp_kunit_patch", sizeof(d->mod.name));
	d->patch.mod = &d->mod;
	d->patch.objs = d->objs;
	d->objs[0].funcs = d->vmlinux_funcs;
	d->objs[1].name = "klp_kunit_target";
	d->objs[1].funcs = d->mod_funcs;
	d->vmlinux_funcs[0].old_name = "klp_kunit_twin";
	d->vmlinux_funcs[0].old_sympos = 1;
	d->vmlinux_funcs[0].new_func = klp_kunit_twin;
	d->vmlinux_funcs[1].old_name = "klp_kunit_twin";
	d->vmlinux_funcs[1].old_sympos = 2;
	d->vmlinux_funcs[1].new_func = klp_kunit_twin;
	d->mod_funcs[0].old_name = "klp_kunit_target_fn";
	d->mod_funcs[0].new_func = klp_kunit_twin;
	return d;
}

/* @d->name as a string of @len letters. */
static const char *klp_kunit_long_name(struct klp_kunit_def *d, size_t len)
{
	memset(d->name, 'a', len);
	d->name[len] = '\0';
	return d->name;
}

static void klp_kunit_no_change(struct klp_kunit_def *d)
{
}

static void klp_kunit_no_objs(struct klp_kunit_def *d)
{
	d->patch.objs = NULL;
}

static void klp_kunit_no_mod(struct klp_kunit_def *d)
{
	d->patch.mod = NULL;
}

static void klp_kunit_no_funcs(struct klp_kunit_def *d)
{
	d->objs[1].funcs = NULL;
}

static void klp_kunit_no_old_name(struct klp_kunit_def *d)
{
	d->vmlinux_funcs[1].old_name = NULL;
}

static void klp_kunit_no_new_func(struct klp_kunit_def *d)
{
	d->mod_funcs[0].new_func = NULL;
}

static void klp_kunit_func_name_too_long(struct klp_kunit_def *d)
{
	d->mod_funcs[0].old_name = klp_kunit_long_name(d, KSYM_NAME_LEN);
}

static void klp_kunit_func_name_longest(struct klp_kunit_def *d)
{
	d->mod_funcs[0].old_name = klp_kunit_long_name(d, KSYM_NAME_LEN - 1);
}

static void klp_kunit_obj_name_too_long(struct klp_kunit_def *d)
{
	d->objs[1].name = klp_kunit_long_name(d, MODULE_NAME_LEN);
}

static void klp_kunit_obj_name_longest(struct klp_kunit_def *d)
{
	d->objs[1].name = klp_kunit_long_name(d, MODULE_NAME_LEN - 1);
}

static void klp_kunit_func_twice(struct klp_kunit_def *d)
{
	d->vmlinux_funcs[1].old_sympos = 1;
}

static void klp_kunit_func_twice_sympos_0_1(struct klp_kunit_def *d)
{
	d->vmlinux_funcs[0].old_sympos = 0;
	d->vmlinux_funcs[1].old_sympos = 1;
}

static void klp_kunit_func_in_two_objs(struct klp_kunit_def *d)
{
	d->mod_funcs[0].old_name = "klp_kunit_twin";
	d->mod_funcs[0].old_sympos = 1;
}

static void klp_kunit_vmlinux_twice(struct klp_kunit_def *d)
{
	d->objs[1].name = NULL;
}

static void klp_kunit_module_twice(struct klp_kunit_def *d)
{
	d->objs[0].name = "klp_kunit_target";
}

/**
 * struct klp_kunit_check_case - one way to write a patch description
 * @desc:	what is wrong with it
 * @change:	makes the valid description of klp_kunit_def() so
 * @err:	what klp_check_patch() returns for it
 */
struct klp_kunit_check_case {
	const char *desc;
	void (*change)(struct klp_kunit_def *d);
	int err;
};

static const struct klp_kunit_check_case klp_kunit_check_cases[] = {
	{ "valid", klp_kunit_no_change, 0 },
	{ "patch without objs", klp_kunit_no_objs, -EINVAL },
	{ "patch without mod", klp_kunit_no_mod, -EINVAL },
	{ "object without funcs", klp_kunit_no_funcs, -EINVAL },
	{ "function without old_name", klp_kunit_no_old_name, -EINVAL },
	{ "function without new_func", klp_kunit_no_new_func, -EINVAL },
	{ "old_name of KSYM_NAME_LEN chars", klp_kunit_func_name_too_long,
	  -EINVAL },
	{ "old_name of KSYM_NAME_LEN-1 chars", klp_kunit_func_name_longest,
	  0 },
	{ "object name of MODULE_NAME_LEN chars", klp_kunit_obj_name_too_long,
	  -EINVAL },
	{ "object name of MODULE_NAME_LEN-1 chars", klp_kunit_obj_name_longest,
	  0 },
	{ "function listed twice", klp_kunit_func_twice, -EEXIST },
	{ "function at sympos 0 and 1", klp_kunit_func_twice_sympos_0_1,
	  -EEXIST },
	{ "same function in two objects", klp_kunit_func_in_two_objs, 0 },
	{ "vmlinux listed twice", klp_kunit_vmlinux_twice, -EEXIST },
	{ "module listed twice", klp_kunit_module_twice, -EEXIST },
};

static void klp_kunit_check_desc(const struct klp_kunit_check_case *c,
				 char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(klp_kunit_check, klp_kunit_check_cases,
		  klp_kunit_check_desc);

static void klp_kunit_check_patch(struct kunit *test)
{
	const struct klp_kunit_check_case *c = test->param_value;
	struct klp_kunit_def *d = klp_kunit_def(test);

	c->change(d);
	KUNIT_EXPECT_EQ(test, klp_check_patch(&d->patch), c->err);
}

/*
 * An object with more functions than KLP_DUP_SORT_MIN (32) in core.c is
 * checked for a function listed twice through a sorted copy of its list;
 * the answers must be those of the pairwise check of small objects: a
 * name twice at the same position (0 and 1 are the same) is refused, at
 * different positions it is not, wherever the two entries stand.
 */
#define KLP_KUNIT_MANY	100

static void klp_kunit_many_funcs(struct kunit *test)
{
	struct klp_kunit_def *d = klp_kunit_def(test);
	struct klp_func *funcs;
	char *names;
	unsigned int i;

	funcs = kunit_kcalloc(test, KLP_KUNIT_MANY + 1, sizeof(*funcs),
			      GFP_KERNEL);
	names = kunit_kcalloc(test, KLP_KUNIT_MANY, 16, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, funcs);
	KUNIT_ASSERT_NOT_NULL(test, names);
	for (i = 0; i < KLP_KUNIT_MANY; i++) {
		/* Descending names: the sort has work to do. */
		snprintf(names + 16 * i, 16, "f%03u", KLP_KUNIT_MANY - i);
		funcs[i].old_name = names + 16 * i;
		funcs[i].new_func = klp_kunit_twin;
	}
	d->objs[0].funcs = funcs;
	KUNIT_EXPECT_EQ(test, klp_check_patch(&d->patch), 0);

	funcs[KLP_KUNIT_MANY - 1].old_name = funcs[0].old_name;
	funcs[0].old_sympos = 1;
	KUNIT_EXPECT_EQ(test, klp_check_patch(&d->patch), -EEXIST);

	funcs[0].old_sympos = 2;
	KUNIT_EXPECT_EQ(test, klp_check_patch(&d->patch), 0);

	funcs[KLP_KUNIT_MANY / 2].old_name = funcs[0].old_name;
	funcs[KLP_KUNIT_MANY / 2].old_sympos = 2;
	KUNIT_EXPECT_EQ(test, klp_check_patch(&d->patch), -EEXIST);
}

static void klp_kunit_enable_refused(struct kunit *test)
{
	struct klp_kunit_def *d = klp_kunit_def(test);
	bool listed;

	KUNIT_EXPECT_EQ(test, klp_enable_patch(NULL), -EINVAL);

	/* Malformed: refused before anything else is looked at. */
	klp_kunit_func_twice(d);
	KUNIT_EXPECT_EQ(test, klp_enable_patch(&d->patch), -EEXIST);

	/* Well formed, but the module is not a livepatch module. */
	d = klp_kunit_def(test);
	KUNIT_EXPECT_FALSE(test, is_livepatch_module(&d->mod));
	KUNIT_EXPECT_EQ(test, klp_enable_patch(&d->patch), -EINVAL);

	KUNIT_EXPECT_FALSE(test, d->patch.enabled);
	mutex_lock(&klp_mutex);
	listed = klp_trans_patch == &d->patch;
	listed |= !list_empty(&klp_patch_list) &&
		  list_last_entry(&klp_patch_list, struct klp_patch, list) ==
		  &d->patch;
	mutex_unlock(&klp_mutex);
	KUNIT_EXPECT_FALSE(test, listed);
}

static struct kunit_case klp_kunit_check_test_cases[] = {
	KUNIT_CASE_PARAM(klp_kunit_check_patch, klp_kunit_check_gen_params),
	KUNIT_CASE(klp_kunit_many_funcs),
	KUNIT_CASE(klp_kunit_enable_refused),
	{ }
};

static struct kunit_suite klp_kunit_check_suite = {
	.name = "livepatch_check",
	.test_cases = klp_kunit_check_test_cases,
};

kunit_test_suites(&klp_kunit_shadow_suite, &klp_kunit_state_suite,
		  &klp_kunit_lookup_suite, &klp_kunit_check_suite);

/* ---- the ftrace handler's choice of function ----------------------------- */

#define KLP_KUNIT_STACK_MAX	3
#define KLP_KUNIT_ORIGINAL	-1	/* klp_pick_func() returns NULL */

/**
 * struct klp_kunit_pick_case - a stack of replacements and a task calling it
 * @desc:	the situation
 * @depth:	functions on the stack, at most KLP_KUNIT_STACK_MAX
 * @nop:	which of them are nops (bit 0: the top of the stack)
 * @transition:	which of them have func->transition set (bit 0: the top)
 * @state:	the calling task's patch_state
 * @expect:	position on the stack (0: the top) of the function that
 *		klp_pick_func() picks, or KLP_KUNIT_ORIGINAL
 */
struct klp_kunit_pick_case {
	const char *desc;
	int depth;
	unsigned int nop;
	unsigned int transition;
	int state;
	int expect;
};

static const struct klp_kunit_pick_case klp_kunit_pick_cases[] = {
	{ "empty stack: the original", 0, 0, 0, KLP_UNDEFINED,
	  KLP_KUNIT_ORIGINAL },
	{ "no transition: the top", 2, 0, 0, KLP_UNDEFINED, 0 },
	{ "no transition: the top, whatever the task's state", 2, 0, 0,
	  KLP_UNPATCHED, 0 },
	{ "patching, task switched: the new function", 2, 0, BIT(0),
	  KLP_PATCHED, 0 },
	{ "patching, task not switched: the function below", 2, 0, BIT(0),
	  KLP_UNPATCHED, 1 },
	{ "unpatching, task not switched: the patch's function", 3, 0,
	  BIT(0), KLP_PATCHED, 0 },
	{ "unpatching, task switched: the function just below", 3, 0, BIT(0),
	  KLP_UNPATCHED, 1 },
	{ "one function, task unpatched: the original", 1, 0, BIT(0),
	  KLP_UNPATCHED, KLP_KUNIT_ORIGINAL },
	{ "only the top's transition flag counts", 2, 0, BIT(1),
	  KLP_UNPATCHED, 0 },
	{ "replace, task switched: its nop runs the original", 2, BIT(0),
	  BIT(0), KLP_PATCHED, KLP_KUNIT_ORIGINAL },
	{ "replace, task not switched: the replaced function", 2, BIT(0),
	  BIT(0), KLP_UNPATCHED, 1 },
	{ "replace complete: a nop runs the original", 2, BIT(0), 0,
	  KLP_UNDEFINED, KLP_KUNIT_ORIGINAL },
};

static void klp_kunit_pick_desc(const struct klp_kunit_pick_case *c,
				char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(klp_kunit_pick, klp_kunit_pick_cases, klp_kunit_pick_desc);

/*
 * klp_pick_func() reads the patch_state of current, the test's own thread,
 * so the test sets it for the call and puts it back.  That is safe because
 * 6.1 runs built-in KUnit suites once, from kernel_init(), before any live
 * patch module can be loaded: no transition can switch this thread
 * meanwhile.  Were the suite run again later (newer kernels can, through
 * debugfs), it would have to hold klp_mutex and check that no transition
 * runs, as klp_kunit_task_update() does.
 */
static void klp_kunit_pick_func(struct kunit *test)
{
	const struct klp_kunit_pick_case *c = test->param_value;
	struct klp_func funcs[KLP_KUNIT_STACK_MAX] = { };
	int saved = current->patch_state;
	struct klp_func *picked;
	LIST_HEAD(stack);
	int i, pos;

	KUNIT_ASSERT_LE(test, c->depth, KLP_KUNIT_STACK_MAX);
	for (i = 0; i < c->depth; i++) {
		funcs[i].old_name = "klp_kunit_twin";
		funcs[i].new_func = klp_kunit_twin;
		funcs[i].patched = true;
		funcs[i].nop = c->nop & BIT(i);
		funcs[i].transition = c->transition & BIT(i);
		list_add_tail(&funcs[i].stack_node, &stack);
	}

	current->patch_state = c->state;
	picked = klp_pick_func(&stack);
	current->patch_state = saved;

	pos = KLP_KUNIT_ORIGINAL;
	if (picked)
		pos = picked - funcs;
	KUNIT_EXPECT_EQ(test, pos, c->expect);
}

static struct kunit_case klp_kunit_pick_test_cases[] = {
	KUNIT_CASE_PARAM(klp_kunit_pick_func, klp_kunit_pick_gen_params),
	{ }
};

static struct kunit_suite klp_kunit_pick_suite = {
	.name = "livepatch_pick_func",
	.test_cases = klp_kunit_pick_test_cases,
};

/* ---- per-task state of a transition -------------------------------------- */

/*
 * A task for the per-task helpers of transition.c, which touch only its
 * thread flags and patch_state: zeroed memory, never run, never listed.
 */
static struct task_struct *klp_kunit_task(struct kunit *test, int state,
					  bool pending)
{
	struct task_struct *task;

	task = kunit_kzalloc(test, sizeof(*task), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, task);
	task->patch_state = state;
	if (pending)
		set_tsk_thread_flag(task, TIF_PATCH_PENDING);
	return task;
}

/*
 * Expect @task in @state, with TIF_PATCH_PENDING set when @pending; @what
 * names the check in a failure message.
 */
static void klp_kunit_expect_task(struct kunit *test, const char *what,
				  struct task_struct *task, int state,
				  bool pending)
{
	KUNIT_EXPECT_EQ_MSG(test, task->patch_state, state, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, klp_patch_pending(task), pending, "%s",
			    what);
}

/*
 * The counting walk: a task has to switch unless it is in the target, and
 * is marked then, whether it had a mark or not; a task in the target loses
 * a stale mark.
 */
static void klp_kunit_task_mark_pending(struct kunit *test)
{
	static const int states[] = { KLP_UNPATCHED, KLP_PATCHED };
	struct task_struct *task;
	unsigned int s, t, m;
	bool pending;

	for (s = 0; s < ARRAY_SIZE(states); s++) {
		for (t = 0; t < ARRAY_SIZE(states); t++) {
			for (m = 0; m < 2; m++) {
				task = klp_kunit_task(test, states[s], m);
				pending = klp_task_mark_pending(task,
								states[t]);
				KUNIT_EXPECT_EQ_MSG(test, pending,
						    states[s] != states[t],
						    "state %d, target %d, mark %u",
						    states[s], states[t], m);
				klp_kunit_expect_task(test, "after", task,
						      states[s], pending);
			}
		}
	}
}

/* A task found safe takes the target state and has nothing left to do. */
static void klp_kunit_task_switch(struct kunit *test)
{
	struct task_struct *task;

	task = klp_kunit_task(test, KLP_UNPATCHED, true);
	klp_switch_task(task, KLP_PATCHED);
	klp_kunit_expect_task(test, "patching", task, KLP_PATCHED, false);

	task = klp_kunit_task(test, KLP_PATCHED, true);
	klp_switch_task(task, KLP_UNPATCHED);
	klp_kunit_expect_task(test, "unpatching", task, KLP_UNPATCHED, false);
}

/* Forcing switches exactly the tasks that still have to switch. */
static void klp_kunit_task_force(struct kunit *test)
{
	struct task_struct *task;

	task = klp_kunit_task(test, KLP_UNPATCHED, true);
	klp_task_force(task, KLP_PATCHED);
	klp_kunit_expect_task(test, "pending, patching", task, KLP_PATCHED,
			      false);

	task = klp_kunit_task(test, KLP_PATCHED, true);
	klp_task_force(task, KLP_UNPATCHED);
	klp_kunit_expect_task(test, "pending, unpatching", task, KLP_UNPATCHED,
			      false);

	task = klp_kunit_task(test, KLP_PATCHED, false);
	klp_task_force(task, KLP_PATCHED);
	klp_kunit_expect_task(test, "switched", task, KLP_PATCHED, false);

	/* Not marked yet (no round met it): it has to switch all the same. */
	task = klp_kunit_task(test, KLP_UNPATCHED, false);
	klp_task_force(task, KLP_PATCHED);
	klp_kunit_expect_task(test, "not marked", task, KLP_PATCHED, false);
}

/*
 * klp_trans_reverse() clears every task's flag, then the rounds and the
 * counting walk mark the tasks against the flipped target: the tasks that
 * had switched have to switch back, the others are already there.
 * Nobody's state, and so nobody's code (klp_pick_func()), changes at the
 * reversal itself.
 */
static void klp_kunit_task_reverse(struct kunit *test)
{
	static const int targets[] = { KLP_PATCHED, KLP_UNPATCHED };
	struct task_struct *switched, *waiting;
	unsigned int i;
	int target;

	for (i = 0; i < ARRAY_SIZE(targets); i++) {
		target = targets[i];
		switched = klp_kunit_task(test, !target, false);
		waiting = klp_kunit_task(test, !target, false);

		/* Both marked by a count, then one task switches. */
		klp_task_mark_pending(switched, target);
		klp_task_mark_pending(waiting, target);
		klp_switch_task(switched, target);
		klp_kunit_expect_task(test, "switched, before", switched,
				      target, false);
		klp_kunit_expect_task(test, "waiting, before", waiting,
				      !target, true);

		/* The reversal. */
		klp_task_clear_pending(switched, 0);
		klp_task_clear_pending(waiting, 0);
		klp_task_mark_pending(switched, !target);
		klp_task_mark_pending(waiting, !target);
		klp_kunit_expect_task(test, "switched, after", switched,
				      target, true);
		klp_kunit_expect_task(test, "waiting, after", waiting,
				      !target, false);
	}
}

/*
 * A task switches itself (return to user space, idle loop) only when it
 * has to, and then to the target of the transition.  The test sets
 * klp_trans_target under klp_mutex, with no transition running.
 */
static void klp_kunit_task_update(struct kunit *test)
{
	struct task_struct *pending, *done, *other;
	bool busy;

	pending = klp_kunit_task(test, KLP_UNPATCHED, true);
	done = klp_kunit_task(test, KLP_PATCHED, false);
	other = klp_kunit_task(test, KLP_UNPATCHED, false);

	mutex_lock(&klp_mutex);
	busy = klp_trans_patch || klp_trans_target != KLP_UNDEFINED;
	if (!busy) {
		klp_trans_target = KLP_PATCHED;
		klp_update_patch_state(pending);
		klp_update_patch_state(done);
		klp_update_patch_state(other);
		klp_trans_target = KLP_UNDEFINED;
	}
	mutex_unlock(&klp_mutex);
	KUNIT_ASSERT_FALSE_MSG(test, busy, "a transition is running");

	klp_kunit_expect_task(test, "pending", pending, KLP_PATCHED, false);
	klp_kunit_expect_task(test, "switched", done, KLP_PATCHED, false);
	klp_kunit_expect_task(test, "not marked", other, KLP_UNPATCHED, false);
}

/*
 * The kick of a transition: armed between rounds, where the last marked
 * task to switch itself takes it and runs the next round; off during a
 * round, where such a task only notes that it was missed, and the round
 * runs the next one as it ends.  A count that stays at zero kicks nothing
 * more.
 */
static void klp_kunit_kick(struct kunit *test)
{
	atomic_t kick = ATOMIC_INIT(KLP_KICK_OFF);

	/* During a round: missed, once, then run as the round ends. */
	KUNIT_EXPECT_FALSE(test, klp_kick_take(&kick));
	KUNIT_EXPECT_EQ(test, atomic_read(&kick), KLP_KICK_MISSED);
	KUNIT_EXPECT_FALSE(test, klp_kick_take(&kick));
	KUNIT_EXPECT_EQ(test, atomic_read(&kick), KLP_KICK_MISSED);
	KUNIT_EXPECT_TRUE(test, klp_kick_arm(&kick));
	KUNIT_EXPECT_EQ(test, atomic_read(&kick), KLP_KICK_OFF);

	/* A round without a miss arms it, and one task takes it. */
	KUNIT_EXPECT_FALSE(test, klp_kick_arm(&kick));
	KUNIT_EXPECT_EQ(test, atomic_read(&kick), KLP_KICK_ARMED);
	KUNIT_EXPECT_FALSE(test, klp_kick_arm(&kick));
	KUNIT_EXPECT_TRUE(test, klp_kick_take(&kick));
	KUNIT_EXPECT_EQ(test, atomic_read(&kick), KLP_KICK_OFF);

	/* The next round starts with it off, and ends with no miss. */
	atomic_set(&kick, KLP_KICK_OFF);
	KUNIT_EXPECT_FALSE(test, klp_kick_arm(&kick));
	KUNIT_EXPECT_EQ(test, atomic_read(&kick), KLP_KICK_ARMED);
}

/*
 * A child starts where its parent (current) is: same state, same flag,
 * whatever flag it got with the copy of the parent's thread info.
 */
static void klp_kunit_task_fork(struct kunit *test)
{
	bool saved_pending = klp_patch_pending(current);
	int saved_state = current->patch_state;
	struct task_struct *child1, *child2;

	child1 = klp_kunit_task(test, KLP_UNDEFINED, false);
	child2 = klp_kunit_task(test, KLP_UNDEFINED, true);

	current->patch_state = KLP_PATCHED;
	set_tsk_thread_flag(current, TIF_PATCH_PENDING);
	klp_copy_process(child1);

	current->patch_state = KLP_UNPATCHED;
	clear_tsk_thread_flag(current, TIF_PATCH_PENDING);
	klp_copy_process(child2);

	current->patch_state = saved_state;
	update_tsk_thread_flag(current, TIF_PATCH_PENDING, saved_pending);

	klp_kunit_expect_task(test, "parent pending", child1, KLP_PATCHED,
			      true);
	klp_kunit_expect_task(test, "parent switched", child2, KLP_UNPATCHED,
			      false);
}

/*
 * A parent that switched but still has a stale mark passes no mark on: no
 * walk may meet the child to clear it.  The test sets klp_trans_target
 * under klp_mutex, with no transition running.
 */
static void klp_kunit_task_fork_stale(struct kunit *test)
{
	bool saved_pending = klp_patch_pending(current);
	int saved_state = current->patch_state;
	struct task_struct *child;
	bool busy;

	child = klp_kunit_task(test, KLP_UNDEFINED, true);

	mutex_lock(&klp_mutex);
	busy = klp_trans_patch || klp_trans_target != KLP_UNDEFINED;
	if (!busy) {
		klp_trans_target = KLP_PATCHED;
		current->patch_state = KLP_PATCHED;
		set_tsk_thread_flag(current, TIF_PATCH_PENDING);
		klp_copy_process(child);
		current->patch_state = saved_state;
		update_tsk_thread_flag(current, TIF_PATCH_PENDING,
				       saved_pending);
		klp_trans_target = KLP_UNDEFINED;
	}
	mutex_unlock(&klp_mutex);
	KUNIT_ASSERT_FALSE_MSG(test, busy, "a transition is running");

	klp_kunit_expect_task(test, "stale mark", child, KLP_PATCHED, false);
}

/* Code addresses for hand-built functions; never called. */
#define KLP_KUNIT_OLD		0x10000UL
#define KLP_KUNIT_OLD_SIZE	0x100UL
#define KLP_KUNIT_NEW		0x20000UL
#define KLP_KUNIT_NEW_SIZE	0x80UL
#define KLP_KUNIT_BELOW		0x30000UL
#define KLP_KUNIT_BELOW_SIZE	0x40UL

static void klp_kunit_funcs(struct klp_func *func, struct klp_func *below)
{
	memset(func, 0, sizeof(*func));
	func->old_name = "klp_kunit_old";
	func->old_func = (void *)KLP_KUNIT_OLD;
	func->old_size = KLP_KUNIT_OLD_SIZE;
	func->new_func = (void *)KLP_KUNIT_NEW;
	func->new_size = KLP_KUNIT_NEW_SIZE;
	*below = *func;
	below->new_func = (void *)KLP_KUNIT_BELOW;
	below->new_size = KLP_KUNIT_BELOW_SIZE;
}

/*
 * Expect @range to be [@start, @start + @size) of the function of
 * klp_kunit_funcs(); @what names the check in a failure message.
 */
static void klp_kunit_expect_range(struct kunit *test, const char *what,
				   const struct klp_range *range,
				   unsigned long start, unsigned long size)
{
	KUNIT_EXPECT_EQ_MSG(test, range->start, start, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, range->end, start + size, "%s", what);
	KUNIT_EXPECT_STREQ_MSG(test, range->name, "klp_kunit_old", "%s", what);
}

/* The code a task must have left to switch, for each kind of transition. */
static void klp_kunit_left_behind(struct kunit *test)
{
	struct klp_func func, below;
	struct klp_range range;

	klp_kunit_funcs(&func, &below);

	/* Patching: the code that runs now. */
	klp_func_left_behind(&func, NULL, KLP_PATCHED, &range);
	klp_kunit_expect_range(test, "patching", &range, KLP_KUNIT_OLD,
			       KLP_KUNIT_OLD_SIZE);
	klp_func_left_behind(&func, &below, KLP_PATCHED, &range);
	klp_kunit_expect_range(test, "patching over another patch", &range,
			       KLP_KUNIT_BELOW, KLP_KUNIT_BELOW_SIZE);

	/* Unpatching: the patch's own function, whatever lies below. */
	klp_func_left_behind(&func, NULL, KLP_UNPATCHED, &range);
	klp_kunit_expect_range(test, "unpatching", &range, KLP_KUNIT_NEW,
			       KLP_KUNIT_NEW_SIZE);
	klp_func_left_behind(&func, &below, KLP_UNPATCHED, &range);
	klp_kunit_expect_range(test, "unpatching over another patch", &range,
			       KLP_KUNIT_NEW, KLP_KUNIT_NEW_SIZE);

	/* A nop of a replace patch: the replaced function, or the original. */
	func.nop = true;
	klp_func_left_behind(&func, &below, KLP_PATCHED, &range);
	klp_kunit_expect_range(test, "patching, nop", &range, KLP_KUNIT_BELOW,
			       KLP_KUNIT_BELOW_SIZE);
	klp_func_left_behind(&func, &below, KLP_UNPATCHED, &range);
	klp_kunit_expect_range(test, "unpatching, nop", &range, KLP_KUNIT_OLD,
			       KLP_KUNIT_OLD_SIZE);
}

static const struct klp_range klp_kunit_ranges[] = {
	{ 0x1000, 0x1100, "a" },
	{ 0x2000, 0x2010, "b" },
	{ 0x2010, 0x2011, "c" },
	{ 0x3000, 0x3400, "d" },
};

/* The name of the range holding @addr, or "-". */
static const char *klp_kunit_find(const struct klp_range *ranges,
				  unsigned int nr, unsigned long addr)
{
	const struct klp_range *range = klp_find_range(ranges, nr, addr);

	return range ? range->name : "-";
}

/*
 * A trace with an entry in a retpoline or ITS thunk, or in
 * return_to_handler(), may be cut short (see klp_trace_cut()); one with
 * none is not.
 */
static void klp_kunit_trace_cut(struct kunit *test)
{
	unsigned long e[3] = { (unsigned long)schedule,
			       (unsigned long)klp_trace_cut,
			       (unsigned long)schedule };
	int tried = 0;

	KUNIT_EXPECT_FALSE(test, klp_trace_cut(e, 0));
	KUNIT_EXPECT_FALSE(test, klp_trace_cut(e, -EINVAL));
	KUNIT_EXPECT_FALSE(test, klp_trace_cut(e, 3));
#ifdef CONFIG_RETPOLINE
	e[2] = (unsigned long)__x86_indirect_thunk_array + 1;
	KUNIT_EXPECT_TRUE(test, klp_trace_cut(e, 3));
	KUNIT_EXPECT_FALSE(test, klp_trace_cut(e, 2));
	e[2] = (unsigned long)__indirect_thunk_end;
	KUNIT_EXPECT_FALSE(test, klp_trace_cut(e, 3));
	/* The final return of a thunk: the callee follows it in the trace. */
	e[1] = (unsigned long)__indirect_thunk_end - 1;
	KUNIT_EXPECT_TRUE(test, klp_trace_cut(e, 3));
	e[1] = (unsigned long)klp_trace_cut;
	tried++;
#endif
#ifdef CONFIG_FUNCTION_GRAPH_TRACER
	e[2] = (unsigned long)return_to_handler + 1;
	KUNIT_EXPECT_TRUE(test, klp_trace_cut(e, 3));
	e[2] = (unsigned long)schedule;
	e[0] = (unsigned long)return_to_handler;
	KUNIT_EXPECT_TRUE(test, klp_trace_cut(e, 3));
	tried++;
#endif
	if (!tried)
		kunit_skip(test, "no retpolines and no function graph tracer");
}

static void klp_kunit_find_range(struct kunit *test)
{
	const struct klp_range *r = klp_kunit_ranges;
	unsigned int nr = ARRAY_SIZE(klp_kunit_ranges);
	struct klp_range *many;
	unsigned int i;

	KUNIT_EXPECT_STREQ(test, klp_kunit_find(r, 0, 0x1000), "-");
	KUNIT_EXPECT_STREQ(test, klp_kunit_find(r, nr, 0), "-");
	KUNIT_EXPECT_STREQ(test, klp_kunit_find(r, nr, 0xfff), "-");
	KUNIT_EXPECT_STREQ(test, klp_kunit_find(r, nr, 0x1000), "a");
	KUNIT_EXPECT_STREQ(test, klp_kunit_find(r, nr, 0x10ff), "a");
	KUNIT_EXPECT_STREQ(test, klp_kunit_find(r, nr, 0x1100), "-");
	KUNIT_EXPECT_STREQ(test, klp_kunit_find(r, nr, 0x200f), "b");
	KUNIT_EXPECT_STREQ(test, klp_kunit_find(r, nr, 0x2010), "c");
	KUNIT_EXPECT_STREQ(test, klp_kunit_find(r, nr, 0x2011), "-");
	KUNIT_EXPECT_STREQ(test, klp_kunit_find(r, nr, 0x3000), "d");
	KUNIT_EXPECT_STREQ(test, klp_kunit_find(r, nr, 0x33ff), "d");
	KUNIT_EXPECT_STREQ(test, klp_kunit_find(r, nr, 0x3400), "-");
	KUNIT_EXPECT_STREQ(test, klp_kunit_find(r, nr, ULONG_MAX), "-");

	/* Every start, last byte and end of 100 ranges with gaps. */
	many = kunit_kcalloc(test, 100, sizeof(*many), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, many);
	for (i = 0; i < 100; i++) {
		many[i].start = 0x1000 * (i + 1);
		many[i].end = many[i].start + 0x10 + i;
	}
	for (i = 0; i < 100; i++) {
		KUNIT_EXPECT_PTR_EQ(test,
				    klp_find_range(many, 100, many[i].start),
				    &many[i]);
		KUNIT_EXPECT_PTR_EQ(test,
				    klp_find_range(many, 100, many[i].end - 1),
				    &many[i]);
		KUNIT_EXPECT_NULL(test, klp_find_range(many, 100, many[i].end));
	}
}

/* The name of the range that blocks a task with stack @entries, or "-". */
static const char *klp_kunit_blocked_by(const struct klp_range *ranges,
					unsigned int nr,
					const unsigned long *entries,
					unsigned int nr_entries)
{
	const struct klp_range *range;

	range = klp_stack_blocked_by(ranges, nr, entries, nr_entries);
	return range ? range->name : "-";
}

static void klp_kunit_stack_blocked(struct kunit *test)
{
	static const unsigned long clear[] = { 0x500, 0x1100, 0x2011, 0x3400 };
	static const unsigned long deep[] = { 0x500, 0x1100, 0x9000, 0x2008 };
	static const unsigned long two[] = { 0x4000, 0x3001, 0x500, 0x1000 };
	const struct klp_range *r = klp_kunit_ranges;
	unsigned int nr = ARRAY_SIZE(klp_kunit_ranges);

	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(r, nr, clear, 4), "-");
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(r, nr, deep, 4), "b");
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(r, nr, deep, 3), "-");
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(r, nr, two, 4), "d");
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(r, nr, two, 0), "-");
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(r, 0, two, 4), "-");
}

/* The name of the range that a word of @words[@from..@to) lies in, or "-". */
static const char *klp_kunit_words_in(const struct klp_range *ranges,
				      unsigned int nr,
				      const unsigned long *words,
				      unsigned int from, unsigned int to)
{
	const struct klp_range *range;

	range = klp_words_in_range(ranges, nr, words + from, words + to);
	return range ? range->name : "-";
}

/*
 * The scan before the unwinder: any word of the stack in a range counts,
 * the first one found names the range; words below the first range, above
 * the last, and in the gaps between them do not, nor do the words outside
 * the part scanned.
 */
static void klp_kunit_words_in_range(struct kunit *test)
{
	static const unsigned long words[] = {
		0x3000, 0xfff, 0x1100, 0x1fff, 0x2011, 0x3400, ULONG_MAX,
		0, 0x10ff, 0x2010, 0x33ff,
	};
	const struct klp_range *r = klp_kunit_ranges;
	unsigned int nr = ARRAY_SIZE(klp_kunit_ranges);

	KUNIT_EXPECT_STREQ(test, klp_kunit_words_in(r, nr, words, 1, 8), "-");
	KUNIT_EXPECT_STREQ(test, klp_kunit_words_in(r, nr, words, 1, 9), "a");
	KUNIT_EXPECT_STREQ(test, klp_kunit_words_in(r, nr, words, 9, 11), "c");
	KUNIT_EXPECT_STREQ(test, klp_kunit_words_in(r, nr, words, 10, 11), "d");
	KUNIT_EXPECT_STREQ(test, klp_kunit_words_in(r, nr, words, 0, 11), "d");
	KUNIT_EXPECT_STREQ(test, klp_kunit_words_in(r, nr, words, 0, 0), "-");
	KUNIT_EXPECT_STREQ(test, klp_kunit_words_in(r, 0, words, 0, 11), "-");
	/* One range: its bounds are the scan's bounds. */
	KUNIT_EXPECT_STREQ(test, klp_kunit_words_in(&r[1], 1, words, 0, 11),
			   "-");
	KUNIT_EXPECT_STREQ(test, klp_kunit_words_in(&r[2], 1, words, 0, 11),
			   "c");
}

/*
 * Whether a task sleeping in a function of the patch can switch: in the old
 * code it blocks patching, not unpatching; in the new code the reverse.
 */
static void klp_kunit_stack_old_or_new(struct kunit *test)
{
	static const unsigned long in_old[] = { 0x500, KLP_KUNIT_OLD + 0x10 };
	static const unsigned long in_new[] = { 0x500, KLP_KUNIT_NEW + 0x10 };
	struct klp_func func, below;
	struct klp_range range;

	klp_kunit_funcs(&func, &below);

	klp_func_left_behind(&func, NULL, KLP_PATCHED, &range);
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(&range, 1, in_old, 2),
			   "klp_kunit_old");
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(&range, 1, in_new, 2),
			   "-");

	klp_func_left_behind(&func, NULL, KLP_UNPATCHED, &range);
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(&range, 1, in_old, 2),
			   "-");
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(&range, 1, in_new, 2),
			   "klp_kunit_old");
}

/*
 * A task preempted in the redirection of a call, after the handler chose
 * and before the trampoline returned, has only the return address of the
 * ftrace call (the site plus MCOUNT_INSN_SIZE) on its stack.  The range
 * klp_func_redirect_range() gives that address blocks such a stack; the
 * site itself and the next address do not.  (klp_fill_ranges() adds it
 * next to the range that a transition leaves behind, in both directions.)
 */
static void klp_kunit_redirect_range(struct kunit *test)
{
	struct klp_func func = {
		.old_name = "klp_kunit_twin",
		.old_func = klp_kunit_twin,
	};
	unsigned long ip = ftrace_location((unsigned long)klp_kunit_twin);
	unsigned long stack[] = { 0x500, 0 };
	struct klp_range range;

	if (!ip)
		kunit_skip(test, "klp_kunit_twin() has no ftrace location");

	klp_func_redirect_range(&func, &range);
	stack[1] = ip + MCOUNT_INSN_SIZE;
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(&range, 1, stack, 2),
			   "klp_kunit_twin");
	stack[1] = ip;
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(&range, 1, stack, 2), "-");
	stack[1] = ip + MCOUNT_INSN_SIZE + 1;
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(&range, 1, stack, 2), "-");
}

/*
 * The code of a site's stub (arch/x86/include/asm/livepatch.h): made with
 * its head jumping to the handler trampoline and a trapping tail; the head
 * of a direct stub is the 5-byte nop text_poke_bp() emulates; the tail
 * jumps to the replacement; a target out of rel32 reach is refused.
 */
static void klp_kunit_stub_code(struct kunit *test)
{
	const unsigned long stub = 0xffffffffa0001000UL;
	const unsigned long tramp = 0xffffffffa0000000UL;
	const unsigned long target = 0xffffffffa0100000UL;
	const unsigned long far = 0xffff888000000000UL;
	static const u8 drop_ret[] = { 0x48, 0x8d, 0x64, 0x24, 0x08 };
	u8 code[KLP_STUB_SIZE], insn[JMP32_INSN_SIZE];
	s32 rel;
	int i;

	KUNIT_ASSERT_TRUE(test, klp_arch_stub_init(code, stub, tramp));
	KUNIT_EXPECT_EQ(test, code[0], (u8)JMP32_INSN_OPCODE);
	memcpy(&rel, &code[1], sizeof(rel));
	KUNIT_EXPECT_EQ(test, stub + JMP32_INSN_SIZE + (long)rel, tramp);
	KUNIT_EXPECT_EQ(test, memcmp(&code[JMP32_INSN_SIZE], drop_ret,
				     sizeof(drop_ret)), 0);
	for (i = KLP_STUB_TAIL; i < KLP_STUB_SIZE; i++)
		KUNIT_EXPECT_EQ(test, code[i], (u8)INT3_INSN_OPCODE);

	KUNIT_ASSERT_TRUE(test, klp_arch_stub_head(insn, stub, tramp, true));
	KUNIT_EXPECT_EQ(test, memcmp(insn, x86_nops[JMP32_INSN_SIZE],
				     sizeof(insn)), 0);
	KUNIT_ASSERT_TRUE(test, klp_arch_stub_head(insn, stub, tramp, false));
	KUNIT_EXPECT_EQ(test, memcmp(insn, code, sizeof(insn)), 0);

	KUNIT_ASSERT_TRUE(test, klp_arch_stub_tail(insn, stub, target));
	KUNIT_EXPECT_EQ(test, insn[0], (u8)JMP32_INSN_OPCODE);
	memcpy(&rel, &insn[1], sizeof(rel));
	KUNIT_EXPECT_EQ(test, stub + KLP_STUB_TAIL + JMP32_INSN_SIZE + (long)rel,
			target);
	/* The direct map is far more than 2 GiB from the module area. */
	KUNIT_EXPECT_FALSE(test, klp_arch_stub_tail(insn, stub, far));
	KUNIT_EXPECT_FALSE(test, klp_arch_stub_init(code, stub, far));
}

/*
 * A site whose stack of functions became empty but whose address could not
 * leave ftrace's filter stays hashed (patch.c, klp_batch_free_sites()).
 * Freeing it is not the only reason to wait for the handlers: one may still
 * hold a function just taken off its stack, which may be freed next (the
 * nops of an atomic replace).  So freeing the batch waits once for the
 * handlers whenever a site was on it, and only then.  A stub of such a
 * site (a fake address here, never run nor written) is marked: a task may
 * be past its head with nothing having waited for it.
 */
static void klp_kunit_stale_site_sync(struct kunit *test)
{
	struct klp_site site = { .text = 0xffffffffa0001000UL };
	struct klp_batch batch = { };
	unsigned long before;

	INIT_LIST_HEAD(&site.func_stack);

	mutex_lock(&klp_mutex);
	before = klp_nr_handler_syncs;
	klp_batch_free_sites(&batch);
	KUNIT_EXPECT_EQ(test, klp_nr_handler_syncs, before);

	batch.sites = &site;
	klp_batch_free_sites(&batch);
	KUNIT_EXPECT_EQ(test, klp_nr_handler_syncs, before + 1);
	mutex_unlock(&klp_mutex);

	KUNIT_EXPECT_PTR_EQ(test, batch.sites, (struct klp_site *)NULL);
	KUNIT_EXPECT_TRUE(test, site.tail_unsynced);
	KUNIT_EXPECT_FALSE(test, site.dead);
}

/*
 * klp_stub_leave(), pass 1 of klp_direct_update() for a stub that is not
 * direct: it writes nothing, and counts the stub among those whose new
 * target must wait for tasks past the head only when the stub was marked
 * by klp_batch_free_sites() and its tail is to jump elsewhere.
 */
static void klp_kunit_stub_leave_unsynced(struct kunit *test)
{
	const unsigned long old_target = 0xffffffffa0100000UL;
	const unsigned long new_target = 0xffffffffa0200000UL;
	struct klp_site site = {
		.text = 0xffffffffa0001000UL,
		.target = old_target,
	};
	unsigned int retarget = 0;

	KUNIT_EXPECT_FALSE(test, klp_stub_leave(&site, new_target, &retarget));
	KUNIT_EXPECT_EQ(test, retarget, 0U);

	site.tail_unsynced = true;
	KUNIT_EXPECT_FALSE(test, klp_stub_leave(&site, 0, &retarget));
	KUNIT_EXPECT_FALSE(test, klp_stub_leave(&site, old_target, &retarget));
	KUNIT_EXPECT_EQ(test, retarget, 0U);
	KUNIT_EXPECT_FALSE(test, klp_stub_leave(&site, new_target, &retarget));
	KUNIT_EXPECT_EQ(test, retarget, 1U);
	KUNIT_EXPECT_FALSE(test, site.direct);
	KUNIT_EXPECT_EQ(test, site.target, old_target);
}

/*
 * A site's two instructions (arch/x86/include/asm/livepatch.h): the call
 * of its stub, byte for byte as ftrace writes it (ftrace_call_replace()),
 * and the jump straight to the replacement that stands in for it; both
 * read back as their destination (klp_arch_site_target() decodes both);
 * a destination out of rel32 reach is refused.
 */
static void klp_kunit_site_code(struct kunit *test)
{
	const unsigned long ip = ftrace_location((unsigned long)klp_kunit_twin);
	const unsigned long stub = 0xffffffffa0001000UL;
	const unsigned long target = 0xffffffffa0100000UL;
	const unsigned long far = 0xffff888000000000UL;
	u8 insn[CALL_INSN_SIZE];
	s32 rel;

	KUNIT_ASSERT_NE(test, ip, 0UL);
	KUNIT_ASSERT_TRUE(test, klp_arch_site_call(insn, ip, stub));
	KUNIT_EXPECT_EQ(test, memcmp(insn, text_gen_insn(CALL_INSN_OPCODE,
							 (void *)ip,
							 (void *)stub),
				     sizeof(insn)), 0);
	KUNIT_ASSERT_TRUE(test, klp_arch_site_jump(insn, ip, target));
	KUNIT_EXPECT_EQ(test, insn[0], (u8)JMP32_INSN_OPCODE);
	memcpy(&rel, &insn[1], sizeof(rel));
	KUNIT_EXPECT_EQ(test, ip + JMP32_INSN_SIZE + (long)rel, target);
	KUNIT_EXPECT_FALSE(test, klp_arch_site_call(insn, ip, far));
	KUNIT_EXPECT_FALSE(test, klp_arch_site_jump(insn, ip, far));
	/* The twin is traced by nobody: its site is the 5-byte nop. */
	KUNIT_EXPECT_EQ(test, klp_arch_site_target(ip), 0UL);
}

/*
 * Both users of klp_func_redirect_range() add its range: the ranges of a
 * round (klp_fill_ranges()) and the check of cond_resched()
 * (klp_sched_stack_blocked()).  An unpatching transition of a patch of
 * klp_kunit_twin() leaves the new function behind, and the return address
 * of the redirection at the twin's site, which is not inside it.
 */
static void klp_kunit_fill_ranges(struct kunit *test)
{
	struct klp_func func = {
		.old_name = "klp_kunit_twin",
		.old_func = klp_kunit_twin,
		.new_func = (void *)KLP_KUNIT_NEW,
		.new_size = KLP_KUNIT_NEW_SIZE,
		.patched = true,
	};
	unsigned long ip = ftrace_location((unsigned long)klp_kunit_twin);
	unsigned long site[] = { 0x500, 0 };
	unsigned long in_new[] = { 0x500, KLP_KUNIT_NEW + 0x10 };
	unsigned long clear[] = { 0x500, KLP_KUNIT_NEW + KLP_KUNIT_NEW_SIZE };
	/* Three per function: without a stub, the third repeats the second. */
	struct klp_range ranges[3];
	struct klp_object obj = { };
	struct klp_patch patch = { };
	unsigned int nr;

	if (!ip)
		kunit_skip(test, "klp_kunit_twin() has no ftrace location");
	site[1] = ip + MCOUNT_INSN_SIZE;

	INIT_LIST_HEAD(&patch.obj_list);
	INIT_LIST_HEAD(&obj.func_list);
	list_add(&func.node, &obj.func_list);
	list_add(&obj.node, &patch.obj_list);

	mutex_lock(&klp_mutex);
	nr = klp_fill_ranges(&patch, KLP_UNPATCHED, ranges);
	KUNIT_EXPECT_TRUE(test, klp_sched_stack_blocked(&patch, KLP_UNPATCHED,
							site, 2));
	KUNIT_EXPECT_TRUE(test, klp_sched_stack_blocked(&patch, KLP_UNPATCHED,
							in_new, 2));
	KUNIT_EXPECT_FALSE(test, klp_sched_stack_blocked(&patch, KLP_UNPATCHED,
							 clear, 2));
	mutex_unlock(&klp_mutex);

	KUNIT_ASSERT_EQ(test, nr, 2U);
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(ranges, nr, site, 2),
			   "klp_kunit_twin");
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(ranges, nr, in_new, 2),
			   "klp_kunit_twin");
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(ranges, nr, clear, 2),
			   "-");
}

/*
 * The return address of a redirection lies inside the original function
 * when patching leaves that behind: the sorted ranges are merged so that
 * the binary search sees no overlap; separate ones stay as they are.
 */
static void klp_kunit_merge_ranges(struct kunit *test)
{
	struct klp_range r[] = {
		{ .start = 0x100, .end = 0x180, .name = "a" },
		{ .start = 0x105, .end = 0x106, .name = "a+5" },
		{ .start = 0x180, .end = 0x181, .name = "b+5" },
		{ .start = 0x200, .end = 0x280, .name = "c" },
		{ .start = 0x250, .end = 0x300, .name = "d" },
	};
	static const unsigned long at_b[] = { 0x180 };
	static const unsigned long at_d[] = { 0x2ff };
	unsigned int nr = klp_merge_ranges(r, ARRAY_SIZE(r));

	KUNIT_ASSERT_EQ(test, nr, 3U);
	KUNIT_EXPECT_EQ(test, r[0].start, 0x100UL);
	KUNIT_EXPECT_EQ(test, r[0].end, 0x180UL);
	KUNIT_EXPECT_STREQ(test, r[1].name, "b+5");
	KUNIT_EXPECT_EQ(test, r[2].start, 0x200UL);
	KUNIT_EXPECT_EQ(test, r[2].end, 0x300UL);
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(r, nr, at_b, 1), "b+5");
	KUNIT_EXPECT_STREQ(test, klp_kunit_blocked_by(r, nr, at_d, 1), "c");
	KUNIT_EXPECT_EQ(test, klp_merge_ranges(r, 0), 0U);
}

/* The tasks that a walk, or a fork during one, gave klp_kunit_record(). */
#define KLP_KUNIT_SEEN_MAX	4096
static struct task_struct *klp_kunit_seen[KLP_KUNIT_SEEN_MAX];
static atomic_t klp_kunit_nr_seen;

/* Runs in the walk and in fork, with interrupts off there. */
static void klp_kunit_record(struct task_struct *task, int unused)
{
	int slot = atomic_fetch_inc(&klp_kunit_nr_seen);

	if (slot < KLP_KUNIT_SEEN_MAX)
		WRITE_ONCE(klp_kunit_seen[slot], task);
}

static bool klp_kunit_was_seen(const struct task_struct *task)
{
	int i, nr = min(atomic_read(&klp_kunit_nr_seen), KLP_KUNIT_SEEN_MAX);

	for (i = 0; i < nr; i++)
		if (READ_ONCE(klp_kunit_seen[i]) == task)
			return true;
	return false;
}

/* Never runs: the tests stop these kthreads before waking them. */
static int klp_kunit_idle_thread(void *unused)
{
	return 0;
}

#define KLP_KUNIT_THREADS	100
#define KLP_KUNIT_SNAPSHOT	1024

/*
 * A walk by process IDs meets every task that exists throughout it, across
 * its pauses: more tasks than a batch, so that it pauses at least once.
 */
static void klp_kunit_walk_ids(struct kunit *test)
{
	struct task_struct **threads, **snap, *g, *t;
	unsigned int i, nr = 0, missed = 0;

	threads = kunit_kcalloc(test, KLP_KUNIT_THREADS, sizeof(*threads),
				GFP_KERNEL);
	snap = kunit_kcalloc(test, KLP_KUNIT_SNAPSHOT, sizeof(*snap),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, threads);
	KUNIT_ASSERT_NOT_NULL(test, snap);
	for (i = 0; i < KLP_KUNIT_THREADS; i++) {
		threads[i] = kthread_create(klp_kunit_idle_thread, NULL,
					    "klp_kunit_walk/%u", i);
		if (IS_ERR(threads[i]))
			break;
	}
	if (i < KLP_KUNIT_THREADS) {
		while (i--)
			kthread_stop(threads[i]);
		KUNIT_FAIL(test, "cannot create %u kthreads", KLP_KUNIT_THREADS);
		return;
	}

	rcu_read_lock();
	for_each_process_thread(g, t) {
		if (nr == KLP_KUNIT_SNAPSHOT)
			goto full;
		snap[nr++] = get_task_struct(t);
	}
full:
	rcu_read_unlock();

	mutex_lock(&klp_mutex);
	atomic_set(&klp_kunit_nr_seen, 0);
	klp_walk_ids(klp_kunit_record, 0);
	mutex_unlock(&klp_mutex);

	/* Alive now, so alive throughout the walk. */
	for (i = 0; i < nr; i++) {
		if (pid_alive(snap[i]) && !klp_kunit_was_seen(snap[i]))
			missed++;
		put_task_struct(snap[i]);
	}
	for (i = 0; i < KLP_KUNIT_THREADS; i++)
		kthread_stop(threads[i]);

	KUNIT_EXPECT_GT(test, nr, (unsigned int)KLP_KUNIT_THREADS);
	KUNIT_EXPECT_LE(test, atomic_read(&klp_kunit_nr_seen),
			KLP_KUNIT_SEEN_MAX);
	KUNIT_EXPECT_TRUE(test, klp_kunit_was_seen(current));
	KUNIT_EXPECT_EQ(test, missed, 0U);
}

/*
 * While a walk's function is set, fork applies it to the child, whose ID
 * the walk may have passed; once it is cleared, no more.
 */
static void klp_kunit_walk_fork(struct kunit *test)
{
	struct task_struct *during, *after;

	mutex_lock(&klp_mutex);
	atomic_set(&klp_kunit_nr_seen, 0);
	klp_fork_walk_set(klp_kunit_record, 0);
	during = kthread_create(klp_kunit_idle_thread, NULL, "klp_kunit_fork");
	klp_fork_walk_set(NULL, 0);
	after = kthread_create(klp_kunit_idle_thread, NULL, "klp_kunit_fork");
	mutex_unlock(&klp_mutex);

	KUNIT_ASSERT_FALSE(test, IS_ERR(during));
	KUNIT_EXPECT_TRUE(test, klp_kunit_was_seen(during));
	kthread_stop(during);
	KUNIT_ASSERT_FALSE(test, IS_ERR(after));
	KUNIT_EXPECT_FALSE(test, klp_kunit_was_seen(after));
	kthread_stop(after);
}

static struct kunit_case klp_kunit_transition_cases[] = {
	KUNIT_CASE(klp_kunit_task_mark_pending),
	KUNIT_CASE(klp_kunit_task_switch),
	KUNIT_CASE(klp_kunit_task_force),
	KUNIT_CASE(klp_kunit_task_reverse),
	KUNIT_CASE(klp_kunit_task_update),
	KUNIT_CASE(klp_kunit_kick),
	KUNIT_CASE(klp_kunit_task_fork),
	KUNIT_CASE(klp_kunit_task_fork_stale),
	KUNIT_CASE(klp_kunit_left_behind),
	KUNIT_CASE(klp_kunit_find_range),
	KUNIT_CASE(klp_kunit_trace_cut),
	KUNIT_CASE(klp_kunit_stack_blocked),
	KUNIT_CASE(klp_kunit_words_in_range),
	KUNIT_CASE(klp_kunit_stack_old_or_new),
	KUNIT_CASE(klp_kunit_merge_ranges),
	KUNIT_CASE(klp_kunit_redirect_range),
	KUNIT_CASE(klp_kunit_fill_ranges),
	KUNIT_CASE(klp_kunit_stub_code),
	KUNIT_CASE(klp_kunit_site_code),
	KUNIT_CASE(klp_kunit_stale_site_sync),
	KUNIT_CASE(klp_kunit_stub_leave_unsynced),
	KUNIT_CASE(klp_kunit_walk_ids),
	KUNIT_CASE(klp_kunit_walk_fork),
	{ }
};

static struct kunit_suite klp_kunit_transition_suite = {
	.name = "livepatch_transition",
	.test_cases = klp_kunit_transition_cases,
};

kunit_test_suites(&klp_kunit_pick_suite, &klp_kunit_transition_suite);

/* ---- livepatch relocations (x86-64) -------------------------------------- */

#ifdef CONFIG_X86_64

#define KLP_KUNIT_SECNAME_VMLINUX	".klp.rela.vmlinux..text"
#define KLP_KUNIT_SECNAME_TARGET	".klp.rela.klp_kunit_target..text"
#define KLP_KUNIT_ADDEND		0x10
#define KLP_KUNIT_TWIN_1		".klp.sym.vmlinux.klp_kunit_twin,1"
#define KLP_KUNIT_TWIN_2		".klp.sym.vmlinux.klp_kunit_twin,2"
/* Written after the relocated bytes; nothing may touch it. */
#define KLP_KUNIT_SENTINEL		0xa5a5a5a5U
/* ELF64_R_INFO(), which the kernel's <linux/elf.h> lacks. */
#define KLP_KUNIT_R_INFO(sym, type)	(((u64)(sym) << 32) | (type))

enum {
	KLP_KUNIT_SEC_SYMTAB = 1,
	KLP_KUNIT_SEC_TARGET,
	KLP_KUNIT_SEC_RELA,
	KLP_KUNIT_NR_SECS
};

/**
 * struct klp_kunit_elf - the parts of a live patch module that
 *	klp_apply_section_relocs() looks at
 * @sechdrs:	null, symbol table, relocated section, relocation section
 * @syms:	null symbol and the two symbols the relocations refer to
 * @relas:	an R_X86_64_64 at offset 0 against symbol 1 and an
 *		R_X86_64_PC32 at offset 8 against symbol 2
 * @strtab:	symbol names
 * @shstrtab:	section names
 * @mod:	the (fake) module, live: relocations go through text_poke()
 * @target:	the relocated section, one vmalloc()ed page as module text is
 */
struct klp_kunit_elf {
	Elf64_Shdr sechdrs[KLP_KUNIT_NR_SECS];
	Elf64_Sym syms[3];
	Elf64_Rela relas[2];
	char strtab[256];
	char shstrtab[128];
	struct module mod;
	u8 *target;
};

static int klp_kunit_vzalloc_page(struct kunit_resource *res, void *context)
{
	res->data = vzalloc(PAGE_SIZE);
	return res->data ? 0 : -ENOMEM;
}

static void klp_kunit_vfree_page(struct kunit_resource *res)
{
	vfree(res->data);
}

static struct klp_kunit_elf *klp_kunit_elf(struct kunit *test,
					   const char *secname,
					   const char *sym1, const char *sym2)
{
	struct klp_kunit_elf *e = kunit_kzalloc(test, sizeof(*e), GFP_KERNEL);
	Elf64_Shdr *rela;
	size_t len1, len2;

	KUNIT_ASSERT_NOT_NULL(test, e);
	e->target = kunit_alloc_resource(test, klp_kunit_vzalloc_page,
					 klp_kunit_vfree_page, GFP_KERNEL, NULL);
	KUNIT_ASSERT_NOT_NULL(test, e->target);
	*(u32 *)(e->target + 12) = KLP_KUNIT_SENTINEL;

	strscpy(e->mod.name, "klp_kunit_patch", sizeof(e->mod.name));
	e->mod.state = MODULE_STATE_LIVE;

	len1 = strlen(sym1);
	len2 = strlen(sym2);
	KUNIT_ASSERT_LT(test, 1 + len1 + 1 + len2 + 1, sizeof(e->strtab));
	memcpy(e->strtab + 1, sym1, len1 + 1);
	memcpy(e->strtab + 1 + len1 + 1, sym2, len2 + 1);
	e->syms[1].st_name = 1;
	e->syms[1].st_shndx = SHN_LIVEPATCH;
	e->syms[2].st_name = 1 + len1 + 1;
	e->syms[2].st_shndx = SHN_LIVEPATCH;

	KUNIT_ASSERT_LT(test, strlen(secname) + 2, sizeof(e->shstrtab));
	memcpy(e->shstrtab + 1, secname, strlen(secname) + 1);

	e->relas[0].r_offset = 0;
	e->relas[0].r_info = KLP_KUNIT_R_INFO(1, R_X86_64_64);
	e->relas[0].r_addend = KLP_KUNIT_ADDEND;
	e->relas[1].r_offset = 8;
	e->relas[1].r_info = KLP_KUNIT_R_INFO(2, R_X86_64_PC32);
	e->relas[1].r_addend = -4;

	e->sechdrs[KLP_KUNIT_SEC_SYMTAB].sh_type = SHT_SYMTAB;
	e->sechdrs[KLP_KUNIT_SEC_SYMTAB].sh_addr = (unsigned long)e->syms;
	e->sechdrs[KLP_KUNIT_SEC_SYMTAB].sh_size = sizeof(e->syms);
	e->sechdrs[KLP_KUNIT_SEC_TARGET].sh_type = SHT_PROGBITS;
	e->sechdrs[KLP_KUNIT_SEC_TARGET].sh_addr = (unsigned long)e->target;
	e->sechdrs[KLP_KUNIT_SEC_TARGET].sh_size = PAGE_SIZE;
	rela = &e->sechdrs[KLP_KUNIT_SEC_RELA];
	rela->sh_name = 1;
	rela->sh_type = SHT_RELA;
	rela->sh_flags = SHF_ALLOC | SHF_RELA_LIVEPATCH;
	rela->sh_addr = (unsigned long)e->relas;
	rela->sh_size = sizeof(e->relas);
	rela->sh_info = KLP_KUNIT_SEC_TARGET;
	return e;
}

static int klp_kunit_apply(struct klp_kunit_elf *e, const char *objname)
{
	return klp_apply_section_relocs(&e->mod, e->sechdrs, e->shstrtab,
					e->strtab, KLP_KUNIT_SEC_SYMTAB,
					KLP_KUNIT_SEC_RELA, objname);
}

/* Are the relocated bytes still zero and the sentinel intact? */
static bool klp_kunit_untouched(struct klp_kunit_elf *e)
{
	return !memchr_inv(e->target, 0, 12) &&
	       *(u32 *)(e->target + 12) == KLP_KUNIT_SENTINEL;
}

static void klp_kunit_expect_applied(struct kunit *test,
				     struct klp_kunit_elf *e, u64 s1, u64 s2)
{
	u64 place = (u64)(unsigned long)(e->target + 8);

	KUNIT_EXPECT_EQ(test, (u64)e->syms[1].st_value, s1);
	KUNIT_EXPECT_EQ(test, (u64)e->syms[2].st_value, s2);
	KUNIT_EXPECT_EQ(test, *(u64 *)e->target, s1 + KLP_KUNIT_ADDEND);
	KUNIT_EXPECT_EQ(test, *(u32 *)(e->target + 8),
			(u32)(s2 - 4 - place));
	KUNIT_EXPECT_EQ(test, *(u32 *)(e->target + 12), KLP_KUNIT_SENTINEL);
}

static void klp_kunit_relocs_vmlinux(struct kunit *test)
{
	struct klp_kunit_elf *e;
	unsigned long lo, hi;

	klp_kunit_twins(test, &lo, &hi);
	e = klp_kunit_elf(test, KLP_KUNIT_SECNAME_VMLINUX,
			  ".klp.sym.vmlinux.klp_enable_patch,0",
			  KLP_KUNIT_TWIN_2);

	KUNIT_ASSERT_EQ(test, klp_kunit_apply(e, NULL), 0);
	klp_kunit_expect_applied(test, e, (unsigned long)klp_enable_patch, hi);

	/* x86 does not write a relocation over a non-zero value. */
	KUNIT_EXPECT_EQ(test, klp_kunit_apply(e, NULL), -ENOEXEC);

#ifdef klp_arch_clear_relocs
	/* Cleared, the section can be applied again (module reload). */
	klp_arch_clear_relocs(e->sechdrs, KLP_KUNIT_SEC_RELA);
	KUNIT_EXPECT_TRUE(test, klp_kunit_untouched(e));

	memcpy(e->strtab + e->syms[2].st_name, KLP_KUNIT_TWIN_1,
	       sizeof(KLP_KUNIT_TWIN_1));
	KUNIT_ASSERT_EQ(test, klp_kunit_apply(e, NULL), 0);
	klp_kunit_expect_applied(test, e, (unsigned long)klp_enable_patch, lo);
#endif
}

static void klp_kunit_relocs_other_object(struct kunit *test)
{
	struct klp_kunit_elf *e;

	/* Sections of other objects are skipped, their symbols unparsed. */
	e = klp_kunit_elf(test, KLP_KUNIT_SECNAME_TARGET, "bad", "bad");
	KUNIT_EXPECT_EQ(test, klp_kunit_apply(e, NULL), 0);
	KUNIT_EXPECT_EQ(test, klp_kunit_apply(e, "klp_kunit_other"), 0);
	KUNIT_EXPECT_EQ(test, klp_kunit_apply(e, "klp_kunit_targe"), 0);
	KUNIT_EXPECT_TRUE(test, klp_kunit_untouched(e));

	e = klp_kunit_elf(test, KLP_KUNIT_SECNAME_VMLINUX, "bad", "bad");
	KUNIT_EXPECT_EQ(test, klp_kunit_apply(e, "klp_kunit_target"), 0);
	KUNIT_EXPECT_TRUE(test, klp_kunit_untouched(e));
}

static void klp_kunit_relocs_bad_secname(struct kunit *test)
{
	static const char * const names[] = {
		".rela.text",
		"klp.rela.vmlinux..text",
		".klp.rela.vmlinux",
		".klp.rela..text",
		".klp.rela.",
	};
	char *longname = kunit_kzalloc(test, MODULE_NAME_LEN + 32, GFP_KERNEL);
	struct klp_kunit_elf *e;
	unsigned int i, n;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		e = klp_kunit_elf(test, names[i],
				  ".klp.sym.vmlinux.klp_enable_patch,0",
				  ".klp.sym.vmlinux.klp_enable_patch,0");
		KUNIT_EXPECT_EQ_MSG(test, klp_kunit_apply(e, NULL), -EINVAL,
				    "section %s", names[i]);
		KUNIT_EXPECT_TRUE(test, klp_kunit_untouched(e));
	}

	/* An object name of MODULE_NAME_LEN characters cannot be. */
	KUNIT_ASSERT_NOT_NULL(test, longname);
	n = scnprintf(longname, MODULE_NAME_LEN + 32, ".klp.rela.");
	memset(longname + n, 'a', MODULE_NAME_LEN);
	n += MODULE_NAME_LEN;
	scnprintf(longname + n, MODULE_NAME_LEN + 32 - n, "..text");
	e = klp_kunit_elf(test, longname,
			  ".klp.sym.vmlinux.klp_enable_patch,0",
			  ".klp.sym.vmlinux.klp_enable_patch,0");
	KUNIT_EXPECT_EQ(test, klp_kunit_apply(e, NULL), -EINVAL);
	KUNIT_EXPECT_TRUE(test, klp_kunit_untouched(e));
}

static void klp_kunit_relocs_bad_symbol(struct kunit *test)
{
	static const char * const names[] = {
		"klp_enable_patch",
		".klp.sym.vmlinux.klp_enable_patch",
		".klp.sym.vmlinux.klp_enable_patch,",
		".klp.sym.vmlinux.klp_enable_patch,x",
		".klp.sym.vmlinux.klp_enable_patch,0x1",
		".klp.sym.vmlinux.klp_enable_patch,-1",
		".klp.sym.vmlinuxklp_enable_patch,0",
		".klp.sym..klp_enable_patch,0",
		".klp.sym.vmlinux.,0",
		".klp.sym.vmlinux.klp_enable_patch,2",
		".klp.sym.vmlinux.klp_kunit_twin,0",
		".klp.sym.vmlinux.klp_kunit_twin,3",
		".klp.sym.vmlinux.klp_kunit_no_such_symbol,0",
		".klp.sym.klp_kunit_absent.klp_enable_patch,0",
	};
	struct klp_kunit_elf *e;
	unsigned int i;

	/* The first symbol is fine: nothing is applied unless all are. */
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		e = klp_kunit_elf(test, KLP_KUNIT_SECNAME_VMLINUX,
				  ".klp.sym.vmlinux.klp_enable_patch,0",
				  names[i]);
		KUNIT_EXPECT_EQ_MSG(test, klp_kunit_apply(e, NULL), -EINVAL,
				    "symbol %s", names[i]);
		KUNIT_EXPECT_TRUE(test, klp_kunit_untouched(e));
	}

	/* A well-formed name on a symbol not marked SHN_LIVEPATCH. */
	e = klp_kunit_elf(test, KLP_KUNIT_SECNAME_VMLINUX,
			  ".klp.sym.vmlinux.klp_enable_patch,0",
			  ".klp.sym.vmlinux.klp_enable_patch,0");
	e->syms[2].st_shndx = SHN_UNDEF;
	KUNIT_EXPECT_EQ(test, klp_kunit_apply(e, NULL), -EINVAL);
	KUNIT_EXPECT_TRUE(test, klp_kunit_untouched(e));
}

static void klp_kunit_relocs_module_section(struct kunit *test)
{
	struct klp_kunit_elf *e;

	/* A module's section must not refer to vmlinux symbols. */
	e = klp_kunit_elf(test, KLP_KUNIT_SECNAME_TARGET,
			  ".klp.sym.vmlinux.klp_enable_patch,0",
			  ".klp.sym.klp_kunit_target.klp_kunit_target_fn,0");
	KUNIT_EXPECT_EQ(test, klp_kunit_apply(e, "klp_kunit_target"), -EINVAL);
	KUNIT_EXPECT_TRUE(test, klp_kunit_untouched(e));

	/* Symbols of a module that is not loaded cannot be resolved. */
	e = klp_kunit_elf(test, KLP_KUNIT_SECNAME_TARGET,
			  ".klp.sym.klp_kunit_target.klp_kunit_target_fn,0",
			  ".klp.sym.klp_kunit_target.klp_kunit_target_fn,0");
	KUNIT_EXPECT_EQ(test, klp_kunit_apply(e, "klp_kunit_target"), -EINVAL);
	KUNIT_EXPECT_TRUE(test, klp_kunit_untouched(e));
}

static struct kunit_case klp_kunit_relocs_cases[] = {
	KUNIT_CASE(klp_kunit_relocs_vmlinux),
	KUNIT_CASE(klp_kunit_relocs_other_object),
	KUNIT_CASE(klp_kunit_relocs_bad_secname),
	KUNIT_CASE(klp_kunit_relocs_bad_symbol),
	KUNIT_CASE(klp_kunit_relocs_module_section),
	{ }
};

static struct kunit_suite klp_kunit_relocs_suite = {
	.name = "livepatch_relocs",
	.test_cases = klp_kunit_relocs_cases,
};

kunit_test_suites(&klp_kunit_relocs_suite);
#endif /* CONFIG_X86_64 */
