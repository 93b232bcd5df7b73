/*
 * The order step's points effect has roads of its own (lib/engine/earn.c,
 * credit_order), each checked against the road it shortcuts:
 *
 * - With at most LOY_ORDER_RULES_MAX multipliers the effect's "rules" list
 *   is one built at load (lib/policy/order.c) and shared by every answer.
 *   Random policies (0..8 multipliers on the tier, the day, the category,
 *   any stacking, with or without pending days, expiry and caps) decide
 *   random orders twice, on twin members: with the lists, and with them
 *   taken away (the list built per answer). The answers' JSON, with and
 *   without a trace, and the members' state bytes must be identical, and no
 *   fixed node may be left for a reader to finish.
 * - pending_until is worked out without loy_add_days while it stays a
 *   date: orders on the last days of 9999 must be refused exactly where
 *   loy_add_days says the date passes 9999-12-31, and otherwise carry its
 *   date.
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
#include "result.h"
#include "support/test_rng.h"
#include "support/fixed_nodes.h"

static const char *const CATEGORIES[] = {"coats", "tops", "shoes", "gift_card", "shipping"};

static const char *random_factor(rng *r)
{
    static const char *const f[] = {"1", "1.5", "2", "0.5", "1.25", "3", "1.0001", "4"};
    return f[pick(r, 8)];
}

/* A policy of `mc` multipliers; the text in y. */
static loy_policy *random_policy(rng *r, char *y, size_t cap, uint32_t mc)
{
    static const char *const stacking[] = {"multiply", "add", "max"};
    size_t n = (size_t)snprintf(y, cap,
                                "loyalty_policy: 1\ncurrency: {code: CNY}\n"
                                "tiers: {qualify_on: spend, levels: [{id: t0}, {id: t1, at: 500}, {id: t2, at: 2000}]}\n"
                                "points:\n  earn:\n    rate: {amount: %d, points: %d}\n"
                                "    rounding: %s\n    rounding_scope: %s\n"
                                "    exclude: {categories: [gift_card]}\n"
                                "    stacking: %s\n",
                                1 + pick(r, 3), 1 + pick(r, 3), pick(r, 2) ? "floor" : "nearest",
                                pick(r, 2) ? "order" : "line", stacking[pick(r, 3)]);
    if (pick(r, 2))
        n += (size_t)snprintf(y + n, cap - n, "    cap: {per_order: %d, per_day: %d}\n", 500 + pick(r, 5000),
                              1000 + pick(r, 10000));
    if (mc) {
        n += (size_t)snprintf(y + n, cap - n, "    multipliers:\n");
        for (uint32_t j = 0; j < mc; j++) {
            switch (pick(r, 4)) {
            case 0:
                n += (size_t)snprintf(y + n, cap - n, "      - {id: m%u, by_tier: {t1: %s, t2: %s}}\n", j,
                                      random_factor(r), random_factor(r));
                break;
            case 1:
                n += (size_t)snprintf(y + n, cap - n,
                                      "      - {id: m%u, when: {day_of_month: [%d, %d]}, factor: %s}\n", j,
                                      1 + pick(r, 28), 1 + pick(r, 28), random_factor(r));
                break;
            case 2:
                n += (size_t)snprintf(y + n, cap - n, "      - {id: m%u, when: {category: [%s]}, factor: %s}\n",
                                      j, CATEGORIES[pick(r, 5)], random_factor(r));
                break;
            default:
                n += (size_t)snprintf(y + n, cap - n, "      - {id: m%u, factor: %s}\n", j, random_factor(r));
                break;
            }
        }
    }
    if (pick(r, 2))
        n += (size_t)snprintf(y + n, cap - n, "  pending_days: %d\n", 1 + pick(r, 30));
    if (pick(r, 2))
        n += (size_t)snprintf(y + n, cap - n, "  expiry: {after_months: %d}\n", 1 + pick(r, 24));
    assert_true(n < cap);
    loy_policy *p = NULL;
    if (loy_policy_load_buffer(&p, y, n, "rules.yaml", NULL) != LOY_OK)
        fail_msg("policy did not load:\n%s", y);
    return p;
}

static void expect_rules_finished(const loy_policy *p)
{
    uint32_t mc = p->points.multiplier_count;
    if (mc > LOY_ORDER_RULES_MAX) {
        assert_null(p->order_rules);
        return;
    }
    assert_non_null(p->order_rules);
    for (size_t mask = 0; mask < ((size_t)1 << mc); mask++) {
        const loy_node *list = &p->order_rules[mask];
        assert_null(list->next);
        assert_int_equal(list->count, (uint32_t)__builtin_popcountll(mask));
        expect_finished(list);
    }
}

/* The answer's JSON and the state bytes, copied. */
static char *decide(const loy_policy *p, loy_member *m, const loy_event *ev, loy_result *res, char **state,
                    size_t *state_len)
{
    loy_apply(p, m, ev, res);
    size_t len = 0;
    const char *json = loy_result_json(res, &len);
    assert_non_null(json);
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, json, len + 1);
    const void *bytes = NULL;
    assert_int_equal(loy_member_to_bytes(m, &bytes, state_len), LOY_OK);
    *state = malloc(*state_len ? *state_len : 1);
    assert_non_null(*state);
    memcpy(*state, bytes, *state_len);
    return copy;
}

