/*
 * Points lots (POLICY.md §4.2, §4.4): credit, pending and release, expiry,
 * debits and the debt of `negative_balance`.
 *
 * The lots array is kept sorted by last day (never-expiring last), then by
 * credit order. A lot is pending exactly when pending_until is a date.
 * Available lots with the same last day are merged: they are
 * indistinguishable to every rule (expiry and debits go by last day), and
 * merging keeps a member's state small however many credits it gets.
 *
 * Only lots below lot_count own their order id (see member.h): a lot is
 * dropped by handing its id back to the member's spares first.
 */
#include "engine.h"

static bool lot_pending(const loy_lot *lot)
{
    return lot->pending_until != LOY_DAY_NONE;
}

static void lot_remove(loy_member *m, size_t i)
{
    loy_member_drop_str(m, &m->lots[i].order_id, &m->lots[i].order_id_cap);
    memmove(&m->lots[i], &m->lots[i + 1], (m->lot_count - i - 1) * sizeof *m->lots);
    m->lot_count--;
}

/* lot_insert's place search, with a grow and a memmove: out of line, as
 * a new lot nearly always goes last. */
static __attribute__((noinline)) loy_lot *lot_insert_sorted(loy_member *m, int64_t points, loy_day expires,
                                                            loy_day pending_until, loy_day credited,
                                                            uint32_t seq)
{
    loy_lot lot = {0};
    lot.points = points;
    lot.expires = expires;
    lot.pending_until = pending_until;
    lot.credited = credited;
    lot.seq = seq;
    if (!LOY_GROW(m->alloc, m->lots, m->lot_cap, m->lot_count + 1))
        return NULL;
    size_t pos = m->lot_count;
    while (pos > 0 && loy_lot_before(&lot, &m->lots[pos - 1]))
        pos--;
    memmove(&m->lots[pos + 1], &m->lots[pos], (m->lot_count - pos) * sizeof *m->lots);
    m->lot_count++;
    loy_lot *slot = &m->lots[pos];
    *slot = lot;
    return slot;
}

/* A new lot of the next seq at its sorted place, owning no order id yet;
 * returns the slot, NULL on NOMEM. */
static inline loy_lot *lot_insert(loy_member *m, int64_t points, loy_day expires, loy_day pending_until,
                                  loy_day credited)
{
    uint32_t seq = m->next_seq++;
    size_t n = m->lot_count;
    /* The common case, a lot after every other (a new pending lot usually
     * expires last) with room for it: written in place, no grow call, no
     * memmove. loy_lot_before(new, last) is false exactly when this holds. */
    if (n < m->lot_cap) {
        const loy_lot *last = n > 0 ? &m->lots[n - 1] : NULL;
        int64_t key = loy_lot_expiry_key(expires);
        if (!last || key > loy_lot_expiry_key(last->expires) || (key == loy_lot_expiry_key(last->expires) && seq >= last->seq)) {
            loy_lot *slot = &m->lots[n];
            slot->points = points;
            slot->expires = expires;
            slot->pending_until = pending_until;
            slot->credited = credited;
            slot->seq = seq;
            slot->order_id = NULL;
            slot->order_id_cap = 0;
            m->lot_count = n + 1;
            return slot;
        }
    }
    return lot_insert_sorted(m, points, expires, pending_until, credited, seq);
}

/* loy_lot_expiry for a day of that month and year. */
static bool lot_expiry_in(const loy_policy *p, loy_month day_month, int32_t day_year, loy_day *out)
{
    switch (p->points.expiry) {
    case LOY_EXPIRY_NONE:
        *out = LOY_DAY_NONE;
        return true;
    case LOY_EXPIRY_AFTER_MONTHS: {
        int64_t month = (int64_t)day_month + p->points.expiry_n;
        if (month > LOY_MONTH_LAST)
            return false;
        *out = loy_month_last_day((loy_month)month);
        return true;
    }
    case LOY_EXPIRY_END_OF_YEAR_PLUS: {
        int64_t year = (int64_t)day_year + p->points.expiry_n;
        if (year > 9999)
            return false;
        *out = loy_day_from_ymd((int32_t)year, 12, 31);
        return true;
    }
    }
    *out = LOY_DAY_NONE;
    return true;
}

