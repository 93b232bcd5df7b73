/*
 * Lifecycle stages (POLICY.md §8): the first stage whose condition holds,
 * reported when it differs from the stage the event started in.
 */
#include "engine.h"

/* orders_in_months needs the date cache: filled here, off the usual path. */
static __attribute__((noinline)) bool orders_in_months_fill(loy_ctx *c, const loy_stage_test *t)
{
    loy_ctx_dates_fill(c);
    loy_month to = c->dc_month;
    return loy_metric_reaches(c->m, LOY_METRIC_ORDERS, (loy_month)(to - (t->n - 1)), to, t->n2);
}

/* loy_metric_reaches on the orders, inline: the buckets are pruned to the
 * months rules reach, so the window nearly always starts at or before the
 * oldest, and the general call is kept for the other case. */
static inline bool orders_reach(const loy_member *m, loy_month to, const loy_stage_test *t)
{
    loy_month from = (loy_month)(to - (t->n - 1));
    const loy_month_bucket *b = m->months, *end = m->month_count ? b + m->month_count : b;   /* months may be NULL */
    if (b < end && b->month < from)
        return loy_metric_reaches(m, LOY_METRIC_ORDERS, from, to, t->n2);
    /* figures are never negative: the sum only grows (see loy_metric_reaches) */
    int64_t sum = 0;
    for (; b < end && b->month <= to; b++)
        if (!loy_add(sum, b->orders, &sum) || sum >= t->n2)
            return true;
    return sum >= t->n2;
}

/* The compiled stages (lib/policy/stages.c), each test as cond.c's
 * predicate answers it (tests/test_stages_fast.c). Inline in step 6,
 * which every event runs, rather than a second call with its own saved
 * registers. */
static inline __attribute__((always_inline)) int32_t planned_stage(loy_ctx *c, const loy_stage_test *tests)
{
    const loy_member *m = c->m;
    const loy_stage_test *t = tests;
    for (;;) {
        bool ok;
        switch (t->kind) {
        case LOY_ST_ORDERS_AT_LEAST:
            ok = m->orders >= t->n;
            break;
        case LOY_ST_DAYS_SINCE_ORDER: {
            loy_day since = m->last_order != LOY_DAY_NONE ? m->last_order : m->joined;
            ok = (int64_t)c->day - since >= t->n;
            break;
        }
        case LOY_ST_MEMBER_DAYS:
            ok = (int64_t)c->day - m->joined >= t->n;
            break;
        case LOY_ST_ORDERS_IN_MONTHS:
            if (!loy_ctx_dates_ready(c)) {
                ok = orders_in_months_fill(c, t);
            } else {
                ok = orders_reach(m, c->dc_month, t);
            }
            break;
        case LOY_ST_TIER_AT_LEAST:
            ok = m->tier >= t->n;
            break;
        case LOY_ST_TIER_BELOW:
            ok = m->tier < t->n;
            break;
        case LOY_ST_COND:
            ok = loy_cond_holds(c, t->cond);
            break;
        case LOY_ST_STAGE:
            return t->stage;
        default:
            /* the plan holds no other kind (lib/policy/stages.c): no bounds
             * test before the jump table */
            __builtin_unreachable();
        }
        if (!ok)
            t = tests + t->next;
        else if (t->ends)
            return t->stage;
        else
            t++;
    }
}

int32_t loy_stage_for(loy_ctx *c)
{
    const loy_policy *p = c->p;
    if (!p->has_lifecycle || p->stage_count == 0)
        return -1;
    if (p->stage_plan && !c->trace)
        return planned_stage(c, p->stage_plan->tests);
    if (!c->trace) {
        /* The stages in locals: the condition calls would reload them. */
        const loy_stage *stages = p->stages;
        uint32_t last = p->stage_count - 1;
        for (uint32_t i = 0; i < last; i++)
            if (loy_cond_holds(c, stages[i].when))
                return (int32_t)i;
        return (int32_t)last;
    }
    for (uint32_t i = 0; i + 1 < p->stage_count; i++) {
        const loy_stage *stage = &p->stages[i];
        if (loy_cond_holds(c, stage->when)) {
            LOY_TRACE(c, "stage", true, "%s: condition holds", stage->id);
            return (int32_t)i;
        }
        if (c->trace)
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
    /* The plan without loy_stage_for's call: it exists only for a policy
     * with stages, which the test above has settled. */
    const loy_stage_plan *pl = c->p->stage_plan;
    int32_t stage = pl && !c->trace ? planned_stage(c, pl->tests) : loy_stage_for(c);
    if (stage == m->stage)
        return true;
    /* A state without a stage gets one here, reported as a change from null. */
    const loy_node *pairs = c->p->effect_nodes.stage_pairs;
    if (pairs) {
        /* the whole effect is the policy's (lib/policy/gifts.c) */
        loy_node *e = rn_block(c->r, 1);
        if (e) {
            rn_init_over(e, NULL, &pairs[(uint32_t)(m->stage + 1) * c->p->stage_count + (uint32_t)stage]);
            if (c->effects && c->effects != &loy_nomem_node)
                rn_link(c->effects, e);
        }
        m->stage = stage;
        return true;
    }
    loy_node *e = rn_effect_take(c->r, "stage_changed", 2);
    if (e) {
        if (m->stage >= 0)
            rn_sib(rn_init_str(e + 2, "from", c->p->stages[m->stage].id));
        else
            rn_sib(rn_init(e + 2, LOY_NODE_NULL, "from"));
        rn_effect_done(c->effects, e, rn_init_str(e + 3, "to", c->p->stages[stage].id), 3);
    }
    m->stage = stage;
    return true;
}
