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
#include "../result.h"

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

/* The months (bit m for month m, 1..12) in which one of a date test's days
 * falls; every month for a year or more. */
static uint32_t months_of_test(const loy_gift_test *t)
{
    if (t->kind == LOY_GT_MONTH)
        return t->months;
    loy_month from = loy_month_of((loy_day)t->a), to = loy_month_of((loy_day)t->b);
    if (to - from >= 11)
        return 0x1ffeu;
    uint32_t months = 0;
    for (loy_month x = from; x <= to; x++)
        months |= UINT32_C(1) << (x % 12 + 1);
    return months;
}

/* The plan's gate: for each surprise, the tier its tier_at_least tests
 * need and the months its date tests allow, a necessary condition of its
 * `when` (the tests are a conjunction); over all of them, the lowest such
 * tier and every allowed month. */
static void plan_gate(loy_gift_plan *pl, uint32_t surprises)
{
    pl->tier_min = INT32_MAX;
    pl->dated = true;
    pl->months = 0;
    for (uint32_t i = 0; i < surprises; i++) {
        int64_t tier = 0;
        bool dated = false;
        uint32_t months = 0x1ffeu;
        for (uint32_t k = pl->start[i]; k < pl->start[i + 1]; k++) {
            const loy_gift_test *t = &pl->tests[k];
            if (t->kind == LOY_GT_TIER_AT_LEAST && t->a > tier)
                tier = t->a;
            if (t->kind == LOY_GT_MONTH || t->kind == LOY_GT_DATE_BETWEEN) {
                dated = true;
                months &= months_of_test(t);
            }
        }
        if (tier < pl->tier_min)
            pl->tier_min = (int32_t)tier;
        pl->dated = pl->dated && dated;
        pl->months |= months;
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
    plan_gate(pl, g->surprise_count);
    p->surprise_plan = pl;
    return true;
}

/* ------------------------------------------------------ the fixed nodes */

static size_t reward_field_nodes(const loy_reward *rw)
{
    size_t n = (size_t)rw->has_points + (size_t)rw->has_credit;
    if (rw->has_coupons)
        n += 1 + (size_t)rw->coupons.count;
    if (rw->has_items)
        n += 1 + (size_t)rw->items.count;
    return n;
}

/* A list of the strings in the nodes from n on; returns the node after them. */
static loy_node *fixed_list(loy_node *n, const char *key, const loy_strs *strs)
{
    loy_node *list = rn_init_list(n, key);
    for (uint32_t i = 0; i < strs->count; i++)
        rn_link(list, rn_init_str(n + 1 + i, NULL, strs->items[i]));
    return n + 1 + strs->count;
}

/* The reward's fields, in the order of POLICY.md §11.3 (points, coupons,
 * items, credit), linked under `map` from the nodes at n on; returns the
 * node after them. */
static loy_node *reward_fields(loy_node *n, const loy_reward *rw, loy_node *map)
{
    if (rw->has_points)
        rn_link(map, rn_init_int(n++, "points", rw->points));
    if (rw->has_coupons) {
        loy_node *list = n;
        n = fixed_list(n, "coupons", &rw->coupons);
        rn_link(map, list);
    }
    if (rw->has_items) {
        loy_node *list = n;
        n = fixed_list(n, "items", &rw->items);
        rn_link(map, list);
    }
    if (rw->has_credit)
        rn_link(map, rn_init_int(n++, "credit", rw->credit));
    return n;
}

static loy_node *fixed_nodes(loy_result *r, size_t count)
{
    return rn_block(r, count ? count : 1);
}

/* `count` fixed maps, empty until filled. */
static loy_node *fixed_maps(loy_result *r, uint32_t count)
{
    loy_node *maps = fixed_nodes(r, count);
    for (uint32_t i = 0; maps && i < count; i++)
        rn_init_map(&maps[i], NULL);
    return maps;
}

/* A reward's fields alone, for a gift whose effect has a field of the
 * event (a birthday's year, a spend gift's period). */
static bool reward_map(loy_result *r, const loy_reward *rw, loy_node *map)
{
    loy_node *n = fixed_nodes(r, reward_field_nodes(rw));
    if (!n)
        return false;
    reward_fields(n, rw, map);
    rn_fix(map);
    return true;
}

/* A whole gift effect's fields: {"type": "gift", "gift": kind, "reward":
 * {...}, key: value}. */
static bool gift_map(loy_result *r, const char *kind, const loy_reward *rw, const char *key,
                     const char *value, loy_node *effect)
{
    loy_node *n = fixed_nodes(r, 4 + reward_field_nodes(rw));
    if (!n)
        return false;
    rn_link(effect, rn_init_str(n, "type", "gift"));
    rn_link(effect, rn_init_str(n + 1, "gift", kind));
    loy_node *reward = rn_init_map(n + 2, "reward");
    reward_fields(n + 4, rw, reward);
    rn_link(effect, reward);
    rn_link(effect, rn_init_str(n + 3, key, value));
    rn_fix(effect);
    return true;
}

/* The fields of an upgrade's tier_changed for every pair of tiers, and of
 * stage_changed for every pair of stages, from a stage of -1 (null) on. */
static bool pair_nodes(loy_result *r, loy_policy *p)
{
    loy_effect_nodes *gn = &p->effect_nodes;
    uint32_t tiers = p->tiers.count, stages = p->has_lifecycle ? p->stage_count : 0;
    gn->upgrade_pairs = NULL;
    gn->stage_pairs = NULL;
    if (tiers > 0 && tiers <= LOY_FIXED_PAIRS_MAX) {
        loy_node *maps = fixed_maps(r, tiers * tiers);
        loy_node *n = fixed_nodes(r, 4 * (size_t)tiers * tiers);
        if (!maps || !n)
            return false;
        for (uint32_t from = 0; from < tiers; from++)
            for (uint32_t to = 0; to < tiers; to++, n += 4) {
                loy_node *e = &maps[from * tiers + to];
                rn_link(e, rn_init_str(n, "type", "tier_changed"));
                rn_link(e, rn_init_str(n + 1, "from", p->tiers.levels[from].id));
                rn_link(e, rn_init_str(n + 2, "to", p->tiers.levels[to].id));
                rn_link(e, rn_init_str(n + 3, "reason", "upgrade"));
                rn_fix(e);
            }
        gn->upgrade_pairs = maps;
    }
    if (stages > 0 && stages <= LOY_FIXED_PAIRS_MAX) {
        loy_node *maps = fixed_maps(r, (stages + 1) * stages);
        loy_node *n = fixed_nodes(r, 3 * (size_t)(stages + 1) * stages);
        if (!maps || !n)
            return false;
        for (uint32_t from = 0; from <= stages; from++)
            for (uint32_t to = 0; to < stages; to++, n += 3) {
                loy_node *e = &maps[from * stages + to];
                rn_link(e, rn_init_str(n, "type", "stage_changed"));
                if (from > 0)
                    rn_link(e, rn_init_str(n + 1, "from", p->stages[from - 1].id));
                else
                    rn_link(e, rn_init(n + 1, LOY_NODE_NULL, "from"));
                rn_link(e, rn_init_str(n + 2, "to", p->stages[to].id));
                rn_fix(e);
            }
        gn->stage_pairs = maps;
    }
    return true;
}

/* The effects of spend gifts that carry no period (order), whole. */
static bool spend_nodes(loy_result *r, loy_policy *p)
{
    const loy_gifts *g = &p->gifts;
    loy_effect_nodes *gn = &p->effect_nodes;
    loy_node *whole = fixed_maps(r, g->spend_count);
    gn->spend_whole = whole;
    if (!whole)
        return false;
    for (uint32_t i = 0; i < g->spend_count; i++) {
        const loy_spend_gift *s = &g->spend[i];
        if (s->period == LOY_SP_ORDER && !gift_map(r, "spend", &s->reward, "id", s->id, &whole[i]))
            return false;
    }
    return true;
}

static bool effect_nodes(loy_result *r, loy_policy *p)
{
    const loy_gifts *g = &p->gifts;
    loy_effect_nodes *gn = &p->effect_nodes;
    uint32_t tiers = p->tiers.count;
    gn->upgrade = fixed_maps(r, tiers);
    gn->birthday = fixed_maps(r, tiers);
    gn->surprise = fixed_maps(r, g->surprise_count);
    gn->spend = fixed_maps(r, g->spend_count);
    gn->upgraded_to = fixed_maps(r, tiers);
    loy_node *ends = fixed_nodes(r, 2 * (size_t)tiers);
    if (!gn->upgrade || !gn->birthday || !gn->surprise || !gn->spend || !gn->upgraded_to || !ends)
        return false;
    for (uint32_t t = 0; t < tiers; t++) {
        const char *tier = p->tiers.levels[t].id;
        loy_node *end = &gn->upgraded_to[t];
        rn_link(end, rn_init_str(ends + 2 * t, "to", tier));
        rn_link(end, rn_init_str(ends + 2 * t + 1, "reason", "upgrade"));
        rn_fix(end);
        if (g->upgrade && g->upgrade[t] && !gift_map(r, "upgrade", g->upgrade[t], "tier", tier, &gn->upgrade[t]))
            return false;
        if (g->birthday && g->birthday[t] && !reward_map(r, g->birthday[t], &gn->birthday[t]))
            return false;
    }
    for (uint32_t i = 0; i < g->surprise_count; i++)
        if (!gift_map(r, "surprise", &g->surprise[i].reward, "id", g->surprise[i].id, &gn->surprise[i]))
            return false;
    for (uint32_t i = 0; i < g->spend_count; i++)
        if (!reward_map(r, &g->spend[i].reward, &gn->spend[i]))
            return false;
    return spend_nodes(r, p) && pair_nodes(r, p);
}

bool loy_policy_effect_nodes(loy_policy *p)
{
    loy_result r;
    rn_fixed_begin(&r, p);
    bool built = effect_nodes(&r, p);
    return rn_fixed_end(&r, p) && built;
}
