/*
 * Benefits (POLICY.md §6): whether each is open to the member now, with
 * every reason when it is not (§11.4), and the use of one.
 */
#include "engine.h"

static const char *const period_names[4] = {"day", "week", "month", "year"};

static bool limit_reached(const loy_ctx *c, int32_t index)
{
    const loy_limit *limit = &c->p->benefits[index].limit;
    const loy_member *m = c->m;
    switch (limit->kind) {
    case LOY_LIMIT_ONCE:
        return loy_limit_uses(m->benefit_uses, m->benefit_use_count, index, limit, c->day) >= 1;
    case LOY_LIMIT_PER:
        return loy_limit_uses(m->benefit_uses, m->benefit_use_count, index, limit, c->day) >=
               limit->count;
    default:
        return false;
    }
}

static loy_node *limit_reason(loy_ctx *c, const loy_limit *limit)
{
    loy_result *r = c->r;
    loy_node *reason = rn_map(r);
    if (limit->kind == LOY_LIMIT_ONCE) {
        rn_put_str(r, reason, "limit", "once");
    } else {
        loy_node *per = rn_put(reason, "limit", rn_map(r));
        rn_put_int(r, per, "count", limit->count);
        rn_put_str(r, per, "per", period_names[limit->per]);
    }
    return reason;
}

static loy_node *scalar_value(loy_ctx *c, const loy_value *v)
{
    return v->kind == LOY_VAL_NUMBER ? rn_policy_decimal(c->r, v->text) : rn_str(c->r, v->text);
}

/* The benefit's value for the member's tier now, or NULL when it has none. */
static loy_node *benefit_value(loy_ctx *c, const loy_benefit *b)
{
    const loy_value *v = loy_value_for_tier(&b->value, c->m->tier);
    return v ? scalar_value(c, v) : NULL;
}

/* Fills `reasons` with every failed condition, then the limit when reached.
 * Returns whether the benefit is open; *only_limit tells that the limit is
 * the only reason. */
static bool benefit_open(loy_ctx *c, int32_t index, loy_node *reasons, bool *only_limit)
{
    const loy_benefit *b = &c->p->benefits[index];
    bool conditions = loy_cond_explain(c, b->when, reasons);
    bool reached = limit_reached(c, index);
    if (reached)
        rn_push(reasons, limit_reason(c, &b->limit));
    *only_limit = conditions && reached;
    return conditions && !reached;
}

/* One entry's fixed nodes (map, id, kind, open, reasons) are one block. */
static bool general_entry(loy_ctx *c, loy_node *list, uint32_t i)
{
    loy_result *r = c->r;
    const loy_benefit *b = &c->p->benefits[i];
    loy_node *block = rn_block(r, 5);
    if (!block)
        return false;
    loy_node *entry = rn_push(list, rn_init_map(block, NULL));
    rn_link(entry, rn_init_str(block + 1, "id", b->id));
    rn_link(entry, rn_init_str(block + 2, "kind", b->kind));
    loy_node *reasons = rn_init_list(block + 4, "reasons");
    bool only_limit;
    bool open = benefit_open(c, (int32_t)i, reasons, &only_limit);
    rn_link(entry, rn_init_bool(block + 3, "open", open));
    if (!open)
        rn_link(entry, reasons);
    loy_node *value = benefit_value(c, b);
    if (value)
        rn_put(entry, "value", value);
    return true;
}

/* Is `s` one of the predicate's strings? As cond.c's str_in. */
static inline bool strs_hold(const loy_benefit_test *t, const char *s)
{
    if (!s)
        return false;
    /* compared here, not by strcmp: without a call in the tests' loop its
     * values stay in registers (the strings are short ids and tags) */
    const char c0 = s[0];
    /* most strings start with a byte no leaf string starts with */
    if (!(t->firsts >> ((unsigned char)c0 & 31u) & 1u))
        return false;
    const loy_cond *leaf = t->leaf;
    for (const char *const *p = leaf->strs, *const *end = p + leaf->count; p < end; p++) {
        const char *a = *p;
        if (a[0] != c0)
            continue;
        const char *b = s;
        while (*a && *a == *b)
            a++, b++;
        if (*a == *b)
            return true;
    }
    return false;
}

