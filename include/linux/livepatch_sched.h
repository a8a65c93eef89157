/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the scheduler calls of live patching: a task with TIF_PATCH_PENDING
 * may switch itself in cond_resched() while a transition runs (see
 * "Switching in cond_resched()" in kernel/livepatch/transition.c).
 *
 * Included by include/linux/sched.h and kernel/sched/core.c through
 * harness/patches/livepatch-sched.patch of the live patching project, which
 * also defines sched_dynamic_klp_enable() and sched_dynamic_klp_disable() in
 * core.c.  Included by sched.h, it includes only what its inline function
 * needs.
 */
#ifndef _LINUX_LIVEPATCH_SCHED_H_
#define _LINUX_LIVEPATCH_SCHED_H_

#include <linux/jump_label.h>
#include <linux/thread_info.h>

#ifdef CONFIG_LIVEPATCH

DECLARE_STATIC_KEY_FALSE(klp_sched_try_switch_key);

void __klp_sched_try_switch(void);

/*
 * klp_sched_try_switch() - let the current task switch, if a transition
 * waits for it.  A static branch, not taken outside transitions.  Called
 * by __cond_resched() and, with a static CONFIG_PREEMPT, by the inline
 * cond_resched() of every caller, modules included.
 */
static __always_inline void klp_sched_try_switch(void)
{
	if (static_branch_unlikely(&klp_sched_try_switch_key) &&
	    test_thread_flag(TIF_PATCH_PENDING))
		__klp_sched_try_switch();
}

#else /* !CONFIG_LIVEPATCH */

static inline void klp_sched_try_switch(void)
{
}

#endif /* CONFIG_LIVEPATCH */

#ifdef CONFIG_PREEMPT_DYNAMIC

/* Make cond_resched() call __cond_resched() under any model, and undo it. */
void sched_dynamic_klp_enable(void);
void sched_dynamic_klp_disable(void);

#else /* !CONFIG_PREEMPT_DYNAMIC */

/* Without PREEMPT_DYNAMIC cond_resched() is what the build made it. */
static inline void sched_dynamic_klp_enable(void)
{
}

static inline void sched_dynamic_klp_disable(void)
{
}

#endif /* CONFIG_PREEMPT_DYNAMIC */

#endif /* _LINUX_LIVEPATCH_SCHED_H_ */
