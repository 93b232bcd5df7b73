/*
 * The policy loader on the three reference policies (POLICY.md §2-§9): the
 * counts, ids and names tools see, and spot checks of the compiled struct
 * the engine reads (lib/policy.h); the public getters; loading from memory;
 * allocation failure at every point (no leaks, LOY_E_NOMEM); and the
 * `loyalty check` program (§12) run as a process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <xxhash.h>

#include "loyalty.h"
#include "policy.h"
#include "support/wire_support.h"
#include "support/replay_support.h"

#define POLICY(name) LOY_SPEC_DIR "/policies/" name ".yaml"

static loy_policy *load_ok(const char *path)
{
    loy_policy *p = NULL;
    loy_diag *d = NULL;
    int rc = loy_policy_load_file(&p, path, &d);
    for (size_t i = 0; i < loy_diag_count(d); i++)
        fprintf(stderr, "%s:%u:%u: %s\n", loy_diag_file(d), loy_diag_line(d, i), loy_diag_column(d, i),
                loy_diag_message(d, i));
    assert_int_equal(rc, LOY_OK);
    assert_non_null(p);
    assert_non_null(d);
    assert_int_equal(loy_diag_count(d), 0);
    loy_diag_free(d);
    return p;
}

static const loy_multiplier *mult(const loy_policy *p, const char *id)
{
    for (uint32_t i = 0; i < p->points.multiplier_count; i++)
        if (strcmp(p->points.multipliers[i].id, id) == 0)
            return &p->points.multipliers[i];
    fail_msg("no multiplier %s", id);
    return NULL;
}

static void assert_strs(const loy_strs *s, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    assert_int_equal(s->count, (uint32_t)n);
    for (int i = 0; i < n; i++)
        assert_string_equal(s->items[i], va_arg(ap, const char *));
    va_end(ap);
}

static loy_day day(int y, int m, int d) { return loy_day_from_ymd(y, m, d); }

/* ------------------------------------------------------------- apparel */