bool loy_lot_expiry(const loy_policy *p, loy_day day, loy_day *out)
{
    switch (p->points.expiry) {
    case LOY_EXPIRY_AFTER_MONTHS:
        return lot_expiry_in(p, loy_month_of(day), 0, out);
    case LOY_EXPIRY_END_OF_YEAR_PLUS:
        return lot_expiry_in(p, 0, loy_day_to_ymd(day).y, out);
    default:
        return lot_expiry_in(p, 0, 0, out);
    }
}

/* per-event date cache; inline in loy_lots_add_order, which an order
 * reaches first */
static inline __attribute__((always_inline)) bool credit_expiry_fill(loy_ctx *c, loy_day *out)
{
    loy_ctx_dates(c);
    if (c->dc_expiry_state == 0) {
        const loy_policy *p = c->p;
        int64_t month = (int64_t)c->dc_month + p->points.expiry_n;
        if (p->points.expiry == LOY_EXPIRY_AFTER_MONTHS && month >= 0 && month <= LOY_MONTH_LAST) {
            /* lot_expiry_in's answer, loy_month_last_day, without its two
             * calls: the day before the next month's first, which years
             * 0..10000 give by Neri-Schneider (lib/date.h), loy_ns_from_ymd
             * with the month's start counted from March 1 read from a
             * table, as loy_instant25 does */
            static const uint16_t mar_start[12] = {306, 337, 0, 31, 61, 92, 122, 153, 184, 214, 245, 275};
            int64_t next = month + 1;
            uint32_t k = (uint32_t)(next % 12);   /* 0: January */
            uint32_t year = (uint32_t)(next / 12) + LOY_NS_L - (uint32_t)(k < 2), cent = year / 100;
            c->dc_expiry = (loy_day)(1461 * year / 4 - cent + cent / 4 + mar_start[k] - LOY_NS_K) - 1;
            c->dc_expiry_state = 1;
        } else {
            c->dc_expiry_state = lot_expiry_in(p, c->dc_month, c->dc_ymd.y, &c->dc_expiry) ? 1 : 2;
        }
    }
    if (c->dc_expiry_state == 2)
        return false;
    *out = c->dc_expiry;
    return true;
}

bool loy_ctx_credit_expiry_fill(loy_ctx *c, loy_day *out)
{
    return credit_expiry_fill(c, out);
}

/* The available lot of that last day (SIZE_MAX: none). */
static size_t available_lot(const loy_member *m, loy_day expires)
{
    for (size_t i = 0; i < m->lot_count; i++)
        if (!lot_pending(&m->lots[i]) && m->lots[i].expires == expires)
            return i;
    return SIZE_MAX;
}

/* A new available lot: out of line, as a credit nearly always adds to the
 * lot of its last day, which an earlier credit made. */
static __attribute__((noinline)) bool add_new_available(loy_ctx *c, int64_t points, loy_day expires)
{
    if (!lot_insert(c->m, points, expires, LOY_DAY_NONE, c->day))
        return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    return true;
}

/* Add available points to lot `at` (available_lot's answer), or a new lot. */
static inline bool add_available_at(loy_ctx *c, int64_t points, loy_day expires, size_t at)
{
    if (at == SIZE_MAX)
        return add_new_available(c, points, expires);
    loy_lot *lot = &c->m->lots[at];
    if (!loy_add(lot->points, points, &lot->points))
        return loy_refuse(c, LOY_E_OVERFLOW, "points balance overflows int64");
    return true;
}

/* Add available points to the lot of that last day, or a new lot. */
static bool add_available(loy_ctx *c, int64_t points, loy_day expires)
{
    return add_available_at(c, points, expires, available_lot(c->m, expires));
}

/* Points becoming available repay the debt first; returns what is left. */
static __attribute__((noinline)) int64_t repay_debt_cold(loy_ctx *c, int64_t points)
{
    loy_member *m = c->m;
    int64_t repay = points < m->debt ? points : m->debt;
    m->debt -= repay;
    if (c->trace)
        LOY_TRACE(c, "debt", true, "%lld points repay debt, %lld debt left", (long long)repay,
                  (long long)m->debt);
    return points - repay;
}

