/* STUB: to be written (see lib/engine/engine.h for this room's contract). */
#include "engine.h"

int32_t loy_stage_for(loy_ctx *c) { LOY_UNUSED(c); return -1; }
bool loy_step_lifecycle(loy_ctx *c) { LOY_UNUSED(c); return true; }
