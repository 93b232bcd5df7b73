/*
 * Evaluation of one event (POLICY.md §10.1), split along its steps. Each
 * file of lib/engine/ holds one room:
 *
 *   apply.c      loy_apply: validation, duplicate/order refusal, working copy,
 *                the six steps in order, commit or roll back; the summary
 *   validate.c   step 1: an event's fields (LOY_E_INVALID_EVENT / OVERFLOW)
 *   lots.c       points lots: credit, release, expiry, debit, debt (§4.2, §4.4)
 *   metrics.c    monthly buckets and windows (§3.1), growth (§3.2)
 *   earn.c       points on an order (§4.1)
 *   returns.c    clawback (§4.2)
 *   actions.c    actions and their limits (§4.3); limit periods (shared)
 *   redeem.c     redemption (§4.5)
 *   tiers.c      upgrade (§3.3) and reviews (§3.4)
 *   cond.c       conditions (§9): evaluation and closed-reasons
 *   gifts.c      upgrade, birthday, surprise, spend gifts (§5)
 *   benefits.c   benefits: query and use (§6)
 *   paid.c       paid plans (§7)
 *   lifecycle.c  stages (§8)
 *
 * Every step works on the working copy ctx->m; a step that refuses the
 * event sets ctx->code/ctx->message (and ctx->reasons) and returns false,
 * and apply.c throws the working copy away.
 */
#ifndef LOY_ENGINE_H
#define LOY_ENGINE_H

#include <stdarg.h>

#include "../core.h"
#include "../date.h"
#include "../event.h"
#include "../member.h"
#include "../policy.h"
#include "../result.h"

/* interned ids */
/* A line's category and sku as policy ids (lib/policy.h, loy_interned; -1:
 * absent or not named by the policy). */
typedef struct loy_line_ids {
    int32_t category, sku;
} loy_line_ids;

typedef struct loy_ctx {
    const loy_policy *p;
    loy_member *m;                  /* the working copy */
    const loy_event *ev;            /* NULL for a benefits query */
    loy_result *r;
    loy_instant at;                 /* the event's (or query's) instant */
    loy_day day;                    /* its local date D */
    const char *channel;            /* NULL: none */
    const char *store;              /* NULL: none */
    int32_t stage_at_start;         /* for the `lifecycle` predicate */
    const loy_line *line;           /* the line under evaluation (multipliers), else NULL */
    /* interned ids: the lines' categories and skus resolved once,
     * in step 1; cond.c looks a line up by string when they were not. */
    const loy_line_ids *line_ids;   /* per line of ev, or NULL */
    int64_t order_spend;            /* order: points-eligible spend (order_at_least) */
    int64_t order_qualifying;       /* order: qualifying spend (§3.1), set in step 3 */
    bool is_order;
    bool no_event;                  /* initial stage of a new/imported member (§8): channel, store,
                                       time and lifecycle predicates do not hold */
    bool is_query;                  /* a benefits query (§6): no event id, nothing remembered */

    loy_node *effects;              /* r's effects list */
    loy_node *trace;                /* r's trace list; NULL when not tracing */
    int step;                       /* the step of §10.1 being run (for the trace) */

    int code;                       /* refusal */
    const char *message;            /* in r's arena */
    loy_node *reasons;              /* refused benefit use: the reasons list */

    /* per-event date cache */
    /* What the steps keep working out from the event's day, filled on first
     * use and keyed by what it was made from, so a ctx set up anywhere
     * (zeroed) is served correctly: see loy_ctx_dates(). */
    uint32_t dc_key;                /* loy_dc_key of the day dc_* is for; 0: none */
    int8_t dc_expiry_state;         /* 0: not yet, 1: dc_expiry, 2: past 9999-12-31 */
    bool dc_bday_valid;             /* dc_bday_of, dc_bday_month */
    bool dc_bday_day_valid;         /* dc_bday_this_year */
    loy_ymd dc_ymd;                 /* of the cached day */
    loy_month dc_month;             /* of the cached day */
    loy_day dc_expiry;              /* loy_lot_expiry of the cached day */
    size_t dc_bucket;               /* where dc_month's bucket was last seen in m->months */
    loy_day dc_bday_of;             /* the birthday dc_bday_this_year is for */
    loy_day dc_bday_this_year;      /* loy_birthday_in_year(dc_bday_of, dc_ymd.y) */
    loy_month dc_bday_month;        /* its month */
    loy_ymd dc_bday_ymd;            /* dc_bday_of as a date */

    /* At least the sum of c->m's lots' points; 0: none known (a zeroed
     * ctx). An order credits two or three times and each credit's int64
     * test needs that sum: the first walks the lots, and each credit after
     * adds to what it found. Nothing else in an event raises the sum (a
     * release adds back at most what it removes, the rest take), and lots
     * are never negative (state load, import and every credit see to it),
     * so no partial sum passes the bound: a credit within it cannot
     * overflow, and one past it walks and refuses exactly as before. */
    int64_t lots_bound;
} loy_ctx;