/* The tests a benefit asks most (tags, channel, store, alone or under a
 * `not`) here, as cond.c's predicates read them, without the three calls
 * there; anything else there. */
static inline __attribute__((always_inline)) bool test_holds(loy_ctx *c, const loy_benefit_test *t,
                                                              int64_t points)
{
    bool holds;
    switch (t->kind) {
    case LOY_BT_POINTS_AT_LEAST:
        return points >= t->n;
    case LOY_BT_TAGS: {
        const loy_member *m = c->m;
        holds = false;
        for (size_t i = 0; i < m->tag_count && !holds; i++)
            holds = strs_hold(t, m->tags[i]);
        break;
    }
    case LOY_BT_CHANNEL:
        holds = !c->no_event && strs_hold(t, c->channel);
        break;
    case LOY_BT_STORE:
        holds = !c->no_event && strs_hold(t, c->store);
        break;
    default:
        return loy_cond_entry_holds(c, t->cond);
    }
    return holds != t->negate;
}

/* The entry general_entry builds, from the plan's outcome: test j failed
 * when bit j of `failed` is set. NULL, with nomem set, when the arena
 * cannot grow. */
static loy_node *outcome_entry(loy_ctx *c, uint32_t i, uint64_t failed, bool reached, const loy_value *value)
{
    loy_result *r = c->r;
    const loy_benefit_plan *pl = c->p->benefit_plan;
    const loy_benefit *b = &c->p->benefits[i];
    loy_node *block = rn_block(r, 5);
    if (!block)
        return NULL;
    loy_node *entry = rn_init_map(block, NULL);
    rn_link(entry, rn_init_str(block + 1, "id", b->id));
    rn_link(entry, rn_init_str(block + 2, "kind", b->kind));
    bool open = !failed && !reached;
    rn_link(entry, rn_init_bool(block + 3, "open", open));
    if (!open) {
        loy_node *reasons = rn_init_list(block + 4, "reasons");
        rn_link(entry, reasons);
        const loy_benefit_test *tests = pl->tests + pl->benefits[i].first;
        for (uint32_t j = 0; j < pl->benefits[i].count; j++)
            if (failed >> j & 1)
                rn_push(reasons, loy_cond_reason(c, tests[j].cond));
        if (reached)
            rn_push(reasons, limit_reason(c, &b->limit));
    }
    if (value)
        rn_put(entry, "value", scalar_value(c, value));
    return entry;
}

/* The outcome of the asked benefit: bit k for the k-th asked test that
 * fails, the next bit for a reached limit. A test the member's tier
 * settles is not asked: its bit stays clear, and a failed one is in the
 * tier's failed tests. */
static uint32_t outcome_of(loy_ctx *c, const loy_benefit_ask *a, int64_t points)
{
    uint32_t outcome = 0, bits = a->ask_bits;
    for (uint64_t ask = a->ask; ask; ask &= ask - 1, bits &= bits - 1)
        if (!test_holds(c, &a->tests[__builtin_ctzll(ask)], points))
            outcome |= bits & -bits;
    /* a limit counts from 1 (the loader asks it): without counters no
     * limit is reached */
    if (a->limit_bit && c->m->benefit_use_count && limit_reached(c, (int32_t)a->benefit))
        outcome |= a->limit_bit;
    return outcome;
}

/* The failed tests of `outcome`: its bits, in order, are the asked tests'. */
static uint64_t asked_failed(uint64_t asked, uint32_t outcome)
{
    uint64_t failed = 0;
    for (uint32_t bit = 1; asked; asked &= asked - 1, bit <<= 1)
        if (outcome & bit)
            failed |= asked & -asked;
    return failed;
}

