/*
 * The member handle (lib/member.c): new members, every import field of
 * POLICY.md §11.2 with its refusals, the starting lifecycle stage (§8), the
 * getters, and the copy/swap/clear helpers the engine relies on. Expected
 * values are worked out by hand from the spec and the reference policies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_support.h"
#include "member.h"

/* ----------------------------------------------------------------- helpers */

typedef struct blob {
    uint8_t *data;
    size_t len;
} blob;

static blob state_of(loy_member *m)
{
    const void *data = NULL;
    size_t len = 0;
    assert_int_equal(loy_member_to_bytes(m, &data, &len), LOY_OK);
    blob b = {malloc(len), len};
    assert_non_null(b.data);
    memcpy(b.data, data, len);
    return b;
}

static void assert_state_is(loy_member *m, blob *b)
{
    const void *data = NULL;
    size_t len = 0;
    assert_int_equal(loy_member_to_bytes(m, &data, &len), LOY_OK);
    assert_int_equal(len, b->len);
    assert_memory_equal(data, b->data, len);
}

/* The message of the last refusal (the next call on the member clears it). */
static char last_error[256];

/* The call must fail with `code`, name the problem, and change nothing. */
#define expect_refused_import(m, code, call)                                \
    do {                                                                    \
        blob before_ = state_of(m);                                         \
        assert_int_equal((call), (code));                                   \
        snprintf(last_error, sizeof last_error, "%s", loy_member_error(m)); \
        assert_true(last_error[0] != '\0');                                 \
        assert_state_is(m, &before_);                                       \
        free(before_.data);                                                 \
    } while (0)

#define expect_ok(m, call)                                          \
    do {                                                            \
        int rc_ = (call);                                           \
        if (rc_ != LOY_OK)                                          \
            fprintf(stderr, "%s\n", loy_member_error(m));           \
        assert_int_equal(rc_, LOY_OK);                              \
        assert_string_equal(loy_member_error(m), "");               \
    } while (0)

static void expect_date(int rc, const char *got, const char *want)
{
    assert_int_equal(rc, LOY_OK);
    assert_string_equal(got, want);
}

static void expect_lot(loy_member *m, size_t i, int64_t points, const char *expires, const char *pending)
{
    int64_t p = -1;
    char e[11], u[11];
    assert_int_equal(loy_member_lot(m, i, &p, e, u), LOY_OK);
    assert_int_equal(p, points);
    assert_string_equal(e, expires);
    assert_string_equal(u, pending);
}

static int64_t metric(loy_member *m, const char *as_of)
{
    int64_t v = -1;
    assert_int_equal(loy_member_metric(m, as_of, &v), LOY_OK);
    return v;
}

/* ---------------------------------------------------------- new members */

static void test_new_member(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("apparel.yaml");
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-0001", "2025-03-02"), LOY_OK);
    assert_string_equal(loy_member_id(m), "M-0001");
    assert_string_equal(loy_member_tier(m), "member");
    char since[11];
    expect_date(loy_member_tier_since(m, since), since, "2025-03-02");
    /* no order, joined today: neither dormant, loyal, repeat nor first */
    assert_string_equal(loy_member_stage(m), "registered");
    assert_int_equal(loy_member_points_available(m), 0);
    assert_int_equal(loy_member_points_pending(m), 0);
    assert_int_equal(loy_member_lot_count(m), 0);
    assert_int_equal(metric(m, "2026-01-01"), 0);
    assert_string_equal(loy_member_error(m), "");
    assert_true(m->fresh);
    assert_int_equal(m->plan, -1);
    loy_member_free(m);

    /* refusals leave *out NULL */
    m = (loy_member *)1;
    assert_int_equal(loy_member_new(&m, p, "", "2025-03-02"), LOY_E_INVALID_MEMBER);
    assert_null(m);
    assert_int_equal(loy_member_new(&m, p, NULL, "2025-03-02"), LOY_E_INVALID_MEMBER);
    assert_int_equal(loy_member_new(&m, p, "M-1", "2025-02-30"), LOY_E_INVALID_MEMBER);
    assert_int_equal(loy_member_new(&m, p, "M-1", "2025-3-2"), LOY_E_INVALID_MEMBER);
    assert_int_equal(loy_member_new(&m, p, "M-1", NULL), LOY_E_INVALID_MEMBER);
    assert_int_equal(loy_member_new(&m, p, "\xff\xfe", "2025-03-02"), LOY_E_INVALID_MEMBER);
    assert_int_equal(loy_member_new(NULL, p, "M-1", "2025-03-02"), LOY_E_INVALID_ARG);
    assert_int_equal(loy_member_new(&m, NULL, "M-1", "2025-03-02"), LOY_E_INVALID_ARG);
    loy_policy_free(p);
}

