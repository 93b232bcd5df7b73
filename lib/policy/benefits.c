/*
 * The benefits, compiled at load (lib/policy.h, loy_benefit_plan).
 *
 * A benefits query answers for every benefit of the policy, and the
 * general code walks each `when` map, dispatches on each entry, calls out
 * for most of them, builds the reasons of every failed one and looks the
 * value up from the member's tier down. Yet an entry of the answer
 * depends only on which of the `when`'s entries fail, whether the limit
 * is reached, and the tier. Here each `when` is flattened into the
 * entries a closed benefit's reasons list (a map's or `all`'s entries, in
 * written order: loy_cond_explain's walk); the tests a tier settles, and
 * the value, are settled for each tier; then the engine builds every
 * entry the other tests and the limit can give (loy_benefit_answers), so
 * that a query only tests what it must and points at a built entry.
 * tests/test_benefits_fast.c checks the plan against the general path.
 */
#include "internal.h"

/* Entries are built for a benefit while its outcomes times tiers times
 * its tests (a bound on the nodes of its reasons) stay within MAX_BUILT,
 * and for the policy while the sum of those bounds stays within
 * MAX_BUILT_POLICY (some 8 MB of nodes): without the second, a 4 MiB
 * policy of 30,000 benefits over 32 tiers took 673 MB to load. A benefit
 * past either builds the entry its query needs, which answers the same. */
enum { MAX_BUILT = 2048, MAX_BUILT_POLICY = 1 << 17 };

/* Where the leaves go: the plan's tests, and the next free one. */
typedef struct test_fill {
    loy_benefit_test *tests;
    uint32_t at;
} test_fill;

/* The query's first look at a string: no leaf string starts with a byte
 * whose bit is clear (lib/engine/benefits.c, strs_hold). */
static uint32_t leaf_firsts(const loy_cond *leaf)
{
    uint32_t firsts = 0;
    for (uint32_t i = 0; i < leaf->count; i++)
        firsts |= UINT32_C(1) << ((unsigned char)leaf->strs[i][0] & 31u);
    return firsts;
}

static void add_test(const loy_cond *cc, void *ctx)
{
    test_fill *f = ctx;
    loy_benefit_test *x = &f->tests[f->at++];
    x->n = cc->n;
    x->cond = cc;
    x->kind = cc->op == LOY_C_POINTS_AT_LEAST ? LOY_BT_POINTS_AT_LEAST : LOY_BT_COND;
    /* a `not` of one predicate, as loy_cond_entry_holds takes it */
    const loy_cond *leaf = cc;
    bool negate = false;
    if (cc->op == LOY_C_NOT && cc->count == 1 && cc->kids[0].count == 1 && cc->kids[0].kids[0].op > LOY_C_NOT) {
        leaf = &cc->kids[0].kids[0];
        negate = true;
    }
    int kind = leaf->op == LOY_C_TAGS ? LOY_BT_TAGS
               : leaf->op == LOY_C_CHANNEL ? LOY_BT_CHANNEL
               : leaf->op == LOY_C_STORE ? LOY_BT_STORE
                                          : -1;
    if (kind >= 0) {
        x->kind = kind;
        x->leaf = leaf;
        x->negate = negate;
        x->firsts = leaf_firsts(leaf);
    }
}

/* What `cc` comes to for a member of `tier`, whatever else holds: 1
 * holds, 0 fails, -1 depends on more than the tier. As the engine's
 * conditions (lib/engine/cond.c) read it: a map and `all` hold when every
 * entry does, `any` when one does (an empty one never), `not` when its
 * map fails (an empty one always). */
static int settled_by_tier(const loy_cond *cc, uint32_t tier)
{
    int settled;
    switch (cc->op) {
    case LOY_C_MAP:
    case LOY_C_ALL:
    case LOY_C_ANY: {
        /* one entry failing decides a map or `all`, one holding an `any` */
        int decides = cc->op == LOY_C_ANY;
        settled = !decides;
        for (uint32_t i = 0; i < cc->count; i++) {
            int kid = settled_by_tier(&cc->kids[i], tier);
            if (kid == decides)
                return decides;
            if (kid < 0)
                settled = -1;
        }
        return settled;
    }
    case LOY_C_NOT:
        if (cc->count == 0)
            return 1;
        settled = settled_by_tier(&cc->kids[0], tier);
        return settled < 0 ? -1 : !settled;
    case LOY_C_TIER:
        for (uint32_t i = 0; i < cc->count; i++)
            if (cc->ints[i] == (int64_t)tier)
                return 1;
        return 0;
    case LOY_C_TIER_AT_LEAST:
        return (int64_t)tier >= cc->n;
    case LOY_C_TIER_BELOW:
        return (int64_t)tier < cc->n;
    default:
        return -1;
    }
}

