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

/* The counter of an action kind, created (count 0) when missing. */
static loy_counter *action_counter(loy_member *m, int32_t index)
{
    for (size_t i = 0; i < m->action_count; i++)
        if (m->actions[i].index == index)
            return &m->actions[i];
    if (!LOY_GROW(m->alloc, m->actions, m->action_cap, m->action_count + 1))
        return NULL;
    loy_counter *k = &m->actions[m->action_count++];
    memset(k, 0, sizeof *k);
    k->index = index;
    k->kind = LOY_LIMIT_NONE;
    k->period_start = LOY_DAY_NONE;
    return k;
}

/* Uses counted so far in the limit's current period (a counter made under
 * another limit, or for an earlier period, counts as none). */
static int64_t uses_in_period(const loy_counter *k, const loy_limit *limit, loy_day day)
{
    if (k->kind != limit->kind)
        return 0;
    if (limit->kind == LOY_LIMIT_ONCE)
        return k->count;
    if (k->per != limit->per || k->period_start != loy_period_start(limit->per, day))
        return 0;
    return k->count;
}

bool loy_step_action(loy_ctx *c)
{
    const loy_policy *p = c->p;
    loy_member *m = c->m;
    const char *kind = c->ev->kind.s;
    int idx = loy_policy_action_index(p, kind);
    const loy_action *action = idx >= 0 ? &p->points.actions[idx] : NULL;

    if (action && action->limit.kind != LOY_LIMIT_NONE) {
        loy_counter *k = action_counter(m, idx);
        if (!k)
            return loy_refuse(c, LOY_E_NOMEM, "out of memory");
        const loy_limit *limit = &action->limit;
        int64_t used = uses_in_period(k, limit, c->day);
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
        k->kind = limit->kind;
        k->per = limit->kind == LOY_LIMIT_PER ? limit->per : LOY_PER_DAY;
        k->period_start = limit->kind == LOY_LIMIT_PER ? loy_period_start(limit->per, c->day)
                                                       : LOY_DAY_NONE;
        k->count = used + 1;
        if (c->trace)
            loy_trace(c, action->kind, true, "use %lld of %lld", (long long)k->count,
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
    if (!loy_lot_expiry(p, c->day, &expires))
        return loy_refuse(c, LOY_E_OVERFLOW, "the points' last day passes 9999-12-31");
    if (!loy_lots_credit(c, action->points, expires))
        return false;
    loy_node *e = loy_effect(c, "points");
    rn_put_int(c->r, e, "delta", action->points);
    rn_put_str(c->r, e, "source", "action");
    rn_put_str(c->r, e, "kind", action->kind);
    if (expires != LOY_DAY_NONE)
        rn_put_date(c->r, e, "expires", expires);
    return loy_metric_add(c, c->day, LOY_METRIC_POINTS_EARNED, action->points);
}
