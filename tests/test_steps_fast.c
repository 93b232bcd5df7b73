/*
 * Shortcuts of the engine's steps 4-6 against the general roads they skip:
 * loy_metric_this_month (a month's figure read where the order step left
 * its bucket, lib/engine/metrics.c) against loy_metric_sum over that one
 * month, for members with random buckets and every state the remembered
 * bucket place and the date cache can be in; and a closed benefit's reason
 * for a tier or number predicate, built in one take (push_reason in
 * lib/engine/cond.c), against the same predicate rendered by render_value
 * inside an `any`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_support.h"
#include "support/month_buckets.h"
#include "support/one_tier.h"

static const char policy_yaml[] =
    ONE_TIER_POLICY("Steps");

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void) { return xorshift64s(&rng_state); }

static void this_month_is_the_months_sum(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(policy_yaml);
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2020-01-01"), LOY_OK);
    loy_ctx c = ctx_on(p, m);
    for (int round = 0; round < 300; round++) {
        fill_buckets(m, &rng_state);
        /* Months before, among and after the buckets. */
        for (loy_month mo = 2023 * 12 + 10; mo < 2027 * 12 + 2; mo++) {
            c.day = loy_day_from_ymd(mo / 12, mo % 12 + 1, (int32_t)(rnd() % 28) + 1);
            /* The cache filled or not, for this day or an older one, and
             * the remembered place right, stale or out of range. */
            switch (rnd() % 3) {
            case 0: c.dc_key = 0; break;
            case 1: loy_ctx_dates(&c); break;
            default: c.dc_key = loy_dc_key(c.day - 40); c.dc_month = loy_month_of(c.day - 40); break;
            }
            c.dc_bucket = (size_t)(rnd() % (m->month_count + 3));
            for (int metric = 0; metric < 4; metric++) {
                int64_t want = -1;
                assert_true(loy_metric_sum(m, metric, mo, mo, &want));
                int64_t got = loy_metric_this_month(&c, metric);
                if (got != want)
                    fail_msg("round %d, month %d, metric %d: %lld, the sum says %lld", round,
                             (int)mo, metric, (long long)got, (long long)want);
            }
        }
    }
    loy_member_free(m);
    loy_policy_free(p);
}

/* Through an order's metric updates, as the spend gift reads it after the
 * order step: buckets appear before and after the remembered one. */
static void this_month_after_updates(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(policy_yaml);
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2020-01-01"), LOY_OK);
    loy_ctx c = ctx_on(p, m);
    c.day = loy_day_from_ymd(2026, 6, 15);
    for (int i = 0; i < 200; i++) {
        random_updates(&c, &rng_state);
        for (int metric = 0; metric < 4; metric++) {
            int64_t want = -1;
            loy_month june = loy_month_of(c.day);
            assert_true(loy_metric_sum(m, metric, june, june, &want));
            assert_int_equal(loy_metric_this_month(&c, metric), want);
        }
    }
    loy_member_free(m);
    loy_policy_free(p);
}

/* Predicates whose reason has the fast road, each with values a new
 * member (tier member, no points, no order, joined 10 days before the
 * query, not an order) fails. */
static const char *const failing[] = {
    "tier_at_least: silver", "tier_at_least: gold", "tier_at_least: platinum",
    "tier_below: member",
    "points_at_least: 1", "points_at_least: 1000", "points_at_least: 9223372036854775807",
    "member_days_at_least: 11", "member_days_at_least: 100000",
    "orders_at_least: 1", "orders_at_least: 4000000000",
    "spend_in_window_at_least: 0.01", "spend_in_window_at_least: 250", "spend_in_window_at_least: 12345678.9",
    "days_since_last_order_at_least: 11", "days_since_last_order_at_least: 365",
    "order_at_least: 0", "order_at_least: 99.99",
};
#define N_FAILING (sizeof failing / sizeof *failing)

/* The JSON list that starts at `key` after `from` in `json`, brackets
 * matched (the texts here hold no bracket inside a string). */
static char *bracketed_after(const char *json, const char *from, const char *key)
{
    const char *at = strstr(json, from);
    assert_non_null(at);
    at = strstr(at, key);
    assert_non_null(at);
    at += strlen(key) - 1;
    int depth = 0;
    const char *end = at;
    do {
        if (*end == '[')
            depth++;
        else if (*end == ']')
            depth--;
        assert_true(*end != '\0');
        end++;
    } while (depth > 0);
    return strndup(at, (size_t)(end - at));
}

