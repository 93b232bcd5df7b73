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

static uint32_t count_tests(const loy_cond *cc)
{
    if (cc->op == LOY_C_MAP || cc->op == LOY_C_ALL) {
        uint32_t n = 0;
        for (uint32_t i = 0; i < cc->count; i++)
            n += count_tests(&cc->kids[i]);
        return n;
    }
    return 1;
}

static void add_tests(const loy_cond *cc, loy_stage_test *t, uint32_t *at)
{
    if (cc->op == LOY_C_MAP || cc->op == LOY_C_ALL) {
        for (uint32_t i = 0; i < cc->count; i++)
            add_tests(&cc->kids[i], t, at);
        return;
    }
    loy_stage_test *x = &t[(*at)++];
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
        uint32_t n = p->stages[i].when ? count_tests(p->stages[i].when) : 0;
        total += n ? n : 1;
    }
    loy_stage_plan *pl = loy_arena_alloc(p->arena, sizeof *pl);
    loy_stage_test *tests = loy_arena_alloc(p->arena, total * sizeof *tests);
    if (!pl || !tests)
        return false;
    memset(tests, 0, total * sizeof *tests);
    uint32_t at = 0;
    for (uint32_t i = 0; i <= stages; i++) {
        uint32_t start = at;
        if (i < stages && p->stages[i].when)
            add_tests(p->stages[i].when, tests, &at);
        if (at == start)
            tests[at++].kind = LOY_ST_STAGE;
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
