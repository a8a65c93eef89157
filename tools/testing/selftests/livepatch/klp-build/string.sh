# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# string.patch: a string literal of the same length changed ("Character
# Devices:"); the function's bytes stay the same, only the target of a
# relocation differs.
# changed fs/proc/devices.c devinfo_show
patch_case klp_string "Character Devices:" head -n 1 /proc/devices
