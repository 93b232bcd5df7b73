/*
 * Monthly activity and tier windows (POLICY.md §3.1, §3.2).
 *
 * A member keeps one bucket per calendar month (spend, orders, growth,
 * points_earned) for the months its policy's rules can reach, plus lifetime
 * totals that never lose a month: the lifetime window reads those.
 */
#include "engine.h"

static int64_t *bucket_field(loy_month_bucket *b, int metric)
{
    switch (metric) {
    case LOY_METRIC_SPEND: return &b->spend;
    case LOY_METRIC_ORDERS: return &b->orders;
    case LOY_METRIC_GROWTH: return &b->growth;
    default: return &b->points_earned;
    }
}

static int64_t bucket_value(const loy_month_bucket *b, int metric)
{
    switch (metric) {
    case LOY_METRIC_SPEND: return b->spend;
    case LOY_METRIC_ORDERS: return b->orders;
    case LOY_METRIC_GROWTH: return b->growth;
    default: return b->points_earned;
    }
}

static size_t bucket_offset(int metric)
{
    switch (metric) {
    case LOY_METRIC_SPEND: return offsetof(loy_month_bucket, spend);
    case LOY_METRIC_ORDERS: return offsetof(loy_month_bucket, orders);
    case LOY_METRIC_GROWTH: return offsetof(loy_month_bucket, growth);
    default: return offsetof(loy_month_bucket, points_earned);
    }
}

static size_t bucket_pos(const loy_member *m, loy_month month)
{
    size_t lo = 0, hi = m->month_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->months[mid].month < month)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static loy_month_bucket *bucket_find(loy_member *m, loy_month month)
{
    size_t pos = bucket_pos(m, month);
    return pos < m->month_count && m->months[pos].month == month ? &m->months[pos] : NULL;
}

/* A bucket slot made into `month`'s empty bucket. */
static inline loy_month_bucket *bucket_init(loy_month_bucket *b, loy_month month)
{
    memset(b, 0, sizeof *b);
    b->month = month;
    return b;
}

loy_month_bucket *loy_bucket(loy_member *m, loy_month month)
{
    /* Events come in date order, so the month asked for is nearly always
     * the newest bucket or one past it: no search for those. */
    size_t n = m->month_count;
    if (n > 0 && m->months[n - 1].month == month)
        return &m->months[n - 1];
    size_t pos = n == 0 || m->months[n - 1].month < month ? n : bucket_pos(m, month);
    if (pos < m->month_count && m->months[pos].month == month)
        return &m->months[pos];
    /* The working copy keeps its capacity: nearly always room, no call. */
    if (m->month_count >= m->month_cap && !LOY_GROW(m->alloc, m->months, m->month_cap, m->month_count + 1))
        return NULL;
    /* Nearly always a new newest month: nothing to move. */
    if (pos < m->month_count)
        memmove(&m->months[pos + 1], &m->months[pos], (m->month_count - pos) * sizeof *m->months);
    m->month_count++;
    return bucket_init(&m->months[pos], month);
}

/* loy_metric_sum's work, inline so the tier's window reads without a call. */
static inline bool months_sum(const loy_member *m, int metric, loy_month from, loy_month to, int64_t *out)
{
    /* Every rule with a window sums here: the field is picked once, not per month. */
    const size_t field = bucket_offset(metric);
    int64_t sum = 0;
    if (m->month_count == 0) {   /* months may be NULL, and NULL + 0 is undefined */
        *out = 0;
        return true;
    }
    /* Buckets are pruned to the months rules reach, so a window nearly
     * always starts at or before the oldest: no search for that. */
    size_t start = m->months[0].month >= from ? 0 : bucket_pos(m, from);
    /* by pointer, with the end held: the count is not reloaded per month */
    const loy_month_bucket *b = m->months + start, *end = m->months + m->month_count;
    for (; b < end && b->month <= to; b++) {
        int64_t v;
        memcpy(&v, (const char *)b + field, sizeof v);
        if (!loy_add(sum, v, &sum))
            return false;
    }
    *out = sum;
    return true;
}

