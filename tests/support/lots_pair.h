/*
 * The rig of the differential lots tests (credit_append, lots_bound,
 * order_pending, lots_fast): two members driven alike but for the path
 * under test must end with the same lots, so the comparison and the
 * setup of their two contexts are written once.
 *
 * Include after <cmocka.h> and its prerequisites, and after "member.h"
 * and "engine/engine.h".
 */
#ifndef LOTS_PAIR_H
#define LOTS_PAIR_H

#include <stdio.h>
#include <string.h>

/* One tier, a point a unit: only the expiry moves the lots' last days. */
static inline loy_policy *policy_after(long months)
{
    char y[512];
    snprintf(y, sizeof y,
             "loyalty_policy: 1\ncurrency: {code: CNY}\n"
             "tiers: {qualify_on: spend, levels: [{id: t0}]}\n"
             "points:\n  earn:\n    rate: {amount: 1, points: 1}\n  expiry: {after_months: %ld}\n",
             months);
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, y, strlen(y), "expiry.yaml", NULL), LOY_OK);
    return p;
}

/*
 * The first lot a and b differ on, in any field a credit or a pending lot
 * sets, or -1. The caller has checked lot_count is the same, and reports
 * the difference in its own terms (round, step, which path).
 */
static inline long first_lot_diff(const loy_member *a, const loy_member *b)
{
    for (size_t i = 0; i < a->lot_count; i++) {
        const loy_lot *x = &a->lots[i], *y = &b->lots[i];
        if (x->points != y->points || x->expires != y->expires || x->pending_until != y->pending_until ||
            x->credited != y->credited || x->seq != y->seq ||
            strcmp(x->order_id ? x->order_id : "", y->order_id ? y->order_id : "") != 0)
            return (long)i;
    }
    return -1;
}

/* Two zeroed contexts on one policy, each on its own member and result. */
static inline void ctx_pair(loy_ctx *ca, loy_ctx *cb, const loy_policy *p, loy_member *a, loy_member *b,
                            loy_result *ra, loy_result *rb)
{
    memset(ca, 0, sizeof *ca);
    memset(cb, 0, sizeof *cb);
    ca->p = cb->p = p;
    ca->m = a;
    cb->m = b;
    ca->r = ra;
    cb->r = rb;
}

#endif