/* loy_trace without the call and its varargs set-up when not tracing: the
 * steps pass it only plain values, so nothing is skipped but the entry. */
#define LOY_TRACE(c, ...)                        \
    do {                                         \
        if ((c)->trace)                          \
            loy_trace((c), __VA_ARGS__);         \
    } while (0)
LOY_INTERNAL void loy_ctx_dates_fill(loy_ctx *c);
/* The date cache's key of a day: the day with its sign bit flipped. No
 * ctx's day is LOY_DAY_NONE (INT32_MIN), so no day's key is 0, and a
 * zeroed ctx's cache holds no day: one compare asks what a valid flag
 * and the day took two for. */
static inline uint32_t loy_dc_key(loy_day day)
{
    return (uint32_t)day ^ 0x80000000u;
}
/* Makes the date cache hold c->day, given as y, m, d: what
 * loy_ctx_dates_fill does, for a caller that has the date in hand. */
static inline void loy_ctx_dates_set(loy_ctx *c, loy_ymd ymd)
{
    c->dc_key = loy_dc_key(c->day);
    c->dc_ymd = ymd;
    c->dc_month = loy_month_of_ymd(ymd);
    c->dc_expiry_state = 0;
    c->dc_bday_valid = false;
    c->dc_bday_day_valid = false;
}
/* Does the cache hold c->day already? For readers that keep the filling
 * call off their usual path (a tail call there saves no registers). */
static inline bool loy_ctx_dates_ready(const loy_ctx *c)
{
    return c->dc_key == loy_dc_key(c->day);
}
/* Makes the date cache hold c->day. Every accessor calls it, so the cache
 * fills on first use and follows c->day wherever a ctx is set up. */
static inline void loy_ctx_dates(loy_ctx *c)
{
    if (!loy_ctx_dates_ready(c))
        loy_ctx_dates_fill(c);
}
static inline loy_ymd loy_ctx_ymd(loy_ctx *c)
{
    loy_ctx_dates(c);
    return c->dc_ymd;
}
static inline loy_month loy_ctx_month(loy_ctx *c)
{
    loy_ctx_dates(c);
    return c->dc_month;
}
/* The month the monthly figures are kept back from after this event: the
 * month of the earliest local date a later event can carry
 * (loy_earliest_reachable_day), which may be the month before this one's
 * (§1), and whose windows reach months_kept back from there. From the 3rd
 * of a month on that date is in the same month (it is at most two days
 * earlier), so the cached month answers. */
static inline loy_month loy_ctx_reachable_month(loy_ctx *c)
{
    loy_ctx_dates(c);
    if (c->dc_ymd.d >= 3)
        return c->dc_month;
    return loy_month_of(loy_earliest_reachable_day(&c->at));
}
/* loy_tier_metric(c->p, c->m, c->day, out) from the cached month. */
LOY_INTERNAL bool loy_tier_metric_today(loy_ctx *c, int64_t *out);