bool loy_metric_sum(const loy_member *m, int metric, loy_month from, loy_month to, int64_t *out)
{
    return months_sum(m, metric, from, to, out);
}

bool loy_metric_reaches(const loy_member *m, int metric, loy_month from, loy_month to, int64_t threshold)
{
    /* Monthly figures are never negative (loading and importing refuse
     * them; updates lower to 0 at most), so the running sum only grows:
     * once it reaches the threshold, or leaves int64 (the true sum is then
     * above any threshold), the later months cannot change the answer. */
    const size_t field = bucket_offset(metric);
    int64_t sum = 0;
    size_t start = m->month_count == 0 || m->months[0].month >= from ? 0 : bucket_pos(m, from);
    for (size_t i = start; i < m->month_count && m->months[i].month <= to; i++) {
        int64_t v;
        memcpy(&v, (const char *)&m->months[i] + field, sizeof v);
        if (!loy_add(sum, v, &sum) || sum >= threshold)
            return true;
    }
    return sum >= threshold;
}

/* The months [from, to] a window covers as of a date; false for lifetime. */
static bool window_months(const loy_policy *p, loy_day as_of, loy_month *from, loy_month *to)
{
    loy_month now = loy_month_of(as_of);
    switch (p->tiers.window) {
    case LOY_W_MONTHS:
        *from = now - (p->tiers.window_months - 1);
        *to = now;
        return true;
    case LOY_W_CALENDAR_YEAR:
        *from = now - now % 12;
        *to = now;
        return true;
    case LOY_W_LIFETIME:
        break;
    }
    return false;
}

static int qualify_metric(loy_qualify q)
{
    switch (q) {
    case LOY_Q_SPEND: return LOY_METRIC_SPEND;
    case LOY_Q_ORDERS: return LOY_METRIC_ORDERS;
    case LOY_Q_POINTS_EARNED: return LOY_METRIC_POINTS_EARNED;
    case LOY_Q_GROWTH: return LOY_METRIC_GROWTH;
    }
    return LOY_METRIC_SPEND;
}

static bool window_metric(const loy_policy *p, const loy_member *m, int metric, loy_day as_of,
                          int64_t *out)
{
    loy_month from, to;
    if (window_months(p, as_of, &from, &to))
        return loy_metric_sum(m, metric, from, to, out);
    /* Lifetime orders include the imported count, which may exceed the buckets. */
    *out = metric == LOY_METRIC_ORDERS ? m->orders : m->lifetime[metric];
    return true;
}

static bool tier_metric_after_fill(loy_ctx *c, int64_t *out);

/* per-event date cache */
bool loy_tier_metric_today(loy_ctx *c, int64_t *out)
{
    /* The cache is filled by then (the order step used it): with the fill
     * as a tail call, the usual path saves no registers. */
    if (!loy_ctx_dates_ready(c))
        return tier_metric_after_fill(c, out);
    const loy_policy *p = c->p;
    const loy_member *m = c->m;
    int metric = qualify_metric(p->tiers.qualify_on);
    loy_month now = c->dc_month;
    switch (p->tiers.window) {
    case LOY_W_MONTHS:
        return months_sum(m, metric, now - (p->tiers.window_months - 1), now, out);
    case LOY_W_CALENDAR_YEAR:
        return months_sum(m, metric, now - now % 12, now, out);
    case LOY_W_LIFETIME:
        break;
    }
    /* As window_metric: lifetime orders include the imported count. */
    *out = metric == LOY_METRIC_ORDERS ? m->orders : m->lifetime[metric];
    return true;
}

static __attribute__((noinline)) bool tier_metric_after_fill(loy_ctx *c, int64_t *out)
{
    loy_ctx_dates_fill(c);
    return loy_tier_metric_today(c, out);
}

bool loy_tier_metric(const loy_policy *p, const loy_member *m, loy_day as_of, int64_t *out)
{
    return window_metric(p, m, qualify_metric(p->tiers.qualify_on), as_of, out);
}