/* The tests of `b` that tier t leaves open, to be asked per query;
 * *failed gets the ones it settles failed. */
static uint64_t open_at_tier(const loy_benefit_test *tests, const loy_planned_benefit *b, uint32_t t,
                             uint64_t *failed)
{
    uint64_t open = 0;
    *failed = 0;
    for (uint32_t j = 0; j < b->count; j++) {
        int settled = settled_by_tier(tests[b->first + j].cond, t);
        if (settled < 0)
            open |= UINT64_C(1) << j;
        else if (!settled)
            *failed |= UINT64_C(1) << j;
    }
    return open;
}

const loy_value *loy_value_for_tier(const loy_value *v, int32_t tier)
{
    if (v->kind == LOY_VAL_NONE)
        return NULL;
    if (v->kind != LOY_VAL_BY_TIER)
        return v;
    for (int32_t t = tier; t >= 0; t--)
        if (v->by_tier[t].kind != LOY_VAL_NONE)
            return &v->by_tier[t];
    return NULL;
}

/* The outcomes a benefit's entries are built for (2^bits), or 0 when
 * there are too many to build or the policy's budget, *spent so far, has
 * no room left for them. */
static uint32_t built_outcomes(const loy_planned_benefit *b, uint32_t tiers, uint64_t *spent)
{
    uint32_t bits = (uint32_t)__builtin_popcountll(b->asked) + b->limited;
    if (bits > 8 || tiers == 0)
        return 0;
    uint64_t nodes = ((uint64_t)1 << bits) * tiers * (b->count + 1);
    if (nodes > MAX_BUILT || *spent + nodes > MAX_BUILT_POLICY)
        return 0;
    *spent += nodes;
    return (uint32_t)1 << bits;
}

/* A tier gets lists while its outcomes number at most 2^MAX_LIST_BITS,
 * and the policy while their maps stay within MAX_LIST_NODES (4 MiB). */
enum { MAX_LIST_BITS = 8, MAX_LIST_NODES = 1 << 16 };

/* The tests and limits of the tier whose asks run from `a` to `end`, in
 * the order of its outcome's bits, when it gets lists (else `l` stays
 * empty); false on NOMEM. */
/* An asked `any` (no kid holds by the tier) is, for tier t, the `any` of
 * the kids t leaves open: with one left, that kid. When that is one test
 * the query reads itself, the list's test is that test. */
static void any_at_tier(loy_benefit_test *x, uint32_t tier)
{
    const loy_cond *open = NULL;
    for (uint32_t i = 0; i < x->cond->count; i++) {
        const loy_cond *kid = &x->cond->kids[i];
        if (settled_by_tier(kid, tier) == 0)
            continue;
        if (open)
            return;
        open = kid;
    }
    if (!open || open->op != LOY_C_MAP || open->count != 1)
        return;
    const loy_cond *leaf = &open->kids[0];
    int kind = leaf->op == LOY_C_TAGS ? LOY_BT_TAGS
               : leaf->op == LOY_C_CHANNEL ? LOY_BT_CHANNEL
               : leaf->op == LOY_C_STORE ? LOY_BT_STORE
                                          : -1;
    if (kind < 0)
        return;
    x->kind = kind;
    x->leaf = leaf;
    x->negate = false;
    x->firsts = leaf_firsts(leaf);
}

static bool tier_listed(loy_policy *p, const loy_benefit_ask *a, const loy_benefit_ask *end, uint32_t tier,
                        loy_benefit_listed *l, size_t *nodes)
{
    uint32_t tests = 0, limits = 0;
    for (const loy_benefit_ask *x = a; x < end; x++) {
        if (!x->entries)
            return true;
        tests += (uint32_t)__builtin_popcountll(x->ask);
        limits += x->limit_bit != 0;
    }
    if (tests + limits > MAX_LIST_BITS)
        return true;
    size_t need = (size_t)p->benefit_count << (tests + limits);
    if (*nodes + need > MAX_LIST_NODES)
        return true;
    *nodes += need;
    loy_benefit_test *t = loy_arena_alloc(p->arena, (tests ? tests : 1) * sizeof *t);
    uint32_t *b = loy_arena_alloc(p->arena, (limits ? limits : 1) * sizeof *b);
    if (!t || !b)
        return false;
    l->tests = t;
    l->limits = b;
    for (; a < end; a++) {
        for (uint64_t ask = a->ask; ask; ask &= ask - 1) {
            loy_benefit_test *x = &t[l->test_count++];
            *x = a->tests[__builtin_ctzll(ask)];
            if (x->kind == LOY_BT_COND && x->cond->op == LOY_C_ANY)
                any_at_tier(x, tier);
        }
        if (a->limit_bit)
            b[l->limit_count++] = a->benefit;
    }
    return true;
}

