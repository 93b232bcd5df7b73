/*
 * An upgrade's tier_changed and a stage_changed are built whole at load,
 * per (from, to) pair, for a policy of at most LOY_FIXED_PAIRS_MAX tiers
 * or stages (loy_effect_nodes: upgrade_pairs, stage_pairs), and an answer
 * takes one fresh map over them; without them the effect is built per
 * event. Random policies (tier counts and stage counts either side of the
 * bound, upgrade gifts that follow the tier_changed) are given the same
 * orders twice, on two members, with the pairs and with the pairs taken
 * away: the answers, traced and not, and the members' state bytes must be
 * byte-identical, and no shared node may be left for a reader to finish.
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
#include "support/fixed_nodes.h"

static loy_policy *random_pair_policy(rng *r, char *y, size_t cap, int *tiers, int *stages)
{
    y[0] = '\0';
    *tiers = 1 + pick(r, LOY_FIXED_PAIRS_MAX + 4);
    *stages = 1 + pick(r, LOY_FIXED_PAIRS_MAX + 4);
    add(y, cap, "loyalty_policy: 1\ncurrency: {code: CNY}\n");
    add(y, cap, "tiers:\n  qualify_on: spend\n  window: 12_months\n  levels:\n    - {id: t0}\n");
    int at = 0;
    for (int t = 1; t < *tiers; t++) {
        at += 100 + pick(r, 500);
        add(y, cap, "    - {id: tier-%d, at: %d}\n", t, at);
    }
    add(y, cap, "points:\n  earn:\n    rate: {amount: 1, points: 1}\n");
    bool upgrade = *tiers > 1 && pick(r, 3), spend = pick(r, 3) > 0;
    if (upgrade || spend)
        add(y, cap, "gifts:\n");
    if (upgrade) {
        add(y, cap, "  upgrade:\n    once: %s\n    skipped: %s\n    by_tier:\n",
            pick(r, 2) ? "lifetime" : "every_time", pick(r, 2) ? "each" : "highest");
        for (int t = 1; t < *tiers; t++)
            if (t == *tiers - 1 || pick(r, 2))
                add(y, cap, "      %s%d: {points: %d}\n", "tier-", t, 1 + pick(r, 300));
    }
    if (spend) {
        static const char *const periods[] = {"order", "order", "calendar_month", "calendar_year"};
        add(y, cap, "  spend:\n");
        for (int s = 1 + pick(r, 3); s > 0; s--)
            add(y, cap, "    - {id: sp%d, period: %s, at_least: %d, reward: {points: %d, coupons: [C%d]}}\n", s,
                periods[pick(r, 4)], 100 + pick(r, 1500), pick(r, 50), s);
    }
    if (pick(r, 6) == 0) {
        *stages = 0;
        return load_generated(y, "pairs.yaml");
    }
    add(y, cap, "lifecycle:\n");
    for (int s = 0; s < *stages; s++) {
        add(y, cap, "  - {id: st%d", s);
        if (s + 1 < *stages) {
            switch (pick(r, 4)) {
            case 0: add(y, cap, ", when: {orders_at_least: %d}", pick(r, 12)); break;
            case 1: add(y, cap, ", when: {days_since_last_order_at_least: %d}", 1 + pick(r, 90)); break;
            case 2: add(y, cap, ", when: {member_days_at_least: %d}", pick(r, 400)); break;
            default:
                add(y, cap, ", when: {tier_at_least: %s%d}", *tiers > 1 ? "tier-" : "t",
                    *tiers > 1 ? 1 + pick(r, *tiers - 1) : 0);
                break;
            }
        }
        add(y, cap, "}\n");
    }
    return load_generated(y, "pairs.yaml");
}

static void expect_pairs_finished(const loy_policy *p)
{
    const loy_effect_nodes *gn = &p->effect_nodes;
    if (gn->upgrade_pairs)
        for (uint32_t k = 0; k < p->tiers.count * p->tiers.count; k++)
            expect_finished(gn->upgrade_pairs[k].first);
    if (gn->stage_pairs)
        for (uint32_t k = 0; k < (p->stage_count + 1) * p->stage_count; k++)
            expect_finished(gn->stage_pairs[k].first);
    for (uint32_t i = 0; i < p->gifts.spend_count; i++)
        expect_finished(gn->spend_whole[i].first);
}

/* A copy of the answer's JSON (the result's buffer is reused). */
static char *answer_json(loy_result *res)
{
    size_t len = 0;
    const char *j = loy_result_json(res, &len);
    assert_non_null(j);
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, j, len);
    copy[len] = '\0';
    return copy;
}