/* Few members owe points: the test inline, the repayment out of line. */
static inline int64_t repay_debt(loy_ctx *c, int64_t points)
{
    if (c->m->debt <= 0 || points <= 0)
        return points;
    return repay_debt_cold(c, points);
}

bool loy_lots_credit(loy_ctx *c, int64_t points, loy_day expires)
{
    if (points <= 0)
        return true;
    /* every lot's points summed and available_lot in one pass: repaying debt below does
     * not touch the lots. */
    const loy_member *m = c->m;
    int64_t total, bound = c->lots_bound;
    size_t at = SIZE_MAX;
    if (bound != 0 && !__builtin_add_overflow(bound, points, &total)) {
        at = available_lot(m, expires);
    } else {
        total = 0;
        for (size_t i = 0; i < m->lot_count; i++) {
            const loy_lot *lot = &m->lots[i];
            if (!loy_add(total, lot->points, &total))
                return loy_refuse(c, LOY_E_OVERFLOW, "points balance overflows int64");
            if (at == SIZE_MAX && !lot_pending(lot) && lot->expires == expires)
                at = i;
        }
        if (!loy_add(total, points, &total))
            return loy_refuse(c, LOY_E_OVERFLOW, "points balance overflows int64");
    }
    /* repaying debt adds less to the lots: the bound stays one */
    c->lots_bound = total;
    points = repay_debt(c, points);
    if (points == 0)
        return true;
    if (at == SIZE_MAX) {
        /* A new lot: inline while it goes last with room (lot_insert's
         * common case), so the usual credit makes no call. */
        loy_member *w = c->m;
        size_t n = w->lot_count;
        if (n < w->lot_cap) {
            uint32_t seq = w->next_seq;
            int64_t key = loy_lot_expiry_key(expires);
            if (n == 0 || key > loy_lot_expiry_key(w->lots[n - 1].expires) ||
                (key == loy_lot_expiry_key(w->lots[n - 1].expires) && seq >= w->lots[n - 1].seq)) {
                loy_lot *slot = &w->lots[n];
                w->next_seq = seq + 1;
                slot->points = points;
                slot->expires = expires;
                slot->pending_until = LOY_DAY_NONE;
                slot->credited = c->day;
                slot->seq = seq;
                slot->order_id = NULL;
                slot->order_id_cap = 0;
                w->lot_count = n + 1;
                return true;
            }
        }
    }
    return add_available_at(c, points, expires, at);
}

static inline __attribute__((always_inline)) bool add_pending(loy_ctx *c, int64_t points, loy_day expires,
                                                               loy_day pending_until, const char *order_id,
                                                               size_t order_id_len)
{
    loy_member *m = c->m;
    if (points <= 0)
        return true;
    /* every lot's points, pending and available, summed: the balance with
     * these points must stay in int64 (one jump per lot to the refusal) */
    int64_t total, bound = c->lots_bound;
    if (bound == 0 || __builtin_add_overflow(bound, points, &total)) {
        total = 0;
        const loy_lot *lots = m->lots;
        for (size_t i = 0, n = m->lot_count; i < n; i++)
            if (__builtin_add_overflow(total, lots[i].points, &total))
                goto overflow;
        if (__builtin_add_overflow(total, points, &total))
            goto overflow;
    }
    c->lots_bound = total;
    loy_lot *slot = lot_insert(m, points, expires, pending_until, c->day);
    if (!slot)
        return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    /* A spare buffer of the member, when it has one: no allocation per order.
     * The length the event already holds spares a strlen; every reader of a
     * lot's id stops at its first NUL, so an id with one inside reads the same. */
    if (!loy_member_set_new_str(m, &slot->order_id, &slot->order_id_cap, order_id, order_id_len)) {
        /* Undo the insert so the working copy stays consistent. */
        lot_remove(m, (size_t)(slot - m->lots));
        return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    }
    return true;
overflow:
    return loy_refuse(c, LOY_E_OVERFLOW, "points balance overflows int64");
}

bool loy_lots_add_pending(loy_ctx *c, int64_t points, loy_day expires, loy_day pending_until,
                          const char *order_id, size_t order_id_len)
{
    return add_pending(c, points, expires, pending_until, order_id, order_id_len);
}

