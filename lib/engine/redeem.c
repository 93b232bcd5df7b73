/*
 * Redemption (POLICY.md §4.5): the checks in the order the spec gives, the
 * first failing one reported; then points leave soonest-expiring lots first.
 */
#include "engine.h"

#include <stdio.h>

static const char *share_text(char buf[32], loy_fix f)
{
    int64_t frac = f % LOY_FIX_ONE;
    if (frac == 0) {
        snprintf(buf, 32, "%lld", (long long)(f / LOY_FIX_ONE));
        return buf;
    }
    int digits = 4;
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    snprintf(buf, 32, "%lld.%0*lld", (long long)(f / LOY_FIX_ONE), digits, (long long)frac);
    return buf;
}

bool loy_step_redeem(loy_ctx *c)
{
    const loy_points *pts = &c->p->points;
    loy_member *m = c->m;
    int64_t asked = c->ev->points, order_amount = c->ev->order_amount;
    if (!pts->has_redeem)
        return loy_refuse(c, LOY_E_REDEEM_DISABLED, "this policy has no points.redeem");

    int64_t available = loy_points_available(m);
    bool ok = asked <= available;
    if (c->trace)
        loy_trace(c, "redeem.available", ok, "%lld points asked, %lld available", (long long)asked,
                  (long long)available);
    if (!ok)
        return loy_refuse(c, LOY_E_INSUFFICIENT_POINTS, "%lld points asked, %lld available",
                          (long long)asked, (long long)available);

    ok = asked >= pts->redeem_min_points;
    if (c->trace)
        loy_trace(c, "redeem.min_points", ok, "%lld points asked, min_points %lld",
                  (long long)asked, (long long)pts->redeem_min_points);
    if (!ok)
        return loy_refuse(c, LOY_E_BELOW_MIN_POINTS, "%lld points asked, min_points is %lld",
                          (long long)asked, (long long)pts->redeem_min_points);

    ok = asked % pts->redeem_step == 0;
    if (c->trace)
        loy_trace(c, "redeem.step", ok, "%lld points asked, step %lld", (long long)asked,
                  (long long)pts->redeem_step);
    if (!ok)
        return loy_refuse(c, LOY_E_NOT_STEP_MULTIPLE, "%lld points is not a multiple of %lld",
                          (long long)asked, (long long)pts->redeem_step);

    int64_t value;
    if (!loy_muldiv(asked, pts->redeem_amount, pts->redeem_points, LOY_ROUND_FLOOR, &value))
        return loy_refuse(c, LOY_E_OVERFLOW, "redemption value overflows int64");
    /* value <= share x A, exactly: value x 10^4 <= share_fix x A. */
    ok = (__int128)value * LOY_FIX_ONE <= (__int128)pts->redeem_max_share * order_amount;
    char share[32];
    if (c->trace || !ok)
        share_text(share, pts->redeem_max_share);
    if (c->trace)
        loy_trace(c, "redeem.max_order_share", ok, "value %lld against %s of the order amount %lld",
                  (long long)value, share, (long long)order_amount);
    if (!ok)
        return loy_refuse(c, LOY_E_OVER_ORDER_SHARE,
                          "value %lld exceeds max_order_share %s of the order amount %lld",
                          (long long)value, share, (long long)order_amount);

    loy_lots_take(m, asked);
    loy_node *e = rn_effect_take(c->r, "points", 3);
    if (e) {
        rn_sib(rn_init_int(e + 2, "delta", -asked));
        rn_sib(rn_init_str(e + 3, "source", "redeem"));
        rn_effect_done(c->effects, e, rn_init_int(e + 4, "value", value), 4);
    }
    return true;
}