/* The entry of a benefit with too many outcomes to build at load. */
static loy_node *entry_now(loy_ctx *c, uint32_t i, uint32_t tier, uint32_t outcome)
{
    const loy_benefit_plan *pl = c->p->benefit_plan;
    const loy_planned_benefit *b = &pl->benefits[i];
    size_t at = (size_t)i * c->p->tiers.count + tier;
    uint32_t asked = (uint32_t)__builtin_popcountll(b->asked);
    return outcome_entry(c, i, pl->tier_failed[at] | asked_failed(b->asked, outcome), outcome >> asked != 0,
                         pl->value[at]);
}

/* The outcome of the tier's tests and limits that indexes its lists. A
 * limit counts from 1 (the loader asks it): without counters no limit is
 * reached, and the limits' bits stay clear. */
static __attribute__((noinline)) uint32_t limits_outcome(loy_ctx *c, const loy_benefit_listed *l)
{
    uint32_t outcome = 0;
    for (uint32_t j = 0; j < l->limit_count; j++)
        if (limit_reached(c, (int32_t)l->limits[j]))
            outcome |= (uint32_t)1 << (l->test_count + j);
    return outcome;
}
/* Out of line, the limits too: the tests' loop then has the registers it
 * needs without spilling the caller's values. */
static __attribute__((noinline)) uint32_t listed_outcome(loy_ctx *c, const loy_benefit_listed *l, int64_t points)
{
    uint32_t outcome = 0, bit = 1;
    for (const loy_benefit_test *t = l->tests, *end = t + l->test_count; t < end; t++, bit <<= 1)
        if (!test_holds(c, t, points))
            outcome |= bit;
    if (c->m->benefit_use_count && l->limit_count)
        outcome |= limits_outcome(c, l);
    return outcome;
}

/* The list from the plan: the entries' maps are one block, each a fresh
 * map over its entry's fields (a built entry is a fixed map, result.h),
 * copied from the tier's row and changed only for the benefits the tier
 * asks about. */
static __attribute__((noinline)) void planned_list(loy_ctx *c, loy_node *list, int64_t points)
{
    const loy_benefit_plan *pl = c->p->benefit_plan;
    uint32_t count = c->p->benefit_count, tiers = c->p->tiers.count, tier = (uint32_t)c->m->tier;
    const uint32_t *at = pl->asks_at + 2 * tier;
    loy_node *maps = rn_block(c->r, count);
    if (!maps || list == &loy_nomem_node)
        return;   /* nomem is set: the caller answers NOMEM */
    /* what a map has: kind and count, key (the first 16 bytes), children */
    _Static_assert(offsetof(loy_node, count) < offsetof(loy_node, str) &&
                       offsetof(loy_node, key) < offsetof(loy_node, str),
                   "a map's kind, count and key come before str");
    const loy_node *row = pl->maps + (size_t)tier * count;
    for (loy_node *map = maps, *end = maps + count; map < end; map++, row++) {
        memcpy(map, row, offsetof(loy_node, str));
        map->first = row->first;
        map->last = row->last;
        map->next = map + 1;
    }
    maps[count - 1].next = NULL;
    /* without counters no limit is reached: the benefits with only a
     * limit keep the row's entry */
    for (const loy_benefit_ask *a = pl->asks + at[0], *end = pl->asks + at[c->m->benefit_use_count ? 2 : 1];
         a < end; a++) {
        uint32_t outcome = outcome_of(c, a, points);
        const loy_node *entry;
        if (!a->entries)
            entry = entry_now(c, a->benefit, tier, outcome);
        else if (outcome)
            entry = a->entries[(size_t)outcome * tiers];
        else
            continue;   /* the row's */
        if (!entry)
            return;
        loy_node *map = &maps[a->benefit];
        map->first = entry->first;
        map->last = entry->last;
        map->count = entry->count;
    }
    if (list->last)
        list->last->next = maps;
    else
        list->first = maps;
    list->last = &maps[count - 1];
    list->count += count;
}