bool loy_lots_add_order(loy_ctx *c, int64_t points, loy_day *expires_out, loy_day *until_out)
{
    /* credit_order's steps in its order, so the same refusal comes first:
     * the last day, pending_until, then the lot */
    loy_day expires, pending_until;
    bool known = c->dc_expiry_state == 1 && loy_ctx_dates_ready(c);
    if (known)
        expires = c->dc_expiry;
    else if (!credit_expiry_fill(c, &expires))
        return loy_refuse(c, LOY_E_OVERFLOW, "the points' last day passes 9999-12-31");
    /* loy_add_days without the call while the sum stays a date */
    int64_t until = (int64_t)c->day + c->p->points.pending_days;
    if ((uint64_t)(until - LOY_DAY_FIRST) <= (uint64_t)(LOY_DAY_LAST - LOY_DAY_FIRST))
        pending_until = (loy_day)until;
    else if (!loy_add_days(c->day, c->p->points.pending_days, &pending_until))
        return loy_refuse(c, LOY_E_OVERFLOW, "pending_until passes 9999-12-31");
    *expires_out = expires;
    *until_out = pending_until;
    return add_pending(c, points, expires, pending_until, c->ev->id.s, c->ev->id.len);
}

/* loy_lots_release once a lot is due (engine.h asks first). */
bool loy_lots_release_due(loy_ctx *c)
{
    loy_member *m = c->m;
    for (bool last = false; !last;) {
        size_t found = SIZE_MAX, due = 0;
        for (size_t i = 0; i < m->lot_count; i++) {
            const loy_lot *lot = &m->lots[i];
            if (lot_pending(lot) && lot->pending_until <= c->day) {
                due++;
                if (found == SIZE_MAX || lot->seq < m->lots[found].seq)
                    found = i;
            }
        }
        if (found == SIZE_MAX)
            return true;
        /* Releasing makes no lot pending: with one due, no second scan. */
        last = due == 1;
        loy_lot *lot = &m->lots[found];
        int64_t points = lot->points;
        loy_day expires = lot->expires;
        const char *order = lot->order_id ? lot->order_id : "";
        /* {type, points} in one take, then the order's id, copied */
        loy_node *e = rn_effect_take(c->r, "points_released", 1);
        if (e) {
            rn_effect_done(c->effects, e, rn_init_int(e + 2, "points", points), 2);
            rn_put(e, "order", rn_strdup(c->r, order, strlen(order)));
        }
        if (c->trace) {
            char until[11];
            loy_format_date(lot->pending_until, until);
            LOY_TRACE(c, "release", true, "%lld points of order '%s' pending until %s",
                      (long long)points, order, until);
        }
        lot_remove(m, found);
        points = repay_debt(c, points);
        if (points > 0 && !add_available(c, points, expires))
            return false;
    }
    return true;
}

/* loy_lots_expire once the first lot is past (engine.h asks first). */
bool loy_lots_expire_due(loy_ctx *c)
{
    loy_member *m = c->m;
    for (;;) {
        /* Lots are sorted by last day, "never" last (state load refuses any
         * other order): the earliest last day is the first lot's, and the
         * lots that share it are the ones before the first other. */
        loy_day first = m->lot_count > 0 ? m->lots[0].expires : LOY_DAY_NONE;
        if (first == LOY_DAY_NONE || first >= c->day)
            return true;
        size_t same = 1;
        while (same < m->lot_count && m->lots[same].expires == first)
            same++;
        int64_t expired = 0;
        for (size_t i = same; i-- > 0;) {
            if (m->lots[i].expires == first) {
                /* The sum of lots never overflows: every credit checks it. */
                expired += m->lots[i].points;
                lot_remove(m, i);
            }
        }
        rn_push_points_effect(c->r, c->effects, -expired, "expiry", first);
        if (c->trace) {
            char day[11];
            loy_format_date(first, day);
            LOY_TRACE(c, "expiry", true, "%lld points whose last day was %s", (long long)expired,
                      day);
        }
    }
}

/* Up to `want` points from lot i: the lot shrinks, or goes when it has no
 * more than that. Returns the points taken. */
