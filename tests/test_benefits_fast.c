/*
 * The benefits query has two paths (lib/engine/benefits.c): the plan
 * compiled at load (lib/policy/benefits.c), whose entries are built at
 * load and shared by every answer, or built per query for a benefit with
 * too many outcomes; and the general one, which explains each `when` with
 * loy_cond_explain and builds every entry anew. Random benefit policies
 * (every predicate a query can ask, alone, together, under `all`, `any`
 * and `not`, with limits and values of every kind) are asked about random
 * members at random instants, channels and stores, with the plan and with
 * the plan taken away, and must give the same JSON byte for byte.
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
#include "support/state_bytes.h"

static const char *const TIERS[] = {"t0", "t1", "t2", "t3"};
/* ids that share a first byte, and that are prefixes of each other, so
 * that a string test that compares too little or too much is caught; and
 * ids whose first bytes differ but agree in their low five bits (the
 * query's first-byte mask, loy_benefit_test.firsts) */
static const char *const TAGS[] = {"vip", "staff", "new", "vip-list", "vi", "staffer", "Vip", "6vip"};
static const char *const CHANNELS[] = {"pos", "app", "tmall", "tm", "tmall2", "po", "Tmall", "4mall"};
static const char *const STORES[] = {"s0", "s1", "s10", "s", "S0", "3s"};
#define N_TAGS 8u
#define N_CHANNELS 8u
#define N_STORES 6u

static void random_date(rng *r, char out[11])
{
    loy_format_date(loy_day_from_ymd(2026, 1, 1) + pick(r, 500), out);
}

/* One entry of a `when` map, without the braces. */
static void random_entry(rng *r, char *out, size_t cap, int depth)
{
    switch (pick(r, depth > 0 ? 24 : 28)) {
    case 0: case 1: snprintf(out, cap, "tier_at_least: %s", TIERS[pick(r, 4)]); break;
    case 2: snprintf(out, cap, "tier_below: %s", TIERS[pick(r, 4)]); break;
    case 3: snprintf(out, cap, "tier: %s", TIERS[pick(r, 4)]); break;
    case 4: snprintf(out, cap, "tier: [%s, %s]", TIERS[pick(r, 4)], TIERS[pick(r, 4)]); break;
    case 5: case 6: snprintf(out, cap, "points_at_least: %d", pick(r, 3000)); break;
    case 7: snprintf(out, cap, "tags: [%s]", TAGS[pick(r, N_TAGS)]); break;
    case 8: snprintf(out, cap, "tags: %s", TAGS[pick(r, N_TAGS)]); break;
    case 9: snprintf(out, cap, "channel: [%s, %s]", CHANNELS[pick(r, N_CHANNELS)], CHANNELS[pick(r, N_CHANNELS)]); break;
    case 10: snprintf(out, cap, "store: [%s]", STORES[pick(r, N_STORES)]); break;
    case 11: snprintf(out, cap, "paid: %s", pick(r, 2) ? "active" : "none"); break;
    case 12: snprintf(out, cap, "paid: [%s]", pick(r, 2) ? "annual" : "monthly"); break;
    case 13: snprintf(out, cap, "member_days_at_least: %d", pick(r, 800)); break;
    case 14: snprintf(out, cap, "orders_at_least: %d", pick(r, 8)); break;
    case 15: snprintf(out, cap, "orders_in_months: {months: %d, at_least: %d}", 1 + pick(r, 14), pick(r, 5)); break;
    case 16: snprintf(out, cap, "days_since_last_order_at_least: %d", pick(r, 400)); break;
    case 17: snprintf(out, cap, "lifecycle: [%s]", pick(r, 2) ? "first" : "dormant"); break;
    case 18: snprintf(out, cap, "weekday: [%s, sat]", pick(r, 2) ? "mon" : "thu"); break;
    case 19: snprintf(out, cap, "day_of_month: [%d, 15]", 1 + pick(r, 28)); break;
    case 20: snprintf(out, cap, "month: [%d]", 1 + pick(r, 12)); break;
    case 21: {
        char a[11], b[11];
        int from = pick(r, 400);
        loy_format_date(loy_day_from_ymd(2026, 1, 1) + from, a);
        loy_format_date(loy_day_from_ymd(2026, 1, 1) + from + pick(r, 120), b);
        snprintf(out, cap, "date_between: [%s, %s]", a, b);
        break;
    }
    case 22: snprintf(out, cap, "time_between: [\"%02d:30\", \"%02d:00\"]", pick(r, 24), pick(r, 24)); break;
    case 23: snprintf(out, cap, "birthday: %s", pick(r, 2) ? "day" : "month"); break;
    default: random_group(r, out, cap, depth, random_entry); break;
    }
}