static void test_empty_handle_and_null(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("minimal.yaml");
    loy_member *m = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    assert_null(loy_member_id(m));
    assert_null(loy_member_tier(m));
    assert_null(loy_member_stage(m));
    char since[11];
    assert_int_equal(loy_member_tier_since(m, since), LOY_E_INVALID_ARG);
    const void *data;
    size_t len;
    assert_int_equal(loy_member_to_bytes(m, &data, &len), LOY_E_INVALID_ARG);
    assert_int_equal(loy_member_import_tier(m, "vip", NULL), LOY_E_INVALID_ARG);
    assert_int_equal(loy_member_lot(m, 0, NULL, NULL, NULL), LOY_E_INVALID_ARG);

    /* the same handle becomes a member, twice, the second time from its own id */
    expect_ok(m, loy_member_init(m, "M-A", "2026-01-01"));
    expect_ok(m, loy_member_import_tier(m, "vip", NULL));
    expect_ok(m, loy_member_init(m, loy_member_id(m), "2026-02-01"));
    assert_string_equal(loy_member_id(m), "M-A");
    assert_string_equal(loy_member_tier(m), "member");
    assert_null(loy_member_stage(m));      /* minimal has no lifecycle */

    /* NULL handles never crash */
    loy_member_free(NULL);
    assert_null(loy_member_id(NULL));
    assert_int_equal(loy_member_points_available(NULL), 0);
    assert_int_equal(loy_member_lot_count(NULL), 0);
    assert_int_equal(loy_member_init(NULL, "x", "2026-01-01"), LOY_E_INVALID_ARG);
    assert_int_equal(loy_member_create(NULL, p), LOY_E_INVALID_ARG);
    assert_non_null(loy_member_error(NULL));
    loy_member_free(m);
    loy_policy_free(p);
}

/* --------------------------------------------------------------- import */

