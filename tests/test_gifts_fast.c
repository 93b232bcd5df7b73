/*
 * A surprise gift's `when` has two paths (lib/engine/gifts.c): the
 * surprises' conditions compiled at load (lib/policy/gifts.c), and the
 * general one, loy_cond_holds. Random surprise policies (every predicate
 * the plan compiles, alone, together, under `all`, `any` and `not`, and
 * ones it leaves to the general code) are asked about random members on
 * random days, with the plan and with the plan taken away, and must give
 * the same answer for every surprise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xxhash.h>

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
    case 1: {
        /* from on or before to, as the loader asks */
        int from = pick(r, 700), to = from + pick(r, 120);
        char a[11], b[11];
        loy_format_date(loy_day_from_ymd(2026, 1, 1) + from, a);
        loy_format_date(loy_day_from_ymd(2026, 1, 1) + to, b);
        snprintf(out, cap, "date_between: [%s, %s]", a, b);
        break;
    }
    case 2: snprintf(out, cap, "member_days_at_least: %d", pick(r, 800)); break;
    case 3: snprintf(out, cap, "orders_in_months: {months: %d, at_least: %d}", 1 + pick(r, 14), pick(r, 7)); break;
    case 4: snprintf(out, cap, "tier_at_least: %s", TIERS[pick(r, 3)]); break;
    case 5: snprintf(out, cap, "tier_below: %s", TIERS[pick(r, 3)]); break;
    case 6: snprintf(out, cap, "tier: [%s]", TIERS[pick(r, 3)]); break;
    case 7: snprintf(out, cap, "points_at_least: %d", pick(r, 300)); break;
    case 8: snprintf(out, cap, "channel: [pos]"); break;
    case 9: snprintf(out, cap, "month: [%d, %d]", 1 + pick(r, 12), 1 + pick(r, 12)); break;
    case 10: snprintf(out, cap, "month: [%d]", 1 + pick(r, 12)); break;
    case 11: snprintf(out, cap, "orders_at_least: %d", 1 + pick(r, 3)); break;
    default: {
        /* groups: any, all and not around the same entries */
        char x[256], z[256];
        random_entry(r, x, sizeof x, depth + 1);
        random_entry(r, z, sizeof z, depth + 1);
        switch (pick(r, 3)) {
        case 0: snprintf(out, cap, "any: [{%s}, {%s}]", x, z); break;
        case 1: snprintf(out, cap, "all: [{%s}, {%s}]", x, z); break;
        default: snprintf(out, cap, "not: {%s}", x); break;
        }
    }
    }
}

static loy_policy *random_policy(rng *r, char *y, size_t cap, int surprises)
{
    y[0] = '\0';
    add(y, cap, "loyalty_policy: 1\ncurrency: {code: CNY}\n");
    add(y, cap, "tiers:\n  qualify_on: spend\n  window: 12_months\n");
    add(y, cap, "  levels:\n    - {id: t0}\n    - {id: t1, at: 1000}\n    - {id: t2, at: 5000}\n");
    add(y, cap, "points:\n  earn:\n    rate: {amount: 1, points: 1}\n");
    add(y, cap, "gifts:\n  surprise:\n");
    for (int s = 0; s < surprises; s++) {
        add(y, cap, "    - {id: g%d, sample_percent: 100, reward: {points: 1}, once: lifetime", s);
        if (pick(r, 6) != 0)
            add_random_when(r, y, cap, random_entry);
        add(y, cap, "}\n");
    }
    return load_generated(y, "surprises.yaml");
}

/* Surprise `index`'s answer with the plan or, `plan` false, through the
 * general path, for a ctx set up as the steps leave it. */
static bool holds_of(loy_policy *p, loy_member *m, uint32_t index, loy_day day, bool no_event,
                     bool filled, bool plan)
{
    const loy_gift_plan *kept = p->surprise_plan;
    if (!plan)
        p->surprise_plan = NULL;
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
    bool holds = loy_surprise_holds(&c, index);
    p->surprise_plan = kept;
    return holds;
}

