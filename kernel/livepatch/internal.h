/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Declarations shared by the files of the live patching core.  Nothing here
 * is visible to patch modules.
 */
#ifndef _LIVEPATCH_INTERNAL_H
#define _LIVEPATCH_INTERNAL_H

#include <linux/bug.h>
#include <linux/llist.h>
#include <linux/livepatch.h>
#include <linux/rculist.h>
#include <linux/sched.h>

/*
 * klp_mutex serialises every change to the set of patches: enabling,
 * disabling, transitions, module load/unload and the freeing of patches.
 */
extern struct mutex klp_mutex;

/* Enabled patches, oldest first; the newest one wins on a shared function. */
extern struct list_head klp_patch_list;

#define klp_for_each_registered(patch) \
	list_for_each_entry(patch, &klp_patch_list, list)

static inline bool klp_obj_is_module(struct klp_object *obj)
{
	return obj->name;
}

/* An object can be patched when its code is present in memory. */
static inline bool klp_object_present(struct klp_object *obj)
{
	return !obj->name || obj->mod;
}

/*
 * patch.c: a patched function's ftrace location ("site"), with the stack
 * of functions patches give it and, where calls can skip the handler, its
 * stub ("Calls without the handler" in patch.c).  Here for the KUnit tests.
 */
struct klp_site {
	struct hlist_node hash;		/* in klp_sites, RCU protected */
	unsigned long ip;		/* ftrace location */
	union {
		/* struct klp_func, newest first; empty: see "Invariants" */
		struct list_head func_stack;
		/* Once dead, after klp_sync_handlers(): klp_site_release() */
		struct rcu_head rcu;
	};
	union {
		struct klp_site *batch_next;	/* on a struct klp_batch */
		struct llist_node reclaim;	/* klp_stubs_reclaimed */
	};
	unsigned long text;		/* its stub, 0: the handler trampoline */
	unsigned long target;		/* where the stub's tail jumps, 0: nowhere */
	unsigned int busy;		/* klp_busy_gen of a transition here */
	bool direct;			/* the stub's head is the nop */
	bool tail_unsynced;		/* left direct mode with no wait */
	bool traced;			/* ip may be in klp_ops' filter */
	bool dead;			/* unhashed, to be freed */
};

/*
 * A set of sites whose addresses enter or leave klp_ops' filter together,
 * on a list through klp_site::batch_next.  Sites that leave stay on it
 * until they can be freed.
 */
struct klp_batch {
	struct klp_site *sites;
	unsigned long *ips;
	unsigned int nr;
	unsigned int max;
};

/* core.c */
void klp_retire_patch(struct klp_patch *patch);
void klp_retire_replaced(struct klp_patch *new_patch);
void klp_unhook_replaced(struct klp_patch *new_patch);
void klp_drop_nops(struct klp_patch *new_patch);
int klp_run_pre_patch(struct klp_object *obj);
void klp_run_post_patch(struct klp_object *obj);
void klp_run_pre_unpatch(struct klp_object *obj);
void klp_run_post_unpatch(struct klp_object *obj);

/* patch.c */

/*
 * klp_pick_func() - the code the current task runs for a patched function
 * @func_stack: the replacements of one function, newest first
 *
 * The top of the stack, or, while the top is in a transition that the task
 * has not gone through yet (patch_state KLP_UNPATCHED), the one below it.
 * NULL means the original code: the stack is empty, or the task is to run
 * what lies below the only function, or the function chosen is a nop.
 *
 * Called by the ftrace handler (patch.c) with preemption disabled; inline
 * so that nothing it runs can be traced.
 *
 * Ordering: the transition code publishes func->transition before it adds
 * the function to a stack or before it sets TIF_PATCH_PENDING on any task,
 * and it sets the tasks' patch_state before func->transition (smp_wmb() on
 * that side); at the end it clears func->transition before it resets the
 * states.  The read barriers below pair with those.
 */
static __always_inline struct klp_func *
klp_pick_func(struct list_head *func_stack)
{
	struct klp_func *func;

	func = list_first_or_null_rcu(func_stack, struct klp_func, stack_node);
	if (!func)
		return NULL;

	/* Read func->transition after the function; see above. */
	smp_rmb();
	if (unlikely(READ_ONCE(func->transition))) {
		int state;

		/* Read patch_state after func->transition; see above. */
		smp_rmb();
		state = READ_ONCE(current->patch_state);
		/*
		 * KLP_UNDEFINED is right only just after a patching
		 * transition completed: the state was reset after the flag
		 * was cleared (klp_trans_finish()), and the top is what
		 * every task runs.  Read the flag again: it must be clear.
		 */
		if (unlikely(state == KLP_UNDEFINED)) {
			/* The flag after the state: klp_trans_finish()'s smp_wmb(). */
			smp_rmb();
			WARN_ON_ONCE(READ_ONCE(func->transition));
		}
		if (state == KLP_UNPATCHED) {
			func = list_entry_rcu(func->stack_node.next,
					      struct klp_func, stack_node);
			if (&func->stack_node == func_stack)
				return NULL;
		}
	}

	return func->nop ? NULL : func;
}

