/* STUB: to be written (see lib/engine/engine.h for this room's contract). */
#include "engine.h"

bool loy_step_use_benefit(loy_ctx *c) { LOY_UNUSED(c); return true; }
bool loy_benefits_list(loy_ctx *c, loy_node *list) { LOY_UNUSED(c); LOY_UNUSED(list); return true; }