static void add_limit(rng *r, char *y, size_t cap)
{
    static const char *const PERIODS[] = {"day", "week", "month", "year"};
    switch (pick(r, 4)) {
    case 0: add(y, cap, ", limit: once"); break;
    case 1: add(y, cap, ", limit: {count: %d, per: %s}", 1 + pick(r, 2), PERIODS[pick(r, 4)]); break;
    default: break;
    }
}

static void add_value(rng *r, char *y, size_t cap)
{
    switch (pick(r, 5)) {
    case 0: add(y, cap, ", value: 0.%d5", pick(r, 10)); break;
    case 1: add(y, cap, ", value: two hours"); break;
    case 2: {
        add(y, cap, ", value: {by_tier: {");
        bool first = true;
        for (int t = 0; t < 4; t++) {
            if (pick(r, 2))
                continue;
            add(y, cap, "%s%s: %s", first ? "" : ", ", TIERS[t], pick(r, 3) ? "0.9" : "VIP");
            first = false;
        }
        if (first)
            add(y, cap, "t2: 0.8");
        add(y, cap, "}}");
        break;
    }
    default: break;
    }
}

static loy_policy *random_policy(rng *r, char *y, size_t cap)
{
    y[0] = '\0';
    add(y, cap, "loyalty_policy: 1\ncurrency: {code: CNY}\n");
    add(y, cap, "tiers:\n  qualify_on: spend\n  window: 12_months\n  levels:\n");
    add(y, cap, "    - {id: t0}\n    - {id: t1, at: 1000}\n    - {id: t2, at: 5000}\n    - {id: t3, at: 9000}\n");
    add(y, cap, "points:\n  earn:\n    rate: {amount: 1, points: 1}\n");
    add(y, cap, "paid:\n  plans:\n    - {id: annual, fee: 199, months: 12}\n    - {id: monthly, fee: 19, months: 1}\n");
    add(y, cap, "lifecycle:\n  - {id: dormant, when: {days_since_last_order_at_least: 90}}\n");
    add(y, cap, "  - {id: first, when: {orders_at_least: 1}}\n  - {id: registered}\n");
    add(y, cap, "benefits:\n");
    int benefits = 1 + pick(r, 6);
    for (int b = 0; b < benefits; b++) {
        add(y, cap, "  - {id: b%d, kind: service", b);
        if (pick(r, 8) == 0) {
            /* more tests than the plan builds entries for: built per query */
            add(y, cap, ", when: {all: [{tier_at_least: t1}");
            for (int k = 0; k < 13; k++)
                add(y, cap, ", {points_at_least: %d}", 100 * k + pick(r, 100));
            add(y, cap, "]}");
        } else {
            add_random_when(r, y, cap, random_entry);
        }
        add_limit(r, y, cap);
        add_value(r, y, cap);
        add(y, cap, "}\n");
    }
    return load_generated(y, "benefits.yaml");
}