static void test_import_tier(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("apparel.yaml");
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-T", "2024-01-01"), LOY_OK);
    expect_refused_import(m, LOY_E_UNKNOWN_TIER, loy_member_import_tier(m, "diamond", NULL));
    assert_non_null(strstr(last_error, "diamond"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_tier(m, "gold", "2026-13-01"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_tier(m, NULL, NULL));

    char since[11];
    expect_ok(m, loy_member_import_tier(m, "gold", NULL));
    assert_string_equal(loy_member_tier(m), "gold");
    expect_date(loy_member_tier_since(m, since), since, "2024-01-01");     /* default: joined */
    expect_ok(m, loy_member_import_tier(m, "platinum", "2026-01-15"));
    assert_string_equal(loy_member_tier(m), "platinum");
    expect_date(loy_member_tier_since(m, since), since, "2026-01-15");
    loy_member_free(m);
    loy_policy_free(p);
}

static void test_import_lots(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("apparel.yaml");
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-L", "2024-01-01"), LOY_OK);
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_lot(m, -1, NULL));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_lot(m, 10, "2027-02-29"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_lot(m, 10, "soon"));

    expect_ok(m, loy_member_import_lot(m, 500, NULL));
    expect_ok(m, loy_member_import_lot(m, 300, "2027-03-31"));
    expect_ok(m, loy_member_import_lot(m, 200, "2026-12-31"));
    expect_ok(m, loy_member_import_lot(m, 0, "2026-06-30"));     /* nothing to keep */
    expect_ok(m, loy_member_import_lot(m, 50, "2027-03-31"));    /* joins the lot of that day */
    /* soonest-expiring first, never-expiring last */
    assert_int_equal(loy_member_lot_count(m), 3);
    expect_lot(m, 0, 200, "2026-12-31", "");
    expect_lot(m, 1, 350, "2027-03-31", "");
    expect_lot(m, 2, 500, "", "");
    assert_int_equal(loy_member_lot(m, 3, NULL, NULL, NULL), LOY_E_INVALID_ARG);
    assert_int_equal(loy_member_points_available(m), 1050);
    assert_int_equal(loy_member_points_pending(m), 0);

    /* the balance stays within int64 */
    expect_refused_import(m, LOY_E_OVERFLOW, loy_member_import_lot(m, INT64_MAX - 1049, NULL));
    expect_ok(m, loy_member_import_lot(m, INT64_MAX - 1050, "2030-01-31"));
    assert_int_equal(loy_member_points_available(m), INT64_MAX);
    loy_member_free(m);
    loy_policy_free(p);
}

static void test_import_months_and_metric(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("apparel.yaml");   /* spend over 12 months */
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-S", "2024-01-01"), LOY_OK);
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_month(m, LOY_METRIC_SPEND, "2026-13", 1));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_month(m, LOY_METRIC_SPEND, "2026-1", 1));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_month(m, LOY_METRIC_SPEND, "2026-10-01", 1));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_month(m, LOY_METRIC_SPEND, NULL, 1));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_month(m, LOY_METRIC_SPEND, "2026-10", -5));
    expect_refused_import(m, LOY_E_INVALID_ARG, loy_member_import_month(m, (loy_metric)9, "2026-10", 5));

    expect_ok(m, loy_member_import_month(m, LOY_METRIC_SPEND, "2025-10", 120000));
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_SPEND, "2026-03", 50000));
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_SPEND, "2026-10", 30000));
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_SPEND, "2024-12", 99999));
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_GROWTH, "2026-10", 7));
    /* 2025-11..2026-10 */
    assert_int_equal(metric(m, "2026-10-31"), 80000);
    /* 2025-10..2026-09 */
    assert_int_equal(metric(m, "2026-09-30"), 170000);
    /* 2024-01..2024-12 */
    assert_int_equal(metric(m, "2024-12-01"), 99999);
    /* importing a month again replaces its figure */
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_SPEND, "2026-10", 10000));
    assert_int_equal(metric(m, "2026-10-31"), 60000);
    assert_int_equal(m->lifetime[LOY_METRIC_SPEND], 120000 + 50000 + 10000 + 99999);
    assert_int_equal(m->lifetime[LOY_METRIC_GROWTH], 7);
    int64_t v;
    assert_int_equal(loy_member_metric(m, "2026-10", &v), LOY_E_INVALID_ARG);
    /* months are kept in order */
    assert_int_equal(m->month_count, 4);
    assert_true(m->months[0].month < m->months[1].month && m->months[1].month < m->months[2].month &&
                m->months[2].month < m->months[3].month);
    loy_member_free(m);
    loy_policy_free(p);
}

static void test_import_orders(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("minimal.yaml");
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-O", "2024-01-01"), LOY_OK);
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_ORDERS, "2025-01", 3));
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_ORDERS, "2025-02", 2));
    /* default: the sum of orders_by_month */
    assert_int_equal(m->orders, 5);
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_orders(m, 4));
    assert_non_null(strstr(last_error, "orders"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_orders(m, -1));
    expect_ok(m, loy_member_import_orders(m, 5));
    expect_ok(m, loy_member_import_orders(m, 9));
    assert_int_equal(m->orders, 9);
    /* once given, the count no longer follows the months, and the months may
     * not add up past it */
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_ORDERS, "2025-03", 4));
    assert_int_equal(m->orders, 9);
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_month(m, LOY_METRIC_ORDERS, "2025-04", 1));
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_ORDERS, "2025-03", 3));   /* replaces: 8 */
    assert_int_equal(m->lifetime[LOY_METRIC_ORDERS], 8);
    loy_member_free(m);
    loy_policy_free(p);
}

