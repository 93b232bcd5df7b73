/*
 * Returns (POLICY.md §4.2): claw back the original order's points and lower
 * the metrics of its month (§3.1). The state keeps no order history, so the
 * return itself says what the order was.
 */
#include "engine.h"

/* The refunded qualifying amount: the refund, or less when the refunded lines
 * that count as qualifying spend add up to less. */
static bool refunded_qualifying(loy_ctx *c, int64_t *out)
{
    const loy_event *ev = c->ev;
    const loy_tiers *t = &c->p->tiers;
    *out = ev->amount;
    if (!(ev->fields & LOY_F_LINES))
        return true;
    int64_t lines = 0;
    for (size_t i = 0; i < ev->line_count; i++)
        if (!loy_line_in(&t->exclude_categories, &t->exclude_skus, &ev->lines[i]) &&
            !loy_add(lines, ev->lines[i].amount, &lines))
            return loy_refuse(c, LOY_E_OVERFLOW, "refunded lines overflow int64");
    if (lines < *out)
        *out = lines;
    return true;
}

bool loy_step_return(loy_ctx *c)
{
    const loy_event *ev = c->ev;
    const loy_policy *p = c->p;
    loy_member *m = c->m;
    loy_instant orig;
    if (!loy_parse_instant(ev->orig_at.s, ev->orig_at.len, &orig))
        return loy_refuse(c, LOY_E_INVALID_EVENT,
                          "return.original: 'at' must be an RFC 3339 instant with an offset");

    int64_t clawback = 0;
    if (ev->orig_amount > 0 &&
        !loy_muldiv(ev->orig_points, ev->amount, ev->orig_amount, LOY_ROUND_FLOOR, &clawback))
        return loy_refuse(c, LOY_E_OVERFLOW, "clawback overflows int64");

    if (clawback > 0) {
        int64_t from_pending = loy_lots_take_pending(m, ev->orig_id.s, clawback);
        int64_t from_available = loy_lots_take(m, clawback - from_pending);
        int64_t taken = from_pending + from_available;
        int64_t rest = clawback - taken, shortfall = 0;
        if (rest > 0 && p->points.negative_balance) {
            if (!loy_add(m->debt, rest, &m->debt))
                return loy_refuse(c, LOY_E_OVERFLOW, "debt overflows int64");
            taken += rest;
        } else {
            shortfall = rest;
        }
        if (c->trace)
            loy_trace(c, "return", true,
                      "clawback %lld of order '%s': %lld from its pending points, %lld available, "
                      "%lld %s",
                      (long long)clawback, ev->orig_id.s, (long long)from_pending,
                      (long long)from_available, (long long)rest,
                      p->points.negative_balance ? "as debt" : "shortfall");
        /* the copied order id is a take of its own, chained in between */
        bool owed = shortfall > 0;
        loy_node *order = rn_strdup(c->r, ev->orig_id.s, ev->orig_id.len);
        loy_node *e = order != &loy_nomem_node ? rn_effect_take(c->r, "points", owed ? 3 : 2)
                                               : NULL;
        if (e) {
            rn_sib(rn_init_int(e + 2, "delta", -taken));
            rn_init_str(e + 3, "source", "return")->next = order;
            order->key = "order";
            order->next = NULL;
            loy_node *last = order;
            if (owed)
                order->next = last = rn_init_int(e + 4, "shortfall", shortfall);
            rn_effect_done(c->effects, e, last, owed ? 5 : 4);
        }
    } else if (c->trace) {
        loy_trace(c, "return", false, "order '%s' earned no points to claw back", ev->orig_id.s);
    }

    int64_t qualifying, growth;
    if (!refunded_qualifying(c, &qualifying))
        return false;
    /* Growth to take off past int64 is an exact intermediate, not a result
     * (§1): it is more than any figure holds, so the figures go to 0 (§3.1),
     * which INT64_MAX does as well. */
    if (!loy_growth_for_spend(p, qualifying, &growth))
        growth = INT64_MAX;
    return loy_metric_lower(c, orig.date, LOY_METRIC_SPEND, qualifying) &&
           loy_metric_lower(c, orig.date, LOY_METRIC_POINTS_EARNED, clawback) &&
           loy_metric_lower(c, orig.date, LOY_METRIC_GROWTH, growth);
}