static __attribute__((noinline)) void general_list(loy_ctx *c, loy_node *list)
{
    for (uint32_t i = 0; i < c->p->benefit_count; i++)
        if (!general_entry(c, list, i))
            return;   /* nomem is set: the caller answers NOMEM */
}
bool loy_benefits_list(loy_ctx *c, loy_node *list, int64_t points)
{
    /* the plan's tables are by tier: a member's tier is always one of the
     * policy's, but the general path is the one that never needs it */
    const loy_benefit_plan *pl = c->p->benefit_plan;
    int32_t tier = c->m->tier;
    if (pl && tier >= 0 && (uint32_t)tier < c->p->tiers.count) {
        /* the tier's lists, the usual case, here; the row and the general
         * path out of line, so that this one holds few registers */
        const loy_benefit_listed *l = &pl->listed[tier];
        if (!l->lists) {
            planned_list(c, list, points);
            return true;
        }
        if (list == &loy_nomem_node)
            return true;
        uint32_t count = c->p->benefit_count;
        /* fixed maps (result.h): chained at load, never written */
        loy_node *maps = (loy_node *)(uintptr_t)(l->lists + (size_t)listed_outcome(c, l, points) * count);
        if (list->last)
            list->last->next = maps;
        else
            list->first = maps;
        list->last = maps + count - 1;
        list->count += count;
        return true;
    }
    general_list(c, list);
    return true;
}

/* ------------------------------------------------- the entries built at load */

/* Tier t's lists (loy_benefit_listed), for the tests and limits the plan
 * gave it: for each outcome, every benefit's entry for it, chained; NULL
 * with nomem set when the arena cannot grow. */
static const loy_node *tier_lists(loy_result *r, const loy_policy *p, const loy_node *const *answers,
                                  const loy_benefit_listed *l, uint32_t t)
{
    const loy_benefit_plan *pl = p->benefit_plan;
    uint32_t tiers = p->tiers.count, count = p->benefit_count, bits = l->test_count + l->limit_count;
    const loy_benefit_ask *first = pl->asks + pl->asks_at[2 * t], *end = pl->asks + pl->asks_at[2 * t + 2];
    loy_node *lists = rn_block(r, (size_t)count << bits);
    if (!lists)
        return NULL;
    for (uint32_t outcome = 0; outcome < (uint32_t)1 << bits; outcome++) {
        loy_node *maps = lists + (size_t)outcome * count;
        /* every benefit outside the asks has built entries (the asks hold
         * those without) */
        for (uint32_t i = 0; i < count; i++) {
            rn_init_over(&maps[i], NULL, answers[pl->benefits[i].answers_at + t]);
            maps[i].next = &maps[i + 1];
        }
        maps[count - 1].next = NULL;
        /* each ask's outcome as outcome_of gives it: its tests' bits come
         * in the asks' order, then its limit's among the limits */
        uint32_t bit = 0, limit_bit = l->test_count;
        for (const loy_benefit_ask *a = first; a < end; a++) {
            uint32_t own = 0, ask_bits = a->ask_bits;
            for (uint64_t ask = a->ask; ask; ask &= ask - 1, ask_bits &= ask_bits - 1, bit++)
                if (outcome >> bit & 1)
                    own |= ask_bits & -ask_bits;
            if (a->limit_bit && (outcome >> limit_bit++ & 1))
                own |= a->limit_bit;
            const loy_node *entry = own ? a->entries[(size_t)own * tiers] : NULL;
            if (!entry)
                continue;   /* the row's, or nomem is set */
            maps[a->benefit].first = entry->first;
            maps[a->benefit].last = entry->last;
            maps[a->benefit].count = entry->count;
        }
    }
    return lists;
}

