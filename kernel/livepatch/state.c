// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * System states changed by live patches.
 *
 * A patch lists the states it changes in klp_patch::states, each with an id
 * and a version.  A newer patch may only keep or raise the version of a
 * state an enabled patch set, and an atomic-replace patch must carry on every
 * state, because the patches it replaces will no longer be there to undo
 * their changes.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/livepatch.h>
#include "internal.h"

#define klp_for_each_state(patch, state) \
	for (state = (patch)->states; state && state->id; state++)

/**
 * klp_get_state() - find a state in a patch
 * @patch: the live patch that declares its states
 * @id: the state's id
 *
 * Return: the patch's struct klp_state for @id, or NULL.
 */
struct klp_state *klp_get_state(struct klp_patch *patch, unsigned long id)
{
	struct klp_state *state;

	klp_for_each_state(patch, state)
		if (state->id == id)
			return state;
	return NULL;
}
EXPORT_SYMBOL_GPL(klp_get_state);

/**
 * klp_get_prev_state() - the state as the already enabled patches left it
 * @id: the state's id
 *
 * Meant for the callbacks of the patch in transition, typically to take
 * over the data of a state that a replaced patch set up.  Only patches
 * enabled before the one in transition are considered; the newest of them
 * that declares @id wins.
 *
 * Return: that patch's struct klp_state for @id, or NULL.
 */
struct klp_state *klp_get_prev_state(unsigned long id)
{
	struct klp_state *found = NULL, *state;
	struct klp_patch *patch;

	if (WARN_ON_ONCE(!klp_trans_patch))
		return NULL;

	klp_for_each_registered(patch) {
		if (patch == klp_trans_patch)
			break;
		state = klp_get_state(patch, id);
		if (state)
			found = state;
	}
	return found;
}
EXPORT_SYMBOL_GPL(klp_get_prev_state);

/* May @patch take over @old_state, set by an enabled patch? */
static bool klp_state_accepts(struct klp_patch *patch,
			      struct klp_state *old_state)
{
	struct klp_state *state = klp_get_state(patch, old_state->id);

	if (!state)
		return !patch->replace;
	return state->version >= old_state->version;
}

/*
 * Check @patch against every enabled patch; called with klp_mutex held
 * before @patch is added to klp_patch_list.
 */
bool klp_states_compatible(struct klp_patch *patch)
{
	struct klp_patch *old;
	struct klp_state *old_state;

	klp_for_each_registered(old)
		klp_for_each_state(old, old_state)
			if (!klp_state_accepts(patch, old_state))
				return false;
	return true;
}
