// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_force - same patch as test_klp_holdpatch, under another name: the
 * selftest forces its unpatching transition while a task still sleeps in its
 * code, after which the module can never be removed, so no other test may
 * use it.
 */
#include "test_klp_hold.h"

MODULE_DESCRIPTION("Livepatch selftest: patch whose removal gets forced");
