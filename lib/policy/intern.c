/*
 * Interned strings (lib/policy.h, loy_interned): every category and sku
 * the policy names gets an id, and each condition list of
 * those kinds gets the ids of its strings. Built once at load, after the
 * rest of the policy.
 */
#include "internal.h"

typedef struct interner {
    loy_policy *p;
    bool count_only;                /* first pass: count the strings (an upper bound of ids) */
    uint32_t strings;
    bool nomem;
} interner;

static int32_t intern_one(interner *in, const char *s, unsigned flag)
{
    if (in->count_only) {
        in->strings++;
        return -1;
    }
    loy_interned *t = &in->p->interned;
    loy_str_key k;
    loy_str_key_of(s, strlen(s), &k);
    int32_t id = loy_intern_find(t, s, &k);
    if (id < 0) {
        uint32_t i = loy_intern_slot_of(t, &k);
        while (t->slots[i].s)
            i = (i + 1) & t->mask;
        id = (int32_t)t->count++;
        t->slots[i] = (loy_intern_slot){k.w0, k.w1, s, (uint32_t)k.len, id};
        t->named_bits |= UINT64_C(1) << loy_intern_bit(&k);
    }
    t->flags[id] |= (uint8_t)flag;
    return id;
}

static void intern_list(interner *in, const loy_strs *set, unsigned flag, bool sku)
{
    for (uint32_t i = 0; i < set->count; i++)
        intern_one(in, set->items[i], flag);
    if (set->count) {
        if (sku)
            in->p->interned.any_sku = true;
        else
            in->p->interned.any_category = true;
    }
}

static void intern_cond(interner *in, const loy_cond *cc)
{
    if (!cc)
        return;
    loy_cond *c = (loy_cond *)cc;   /* the policy's own arena, still being built */
    switch (c->op) {
    case LOY_C_MAP:
    case LOY_C_ALL:
    case LOY_C_ANY:
    case LOY_C_NOT:
        for (uint32_t i = 0; i < c->count; i++)
            intern_cond(in, &c->kids[i]);
        return;
    case LOY_C_CATEGORY:
    case LOY_C_SKU:
        break;
    default:
        return;
    }
    if (c->op == LOY_C_SKU && c->count)
        in->p->interned.any_sku = true;
    if (c->op == LOY_C_CATEGORY && c->count)
        in->p->interned.any_category = true;
    if (!in->count_only) {
        c->ids = loy_arena_alloc(in->p->arena, (c->count ? c->count : 1) * sizeof *c->ids);
        if (!c->ids) {
            in->nomem = true;
            return;
        }
    }
    for (uint32_t i = 0; i < c->count; i++) {
        int32_t id = intern_one(in, c->strs[i], 0);
        if (!in->count_only)
            c->ids[i] = id;
    }
}

static void intern_all(interner *in)
{
    loy_policy *p = in->p;
    intern_list(in, &p->points.exclude_categories, LOY_IN_PTS_CAT, false);
    intern_list(in, &p->points.exclude_skus, LOY_IN_PTS_SKU, true);
    intern_list(in, &p->tiers.exclude_categories, LOY_IN_TIER_CAT, false);
    intern_list(in, &p->tiers.exclude_skus, LOY_IN_TIER_SKU, true);
    for (uint32_t i = 0; i < p->points.multiplier_count; i++)
        intern_cond(in, p->points.multipliers[i].when);
    for (uint32_t i = 0; i < p->gifts.surprise_count; i++)
        intern_cond(in, p->gifts.surprise[i].when);
    for (uint32_t i = 0; i < p->benefit_count; i++)
        intern_cond(in, p->benefits[i].when);
    for (uint32_t i = 0; i < p->stage_count; i++)
        intern_cond(in, p->stages[i].when);
}

/* The common denominator of the order's points when the 128-bit path can
 * hold it (lib/engine/earn.c). */
static unsigned __int128 points_den(const loy_points *pts)
{
    uint32_t scale = pts->stacking == LOY_STACK_MULTIPLY ? pts->multiplier_count : 1;
    if (pts->rate_amount <= 0 || scale > 9)
        return 0;
    unsigned __int128 d = (unsigned __int128)pts->rate_amount;
    for (uint32_t k = 0; k < scale; k++)
        if (__builtin_mul_overflow(d, (unsigned __int128)LOY_FIX_ONE, &d))
            return 0;
    return d < ((unsigned __int128)1 << 126) ? d : 0;
}

bool loy_policy_intern(loy_policy *p)
{
    interner in = {p, true, 0, false};
    intern_all(&in);
    loy_interned *t = &p->interned;
    memset(t, 0, sizeof *t);
    uint32_t slots = 8;
    while (slots < 2 * (uint64_t)in.strings)
        slots *= 2;
    t->slots = loy_arena_alloc(p->arena, slots * sizeof *t->slots);
    t->flags = loy_arena_alloc(p->arena, (in.strings ? in.strings : 1) * sizeof *t->flags);
    if (!t->slots || !t->flags)
        return false;
    memset(t->slots, 0, slots * sizeof *t->slots);
    memset(t->flags, 0, (in.strings ? in.strings : 1) * sizeof *t->flags);
    t->mask = slots - 1;
    in.count_only = false;
    intern_all(&in);
    if (in.nomem)
        return false;

    unsigned __int128 den = points_den(&p->points);
    p->points_den_lo = (uint64_t)den;
    p->points_den_hi = (uint64_t)(den >> 64);
    return loy_policy_order_plan(p) && loy_policy_stage_plan(p) && loy_policy_surprise_plan(p) &&
           loy_policy_effect_nodes(p) && loy_policy_benefit_plan(p);
}
