/* STUB: to be written (see lib/engine/engine.h for this room's contract). */
#include "engine.h"

bool loy_paid_end(loy_ctx *c) { LOY_UNUSED(c); return true; }
bool loy_step_join_paid(loy_ctx *c) { LOY_UNUSED(c); return true; }
void loy_paid_add_savings(loy_ctx *c, int64_t savings) { LOY_UNUSED(c); LOY_UNUSED(savings); }
