/*
 * The order's points, compiled at load (lib/policy.h, loy_order_plan).
 *
 * An order's multipliers are settled from what they look at: the tier, the
 * event's date, the birthday, the line's category and sku. Those tests only
 * ever compare against a handful of values, so at load each becomes a table
 * of masks indexed by the value (tier, day of month, month, weekday,
 * interned id), and an order ANDs a few words instead of walking condition
 * trees. Entries of other kinds keep their condition, which the engine
 * evaluates as before. The line factors G of every set of multipliers are
 * tabled per tier when that is small. Masks hold 64 multipliers, so a
 * policy with more has one plan per 64 (order_blocks); only a policy of one
 * block whose denominator fits 128 bits gets the whole order in 128 bits
 * (order_plan, the first block). lib/engine/earn.c reads the plans;
 * tests/test_points_fast.c and tests/test_points_stack.c check them against
 * the general path and the literal arithmetic.
 */
#include "internal.h"
#include "../result.h"

typedef unsigned __int128 u128;

/* Beyond this many tiers x 2^multipliers the G table is not made (16 bytes
 * an entry): the engine multiplies the factors per order instead. */
enum { G_TABLE_MAX = 2048 };

typedef struct planner {
    loy_policy *p;
    loy_order_plan *pl;
    uint32_t tiers, ids;
    const loy_cond **conds;     /* the leftovers (NULL while counting them) */
    uint32_t count;
} planner;

static void clear_bit(uint64_t *masks, size_t n, bool (*keep)(const loy_cond *, int64_t), const loy_cond *cc,
                      int64_t base, uint64_t bit)
{
    for (size_t v = 0; v < n; v++)
        if (!keep(cc, (int64_t)v + base))
            masks[v] &= ~bit;
}

static bool int_listed(const loy_cond *cc, int64_t v)
{
    for (uint32_t i = 0; i < cc->count; i++)
        if (cc->ints[i] == v)
            return true;
    return false;
}

static bool id_listed(const loy_cond *cc, int64_t id)
{
    for (uint32_t i = 0; i < cc->count; i++)
        if (cc->ids[i] == id)
            return true;
    return false;
}

static bool tier_at_least(const loy_cond *cc, int64_t t) { return t >= cc->n; }
static bool tier_below(const loy_cond *cc, int64_t t) { return t < cc->n; }

static bool reads_order(const loy_cond *cc)
{
    if (cc->op == LOY_C_ORDER_AT_LEAST)
        return true;
    if (cc->op <= LOY_C_NOT)
        for (uint32_t i = 0; i < cc->count; i++)
            if (reads_order(&cc->kids[i]))
                return true;
    return false;
}

/* Entries are pure tests, so a map or `all` holds when each of its entries
 * does, in whatever order they are looked at. */