static void test_apparel(void **state)
{
    (void)state;
    loy_policy *p = load_ok(POLICY("apparel"));

    assert_string_equal(loy_policy_program(p), "Acme Apparel");
    assert_string_equal(loy_policy_currency(p), "CNY");
    assert_int_equal(loy_policy_minor_units(p), 2);

    /* §12 counts */
    assert_int_equal(loy_policy_count(p, LOY_KIND_TIER), 4);
    assert_int_equal(loy_policy_count(p, LOY_KIND_MULTIPLIER), 4);
    assert_int_equal(loy_policy_count(p, LOY_KIND_ACTION), 3);
    assert_int_equal(loy_policy_count(p, LOY_KIND_GIFT), 9);
    assert_int_equal(loy_policy_count(p, LOY_KIND_BENEFIT), 7);
    assert_int_equal(loy_policy_count(p, LOY_KIND_PLAN), 0);
    assert_int_equal(loy_policy_count(p, LOY_KIND_STAGE), 5);

    /* tiers */
    const loy_tiers *t = &p->tiers;
    assert_int_equal(t->qualify_on, LOY_Q_SPEND);
    assert_int_equal(t->window, LOY_W_MONTHS);
    assert_int_equal(t->window_months, 12);
    assert_strs(&t->exclude_categories, 1, "gift_card");
    assert_int_equal(t->exclude_skus.count, 0);
    assert_int_equal(t->review, LOY_R_ANNIVERSARY);
    assert_int_equal(t->downgrade, LOY_DOWN_ONE_LEVEL);
    assert_int_equal(t->min_hold_months, 12);
    const char *ids[] = {"member", "silver", "gold", "platinum"};
    const char *names[] = {"会员", "银卡", "金卡", "铂金卡"};
    const int64_t at[] = {0, 100000, 300000, 500000}, keep[] = {0, 100000, 250000, 400000};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(t->levels[i].id, ids[i]);
        assert_string_equal(t->levels[i].name, names[i]);
        assert_int_equal(t->levels[i].at, at[i]);
        assert_int_equal(t->levels[i].keep, keep[i]);
        assert_string_equal(loy_policy_id(p, LOY_KIND_TIER, i), ids[i]);
        assert_string_equal(loy_policy_name(p, LOY_KIND_TIER, i), names[i]);
        assert_int_equal(loy_policy_tier_index(p, ids[i]), (int)i);
    }
    assert_false(p->growth.present);

    /* points.earn */
    const loy_points *pt = &p->points;
    assert_true(pt->has_earn);
    assert_int_equal(pt->rate_amount, 100);
    assert_int_equal(pt->rate_points, 1);
    assert_int_equal(pt->rounding, LOY_ROUND_FLOOR);
    assert_false(pt->round_per_line);
    assert_strs(&pt->exclude_categories, 2, "gift_card", "shipping");
    assert_int_equal(pt->min_order, 1000);
    assert_int_equal(pt->stacking, LOY_STACK_MULTIPLY);
    assert_int_equal(pt->cap_per_order, 20000);
    assert_int_equal(pt->cap_per_day, 30000);

    const loy_multiplier *m = mult(p, "tier_bonus");
    assert_true(m->by_tier);
    assert_null(m->when);
    assert_int_equal(m->tier_factor[0], 0);
    assert_int_equal(m->tier_factor[1], 12000);
    assert_int_equal(m->tier_factor[2], 15000);
    assert_int_equal(m->tier_factor[3], 20000);

    m = mult(p, "member_day");
    assert_false(m->by_tier);
    assert_int_equal(m->factor, 20000);
    assert_non_null(m->when);
    assert_int_equal(m->when->op, LOY_C_MAP);
    assert_int_equal(m->when->count, 1);
    const loy_cond *c = &m->when->kids[0];
    assert_int_equal(c->op, LOY_C_DAY_OF_MONTH);
    assert_string_equal(c->key, "day_of_month");
    assert_true(c->as_list);
    assert_int_equal(c->count, 3);
    assert_int_equal(c->ints[0], 8);
    assert_int_equal(c->ints[1], 18);
    assert_int_equal(c->ints[2], 28);
    assert_false(m->when->has_line_pred);

    m = mult(p, "birthday_month");
    assert_int_equal(m->when->kids[0].op, LOY_C_BIRTHDAY);
    assert_int_equal(m->when->kids[0].word, LOY_BDAY_MONTH);

    m = mult(p, "new_season");
    assert_int_equal(m->factor, 15000);
    assert_true(m->when->has_line_pred);
    assert_int_equal(m->when->count, 2);
    assert_int_equal(m->when->kids[0].op, LOY_C_CATEGORY);
    assert_true(m->when->kids[0].has_line_pred);
    assert_int_equal(m->when->kids[0].count, 1);
    assert_string_equal(m->when->kids[0].strs[0], "coats");
    assert_int_equal(m->when->kids[1].op, LOY_C_DATE_BETWEEN);
    assert_int_equal(m->when->kids[1].ints[0], day(2026, 10, 1));
    assert_int_equal(m->when->kids[1].ints[1], day(2026, 12, 31));
    assert_false(m->when->kids[1].has_line_pred);

    /* points.actions */
    assert_string_equal(pt->actions[0].kind, "signup");
    assert_int_equal(pt->actions[0].points, 100);
    assert_int_equal(pt->actions[0].limit.kind, LOY_LIMIT_ONCE);
    assert_string_equal(pt->actions[1].kind, "review");
    assert_int_equal(pt->actions[1].points, 10);
    assert_int_equal(pt->actions[1].limit.kind, LOY_LIMIT_PER);
    assert_int_equal(pt->actions[1].limit.count, 5);
    assert_int_equal(pt->actions[1].limit.per, LOY_PER_MONTH);
    assert_int_equal(pt->actions[2].limit.count, 3);
    assert_int_equal(pt->actions[2].limit.per, LOY_PER_DAY);
    assert_int_equal(loy_policy_action_index(p, "share"), 2);
    assert_int_equal(loy_policy_action_index(p, "check_in"), -1);
    assert_string_equal(loy_policy_id(p, LOY_KIND_ACTION, 0), "signup");

    assert_int_equal(pt->pending_days, 7);
    assert_int_equal(pt->expiry, LOY_EXPIRY_AFTER_MONTHS);
    assert_int_equal(pt->expiry_n, 12);
    assert_true(pt->has_redeem);
    assert_int_equal(pt->redeem_points, 100);
    assert_int_equal(pt->redeem_amount, 100);
    assert_int_equal(pt->redeem_min_points, 100);
    assert_int_equal(pt->redeem_step, 100);
    assert_int_equal(pt->redeem_max_share, 3000);
    assert_false(pt->negative_balance);
    int64_t rp = 0, ra = 0;
    assert_int_equal(loy_policy_redeem_rate(p, &rp, &ra), LOY_OK);
    assert_int_equal(rp, 100);
    assert_int_equal(ra, 100);

    /* gifts */
    const loy_gifts *g = &p->gifts;
    assert_true(g->has_upgrade);
    assert_false(g->upgrade_every_time);
    assert_false(g->upgrade_highest);
    assert_int_equal(g->upgrade_count, 3);
    assert_null(g->upgrade[0]);
    assert_true(g->upgrade[1]->has_points);
    assert_int_equal(g->upgrade[1]->points, 200);
    assert_false(g->upgrade[1]->has_coupons);
    assert_int_equal(g->upgrade[2]->points, 500);
    assert_true(g->upgrade[2]->has_coupons);
    assert_strs(&g->upgrade[2]->coupons, 1, "GOLD-WELCOME-100");
    assert_false(g->upgrade[3]->has_points);
    assert_strs(&g->upgrade[3]->items, 1, "SCARF-CASHMERE");
    assert_true(g->has_birthday);
    assert_int_equal(g->bday_window, LOY_BW_MONTH);
    assert_int_equal(g->bday_min_member_days, 30);
    assert_int_equal(g->feb29, LOY_FEB29_FEB28);
    assert_int_equal(g->birthday_count, 3);
    assert_strs(&g->birthday[0]->coupons, 1, "BDAY-20");
    assert_null(g->birthday[1]);
    assert_int_equal(g->birthday[3]->points, 800);
    assert_strs(&g->birthday[3]->items, 1, "CAKE-VOUCHER");
    assert_int_equal(g->surprise_count, 2);
    assert_string_equal(g->surprise[0].id, "crab-season");
    assert_int_equal(g->surprise[0].sample, 10000);
    assert_true(g->surprise[0].per_year);
    assert_int_equal(g->surprise[0].when->kids[0].op, LOY_C_TIER_AT_LEAST);
    assert_int_equal(g->surprise[0].when->kids[0].n, 3);
    assert_strs(&g->surprise[0].reward.items, 1, "HAIRY-CRAB-BOX");
    assert_int_equal(g->surprise[1].sample, 500);
    assert_false(g->surprise[1].per_year);
    assert_int_equal(g->surprise[1].when->kids[1].op, LOY_C_MONTH);
    assert_int_equal(g->surprise[1].when->kids[1].ints[0], 3);
    assert_int_equal(g->spend_count, 1);
    assert_string_equal(g->spend[0].id, "monthly-credit");
    assert_int_equal(g->spend[0].period, LOY_SP_MONTH);
    assert_int_equal(g->spend[0].at_least, 200000);
    assert_true(g->spend[0].reward.has_credit);
    assert_int_equal(g->spend[0].reward.credit, 5000);
    assert_int_equal(loy_policy_surprise_index(p, "new-fabric-trial"), 1);
    assert_int_equal(loy_policy_spend_index(p, "monthly-credit"), 0);

    const char *gift_ids[] = {"upgrade:silver", "upgrade:gold", "upgrade:platinum",
                              "birthday:member", "birthday:gold", "birthday:platinum",
                              "surprise:crab-season", "surprise:new-fabric-trial", "spend:monthly-credit"};
    for (size_t i = 0; i < 9; i++)
        assert_string_equal(loy_policy_id(p, LOY_KIND_GIFT, i), gift_ids[i]);
    assert_null(loy_policy_id(p, LOY_KIND_GIFT, 9));

    /* benefits */
    const loy_benefit *b = &p->benefits[0];
    assert_string_equal(b->id, "member-price");
    assert_string_equal(b->name, "会员价");
    assert_string_equal(b->kind, "purchase");
    assert_int_equal(b->value.kind, LOY_VAL_BY_TIER);
    assert_int_equal(b->value.by_tier[0].kind, LOY_VAL_NONE);
    assert_int_equal(b->value.by_tier[1].kind, LOY_VAL_NUMBER);
    assert_string_equal(b->value.by_tier[1].text, "0.95");
    assert_string_equal(b->value.by_tier[2].text, "0.9");
    assert_string_equal(b->value.by_tier[3].text, "0.85");
    assert_int_equal(b->limit.kind, LOY_LIMIT_NONE);
    b = &p->benefits[2];
    assert_string_equal(b->id, "alteration");
    assert_int_equal(b->limit.kind, LOY_LIMIT_PER);
    assert_int_equal(b->limit.count, 4);
    assert_int_equal(b->limit.per, LOY_PER_YEAR);
    assert_int_equal(b->value.kind, LOY_VAL_NONE);
    b = &p->benefits[4];
    assert_int_equal(b->when->count, 2);
    assert_int_equal(b->when->kids[1].op, LOY_C_POINTS_AT_LEAST);
    assert_int_equal(b->when->kids[1].n, 1000);
    b = &p->benefits[5];
    c = &b->when->kids[0];
    assert_int_equal(c->op, LOY_C_ANY);
    assert_string_equal(c->key, "any");
    assert_int_equal(c->count, 2);
    assert_int_equal(c->kids[0].op, LOY_C_MAP);
    assert_null(c->kids[0].key);
    assert_int_equal(c->kids[0].kids[0].op, LOY_C_TIER_AT_LEAST);
    assert_int_equal(c->kids[0].kids[0].n, 2);
    assert_int_equal(c->kids[1].kids[0].op, LOY_C_TAGS);
    assert_string_equal(c->kids[1].kids[0].strs[0], "vip-list");
    b = &p->benefits[6];
    assert_null(b->name);
    assert_null(loy_policy_name(p, LOY_KIND_BENEFIT, 6));
    assert_string_equal(loy_policy_benefit_kind(p, 6), "purchase");
    assert_int_equal(b->when->kids[1].op, LOY_C_NOT);
    assert_int_equal(b->when->kids[1].count, 1);
    assert_int_equal(b->when->kids[1].kids[0].kids[0].op, LOY_C_CHANNEL);
    assert_strs(&(loy_strs){b->when->kids[1].kids[0].kids[0].strs, b->when->kids[1].kids[0].kids[0].count}, 2,
                "tmall", "douyin");
    assert_int_equal(loy_policy_benefit_index(p, "designer-salon"), 4);

    /* lifecycle */
    assert_true(p->has_lifecycle);
    assert_string_equal(p->stages[0].id, "dormant");
    assert_int_equal(p->stages[0].when->kids[0].op, LOY_C_DAYS_SINCE_LAST_ORDER_AT_LEAST);
    assert_int_equal(p->stages[0].when->kids[0].n, 365);
    assert_int_equal(p->stages[1].when->kids[0].op, LOY_C_ORDERS_IN_MONTHS);
    assert_int_equal(p->stages[1].when->kids[0].n, 12);
    assert_int_equal(p->stages[1].when->kids[0].n2, 4);
    assert_null(p->stages[4].when);
    assert_int_equal(loy_policy_stage_index(p, "registered"), 4);

    assert_int_equal(p->months_kept, 13);
    loy_policy_free(p);
}