bool loy_policy_benefit_plan(loy_policy *p)
{
    p->benefit_plan = NULL;
    if (p->benefit_count == 0 || p->tiers.count == 0)
        return true;
    uint32_t total = 0, tiers = p->tiers.count;
    for (uint32_t i = 0; i < p->benefit_count; i++) {
        uint32_t n = p->benefits[i].when ? loy_cond_leaf_count(p->benefits[i].when) : 0;
        if (n > 64)
            return true;   /* an outcome is a 64-bit mask: the general path */
        total += n;
    }
    size_t per_tier = (size_t)p->benefit_count * tiers;
    loy_benefit_plan *pl = loy_arena_alloc(p->arena, sizeof *pl);
    loy_planned_benefit *benefits = loy_arena_alloc(p->arena, p->benefit_count * sizeof *benefits);
    loy_benefit_test *tests = loy_arena_alloc(p->arena, (total ? total : 1) * sizeof *tests);
    uint64_t *tier_failed = loy_arena_alloc(p->arena, per_tier * sizeof *tier_failed);
    const loy_value **value = loy_arena_alloc(p->arena, per_tier * sizeof *value);
    if (!pl || !benefits || !tests || !tier_failed || !value)
        return false;
    memset(tests, 0, (total ? total : 1) * sizeof *tests);
    test_fill fill = {tests, 0};
    uint32_t answers = 0;
    uint64_t spent = 0;
    for (uint32_t i = 0; i < p->benefit_count; i++) {
        loy_planned_benefit *b = &benefits[i];
        b->first = fill.at;
        if (p->benefits[i].when)
            loy_cond_each_leaf(p->benefits[i].when, add_test, &fill);
        b->count = fill.at - b->first;
        b->asked = 0;
        b->limited = p->benefits[i].limit.kind != LOY_LIMIT_NONE;
        for (uint32_t t = 0; t < tiers; t++) {
            b->asked |= open_at_tier(tests, b, t, &tier_failed[(size_t)i * tiers + t]);
            value[(size_t)i * tiers + t] = loy_value_for_tier(&p->benefits[i].value, (int32_t)t);
        }
        uint32_t outcomes = built_outcomes(b, tiers, &spent);
        b->answers_at = outcomes ? answers : LOY_NO_ANSWERS;
        answers += outcomes * tiers;
    }
    const loy_node **built = loy_arena_alloc(p->arena, (answers ? answers : 1) * sizeof *built);
    loy_benefit_ask *asks = loy_arena_alloc(p->arena, per_tier * sizeof *asks);
    uint32_t *asks_at = loy_arena_alloc(p->arena, (2 * tiers + 1) * sizeof *asks_at);
    loy_benefit_listed *listed = loy_arena_alloc(p->arena, tiers * sizeof *listed);
    if (!built || !asks || !asks_at || !listed)
        return false;
    memset(listed, 0, tiers * sizeof *listed);
    uint32_t n = 0;
    for (uint32_t t = 0; t < tiers; t++) {
        asks_at[2 * t] = n;
        /* the benefits with tests or no built entries, then those with
         * only a limit, which a member without counters skips */
        for (int only_limit = 0; only_limit < 2; only_limit++) {
            for (uint32_t i = 0; i < p->benefit_count; i++) {
                const loy_planned_benefit *b = &benefits[i];
                uint64_t failed, open = open_at_tier(tests, b, t, &failed);
                bool built_any = b->answers_at != LOY_NO_ANSWERS;
                if (only_limit ? open || !built_any || !b->limited : !open && built_any)
                    continue;
                loy_benefit_ask *a = &asks[n++];
                a->tests = tests + b->first;
                a->entries = built_any ? built + b->answers_at + t : NULL;
                a->ask = open;
                a->ask_bits = 0;
                uint32_t bit = 1;
                for (uint64_t asked = b->asked; asked; asked &= asked - 1, bit <<= 1)
                    if (open & asked & -asked)
                        a->ask_bits |= bit;
                a->limit_bit = b->limited ? bit : 0;
                a->benefit = i;
            }
            asks_at[2 * t + 1 + (uint32_t)only_limit] = n;
        }
    }
    pl->tests = tests;
    pl->benefits = benefits;
    pl->tier_failed = tier_failed;
    pl->value = value;
    pl->answers = built;
    pl->asks = asks;
    pl->asks_at = asks_at;
    size_t list_nodes = 0;
    for (uint32_t t = 0; t < tiers; t++)
        if (!tier_listed(p, asks + asks_at[2 * t], asks + asks_at[2 * t + 2], t, &listed[t], &list_nodes))
            return false;
    pl->listed = listed;
    p->benefit_plan = pl;
    return loy_benefit_answers(p, built, &pl->maps, listed);
}