static void fixed_rules_as_built(void **state)
{
    (void)state;
    static char y[8192];
    rng r = {20261124};
    long rules_seen = 0, decisions = 0;
    for (int k = 0; k < 300; k++) {
        uint32_t mc = (uint32_t)pick(&r, LOY_ORDER_RULES_MAX + 2);   /* one past the fixed lists too */
        loy_policy *p = random_policy(&r, y, sizeof y, mc);
        expect_rules_finished(p);
        const loy_node *fixed = p->order_rules;
        loy_result *res = NULL;
        loy_event *ev = NULL;
        assert_int_equal(loy_result_new(&res, p), LOY_OK);
        assert_int_equal(loy_event_new(&ev, p), LOY_OK);
        loy_member *with = NULL, *without = NULL;
        assert_int_equal(loy_member_new(&with, p, "M-1", "2024-01-01"), LOY_OK);
        assert_int_equal(loy_member_new(&without, p, "M-1", "2024-01-01"), LOY_OK);
        loy_day day = loy_day_from_ymd(2026, 1, 1);
        for (int o = 0; o < 12; o++) {
            day += pick(&r, 9);
            char oid[16], date[11], at[32];
            snprintf(oid, sizeof oid, "O-%d", o);
            loy_format_date(day, date);
            snprintf(at, sizeof at, "%sT12:00:00+08:00", date);
            assert_int_equal(loy_event_reset(ev, LOY_EVENT_ORDER, oid, at), LOY_OK);
            int lines = 1 + pick(&r, 4);
            for (int l = 0; l < lines; l++)
                assert_int_equal(loy_event_add_line(ev, "SKU", CATEGORIES[pick(&r, 5)],
                                                    (int64_t)(1 + pick(&r, 2000)) * (pick(&r, 4) ? 100 : 1), 1),
                                 LOY_OK);
            loy_result_set_options(res, pick(&r, 4) == 0 ? LOY_RESULT_TRACE : 0);
            char *sa, *sb;
            size_t la, lb;
            ((loy_policy *)p)->order_rules = fixed;
            char *a = decide(p, with, ev, res, &sa, &la);
            ((loy_policy *)p)->order_rules = NULL;
            char *b = decide(p, without, ev, res, &sb, &lb);
            ((loy_policy *)p)->order_rules = fixed;
            if (strcmp(a, b) != 0)
                fail_msg("policy %d order %d: with the fixed rules\n%s\nbuilt\n%s\npolicy:\n%s", k, o, a, b, y);
            if (la != lb || memcmp(sa, sb, la) != 0)
                fail_msg("policy %d order %d: the state bytes differ", k, o);
            rules_seen += strstr(a, "\"rules\": [\"") != NULL;
            decisions++;
            free(a);
            free(b);
            free(sa);
            free(sb);
        }
        expect_rules_finished(p);
        loy_member_free(with);
        loy_member_free(without);
        loy_event_free(ev);
        loy_result_free(res);
        loy_policy_free(p);
    }
    /* rules lists with names were answered, not only empty ones */
    if (rules_seen <= 500 || decisions != 300 * 12)
        fail_msg("%ld decisions, %ld with rules", decisions, rules_seen);
}

static void pending_until_as_add_days(void **state)
{
    (void)state;
    static char y[1024];
    loy_event *ev = NULL;
    loy_result *res = NULL;
    long refused = 0, kept = 0;
    for (int pending = 1; pending <= 40; pending += 3) {
        int n = snprintf(y, sizeof y,
                         "loyalty_policy: 1\ncurrency: {code: CNY}\n"
                         "tiers: {qualify_on: spend, levels: [{id: t0}]}\n"
                         "points:\n  earn:\n    rate: {amount: 1, points: 1}\n  pending_days: %d\n",
                         pending);
        loy_policy *p = NULL;
        assert_int_equal(loy_policy_load_buffer(&p, y, (size_t)n, "pending.yaml", NULL), LOY_OK);
        assert_int_equal(loy_result_new(&res, p), LOY_OK);
        assert_int_equal(loy_event_new(&ev, p), LOY_OK);
        for (loy_day day = loy_day_max() - 45; day <= loy_day_max(); day++) {
            loy_member *m = NULL;
            assert_int_equal(loy_member_new(&m, p, "M-1", "2024-01-01"), LOY_OK);
            char date[11], at[32];
            loy_format_date(day, date);
            snprintf(at, sizeof at, "%sT12:00:00Z", date);
            assert_int_equal(loy_event_reset(ev, LOY_EVENT_ORDER, "O-1", at), LOY_OK);
            assert_int_equal(loy_event_add_line(ev, "SKU", "any", 1000, 1), LOY_OK);
            loy_day until;
            bool fits = loy_add_days(day, pending, &until);
            int rc = loy_apply(p, m, ev, res);
            size_t len = 0;
            const char *json = loy_result_json(res, &len);
            if (!fits) {
                assert_int_equal(rc, LOY_E_OVERFLOW);
                assert_non_null(strstr(json, "pending_until passes 9999-12-31"));
                refused++;
            } else {
                assert_int_equal(rc, LOY_OK);
                char want[64];
                snprintf(want, sizeof want, "\"pending_until\": \"");
                loy_format_date(until, want + strlen(want));
                if (!strstr(json, want))
                    fail_msg("want %s in %s", want, json);
                kept++;
            }
            loy_member_free(m);
        }
        loy_event_free(ev);
        loy_result_free(res);
        loy_policy_free(p);
    }
    assert_true(refused > 100 && kept > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_rules_as_built),
        cmocka_unit_test(pending_until_as_add_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
