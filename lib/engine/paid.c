/*
 * Paid membership (POLICY.md §7): joining and extending a plan, the savings
 * an order reports, and the end of a plan with its guarantee refund.
 */
#include "engine.h"

/* (start + months) - 1 day: the last day of a plan run starting on `start`.
 * start + months is an exact intermediate (§1): it may be 10000-01-01 when
 * the run starts on the 1st and ends on 9999-12-31, the last day a date can
 * be, so that one case is answered without it. */
static bool plan_last_day(loy_ctx *c, loy_day start, int32_t months, loy_day *out)
{
    loy_day after;
    if (loy_add_months(start, months, &after) && loy_add_days(after, -1, out))
        return true;
    loy_ymd s = loy_day_to_ymd(start);
    if (s.d == 1 && (int64_t)s.y * 12 + (s.m - 1) + months == INT64_C(10000) * 12) {
        *out = loy_day_from_ymd(9999, 12, 31);
        return true;
    }
    return loy_refuse(c, LOY_E_OVERFLOW, "the plan would run past 9999-12-31");
}

static bool extend_plan(loy_ctx *c, const loy_plan *plan)
{
    loy_member *m = c->m;
    loy_day next_start, until;
    int64_t fees;
    if (!loy_add_days(m->plan_until, 1, &next_start))
        return loy_refuse(c, LOY_E_OVERFLOW, "the plan would run past 9999-12-31");
    if (!plan_last_day(c, next_start, plan->months, &until))
        return false;
    if (!loy_add(m->plan_fees, plan->fee, &fees))
        return loy_refuse(c, LOY_E_OVERFLOW, "the fees paid for plan '%s' leave int64", plan->id);
    m->plan_until = until;
    m->plan_fees = fees;
    bool from = m->plan_from != LOY_DAY_NONE;
    loy_node *e = rn_effect_take(c->r, "paid_started", from ? 4 : 3);
    if (e) {
        loy_node *n = rn_sib(rn_init_str(e + 2, "plan", plan->id));
        if (from)
            n = rn_sib(rn_init_date(n + 1, "from", m->plan_from));
        n = rn_sib(rn_init_date(n + 1, "until", until));
        rn_effect_done(c->effects, e, rn_init_bool(n + 1, "extended", true), from ? 5 : 4);
    }
    loy_trace(c, "paid", true, "%s: extended", plan->id);
    return true;
}

bool loy_step_join_paid(loy_ctx *c)
{
    const char *id = c->ev->plan.s;
    int index = loy_policy_plan_index(c->p, id);
    if (index < 0)
        return loy_refuse(c, LOY_E_UNKNOWN_PLAN, "no paid plan '%s' in this policy", id);
    loy_member *m = c->m;
    const loy_plan *plan = &c->p->plans[index];
    if (m->plan == index)
        return extend_plan(c, plan);
    if (m->plan >= 0) {
        char until[11];
        loy_format_date(m->plan_until, until);
        return loy_refuse(c, LOY_E_PLAN_CONFLICT, "plan '%s' is running until %s",
                          c->p->plans[m->plan].id, until);
    }
    loy_day until;
    if (!plan_last_day(c, c->day, plan->months, &until))
        return false;
    m->plan = index;
    m->plan_from = c->day;
    m->plan_until = until;
    m->plan_fees = plan->fee;
    m->plan_savings = 0;
    loy_node *e = rn_effect_take(c->r, "paid_started", 3);
    if (e) {
        rn_sib(rn_init_str(e + 2, "plan", plan->id));
        rn_sib(rn_init_date(e + 3, "from", c->day));
        rn_effect_done(c->effects, e, rn_init_date(e + 4, "until", until), 4);
    }
    loy_trace(c, "paid", true, "%s: started", plan->id);
    return true;
}

bool loy_paid_add_savings(loy_ctx *c, int64_t savings)
{
    loy_member *m = c->m;
    if (m->plan < 0 || savings == 0)
        return true;
    int64_t total;
    if (!loy_add(m->plan_savings, savings, &total))
        return loy_refuse(c, LOY_E_OVERFLOW, "the savings of plan '%s' leave int64", c->p->plans[m->plan].id);
    m->plan_savings = total;
    return true;
}

/* loy_paid_end once the plan is past its last day (engine.h asks). */
bool loy_paid_end_due(loy_ctx *c)
{
    loy_member *m = c->m;
    const loy_plan *plan = &c->p->plans[m->plan];
    /* fees and savings are both >= 0, so the difference stays in int64. */
    int64_t refund = 0;
    if (plan->guarantee && m->plan_fees > m->plan_savings)
        refund = m->plan_fees - m->plan_savings;
    loy_node *e = rn_effect_take(c->r, "paid_ended", 3);
    if (e) {
        rn_sib(rn_init_str(e + 2, "plan", plan->id));
        rn_sib(rn_init_date(e + 3, "until", m->plan_until));
        rn_effect_done(c->effects, e, rn_init_int(e + 4, "refund", refund), 4);
    }
    loy_trace(c, "paid", true, "%s: ended after %lld paid, %lld saved", plan->id, (long long)m->plan_fees,
              (long long)m->plan_savings);
    m->plan = -1;
    m->plan_from = LOY_DAY_NONE;
    m->plan_until = LOY_DAY_NONE;
    m->plan_fees = 0;
    m->plan_savings = 0;
    return true;
}