/* ------------------------------------------------------------- grocery */

static void test_grocery(void **state)
{
    (void)state;
    loy_policy *p = load_ok(POLICY("grocery"));
    assert_string_equal(loy_policy_program(p), "Orchard Fresh");
    assert_int_equal(loy_policy_count(p, LOY_KIND_TIER), 5);
    assert_int_equal(loy_policy_count(p, LOY_KIND_MULTIPLIER), 4);
    assert_int_equal(loy_policy_count(p, LOY_KIND_ACTION), 3);
    assert_int_equal(loy_policy_count(p, LOY_KIND_GIFT), 7);
    assert_int_equal(loy_policy_count(p, LOY_KIND_BENEFIT), 5);
    assert_int_equal(loy_policy_count(p, LOY_KIND_PLAN), 2);
    assert_int_equal(loy_policy_count(p, LOY_KIND_STAGE), 4);

    const loy_tiers *t = &p->tiers;
    assert_int_equal(t->qualify_on, LOY_Q_GROWTH);
    assert_int_equal(t->window, LOY_W_CALENDAR_YEAR);
    assert_int_equal(t->review, LOY_R_CALENDAR_YEAR);
    assert_int_equal(t->downgrade, LOY_DOWN_TO_QUALIFIED);
    assert_int_equal(t->min_hold_months, 0);
    /* growth tiers: at and keep are plain integers */
    assert_int_equal(t->levels[1].at, 600);
    assert_int_equal(t->levels[4].at, 15000);
    assert_int_equal(t->levels[4].keep, 15000);
    assert_string_equal(t->levels[4].name, "黑卡");

    const loy_growth *gr = &p->growth;
    assert_true(gr->present);
    assert_true(gr->has_per_spend);
    assert_int_equal(gr->per_spend_amount, 100);
    assert_int_equal(gr->per_spend_growth, 1);
    assert_int_equal(gr->per_order, 5);
    assert_int_equal(gr->action_count, 2);
    assert_string_equal(gr->actions[0].kind, "check_in");
    assert_int_equal(gr->actions[0].growth, 1);
    assert_string_equal(gr->actions[1].kind, "review");
    assert_int_equal(gr->actions[1].growth, 3);

    const loy_points *pt = &p->points;
    assert_int_equal(pt->rate_amount, 1000);
    assert_int_equal(pt->rate_points, 1);
    assert_int_equal(pt->rounding, LOY_ROUND_NEAREST);
    assert_true(pt->round_per_line);
    assert_strs(&pt->exclude_categories, 2, "bags", "deposit");
    assert_int_equal(pt->min_order, 0);
    assert_int_equal(pt->stacking, LOY_STACK_ADD);
    assert_int_equal(pt->cap_per_order, 2000);
    assert_int_equal(pt->cap_per_day, -1);
    const loy_multiplier *m = mult(p, "tier_bonus");
    assert_int_equal(m->tier_factor[0], 0);
    assert_int_equal(m->tier_factor[1], 0);
    assert_int_equal(m->tier_factor[2], 12500);
    assert_int_equal(m->tier_factor[3], 15000);
    assert_int_equal(m->tier_factor[4], 20000);
    m = mult(p, "afternoon_tea");
    assert_int_equal(m->factor, 15000);
    assert_int_equal(m->when->kids[0].op, LOY_C_TIME_BETWEEN);
    assert_int_equal(m->when->kids[0].ints[0], 14 * 60);
    assert_int_equal(m->when->kids[0].ints[1], 16 * 60);
    assert_int_equal(m->when->kids[1].op, LOY_C_CHANNEL);
    assert_string_equal(m->when->kids[1].strs[0], "mini_program");
    m = mult(p, "paid_bonus");
    assert_int_equal(m->when->kids[0].op, LOY_C_PAID);
    assert_int_equal(m->when->kids[0].word, LOY_PAID_ACTIVE);
    m = mult(p, "member_day");
    assert_int_equal(m->when->kids[0].op, LOY_C_WEEKDAY);
    assert_int_equal(m->when->kids[0].ints[0], 3);
    assert_int_equal(pt->actions[2].limit.per, LOY_PER_YEAR);
    assert_int_equal(pt->actions[1].limit.per, LOY_PER_WEEK);
    assert_int_equal(pt->pending_days, 0);
    assert_int_equal(pt->expiry, LOY_EXPIRY_END_OF_YEAR_PLUS);
    assert_int_equal(pt->expiry_n, 1);
    assert_int_equal(pt->redeem_points, 10);
    assert_int_equal(pt->redeem_amount, 100);
    assert_int_equal(pt->redeem_max_share, 5000);
    assert_false(pt->negative_balance);

    const loy_gifts *g = &p->gifts;
    assert_true(g->upgrade_every_time);
    assert_true(g->upgrade_highest);
    assert_int_equal(g->upgrade_count, 4);
    assert_null(g->upgrade[0]);
    assert_strs(&g->upgrade[4]->items, 1, "PREMIUM-FRUIT-BOX");
    assert_int_equal(g->bday_window, LOY_BW_AROUND);
    assert_int_equal(g->bday_before, 3);
    assert_int_equal(g->bday_after, 7);
    assert_int_equal(g->bday_min_member_days, 0);
    assert_int_equal(g->feb29, LOY_FEB29_MAR1);
    assert_int_equal(g->birthday_count, 2);
    assert_null(g->birthday[0]);
    assert_non_null(g->birthday[1]);
    assert_non_null(g->birthday[2]);
    assert_null(g->birthday[3]);
    assert_int_equal(g->surprise_count, 0);
    assert_int_equal(g->spend[0].period, LOY_SP_ORDER);
    assert_int_equal(g->spend[0].at_least, 19900);
    assert_strs(&g->spend[0].reward.coupons, 1, "NEXT-ORDER-5");
    const char *gift_ids[] = {"upgrade:silver", "upgrade:gold", "upgrade:platinum", "upgrade:black",
                              "birthday:silver", "birthday:gold", "spend:big-basket"};
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(loy_policy_id(p, LOY_KIND_GIFT, i), gift_ids[i]);

    assert_string_equal(p->benefits[0].name, "嘗鮮試吃");
    const loy_benefit *b = &p->benefits[3];
    assert_string_equal(b->kind, "gift");
    assert_int_equal(b->limit.per, LOY_PER_WEEK);
    b = &p->benefits[4];
    const loy_cond *any = &b->when->kids[0];
    assert_int_equal(any->op, LOY_C_ANY);
    const loy_cond *paid = &any->kids[0].kids[0];
    assert_int_equal(paid->op, LOY_C_PAID);
    assert_int_equal(paid->word, LOY_PAID_PLANS);
    assert_true(paid->as_list);
    assert_int_equal(paid->count, 1);
    assert_int_equal(paid->ints[0], 0);
    const loy_cond *tier = &any->kids[1].kids[0];
    assert_int_equal(tier->op, LOY_C_TIER);
    assert_true(tier->as_list);
    assert_int_equal(tier->ints[0], 4);

    assert_string_equal(p->plans[0].id, "annual");
    assert_int_equal(p->plans[0].fee, 19900);
    assert_int_equal(p->plans[0].months, 12);
    assert_true(p->plans[0].guarantee);
    assert_int_equal(p->plans[1].fee, 1900);
    assert_int_equal(p->plans[1].months, 1);
    assert_false(p->plans[1].guarantee);
    assert_int_equal(loy_policy_plan_index(p, "monthly"), 1);
    assert_int_equal(loy_policy_plan_index(p, "weekly"), -1);
    assert_string_equal(loy_policy_id(p, LOY_KIND_PLAN, 1), "monthly");

    assert_int_equal(p->stages[1].when->kids[0].n, 3);
    assert_string_equal(loy_policy_id(p, LOY_KIND_STAGE, 2), "trying");
    assert_int_equal(p->months_kept, 13);
    loy_policy_free(p);
}