static void plan_cond(planner *pn, const loy_cond *cc, uint32_t j)
{
    loy_order_plan *pl = pn->pl;
    uint64_t bit = UINT64_C(1) << j;
    switch (cc->op) {
    case LOY_C_MAP:
    case LOY_C_ALL:
        for (uint32_t i = 0; i < cc->count; i++)
            plan_cond(pn, &cc->kids[i], j);
        return;
    case LOY_C_TIER:
        clear_bit(pl->tier_ok, pn->tiers, int_listed, cc, 0, bit);
        return;
    case LOY_C_TIER_AT_LEAST:
        clear_bit(pl->tier_ok, pn->tiers, tier_at_least, cc, 0, bit);
        return;
    case LOY_C_TIER_BELOW:
        clear_bit(pl->tier_ok, pn->tiers, tier_below, cc, 0, bit);
        return;
    case LOY_C_DAY_OF_MONTH:
        clear_bit(pl->day_of_month + 1, 31, int_listed, cc, 1, bit);
        return;
    case LOY_C_MONTH:
        clear_bit(pl->month + 1, 12, int_listed, cc, 1, bit);
        return;
    case LOY_C_WEEKDAY:
        clear_bit(pl->weekday, 7, int_listed, cc, 0, bit);
        pl->any_weekday = true;
        return;
    case LOY_C_DATE_BETWEEN:
        if (!(pl->dated & bit)) {
            pl->dated |= bit;
            pl->date_from[j] = cc->ints[0];
            pl->date_to[j] = cc->ints[1];
        } else {
            if (cc->ints[0] > pl->date_from[j])
                pl->date_from[j] = cc->ints[0];
            if (cc->ints[1] < pl->date_to[j])
                pl->date_to[j] = cc->ints[1];
        }
        return;
    case LOY_C_TIME_BETWEEN:
        /* a second range (under `all`) is left as a condition: ranges that
         * wrap past midnight do not intersect into one */
        if (pl->timed & bit)
            break;
        pl->timed |= bit;
        pl->time_from[j] = cc->ints[0];
        pl->time_to[j] = cc->ints[1];
        return;
    case LOY_C_PAID:
        if (cc->word == LOY_PAID_ACTIVE) {
            pl->paid_active |= bit;
            return;
        }
        if (cc->word == LOY_PAID_NONE) {
            pl->paid_none |= bit;
            return;
        }
        break;
    case LOY_C_BIRTHDAY:
        if (cc->word == LOY_BDAY_MONTH) {
            pl->birthday_month |= bit;
            return;
        }
        if (cc->word == LOY_BDAY_DAY) {
            pl->birthday_day |= bit;
            return;
        }
        break;
    case LOY_C_CATEGORY:
        pl->line_dep |= bit;
        clear_bit(pl->category_ok, pn->ids + 1, id_listed, cc, -1, bit);
        return;
    case LOY_C_SKU:
        pl->line_dep |= bit;
        clear_bit(pl->sku_ok, pn->ids + 1, id_listed, cc, -1, bit);
        return;
    default:
        break;
    }
    /* left to loy_cond_holds: per order, or per line when it looks at one */
    if (reads_order(cc))
        pl->reads_order = true;
    if (pn->conds)
        pn->conds[pn->count] = cc;
    pn->count++;
    if (cc->has_line_pred) {
        pl->line_rest |= bit;
        pl->line_dep |= bit;
    } else {
        pl->rest |= bit;
    }
}

/* 10^(4 x k) for k <= 9 */
static u128 fix_pow(uint32_t k)
{
    u128 r = 1;
    for (; k > 0; k--)
        r *= LOY_FIX_ONE;
    return r;
}

/* The line factor G of the multipliers in `mask` (lib/engine/earn.c,
 * line_factor); 0 under multiply when it leaves 128 bits. */
static u128 g_of(const loy_points *pts, const loy_fix *f, uint64_t mask, uint32_t scale)
{
    switch (pts->stacking) {
    case LOY_STACK_MULTIPLY: {
        u128 v = 1;
        uint32_t used = 0;
        for (uint64_t m = mask; m; m &= m - 1) {
            if (__builtin_mul_overflow(v, (u128)(uint64_t)f[__builtin_ctzll(m)], &v))
                return 0;
            used++;
        }
        return __builtin_mul_overflow(v, fix_pow(scale - used), &v) ? 0 : v;
    }
    case LOY_STACK_ADD: {
        __int128 sum = LOY_FIX_ONE;
        for (uint64_t m = mask; m; m &= m - 1)
            sum += (__int128)f[__builtin_ctzll(m)] - LOY_FIX_ONE;
        return sum < 0 ? 0 : (u128)sum;
    }
    case LOY_STACK_MAX: {
        loy_fix best = 0;
        for (uint64_t m = mask; m; m &= m - 1)
            if (f[__builtin_ctzll(m)] > best)
                best = f[__builtin_ctzll(m)];
        return (u128)(uint64_t)(mask ? best : LOY_FIX_ONE);
    }
    }
    return 0;
}

static bool all_positive(const loy_fix *f, uint64_t mask)
{
    for (uint64_t m = mask; m; m &= m - 1)
        if (f[__builtin_ctzll(m)] <= 0)
            return false;
    return true;
}

static u128 gcd(u128 a, u128 b)
{
    while (b) {
        u128 r = a % b;
        a = b;
        b = r;
    }
    return a;
}

