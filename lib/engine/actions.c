/*
 * Actions and their limits (POLICY.md §4.3), and the local calendar periods
 * that limits of actions and benefits count in.
 */
#include "engine.h"

loy_day loy_period_start(loy_period per, loy_day day)
{
    switch (per) {
    case LOY_PER_DAY:
        return day;
    case LOY_PER_WEEK:
        return loy_week_start(day);
    case LOY_PER_MONTH:
        return loy_month_first_day(loy_month_of(day));
    case LOY_PER_YEAR: {
        loy_ymd v = loy_day_to_ymd(day);
        return loy_day_from_ymd(v.y, 1, 1);
    }
    }
    return day;
}

static const char *period_word(loy_period per)
{
    switch (per) {
    case LOY_PER_DAY: return "day";
    case LOY_PER_WEEK: return "week";
    case LOY_PER_MONTH: return "month";
    case LOY_PER_YEAR: return "year";
    }
    return "period";
}

/*
 * Limit counters, shared by actions and benefits: one counter per period an
 * event can still fall in. Events are ordered by instant, but with mixed
 * offsets a later event may have an earlier local date than the one before
 * it, and it counts in the period of its own local date (§1). So the
 * counter of a past period is kept, not overwritten, while a later event
 * can still reach it: loy_earliest_reachable_day (date.h).
 */
static loy_day period_last_day(loy_period per, loy_day start)
{
    switch (per) {
    case LOY_PER_DAY:
        return start;
    case LOY_PER_WEEK:
        return start + 6;
    case LOY_PER_MONTH:
        return loy_month_last_day(loy_month_of(start));
    case LOY_PER_YEAR:
        return loy_day_from_ymd(loy_day_to_ymd(start).y, 12, 31);
    }
    return start;
}

/* The start of the period of `day` a counter under `limit` must carry to
 * match: worked out once per scan, not per counter. */
static loy_day limit_start(const loy_limit *limit, loy_day day)
{
    /* counter_matches does not look at it for `once`. */
    return limit->kind == LOY_LIMIT_ONCE ? LOY_DAY_NONE : loy_period_start(limit->per, day);
}

/* Does counter k count uses of `index` under `limit` in the period that
 * starts on `start` (limit_start of the day)? */
static bool counter_matches(const loy_counter *k, int32_t index, const loy_limit *limit, loy_day start)
{
    if (k->index != index || k->kind != limit->kind)
        return false;
    if (limit->kind == LOY_LIMIT_ONCE)
        return true;
    return k->per == limit->per && k->period_start == start;
}

int64_t loy_limit_uses(const loy_counter *cs, size_t n, int32_t index, const loy_limit *limit,
                       loy_day day)
{
    /* Most scans find no counter of this entry: the period is worked out
     * only for one that could match. */
    bool have_start = false;
    loy_day start = LOY_DAY_NONE;
    for (size_t i = 0; i < n; i++) {
        const loy_counter *k = &cs[i];
        if (k->index != index || k->kind != limit->kind)
            continue;
        if (!have_start) {
            start = limit_start(limit, day);
            have_start = true;
        }
        if (counter_matches(k, index, limit, start))
            return k->count;
    }
    return 0;
}

/* A counter that no later event can use: made under another limit (which
 * counts afresh), or for a period that ended before `earliest`. */
static bool counter_stale(const loy_counter *k, const loy_limit *limit, loy_day earliest)
{
    if (k->kind != limit->kind || (limit->kind == LOY_LIMIT_PER && k->per != limit->per))
        return true;
    return limit->kind == LOY_LIMIT_PER && k->period_start != LOY_DAY_NONE &&
           period_last_day(k->per, k->period_start) < earliest;
}

bool loy_limit_record(loy_ctx *c, loy_counter **cs, size_t *n, size_t *cap, int32_t index,
                      const loy_limit *limit)
{
    if (limit->kind == LOY_LIMIT_NONE)
        return true;
    loy_day day = c->day, earliest = loy_earliest_reachable_day(&c->at);
    loy_day start = limit_start(limit, day);
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++) {
        const loy_counter *k = &(*cs)[i];
        if (k->index == index && !counter_matches(k, index, limit, start) &&
            counter_stale(k, limit, earliest))
            continue;
        (*cs)[kept++] = *k;
    }
    *n = kept;
    for (size_t i = 0; i < *n; i++) {
        if (counter_matches(&(*cs)[i], index, limit, start)) {
            /* Below its limit when counted, so this never passes int64. */
            (*cs)[i].count++;
            return true;
        }
    }
    if (!LOY_GROW(c->m->alloc, *cs, *cap, *n + 1))
        return false;
    loy_counter *k = &(*cs)[(*n)++];
    memset(k, 0, sizeof *k);
    k->index = index;
    k->kind = limit->kind;
    k->per = limit->kind == LOY_LIMIT_PER ? limit->per : LOY_PER_DAY;
    k->period_start = limit->kind == LOY_LIMIT_PER ? start : LOY_DAY_NONE;
    k->count = 1;
    return true;
}

bool loy_step_action(loy_ctx *c)
{
    const loy_policy *p = c->p;
    loy_member *m = c->m;
    const char *kind = c->ev->kind.s;
    int idx = loy_policy_action_index(p, kind);
    const loy_action *action = idx >= 0 ? &p->points.actions[idx] : NULL;

    if (action && action->limit.kind != LOY_LIMIT_NONE) {
        const loy_limit *limit = &action->limit;
        int64_t used = loy_limit_uses(m->actions, m->action_count, idx, limit, c->day);
        int64_t allowed = limit->kind == LOY_LIMIT_ONCE ? 1 : limit->count;
        if (used >= allowed) {
            if (c->trace) {
                if (limit->kind == LOY_LIMIT_ONCE)
                    loy_trace(c, action->kind, false, "limit once: already counted");
                else
                    loy_trace(c, action->kind, false, "limit %lld per %s reached",
                              (long long)limit->count, period_word(limit->per));
            }
            return true;
        }
        if (!loy_limit_record(c, &m->actions, &m->action_count, &m->action_cap, idx, limit))
            return loy_refuse(c, LOY_E_NOMEM, "out of memory");
        if (c->trace)
            loy_trace(c, action->kind, true, "use %lld of %lld", (long long)(used + 1),
                      (long long)allowed);
    } else if (c->trace) {
        loy_trace(c, action ? action->kind : "action", action != NULL,
                  action ? "no limit" : "kind not listed under points.actions: no points");
    }

    /* Growth counts every action within its limit, and kinds not listed (§3.2). */
    if (!loy_metric_add(c, c->day, LOY_METRIC_GROWTH, loy_growth_for_action(p, kind)))
        return false;
    if (!action || action->points <= 0)
        return true;

    loy_day expires;
    if (!loy_ctx_credit_expiry(c, &expires))
        return loy_refuse(c, LOY_E_OVERFLOW, "the points' last day passes 9999-12-31");
    if (!loy_lots_credit(c, action->points, expires))
        return false;
    bool dated = expires != LOY_DAY_NONE;
    loy_node *e = rn_effect_take(c->r, "points", dated ? 4 : 3);
    if (e) {
        rn_sib(rn_init_int(e + 2, "delta", action->points));
        rn_sib(rn_init_str(e + 3, "source", "action"));
        loy_node *last = rn_init_str(e + 4, "kind", action->kind);
        if (dated) {
            rn_sib(last);
            last = rn_init_date(e + 5, "expires", expires);
        }
        rn_effect_done(c->effects, e, last, dated ? 5 : 4);
    }
    return loy_metric_add(c, c->day, LOY_METRIC_POINTS_EARNED, action->points);
}