/* Whether the member's tier metric, as any window reads it, certainly
 * stays below the next tier's `at` (or there is no next tier), so that
 * the upgrade step has nothing to do. A window sums kept months, which
 * are never negative, and each lifetime total holds at least the months
 * kept (the engine's updates and imports keep it, the state loader
 * refuses bytes that break it): the lifetime total bounds every window's
 * sum, which then also fits int64, so the tier metric's overflow refusal
 * cannot be due either (nor for a lifetime window, which reads a total
 * without adding). A lifetime window of orders reads the imported
 * count, which may exceed the total of the months: no shortcut there. */
static inline bool loy_tier_below_next(const loy_policy *p, const loy_member *m)
{
    uint32_t next = (uint32_t)m->tier + 1;
    if (next >= p->tiers.count)
        return true;
    /* loy_qualify and loy_metric differ past spend: orders, points, growth */
    static const uint8_t metric_of[4] = {LOY_METRIC_SPEND, LOY_METRIC_ORDERS, LOY_METRIC_POINTS_EARNED,
                                         LOY_METRIC_GROWTH};
    return p->tiers.window != LOY_W_LIFETIME &&
           m->lifetime[metric_of[p->tiers.qualify_on & 3]] < p->tiers.levels[next].at;
}
/* A metric (LOY_METRIC_*) of the month of c->day: loy_metric_sum over that
 * one month, which cannot overflow. The order step has just written that
 * bucket, so its place is known and there is no search. */
LOY_INTERNAL int64_t loy_metric_this_month(loy_ctx *c, int metric);
/* loy_metric_this_month(c, LOY_METRIC_SPEND), its usual path inline: the
 * monthly spend gift reads it on nearly every order, and the call cost
 * more than the read (tests/test_month_spend.c). */
static inline int64_t loy_month_spend_now(loy_ctx *c)
{
    const loy_member *m = c->m;
    size_t i = c->dc_bucket;
    if (loy_ctx_dates_ready(c) && i < m->month_count && m->months[i].month == c->dc_month)
        return m->months[i].spend;
    return loy_metric_this_month(c, LOY_METRIC_SPEND);
}
/* loy_lot_expiry(c->p, c->day, out), worked out once an event: the filling
 * call, then an inline read (an order with a gift credits two or three
 * times). */
LOY_INTERNAL bool loy_ctx_credit_expiry_fill(loy_ctx *c, loy_day *out);
static inline bool loy_ctx_credit_expiry(loy_ctx *c, loy_day *out)
{
    /* dc_expiry_state and dc_bday_valid are set only with the dates
     * filled, and every fill clears them */
    if (c->dc_expiry_state == 1 && loy_ctx_dates_ready(c)) {
        *out = c->dc_expiry;
        return true;
    }
    return loy_ctx_credit_expiry_fill(c, out);
}
/* loy_birthday_in_year(c->p, birthday, year of c->day), worked out once per birthday. */
LOY_INTERNAL loy_day loy_ctx_birthday_this_year(loy_ctx *c, loy_day birthday);
/* Fills the birthday part of the cache for `birthday` (and the dates for
 * c->day); returns its month. */
LOY_INTERNAL loy_month loy_ctx_birthday_fill(loy_ctx *c, loy_day birthday);
/* loy_month_of(loy_ctx_birthday_this_year(c, birthday)), without the day.
 * Inline: an order asks two or three times (the birthday multiplier, the
 * birthday gift), and after the first the answer is a few compares. */
static inline loy_month loy_ctx_birthday_month(loy_ctx *c, loy_day birthday)
{
    if (c->dc_bday_valid && c->dc_bday_of == birthday && loy_ctx_dates_ready(c))
        return c->dc_bday_month;
    return loy_ctx_birthday_fill(c, birthday);
}