int klp_redirect_object(struct klp_object *obj);
void klp_restore_object(struct klp_object *obj);
void klp_restore_patch(struct klp_patch *patch);
void klp_restore_nops(struct klp_patch *patch);
struct klp_func *klp_func_below(struct klp_func *func);
unsigned long klp_func_ip(struct klp_func *func);
void klp_sync_handlers(void);
void klp_direct_update(void);
void klp_direct_mark_busy(struct klp_patch *patch);
void klp_direct_clear_busy(void);
/* The longest string klp_func_call_mode() returns. */
#define KLP_CALL_MODE_MAX	21
const char *klp_func_call_mode(struct klp_func *func);
void __init klp_direct_init(void);

/* transition.c */

/* Code that no task may be inside when it switches: [start, end). */
struct klp_range {
	unsigned long start;
	unsigned long end;
	const char *name;	/* old_name of the function */
};

bool klp_func_stub_range(struct klp_func *func, struct klp_range *range);

extern struct klp_patch *klp_trans_patch;
extern int klp_trans_target;

int klp_trans_init(void);
void klp_trans_prepare(struct klp_patch *patch, int state);
void klp_trans_cancel(void);
void klp_trans_begin(void);
void klp_trans_first_round(void);
void klp_trans_reverse(void);
void klp_trans_force(void);

/* A task that a round of stack checks could not switch, for sysfs. */
#define KLP_MAX_BLOCKERS	32
#define KLP_BLOCKER_FUNC_LEN	64

struct klp_blocker {
	pid_t pid;
	int idle_cpu;		/* -1 unless an idle task */
	bool kthread;
	const char *reason;
	char comm[TASK_COMM_LEN];
	char func[KLP_BLOCKER_FUNC_LEN];
};

unsigned int klp_trans_pending_tasks(struct klp_patch *patch);
s64 klp_trans_duration_ms(struct klp_patch *patch);
unsigned long klp_trans_nudged(struct klp_patch *patch);
unsigned int klp_trans_copy_blockers(struct klp_patch *patch,
				     struct klp_blocker *out);

/* state.c */
bool klp_states_compatible(struct klp_patch *patch);

/* How a task switched: the "by" of the klp_task_switch tracepoint. */
enum klp_switch_by {
	KLP_BY_STACK_CHECK,	/* a round unwound its stack */
	KLP_BY_SELF,		/* user-space return, idle loop, cond_resched() */
	KLP_BY_STACK_SCAN,	/* a round found no word of its stack in a range */
};

/* The kick of a transition (transition.c, "The kick"). */
enum {
	KLP_KICK_OFF,		/* a round runs, or no transition */
	KLP_KICK_ARMED,		/* between rounds */
	KLP_KICK_MISSED,	/* the count reached zero during a round */
};

/* A function that a walk of transition.c applies to each task. */
typedef void (*klp_task_fn)(struct task_struct *task, int arg);

/*
 * The KUnit tests (livepatch_kunit.c) call a few static functions of the
 * core.  KLP_VISIBLE_IF_KUNIT drops their "static" in kernels built with
 * CONFIG_LIVEPATCH_KUNIT_TEST only; other kernels are unchanged.
 */
#if IS_ENABLED(CONFIG_LIVEPATCH_KUNIT_TEST)
#define KLP_VISIBLE_IF_KUNIT

/* core.c */
int klp_lookup_symbol(const char *objname, const char *name,
		      unsigned long sympos, unsigned long *addr);
int klp_check_patch(struct klp_patch *patch);

/* transition.c */
void klp_switch_task(struct task_struct *task, int target);
bool klp_task_mark_pending(struct task_struct *task, int target);
void klp_task_clear_pending(struct task_struct *task, int unused);
void klp_task_force(struct task_struct *task, int target);
void klp_fork_walk_set(klp_task_fn fn, int arg);
void klp_walk_ids(klp_task_fn fn, int arg);
bool klp_kick_take(atomic_t *kick);
bool klp_kick_arm(atomic_t *kick);
void klp_func_left_behind(const struct klp_func *func,
			  const struct klp_func *below, int target,
			  struct klp_range *range);
const struct klp_range *klp_find_range(const struct klp_range *ranges,
				       unsigned int nr, unsigned long addr);
unsigned int klp_merge_ranges(struct klp_range *ranges, unsigned int nr);
void klp_func_redirect_range(struct klp_func *func, struct klp_range *range);
unsigned int klp_fill_ranges(struct klp_patch *patch, int target,
			     struct klp_range *ranges);
bool klp_sched_stack_blocked(struct klp_patch *patch, int target,
			     const unsigned long *entries, unsigned int nr);
bool klp_trace_cut(const unsigned long *entries, int nr);
const struct klp_range *klp_stack_blocked_by(const struct klp_range *ranges,
					     unsigned int nr,
					     const unsigned long *entries,
					     unsigned int nr_entries);
const struct klp_range *klp_words_in_range(const struct klp_range *ranges,
					   unsigned int nr,
					   const unsigned long *from,
					   const unsigned long *to);

/* patch.c */
extern unsigned long klp_nr_handler_syncs;
bool klp_stub_leave(struct klp_site *site, unsigned long want, void *retarget);
void klp_batch_free_sites(struct klp_batch *batch);

/* livepatch_kunit_twin.c: a function named like one in livepatch_kunit.c */
extern int (*const klp_kunit_twin_b)(int x);
#else
#define KLP_VISIBLE_IF_KUNIT static
#endif

#endif /* _LIVEPATCH_INTERNAL_H */
