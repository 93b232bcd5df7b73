/* STUB: to be written (see lib/engine/engine.h for this room's contract). */
#include "engine.h"

bool loy_cond_holds(loy_ctx *c, const loy_cond *when) { LOY_UNUSED(c); return when == NULL; }
bool loy_cond_explain(loy_ctx *c, const loy_cond *when, loy_node *reasons) { LOY_UNUSED(c); LOY_UNUSED(reasons); return when == NULL; }