/* ------------------------------------------------------------- minimal */

static void test_minimal(void **state)
{
    (void)state;
    loy_policy *p = load_ok(POLICY("minimal"));
    assert_string_equal(loy_policy_program(p), "Corner Store");
    assert_string_equal(loy_policy_currency(p), "CNY");
    assert_int_equal(loy_policy_minor_units(p), 2);
    assert_int_equal(loy_policy_count(p, LOY_KIND_TIER), 2);
    for (loy_kind k = LOY_KIND_MULTIPLIER; k <= LOY_KIND_STAGE; k++)
        if (k != LOY_KIND_TIER)
            assert_int_equal(loy_policy_count(p, k), 0);
    assert_int_equal(loy_policy_count(p, (loy_kind)99), 0);
    assert_int_equal(p->tiers.window, LOY_W_LIFETIME);
    assert_int_equal(p->tiers.review, LOY_R_NEVER);
    assert_int_equal(p->tiers.downgrade, LOY_DOWN_ONE_LEVEL);
    assert_null(p->tiers.levels[0].name);
    assert_int_equal(p->tiers.levels[1].at, 50000);
    assert_int_equal(p->tiers.levels[1].keep, 50000);
    assert_true(p->points.has_earn);
    assert_int_equal(p->points.rate_amount, 100);
    assert_int_equal(p->points.rounding, LOY_ROUND_FLOOR);
    assert_int_equal(p->points.stacking, LOY_STACK_MULTIPLY);
    assert_int_equal(p->points.cap_per_order, -1);
    assert_int_equal(p->points.cap_per_day, -1);
    assert_int_equal(p->points.expiry, LOY_EXPIRY_NONE);
    assert_false(p->points.has_redeem);
    assert_int_equal(p->points.redeem_step, 1);
    assert_int_equal(p->points.redeem_max_share, LOY_FIX_ONE);
    assert_int_equal(loy_policy_redeem_rate(p, NULL, NULL), LOY_E_REDEEM_DISABLED);
    assert_false(p->gifts.has_upgrade);
    assert_false(p->gifts.has_birthday);
    assert_false(p->has_lifecycle);
    assert_int_equal(p->months_kept, 13);
    assert_null(loy_policy_id(p, LOY_KIND_TIER, 2));
    assert_null(loy_policy_name(p, LOY_KIND_TIER, 0));
    assert_null(loy_policy_benefit_kind(p, 0));
    assert_int_equal(loy_policy_tier_index(p, "vip"), 1);
    assert_int_equal(loy_policy_tier_index(p, "gold"), -1);
    assert_int_equal(loy_policy_tier_index(p, NULL), -1);
    loy_policy_free(p);
}