static inline int64_t lot_take(loy_member *m, size_t i, int64_t want)
{
    loy_lot *lot = &m->lots[i];
    if (lot->points > want) {
        lot->points -= want;
        return want;
    }
    int64_t got = lot->points;
    lot_remove(m, i);
    return got;
}

int64_t loy_lots_take(loy_member *m, int64_t points)
{
    int64_t taken = 0;
    while (taken < points) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < m->lot_count; i++)
            if (!lot_pending(&m->lots[i]) &&
                (best == SIZE_MAX || loy_lot_before(&m->lots[i], &m->lots[best])))
                best = i;
        if (best == SIZE_MAX)
            break;
        taken += lot_take(m, best, points - taken);
    }
    return taken;
}

int64_t loy_lots_take_pending(loy_member *m, const char *order_id, int64_t points)
{
    int64_t taken = 0;
    while (taken < points) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < m->lot_count; i++) {
            const loy_lot *lot = &m->lots[i];
            if (lot_pending(lot) && loy_streq(lot->order_id, order_id) &&
                (best == SIZE_MAX || loy_lot_before(lot, &m->lots[best])))
                best = i;
        }
        if (best == SIZE_MAX)
            break;
        taken += lot_take(m, best, points - taken);
    }
    return taken;
}

int64_t loy_points_available(const loy_member *m)
{
    /* As loy_points_totals: plain sums for the states the library makes. */
    int64_t avail = 0;
    const loy_lot *lot = m->lots, *end = m->lot_count ? lot + m->lot_count : lot;   /* lots may be NULL */
    for (; lot < end; lot++)
        if (!lot_pending(lot) && (lot->points < 0 || !loy_add(avail, lot->points, &avail)))
            break;
    if (lot == end && m->debt >= 0)
        return avail - m->debt;
    __int128 sum = 0;
    for (size_t i = 0; i < m->lot_count; i++)
        if (!lot_pending(&m->lots[i]))
            sum += m->lots[i].points;
    sum -= m->debt;
    if (sum > INT64_MAX)
        return INT64_MAX;
    if (sum < INT64_MIN)
        return INT64_MIN;
    return (int64_t)sum;
}

/* loy_points_totals for any other state: 128-bit sums, clamped. Out of
 * line, so the usual state's sums keep to the registers they need. */
static __attribute__((noinline)) void points_totals_wide(const loy_member *m, int64_t *available,
                                                         int64_t *pending)
{
    __int128 avail = 0, pend = 0;
    for (size_t i = 0; i < m->lot_count; i++) {
        if (lot_pending(&m->lots[i]))
            pend += m->lots[i].points;
        else
            avail += m->lots[i].points;
    }
    /* Only a state the library does not make (a negative lot or debt, or
     * lots past int64 between them) comes here, so both figures are
     * clamped, either way: with a negative settled lot the pending sum
     * alone can pass INT64_MAX while the two together do not. */
    avail -= m->debt;
    *available = avail > INT64_MAX ? INT64_MAX : avail < INT64_MIN ? INT64_MIN : (int64_t)avail;
    *pending = pend > INT64_MAX ? INT64_MAX : pend < INT64_MIN ? INT64_MIN : (int64_t)pend;
}

void loy_points_totals(const loy_member *m, int64_t *available, int64_t *pending)
{
    /* The usual state first: no lot negative, their sum within int64 and no
     * negative debt. Then plain sums give what the 128-bit ones do. */
    int64_t all = 0, held = 0;
    const loy_lot *lot = m->lots, *end = m->lot_count ? lot + m->lot_count : lot;   /* lots may be NULL */
    for (; lot < end; lot++) {
        if (lot->points < 0 || !loy_add(all, lot->points, &all))
            return points_totals_wide(m, available, pending);
        if (lot_pending(lot))
            held += lot->points;
    }
    if (m->debt < 0)
        return points_totals_wide(m, available, pending);
    *available = all - held - m->debt;
    *pending = held;
}

int64_t loy_points_pending(const loy_member *m)
{
    __int128 sum = 0;
    for (size_t i = 0; i < m->lot_count; i++)
        if (lot_pending(&m->lots[i]))
            sum += m->lots[i].points;
    return sum > INT64_MAX ? INT64_MAX : (int64_t)sum;
}
