/*
 * Lifecycle stages (POLICY.md §8): the first stage whose condition holds,
 * reported when it differs from the stage the event started in.
 */
#include "engine.h"

int32_t loy_stage_for(loy_ctx *c)
{
    const loy_policy *p = c->p;
    if (!p->has_lifecycle || p->stage_count == 0)
        return -1;
    for (uint32_t i = 0; i + 1 < p->stage_count; i++) {
        const loy_stage *stage = &p->stages[i];
        if (loy_cond_holds(c, stage->when)) {
            LOY_TRACE(c, "stage", true, "%s: condition holds", stage->id);
            return (int32_t)i;
        }
        loy_trace_cond(c, "stage", stage->when, stage->id);
    }
    /* The last stage has no condition: it catches everyone else. */
    LOY_TRACE(c, "stage", true, "%s: no earlier stage holds", p->stages[p->stage_count - 1].id);
    return (int32_t)p->stage_count - 1;
}

bool loy_step_lifecycle(loy_ctx *c)
{
    loy_member *m = c->m;
    if (!c->p->has_lifecycle) {
        m->stage = -1;
        return true;
    }
    int32_t stage = loy_stage_for(c);
    if (stage == m->stage)
        return true;
    /* A state without a stage gets one here, reported as a change from null. */
    loy_node *e = loy_effect(c, "stage_changed");
    rn_put(e, "from", m->stage >= 0 ? rn_str(c->r, c->p->stages[m->stage].id) : rn_null(c->r));
    rn_put_str(c->r, e, "to", c->p->stages[stage].id);
    m->stage = stage;
    return true;
}