/* --------------------------------------------------- months_kept, misc */

static loy_policy *load_text(const char *text)
{
    loy_policy *p = NULL;
    loy_diag *d = NULL;
    int rc = loy_policy_load_buffer(&p, text, strlen(text), "t.yaml", &d);
    for (size_t i = 0; i < loy_diag_count(d); i++)
        fprintf(stderr, "%u:%u: %s\n", loy_diag_line(d, i), loy_diag_column(d, i), loy_diag_message(d, i));
    assert_int_equal(rc, LOY_OK);
    loy_diag_free(d);
    return p;
}

#define HEAD "loyalty_policy: 1\n"

static void test_months_kept(void **state)
{
    (void)state;
    struct {
        const char *text;
        int32_t kept;
    } cases[] = {
        {HEAD "tiers: {qualify_on: spend, window: 3_months, levels: [{id: a}]}\n", 13},
        {HEAD "tiers: {qualify_on: spend, window: 24_months, levels: [{id: a}]}\n", 24},
        {HEAD "tiers: {qualify_on: spend, window: 60_months, levels: [{id: a}]}\n", 60},
        {HEAD "tiers: {qualify_on: spend, window: lifetime, levels: [{id: a}]}\n", 13},
        {HEAD "tiers: {qualify_on: orders, window: calendar_year, levels: [{id: a}]}\n", 13},
        {HEAD "tiers: {qualify_on: spend, levels: [{id: a}]}\n"
              "benefits: [{id: b, kind: gift, when: {not: {orders_in_months: {months: 36, at_least: 2}}}}]\n", 36},
        {HEAD "tiers: {qualify_on: spend, levels: [{id: a}]}\n"
              "gifts: {spend: [{id: y, period: calendar_year, at_least: 1, reward: {points: 1}}]}\n", 13},
        {HEAD "tiers: {qualify_on: spend, window: 2_months, levels: [{id: a}]}\n"
              "lifecycle: [{id: x, when: {orders_in_months: {months: 1200, at_least: 1}}}, {id: y}]\n", 1200},
    };
    for (size_t i = 0; i < LOY_ARRAY_LEN(cases); i++) {
        loy_policy *p = load_text(cases[i].text);
        assert_int_equal(p->months_kept, cases[i].kept);
        loy_policy_free(p);
    }
}

/* Typing details the engine depends on. */
static void test_values(void **state)
{
    (void)state;
    loy_policy *p = load_text(
        HEAD "currency: {code: JPY, minor_units: 0}\n"
        "tiers:\n"
        "  qualify_on: spend\n"
        "  levels:\n"
        "    - {id: 2026}\n"                       /* an unquoted integer id is its text */
        "    - {id: \"yes\", at: 10_000}\n"        /* quoted: text */
        "points:\n"
        "  earn:\n"
        "    rate: {amount: \"100\", points: 3}\n"
        "    multipliers:\n"
        "      - {id: m, factor: 1.2500, when: {time_between: [22:30, \"02:00\"], tier: 2026, paid: none}}\n"
        "  expiry: ~\n"
        "  redeem: {rate: {points: 1, amount: 1}, max_order_share: \"0.5\"}\n"
        "gifts:\n"
        "  surprise:\n"
        "    - {id: s, sample_percent: 40.70, reward: {coupons: C1}}\n"
        "benefits:\n"
        "  - {id: v1, kind: gift, value: 0.50}\n"
        "  - {id: v2, kind: gift, value: \"0.50\"}\n"
        "  - {id: v3, kind: gift, value: 10_000}\n"
        "  - {id: v4, kind: gift, value: ten percent}\n"
        "  - {id: v5, kind: gift, value: {by_tier: {2026: 1, \"yes\": x}}}\n");
    assert_int_equal(p->minor_units, 0);
    assert_string_equal(p->tiers.levels[0].id, "2026");
    assert_string_equal(p->tiers.levels[1].id, "yes");
    assert_int_equal(p->tiers.levels[1].at, 10000);
    assert_int_equal(p->points.rate_amount, 100);
    assert_int_equal(p->points.rate_points, 3);
    const loy_multiplier *m = &p->points.multipliers[0];
    assert_int_equal(m->factor, 12500);
    assert_int_equal(m->when->kids[0].ints[0], 22 * 60 + 30);
    assert_int_equal(m->when->kids[0].ints[1], 120);
    assert_int_equal(m->when->kids[1].op, LOY_C_TIER);
    assert_false(m->when->kids[1].as_list);
    assert_int_equal(m->when->kids[1].ints[0], 0);
    assert_int_equal(m->when->kids[2].word, LOY_PAID_NONE);
    assert_int_equal(p->points.expiry, LOY_EXPIRY_NONE);
    assert_int_equal(p->points.redeem_max_share, 5000);
    assert_int_equal(p->gifts.surprise[0].sample, 4070);
    assert_false(p->gifts.surprise[0].per_year);
    assert_strs(&p->gifts.surprise[0].reward.coupons, 1, "C1");
    assert_int_equal(p->benefits[0].value.kind, LOY_VAL_NUMBER);
    assert_string_equal(p->benefits[0].value.text, "0.5");
    assert_int_equal(p->benefits[1].value.kind, LOY_VAL_STRING);
    assert_string_equal(p->benefits[1].value.text, "0.50");
    assert_string_equal(p->benefits[2].value.text, "10000");
    assert_int_equal(p->benefits[3].value.kind, LOY_VAL_STRING);
    assert_string_equal(p->benefits[3].value.text, "ten percent");
    assert_int_equal(p->benefits[4].value.kind, LOY_VAL_BY_TIER);
    assert_string_equal(p->benefits[4].value.by_tier[0].text, "1");
    assert_int_equal(p->benefits[4].value.by_tier[1].kind, LOY_VAL_STRING);
    assert_string_equal(p->benefits[4].value.by_tier[1].text, "x");
    loy_policy_free(p);

    /* anchors and aliases are expanded */
    p = load_text(HEAD "tiers: {qualify_on: spend, levels: [{id: a}, {id: b, at: 5}]}\n"
                       "points:\n"
                       "  actions:\n"
                       "    review: &lim {points: 2, limit: &per {count: 2, per: week}}\n"
                       "    share: *lim\n"
                       "    like: {points: 1, limit: *per}\n");
    assert_int_equal(p->points.action_count, 3);
    assert_int_equal(p->points.actions[1].points, 2);
    assert_int_equal(p->points.actions[2].limit.per, LOY_PER_WEEK);
    assert_int_equal(p->tiers.levels[1].at, 500);
    loy_policy_free(p);

    /* YAML 1.1 typing (§2), as PyYAML reads each of these: an integer in
     * any of its forms is an id as written; an exponent without a point
     * before it or a sign after the e is not a float but text, so `1e3` and
     * `2E10` are ids too (a value `1e3` is the string); a date with a
     * one-digit month, or followed by anything but a whole time, is text. */
    p = load_text(HEAD "tiers:\n"
                       "  qualify_on: spend\n"
                       "  levels:\n"
                       "    - {id: 1e3}\n"
                       "    - {id: 2E10, at: 1}\n"
                       "    - {id: 1e+3, at: 2}\n"
                       "    - {id: 1.5e3, at: 3}\n"
                       "    - {id: 0x1F, at: 4}\n"
                       "    - {id: 1_000, at: 5}\n"
                       "    - {id: -5, at: 6}\n"
                       "    - {id: 12:30, at: 7}\n"
                       "    - {id: y, at: 8}\n"
                       "    - {id: tRUE, at: 9}\n"
                       "    - {id: 2026-1-1, at: 10}\n"
                       "    - {id: 2026-11-01 foo, at: 11}\n"
                       "    - {id: 2026-11-01T10:00, at: 12}\n"
                       "benefits:\n"
                       "  - {id: v, kind: gift, value: 1e3, when: {tier: [2E10, 1.5e3]}}\n");
    const char *ids[] = {"1e3",   "2E10",  "1e+3", "1.5e3", "0x1F",     "1_000",          "-5",
                         "12:30", "y",     "tRUE", "2026-1-1", "2026-11-01 foo", "2026-11-01T10:00"};
    assert_int_equal(p->tiers.count, 13);
    for (uint32_t i = 0; i < 13; i++)
        assert_string_equal(p->tiers.levels[i].id, ids[i]);
    assert_int_equal(p->benefits[0].value.kind, LOY_VAL_STRING);
    assert_string_equal(p->benefits[0].value.text, "1e3");
    loy_policy_free(p);

    /* A leading point makes a float only unsigned and followed by a digit
     * (PyYAML): `-.5`, `+.5` and `._5` are text, so ids as written and a
     * value `-.5` is the string; so is `08`, no octal int. (1:30.5, a
     * base-60 float, is no id: tests/policies/invalid/number-bases.) */
    p = load_text(HEAD "tiers:\n"
                       "  qualify_on: spend\n"
                       "  levels:\n"
                       "    - {id: -.5}\n"
                       "    - {id: +.5, at: 1}\n"
                       "    - {id: ._5, at: 2}\n"
                       "benefits:\n"
                       "  - {id: v, kind: gift, value: -.5, when: {tier: [+.5, ._5]}}\n"
                       "  - {id: w, kind: gift, value: 08}\n"); /* no octal digits: text */
    assert_int_equal(p->tiers.count, 3);
    assert_string_equal(p->tiers.levels[0].id, "-.5");
    assert_string_equal(p->tiers.levels[1].id, "+.5");
    assert_string_equal(p->tiers.levels[2].id, "._5");
    assert_int_equal(p->benefits[0].value.kind, LOY_VAL_STRING);
    assert_string_equal(p->benefits[0].value.text, "-.5");
    assert_int_equal(p->benefits[1].value.kind, LOY_VAL_STRING);
    assert_string_equal(p->benefits[1].value.text, "08");
    loy_policy_free(p);
}

