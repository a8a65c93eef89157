// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_state3 - atomic replace patch declaring no state at all, so it
 * would drop the test state of test_klp_state and test_klp_state2. The code
 * is in test_klp_state.h.
 */

#define KLPT_STATE_VERSION	0

#include "test_klp_state.h"

MODULE_DESCRIPTION("Livepatch selftest: system state, no state");