static void member_of_imports(rng *r, loy_member *m)
{
    char d[11];
    random_date(r, d);
    assert_int_equal(loy_member_init(m, "M-1", "2025-06-01"), LOY_OK);
    assert_int_equal(loy_member_import_tier(m, TIERS[pick(r, 4)], NULL), LOY_OK);
    for (int k = pick(r, 4); k > 0; k--)
        assert_int_equal(loy_member_import_lot(m, pick(r, 1500), pick(r, 2) ? NULL : "2027-12-31"), LOY_OK);
    for (unsigned t = 0; t < N_TAGS; t++)
        if (pick(r, 3) == 0)
            assert_int_equal(loy_member_add_tag(m, TAGS[t]), LOY_OK);
    if (pick(r, 2))
        assert_int_equal(loy_member_set_birthday(m, pick(r, 2) ? "1990-03-14" : "1988-07-01"), LOY_OK);
    if (pick(r, 2)) {
        assert_int_equal(loy_member_import_month(m, LOY_METRIC_ORDERS, "2026-02", pick(r, 4)), LOY_OK);
        assert_int_equal(loy_member_import_orders(m, 4 + pick(r, 4)), LOY_OK);
        random_date(r, d);
        assert_int_equal(loy_member_import_last_order(m, d), LOY_OK);
    }
    if (pick(r, 2)) {
        random_date(r, d);
        assert_int_equal(loy_member_import_paid(m, pick(r, 2) ? "annual" : "monthly", d), LOY_OK);
    }
}

/* Uses of random benefits, so that limits are reached (or not). */
static void random_uses(rng *r, const loy_policy *p, loy_member *m, loy_result *res, int benefits)
{
    loy_event *e = NULL;
    assert_int_equal(loy_event_new(&e, p), LOY_OK);
    for (int k = pick(r, 5), n = 0; k > 0; k--, n++) {
        char id[16], b[8];
        snprintf(id, sizeof id, "U-%d", n);
        snprintf(b, sizeof b, "b%d", pick(r, benefits));
        assert_int_equal(loy_event_reset(e, LOY_EVENT_USE_BENEFIT, id, "2026-01-05T10:00:00+08:00"), LOY_OK);
        assert_int_equal(loy_event_set_benefit(e, b), LOY_OK);
        loy_apply(p, m, e, res);
    }
    loy_event_free(e);
}

/* The query's JSON, with the plan or (`plan` false) through the general path. */
static char *answer(loy_policy *p, loy_member *m, loy_result *res, const char *at, const char *channel,
                    const char *store, bool plan)
{
    const loy_benefit_plan *kept = p->benefit_plan;
    if (!plan)
        p->benefit_plan = NULL;
    int code = loy_query_benefits(p, m, at, channel, store, res);
    p->benefit_plan = kept;
    return code_and_json(code, res);
}

/* The query's JSON through the plan without the tiers' lists built at
 * load: each query copies its tier's row and changes the asked entries. */
static char *answer_without_lists(loy_policy *p, loy_member *m, loy_result *res, const char *at,
                                  const char *channel, const char *store)
{
    loy_benefit_plan *pl = (loy_benefit_plan *)(uintptr_t)p->benefit_plan;
    const loy_benefit_listed *kept = pl->listed;
    loy_benefit_listed *none = calloc(p->tiers.count, sizeof *none);
    assert_non_null(none);
    pl->listed = none;
    int code = loy_query_benefits(p, m, at, channel, store, res);
    pl->listed = kept;
    free(none);
    return code_and_json(code, res);
}

/* How many tiers have lists; each list's maps, and what they hold, are
 * finished. */
static uint32_t expect_lists_finished(const loy_policy *p)
{
    const loy_benefit_plan *pl = p->benefit_plan;
    uint32_t with = 0;
    for (uint32_t t = 0; t < p->tiers.count; t++) {
        const loy_node *lists = pl->listed[t].lists;
        if (!lists)
            continue;
        with++;
        uint32_t outcomes = (uint32_t)1 << (pl->listed[t].test_count + pl->listed[t].limit_count);
        for (uint32_t k = 0; k < outcomes; k++) {
            expect_finished(&lists[(size_t)k * p->benefit_count]);
            assert_null(lists[(size_t)(k + 1) * p->benefit_count - 1].next);
        }
    }
    return with;
}