bool loy_window_spend(const loy_policy *p, const loy_member *m, loy_day as_of, int64_t *out)
{
    return window_metric(p, m, LOY_METRIC_SPEND, as_of, out);
}

void loy_buckets_drop_before(loy_member *m, loy_month oldest)
{
    size_t drop = bucket_pos(m, oldest);
    memmove(m->months, m->months + drop, (m->month_count - drop) * sizeof *m->months);
    m->month_count -= drop;
}

/* per-event date cache */
void loy_ctx_dates_fill(loy_ctx *c)
{
    loy_ctx_dates_set(c, loy_day_to_ymd(c->day));
}

/* An order adds to three or four metrics of the same month: the bucket's
 * place is remembered, and checked, instead of searched each time. */
static loy_month_bucket *bucket_of_day(loy_ctx *c, loy_day day)
{
    loy_member *m = c->m;
    if (day != c->day)
        return loy_bucket(m, loy_month_of(day));
    loy_month month = loy_ctx_month(c);
    size_t n = m->month_count;
    /* The month is nearly always the newest bucket, also for a fresh ctx,
     * which has no place yet: found without the call. */
    if (n > 0 && m->months[n - 1].month == month) {
        c->dc_bucket = n - 1;
        return &m->months[n - 1];
    }
    size_t i = c->dc_bucket;
    if (i < n && m->months[i].month == month)
        return &m->months[i];
    loy_month_bucket *b = loy_bucket(m, month);
    if (b)
        c->dc_bucket = (size_t)(b - m->months);
    return b;
}

static __attribute__((noinline)) int64_t month_metric_cold(loy_ctx *c, int metric)
{
    const loy_member *m = c->m;
    loy_month month = loy_ctx_month(c);
    size_t i = bucket_pos(m, month);
    if (i >= m->month_count || m->months[i].month != month)
        return 0;
    c->dc_bucket = i;
    return bucket_value(&m->months[i], metric);
}

int64_t loy_metric_this_month(loy_ctx *c, int metric)
{
    /* No call on the usual path (the order step filled the cache and left
     * the bucket's place), so no saved registers either. */
    const loy_member *m = c->m;
    size_t i = c->dc_bucket;
    if (!loy_ctx_dates_ready(c) || i >= m->month_count ||
        m->months[i].month != c->dc_month)
        return month_metric_cold(c, metric);
    return bucket_value(&m->months[i], metric);
}

bool loy_metric_add(loy_ctx *c, loy_day day, int metric, int64_t value)
{
    if (value == 0)
        return true;
    loy_member *m = c->m;
    loy_month_bucket *b = bucket_of_day(c, day);
    if (!b)
        return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    int64_t *field = bucket_field(b, metric);
    int64_t month_sum, life_sum, orders = m->orders;
    if (!loy_add(*field, value, &month_sum) || !loy_add(m->lifetime[metric], value, &life_sum) ||
        (metric == LOY_METRIC_ORDERS && !loy_add(m->orders, value, &orders)))
        return loy_refuse(c, LOY_E_OVERFLOW, "a monthly figure overflows int64");
    *field = month_sum;
    m->lifetime[metric] = life_sum;
    m->orders = orders;
    return true;
}

/* loy_metric_add_order once the bucket is known (NULL only when points
 * is 0 and growth failed, which refuses before it is read). */