static void *zalloc(loy_policy *p, size_t n, size_t size)
{
    void *v = loy_arena_alloc(p->arena, (n ? n : 1) * size);
    if (v)
        memset(v, 0, (n ? n : 1) * size);
    return v;
}

static void fill(uint64_t *masks, size_t n, uint64_t all)
{
    for (size_t i = 0; i < n; i++)
        masks[i] = all;
}

/* The masks, factors and leftover conditions of multipliers base..base +
 * count - 1 (count <= 64) into *pl; false on NOMEM. */
static bool plan_block(loy_policy *p, uint32_t base, uint32_t count, loy_order_plan *pl)
{
    const loy_points *pts = &p->points;
    uint64_t all = count == 64 ? ~UINT64_C(0) : (UINT64_C(1) << count) - 1;
    planner pn = {p, pl, p->tiers.count, p->interned.count, NULL, 0};
    pl->count = count;
    pl->tier_ok = zalloc(p, pn.tiers, sizeof *pl->tier_ok);
    pl->factor = zalloc(p, (size_t)pn.tiers * count, sizeof *pl->factor);
    pl->category_ok = zalloc(p, pn.ids + 1, sizeof *pl->category_ok);
    pl->sku_ok = zalloc(p, pn.ids + 1, sizeof *pl->sku_ok);
    pl->digits = zalloc(p, (size_t)pn.tiers * count, sizeof *pl->digits);
    pl->decimals = zalloc(p, (size_t)pn.tiers * count, sizeof *pl->decimals);
    pl->first = zalloc(p, count + 1, sizeof *pl->first);
    if (!pl->tier_ok || !pl->factor || !pl->digits || !pl->decimals || !pl->category_ok || !pl->sku_ok ||
        !pl->first)
        return false;
    fill(pl->tier_ok, pn.tiers, all);
    fill(pl->day_of_month, 32, all);
    fill(pl->month, 13, all);
    fill(pl->weekday, 7, all);
    fill(pl->category_ok, pn.ids + 1, all);
    fill(pl->sku_ok, pn.ids + 1, all);

    for (uint32_t j = 0; j < count; j++) {
        const loy_multiplier *mu = &pts->multipliers[base + j];
        for (uint32_t t = 0; t < pn.tiers; t++) {
            loy_fix f = mu->factor;
            if (mu->by_tier) {
                f = mu->tier_factor ? mu->tier_factor[t] : 0;
                if (f <= 0)
                    pl->tier_ok[t] &= ~(UINT64_C(1) << j);
            }
            size_t at = (size_t)t * count + j;
            uint32_t decimals;
            pl->factor[at] = f;
            pl->digits[at] = loy_fix_reduced(f, &decimals);
            pl->decimals[at] = (uint8_t)decimals;
        }
    }
    /* two passes over the conditions: count the leftovers, then keep them */
    for (int pass = 0; pass < 2; pass++) {
        pn.count = 0;
        for (uint32_t j = 0; j < count; j++) {
            pl->first[j] = pn.count;
            if (pts->multipliers[base + j].when)
                plan_cond(&pn, pts->multipliers[base + j].when, j);
        }
        pl->first[count] = pn.count;
        if (pass == 0) {
            pn.conds = zalloc(p, pn.count, sizeof *pn.conds);
            if (!pn.conds)
                return false;
            /* The second pass makes the same masks again: every step
             * above clears, sets or intersects, so repeating it changes
             * nothing, but for the first time_between of a multiplier,
             * which must be found first again. */
            pl->timed = 0;
        }
    }
    pl->conds = pn.conds;
    pl->timed_or_paid = pl->timed | pl->paid_active | pl->paid_none;
    return true;
}

/* ------------------------------------------- leftovers shared by multipliers
 * Many multipliers may carry the same leftover entry (a policy that gives
 * every campaign the same channels): each distinct test gets a class, and
 * the general path evaluates a class once per order. */

