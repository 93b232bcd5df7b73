/*
 * Tiers: upgrade at step 4 (POLICY.md §3.3) and reviews at step 2 (§3.4).
 */
#include "engine.h"

/* The highest level whose `at` the metric reaches. */
static int32_t qualified_level(const loy_policy *p, int64_t metric)
{
    int32_t best = 0;
    for (uint32_t i = 1; i < p->tiers.count; i++)
        if (p->tiers.levels[i].at <= metric)
            best = (int32_t)i;
    return best;
}

static const char *tier_id(const loy_policy *p, int32_t tier)
{
    return p->tiers.levels[tier].id;
}

/*
 * The first review date strictly after tier_since and after the last review
 * processed. false when there is none before 9999-12-31.
 */
static bool next_review(const loy_policy *p, const loy_member *m, loy_day *out)
{
    loy_day after = m->tier_since;
    if (m->last_review != LOY_DAY_NONE && m->last_review > after)
        after = m->last_review;
    if (p->tiers.review == LOY_R_CALENDAR_YEAR) {
        int32_t year = loy_day_to_ymd(after).y + 1;
        if (year > 9999)
            return false;
        *out = loy_day_from_ymd(year, 1, 1);
        return true;
    }
    /* Anniversaries count from tier_since itself, so a Feb 29 start keeps
     * coming back to Feb 29 in leap years. */
    loy_ymd since = loy_day_to_ymd(m->tier_since);
    loy_ymd last = after == m->tier_since ? since : loy_day_to_ymd(after);
    /* An anniversary after `after` lies in after's year or later. */
    int64_t k = (int64_t)last.y - since.y - 1;
    if (k < 1)
        k = 1;
    for (;; k++) {
        loy_day r;
        if (!loy_add_years_ymd(since, k, &r))
            return false;
        if (r > after) {
            *out = r;
            return true;
        }
    }
}

/* loy_run_reviews once a review may be due: out of line, so the usual
 * event, with none due, pays for no saved registers. */
static __attribute__((noinline)) bool run_reviews(loy_ctx *c)
{
    const loy_policy *p = c->p;
    loy_member *m = c->m;
    while (m->tier > 0) {
        loy_day review;
        if (loy_review_surely_later(p, m, c->day) || !next_review(p, m, &review) || review > c->day)
            return true;
        char rdate[11];
        if (c->trace)
            loy_format_date(review, rdate);
        m->last_review = review;

        loy_day hold_end;
        if (p->tiers.min_hold_months > 0 &&
            (!loy_add_months(m->tier_since, p->tiers.min_hold_months, &hold_end) ||
             review < hold_end)) {
            if (c->trace)
                LOY_TRACE(c, "review", false, "%s skipped: within min_hold_months %d of tier_since",
                          rdate, (int)p->tiers.min_hold_months);
            continue;
        }

        int64_t metric;
        if (!loy_tier_metric(p, m, review - 1, &metric))
            return loy_refuse(c, LOY_E_OVERFLOW, "the tier metric overflows int64");
        const loy_tier *level = &p->tiers.levels[m->tier];
        if (metric >= level->keep) {
            if (c->trace)
                LOY_TRACE(c, "review", false, "%s: metric %lld keeps '%s' (keep %lld)", rdate,
                          (long long)metric, level->id, (long long)level->keep);
            continue;
        }
        int32_t from = m->tier;
        int32_t to = p->tiers.downgrade == LOY_DOWN_TO_QUALIFIED ? qualified_level(p, metric)
                                                                 : from - 1;
        if (to >= from)
            to = from - 1;
        m->tier = to;
        m->tier_since = review;
        if (c->trace)
            LOY_TRACE(c, "review", true, "%s: metric %lld below keep %lld of '%s': now '%s'", rdate,
                      (long long)metric, (long long)level->keep, level->id, tier_id(p, to));
        loy_node *e = loy_effect(c, "tier_changed");
        rn_put_str(c->r, e, "from", tier_id(p, from));
        rn_put_str(c->r, e, "to", tier_id(p, to));
        rn_put_str(c->r, e, "reason", "review");
        rn_put_date(c->r, e, "review_date", review);
    }
    return true;
}

bool loy_run_reviews(loy_ctx *c)
{
    /* run_reviews' first test, which nearly every event stops at. */
    return loy_review_due(c->p, c->m, c->day) ? run_reviews(c) : true;
}

/* The upgrade's trace entry when the metric falls short of `next`: out of
 * line, so that the step keeps nothing but c across a call. */
static __attribute__((noinline)) void trace_no_upgrade(loy_ctx *c, int64_t metric, int32_t next)
{
    const loy_policy *p = c->p;
    loy_trace(c, "upgrade", false, "metric %lld below %lld for '%s'", (long long)metric,
              (long long)p->tiers.levels[next].at, tier_id(p, next));
}

/* The traced upgrade: its entry, then the answer and gifts. */
static __attribute__((noinline)) bool traced_upgrade(loy_ctx *c, int64_t metric, int32_t from,
                                                     int32_t target)
{
    const loy_policy *p = c->p;
    loy_trace(c, "upgrade", true, "metric %lld reaches %lld for '%s'", (long long)metric,
              (long long)p->tiers.levels[target].at, tier_id(p, target));
    return loy_gifts_upgrade(c, from, target);
}

bool loy_step_upgrade(loy_ctx *c)
{
    /* Most events upgrade no one; loy_tier_below_next settles that from one
     * total, without summing the window's months. The trace states the
     * metric itself, so it takes the sum. */
    if (!c->trace && loy_tier_below_next(c->p, c->m))
        return true;
    int64_t metric;
    if (!loy_tier_metric_today(c, &metric))
        return loy_refuse(c, LOY_E_OVERFLOW, "the tier metric overflows int64");
    /* read after the call, so nothing but c is kept across it */
    const loy_policy *p = c->p;
    loy_member *m = c->m;
    /* The levels' `at` rise strictly (the loader checks), so qualified_level
     * is above the member's tier exactly when the next level's `at` is
     * reached, and then it is the last level reached from there: most
     * events, with no upgrade, look at one level. */
    int32_t target = m->tier;
    while ((uint32_t)target + 1 < p->tiers.count && p->tiers.levels[target + 1].at <= metric)
        target++;
    int32_t from = m->tier;
    if (target == from) {
        if (c->trace && (uint32_t)from + 1 < p->tiers.count)
            trace_no_upgrade(c, metric, from + 1);
        return true;
    }
    m->tier = target;
    m->tier_since = c->day;
    if (c->trace)
        return traced_upgrade(c, metric, from, target);
    return loy_gifts_upgrade(c, from, target);
}