/* ------------------------------------------------ buffers, fingerprints */

static void test_buffer_and_fingerprint(void **state)
{
    (void)state;
    size_t len;
    char *text = read_or_fail(POLICY("apparel"), &len);
    loy_policy *p = NULL;
    loy_diag *d = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, text, len, NULL, &d), LOY_OK);
    assert_string_equal(loy_diag_file(d), "<memory>");
    assert_int_equal(loy_diag_count(d), 0);
    assert_int_equal(loy_policy_fingerprint(p), XXH3_64bits(text, len));
    char hex[17], want[17];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)XXH3_64bits(text, len));
    loy_policy_fingerprint_hex(p, hex);
    assert_string_equal(hex, want);
    assert_string_equal(hex, "a7c8661e065c465b");
    loy_policy_free(p);
    loy_diag_free(d);

    /* one byte more (a trailing newline) is another fingerprint */
    char *more = malloc(len + 1);
    memcpy(more, text, len);
    more[len] = '\n';
    assert_int_equal(loy_policy_load_buffer(&p, more, len + 1, "x", NULL), LOY_OK);
    assert_true(loy_policy_fingerprint(p) != XXH3_64bits(text, len));
    loy_policy_free(p);
    free(more);
    free(text);

    /* the file loader gives the same fingerprint */
    p = load_ok(POLICY("minimal"));
    text = read_or_fail(POLICY("minimal"), &len);
    assert_int_equal(loy_policy_fingerprint(p), XXH3_64bits(text, len));
    free(text);
    loy_policy_free(p);
}

static void test_api_edges(void **state)
{
    (void)state;
    loy_policy *p = (loy_policy *)1;
    loy_diag *d = (loy_diag *)1;
    assert_int_equal(loy_policy_load_buffer(NULL, "", 0, NULL, &d), LOY_E_INVALID_ARG);
    assert_null(d);
    assert_int_equal(loy_policy_load_buffer(&p, NULL, 5, NULL, NULL), LOY_E_INVALID_ARG);
    assert_null(p);
    assert_int_equal(loy_policy_load_file(&p, NULL, NULL), LOY_E_INVALID_ARG);

    assert_int_equal(loy_policy_load_file(&p, LOY_TEST_DIR "/policies/no-such-file.yaml", &d), LOY_E_IO);
    assert_null(p);
    assert_int_equal(loy_diag_count(d), 1);
    assert_int_equal(loy_diag_line(d, 0), 0);
    assert_string_equal(loy_diag_message(d, 0), "cannot read: No such file or directory");
    loy_diag_free(d);
    assert_int_equal(loy_policy_load_file(&p, LOY_TEST_DIR "/policies/no-such-file.yaml", NULL), LOY_E_IO);

    /* NULL handles */
    loy_policy_free(NULL);
    loy_diag_free(NULL);
    assert_int_equal(loy_diag_count(NULL), 0);
    assert_null(loy_diag_message(NULL, 0));
    assert_int_equal(loy_policy_count(NULL, LOY_KIND_TIER), 0);
    assert_null(loy_policy_id(NULL, LOY_KIND_TIER, 0));
    assert_null(loy_policy_program(NULL));
    assert_int_equal(loy_policy_redeem_rate(NULL, NULL, NULL), LOY_E_INVALID_ARG);
    assert_false(loy_strs_has(NULL, "x"));
    const char *items[] = {"a", "b"};
    loy_strs s = {items, 2};
    assert_true(loy_strs_has(&s, "b"));
    assert_false(loy_strs_has(&s, "c"));
}

