/*
 * Points on an order (POLICY.md §4.1), then counting the order (§3.1).
 *
 * Raw points are exact rationals: amount x rate.points x factor /
 * (rate.amount x 10^4 per factor). With `multiply` stacking a line's factor
 * is a product of up to every multiplier of the policy, so the numerator can
 * outgrow any fixed width; it is kept in 128 bits while it fits, then as a
 * small unsigned big integer in the result's arena (64-bit limbs). Each
 * factor's trailing decimal zeros are dropped first (raw_points), and the
 * lines are brought to one denominator so that an order's lines add
 * exactly before their single rounding.
 */
#include "engine.h"

#include <stdio.h>

/* ------------------------------------------------------------- big numbers */

typedef struct big {
    uint64_t *w;        /* little-endian limbs */
    size_t n;           /* limbs in use (no leading zero limbs) */
    size_t cap;
} big;

static bool big_init(loy_ctx *c, big *b, size_t cap)
{
    size_t bytes;
    if (__builtin_mul_overflow(cap, sizeof *b->w, &bytes))
        return false;
    b->w = loy_arena_alloc(&c->r->arena, bytes);
    if (!b->w) {
        c->r->nomem = true;
        return false;
    }
    b->cap = cap;
    b->n = 0;
    return true;
}

static void big_set(big *b, uint64_t v)
{
    b->n = 0;
    if (v)
        b->w[b->n++] = v;
}

static void big_copy(big *dst, const big *src)
{
    memcpy(dst->w, src->w, src->n * sizeof *src->w);
    dst->n = src->n;
}

/* b *= v; the caller sized b for it. */
static void big_mul(big *b, uint64_t v)
{
    unsigned __int128 carry = 0;
    for (size_t i = 0; i < b->n; i++) {
        unsigned __int128 t = (unsigned __int128)b->w[i] * v + carry;
        b->w[i] = (uint64_t)t;
        carry = t >> 64;
    }
    if (carry)
        b->w[b->n++] = (uint64_t)carry;
    while (b->n && b->w[b->n - 1] == 0)
        b->n--;
}

/* a += b */
static void big_add(big *a, const big *b)
{
    unsigned __int128 carry = 0;
    size_t n = a->n > b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        unsigned __int128 t = carry;
        if (i < a->n)
            t += a->w[i];
        if (i < b->n)
            t += b->w[i];
        a->w[i] = (uint64_t)t;
        carry = t >> 64;
    }
    a->n = n;
    if (carry)
        a->w[a->n++] = (uint64_t)carry;
}

/* b *= v for a 128-bit v, using tmp as scratch. */
static void big_mul128(big *b, unsigned __int128 v, big *tmp)
{
    uint64_t lo = (uint64_t)v, hi = (uint64_t)(v >> 64);
    if (hi == 0) {
        big_mul(b, lo);
        return;
    }
    big_copy(tmp, b);
    big_mul(tmp, hi);
    big_mul(b, lo);
    if (tmp->n) {
        memmove(tmp->w + 1, tmp->w, tmp->n * sizeof *tmp->w);
        tmp->w[0] = 0;
        tmp->n++;
    }
    big_add(b, tmp);
}