static void reasons_in_one_take_render_alike(void **state)
{
    (void)state;
    sbuf_t y = {0};
    sb_puts(&y,
            "loyalty_policy: 1\n"
            "program: Reasons\n"
            "currency: {code: CNY, minor_units: 2}\n"
            "tiers:\n"
            "  qualify_on: spend\n"
            "  window: 12_months\n"
            "  levels:\n"
            "    - {id: member}\n"
            "    - {id: silver, at: 1000}\n"
            "    - {id: gold, at: 3000}\n"
            "    - {id: platinum, at: 5000}\n"
            "points:\n"
            "  earn:\n"
            "    rate: {amount: 1, points: 1}\n"
            "benefits:\n");
    char line[256];
    for (size_t i = 0; i < N_FAILING; i++) {
        /* The leaf alone takes the fast road; inside `any` the failed
         * `any` is rendered whole, its entry by render_value. */
        snprintf(line, sizeof line, "  - {id: leaf%zu, kind: service, when: {%s}}\n", i, failing[i]);
        sb_puts(&y, line);
        snprintf(line, sizeof line, "  - {id: any%zu, kind: service, when: {any: [{%s}]}}\n", i, failing[i]);
        sb_puts(&y, line);
        /* Among other failed entries, in the policy's order. */
        snprintf(line, sizeof line,
                 "  - {id: mix%zu, kind: service, when: {tags: [vip], %s, channel: [app]}}\n", i,
                 failing[i]);
        sb_puts(&y, line);
        snprintf(line, sizeof line,
                 "  - {id: mixany%zu, kind: service, when: {any: [{tags: [vip], %s, channel: [app]}]}}\n",
                 i, failing[i]);
        sb_puts(&y, line);
    }
    rig t;
    rig_open(&t, load_policy_text(y.s), "M-1", "2026-05-01");
    free(y.s);
    assert_int_equal(query(&t, "2026-05-11T12:00:00+08:00", "web", NULL), LOY_OK);
    char id[32];
    for (size_t i = 0; i < N_FAILING; i++) {
        snprintf(id, sizeof id, "leaf%zu", i);
        const loy_node *leaf = benefit_entry(&t, id);
        snprintf(id, sizeof id, "any%zu", i);
        const loy_node *any = benefit_entry(&t, id);
        assert_non_null(leaf);
        assert_non_null(any);
        const loy_node *fast = loy_node_get(leaf, "reasons");
        const loy_node *general = loy_node_get(loy_node_first(loy_node_get(any, "reasons")), "any");
        assert_int_equal(loy_node_count(fast), 1);
        assert_int_equal(loy_node_count(general), 1);
        char *a = node_text(fast), *b = node_text(general);
        if (strcmp(a, b) != 0)
            fail_msg("%s: %s, rendered %s", failing[i], a, b);
        free(a);
        free(b);
        snprintf(id, sizeof id, "mix%zu", i);
        fast = loy_node_get(benefit_entry(&t, id), "reasons");
        snprintf(id, sizeof id, "mixany%zu", i);
        general = loy_node_get(loy_node_first(loy_node_get(benefit_entry(&t, id), "reasons")), "any");
        assert_int_equal(loy_node_count(fast), 3);
        /* The `any` holds one map of the three entries. */
        general = loy_node_first(general);
        size_t n = 0;
        for (const loy_node *r = loy_node_first(fast); r; r = loy_node_next(r), n++) {
            const loy_node *entry = loy_node_first(r);
            const loy_node *same = loy_node_get(general, loy_node_key(entry));
            char *x = node_text(entry), *z = node_text(same);
            if (strcmp(x, z) != 0)
                fail_msg("%s, entry %zu: %s, rendered %s", failing[i], n, x, z);
            free(x);
            free(z);
        }
    }
    /* And through the JSON writer, which reads the nodes itself. */
    size_t len = 0;
    const char *json = loy_result_json(t.r, &len);
    assert_non_null(json);
    for (size_t i = 0; i < N_FAILING; i++) {
        snprintf(id, sizeof id, "\"id\": \"leaf%zu\"", i);
        char *a = bracketed_after(json, id, "\"reasons\": [");
        snprintf(id, sizeof id, "\"id\": \"any%zu\"", i);
        char *b = bracketed_after(json, id, "\"any\": [");
        if (strcmp(a, b) != 0)
            fail_msg("%s: %s, rendered %s", failing[i], a, b);
        free(a);
        free(b);
    }
    rig_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(this_month_is_the_months_sum),
        cmocka_unit_test(this_month_after_updates),
        cmocka_unit_test(reasons_in_one_take_render_alike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