bool loy_benefit_answers(loy_policy *p, const loy_node **answers, const loy_node **maps,
                         loy_benefit_listed *listed)
{
    const loy_benefit_plan *pl = p->benefit_plan;
    uint32_t tiers = p->tiers.count;
    /* the engine's own builders lay the entries out (result.h, "nodes
     * fixed at load") */
    loy_result r;
    rn_fixed_begin(&r, p);
    loy_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.r = &r;
    for (uint32_t i = 0; i < p->benefit_count && !r.nomem; i++) {
        const loy_planned_benefit *b = &pl->benefits[i];
        if (b->answers_at == LOY_NO_ANSWERS)
            continue;
        uint32_t asked = (uint32_t)__builtin_popcountll(b->asked);
        for (uint32_t outcome = 0; outcome < (uint32_t)1 << (asked + b->limited) && !r.nomem; outcome++) {
            const loy_node **slots = &answers[b->answers_at + (size_t)outcome * tiers];
            for (uint32_t t = 0; t < tiers && !r.nomem; t++) {
                size_t at = (size_t)i * tiers + t;
                /* tiers that fail the same tests and see the same value share the entry */
                uint32_t same = 0;
                while (same < t && (pl->tier_failed[at] != pl->tier_failed[at - t + same] ||
                                    pl->value[at] != pl->value[at - t + same]))
                    same++;
                if (same < t) {
                    slots[t] = slots[same];
                    continue;
                }
                uint64_t failed = pl->tier_failed[at] | asked_failed(b->asked, outcome);
                loy_node *entry = outcome_entry(&c, i, failed, outcome >> asked != 0, pl->value[at]);
                if (entry)
                    rn_fix(entry);
                slots[t] = entry;
            }
        }
    }
    /* each tier's row: maps over the entries of outcome 0 (nothing
     * fails), or for a benefit without built entries one its query fills */
    loy_node *rows = r.nomem ? NULL : rn_block(&r, (size_t)tiers * p->benefit_count);
    if (rows)
        memset(rows, 0, (size_t)tiers * p->benefit_count * sizeof *rows);
    for (uint32_t t = 0; rows && t < tiers; t++) {
        for (uint32_t i = 0; i < p->benefit_count; i++) {
            loy_node *map = &rows[(size_t)t * p->benefit_count + i];
            const loy_planned_benefit *b = &pl->benefits[i];
            if (b->answers_at != LOY_NO_ANSWERS)
                rn_init_over(map, NULL, answers[b->answers_at + t]);
            else
                rn_init_map(map, NULL);
        }
    }
    *maps = rows;
    for (uint32_t t = 0; rows && t < tiers && !r.nomem; t++)
        if (listed[t].tests)
            listed[t].lists = tier_lists(&r, p, answers, &listed[t], t);
    return rn_fixed_end(&r, p);
}

static bool record_use(loy_ctx *c, int32_t index)
{
    loy_member *m = c->m;
    if (!loy_limit_record(c, &m->benefit_uses, &m->benefit_use_count, &m->benefit_use_cap, index,
                          &c->p->benefits[index].limit))
        return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    return true;
}

bool loy_step_use_benefit(loy_ctx *c)
{
    const char *id = c->ev->benefit.s;
    int index = loy_policy_benefit_index(c->p, id);
    if (index < 0)
        return loy_refuse(c, LOY_E_UNKNOWN_BENEFIT, "no benefit '%s' in this policy", id);
    const loy_benefit *b = &c->p->benefits[index];
    loy_node *reasons = rn_list(c->r);
    bool only_limit;
    if (!benefit_open(c, index, reasons, &only_limit)) {
        loy_trace(c, "benefit", false, "%s: not open", b->id);
        c->reasons = reasons;
        return loy_refuse(c, only_limit ? LOY_E_BENEFIT_LIMIT_REACHED : LOY_E_BENEFIT_NOT_OPEN,
                          "benefit '%s' is not open to this member now", b->id);
    }
    if (!record_use(c, index))
        return false;
    loy_node *e = loy_effect(c, "benefit_used");
    rn_put_str(c->r, e, "benefit", b->id);
    loy_node *value = benefit_value(c, b);
    if (value)
        rn_put(e, "value", value);
    loy_trace(c, "benefit", true, "%s: open, use recorded", b->id);
    return true;
}