static void test_initial_stage(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("apparel.yaml");
    loy_member *m = NULL;
    /* the stage is taken as of the later of joined and last_order */
    assert_int_equal(loy_member_new(&m, p, "M-ST", "2025-03-02"), LOY_OK);
    assert_string_equal(loy_member_stage(m), "registered");
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_ORDERS, "2026-07", 1));
    assert_string_equal(loy_member_stage(m), "first");     /* 1 lifetime order */
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_ORDERS, "2026-08", 1));
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_ORDERS, "2026-09", 1));
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_ORDERS, "2026-10", 1));
    /* as of 2025-03-02 the 12 months 2024-04..2025-03 hold no order: repeat */
    assert_string_equal(loy_member_stage(m), "repeat");
    expect_ok(m, loy_member_import_last_order(m, "2026-10-30"));
    /* as of 2026-10-30: 4 orders in 2025-11..2026-10, last order 0 days ago */
    assert_string_equal(loy_member_stage(m), "loyal");
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_last_order(m, "2026-10-32"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_last_order(m, NULL));
    loy_member_free(m);

    /* a last order long before joining: as of joining it is 579 days old */
    assert_int_equal(loy_member_new(&m, p, "M-ST2", "2026-01-01"), LOY_OK);
    expect_ok(m, loy_member_import_orders(m, 5));
    assert_string_equal(loy_member_stage(m), "repeat");
    expect_ok(m, loy_member_import_last_order(m, "2024-06-01"));
    assert_string_equal(loy_member_stage(m), "dormant");
    loy_member_free(m);
    loy_policy_free(p);
}

static void test_import_gifts(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("apparel.yaml");
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-G", "2024-01-01"), LOY_OK);

    expect_refused_import(m, LOY_E_UNKNOWN_TIER, loy_member_import_gift(m, "upgrade", "diamond"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "birthday", "20x5"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "birthday", "12025"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "birthday", "-2025"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "birthday", ""));
    /* crab-season is once per_year, new-fabric-trial once lifetime */
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "surprise", "crab-season"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "surprise", "crab-season:"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "surprise", "crab-season:26x"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "surprise", "crab-season:26"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "surprise", "crab-season:02026"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "surprise", "new-fabric-trial:2026"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "surprise", "truffle"));
    /* monthly-credit counts calendar months */
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "spend", "monthly-credit"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "spend", "monthly-credit:2026"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "spend", "monthly-credit:2026-13"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "spend", "weekly:2026-10"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "coupon", "X"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, NULL, "X"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "upgrade", NULL));

    expect_ok(m, loy_member_import_gift(m, "upgrade", "silver"));
    expect_ok(m, loy_member_import_gift(m, "upgrade", "gold"));
    expect_ok(m, loy_member_import_gift(m, "birthday", "2025"));
    expect_ok(m, loy_member_import_gift(m, "birthday", "2024"));
    expect_ok(m, loy_member_import_gift(m, "birthday", "2025"));     /* once is enough */
    expect_ok(m, loy_member_import_gift(m, "surprise", "new-fabric-trial"));
    expect_ok(m, loy_member_import_gift(m, "surprise", "crab-season:2026"));
    expect_ok(m, loy_member_import_gift(m, "surprise", "crab-season:0026"));   /* an event in year 26 */
    expect_ok(m, loy_member_import_gift(m, "spend", "monthly-credit:2026-10"));

    assert_int_equal(m->upgrade_given[0], 0);
    assert_int_equal(m->upgrade_given[1], 1);
    assert_int_equal(m->upgrade_given[2], 1);
    assert_int_equal(m->upgrade_given[3], 0);
    assert_int_equal(m->birthday_year_count, 2);
    assert_int_equal(m->birthday_years[0], 2024);
    assert_int_equal(m->birthday_years[1], 2025);
    assert_int_equal(m->surprise_given_count, 3);
    assert_int_equal(m->surprise_given[0].index, 1);        /* new-fabric-trial, lifetime */
    assert_int_equal(m->surprise_given[0].period, 0);
    assert_int_equal(m->surprise_given[1].index, 0);        /* crab-season, 2026 */
    assert_int_equal(m->surprise_given[1].period, 2026);
    assert_int_equal(m->surprise_given[2].index, 0);        /* crab-season, 0026 */
    assert_int_equal(m->surprise_given[2].period, 26);
    assert_int_equal(m->spend_given_count, 1);
    assert_int_equal(m->spend_given[0].index, 0);
    assert_int_equal(m->spend_given[0].period, 2026 * 12 + 9);
    loy_member_free(m);
    loy_policy_free(p);

    /* a per-order spend gift names an order: checked, nothing to remember */
    p = load_policy_file("grocery.yaml");
    assert_int_equal(loy_member_new(&m, p, "M-G2", "2024-01-01"), LOY_OK);
    expect_ok(m, loy_member_import_gift(m, "spend", "big-basket:O-77"));
    expect_ok(m, loy_member_import_gift(m, "spend", "big-basket:O:with:colons"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "spend", "big-basket:"));
    assert_int_equal(m->spend_given_count, 0);
    loy_member_free(m);
    loy_policy_free(p);
}