/* Do a and b test the same? What loy_cond_holds reads, not the spelling. */
static bool same_test(const loy_cond *a, const loy_cond *b)
{
    if (a->op != b->op || a->word != b->word || a->count != b->count || a->n != b->n || a->n2 != b->n2 ||
        !a->kids != !b->kids || !a->ints != !b->ints || !a->strs != !b->strs || !a->ids != !b->ids)
        return false;
    for (uint32_t i = 0; i < a->count; i++)
        if ((a->kids && !same_test(&a->kids[i], &b->kids[i])) || (a->ints && a->ints[i] != b->ints[i]) ||
            (a->strs && strcmp(a->strs[i], b->strs[i]) != 0) || (a->ids && a->ids[i] != b->ids[i]))
            return false;
    return true;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * UINT64_C(0x100000001b3);
}

/* equal for same_test's equals */
static uint64_t test_hash(const loy_cond *c)
{
    uint64_t h = mix(mix(mix(UINT64_C(0xcbf29ce484222325), (uint64_t)c->op), (uint64_t)c->count),
                     (uint64_t)c->n ^ (uint64_t)c->n2 << 1 ^ (uint64_t)c->word << 2);
    for (uint32_t i = 0; i < c->count; i++) {
        if (c->kids)
            h = mix(h, test_hash(&c->kids[i]));
        if (c->ints)
            h = mix(h, (uint64_t)c->ints[i]);
        if (c->strs)
            for (const char *s = c->strs[i]; *s; s++)
                h = mix(h, (unsigned char)*s);
    }
    return h;
}

/* Numbers the blocks' leftovers by distinct test; false on NOMEM. */
static bool class_leftovers(loy_policy *p, loy_order_plan *blocks, uint32_t count)
{
    size_t total = 0;
    for (uint32_t b = 0; b < count; b++)
        total += blocks[b].first[blocks[b].count];
    /* open addressing, at most half full: slot = class + 1, 0 free */
    size_t slots = 2;
    while (slots < 2 * total)
        slots *= 2;
    uint32_t *table = zalloc(p, slots, sizeof *table);
    const loy_cond **rep = zalloc(p, total, sizeof *rep);
    if (!table || !rep)
        return false;
    uint32_t classes = 0;
    for (uint32_t b = 0; b < count; b++) {
        loy_order_plan *pl = &blocks[b];
        uint32_t n = pl->first[pl->count];
        pl->cond_class = zalloc(p, n, sizeof *pl->cond_class);
        if (!pl->cond_class)
            return false;
        for (uint32_t k = 0; k < n; k++) {
            const loy_cond *cc = pl->conds[k];
            size_t at = (size_t)test_hash(cc) & (slots - 1);
            while (table[at] && !same_test(rep[table[at] - 1], cc))
                at = (at + 1) & (slots - 1);
            if (!table[at]) {
                rep[classes] = cc;
                table[at] = ++classes;
            }
            pl->cond_class[k] = table[at] - 1;
        }
    }
    p->order_cond_classes = classes;
    return true;
}

/*
 * The "rules" list of every set of multipliers, for the points effect of an
 * order (earn.c, credit_order): nodes shared by every answer, so an order
 * links one instead of building a list and a name per rule. Names are
 * listed by multiplier index; the names of a mask are its lowest bit's name
 * followed by the names of the mask without that bit, so each mask adds
 * one name node and the lists share their tails.
 */
static bool rules_nodes(loy_result *r, loy_policy *p)
{
    const loy_points *pts = &p->points;
    size_t n = (size_t)1 << pts->multiplier_count;
    loy_node *lists = rn_block(r, 2 * n);
    if (!lists)
        return false;
    loy_node *names = lists + n;
    for (size_t mask = 0; mask < n; mask++) {
        loy_node *list = rn_init_list(&lists[mask], "rules");
        if (mask) {
            size_t rest = mask & (mask - 1);
            loy_node *name = rn_init_str(&names[mask], NULL, pts->multipliers[__builtin_ctzll(mask)].id);
            name->next = rest ? &names[rest] : NULL;
            list->first = name;
            list->last = &names[(size_t)1 << (63 - __builtin_clzll(mask))];
            list->count = (uint32_t)__builtin_popcountll(mask);
        }
    }
    for (size_t mask = 0; mask < n; mask++)
        rn_fix(&lists[mask]);
    p->order_rules = lists;
    return true;
}