static void planned_and_general_agree(void **state)
{
    (void)state;
    static char y[16384];
    rng r = {20261124};
    long asked = 0, held = 0;
    for (int k = 0; k < 500; k++) {
        int surprises = 1 + pick(&r, 4);
        loy_policy *p = random_policy(&r, y, sizeof y, surprises);
        assert_non_null(p->surprise_plan);
        assert_int_equal(p->gifts.surprise_count, (uint32_t)surprises);
        loy_member *m = NULL;
        assert_int_equal(loy_member_new(&m, p, "M-1", "2024-01-01"), LOY_OK);
        for (int j = 0; j < 80; j++) {
            loy_day day = loy_day_from_ymd(2026, 1, 1) + pick(&r, 800);
            random_member(&r, m, day);
            bool no_event = pick(&r, 4) == 0, filled = pick(&r, 2) == 0;
            for (uint32_t i = 0; i < (uint32_t)surprises; i++) {
                bool planned = holds_of(p, m, i, day, no_event, filled, true);
                bool general = holds_of(p, m, i, day, no_event, filled, false);
                if (planned != general)
                    fprintf(stderr, "%s\nday %d, surprise %u: planned %d, general %d\n", y, (int)day,
                            (unsigned)i, planned, general);
                assert_int_equal(planned, general);
                held += planned;
                asked++;
            }
        }
        loy_member_free(m);
        loy_policy_free(p);
    }
    /* both answers are met often */
    assert_true(held > asked / 20);
    assert_true(held < asked - asked / 20);
}

/* No surprises: no plan; the reference policies with surprises get one. */
static void plan_only_with_surprises(void **state)
{
    (void)state;
    static const char y[] = "loyalty_policy: 1\ncurrency: {code: CNY}\n"
                            "tiers: {qualify_on: spend, levels: [{id: t0}]}\n"
                            "points: {earn: {rate: {amount: 1, points: 1}}}\n";
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, y, strlen(y), "none.yaml", NULL), LOY_OK);
    assert_null(p->surprise_plan);
    loy_policy_free(p);
    assert_int_equal(loy_policy_load_file(&p, LOY_SPEC_DIR "/policies/apparel.yaml", NULL), LOY_OK);
    assert_non_null(p->surprise_plan);
    /* crab-season: a tier and a date range; new-fabric-trial: a tier and a month */
    assert_int_equal(p->surprise_plan->start[1], 2);
    assert_int_equal(p->surprise_plan->start[2], 4);
    assert_int_equal(p->surprise_plan->tests[0].kind, LOY_GT_TIER_AT_LEAST);
    assert_int_equal(p->surprise_plan->tests[1].kind, LOY_GT_DATE_BETWEEN);
    assert_int_equal(p->surprise_plan->tests[3].kind, LOY_GT_MONTH);
    assert_int_equal(p->surprise_plan->tests[3].months, 1u << 3);
    loy_policy_free(p);
}

/* A surprise's draw (lib/engine/gifts.c, sample_draw) hashes a short
 * member_id ":" gift_id in one call and a long one by streaming: the two
 * must agree on every length, on both sides of the stack key's size. */
static void draw_one_shot_is_streaming(void **state)
{
    (void)state;
    static char text[600];
    rng r = {7};
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)(' ' + pick(&r, 95));
    for (size_t ml = 0; ml < 300; ml += 1 + ml / 16)
        for (size_t gl = 0; gl < 300; gl += 1 + gl / 16) {
            char key[700];
            memcpy(key, text, ml);
            key[ml] = ':';
            memcpy(key + ml + 1, text + 300, gl);
            XXH3_state_t st;
            XXH3_64bits_reset(&st);
            XXH3_64bits_update(&st, text, ml);
            XXH3_64bits_update(&st, ":", 1);
            XXH3_64bits_update(&st, text + 300, gl);
            assert_true(XXH3_64bits(key, ml + 1 + gl) == XXH3_64bits_digest(&st));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(planned_and_general_agree),
        cmocka_unit_test(plan_only_with_surprises),
        cmocka_unit_test(draw_one_shot_is_streaming),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
