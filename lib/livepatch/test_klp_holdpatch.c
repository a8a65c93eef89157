// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_holdpatch - patches test_klp_target_hold(); a reader sleeping in
 * the old function (or, with hold_new=1, in the new one) keeps this patch's
 * transition open until released.
 */
#include "test_klp_hold.h"

MODULE_DESCRIPTION("Livepatch selftest: patch a function a task sleeps in");
