/*
 * The surprise gifts' conditions, compiled at load (lib/policy.h,
 * loy_gift_plan).
 *
 * Every event asks each surprise's `when`, and the general code walks a
 * map, dispatches on each entry and calls out for most of them, to answer
 * nearly always no on a tier or a date. Each `when` is flattened here
 * into a list of tests the engine reads in one loop (lib/engine/gifts.c),
 * as lib/policy/stages.c does for the stages. A map's or `all`'s entries
 * are pure tests, so the flattened list holds exactly when the map does.
 * Groups the list cannot express (`any`, `not`) and every other predicate
 * stay conditions for loy_cond_holds. tests/test_gifts_fast.c checks the
 * plan against the general path.
 */
#include "internal.h"

/* Where the leaves go: the plan's tests, and the next free one. */
typedef struct test_fill {
    loy_gift_test *tests;
    uint32_t at;
} test_fill;

static void add_test(const loy_cond *cc, void *ctx)
{
    test_fill *f = ctx;
    loy_gift_test *x = &f->tests[f->at++];
    x->a = cc->n;
    x->cond = cc;
    switch (cc->op) {
    case LOY_C_TIER_AT_LEAST: x->kind = LOY_GT_TIER_AT_LEAST; break;
    case LOY_C_TIER_BELOW: x->kind = LOY_GT_TIER_BELOW; break;
    case LOY_C_ORDERS_AT_LEAST: x->kind = LOY_GT_ORDERS_AT_LEAST; break;
    case LOY_C_MEMBER_DAYS_AT_LEAST: x->kind = LOY_GT_MEMBER_DAYS; break;
    case LOY_C_DATE_BETWEEN:
        x->kind = LOY_GT_DATE_BETWEEN;
        x->a = cc->ints[0];
        x->b = cc->ints[1];
        break;
    case LOY_C_MONTH:
        /* the loader keeps months to 1..12; anything else matches no month */
        x->kind = LOY_GT_MONTH;
        for (uint32_t i = 0; i < cc->count; i++)
            if (cc->ints[i] >= 1 && cc->ints[i] <= 12)
                x->months |= UINT32_C(1) << cc->ints[i];
        break;
    default: x->kind = LOY_GT_COND; break;
    }
}

bool loy_policy_surprise_plan(loy_policy *p)
{
    const loy_gifts *g = &p->gifts;
    p->surprise_plan = NULL;
    if (g->surprise_count == 0)
        return true;
    uint32_t total = 0;
    for (uint32_t i = 0; i < g->surprise_count; i++)
        total += g->surprise[i].when ? loy_cond_leaf_count(g->surprise[i].when) : 0;
    loy_gift_plan *pl = loy_arena_alloc(p->arena, sizeof *pl);
    uint32_t *start = loy_arena_alloc(p->arena, (g->surprise_count + 1) * sizeof *start);
    loy_gift_test *tests = loy_arena_alloc(p->arena, (total ? total : 1) * sizeof *tests);
    if (!pl || !start || !tests)
        return false;
    memset(tests, 0, (total ? total : 1) * sizeof *tests);
    test_fill fill = {tests, 0};
    for (uint32_t i = 0; i < g->surprise_count; i++) {
        start[i] = fill.at;
        if (g->surprise[i].when)
            loy_cond_each_leaf(g->surprise[i].when, add_test, &fill);
    }
    start[g->surprise_count] = fill.at;
    pl->tests = tests;
    pl->start = start;
    p->surprise_plan = pl;
    return true;
}