/* Every entry built at load is a fixed map (result.h): finished. */
static void expect_entries_finished(const loy_policy *p)
{
    const loy_benefit_plan *pl = p->benefit_plan;
    for (uint32_t i = 0; i < p->benefit_count; i++) {
        const loy_planned_benefit *b = &pl->benefits[i];
        if (b->answers_at == LOY_NO_ANSWERS)
            continue;
        size_t entries = ((size_t)1 << (__builtin_popcountll(b->asked) + b->limited)) * p->tiers.count;
        for (size_t k = 0; k < entries; k++)
            expect_finished(pl->answers[b->answers_at + k]);
    }
}

static void planned_and_general_agree(void **state)
{
    (void)state;
    static char y[32768];
    rng r = {20261124};
    long asked = 0, closed = 0, tiers = 0, listed = 0;
    for (int k = 0; k < 300; k++) {
        loy_policy *p = random_policy(&r, y, sizeof y);
        assert_non_null(p->benefit_plan);
        expect_entries_finished(p);
        listed += expect_lists_finished(p);
        tiers += p->tiers.count;
        int benefits = (int)p->benefit_count;
        loy_result *res = NULL, *other = NULL;
        assert_int_equal(loy_result_new(&res, p), LOY_OK);
        assert_int_equal(loy_result_new(&other, p), LOY_OK);
        loy_member *m = NULL;
        assert_int_equal(loy_member_create(&m, p), LOY_OK);
        for (int j = 0; j < 30; j++) {
            member_of_imports(&r, m);
            random_uses(&r, p, m, res, benefits);
            char at[32], d[11];
            random_date(&r, d);
            snprintf(at, sizeof at, "%sT%02d:%02d:00+08:00", d, pick(&r, 24), pick(&r, 60));
            const char *channel = pick(&r, 4) ? CHANNELS[pick(&r, N_CHANNELS)] : NULL;
            const char *store = pick(&r, 2) ? STORES[pick(&r, N_STORES)] : NULL;
            unsigned options = pick(&r, 4) ? 0 : LOY_RESULT_TRACE;
            loy_result_set_options(res, options);
            loy_result_set_options(other, options);
            char *planned = answer(p, m, res, at, channel, store, true);
            char *general = answer(p, m, other, at, channel, store, false);
            if (strcmp(planned, general) != 0)
                fprintf(stderr, "%s\nat %s channel %s store %s\nplanned %s\ngeneral %s\n", y, at,
                        channel ? channel : "-", store ? store : "-", planned, general);
            assert_string_equal(planned, general);
            /* asked again, the plan's shared entries read the same */
            char *again = answer(p, m, other, at, channel, store, true);
            assert_string_equal(again, general);
            /* the tiers' lists answer as the row changed per query */
            char *rows = answer_without_lists(p, m, other, at, channel, store);
            assert_string_equal(rows, planned);
            free(rows);
            closed += strstr(general, "\"open\": false") != NULL;
            asked++;
            free(planned);
            free(general);
            free(again);
        }
        expect_entries_finished(p);
        expect_lists_finished(p);
        loy_member_free(m);
        loy_result_free(res);
        loy_result_free(other);
        loy_policy_free(p);
    }
    assert_true(asked == 300 * 30);
    /* about half the tiers have lists (586 of 1,200); the others have
     * too many outcomes, or a benefit without built entries */
    assert_true(listed > tiers / 3 && listed < tiers);
    assert_true(closed > asked / 4 && closed < asked);
}