static void test_import_paid(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("grocery.yaml");
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-P", "2024-01-01"), LOY_OK);
    expect_refused_import(m, LOY_E_UNKNOWN_PLAN, loy_member_import_paid(m, "weekly", "2027-05-01"));
    assert_non_null(strstr(last_error, "weekly"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_paid(m, "annual", "2027-5-1"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_paid(m, "annual", NULL));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_paid(m, NULL, "2027-05-01"));
    expect_ok(m, loy_member_import_paid(m, "annual", "2027-05-01"));
    assert_int_equal(m->plan, 0);
    assert_int_equal(m->plan_from, LOY_DAY_NONE);
    char until[11];
    loy_format_date(m->plan_until, until);
    assert_string_equal(until, "2027-05-01");
    assert_int_equal(m->plan_fees, 19900);     /* the annual fee, 199.00, paid once */
    assert_int_equal(m->plan_savings, 0);
    loy_member_free(m);
    loy_policy_free(p);

    /* apparel has no paid plans at all */
    p = load_policy_file("apparel.yaml");
    assert_int_equal(loy_member_new(&m, p, "M-P2", "2024-01-01"), LOY_OK);
    expect_refused_import(m, LOY_E_UNKNOWN_PLAN, loy_member_import_paid(m, "annual", "2027-05-01"));
    loy_member_free(m);
    loy_policy_free(p);
}

static void test_profile_import(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("apparel.yaml");
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-B", "2024-01-01"), LOY_OK);
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_set_birthday(m, "1990-02-30"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_add_tag(m, ""));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_add_tag(m, NULL));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_add_tag(m, "\xc3\x28"));
    expect_ok(m, loy_member_set_birthday(m, "1992-02-29"));
    char day[11];
    loy_format_date(m->birthday, day);
    assert_string_equal(day, "1992-02-29");
    expect_ok(m, loy_member_set_birthday(m, NULL));
    assert_int_equal(m->birthday, LOY_DAY_NONE);
    expect_ok(m, loy_member_add_tag(m, "employee"));
    expect_ok(m, loy_member_add_tag(m, "vip-list"));
    expect_ok(m, loy_member_add_tag(m, "employee"));       /* a set */
    assert_int_equal(m->tag_count, 2);
    assert_string_equal(m->tags[0], "employee");
    assert_string_equal(m->tags[1], "vip-list");
    loy_member_free(m);
    loy_policy_free(p);
}

static void test_import_after_first_event(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_file("grocery.yaml"), "M-E", "2026-01-01");
    expect_ok(t.m, loy_member_import_tier(t.m, "silver", NULL));
    ev(&t, LOY_EVENT_TICK, "T-1", "2026-02-01T10:00:00+08:00");
    assert_int_equal(apply(&t), LOY_OK);
    assert_false(t.m->fresh);
    loy_member *m = t.m;
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_tier(m, "gold", NULL));
    assert_non_null(strstr(last_error, "first event"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_lot(m, 5, NULL));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_month(m, LOY_METRIC_GROWTH, "2026-01", 5));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_orders(m, 5));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_last_order(m, "2026-01-05"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_gift(m, "upgrade", "silver"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_import_paid(m, "annual", "2027-01-01"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_set_birthday(m, "1990-01-01"));
    expect_refused_import(m, LOY_E_INVALID_MEMBER, loy_member_add_tag(m, "vip"));
    /* a refused event does not end the import window */
    rig_close(&t);
    rig_open(&t, load_policy_file("grocery.yaml"), "M-E2", "2026-01-01");
    ev(&t, LOY_EVENT_JOIN_PAID, "P-1", "2026-02-01T10:00:00+08:00");
    assert_int_equal(loy_event_set_plan(t.e, "weekly"), LOY_OK);
    assert_int_equal(apply(&t), LOY_E_UNKNOWN_PLAN);
    expect_ok(t.m, loy_member_import_tier(t.m, "gold", NULL));
    rig_close(&t);
}

/* ------------------------------------------------------ copy, swap, clear */

static void build_rich(loy_member *m)
{
    expect_ok(m, loy_member_set_birthday(m, "1990-11-20"));
    expect_ok(m, loy_member_add_tag(m, "employee"));
    expect_ok(m, loy_member_add_tag(m, "vip-list"));
    expect_ok(m, loy_member_import_tier(m, "gold", "2025-06-01"));
    expect_ok(m, loy_member_import_lot(m, 500, "2027-03-31"));
    expect_ok(m, loy_member_import_lot(m, 70, NULL));
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_SPEND, "2026-10", 120000));
    expect_ok(m, loy_member_import_month(m, LOY_METRIC_ORDERS, "2026-10", 2));
    expect_ok(m, loy_member_import_orders(m, 7));
    expect_ok(m, loy_member_import_last_order(m, "2026-10-30"));
    expect_ok(m, loy_member_import_gift(m, "upgrade", "silver"));
    expect_ok(m, loy_member_import_gift(m, "birthday", "2025"));
    expect_ok(m, loy_member_import_gift(m, "spend", "monthly-credit:2026-10"));
}

