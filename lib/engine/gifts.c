/* STUB: to be written (see lib/engine/engine.h for this room's contract). */
#include "engine.h"

bool loy_gifts_upgrade(loy_ctx *c, int32_t from, int32_t to) { LOY_UNUSED(c); LOY_UNUSED(from); LOY_UNUSED(to); return true; }
bool loy_step_gifts(loy_ctx *c) { LOY_UNUSED(c); return true; }