/* A benefit of more than 64 tests: no plan, the general path answers. */
static void no_plan_past_64_tests(void **state)
{
    (void)state;
    static char y[16384];
    y[0] = '\0';
    add(y, sizeof y, "loyalty_policy: 1\ncurrency: {code: CNY}\n");
    add(y, sizeof y, "tiers: {qualify_on: spend, levels: [{id: t0}]}\n");
    add(y, sizeof y, "points: {earn: {rate: {amount: 1, points: 1}}}\nbenefits:\n  - {id: wide, kind: gift, when: {all: [");
    for (int k = 0; k < 65; k++)
        add(y, sizeof y, "%s{points_at_least: %d}", k ? ", " : "", k);
    add(y, sizeof y, "]}}\n");
    loy_policy *p = load_generated(y, "wide.yaml");
    assert_null(p->benefit_plan);
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_member_import_lot(m, 10, NULL), LOY_OK);
    loy_result *res = NULL;
    assert_int_equal(loy_result_new(&res, p), LOY_OK);
    assert_int_equal(loy_query_benefits(p, m, "2026-03-01T10:00:00+08:00", NULL, NULL, res), LOY_OK);
    size_t len;
    const char *json = loy_result_json(res, &len);
    assert_non_null(strstr(json, "\"open\": false, \"reasons\": [{\"points_at_least\": 11}, "));
    loy_result_free(res);
    loy_member_free(m);
    loy_policy_free(p);
}

/* Many benefits that each cost the most a benefit may build (2^4
 * outcomes x 32 tiers x 4): the first 64 fill the policy's budget and are
 * built; the rest build their entry per query, and every one answers as
 * the general path does. */
static void policy_budget_of_built_entries(void **state)
{
    (void)state;
    static char y[65536];
    y[0] = '\0';
    add(y, sizeof y, "loyalty_policy: 1\ncurrency: {code: CNY}\ntiers:\n  qualify_on: spend\n  levels:\n");
    add(y, sizeof y, "    - {id: t0}\n");
    for (int t = 1; t < 32; t++)
        add(y, sizeof y, "    - {id: t%d, at: %d}\n", t, 1000 * t);
    add(y, sizeof y, "points: {earn: {rate: {amount: 1, points: 1}}}\nbenefits:\n");
    for (int k = 0; k < 200; k++)
        add(y, sizeof y,
            "  - {id: b%d, kind: gift, when: {tags: [vip], channel: [pos], points_at_least: %d},"
            " limit: {count: 1, per: year}}\n", k, k % 7);
    loy_policy *p = load_generated(y, "budget.yaml");
    const loy_benefit_plan *pl = p->benefit_plan;
    assert_non_null(pl);
    uint32_t built = 0;
    for (uint32_t i = 0; i < p->benefit_count; i++) {
        bool has = pl->benefits[i].answers_at != LOY_NO_ANSWERS;
        assert_true(has == (i < 64));   /* in order, until the budget is spent */
        built += has;
    }
    assert_int_equal(built, 64);
    expect_entries_finished(p);
    loy_member *m = NULL;
    loy_result *res = NULL, *other = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_member_add_tag(m, "vip"), LOY_OK);
    assert_int_equal(loy_member_import_lot(m, 3, NULL), LOY_OK);
    assert_int_equal(loy_member_import_tier(m, "t5", NULL), LOY_OK);
    assert_int_equal(loy_result_new(&res, p), LOY_OK);
    assert_int_equal(loy_result_new(&other, p), LOY_OK);
    static const char *const channels[] = {"pos", "app", NULL};
    for (size_t c = 0; c < 3; c++) {
        char *planned = answer(p, m, res, "2026-03-01T10:00:00+08:00", channels[c], NULL, true);
        char *general = answer(p, m, other, "2026-03-01T10:00:00+08:00", channels[c], NULL, false);
        assert_string_equal(planned, general);
        free(planned);
        free(general);
    }
    loy_result_free(res);
    loy_result_free(other);
    loy_member_free(m);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(planned_and_general_agree),
        cmocka_unit_test(no_plan_past_64_tests),
        cmocka_unit_test(policy_budget_of_built_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
