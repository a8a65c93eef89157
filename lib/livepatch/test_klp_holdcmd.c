// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_holdcmd - patches test_klp_target_hold() like test_klp_holdpatch,
 * and cmdline_proc_show() too: with hold_new=1, a reader asleep in the new
 * hold function keeps the unpatching transition of both open.
 */
#define TEST_KLP_HOLD_CMDLINE
#include "test_klp_hold.h"

MODULE_DESCRIPTION("Livepatch selftest: a held patch that also replaces /proc/cmdline");