/* vsnprintf(buf, cap, fmt, ap) for a format of plain %s, %d, %u, %lld,
 * %llu, %zu and %%, setting *len; false (ap then spent) for anything else,
 * a NULL string or a text that might not fit: the caller uses vsnprintf. */
LOY_INTERNAL bool loy_format_simple(char *buf, size_t cap, const char *fmt, va_list ap, size_t *len);
/* Refuse the event: sets ctx->code and a formatted message. Returns false. */
LOY_INTERNAL bool loy_refuse(loy_ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Append a trace entry {"rule": rule, "applied": applied, "why": ...} when tracing. */
LOY_INTERNAL void loy_trace(loy_ctx *c, const char *rule, bool applied, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Append an effect map with "type": type to ctx->effects and return it. */
LOY_INTERNAL loy_node *loy_effect(loy_ctx *c, const char *type);

/* ----------------------------------------------------- validate.c (step 1) */
/* Checks the event's fields; on failure fills code+message (event id may be
 * unusable: *id_ok false then). */
LOY_INTERNAL bool loy_validate_event(loy_ctx *c, const loy_event *ev, bool *id_ok);

/* ---------------------------------------------------------------- lots.c */
/* Expiry date of a credit made on `day` under the policy (LOY_DAY_NONE: never). */
LOY_INTERNAL bool loy_lot_expiry(const loy_policy *p, loy_day day, loy_day *out);
/* Credit available points (repays debt first); false on overflow/NOMEM (refuses). */
LOY_INTERNAL bool loy_lots_credit(loy_ctx *c, int64_t points, loy_day expires);
/* Add a pending lot for an order; order_id_len is the id's known length. */
LOY_INTERNAL bool loy_lots_add_pending(loy_ctx *c, int64_t points, loy_day expires,
                                       loy_day pending_until, const char *order_id, size_t order_id_len);
/* An order's pending lot (policy pending_days > 0): its last day and
 * pending_until, refused as credit_order would, then the lot; one call. */
LOY_INTERNAL bool loy_lots_add_order(loy_ctx *c, int64_t points, loy_day *expires, loy_day *pending_until);
/* Step 2: release due pending lots, then expire lots (effects in order).
 * The _due forms do the work once their first test (below) holds; the
 * plain forms are that test inline, so the usual event, with nothing due,
 * makes no call. */
LOY_INTERNAL bool loy_lots_release_due(loy_ctx *c);
LOY_INTERNAL bool loy_lots_expire_due(loy_ctx *c);
/* The first test of each part of step 2: is there work on `day`? Each
 * step asks it before doing anything, and the benefits query asks all of
 * them to know whether step 2 would leave the member as it is (apply.c),
 * so the two cannot drift apart. */
static inline bool loy_release_due(const loy_member *m, loy_day day)
{
    for (size_t i = 0; i < m->lot_count; i++)
        if (m->lots[i].pending_until != LOY_DAY_NONE && m->lots[i].pending_until <= day)
            return true;
    return false;
}
/* Lots are sorted by last day, "never" last (state load refuses any other
 * order), so only the first lot's last day can be past. */
static inline bool loy_expiry_due(const loy_member *m, loy_day day)
{
    return m->lot_count > 0 && m->lots[0].expires != LOY_DAY_NONE && m->lots[0].expires < day;
}
static inline bool loy_plan_end_due(const loy_member *m, loy_day day)
{
    return m->plan >= 0 && m->plan_until < day;
}
static inline bool loy_lots_release(loy_ctx *c)
{
    return !loy_release_due(c->m, c->day) || loy_lots_release_due(c);
}
static inline bool loy_lots_expire(loy_ctx *c)
{
    return !loy_expiry_due(c->m, c->day) || loy_lots_expire_due(c);
}
/* Take up to `points` from available lots, soonest-expiring first; returns taken. */
LOY_INTERNAL int64_t loy_lots_take(loy_member *m, int64_t points);
/* Take up to `points` from the pending lots of one order (matched by id); returns taken. */
LOY_INTERNAL int64_t loy_lots_take_pending(loy_member *m, const char *order_id, int64_t points);
LOY_INTERNAL int64_t loy_points_available(const loy_member *m);   /* lots - debt */
LOY_INTERNAL int64_t loy_points_pending(const loy_member *m);
/* Both of the above in one pass over the lots. */
LOY_INTERNAL void loy_points_totals(const loy_member *m, int64_t *available, int64_t *pending);

/* ------------------------------------------------------------- metrics.c */
/* The bucket of a month, created when missing (NULL on NOMEM). */
LOY_INTERNAL loy_month_bucket *loy_bucket(loy_member *m, loy_month month);
/* Sum of a metric over [from, to] months kept (LOY_METRIC_*). */
LOY_INTERNAL bool loy_metric_sum(const loy_member *m, int metric, loy_month from, loy_month to, int64_t *out);
/* Does the sum of a metric over [from, to] reach threshold? An int64
 * overflow counts as reached (the true sum is above any threshold). */
LOY_INTERNAL bool loy_metric_reaches(const loy_member *m, int metric, loy_month from, loy_month to,
                                     int64_t threshold);
/* The tier metric as of a date (§3.1 windows). */
LOY_INTERNAL bool loy_tier_metric(const loy_policy *p, const loy_member *m, loy_day as_of, int64_t *out);
/* Qualifying spend in tiers.window as of a date (spend_in_window_at_least). */
LOY_INTERNAL bool loy_window_spend(const loy_policy *p, const loy_member *m, loy_day as_of, int64_t *out);
/* Drops the buckets of months before `oldest`; the oldest bucket is one. */
LOY_INTERNAL void loy_buckets_drop_before(loy_member *m, loy_month oldest);
/* The oldest month a state keeps when later events can fall in `reach`
 * (loy_ctx_reachable_month): policy->months_kept months ending there. The
 * pruning and a return's test of a month no longer kept both ask it. */
static inline loy_month loy_oldest_kept_month(const loy_policy *p, loy_month reach)
{
    int32_t kept = p->months_kept < 1 ? 1 : p->months_kept;
    return reach - (kept - 1);
}
/* Drop buckets older than loy_oldest_kept_month(p, reach), after an
 * accepted event. The test is inline: every accepted event asks, and
 * nearly always there is nothing to drop. */
static inline void loy_buckets_prune(const loy_policy *p, loy_member *m, loy_month reach)
{
    loy_month oldest = loy_oldest_kept_month(p, reach);
    if (m->month_count > 0 && m->months[0].month < oldest)
        loy_buckets_drop_before(m, oldest);
}
/* Add to a metric (LOY_METRIC_*) of the month of `day` and to the lifetime
 * total; refuses with LOY_E_OVERFLOW. */
LOY_INTERNAL bool loy_metric_add(loy_ctx *c, loy_day day, int metric, int64_t value);
/* An order's metric updates at once (§3.1): the points it earned (0: none),
 * then, unless !growth_ok (refused: growth overflows), one order, its
 * qualifying spend and its growth, all in the month of c->day. Refuses as
 * loy_metric_add would, called for each in that order. */
LOY_INTERNAL bool loy_metric_add_order(loy_ctx *c, int64_t points, bool growth_ok, int64_t spend,
                                       int64_t growth);
/* A return lowers a metric of the original order's month (never below 0). */
LOY_INTERNAL bool loy_metric_lower(loy_ctx *c, loy_day day, int metric, int64_t value);
/* floor(spend x per_spend.growth / per_spend.amount); 0 without per_spend. */
LOY_INTERNAL bool loy_growth_for_spend(const loy_policy *p, int64_t spend, int64_t *out);
/* growth.actions value of a kind (0 when not listed). */
LOY_INTERNAL int64_t loy_growth_for_action(const loy_policy *p, const char *kind);

/* --------------------------------------------------------------- earn.c */
LOY_INTERNAL bool loy_step_order(loy_ctx *c);
/* Is the line's category or sku in these lists? */
LOY_INTERNAL bool loy_line_in(const loy_strs *categories, const loy_strs *skus, const loy_line *line);
/* ------------------------------------------------------------ returns.c */
LOY_INTERNAL bool loy_step_return(loy_ctx *c);
/* ------------------------------------------------------------ actions.c */
LOY_INTERNAL bool loy_step_action(loy_ctx *c);
/* First day of the limit period containing `day`. */
LOY_INTERNAL loy_day loy_period_start(loy_period per, loy_day day);
/* Limit counters of actions and benefits (cs: m->actions or m->benefit_uses):
 * the uses of entry `index` counted under `limit` in the period of `day`,
 * and counting one more in the period of the event's day (false on NOMEM).
 * A counter is kept per period a later event can still fall in (mixed
 * offsets, §1). */
LOY_INTERNAL int64_t loy_limit_uses(const loy_counter *cs, size_t n, int32_t index,
                                    const loy_limit *limit, loy_day day);
LOY_INTERNAL bool loy_limit_record(loy_ctx *c, loy_counter **cs, size_t *n, size_t *cap,
                                   int32_t index, const loy_limit *limit);
/* ------------------------------------------------------------- redeem.c */
LOY_INTERNAL bool loy_step_redeem(loy_ctx *c);
/* -------------------------------------------------------------- tiers.c */
LOY_INTERNAL bool loy_run_reviews(loy_ctx *c);       /* step 2 */
/*
 * Is the next review date surely after `day`? Every event asks, and the
 * answer is nearly always yes: a review date is after `after`, and an
 * anniversary (12 k months, k >= 1, clamped at most from Feb 29 to Feb 28)
 * at least 365 days after tier_since. Day numbers settle that without
 * working out a date. Inline: loy_run_reviews asks it, and the benefits
 * query asks it before copying the member (apply.c).
 */
static inline bool loy_review_surely_later(const loy_policy *p, const loy_member *m, loy_day day)
{
    loy_day after = m->tier_since;
    if (m->last_review != LOY_DAY_NONE && m->last_review > after)
        after = m->last_review;
    if (day <= after)
        return true;
    return p->tiers.review != LOY_R_CALENDAR_YEAR && (int64_t)day < (int64_t)m->tier_since + 365;
}
/* loy_run_reviews' first test: may a review be due on `day`? */
static inline bool loy_review_due(const loy_policy *p, const loy_member *m, loy_day day)
{
    return p->tiers.review != LOY_R_NEVER && m->tier > 0 && !loy_review_surely_later(p, m, day);
}
LOY_INTERNAL bool loy_step_upgrade(loy_ctx *c);      /* step 4 (calls loy_gifts_upgrade) */

/* --------------------------------------------------------------- cond.c */
/* interned ids: the ids of a line of c->ev (by string when step 1
 * did not resolve them). */
LOY_INTERNAL loy_line_ids loy_line_ids_of(const loy_ctx *c, const loy_line *line);
/* Does `when` hold (NULL holds)? Line predicates look at c->line. */
LOY_INTERNAL bool loy_cond_holds(loy_ctx *c, const loy_cond *when);
/* loy_cond_holds of one entry of a `when` (a leaf of loy_cond_each_leaf),
 * without looking for a map around it. */
LOY_INTERNAL bool loy_cond_entry_holds(loy_ctx *c, const loy_cond *entry);
/* The same, appending to `reasons` every failed entry as POLICY.md §11.4 writes it. */
LOY_INTERNAL bool loy_cond_explain(loy_ctx *c, const loy_cond *when, loy_node *reasons);
/* The reason one failed entry gives (a leaf of loy_cond_each_leaf), as
 * loy_cond_explain appends it; the nomem node when the arena cannot grow. */
LOY_INTERNAL loy_node *loy_cond_reason(loy_ctx *c, const loy_cond *entry);
/* A trace entry "WHAT: condition failed" for `rule`, with the failed
 * entries of `when` as its "reasons" (when tracing). */
LOY_INTERNAL void loy_trace_cond(loy_ctx *c, const char *rule, const loy_cond *when, const char *what);

/* -------------------------------------------------------------- gifts.c */
/* Step 4: the tier_changed effect and gifts of a move from tier `from` up to tier `to`. */
LOY_INTERNAL bool loy_gifts_upgrade(loy_ctx *c, int32_t from, int32_t to);
/* Step 5: birthday, surprise, spend gifts. */
LOY_INTERNAL bool loy_step_gifts(loy_ctx *c);
/* Does surprise `index`'s `when` hold? (loy_cond_holds of it, from the
 * policy's surprise plan when it has one.) */
LOY_INTERNAL bool loy_surprise_holds(loy_ctx *c, uint32_t index);
/* false when no surprise's `when` can hold at this event, by the plan's
 * tier and month gate; true otherwise, and always without a plan or when
 * tracing. */
LOY_INTERNAL bool loy_surprises_may_hold(loy_ctx *c);
/* The birthday in `year`, moved to Feb 28 or Mar 1 (gifts.birthday.feb29,
 * default feb28) for a Feb 29 birthday in a year without one. */
LOY_INTERNAL loy_day loy_birthday_in_year(const loy_policy *p, loy_day birthday, int32_t year);
/* Is `day` in a gifts.birthday.window (month without gifts.birthday)? If so,
 * *year is the occurrence: the year of the birthday the window surrounds. */
LOY_INTERNAL bool loy_birthday_occurrence(const loy_policy *p, loy_day birthday, loy_day day, int32_t *year);

/* ----------------------------------------------------------- benefits.c */
LOY_INTERNAL bool loy_step_use_benefit(loy_ctx *c);
/* The benefits list of a query, into `list`; `points` is the member's
 * available points (loy_points_available), which the caller has summed. */
LOY_INTERNAL bool loy_benefits_list(loy_ctx *c, loy_node *list, int64_t points);
/* loy_query_benefits always on a copy of the member after step 2 (apply.c):
 * the general path, for tests/test_query_fast.c. */
LOY_INTERNAL int loy_query_benefits_copied(const loy_policy *policy, const loy_member *member,
                                           const char *at, const char *channel, const char *store,
                                           loy_result *result);

/* --------------------------------------------------------------- paid.c */
/* Step 2: ends a plan past its last day (loy_plan_end_due): the test
 * inline, the work out of line. */
LOY_INTERNAL bool loy_paid_end_due(loy_ctx *c);
static inline bool loy_paid_end(loy_ctx *c)
{
    return !loy_plan_end_due(c->m, c->day) || loy_paid_end_due(c);
}
LOY_INTERNAL bool loy_step_join_paid(loy_ctx *c);    /* step 3 */
/* Step 3 of an order; false (refused, LOY_E_OVERFLOW) when the running
 * savings leave int64. */
LOY_INTERNAL bool loy_paid_add_savings(loy_ctx *c, int64_t savings);

/* ---------------------------------------------------------- lifecycle.c */
/* The stage a member's conditions give now (-1 without lifecycle). */
LOY_INTERNAL int32_t loy_stage_for(loy_ctx *c);
LOY_INTERNAL bool loy_step_lifecycle(loy_ctx *c);    /* step 6 */

/* ------------------------------------------------------------- apply.c */
/* The member summary map of §11.3 for a member. */
LOY_INTERNAL loy_node *loy_member_summary(loy_result *r, const loy_member *m);

#endif