/* ------------------------------------------------------------- NOMEM */

typedef struct counting {
    long fail_at;   /* the allocation number that fails; -1: never */
    long calls;
    long live;
} counting;

static void *c_malloc(void *ctx, size_t n)
{
    counting *c = ctx;
    if (c->calls++ == c->fail_at)
        return NULL;
    void *p = malloc(n);
    if (p)
        c->live++;
    return p;
}

static void *c_realloc(void *ctx, void *ptr, size_t n)
{
    counting *c = ctx;
    if (c->calls++ == c->fail_at)
        return NULL;
    void *p = realloc(ptr, n);
    if (p && !ptr)
        c->live++;
    return p;
}

static void c_free(void *ctx, void *ptr)
{
    counting *c = ctx;
    if (ptr)
        c->live--;
    free(ptr);
}

static void nomem_run(const char *text, size_t len, int want_final)
{
    for (long k = 0;; k++) {
        counting c = {k, 0, 0};
        loy_allocator a = {c_malloc, c_realloc, c_free, &c};
        loy_policy *p = NULL;
        loy_diag *d = NULL;
        int rc = loy_policy_load_buffer_ex(&p, text, len, "n.yaml", &d, &a);
        if (c.calls <= k) {
            /* no allocation failed: the normal outcome */
            assert_int_equal(rc, want_final);
            loy_policy_free(p);
            loy_diag_free(d);
            assert_int_equal(c.live, 0);
            return;
        }
        if (rc == LOY_E_NOMEM) {
            assert_null(p);
            assert_null(d);
        } else {
            /* a failure the loader recovered from would still be a bug */
            assert_int_equal(rc, LOY_E_NOMEM);
        }
        assert_int_equal(c.live, 0);
    }
}

static void test_nomem(void **state)
{
    (void)state;
    size_t len;
    char *text = read_or_fail(POLICY("grocery"), &len);
    nomem_run(text, len, LOY_OK);
    free(text);
    text = read_or_fail(POLICY("apparel"), &len);
    nomem_run(text, len, LOY_OK);
    free(text);
    const char *bad = HEAD "tiers: {qualify_on: spnd, levels: []}\npoints: {earn: {rate: {amount: -1}}}\n";
    nomem_run(bad, strlen(bad), LOY_E_POLICY);
}

/*
 * §2: the loader's bounds are "far above any real program (the reference
 * policies fit a hundred times over)". apparel.yaml is 3.5 KiB and 455
 * nodes; with 6000 benefits of 14 nodes each in place of its seven it is
 * 1.3 MiB and over 84,000 nodes, more than a hundred apparels side by side,
 * and still loads whole.
 */
static void test_hundredfold_loads(void **state)
{
    (void)state;
    size_t len;
    char *apparel = read_or_fail(POLICY("apparel"), &len);
    char *benefits = strstr(apparel, "\nbenefits:\n");
    char *lifecycle = strstr(apparel, "\nlifecycle:\n");
    assert_non_null(benefits);
    assert_non_null(lifecycle);
    size_t cap = len + 6000 * 256, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    n += (size_t)snprintf(text + n, cap - n, "%.*s\nbenefits:\n", (int)(benefits - apparel), apparel);
    for (int i = 0; i < 6000; i++)
        n += (size_t)snprintf(text + n, cap - n,
                              "  - {id: b%d, name: 权益%d, kind: activity, when: {tier_at_least: platinum, "
                              "points_at_least: %d, any: [{tags: [t%d]}, {channel: [pos, app]}]}, "
                              "limit: {count: 1, per: year}, value: {by_tier: {silver: 0.95, gold: 0.9}}}\n",
                              i, i, i, i);
    n += (size_t)snprintf(text + n, cap - n, "%s", lifecycle);
    assert_true(n > 100 * len);
    loy_policy *p = load_text(text);
    assert_non_null(p);
    assert_int_equal(loy_policy_count(p, LOY_KIND_BENEFIT), 6000);
    assert_int_equal(loy_policy_count(p, LOY_KIND_TIER), 4);
    assert_int_equal(loy_policy_count(p, LOY_KIND_GIFT), 9);
    assert_int_equal(loy_policy_count(p, LOY_KIND_STAGE), 5);
    loy_policy_free(p);
    free(text);
    free(apparel);
}

/* ---------------------------------------------------- `loyalty check` */

/* `loyalty check ARGS` run in dir; its output into out, its exit status back. */
static int run_in(const char *dir, const char *args, char *out, size_t cap)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && ASAN_OPTIONS=detect_leaks=1 '%s' check %s", dir, LOY_CLI, args);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int status = pclose(f);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int run(const char *args, char *out, size_t cap)
{
    return run_in(".", args, out, cap);
}

static char *ok_line(const char *path, const char *counts)
{
    size_t len;
    char *text = read_or_fail(path, &len);
    char *line = malloc(strlen(path) + strlen(counts) + 64);
    sprintf(line, "%s: ok, %s, fingerprint %016llx\n", path, counts,
            (unsigned long long)XXH3_64bits(text, len));
    free(text);
    return line;
}

static void test_cli_check(void **state)
{
    (void)state;
    static char out[65536];
    char *a = ok_line(POLICY("apparel"), "4 tiers, 4 multipliers, 3 actions, 9 gifts, 7 benefits, 0 plans, 5 stages");
    char *g = ok_line(POLICY("grocery"), "5 tiers, 4 multipliers, 3 actions, 7 gifts, 5 benefits, 2 plans, 4 stages");
    char *m = ok_line(POLICY("minimal"), "2 tiers, 0 multipliers, 0 actions, 0 gifts, 0 benefits, 0 plans, 0 stages");
    char want[8192];

    assert_int_equal(run(POLICY("apparel") " " POLICY("grocery") " " POLICY("minimal"), out, sizeof out), 0);
    snprintf(want, sizeof want, "%s%s%s", a, g, m);
    assert_string_equal(out, want);

    /* a bad file among good ones: every error, exit 1 */
    const char *bad = LOY_TEST_DIR "/policies/invalid/three-errors.yaml";
    assert_int_equal(run(POLICY("minimal") " " LOY_TEST_DIR "/policies/invalid/three-errors.yaml", out, sizeof out), 1);
    snprintf(want, sizeof want,
             "%s"
             "%s:6:3: unknown key 'windw' in tiers; did you mean 'window'?\n"
             "%s:10:24: tiers.levels[2].at: must be above the previous level's at (1000), got 900\n"
             "%s:15:15: points.earn.rate.amount: money in CNY takes at most 2 decimals, got 0.001\n",
             m, bad, bad, bad);
    assert_string_equal(out, want);

    /* a file that cannot be read */
    assert_int_equal(run("no-such-policy.yaml", out, sizeof out), 1);
    assert_string_equal(out, "no-such-policy.yaml: cannot read: No such file or directory\n");

    /* no file: usage, exit 2 */
    assert_int_equal(run("2>/dev/null", out, sizeof out), 2);
    assert_string_equal(out, "");
    free(a);
    free(g);
    free(m);
}