bool loy_policy_order_plan(loy_policy *p)
{
    const loy_points *pts = &p->points;
    uint32_t mc = pts->multiplier_count;
    p->order_plan = NULL;
    p->order_blocks = NULL;
    p->order_cond_classes = 0;
    p->order_rules = NULL;
    if (pts->has_earn && mc <= LOY_ORDER_RULES_MAX) {
        loy_result r;
        rn_fixed_begin(&r, p);
        bool built = rules_nodes(&r, p);
        if (!rn_fixed_end(&r, p) || !built)
            return false;
    }
    if (!pts->has_earn || p->tiers.count == 0)
        return true;
    uint32_t blocks = mc ? (mc + 63) / 64 : 1;
    loy_order_plan *pl = zalloc(p, blocks, sizeof *pl);
    if (!pl)
        return false;
    for (uint32_t b = 0; b < blocks; b++)
        if (!plan_block(p, 64 * b, mc - 64 * b < 64 ? mc - 64 * b : 64, &pl[b]))
            return false;
    if (!class_leftovers(p, pl, blocks))
        return false;
    p->order_blocks = pl;
    /* the whole order in 128 bits needs one block and a denominator that
     * 128 bits hold */
    if (blocks > 1 || (p->points_den_lo == 0 && p->points_den_hi == 0))
        return true;
    uint64_t all = mc == 64 ? ~UINT64_C(0) : (UINT64_C(1) << mc) - 1;
    uint32_t tiers = p->tiers.count;
    uint32_t scale = pts->stacking == LOY_STACK_MULTIPLY ? mc : 1;
    pl->scale = scale;
    u128 den = (u128)p->points_den_hi << 64 | p->points_den_lo;
    if (mc < 31 && ((uint64_t)tiers << mc) <= G_TABLE_MAX) {
        size_t n = (size_t)tiers << mc;
        pl->g = zalloc(p, 2 * n, sizeof *pl->g);
        if (!pl->g)
            return false;
        bool whole = true;
        for (uint32_t t = 0; t < tiers; t++)
            for (uint64_t mask = 0; mask <= all; mask++) {
                u128 g = g_of(pts, pl->factor + (size_t)t * mc, mask, scale);
                /* a G past 128 bits that an order can meet (no factor 0 of
                 * an unlisted tier in it) sends the table away, so the
                 * engine need not test each entry: it then multiplies per
                 * order and falls back where it overflows */
                if (g == 0 && pts->stacking == LOY_STACK_MULTIPLY && all_positive(pl->factor + (size_t)t * mc, mask))
                    whole = false;
                size_t at = ((size_t)t << mc | mask) * 2;
                pl->g[at] = (uint64_t)g;
                pl->g[at + 1] = (uint64_t)(g >> 64);
            }
        if (!whole)
            pl->g = NULL;
    }
    if (pl->g) {
        size_t n = (size_t)tiers << mc;
        /* Every G and the denominator share factors (apparel: 10^3 per
         * factor, so 10^12 of the 10^16): dividing them all by their gcd
         * d leaves the quotients and the remainders' signs (ceil) and
         * halves (nearest) as they were, since x = d x' and D = d D', and
         * an order's sums then mostly fit 64 bits. */
        u128 d = den;
        for (size_t i = 0; i < n && d > 1; i++) {
            u128 g = (u128)pl->g[2 * i + 1] << 64 | pl->g[2 * i];
            if (g)
                d = gcd(d, g);
        }
        if (d > 1) {
            for (size_t i = 0; i < n; i++) {
                u128 g = ((u128)pl->g[2 * i + 1] << 64 | pl->g[2 * i]) / d;
                pl->g[2 * i] = (uint64_t)g;
                pl->g[2 * i + 1] = (uint64_t)(g >> 64);
            }
            den /= d;
        }
    }
    pl->den_lo = (uint64_t)den;
    pl->den_hi = (uint64_t)(den >> 64);
    p->order_plan = pl;
    return true;
}