static inline __attribute__((always_inline)) bool add_order_to(loy_ctx *c, loy_month_bucket *b, int64_t points,
                                                               bool growth_ok, int64_t spend, int64_t growth)
{
    static const char overflow[] = "a monthly figure overflows int64";
    loy_member *m = c->m;
    int64_t points_month = 0, points_life = 0;
    if (points != 0 && (!loy_add(b->points_earned, points, &points_month) ||
                        !loy_add(m->lifetime[LOY_METRIC_POINTS_EARNED], points, &points_life)))
        return loy_refuse(c, LOY_E_OVERFLOW, overflow);
    if (!growth_ok)
        return loy_refuse(c, LOY_E_OVERFLOW, "growth overflows int64");
    int64_t orders_month, orders_life, orders;
    if (!loy_add(b->orders, 1, &orders_month) ||
        !loy_add(m->lifetime[LOY_METRIC_ORDERS], 1, &orders_life) || !loy_add(m->orders, 1, &orders))
        return loy_refuse(c, LOY_E_OVERFLOW, overflow);
    int64_t spend_month = b->spend, spend_life = m->lifetime[LOY_METRIC_SPEND];
    if (spend != 0 && (!loy_add(b->spend, spend, &spend_month) ||
                       !loy_add(m->lifetime[LOY_METRIC_SPEND], spend, &spend_life)))
        return loy_refuse(c, LOY_E_OVERFLOW, overflow);
    int64_t growth_month = b->growth, growth_life = m->lifetime[LOY_METRIC_GROWTH];
    if (growth != 0 && (!loy_add(b->growth, growth, &growth_month) ||
                        !loy_add(m->lifetime[LOY_METRIC_GROWTH], growth, &growth_life)))
        return loy_refuse(c, LOY_E_OVERFLOW, overflow);
    if (points != 0) {
        b->points_earned = points_month;
        m->lifetime[LOY_METRIC_POINTS_EARNED] = points_life;
    }
    b->orders = orders_month;
    m->lifetime[LOY_METRIC_ORDERS] = orders_life;
    m->orders = orders;
    b->spend = spend_month;
    m->lifetime[LOY_METRIC_SPEND] = spend_life;
    b->growth = growth_month;
    m->lifetime[LOY_METRIC_GROWTH] = growth_life;
    return true;
}

/* x += v, and whether that overflowed (x then holds the wrapped sum, which
 * take_back undoes exactly). */
static inline bool add_in_place(int64_t *x, int64_t v)
{
    return __builtin_add_overflow(*x, v, x);
}

static inline void take_back(int64_t *x, int64_t v)
{
    *x = (int64_t)((uint64_t)*x - (uint64_t)v);
}

/* add_order_to with growth_ok, adding in place: nothing is held in
 * registers across the adds, so the usual order saves none. The one
 * refusal left is the monthly overflow, whichever figure it is; the adds
 * made by then are taken back, so nothing moves, as there. */
static inline __attribute__((always_inline)) bool add_order_in_place(loy_ctx *c, loy_month_bucket *b, int64_t points,
                                                                     int64_t spend, int64_t growth)
{
    loy_member *m = c->m;
    int64_t *life = m->lifetime;
    if (add_in_place(&b->points_earned, points))
        goto back0;
    if (add_in_place(&life[LOY_METRIC_POINTS_EARNED], points))
        goto back1;
    if (add_in_place(&b->orders, 1))
        goto back2;
    if (add_in_place(&life[LOY_METRIC_ORDERS], 1))
        goto back3;
    if (add_in_place(&m->orders, 1))
        goto back4;
    if (add_in_place(&b->spend, spend))
        goto back5;
    if (add_in_place(&life[LOY_METRIC_SPEND], spend))
        goto back6;
    /* a policy without a growth section adds 0: one test for both */
    if (growth != 0) {
        if (add_in_place(&b->growth, growth))
            goto back7;
        if (add_in_place(&life[LOY_METRIC_GROWTH], growth))
            goto back8;
    }
    return true;
back8:
    take_back(&life[LOY_METRIC_GROWTH], growth);
back7:
    take_back(&b->growth, growth);
back6:
    take_back(&life[LOY_METRIC_SPEND], spend);
back5:
    take_back(&b->spend, spend);
back4:
    take_back(&m->orders, 1);
back3:
    take_back(&life[LOY_METRIC_ORDERS], 1);
back2:
    take_back(&b->orders, 1);
back1:
    take_back(&life[LOY_METRIC_POINTS_EARNED], points);
back0:
    take_back(&b->points_earned, points);
    return loy_refuse(c, LOY_E_OVERFLOW, "a monthly figure overflows int64");
}

/* The bucket from bucket_of_day, out of line. With points the bucket
 * comes first, so running out of memory for it is refused before an
 * overflow; without, growth is checked before the bucket is made. */