static void test_copy_and_swap(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_file("apparel.yaml"), "M-C", "2025-03-02");
    build_rich(t.m);
    /* a pending lot, which owns its order id */
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-11-11T20:15:00+08:00");
    ev_line(&t, "COAT-1", "coats", 129900);
    assert_int_equal(apply(&t), LOY_OK);
    blob rich = state_of(t.m);

    loy_member *small = NULL, *big = NULL;
    assert_int_equal(loy_member_new(&small, t.p, "S", "2020-01-01"), LOY_OK);
    assert_int_equal(loy_member_new(&big, t.p, "a-much-longer-member-id", "2020-01-01"), LOY_OK);
    for (int i = 0; i < 6; i++) {
        char tag[8];
        snprintf(tag, sizeof tag, "t%d", i);
        expect_ok(big, loy_member_add_tag(big, tag));
    }
    for (int i = 0; i < 5; i++)
        expect_ok(big, loy_member_import_lot(big, 10 + i, i ? "2030-01-31" : NULL));
    expect_ok(big, loy_member_import_lot(big, 9, "2029-01-31"));

    /* copying into a smaller and a larger handle gives the same state */
    assert_true(loy_member_copy(small, t.m));
    assert_true(loy_member_copy(big, t.m));
    assert_state_is(small, &rich);
    assert_state_is(big, &rich);
    assert_string_equal(big->lots[0].order_id ? "has" : "none", t.m->lots[0].order_id ? "has" : "none");
    assert_string_equal(loy_member_id(big), "M-C");
    /* copies are deep: changing the copy leaves the original alone */
    big->tags[0][0] = 'X';
    assert_string_equal(t.m->tags[0], "employee");
    blob big_state = state_of(big);

    /* and copying a small state back over a rich one frees what is left over */
    loy_member *plain = NULL;
    assert_int_equal(loy_member_new(&plain, t.p, "P", "2021-01-01"), LOY_OK);
    blob plain_state = state_of(plain);
    assert_true(loy_member_copy(big, plain));
    assert_state_is(big, &plain_state);
    assert_int_equal(big->lot_count, 0);
    assert_int_equal(big->tag_count, 0);

    /* swap exchanges states but each handle keeps its scratch */
    loy_member_fail(small, LOY_E_INVALID_ARG, "small's own message");
    loy_member_swap(small, plain);
    assert_string_equal(loy_member_error(small), "small's own message");
    assert_string_equal(loy_member_error(plain), "");
    assert_state_is(small, &plain_state);
    assert_state_is(plain, &rich);

    /* clear keeps the handle usable */
    loy_member_clear(plain);
    assert_false(plain->initialised);
    assert_null(loy_member_id(plain));
    assert_int_equal(loy_member_init(plain, "again", "2026-01-01"), LOY_OK);
    assert_int_equal(plain->lot_count, 0);

    free(rich.data);
    free(big_state.data);
    free(plain_state.data);
    loy_member_free(small);
    loy_member_free(big);
    loy_member_free(plain);
    rig_close(&t);
}

/* take_working: the member gets the state, the other handle keeps only
 * buffers, which copy, clear and free still handle (ASan checks that no
 * string leaks or is freed twice). */
