/*
 * The lifecycle stages' conditions, compiled at load (lib/policy.h,
 * loy_stage_plan).
 *
 * Every event asks which stage a member is in, and the general code walks
 * a map, dispatches on each entry and calls out for most of them. Stages
 * ask a few member figures against constants, so each stage's `when` is
 * flattened here into a list of tests the engine reads in one loop
 * (lib/engine/lifecycle.c). A map's or `all`'s entries are pure tests, so
 * the flattened list holds exactly when the map does, and keeping the
 * written order keeps even the date cache's filling where it was. Groups
 * the list cannot express (`any`, `not`) and every other predicate stay
 * conditions for loy_cond_holds. tests/test_stages_fast.c checks the plan
 * against the general path.
 */
#include "internal.h"

/* Where the leaves go: the plan's tests, and the next free one. */
typedef struct test_fill {
    loy_stage_test *tests;
    uint32_t at;
} test_fill;

static void add_test(const loy_cond *cc, void *ctx)
{
    test_fill *f = ctx;
    loy_stage_test *x = &f->tests[f->at++];
    x->n = cc->n;
    x->n2 = cc->n2;
    x->cond = cc;
    switch (cc->op) {
    case LOY_C_ORDERS_AT_LEAST: x->kind = LOY_ST_ORDERS_AT_LEAST; break;
    case LOY_C_DAYS_SINCE_LAST_ORDER_AT_LEAST: x->kind = LOY_ST_DAYS_SINCE_ORDER; break;
    case LOY_C_MEMBER_DAYS_AT_LEAST: x->kind = LOY_ST_MEMBER_DAYS; break;
    case LOY_C_ORDERS_IN_MONTHS: x->kind = LOY_ST_ORDERS_IN_MONTHS; break;
    case LOY_C_TIER_AT_LEAST: x->kind = LOY_ST_TIER_AT_LEAST; break;
    case LOY_C_TIER_BELOW: x->kind = LOY_ST_TIER_BELOW; break;
    default: x->kind = LOY_ST_COND; break;
    }
}

bool loy_policy_stage_plan(loy_policy *p)
{
    p->stage_plan = NULL;
    if (!p->has_lifecycle || p->stage_count == 0)
        return true;
    uint32_t stages = p->stage_count - 1, total = 1;   /* the last stage's test */
    for (uint32_t i = 0; i < stages; i++) {
        /* a stage with nothing to test holds, as loy_cond_holds(NULL) and
         * an empty map do: it gets one test answering it */
        uint32_t n = p->stages[i].when ? loy_cond_leaf_count(p->stages[i].when) : 0;
        total += n ? n : 1;
    }
    loy_stage_plan *pl = loy_arena_alloc(p->arena, sizeof *pl);
    loy_stage_test *tests = loy_arena_alloc(p->arena, total * sizeof *tests);
    if (!pl || !tests)
        return false;
    memset(tests, 0, total * sizeof *tests);
    test_fill fill = {tests, 0};
    for (uint32_t i = 0; i <= stages; i++) {
        uint32_t start = fill.at;
        if (i < stages && p->stages[i].when)
            loy_cond_each_leaf(p->stages[i].when, add_test, &fill);
        uint32_t at = fill.at;
        if (at == start)
            tests[at++].kind = LOY_ST_STAGE;
        fill.at = at;
        for (uint32_t k = start; k < at; k++) {
            tests[k].stage = (int32_t)i;
            tests[k].next = at;
        }
        tests[at - 1].ends = true;
    }
    pl->tests = tests;
    p->stage_plan = pl;
    return true;
}