/* b = floor(b / d); returns the remainder. */
static uint64_t big_div(big *b, uint64_t d)
{
    unsigned __int128 rem = 0;
    for (size_t i = b->n; i-- > 0;) {
        unsigned __int128 cur = (rem << 64) | b->w[i];
        b->w[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
    while (b->n && b->w[b->n - 1] == 0)
        b->n--;
    return (uint64_t)rem;
}

static bool big_to_i64(const big *b, int64_t *out)
{
    if (b->n == 0) {
        *out = 0;
        return true;
    }
    if (b->n > 1 || b->w[0] > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)b->w[0];
    return true;
}

/* 10^k for k <= 19: 10^19 is the largest power of ten in one limb. */
static const uint64_t POW10[20] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
    1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
    100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
    1000000000000000000ull, 10000000000000000000ull};

/* b *= 10^k, 19 digits a step */
static void big_mul_pow10(big *b, uint32_t k)
{
    for (; k >= 19; k -= 19)
        big_mul(b, POW10[19]);
    if (k)
        big_mul(b, POW10[k]);
}

/* b = floor(b / 10^k); whether a remainder was dropped. floor(floor(x/a)/b)
 * = floor(x/ab), so dividing a step at a time tells the same. */
static bool big_div_pow10(big *b, uint32_t k)
{
    bool inexact = false;
    for (; k >= 19; k -= 19)
        inexact |= big_div(b, POW10[19]) != 0;
    if (k)
        inexact |= big_div(b, POW10[k]) != 0;
    return inexact;
}

/*
 * num = round(num / (rate_amount x 10^k)) in place. `den` is scratch of
 * num's capacity. Dividing by each factor in turn gives the floor of the
 * whole quotient; a remainder anywhere means the quotient is not whole.
 */
static void big_round_div(big *num, uint64_t rate_amount, uint32_t k, loy_round mode, big *den)
{
    if (mode == LOY_ROUND_NEAREST) {
        /* floor(x/D + 1/2) = floor((2x + D) / 2D) */
        big_set(den, rate_amount);
        big_mul_pow10(den, k);
        big_mul(num, 2);
        big_add(num, den);
        big_div(num, 2);
    }
    bool inexact = big_div(num, rate_amount) != 0;
    inexact |= big_div_pow10(num, k);
    if (mode == LOY_ROUND_CEIL && inexact) {
        big_set(den, 1);
        big_add(num, den);
    }
}

/* ------------------------------------------------ the 128-bit fast path */

/*
 * Most orders' numbers fit in 128 bits, so raw_points keeps a line's term
 * and the order's sum as unsigned __int128 while they fit, and moves to big
 * numbers only on the first overflow. Both give the same exact quotients.
 */
typedef unsigned __int128 u128;

static void big_set128(big *b, u128 v)
{
    b->n = 0;
    if (v) {
        b->w[b->n++] = (uint64_t)v;
        if (v >> 64)
            b->w[b->n++] = (uint64_t)(v >> 64);
    }
}

/* A number >= 0: in `v` while it fits 128 bits (small), else in `b`. */
typedef struct num {
    u128 v;
    bool small;
    big b;
} num;

static void num_set(num *x, u128 v)
{
    x->v = v;
    x->small = true;
}

static void num_to_big(num *x)
{
    if (x->small) {
        big_set128(&x->b, x->v);
        x->small = false;
    }
}

/* x *= v */
static void num_mul(num *x, u128 v, big *tmp)
{
    if (x->small) {
        u128 r;
        if ((x->v >> 64) == 0 && (v >> 64) == 0) {
            x->v *= v;          /* two 64-bit numbers: the product fits */
            return;
        }
        if (!__builtin_mul_overflow(x->v, v, &r)) {
            x->v = r;
            return;
        }
        num_to_big(x);
    }
    big_mul128(&x->b, v, tmp);
}

/* x *= 10^k */
static void num_mul_pow10(num *x, uint32_t k, big *tmp)
{
    for (; k >= 19; k -= 19)
        num_mul(x, POW10[19], tmp);
    if (k)
        num_mul(x, POW10[k], tmp);
}

/* a += b (b may move to its big form) */
static void num_add(num *a, num *b)
{
    u128 sum;
    if (a->small && b->small && !__builtin_add_overflow(a->v, b->v, &sum)) {
        a->v = sum;
        return;
    }
    num_to_big(a);
    num_to_big(b);
    big_add(&a->b, &b->b);
}

/* x's bit length */
static size_t num_bits(const num *x)
{
    if (x->small) {
        uint64_t hi = (uint64_t)(x->v >> 64), lo = (uint64_t)x->v;
        return hi ? 128 - (size_t)__builtin_clzll(hi) : lo ? 64 - (size_t)__builtin_clzll(lo) : 0;
    }
    return x->b.n ? 64 * x->b.n - (size_t)__builtin_clzll(x->b.w[x->b.n - 1]) : 0;
}

/* Is x / (rate_amount x 10^k) certainly 2^63 or more, by bit lengths alone?
 * 10^k < 2^(floor(3.322k) + 1) as log2(10) < 3.322, so with x >= 2^(bits-1)
 * the quotient passes 2^63 once bits >= 64 + that + rate_amount's bits. A
 * stack of large factors is settled so without dividing it out. */
static bool past_int64(size_t bits, int64_t rate_amount, uint32_t k)
{
    size_t den_bits = 64 - (size_t)__builtin_clzll((uint64_t)rate_amount) + (size_t)k * 3322 / 1000 + 1;
    return bits >= 64 + den_bits;
}

/* big_round_div for a 128-bit x with den = rate_amount x 10^k,
 * den < 2^126: floor; ceil adds 1 for a remainder; nearest is
 * floor((2x + D) / 2D) = q + (2r >= D) for x = qD + r. */
static u128 round128(u128 x, u128 den, loy_round mode)
{
    u128 q = x / den, r = x % den;
    if (mode == LOY_ROUND_NEAREST)
        return q + (2 * r >= den);
    if (mode == LOY_ROUND_CEIL)
        return q + (r != 0);
    return q;
}

/* 10^k for k <= 38 (below 2^127). */
static u128 pow10_128(uint32_t k)
{
    u128 r = POW10[k % 19];
    for (k /= 19; k > 0; k--)
        r *= POW10[19];
    return r;
}

/* rate_amount x 10^k when it is below 2^126, else 0. */
static u128 den128(int64_t rate_amount, uint32_t k)
{
    u128 d;
    if (rate_amount <= 0 || k > 38 || __builtin_mul_overflow((u128)rate_amount, pow10_128(k), &d))
        return 0;
    return d < ((u128)1 << 126) ? d : 0;
}

/* ------------------------------------------------------------------ lines */

bool loy_line_in(const loy_strs *categories, const loy_strs *skus, const loy_line *line)
{
    if (line->category.set && categories->count && loy_strs_has(categories, line->category.s))
        return true;
    if (line->sku.set && skus->count && loy_strs_has(skus, line->sku.s))
        return true;
    return false;
}

static const char *fix_text(char buf[32], loy_fix f)
{
    int64_t whole = f / LOY_FIX_ONE, frac = f % LOY_FIX_ONE;
    if (frac == 0) {
        snprintf(buf, 32, "%lld", (long long)whole);
        return buf;
    }
    int digits = 4;
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    snprintf(buf, 32, "%lld.%0*lld", (long long)whole, digits, (long long)frac);
    return buf;
}

/* Multiplier j's factor for the member's tier; <= 0 for a by_tier multiplier
 * that does not list the tier. */
static loy_fix multiplier_factor(const loy_ctx *c, const loy_multiplier *mu)
{
    if (mu->by_tier)
        return mu->tier_factor ? mu->tier_factor[c->m->tier] : 0;
    return mu->factor;
}

/* Does multiplier j apply to the line under evaluation (c->line)? Its factor in *factor. */
static bool multiplier_applies(loy_ctx *c, const loy_multiplier *mu, size_t line_no, loy_fix *factor)
{
    *factor = multiplier_factor(c, mu);
    if (mu->by_tier && *factor <= 0) {
        if (c->trace)
            loy_trace(c, mu->id, false, "line %zu: tier '%s' has no factor", line_no,
                      c->p->tiers.levels[c->m->tier].id);
        return false;
    }
    if (mu->when && !loy_cond_holds(c, mu->when)) {
        if (c->trace) {
            char what[48];
            snprintf(what, sizeof what, "line %zu", line_no);
            loy_trace_cond(c, mu->id, mu->when, what);
        }
        return false;
    }
    if (c->trace) {
        char buf[32];
        loy_trace(c, mu->id, true, "line %zu: factor %s", line_no, fix_text(buf, *factor));
    }
    return true;
}

/* A line's factors under `multiply`, as m / 10^d each (loy_fix_reduced):
 * the m's multiply in one word until it would overflow, so the line's
 * number takes a few products rather than one per factor. */
typedef struct stack {
    uint64_t chunk;     /* the m's not yet in the line's number */
    uint32_t k;         /* the sum of the d's */
} stack;

static inline void stack_push(stack *st, num *term, uint64_t m, uint32_t d, big *tmp)
{
    uint64_t both;
    if (__builtin_mul_overflow(st->chunk, m, &both)) {
        num_mul(term, st->chunk, tmp);
        both = m;
    }
    st->chunk = both;
    st->k += d;
}

/* round(x / (rate_amount x 10^k)) in *out; false when that passes int64.
 * `scratch` has x's capacity. */
static bool num_round(num *x, int64_t rate_amount, uint32_t k, loy_round mode, big *scratch, int64_t *out)
{
    if (past_int64(num_bits(x), rate_amount, k))
        return false;
    u128 den = x->small ? den128(rate_amount, k) : 0;
    if (den) {
        u128 q = round128(x->v, den, mode);
        *out = (int64_t)q;
        return q <= (u128)INT64_MAX;
    }
    num_to_big(x);
    big_round_div(&x->b, (uint64_t)rate_amount, k, mode, scratch);
    return big_to_i64(&x->b, out);
}

/* ------------------------------------------------- the compiled order path */

/*
 * raw_points for the common case, from the policy's order plan
 * (lib/policy.h, loy_order_plan), with the same exact arithmetic: no trace
 * (which reports every line), at most 64 multipliers, a denominator below
 * 2^126 and the lines' ids resolved in step 1. The multipliers that hold
 * for the order are a few masks ANDed by tier, day of month, month and
 * weekday, with date ranges, the birthday and any leftover entries tested
 * only for the multipliers still in; a line narrows them by its category
 * and sku ids (leftover line entries once per distinct pair of ids, since
 * strings the policy does not name all resolve to -1 and compare alike).
 * A line's factor is then one 128-bit number G, read from the plan's table,
 * with term = amount x rate.points x G over the common denominator.
 * Anything that leaves 128 bits returns 0 and the general path starts
 * over; a differential test (tests/test_points_fast.c) drives both.
 */

/* A line's factor G for the multipliers in `mask`, or false when it leaves 128 bits. */
static bool line_factor(const loy_points *pts, const loy_fix *f, uint64_t mask, uint32_t scale, u128 *g)
{
    switch (pts->stacking) {
    case LOY_STACK_MULTIPLY: {
        u128 v = 1;
        uint32_t used = 0;
        for (uint64_t m = mask; m; m &= m - 1) {
            if (__builtin_mul_overflow(v, (u128)(uint64_t)f[__builtin_ctzll(m)], &v))
                return false;
            used++;
        }
        return !__builtin_mul_overflow(v, pow10_128(4 * (scale - used)), g);
    }
    case LOY_STACK_ADD: {
        __int128 sum = LOY_FIX_ONE;
        for (uint64_t m = mask; m; m &= m - 1)
            sum += (__int128)f[__builtin_ctzll(m)] - LOY_FIX_ONE;
        *g = sum < 0 ? 0 : (u128)sum;
        return true;
    }
    case LOY_STACK_MAX: {
        loy_fix best = 0;
        for (uint64_t m = mask; m; m &= m - 1)
            if (f[__builtin_ctzll(m)] > best)
                best = f[__builtin_ctzll(m)];
        *g = (u128)(uint64_t)(mask ? best : LOY_FIX_ONE);
        return true;
    }
    }
    return false;
}

static bool line_excluded(const loy_interned *t, loy_line_ids id, unsigned cat_flag, unsigned sku_flag)
{
    return (id.category >= 0 && (t->flags[id.category] & cat_flag)) ||
           (id.sku >= 0 && (t->flags[id.sku] & sku_flag));
}

/* A line's exclusions from points (LOY_IN_PTS) and from the tier
 * (LOY_IN_TIER), from one read of each id's flags. */
enum { LOY_IN_PTS = LOY_IN_PTS_CAT | LOY_IN_PTS_SKU, LOY_IN_TIER = LOY_IN_TIER_CAT | LOY_IN_TIER_SKU };
static inline unsigned line_flags(const loy_interned *t, loy_line_ids id)
{
    unsigned fc = id.category >= 0 ? t->flags[id.category] : 0;
    unsigned fs = id.sku >= 0 ? t->flags[id.sku] : 0;
    return (fc & (LOY_IN_PTS_CAT | LOY_IN_TIER_CAT)) | (fs & (LOY_IN_PTS_SKU | LOY_IN_TIER_SKU));
}

/* distinct pairs of line ids an order remembers; an order has few */
enum { FAST_CACHE = 8 };

/* round128, in 64 bits when both fit: the plan's reduced numbers mostly do. */
static inline u128 round_plan(u128 x, u128 den, loy_round mode)
{
    if (((x | den) >> 64) != 0)
        return round128(x, den, mode);
    uint64_t x64 = (uint64_t)x, d64 = (uint64_t)den;
    uint64_t q = x64 / d64, r = x64 % d64;
    if (mode == LOY_ROUND_NEAREST)
        return q + (r >= d64 - r);
    if (mode == LOY_ROUND_CEIL)
        return q + (r != 0);
    return q;
}

typedef struct plan_run {
    const loy_order_plan *pl;
    uint64_t holds;             /* the multipliers whose line-free part holds */
    uint64_t line_rest;         /* of those, the ones with line entries left to test */
    bool by_line;               /* some of them look at the line */
    const uint64_t *g_row;      /* the tier's G table, or NULL */
    const loy_fix *f_row;       /* without a table: the tier's factors */
    u128 den;
    /* line leftovers per distinct pair of line ids */
    struct {
        loy_line_ids key;
        uint64_t fails;
    } seen[FAST_CACHE];
    unsigned seen_count;
    bool have_last;             /* without a table: the last mask's G */
    uint64_t last_mask;
    u128 last_g;
    uint64_t used;              /* the union of the lines' masks */
    u128 acc;
} plan_run;

/* time_between and paid (active, none) as in cond.c; out of line, as
 * policies without them should not carry the code. */
static __attribute__((noinline)) uint64_t time_and_plan(const loy_ctx *c, const loy_order_plan *pl, uint64_t holds)
{
    int32_t now = c->at.seconds / 60;
    for (uint64_t b = holds & pl->timed; b; b &= b - 1) {
        unsigned j = (unsigned)__builtin_ctzll(b);
        int32_t from = pl->time_from[j], to = pl->time_to[j];
        bool in = from < to ? now >= from && now < to : from > to ? now >= from || now < to : false;
        if (!in)
            holds &= ~((uint64_t)1 << j);
    }
    if (holds & (pl->paid_active | pl->paid_none)) {
        bool runs = c->m->plan >= 0 && c->day <= c->m->plan_until;
        holds &= ~(runs ? pl->paid_none : pl->paid_active);
    }
    return holds;
}

/* Does the plan's leftover entry k hold? With `memo`, each class of equal
 * tests is evaluated once an order (memo[class]: 0 not yet, 1 holds, 2 fails). */
static inline __attribute__((always_inline)) bool leftover_holds(loy_ctx *c, const loy_order_plan *pl, uint32_t k,
                                                                 uint8_t *memo)
{
    if (!memo)
        return loy_cond_holds(c, pl->conds[k]);
    uint8_t *seen = &memo[pl->cond_class[k]];
    if (!*seen)
        *seen = loy_cond_holds(c, pl->conds[k]) ? 1 : 2;
    return *seen == 1;
}

/* The order's part: false when refused (c->code). `memo`: see leftover_holds. */
static inline __attribute__((always_inline)) bool plan_start(loy_ctx *c, const loy_order_plan *pl, plan_run *run,
                                                             uint8_t *memo)
{
    const loy_member *m = c->m;
    const int32_t tier = m->tier;
    loy_ymd ymd = loy_ctx_ymd(c);
    uint64_t holds = pl->tier_ok[tier] & pl->day_of_month[ymd.d] & pl->month[ymd.m];
    if (pl->any_weekday)
        holds &= pl->weekday[loy_weekday(c->day)];
    for (uint64_t b = holds & pl->dated; b; b &= b - 1) {
        unsigned j = (unsigned)__builtin_ctzll(b);
        if (c->day < pl->date_from[j] || c->day > pl->date_to[j])
            holds &= ~((uint64_t)1 << j);
    }
    if (holds & pl->timed_or_paid)
        holds = time_and_plan(c, pl, holds);
    if (holds & (pl->birthday_month | pl->birthday_day)) {
        /* as birthday_holds in cond.c */
        bool month = false, day = false;
        if (m->birthday != LOY_DAY_NONE) {
            if (holds & pl->birthday_month)
                month = loy_ctx_birthday_month(c, m->birthday) == loy_ctx_month(c);
            if (holds & pl->birthday_day)
                day = loy_ctx_birthday_this_year(c, m->birthday) == c->day;
        }
        if (!month)
            holds &= ~pl->birthday_month;
        if (!day)
            holds &= ~pl->birthday_day;
    }
    for (uint64_t b = holds & pl->rest; b; b &= b - 1) {
        unsigned j = (unsigned)__builtin_ctzll(b);
        for (uint32_t k = pl->first[j]; k < pl->first[j + 1]; k++) {
            if (!pl->conds[k]->has_line_pred && !leftover_holds(c, pl, k, memo)) {
                holds &= ~((uint64_t)1 << j);
                break;
            }
        }
    }
    run->pl = pl;
    run->holds = holds;
    run->line_rest = holds & pl->line_rest;
    run->by_line = (holds & pl->line_dep) != 0;
    if (pl->g) {
        run->g_row = pl->g + ((size_t)tier << pl->count) * 2;
        run->f_row = NULL;
    } else {
        run->g_row = NULL;
        run->f_row = pl->factor + (size_t)tier * pl->count;
    }
    run->den = (u128)pl->den_hi << 64 | pl->den_lo;
    run->seen_count = 0;
    run->have_last = false;
    run->last_mask = 0;
    run->last_g = 0;
    run->used = 0;
    run->acc = 0;
    return !c->code;
}

/* The multipliers of the run's block that apply to line li, in *mask;
 * false when refused. */
static inline __attribute__((always_inline)) bool plan_line_mask(loy_ctx *c, plan_run *run, size_t li,
                                                                 loy_line_ids id, uint64_t *mask_out)
{
    const loy_order_plan *pl = run->pl;
    uint64_t mask = run->holds;
    if (run->by_line) {
        mask &= pl->category_ok[id.category + 1] & pl->sku_ok[id.sku + 1];
        if (mask & run->line_rest) {
            unsigned k = 0;
            while (k < run->seen_count &&
                   (run->seen[k].key.category != id.category || run->seen[k].key.sku != id.sku))
                k++;
            uint64_t fails = 0;
            if (k < run->seen_count) {
                fails = run->seen[k].fails;
            } else {
                c->line = &c->ev->lines[li];
                for (uint64_t b = run->line_rest; b; b &= b - 1) {
                    unsigned j = (unsigned)__builtin_ctzll(b);
                    for (uint32_t q = pl->first[j]; q < pl->first[j + 1]; q++) {
                        const loy_cond *cc = pl->conds[q];
                        if (cc->has_line_pred && !loy_cond_holds(c, cc)) {
                            fails |= (uint64_t)1 << j;
                            break;
                        }
                    }
                }
                c->line = NULL;
                if (c->code)
                    return false;
                if (run->seen_count < FAST_CACHE) {
                    run->seen[run->seen_count].key = id;
                    run->seen[run->seen_count].fails = fails;
                    run->seen_count++;
                }
            }
            mask &= ~fails;
        }
    }
    *mask_out = mask;
    return true;
}

/* Adds the points-eligible line li: 1 done, 0 beyond 128 bits, -1 refused. */
static inline __attribute__((always_inline)) int plan_line(loy_ctx *c, plan_run *run, size_t li, loy_line_ids id, int64_t amount)
{
    const loy_order_plan *pl = run->pl;
    const loy_points *pts = &c->p->points;
    uint64_t mask;
    if (!plan_line_mask(c, run, li, id, &mask))
        return -1;
    u128 g;
    if (run->g_row) {
        /* the plan keeps a table only when no entry an order meets overflows */
        g = (u128)run->g_row[2 * mask + 1] << 64 | run->g_row[2 * mask];
    } else if (run->have_last && mask == run->last_mask) {
        g = run->last_g;
    } else {
        if (!line_factor(pts, run->f_row, mask, pl->scale, &g))
            return 0;
        run->last_mask = mask;
        run->last_g = g;
        run->have_last = true;
    }
    run->used |= mask;
    u128 term = (u128)(uint64_t)amount * (uint64_t)pts->rate_points;
    if (((term | g) >> 64) == 0)
        term = (u128)(uint64_t)term * (uint64_t)g;
    else if (__builtin_mul_overflow(term, g, &term))
        return 0;
    if (pts->round_per_line)
        term = round_plan(term, run->den, pts->rounding);
    if (__builtin_add_overflow(run->acc, term, &run->acc))
        return 0;
    return 1;
}

static u128 plan_total(const loy_ctx *c, const plan_run *run)
{
    const loy_points *pts = &c->p->points;
    return pts->round_per_line ? run->acc : round_plan(run->acc, run->den, pts->rounding);
}

/*
 * The order's points before caps (§4.1 steps 2-4): *fits tells whether they
 * stay within int64, and then *earned holds them. applied[j] tells which
 * multipliers applied to at least one eligible line.
 *
 * Which multipliers apply to a line comes from the policy's block plans
 * (one run per 64 multipliers, as the compiled path reads its plan), or
 * from each multiplier's condition while tracing, which reports them all,
 * or without the lines' ids.
 *
 * A line earns amount x rate.points x its factor / rate.amount, exactly:
 * under `multiply` the factor is a product of m / 10^d (loy_fix_reduced), so the
 * line's points are a number over rate.amount x 10^k with k the sum of the
 * d's; otherwise it is one fixed-point number (k = 4). Rounded per line,
 * each line's quotient is added; rounded per order, the lines are brought to
 * the largest k so far and added before the one rounding. Every number is
 * >= 0, so once the sum is past int64 it stays there: the rest of the
 * arithmetic is skipped, while each line's multipliers are still settled
 * for `applied` and the trace.
 */
/* out of line: the plan takes nearly every order, and this frame is large */
static __attribute__((noinline)) bool raw_points(loy_ctx *c, bool *applied, int64_t *earned, bool *fits)
{
    const loy_points *pts = &c->p->points;
    const loy_event *ev = c->ev;
    uint32_t mc = pts->multiplier_count;
    bool multiply = pts->stacking == LOY_STACK_MULTIPLY;
    /* a line's number is at most amount x rate.points x its factors as
     * written (< 2^63 each) x 10^(4 x the factors it lacks) */
    size_t limbs = (size_t)(multiply ? mc : 1) + 8;
    /* bit j % 64 of on[j / 64]: multiplier j applies to this line; of
     * used[j / 64]: to one of the lines so far */
    size_t words = ((size_t)mc + 63) / 64;
    bool by_plan = !c->trace && c->line_ids && !c->no_event && c->p->order_blocks;
    num term, acc;
    big tmp, scratch;
    uint64_t *on = loy_arena_alloc(&c->r->arena, 2 * (words ? words : 1) * sizeof *on);
    /* a plan_run holds a u128: 16-byte aligned, where the arena gives 8 */
    char *room = by_plan ? loy_arena_alloc(&c->r->arena, words * sizeof(plan_run) + 15) : NULL;
    plan_run *runs = room ? (plan_run *)(room + (-(uintptr_t)room & 15)) : NULL;
    if (!on || (by_plan && !runs) || !big_init(c, &term.b, limbs) || !big_init(c, &acc.b, limbs) ||
        !big_init(c, &tmp, limbs) || !big_init(c, &scratch, limbs)) {
        c->r->nomem = true;
        return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    }
    uint64_t *used = on + words;
    for (size_t w = 0; w < words; w++)
        used[w] = 0;
    if (by_plan) {
        uint32_t classes = c->p->order_cond_classes;
        uint8_t *memo = loy_arena_alloc(&c->r->arena, classes ? classes : 1);
        if (!memo) {
            c->r->nomem = true;
            return loy_refuse(c, LOY_E_NOMEM, "out of memory");
        }
        memset(memo, 0, classes);
        for (size_t b = 0; b < words; b++)
            if (!plan_start(c, &c->p->order_blocks[b], &runs[b], memo))
                return false;
    }

    num_set(&acc, 0);
    uint32_t acc_k = 0;     /* acc is over rate.amount x 10^acc_k */
    bool past = false;      /* the sum is past int64 */
    for (size_t li = 0; li < ev->line_count; li++) {
        const loy_line *line = &ev->lines[li];
        if (loy_line_in(&pts->exclude_categories, &pts->exclude_skus, line)) {
            if (c->trace)
                loy_trace(c, "exclude", true, "line %zu is not points-eligible", li);
            continue;
        }
        if (by_plan) {
            for (size_t b = 0; b < words; b++)
                if (!plan_line_mask(c, &runs[b], li, c->line_ids[li], &on[b]))
                    return false;
        } else {
            c->line = line;
            for (size_t w = 0; w < words; w++)
                on[w] = 0;
            for (uint32_t j = 0; j < mc; j++) {
                loy_fix f;
                if (multiplier_applies(c, &pts->multipliers[j], li, &f))
                    on[j / 64] |= (uint64_t)1 << (j % 64);
            }
            c->line = NULL;
            if (c->code)
                return false;
        }
        bool any = false;
        for (size_t w = 0; w < words; w++) {
            used[w] |= on[w];
            any |= on[w] != 0;
        }
        if (past)
            continue;
        stack st = {1, multiply ? 0 : 4};
        __int128 add_sum = LOY_FIX_ONE;
        loy_fix best = 0;
        num_set(&term, (u128)(uint64_t)line->amount * (uint64_t)pts->rate_points);
        for (size_t w = 0; w < words; w++) {
            /* the block's factors for the member's tier, reduced at load */
            const loy_order_plan *pl = by_plan ? runs[w].pl : NULL;
            size_t row = pl ? (size_t)c->m->tier * pl->count : 0;
            uint64_t bits = on[w];
            if (multiply && pl) {
                for (; bits; bits &= bits - 1) {
                    size_t bit = (size_t)__builtin_ctzll(bits);
                    stack_push(&st, &term, pl->digits[row + bit], pl->decimals[row + bit], &tmp);
                }
                continue;
            }
            for (; bits; bits &= bits - 1) {
                size_t bit = (size_t)__builtin_ctzll(bits);
                loy_fix f = pl ? pl->factor[row + bit] : multiplier_factor(c, &pts->multipliers[64 * w + bit]);
                if (multiply) {
                    uint32_t d;
                    uint64_t m = loy_fix_reduced(f, &d);
                    stack_push(&st, &term, m, d, &tmp);
                } else if (pts->stacking == LOY_STACK_ADD) {
                    add_sum += (__int128)f - LOY_FIX_ONE;
                } else if (f > best) {
                    best = f;
                }
            }
        }
        uint32_t k = st.k;
        if (multiply)
            num_mul(&term, st.chunk, &tmp);
        else if (pts->stacking == LOY_STACK_ADD)
            num_mul(&term, add_sum < 0 ? 0 : (u128)add_sum, &tmp);
        else
            num_mul(&term, (uint64_t)(any ? best : LOY_FIX_ONE), &tmp);
        if (pts->round_per_line) {
            int64_t q;
            if (!num_round(&term, pts->rate_amount, k, pts->rounding, &scratch, &q)) {
                past = true;
                continue;
            }
            /* quotients below 2^63 each: the sum stays small until it passes int64 */
            acc.v += (uint64_t)q;
            past = acc.v > (u128)INT64_MAX;
            continue;
        }
        if (k > acc_k) {
            num_mul_pow10(&acc, k - acc_k, &tmp);
            acc_k = k;
        } else {
            num_mul_pow10(&term, acc_k - k, &tmp);
        }
        num_add(&acc, &term);
        past = past_int64(num_bits(&acc), pts->rate_amount, acc_k);
    }
    for (size_t w = 0; w < words; w++)
        for (uint64_t bits = used[w]; bits; bits &= bits - 1)
            applied[64 * w + (size_t)__builtin_ctzll(bits)] = true;
    if (past || pts->round_per_line) {
        *fits = !past;
        *earned = past ? 0 : (int64_t)acc.v;
        return true;
    }
    *fits = num_round(&acc, pts->rate_amount, acc_k, pts->rounding, &scratch, earned);
    return true;
}

/* Can the plan take this order? Not while tracing, nor without the lines' ids. */
static bool plan_fits(const loy_ctx *c)
{
    return c->p->order_plan && !c->trace && c->line_ids && !c->no_event;
}

/* 1: *out holds the order's raw points, rounded; 0: use the general path
 * (nothing written); -1: refused. */
static int raw_points_plan(loy_ctx *c, uint64_t *applied, u128 *out)
{
    if (!plan_fits(c))
        return 0;
    const loy_order_plan *pl = c->p->order_plan;
    plan_run run;
    if (!plan_start(c, pl, &run, NULL))
        return -1;
    const loy_event *ev = c->ev;
    const loy_interned *t = &c->p->interned;
    for (size_t li = 0; li < ev->line_count; li++) {
        loy_line_ids id = c->line_ids[li];
        if (line_excluded(t, id, LOY_IN_PTS_CAT, LOY_IN_PTS_SKU))
            continue;
        int r = plan_line(c, &run, li, id, ev->lines[li].amount);
        if (r <= 0)
            return r;
    }
    *out = plan_total(c, &run);
    *applied = run.used;
    return 1;
}

/*
 * The whole order in one pass over its lines: eligible and qualifying
 * spend with the points, when the plan can take the order and none of the
 * leftover conditions reads the order's spend (set only after the sums).
 * Conditions are pure tests, so settling them before the sums changes
 * nothing. 1: done; 0: the usual path from the start (an overflow of
 * anything, which it reports in its own order); -1: refused.
 */
static int order_in_one_pass(loy_ctx *c, int64_t *eligible, int64_t *qualifying, u128 *points, uint64_t *applied)
{
    const loy_order_plan *pl = c->p->order_plan;
    if (!plan_fits(c) || pl->reads_order)
        return 0;
    plan_run run;
    if (!plan_start(c, pl, &run, NULL))
        return -1;
    const loy_event *ev = c->ev;
    const loy_interned *t = &c->p->interned;
    int64_t el = 0, q = 0;
    /* With no line conditions every line meets the same rules, and without
     * rounding per line the sum over the lines of amount x rate x g is the
     * eligible spend x rate x g, taken once after the loop. All three are
     * non-negative, so that product passes 128 bits exactly when one of
     * the running sums would have. */
    bool whole = !run.by_line && !c->p->points.round_per_line, any = false;
    const loy_line_ids *ids = c->line_ids;
    const loy_line *lines = ev->lines;
    const size_t count = ev->line_count;
    if (whole) {
        /* the sums alone: a loop that keeps them in registers */
        for (size_t li = 0; li < count; li++) {
            unsigned f = line_flags(t, ids[li]);
            int64_t amount = lines[li].amount;
            if (!(f & LOY_IN_PTS)) {
                if (!loy_add(el, amount, &el))
                    return 0;
                any = true;
            }
            if (!(f & LOY_IN_TIER) && !loy_add(q, amount, &q))
                return 0;
        }
    } else {
        for (size_t li = 0; li < count; li++) {
            loy_line_ids id = ids[li];
            int64_t amount = lines[li].amount;
            unsigned f = line_flags(t, id);
            if (!(f & LOY_IN_PTS)) {
                if (!loy_add(el, amount, &el))
                    return 0;
                int r = plan_line(c, &run, li, id, amount);
                if (r <= 0)
                    return r;
            }
            if (!(f & LOY_IN_TIER) && !loy_add(q, amount, &q))
                return 0;
        }
    }
    if (whole && any && plan_line(c, &run, 0, (loy_line_ids){0}, el) <= 0)
        return 0;   /* past 128 bits: the usual path says so */
    *eligible = el;
    *qualifying = q;
    *points = plan_total(c, &run);
    *applied = run.used;
    return 1;
}

/*
 * cap.per_day counts each local date on its own (§4.1 step 5, §1). With
 * mixed offsets a later event may carry an earlier local date, so the
 * member keeps a count for every date a later event can still reach
 * (loy_earliest_reachable_day, date.h). The dates counted lie between
 * that date and the latest local date of an instant at or before this one
 * (UTC date of this instant + 23:59): three dates at most, the latest in
 * cap_day, the others in cap_earlier.
 */
static void forget_unreachable_days(loy_member *m, const loy_instant *at)
{
    if (m->cap_day == LOY_DAY_NONE)
        return;
    loy_day reach = loy_earliest_reachable_day(at);
    if (m->cap_day < reach) {
        m->cap_day = LOY_DAY_NONE;
        m->day_points = 0;
        m->cap_earlier_count = 0;
        return;
    }
    uint32_t keep = 0;
    for (uint32_t i = 0; i < m->cap_earlier_count; i++)
        if (m->cap_earlier[i].day >= reach)
            m->cap_earlier[keep++] = m->cap_earlier[i];
    m->cap_earlier_count = keep;
}

static int64_t *day_count(loy_member *m, loy_day day)
{
    if (m->cap_day == LOY_DAY_NONE)
        return NULL;
    if (m->cap_day == day)
        return &m->day_points;
    for (uint32_t i = 0; i < m->cap_earlier_count; i++)
        if (m->cap_earlier[i].day == day)
            return &m->cap_earlier[i].points;
    return NULL;
}

/* Adds a date not yet counted, keeping cap_earlier ascending and below
 * cap_day. Past the three reachable dates there is never a fourth; were
 * there one, the earliest would be the one no event can reach. */
static void count_new_day(loy_member *m, loy_day day, int64_t points)
{
    if (m->cap_day == LOY_DAY_NONE) {
        m->cap_day = day;
        m->day_points = points;
        return;
    }
    loy_day_points entry = {day, points};
    if (day > m->cap_day) {
        entry.day = m->cap_day;
        entry.points = m->day_points;
        m->cap_day = day;
        m->day_points = points;
    }
    uint32_t at = 0;
    while (at < m->cap_earlier_count && m->cap_earlier[at].day < entry.day)
        at++;
    if (m->cap_earlier_count == LOY_CAP_EARLIER_DAYS) {
        if (at == 0)
            return;
        for (uint32_t i = 1; i < at; i++)
            m->cap_earlier[i - 1] = m->cap_earlier[i];
        m->cap_earlier[at - 1] = entry;
        return;
    }
    for (uint32_t i = m->cap_earlier_count; i > at; i--)
        m->cap_earlier[i] = m->cap_earlier[i - 1];
    m->cap_earlier[at] = entry;
    m->cap_earlier_count++;
}

/* The order's points after min_order and caps; fills the rules: bit j of
 * *mask when there are at most 64 multipliers, else applied[j]. */
static bool order_points(loy_ctx *c, int64_t eligible, int64_t *points, bool *applied, uint64_t *mask,
                         bool have_settled, u128 settled)
{
    const loy_points *pts = &c->p->points;
    loy_member *m = c->m;
    *points = 0;
    if (eligible < pts->min_order) {
        if (c->trace)
            loy_trace(c, "min_order", true, "eligible spend %lld is below min_order %lld: no points",
                      (long long)eligible, (long long)pts->min_order);
        return true;
    }
    if (c->trace && pts->min_order > 0)
        loy_trace(c, "min_order", false, "eligible spend %lld reaches min_order %lld",
                  (long long)eligible, (long long)pts->min_order);

    int64_t earned;
    bool fits;
    u128 quick;
    int fast = 1;
    if (have_settled)
        quick = settled;    /* the one pass made it, and *mask */
    else
        fast = raw_points_plan(c, mask, &quick);
    if (fast < 0)
        return false;
    if (fast > 0) {
        fits = quick <= (u128)INT64_MAX;
        earned = fits ? (int64_t)quick : 0;
    } else {
        uint32_t mc = pts->multiplier_count;
        for (uint32_t j = 0; j < mc; j++)
            applied[j] = false;
        /* its own locals: addresses taken here would keep the fast
         * path's earned and fits in memory */
        int64_t raw;
        bool raw_fits;
        if (!raw_points(c, applied, &raw, &raw_fits))
            return false;
        earned = raw;
        fits = raw_fits;
        if (mc <= 64)
            for (uint32_t j = 0; j < mc; j++)
                if (applied[j])
                    *mask |= (uint64_t)1 << j;
    }
    if (!fits) {
        /* Beyond int64 only a per-order cap can bring it back. */
        if (pts->cap_per_order < 0)
            return loy_refuse(c, LOY_E_OVERFLOW, "order points overflow int64");
        earned = INT64_MAX;
    }
    if (pts->cap_per_order >= 0) {
        bool hit = earned > pts->cap_per_order;
        if (c->trace)
            loy_trace(c, "cap.per_order", hit, "%s points, cap %lld", hit ? "more than" : "at most",
                      (long long)pts->cap_per_order);
        if (hit)
            earned = pts->cap_per_order;
    }
    forget_unreachable_days(m, &c->at);
    int64_t *counted = day_count(m, c->day);
    int64_t day_points = counted ? *counted : 0;
    if (pts->cap_per_day >= 0) {
        int64_t room = pts->cap_per_day - day_points;
        if (room < 0)
            room = 0;
        bool hit = earned > room;
        if (c->trace)
            loy_trace(c, "cap.per_day", hit, "%lld points today before this order, cap %lld",
                      (long long)day_points, (long long)pts->cap_per_day);
        if (hit)
            earned = room;
    }
    if (!loy_add(day_points, earned, &day_points))
        return loy_refuse(c, LOY_E_OVERFLOW, "the day's order points overflow int64");
    if (counted)
        *counted = day_points;
    else
        count_new_day(m, c->day, day_points);
    *points = earned;
    return true;
}

static bool credit_order(loy_ctx *c, int64_t points, const bool *applied, uint64_t mask)
{
    const loy_points *pts = &c->p->points;
    loy_day expires, pending_until = LOY_DAY_NONE;
    if (pts->pending_days > 0) {
        /* the last day, pending_until and the lot in one call */
        if (!loy_lots_add_order(c, points, &expires, &pending_until))
            return false;
    } else if (!loy_ctx_credit_expiry(c, &expires)) {
        return loy_refuse(c, LOY_E_OVERFLOW, "the points' last day passes 9999-12-31");
    } else if (!loy_lots_credit(c, points, expires)) {
        return false;
    }
    const loy_node *fixed = c->p->order_rules;
    if (fixed) {
        /* the rules list of mask, fixed at load, after fresh fields */
        bool pending = pending_until != LOY_DAY_NONE, dated = expires != LOY_DAY_NONE;
        /* The strings through an empty asm: as constants, gcc pairs each
         * with its key in a vector register, built, spilled around the
         * call above and reloaded, where two plain stores do. */
        const char *type = "points", *source = "order";
        __asm__("" : "+r"(type), "+r"(source));
        loy_node *b = rn_effect_take(c->r, type, 2 + (size_t)pending + (size_t)dated);
        if (!b)
            return true;    /* nomem is set: the answer is dropped */
        loy_node *n = b + 2;
        rn_sib(rn_init_int(n++, "delta", points));
        loy_node *last = rn_init_str(n, "source", source);
        if (pending) {
            rn_sib(last);
            last = rn_init_date(++n, "pending_until", pending_until);
        }
        if (dated) {
            rn_sib(last);
            last = rn_init_date(++n, "expires", expires);
        }
        last->next = (loy_node *)&fixed[mask];
        rn_effect_done(c->effects, b, (loy_node *)&fixed[mask], (size_t)(n - b) + 1);
        return true;
    }
    /* The effect, its rules list and each rule's name in one block; the
     * rules are the bits of mask, or with more than 64 multipliers applied[]. */
    bool wide = pts->multiplier_count > 64;
    size_t extra = 3 + (size_t)(pending_until != LOY_DAY_NONE) + (size_t)(expires != LOY_DAY_NONE);
    /* a few bits: cheaper counted here than by libgcc's popcount */
    for (uint64_t m = mask; m; m &= m - 1)
        extra++;
    for (uint32_t j = 0; wide && j < pts->multiplier_count; j++)
        extra += applied[j];
    loy_node *b = rn_effect_take(c->r, "points", extra);
    if (!b)
        return true;    /* nomem is set: the answer is dropped */
    loy_node *n = b + 2;
    rn_sib(rn_init_int(n++, "delta", points));
    rn_sib(rn_init_str(n++, "source", "order"));
    if (pending_until != LOY_DAY_NONE)
        rn_sib(rn_init_date(n++, "pending_until", pending_until));
    if (expires != LOY_DAY_NONE)
        rn_sib(rn_init_date(n++, "expires", expires));
    loy_node *rules = rn_init_list(n++, "rules");
    rn_effect_done(c->effects, b, rules, (size_t)(n - (b + 1)));
    loy_node *names = n;
    /* the rule names follow the list, each chained to the next */
    for (uint64_t m = mask; m; m &= m - 1)
        rn_sib(rn_init_str(n++, NULL, pts->multipliers[__builtin_ctzll(m)].id));
    for (uint32_t j = 0; wide && j < pts->multiplier_count; j++)
        if (applied[j])
            rn_sib(rn_init_str(n++, NULL, pts->multipliers[j].id));
    if (n > names) {
        n[-1].next = NULL;
        rules->first = names;
        rules->last = n - 1;
        rules->count = (uint32_t)(n - names);
    }
    return true;    /* points_earned is counted with the order (loy_metric_add_order) */
}

bool loy_step_order(loy_ctx *c)
{
    const loy_policy *p = c->p;
    const loy_points *pts = &p->points;
    const loy_event *ev = c->ev;
    loy_member *m = c->m;

    int64_t eligible = 0, qualifying = 0;
    u128 settled = 0;
    uint64_t mask = 0;
    int one_pass = order_in_one_pass(c, &eligible, &qualifying, &settled, &mask);
    if (one_pass < 0)
        return false;
    const loy_interned *t = &p->interned;
    /* One pass for both sums; an eligible overflow on any line is reported
     * before a qualifying one, as when they were two passes. */
    bool qualifying_overflow = false;
    for (size_t i = 0; !one_pass && i < ev->line_count; i++) {
        const loy_line *line = &ev->lines[i];
        bool counts, excluded;
        if (c->line_ids) {
            counts = !pts->has_earn || !line_excluded(t, c->line_ids[i], LOY_IN_PTS_CAT, LOY_IN_PTS_SKU);
            excluded = line_excluded(t, c->line_ids[i], LOY_IN_TIER_CAT, LOY_IN_TIER_SKU);
        } else {
            counts = !pts->has_earn || !loy_line_in(&pts->exclude_categories, &pts->exclude_skus, line);
            excluded = loy_line_in(&p->tiers.exclude_categories, &p->tiers.exclude_skus, line);
        }
        if (counts && !loy_add(eligible, line->amount, &eligible))
            return loy_refuse(c, LOY_E_OVERFLOW, "eligible spend overflows int64");
        if (!excluded && !qualifying_overflow && !loy_add(qualifying, line->amount, &qualifying))
            qualifying_overflow = true;
    }
    if (qualifying_overflow)
        return loy_refuse(c, LOY_E_OVERFLOW, "qualifying spend overflows int64");
    c->is_order = true;
    c->order_spend = eligible;
    c->order_qualifying = qualifying;

    int64_t points = 0;
    if (pts->has_earn) {
        bool *applied = NULL, few[64];
        if (pts->multiplier_count <= 64) {
            applied = few;      /* the common case, without an allocation */
        } else {
            applied = loy_arena_alloc(&c->r->arena, pts->multiplier_count * sizeof *applied);
            if (!applied) {
                c->r->nomem = true;
                return loy_refuse(c, LOY_E_NOMEM, "out of memory");
            }
        }
        if (!order_points(c, eligible, &points, applied, &mask, one_pass != 0, settled))
            return false;
        if (points > 0 && !credit_order(c, points, applied, mask))
            return false;
    }

    /* Count the order (§3.1) only now: the conditions above saw the member without it. */
    int64_t growth = 0;
    /* without a growth section there is none, and no call to say so */
    bool growth_ok = !p->growth.present || (loy_growth_for_spend(p, qualifying, &growth) &&
                                            loy_add(growth, p->growth.per_order, &growth));
    if (!loy_metric_add_order(c, points > 0 ? points : 0, growth_ok, qualifying, growth))
        return false;
    /* The last order is the last accepted order event, dated by its own
     * local date (§1), even when an earlier order carried a later one. */
    m->last_order = c->day;
    if ((ev->fields & LOY_F_SAVINGS) && ev->savings > 0 && !loy_paid_add_savings(c, ev->savings))
        return false;
    return true;
}