static void test_take_working(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("apparel.yaml");
    loy_member *owner = NULL, *work = NULL, *src = NULL;
    assert_int_equal(loy_member_new(&owner, p, "OWNER", "2020-01-01"), LOY_OK);
    assert_int_equal(loy_member_new(&src, p, "SOURCE", "2021-01-01"), LOY_OK);
    assert_int_equal(loy_member_create(&work, p), LOY_OK);
    for (int i = 0; i < 4; i++) {
        char tag[8];
        snprintf(tag, sizeof tag, "o%d", i);
        expect_ok(owner, loy_member_add_tag(owner, tag));
        expect_ok(owner, loy_member_import_lot(owner, 10 + i, i ? "2030-01-31" : NULL));
    }
    expect_ok(src, loy_member_add_tag(src, "s"));
    expect_ok(src, loy_member_import_lot(src, 77, "2031-05-31"));
    expect_ok(src, loy_member_import_month(src, LOY_METRIC_SPEND, "2025-11", 4200));
    blob src_state = state_of(src);

    loy_member_fail(owner, LOY_E_INVALID_ARG, "owner's own message");
    assert_true(loy_member_copy_working(work, src));
    loy_member_take_working(owner, work);
    assert_string_equal(loy_member_error(owner), "owner's own message");  /* the handle's own */
    assert_state_is(owner, &src_state);
    assert_false(work->initialised);

    /* the scratch is copied into again (reusing the owner's old strings) */
    assert_true(loy_member_copy_working(work, src));
    assert_state_is(work, &src_state);
    loy_member_take_working(owner, work);
    assert_state_is(owner, &src_state);
    loy_member_clear(work);
    assert_true(loy_member_copy_working(work, owner));
    assert_state_is(work, &src_state);
    loy_member_take_working(src, work);
    assert_state_is(src, &src_state);

    free(src_state.data);
    loy_member_free(owner);
    loy_member_free(work);
    loy_member_free(src);
    loy_policy_free(p);
}

/* Steady-state copies reuse the destination's buffers. */
typedef struct counting_alloc {
    size_t allocations;
} counting_alloc;

static void *count_malloc(void *ctx, size_t n)
{
    ((counting_alloc *)ctx)->allocations++;
    return malloc(n);
}

static void *count_realloc(void *ctx, void *ptr, size_t n)
{
    ((counting_alloc *)ctx)->allocations++;
    return realloc(ptr, n);
}

static void count_free(void *ctx, void *ptr)
{
    LOY_UNUSED(ctx);
    free(ptr);
}

static void test_copy_does_not_allocate_when_warm(void **state)
{
    LOY_UNUSED(state);
    counting_alloc counter = {0};
    loy_allocator a = {count_malloc, count_realloc, count_free, &counter};
    const char *yaml = "loyalty_policy: 1\n"
                       "tiers: {qualify_on: spend, levels: [{id: member}, {id: vip, at: 500}]}\n"
                       "points: {earn: {rate: {amount: 1, points: 1}}, pending_days: 7}\n";
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer_ex(&p, yaml, strlen(yaml), NULL, NULL, &a), LOY_OK);
    rig t;
    rig_open(&t, p, "M-W", "2026-01-01");
    expect_ok(t.m, loy_member_add_tag(t.m, "x"));
    ev(&t, LOY_EVENT_ORDER, "O-1", "2026-02-01T10:00:00+08:00");
    ev_line(&t, "A", "c", 10000);
    assert_int_equal(apply(&t), LOY_OK);
    loy_member *scratch = NULL;
    assert_int_equal(loy_member_create(&scratch, p), LOY_OK);
    assert_true(loy_member_copy(scratch, t.m));
    size_t before = counter.allocations;
    for (int i = 0; i < 10; i++)
        assert_true(loy_member_copy(scratch, t.m));
    assert_int_equal(counter.allocations, before);
    loy_member_free(scratch);
    rig_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_member),
        cmocka_unit_test(test_empty_handle_and_null),
        cmocka_unit_test(test_import_tier),
        cmocka_unit_test(test_import_lots),
        cmocka_unit_test(test_import_months_and_metric),
        cmocka_unit_test(test_import_orders),
        cmocka_unit_test(test_initial_stage),
        cmocka_unit_test(test_import_gifts),
        cmocka_unit_test(test_import_paid),
        cmocka_unit_test(test_profile_import),
        cmocka_unit_test(test_import_after_first_event),
        cmocka_unit_test(test_copy_and_swap),
        cmocka_unit_test(test_take_working),
        cmocka_unit_test(test_copy_does_not_allocate_when_warm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