/*
 * §12 on files written here, against figures worked out by hand: every
 * word plural even for 1; gifts = upgrade and birthday `by_tier` entries
 * (an entry for the entry tier counts) + surprise + spend; each file named
 * exactly as given (relative, with ./); the fingerprint pinned as the
 * independent Python xxhash (xxh3_64, seed 0) prints it for these bytes:
 * 16 digits with a leading zero kept, CRLF and no final newline hashed as
 * they are.
 */
static const char ONE_OF_EACH[] =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  levels:\n"
    "    - {id: solo}\n"
    "points:\n"
    "  earn:\n"
    "    rate: {amount: 1, points: 1}\n"
    "    multipliers:\n"
    "      - {id: double, factor: 2}\n"
    "  actions:\n"
    "    signup: {points: 0}\n"
    "gifts:\n"
    "  upgrade:\n"
    "    by_tier: {solo: {points: 1}}\n"
    "benefits:\n"
    "  - {id: b, kind: gift}\n"
    "paid:\n"
    "  plans:\n"
    "    - {id: p, fee: 0, months: 1}\n"
    "lifecycle:\n"
    "  - {id: only}\n";

static const char EIGHT_GIFTS[] =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  levels:\n"
    "    - {id: member}\n"
    "    - {id: gold, at: 1}\n"
    "points:\n"
    "  actions: {}\n"
    "gifts:\n"
    "  upgrade:\n"
    "    by_tier: {member: {points: 1}, gold: {coupons: [G]}}\n"
    "  birthday:\n"
    "    by_tier: {member: {points: 1}, gold: {coupons: [G]}}\n"
    "  surprise:\n"
    "    - {id: s1, reward: {items: [X]}}\n"
    "    - {id: s2, reward: {items: [X]}}\n"
    "    - {id: s3, reward: {items: [X]}}\n"
    "  spend:\n"
    "    - {id: m, period: order, at_least: 1, reward: {credit: 1}}\n"
    "benefits: []\n"
    "lifecycle:\n"
    "  - {id: a, when: {orders_at_least: 1}}\n"
    "  - {id: b}\n";

static const char CRLF_NO_FINAL_NEWLINE[] = "loyalty_policy: 1\r\ntiers: {qualify_on: spend, levels: [{id: m}]}";

/* Two errors: a repeated tier id (at the value) and fee decimals. */
static const char TWO_ERRORS[] =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  levels:\n"
    "    - {id: member}\n"
    "    - {id: gold, at: 1000}\n"
    "    - {id: gold, at: 2000}\n"
    "paid:\n"
    "  plans:\n"
    "    - {id: annual, fee: 1.999, months: 12}\n";

static void put(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_true(loy_test_write_file(path, text, strlen(text)));
}

static void test_cli_check_counts_names_fingerprints(void **state)
{
    (void)state;
    static char out[65536];
    const char *dir = loy_test_tmpdir();
    put(dir, "one.yaml", ONE_OF_EACH);
    put(dir, "many.yaml", EIGHT_GIFTS);
    put(dir, "crlf.yaml", CRLF_NO_FINAL_NEWLINE);
    put(dir, "bad.yaml", TWO_ERRORS);

    assert_int_equal(run_in(dir, "one.yaml ./many.yaml crlf.yaml", out, sizeof out), 0);
    assert_string_equal(out,
                        "one.yaml: ok, 1 tiers, 1 multipliers, 1 actions, 1 gifts, 1 benefits, 1 plans, 1 stages, "
                        "fingerprint 0757173fdb3fd4dd\n"
                        "./many.yaml: ok, 2 tiers, 0 multipliers, 0 actions, 8 gifts, 0 benefits, 0 plans, 2 stages, "
                        "fingerprint 71e15f31bc2d731e\n"
                        "crlf.yaml: ok, 1 tiers, 0 multipliers, 0 actions, 0 gifts, 0 benefits, 0 plans, 0 stages, "
                        "fingerprint 4a23eff0a6775e1b\n");

    /* A bad file between good ones: its every error, in the arguments'
     * order, the good files still checked; exit 1. The same file twice is
     * checked twice. */
    assert_int_equal(run_in(dir, "one.yaml bad.yaml ../$(basename \"$PWD\")/crlf.yaml one.yaml", out, sizeof out), 1);
    char want[4096], rel[1024];
    const char *base = strrchr(dir, '/');
    snprintf(rel, sizeof rel, "..%s/crlf.yaml", base);
    snprintf(want, sizeof want,
             "one.yaml: ok, 1 tiers, 1 multipliers, 1 actions, 1 gifts, 1 benefits, 1 plans, 1 stages, "
             "fingerprint 0757173fdb3fd4dd\n"
             "bad.yaml:7:12: tiers.levels: tier id 'gold' repeated (first at 6:12)\n"
             "bad.yaml:10:25: paid.plans[0].fee: money takes at most 2 decimals, got 1.999\n"
             "%s: ok, 1 tiers, 0 multipliers, 0 actions, 0 gifts, 0 benefits, 0 plans, 0 stages, "
             "fingerprint 4a23eff0a6775e1b\n"
             "one.yaml: ok, 1 tiers, 1 multipliers, 1 actions, 1 gifts, 1 benefits, 1 plans, 1 stages, "
             "fingerprint 0757173fdb3fd4dd\n",
             rel);
    assert_string_equal(out, want);

    /* Only bad files: exit 1 as well. */
    assert_int_equal(run_in(dir, "bad.yaml bad.yaml", out, sizeof out), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apparel),
        cmocka_unit_test(test_grocery),
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_months_kept),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_buffer_and_fingerprint),
        cmocka_unit_test(test_api_edges),
        cmocka_unit_test(test_nomem),
        cmocka_unit_test(test_hundredfold_loads),
        cmocka_unit_test(test_cli_check),
        cmocka_unit_test(test_cli_check_counts_names_fingerprints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