static void pairs_and_general_agree(void **state)
{
    (void)state;
    static char y[16384];
    rng r = {20261124};
    long changed[2] = {0, 0}, built[2] = {0, 0}, from_null = 0, spent = 0;
    for (int k = 0; k < 300; k++) {
        int tiers, stages;
        loy_policy *p = random_pair_policy(&r, y, sizeof y, &tiers, &stages);
        loy_effect_nodes *gn = &p->effect_nodes;
        const loy_node *upgrade_pairs = gn->upgrade_pairs, *stage_pairs = gn->stage_pairs;
        const loy_node *spend_whole = gn->spend_whole;
        assert_non_null(spend_whole);
        assert_true((upgrade_pairs != NULL) == (tiers <= LOY_FIXED_PAIRS_MAX));
        assert_true((stage_pairs != NULL) == (stages > 0 && stages <= LOY_FIXED_PAIRS_MAX));
        built[0] += upgrade_pairs != NULL;
        built[1] += stage_pairs != NULL;
        expect_pairs_finished(p);
        loy_result *res = NULL;
        loy_event *ev = NULL;
        assert_int_equal(loy_result_new(&res, p), LOY_OK);
        assert_int_equal(loy_event_new(&ev, p), LOY_OK);
        for (int n = 0; n < 3; n++) {
            loy_member *m[2] = {NULL, NULL};
            char id[16], date[11];
            snprintf(id, sizeof id, "M-%d", n);
            for (int w = 0; w < 2; w++)
            {
                assert_int_equal(loy_member_new(&m[w], p, id, "2025-06-01"), LOY_OK);
                /* as a state saved before the policy had stages: its first
                 * stage is a change from null */
                if (n == 0)
                    m[w]->stage = -1;
            }
            loy_day day = loy_day_from_ymd(2026, 1, 1);
            for (int o = 0; o < 14; o++) {
                day += pick(&r, 60);
                char oid[16], at[32];
                snprintf(oid, sizeof oid, "O-%d", o);
                loy_format_date(day, date);
                snprintf(at, sizeof at, "%sT12:00:00+08:00", date);
                unsigned options = pick(&r, 4) == 0 ? LOY_RESULT_TRACE : 0;
                int64_t amount = (50 + pick(&r, 1500)) * 100;
                char *json[2];
                for (int w = 0; w < 2; w++) {
                    /* w = 1: the pairs taken away, as for a policy past the bound */
                    gn->upgrade_pairs = w ? NULL : upgrade_pairs;
                    gn->stage_pairs = w ? NULL : stage_pairs;
                    gn->spend_whole = w ? NULL : spend_whole;
                    assert_int_equal(loy_event_reset(ev, LOY_EVENT_ORDER, oid, at), LOY_OK);
                    assert_int_equal(loy_event_add_line(ev, "SKU", "any", amount, 1), LOY_OK);
                    loy_result_set_options(res, options);
                    assert_int_equal(loy_apply(p, m[w], ev, res), LOY_OK);
                    json[w] = answer_json(res);
                }
                gn->upgrade_pairs = upgrade_pairs;
                gn->stage_pairs = stage_pairs;
                gn->spend_whole = spend_whole;
                assert_string_equal(json[0], json[1]);
                changed[0] += strstr(json[0], "\"tier_changed\"") != NULL;
                changed[1] += strstr(json[0], "\"stage_changed\"") != NULL;
                from_null += strstr(json[0], "\"from\": null") != NULL;
                spent += strstr(json[0], "\"gift\": \"spend\"") != NULL;
                free(json[0]);
                free(json[1]);
                const void *b0, *b1;
                size_t l0, l1;
                assert_int_equal(loy_member_to_bytes(m[0], &b0, &l0), LOY_OK);
                assert_int_equal(loy_member_to_bytes(m[1], &b1, &l1), LOY_OK);
                assert_int_equal(l0, l1);
                assert_memory_equal(b0, b1, l0);
            }
            for (int w = 0; w < 2; w++)
                loy_member_free(m[w]);
        }
        expect_pairs_finished(p);
        loy_event_free(ev);
        loy_result_free(res);
        loy_policy_free(p);
    }
    print_message("pairs built %ld/%ld, tier_changed %ld, stage_changed %ld, from null %ld, spend gifts %ld\n",
                  built[0], built[1], changed[0], changed[1], from_null, spent);
    /* both sides of the bound, and every kind of change, were seen */
    assert_true(built[0] > 30 && built[0] < 290);
    assert_true(built[1] > 30 && built[1] < 290);
    assert_true(changed[0] > 500);
    assert_true(changed[1] > 500);
    assert_true(from_null > 100);
    assert_true(spent > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pairs_and_general_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
