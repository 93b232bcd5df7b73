/*
 * The lifecycle stage has two paths (lib/engine/lifecycle.c): the stages'
 * conditions compiled at load (lib/policy/stages.c), and the general one,
 * which evaluates each stage's `when` with loy_cond_holds and which a
 * traced result always takes. Random stage policies (every predicate the
 * plan compiles, alone, together, under `all`, `any` and `not`, and ones it
 * leaves to the general code) are asked about random members on random
 * days, with the plan and with the plan taken away, and must answer the
 * same stage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "loyalty.h"
#include "engine/engine.h"
#include "member.h"
#include "support/test_rng.h"
#include "support/cond_gen.h"

static const char *const TIERS[] = {"t0", "t1", "t2"};

/* One entry of a `when` map, without the braces. */
static void random_entry(rng *r, char *out, size_t cap, int depth)
{
    switch (pick(r, depth > 0 ? 12 : 16)) {
    case 0: snprintf(out, cap, "orders_at_least: %d", pick(r, 8)); break;
    case 1: snprintf(out, cap, "days_since_last_order_at_least: %d", pick(r, 3) == 0 ? 0 : 1 + pick(r, 400)); break;
    case 2: snprintf(out, cap, "member_days_at_least: %d", pick(r, 800)); break;
    case 3: snprintf(out, cap, "orders_in_months: {months: %d, at_least: %d}", 1 + pick(r, 14), pick(r, 7)); break;
    case 4: snprintf(out, cap, "tier_at_least: %s", TIERS[pick(r, 3)]); break;
    case 5: snprintf(out, cap, "tier_below: %s", TIERS[pick(r, 3)]); break;
    case 6: snprintf(out, cap, "tier: [%s]", TIERS[pick(r, 3)]); break;
    case 7: snprintf(out, cap, "points_at_least: %d", pick(r, 300)); break;
    case 8: snprintf(out, cap, "channel: [pos]"); break;
    case 9: snprintf(out, cap, "month: [%d, %d]", 1 + pick(r, 12), 1 + pick(r, 12)); break;
    case 10: snprintf(out, cap, "spend_in_window_at_least: %d", pick(r, 3000)); break;
    case 11: snprintf(out, cap, "orders_at_least: %d", 1 + pick(r, 3)); break;
    default: random_group(r, out, cap, depth, random_entry); break;
    }
}

static loy_policy *random_policy(rng *r, char *y, size_t cap)
{
    y[0] = '\0';
    add(y, cap, "loyalty_policy: 1\ncurrency: {code: CNY}\n");
    add(y, cap, "tiers:\n  qualify_on: spend\n  window: 12_months\n");
    add(y, cap, "  levels:\n    - {id: t0}\n    - {id: t1, at: 1000}\n    - {id: t2, at: 5000}\n");
    add(y, cap, "points:\n  earn:\n    rate: {amount: 1, points: 1}\n");
    add(y, cap, "lifecycle:\n");
    int stages = 1 + pick(r, 5);
    for (int s = 0; s < stages; s++) {
        add(y, cap, "  - {id: s%d", s);
        if (s + 1 < stages)
            add_random_when(r, y, cap, random_entry);
        add(y, cap, "}\n");
    }
    return load_generated(y, "stages.yaml");
}

/* The stage with the plan or, `plan` false, through the general path, for
 * a ctx set up as the steps leave it. */
static int32_t stage_of(loy_policy *p, loy_member *m, loy_day day, bool no_event, bool filled, bool plan)
{
    const loy_stage_plan *kept = p->stage_plan;
    if (!plan)
        p->stage_plan = NULL;
    loy_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.m = m;
    c.day = day;
    c.no_event = no_event;
    c.channel = "pos";
    c.stage_at_start = -1;
    if (filled)
        loy_ctx_dates_fill(&c);
    int32_t stage = loy_stage_for(&c);
    p->stage_plan = kept;
    return stage;
}

static void planned_and_general_agree(void **state)
{
    (void)state;
    static char y[16384];
    rng r = {20261124};
    long asked = 0, stages_seen[5] = {0};
    for (int k = 0; k < 500; k++) {
        loy_policy *p = random_policy(&r, y, sizeof y);
        assert_non_null(p->stage_plan);
        loy_member *m = NULL;
        assert_int_equal(loy_member_new(&m, p, "M-1", "2024-01-01"), LOY_OK);
        for (int j = 0; j < 80; j++) {
            loy_day day = loy_day_from_ymd(2026, 1, 1) + pick(&r, 800);
            random_member(&r, m, day);
            bool no_event = pick(&r, 4) == 0, filled = pick(&r, 2) == 0;
            int32_t planned = stage_of(p, m, day, no_event, filled, true);
            int32_t general = stage_of(p, m, day, no_event, filled, false);
            if (planned != general)
                fprintf(stderr, "%s\nday %d: planned %d, general %d\n", y, (int)day, planned, general);
            assert_int_equal(planned, general);
            assert_true(planned >= 0 && (uint32_t)planned < p->stage_count);
            stages_seen[planned]++;
            asked++;
        }
        loy_member_free(m);
        loy_policy_free(p);
    }
    /* every stage position is reached by some member */
    for (int s = 0; s < 5; s++)
        assert_true(stages_seen[s] > 0);
    assert_true(asked == 500 * 80);
}

/* No lifecycle: no plan and no stage; the reference policies get one. */
static void plan_only_with_stages(void **state)
{
    (void)state;
    static const char y[] = "loyalty_policy: 1\ncurrency: {code: CNY}\n"
                            "tiers: {qualify_on: spend, levels: [{id: t0}]}\n"
                            "points: {earn: {rate: {amount: 1, points: 1}}}\n";
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, y, strlen(y), "none.yaml", NULL), LOY_OK);
    assert_null(p->stage_plan);
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2024-01-01"), LOY_OK);
    assert_int_equal(stage_of(p, m, loy_day_from_ymd(2026, 1, 1), false, false, true), -1);
    loy_member_free(m);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(planned_and_general_agree),
        cmocka_unit_test(plan_only_with_stages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