static __attribute__((noinline)) bool add_order_cold(loy_ctx *c, int64_t points, bool growth_ok, int64_t spend,
                                                     int64_t growth)
{
    loy_month_bucket *b = NULL;
    if ((points != 0 || growth_ok) && !(b = bucket_of_day(c, c->day)))
        return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    return add_order_to(c, b, points, growth_ok, spend, growth);
}

bool loy_metric_add_order(loy_ctx *c, int64_t points, bool growth_ok, int64_t spend, int64_t growth)
{
    /* As loy_metric_add for the points (when any), the growth check, then
     * the order, spend and growth, in that order: the same refusal comes
     * first, and nothing is written until all of them fit. The usual
     * bucket, this month's as the newest or a new newest with room for
     * it, is found or made inline: no call, so no saved registers. A
     * bucket made for an order that is then refused goes with the undo. */
    loy_member *m = c->m;
    size_t n = m->month_count;
    if (growth_ok && loy_ctx_dates_ready(c)) {
        loy_month month = c->dc_month;
        if (n > 0) {
            loy_month_bucket *last = &m->months[n - 1];
            if (last->month == month) {
                c->dc_bucket = n - 1;
                return add_order_in_place(c, last, points, spend, growth);
            }
            if (last->month >= month)
                return add_order_cold(c, points, growth_ok, spend, growth);
        }
        if (n < m->month_cap) {
            /* loy_bucket's new newest month, the first of a member without
             * one among them (a loaded member keeps its buffer) */
            m->month_count = n + 1;
            c->dc_bucket = n;
            return add_order_in_place(c, bucket_init(&m->months[n], month), points, spend, growth);
        }
    }
    return add_order_cold(c, points, growth_ok, spend, growth);
}

bool loy_metric_lower(loy_ctx *c, loy_day day, int metric, int64_t value)
{
    if (value <= 0)
        return true;
    loy_member *m = c->m;
    loy_month month = loy_month_of(day);
    loy_month_bucket *b = bucket_find(m, month);
    int64_t lowered;
    if (b) {
        int64_t *field = bucket_field(b, metric);
        lowered = *field < value ? *field : value;
        *field -= lowered;
    } else {
        /* A month no longer kept: the lifetime total still holds it, so it
         * drops (bounded below). A kept month without a bucket had 0.
         * Which months are kept was settled by the last accepted event's
         * pruning, not by this event's date: a month this event's window has
         * passed may still be kept, and whether its bucket is there must
         * not matter, since a bucket whose figures all went back to 0 is
         * not in the state bytes. */
        bool pruned = m->has_last_event &&
                      month < loy_oldest_kept_month(c->p,
                                                    loy_month_of(loy_earliest_reachable_day(&m->last_event)));
        /* The months no longer kept hold, together, the lifetime total less
         * the buckets; none goes below 0 (§3.1), so a second return of an
         * old order cannot take more than is left there. */
        int64_t in_buckets = 0;
        for (size_t i = 0; pruned && i < m->month_count; i++)
            in_buckets += bucket_value(&m->months[i], metric);   /* <= lifetime: no overflow */
        int64_t old_months = m->lifetime[metric] - in_buckets;
        lowered = !pruned || old_months <= 0 ? 0 : old_months < value ? old_months : value;
    }
    int64_t *life = &m->lifetime[metric];
    *life -= *life < lowered ? *life : lowered;
    return true;
}

bool loy_growth_for_spend(const loy_policy *p, int64_t spend, int64_t *out)
{
    if (!p->growth.present || !p->growth.has_per_spend || p->growth.per_spend_amount <= 0) {
        *out = 0;
        return true;
    }
    return loy_muldiv(spend, p->growth.per_spend_growth, p->growth.per_spend_amount,
                      LOY_ROUND_FLOOR, out);
}

int64_t loy_growth_for_action(const loy_policy *p, const char *kind)
{
    if (!p->growth.present)
        return 0;
    for (uint32_t i = 0; i < p->growth.action_count; i++)
        if (loy_streq(p->growth.actions[i].kind, kind))
            return p->growth.actions[i].growth;
    return 0;
}
