/*
 * State bytes (POLICY.md §10, docs/state.md): round trips of new, imported
 * and event-built members; the layout pinned against bytes written by hand;
 * every truncation, every single-bit flip, foreign bytes, crafted payloads
 * with a valid checksum, random damage, allocation failures; the recent
 * event ids and the last instant surviving a reload; sizes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "state_support.h"

/* Everything a state can hold: limits of both kinds, every gift ledger,
 * benefits with limits, paid plans, lifecycle, pending points, a debt. */
static const char RICH_POLICY[] =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  window: 12_months\n"
    "  review: anniversary\n"
    "  levels:\n"
    "    - {id: member}\n"
    "    - {id: silver, at: 1000}\n"
    "    - {id: gold, at: 3000}\n"
    "points:\n"
    "  earn:\n"
    "    rate: {amount: 1, points: 1}\n"
    "    cap: {per_day: 100000}\n"
    "  actions:\n"
    "    signup: {points: 100, limit: once}\n"
    "    review: {points: 10, limit: {count: 3, per: month}}\n"
    "    share: {points: 5, limit: {count: 2, per: day}}\n"
    "  pending_days: 7\n"
    "  expiry: {after_months: 12}\n"
    "  redeem: {rate: {points: 100, amount: 1}}\n"
    "  negative_balance: true\n"
    "gifts:\n"
    "  upgrade: {by_tier: {silver: {points: 200}, gold: {points: 500}}}\n"
    "  birthday: {by_tier: {member: {coupons: [B]}}}\n"
    "  surprise:\n"
    "    - {id: s-life, reward: {coupons: [S1]}}\n"
    "    - {id: s-year, reward: {coupons: [S2]}, once: per_year}\n"
    "  spend:\n"
    "    - {id: m-credit, period: calendar_month, at_least: 500, reward: {credit: 5}}\n"
    "    - {id: y-credit, period: calendar_year, at_least: 2000, reward: {credit: 20}}\n"
    "benefits:\n"
    "  - {id: lounge, kind: service, limit: {count: 1, per: year}}\n"
    "  - {id: welcome, kind: gift, limit: once}\n"
    "  - {id: parking, kind: service}\n"
    "paid:\n"
    "  plans:\n"
    "    - {id: annual, fee: 199, months: 12, guarantee: true}\n"
    "    - {id: monthly, fee: 19, months: 1}\n"
    "lifecycle:\n"
    "  - {id: dormant, when: {days_since_last_order_at_least: 365}}\n"
    "  - {id: first, when: {orders_at_least: 1}}\n"
    "  - {id: registered}\n";

#define OK_APPLY(t)                                                                            \
    do {                                                                                       \
        int rc_ = apply(t);                                                                    \
        if (rc_ != LOY_OK)                                                                     \
            fprintf(stderr, "refused: %s: %s\n", loy_error_name(rc_), loy_result_message((t)->r)); \
        assert_int_equal(rc_, LOY_OK);                                                         \
    } while (0)

static void order_at(rig *t, const char *id, const char *at, int64_t amount)
{
    ev(t, LOY_EVENT_ORDER, id, at);
    ev_line(t, "SKU-1", "shirts", amount);
    OK_APPLY(t);
}

static void action_at(rig *t, const char *id, const char *at, const char *kind)
{
    ev(t, LOY_EVENT_ACTION, id, at);
    assert_int_equal(loy_event_set_kind(t->e, kind), LOY_OK);
    OK_APPLY(t);
}

/* Every import field of §11.2. */
static void import_everything(loy_member *m)
{
    assert_int_equal(loy_member_set_birthday(m, "1990-08-15"), LOY_OK);
    assert_int_equal(loy_member_add_tag(m, "employee"), LOY_OK);
    assert_int_equal(loy_member_add_tag(m, "会员"), LOY_OK);
    assert_int_equal(loy_member_import_tier(m, "silver", "2025-09-01"), LOY_OK);
    assert_int_equal(loy_member_import_lot(m, 1200, "2026-12-31"), LOY_OK);
    assert_int_equal(loy_member_import_lot(m, 300, NULL), LOY_OK);
    assert_int_equal(loy_member_import_lot(m, 45, "2026-06-30"), LOY_OK);
    assert_int_equal(loy_member_import_month(m, LOY_METRIC_SPEND, "2025-09", 150000), LOY_OK);
    assert_int_equal(loy_member_import_month(m, LOY_METRIC_SPEND, "2026-01", 20000), LOY_OK);
    assert_int_equal(loy_member_import_month(m, LOY_METRIC_ORDERS, "2025-09", 3), LOY_OK);
    assert_int_equal(loy_member_import_month(m, LOY_METRIC_ORDERS, "2026-01", 1), LOY_OK);
    assert_int_equal(loy_member_import_month(m, LOY_METRIC_GROWTH, "2019-05", 77), LOY_OK);
    assert_int_equal(loy_member_import_month(m, LOY_METRIC_POINTS_EARNED, "2026-01", 200), LOY_OK);
    assert_int_equal(loy_member_import_orders(m, 12), LOY_OK);
    assert_int_equal(loy_member_import_last_order(m, "2026-01-20"), LOY_OK);
    assert_int_equal(loy_member_import_gift(m, "upgrade", "silver"), LOY_OK);
    assert_int_equal(loy_member_import_gift(m, "birthday", "2024"), LOY_OK);
    assert_int_equal(loy_member_import_gift(m, "birthday", "2025"), LOY_OK);
    assert_int_equal(loy_member_import_gift(m, "surprise", "s-life"), LOY_OK);
    assert_int_equal(loy_member_import_gift(m, "surprise", "s-year:2025"), LOY_OK);
    assert_int_equal(loy_member_import_gift(m, "spend", "m-credit:2025-09"), LOY_OK);
    assert_int_equal(loy_member_import_gift(m, "spend", "y-credit:2025"), LOY_OK);
    assert_int_equal(loy_member_import_paid(m, "annual", "2026-08-31"), LOY_OK);
}

/*
 * A year of activity: a signup, two orders a month, a review a month, some
 * shares, a paid plan, benefit uses, a redemption, a return, a profile
 * change and a tick: 46 events.
 */
static void live_a_year(rig *t)
{
    action_at(t, "A-signup", "2025-06-01T09:00:00+08:00", "signup");
    ev(t, LOY_EVENT_JOIN_PAID, "J-1", "2025-06-02T09:00:00+08:00");
    assert_int_equal(loy_event_set_plan(t->e, "annual"), LOY_OK);
    OK_APPLY(t);
    char id[32], at[40];
    for (int k = 0; k < 12; k++) {
        int y = 2025 + (5 + k) / 12, mo = (5 + k) % 12 + 1;
        snprintf(id, sizeof id, "O-%d-a", k);
        snprintf(at, sizeof at, "%04d-%02d-05T12:00:00+08:00", y, mo);
        order_at(t, id, at, 15000 + 1000 * k);
        snprintf(id, sizeof id, "A-rev-%d", k);
        snprintf(at, sizeof at, "%04d-%02d-10T12:00:00+08:00", y, mo);
        action_at(t, id, at, "review");
        snprintf(id, sizeof id, "O-%d-b", k);
        snprintf(at, sizeof at, "%04d-%02d-20T18:30:00.250+08:00", y, mo);
        order_at(t, id, at, 42000 + 500 * k);
    }
    action_at(t, "A-share-1", "2026-05-21T10:00:00+08:00", "share");
    action_at(t, "A-share-2", "2026-05-21T11:00:00+08:00", "share");
    ev(t, LOY_EVENT_USE_BENEFIT, "U-1", "2026-05-22T10:00:00+08:00");
    assert_int_equal(loy_event_set_benefit(t->e, "lounge"), LOY_OK);
    OK_APPLY(t);
    ev(t, LOY_EVENT_USE_BENEFIT, "U-2", "2026-05-22T10:05:00+08:00");
    assert_int_equal(loy_event_set_benefit(t->e, "welcome"), LOY_OK);
    OK_APPLY(t);
    ev(t, LOY_EVENT_REDEEM, "X-1", "2026-05-23T10:00:00+08:00");
    assert_int_equal(loy_event_set_points(t->e, 500), LOY_OK);
    assert_int_equal(loy_event_set_order_amount(t->e, 100000), LOY_OK);
    OK_APPLY(t);
    ev(t, LOY_EVENT_RETURN, "R-1", "2026-05-24T10:00:00+08:00");
    assert_int_equal(loy_event_set_amount(t->e, 20000), LOY_OK);
    assert_int_equal(loy_event_set_original(t->e, "O-11-b", "2026-05-20T18:30:00.250+08:00", 47500, 475),
                     LOY_OK);
    OK_APPLY(t);
    ev(t, LOY_EVENT_PROFILE, "F-1", "2026-05-25T10:00:00+08:00");
    assert_int_equal(loy_event_clear_tags(t->e), LOY_OK);
    assert_int_equal(loy_event_add_tag(t->e, "vip-list"), LOY_OK);
    OK_APPLY(t);
    ev(t, LOY_EVENT_TICK, "T-1", "2026-05-26T00:00:00+08:00");
    OK_APPLY(t);
}

/* ------------------------------------------------------------- round trip */

static void test_round_trip_new_member(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(RICH_POLICY), "M-NEW", "2026-01-01");
    blob b = state_of(t.m);
    assert_round_trip(t.p, &b);
    loy_member *m = loaded(t.p, &b);
    assert_string_equal(loy_member_id(m), "M-NEW");
    assert_string_equal(loy_member_tier(m), "member");
    assert_string_equal(loy_member_stage(m), "registered");
    assert_true(m->fresh);
    /* still fresh: imports remain possible after a reload */
    assert_int_equal(loy_member_import_tier(m, "gold", NULL), LOY_OK);
    print_message("state of a new member: %zu bytes\n", b.len);
    assert_true(b.len <= 80);
    loy_member_free(m);
    free(b.data);
    rig_close(&t);
}

static void test_round_trip_imported(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(RICH_POLICY), "M-IMP", "2024-03-01");
    import_everything(t.m);
    blob b = state_of(t.m);
    assert_round_trip(t.p, &b);

    loy_member *m = loaded(t.p, &b);
    assert_string_equal(loy_member_tier(m), "silver");
    char since[11];
    assert_int_equal(loy_member_tier_since(m, since), LOY_OK);
    assert_string_equal(since, "2025-09-01");
    assert_int_equal(loy_member_points_available(m), 1545);
    assert_int_equal(loy_member_lot_count(m), 3);
    assert_int_equal(m->orders, 12);
    assert_true(m->orders_imported);
    assert_int_equal(m->lifetime[LOY_METRIC_SPEND], 170000);
    assert_int_equal(m->lifetime[LOY_METRIC_GROWTH], 77);
    assert_int_equal(m->month_count, 3);
    assert_int_equal(m->tag_count, 2);
    assert_string_equal(m->tags[1], "会员");
    assert_int_equal(m->birthday, day_of("1990-08-15"));
    assert_int_equal(m->last_order, day_of("2026-01-20"));
    assert_int_equal(m->upgrade_given[1], 1);
    assert_int_equal(m->birthday_year_count, 2);
    assert_int_equal(m->surprise_given_count, 2);
    assert_int_equal(m->spend_given_count, 2);
    assert_int_equal(m->plan, 0);
    assert_int_equal(m->plan_from, LOY_DAY_NONE);
    assert_int_equal(m->plan_until, day_of("2026-08-31"));
    assert_int_equal(m->plan_fees, 19900);
    assert_string_equal(loy_member_stage(m), "first");
    loy_member_free(m);
    free(b.data);
    rig_close(&t);
}

static void test_round_trip_events(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(RICH_POLICY), "M-YEAR", "2025-06-01");
    assert_int_equal(loy_member_set_birthday(t.m, "1990-08-15"), LOY_OK);
    live_a_year(&t);
    blob b = state_of(t.m);
    assert_round_trip(t.p, &b);
    print_message("state of a member after a year and 46 events: %zu bytes\n", b.len);

    /* the reloaded member goes on exactly as the original does */
    rig u;
    memset(&u, 0, sizeof u);
    u.p = t.p;
    u.m = loaded(t.p, &b);
    assert_int_equal(loy_event_new(&u.e, t.p), LOY_OK);
    assert_int_equal(loy_result_new(&u.r, t.p), LOY_OK);
    loy_result_set_options(u.r, LOY_RESULT_TRACE);
    assert_false(u.m->fresh);
    assert_int_equal(loy_member_points_available(u.m), loy_member_points_available(t.m));
    assert_int_equal(loy_member_points_pending(u.m), loy_member_points_pending(t.m));
    assert_string_equal(loy_member_tier(u.m), loy_member_tier(t.m));
    assert_string_equal(loy_member_stage(u.m), loy_member_stage(t.m));
    const char *ats[] = {"2026-05-27T10:00:00+08:00", "2026-06-15T10:00:00+08:00",
                         "2026-09-01T10:00:00+08:00", "2027-06-01T10:00:00+08:00"};
    for (size_t i = 0; i < LOY_ARRAY_LEN(ats); i++) {
        char id[16];
        snprintf(id, sizeof id, "N-%zu", i);
        rig *both[2] = {&t, &u};
        char *text[2];
        for (int k = 0; k < 2; k++) {
            ev(both[k], LOY_EVENT_ORDER, id, ats[i]);
            ev_line(both[k], "SKU-9", "coats", 80000);
            OK_APPLY(both[k]);
            text[k] = node_text(loy_result_root(both[k]->r));
        }
        assert_string_equal(text[0], text[1]);
        free(text[0]);
        free(text[1]);
        blob bt = state_of(t.m);
        assert_state_is(u.m, &bt);
        free(bt.data);
    }
    /* the ids of the year are still remembered after the reload */
    ev(&u, LOY_EVENT_TICK, "O-3-a", "2027-07-01T10:00:00+08:00");
    assert_int_equal(apply(&u), LOY_E_DUPLICATE);
    loy_member_free(u.m);
    loy_event_free(u.e);
    loy_result_free(u.r);
    free(b.data);
    rig_close(&t);
}

/* The writer and the reader find ids by the policy's string numbers
 * (lib/policy/ids.c): one id shared by a tier, an action and a stage still
 * takes one table entry, and bytes and state are those of the fallbacks
 * that compare strings. */
static void test_shared_ids_one_entry(void **state)
{
    LOY_UNUSED(state);
    static const char SHARED[] =
        "loyalty_policy: 1\n"
        "tiers:\n"
        "  qualify_on: spend\n"
        "  levels:\n"
        "    - {id: base}\n"
        "    - {id: gold, at: 3000}\n"
        "points:\n"
        "  earn:\n"
        "    rate: {amount: 1, points: 1}\n"
        "  actions:\n"
        "    gold: {points: 1, limit: once}\n"
        "gifts:\n"
        "  upgrade: {by_tier: {gold: {points: 5}}}\n"
        "lifecycle:\n"
        "  - {id: gold}\n";
    rig t;
    rig_open(&t, load_policy_text(SHARED), "M-SHARED", "2026-01-01");
    assert_non_null(t.p->state_ids.names);
    assert_int_equal(loy_member_import_tier(t.m, "gold", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_member_import_gift(t.m, "upgrade", "gold"), LOY_OK);
    action_at(&t, "A-1", "2026-02-01T10:00:00+08:00", "gold");
    blob b = state_of(t.m);
    assert_round_trip(t.p, &b);
    /* "gold" appears once in the bytes: one table entry */
    size_t found = 0;
    for (size_t i = 0; i + 4 <= b.len; i++)
        found += memcmp(b.data + i, "gold", 4) == 0;
    assert_int_equal(found, 1);
    /* without the numbers, the writer compares strings and the reader
     * scans the policy's ids: the same bytes, the same state */
    loy_state_ids keep = t.p->state_ids;
    t.p->state_ids.names = NULL;
    assert_state_is(t.m, &b);
    assert_round_trip(t.p, &b);
    loy_member *m = loaded(t.p, &b);
    assert_string_equal(loy_member_tier(m), "gold");
    assert_string_equal(loy_member_stage(m), "gold");
    assert_int_equal(m->action_count, 1);
    assert_int_equal(m->upgrade_given[1], 1);
    loy_member_free(m);
    t.p->state_ids = keep;
    m = loaded(t.p, &b);
    assert_string_equal(loy_member_tier(m), "gold");
    assert_string_equal(loy_member_stage(m), "gold");
    assert_int_equal(m->action_count, 1);
    assert_int_equal(m->upgrade_given[1], 1);
    loy_member_free(m);
    free(b.data);
    rig_close(&t);
}

/* The count of months is written after them (a byte kept for it): past
 * 127 months the entries move up for a longer count, and read back whole. */
static void test_many_months(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_text(RICH_POLICY), "M-MONTHS", "2000-01-01");
    for (int n = 127; n <= 131; n += 4) {
        for (int i = 0; i < n; i++) {
            char month[8];
            snprintf(month, sizeof month, "%04d-%02d", 2000 + i / 12, 1 + i % 12);
            assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_SPEND, month, 100 + i), LOY_OK);
        }
        blob b = state_of(t.m);
        assert_round_trip(t.p, &b);
        loy_member *m = loaded(t.p, &b);
        assert_int_equal(m->month_count, (size_t)n);
        assert_int_equal(m->months[n - 1].spend, 100 + n - 1);
        assert_int_equal(m->lifetime[LOY_METRIC_SPEND], t.m->lifetime[LOY_METRIC_SPEND]);
        loy_member_free(m);
        free(b.data);
    }
    rig_close(&t);
}

/* Upgrade gifts of 128 tiers and more: their count takes two bytes, which
 * the writer makes room for after the ids. */
static void test_many_upgrade_gifts(void **state)
{
    LOY_UNUSED(state);
    enum { TIERS = 131 };
    char *yaml = malloc(64 * TIERS + 256);
    assert_non_null(yaml);
    int at = sprintf(yaml, "loyalty_policy: 1\n"
                           "tiers:\n  qualify_on: spend\n  window: 12_months\n  review: anniversary\n"
                           "  levels:\n    - {id: t000}\n");
    for (int i = 1; i < TIERS; i++)
        at += sprintf(yaml + at, "    - {id: t%03d, at: %d}\n", i, 100 * i);
    rig t;
    rig_open(&t, load_policy_text(yaml), "M-TIERS", "2020-01-01");
    free(yaml);
    for (int n = 127; n <= 130; n += 3) {
        for (int i = 0; i < n; i++)
            t.m->upgrade_given[i + 1] = 1;
        blob b = state_of(t.m);
        assert_round_trip(t.p, &b);
        loy_member *m = loaded(t.p, &b);
        size_t given = 0;
        for (size_t i = 0; i < TIERS; i++)
            given += m->upgrade_given[i];
        assert_int_equal(given, (size_t)n);
        assert_int_equal(m->upgrade_given[0], 0);
        assert_int_equal(m->upgrade_given[n], 1);
        loy_member_free(m);
        free(b.data);
    }
    rig_close(&t);
}

static void test_sizes(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_file("apparel.yaml"), "M-0001", "2025-06-01");
    blob fresh = state_of(t.m);
    /* a year under the apparel policy: 2 orders a month, a review a month,
     * 36 events in all */
    char id[32], at[40];
    for (int k = 0; k < 12; k++) {
        int y = 2025 + (5 + k) / 12, mo = (5 + k) % 12 + 1;
        snprintf(id, sizeof id, "O-%d-a", k);
        snprintf(at, sizeof at, "%04d-%02d-05T12:00:00+08:00", y, mo);
        order_at(&t, id, at, 15000 + 1000 * k);
        snprintf(id, sizeof id, "A-rev-%d", k);
        snprintf(at, sizeof at, "%04d-%02d-10T12:00:00+08:00", y, mo);
        action_at(&t, id, at, "review");
        snprintf(id, sizeof id, "O-%d-b", k);
        snprintf(at, sizeof at, "%04d-%02d-20T18:30:00+08:00", y, mo);
        order_at(&t, id, at, 42000 + 500 * k);
    }
    blob year = state_of(t.m);
    print_message("apparel: new member %zu bytes, after a year of 36 events %zu bytes\n", fresh.len,
                  year.len);
    /* The 36 remembered ids take 8 bytes each, 288 bytes; the rest (tier,
     * 13 lots, 12 months, counters, table of ids, header) stays below 300. */
    assert_true(fresh.len <= 80);
    assert_int_equal(t.m->recent_count, 36);
    assert_true(year.len - 8 * 36 <= 300);
    assert_round_trip(t.p, &year);
    free(fresh.data);
    free(year.data);
    rig_close(&t);
}

/* --------------------------------------------------------- the layout pinned */

static craft minimal_payload_debt(uint64_t debt);

static craft minimal_payload(void)
{
    return minimal_payload_debt(0);
}

static craft minimal_payload_debt(uint64_t debt)
{
    craft c = {.len = 0};
    cr_u(&c, 1);                          /* flags: fresh */
    cr_u(&c, 1);                          /* string table: one id */
    cr_str(&c, "member");
    cr_str(&c, "M-1");                    /* member id */
    cr_s(&c, day_of("2026-01-01"));       /* joined, days since 1970-01-01 */
    cr_u(&c, 0);                          /* birthday: none */
    cr_u(&c, 0);                          /* tags */
    cr_u(&c, 0);                          /* tier: string 0 */
    cr_s(&c, 0);                          /* tier_since = joined */
    cr_u(&c, 0);                          /* last review: none */
    cr_u(&c, debt);                       /* debt */
    cr_u(&c, 0);                          /* lots */
    cr_u(&c, 0);                          /* months */
    for (int i = 0; i < 4; i++)
        cr_s(&c, 0);                      /* lifetime totals */
    cr_u(&c, 0);                          /* orders */
    cr_u(&c, 0);                          /* last order: none */
    cr_u(&c, 0);                          /* action counters */
    cr_u(&c, 0);                          /* benefit counters */
    cr_u(&c, 0);                          /* upgrade gifts */
    cr_u(&c, 0);                          /* birthday gifts */
    cr_u(&c, 0);                          /* surprise gifts */
    cr_u(&c, 0);                          /* spend gifts */
    cr_u(&c, 0);                          /* cap day: none */
    cr_u(&c, 0);                          /* day's points */
    cr_u(&c, 0);                          /* recent ids */
    return c;
}

static void test_layout_pinned(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("minimal.yaml");
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2026-01-01"), LOY_OK);
    craft c = minimal_payload();
    blob want = cr_seal(&c);
    assert_state_is(m, &want);
    /* 39 payload bytes: 3 for the joining date (day 20454), 7 for the table,
     * 4 for the id, one for each of the 25 other fields */
    assert_int_equal(want.len, 12 + 39 + 8);
    loy_member_free(m);
    free(want.data);
    loy_policy_free(p);
}

/* Varints of every length, read whole or cut short: values up to
 * INT64_MAX load and write back the same bytes; one past is malformed; a
 * varint the payload's end cuts is malformed. */
static void test_varint_lengths(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("minimal.yaml");
    for (unsigned bits = 0; bits <= 64; bits++) {
        uint64_t v = bits == 64 ? (uint64_t)INT64_MAX : bits ? (UINT64_C(1) << (bits - 1)) : 0;
        for (int delta = -1; delta <= 1; delta++) {
            uint64_t debt = v + (uint64_t)(int64_t)delta;
            if ((delta < 0 && v == 0) || (delta > 0 && v == (uint64_t)INT64_MAX && bits < 64))
                continue;
            craft c = minimal_payload_debt(debt);
            blob b = cr_seal(&c);
            loy_member *m = NULL;
            assert_int_equal(loy_member_create(&m, p), LOY_OK);
            int rc = loy_member_load(m, b.data, b.len);
            if (debt > (uint64_t)INT64_MAX) {
                assert_int_equal(rc, LOY_E_STATE_CHECKSUM);
                assert_non_null(strstr(loy_member_error(m), "exceeds the int64 range"));
            } else {
                assert_int_equal(rc, LOY_OK);
                assert_true(m->debt == (int64_t)debt);
                assert_state_is(m, &b);
            }
            loy_member_free(m);
            free(b.data);
        }
    }
    /* a varint the payload ends inside, at every length: the recent-id
     * count is the last field, so its continuation bytes meet the end */
    for (size_t extra = 1; extra <= 10; extra++) {
        craft c = minimal_payload();
        c.len--;                                    /* drop the count of recent ids */
        for (size_t i = 0; i < extra; i++)
            cr_byte(&c, 0x80);
        blob b = cr_seal(&c);
        loy_member *m = NULL;
        assert_int_equal(loy_member_create(&m, p), LOY_OK);
        assert_int_equal(loy_member_load(m, b.data, b.len), LOY_E_STATE_CHECKSUM);
        const char *why = loy_member_error(m);
        assert_true(strstr(why, "ends inside") || strstr(why, "longer than 64 bits"));
        loy_member_free(m);
        free(b.data);
    }
    loy_policy_free(p);
}

/* ------------------------------------------------------------ damage */

static blob rich_state(loy_policy **p)
{
    rig t;
    rig_open(&t, load_policy_text(RICH_POLICY), "M-DMG", "2025-06-01");
    import_everything(t.m);
    order_at(&t, "O-1", "2026-02-01T10:00:00+08:00", 50000);
    action_at(&t, "A-1", "2026-02-02T10:00:00+08:00", "review");
    blob b = state_of(t.m);
    *p = t.p;
    t.p = NULL;
    loy_result_free(t.r);
    loy_event_free(t.e);
    loy_member_free(t.m);
    return b;
}

/* A handle holding some other state, to see that refusals leave it alone. */
static loy_member *bystander(loy_policy *p)
{
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "BYSTANDER", "2020-02-02"), LOY_OK);
    assert_int_equal(loy_member_import_lot(m, 42, NULL), LOY_OK);
    return m;
}

/* The message of the last refused load (the next call on the member clears it). */
static char last_error[256];

static void expect_load_refused(loy_member *m, const void *data, size_t len, int code)
{
    blob before = state_of(m);
    int rc = loy_member_load(m, data, len);
    if (rc != code)
        fprintf(stderr, "len %zu: got %s (%s), want %s\n", len, loy_error_name(rc), loy_member_error(m),
                loy_error_name(code));
    assert_int_equal(rc, code);
    snprintf(last_error, sizeof last_error, "%s", loy_member_error(m));
    assert_true(last_error[0] != '\0');
    assert_state_is(m, &before);
    free(before.data);
}

static void test_every_truncation(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p;
    blob b = rich_state(&p);
    loy_member *m = bystander(p);
    for (size_t len = 0; len < b.len; len++) {
        /* a copy of exactly len bytes, so ASan sees any read past it */
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, b.data, len);
        expect_load_refused(m, cut, len, LOY_E_STATE_TRUNCATED);
        free(cut);
    }
    assert_int_equal(loy_member_load(m, b.data, b.len), LOY_OK);
    loy_member_free(m);
    free(b.data);
    loy_policy_free(p);
}

static void test_every_bit_flip(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p;
    blob b = rich_state(&p);
    loy_member *m = bystander(p);
    for (size_t i = 0; i < b.len; i++)
        for (int bit = 0; bit < 8; bit++) {
            b.data[i] ^= (uint8_t)(1u << bit);
            /* magic and version: foreign or another version; the rest fails its checks */
            expect_load_refused(m, b.data, b.len, i < 4 ? LOY_E_STATE_VERSION : LOY_E_STATE_CHECKSUM);
            b.data[i] ^= (uint8_t)(1u << bit);
        }
    loy_member_free(m);
    free(b.data);
    loy_policy_free(p);
}

static void test_foreign_bytes(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p;
    blob b = rich_state(&p);
    loy_member *m = bystander(p);
    const char *json = "{\"member\": {\"id\": \"M-1\", \"joined\": \"2026-01-01\"}}";
    expect_load_refused(m, json, strlen(json), LOY_E_STATE_VERSION);
    expect_load_refused(m, "LOX", 3, LOY_E_STATE_VERSION);
    expect_load_refused(m, "L", 1, LOY_E_STATE_TRUNCATED);     /* could still be ours */
    expect_load_refused(m, "", 0, LOY_E_STATE_TRUNCATED);
    expect_load_refused(m, NULL, 0, LOY_E_STATE_TRUNCATED);
    uint8_t zeros[64] = {0};
    expect_load_refused(m, zeros, sizeof zeros, LOY_E_STATE_VERSION);
    /* another version of the format, or trailing bytes after the state */
    blob v2 = blob_of(b.data, b.len);
    v2.data[3] = 2;
    reseal(&v2);
    expect_load_refused(m, v2.data, v2.len, LOY_E_STATE_VERSION);
    assert_non_null(strstr(last_error, "version 2"));
    blob longer = {calloc(1, b.len + 1), b.len + 1};
    memcpy(longer.data, b.data, b.len);
    expect_load_refused(m, longer.data, longer.len, LOY_E_STATE_CHECKSUM);
    /* two states back to back are not one state */
    uint8_t *twice = malloc(2 * b.len);
    memcpy(twice, b.data, b.len);
    memcpy(twice + b.len, b.data, b.len);
    expect_load_refused(m, twice, 2 * b.len, LOY_E_STATE_CHECKSUM);
    free(twice);
    assert_int_equal(loy_member_load(m, NULL, 5), LOY_E_INVALID_ARG);
    assert_int_equal(loy_member_load(NULL, b.data, b.len), LOY_E_INVALID_ARG);
    free(v2.data);
    free(longer.data);
    loy_member_free(m);
    free(b.data);
    loy_policy_free(p);
}

/* --------------------------------------------------------- crafted payloads */

/*
 * Payload variants under minimal.yaml, each sealed with a valid checksum.
 * `edit` is applied at the named field; the rest is the minimal payload.
 */
typedef enum craft_case {
    C_OK,
    C_HUGE_TABLE,
    C_TABLE_BAD_UTF8,
    C_TABLE_NUL,
    C_TABLE_EMPTY_STRING,
    C_STRING_PAST_END,
    C_TIER_REF_OUT,
    C_TIER_UNKNOWN,
    C_UNKNOWN_FLAG,
    C_LONG_VARINT,
    C_JOINED_OUT_OF_RANGE,
    C_HUGE_TAGS,
    C_LOT_ZERO,
    C_LOTS_DISORDER,
    C_LOTS_SAME_RANK,
    C_PENDING_NO_ORDER,
    C_LOT_FLAGS,
    C_LOTS_OVERFLOW,
    C_MONTH_MASK_ZERO,
    C_MONTH_PAST_9999,
    C_MONTH_ZERO_FIGURE,
    C_COUNTER_BAD_LIMIT,
    C_SPEND_BAD_KIND,
    C_BIRTHDAY_YEAR_PAST,
    C_LAST_EVENT_SECONDS,
    C_TOO_MANY_RECENT,
    C_TRAILING,
    C_TRUNCATED_PAYLOAD,
    C_NEGATIVE_DEBT,
    C_COUNT
} craft_case;

static blob crafted(craft_case k)
{
    craft c = {.len = 0};
    unsigned flags = 1;
    if (k == C_UNKNOWN_FLAG)
        flags |= 0x40;
    if (k == C_LAST_EVENT_SECONDS)
        flags |= 2;
    if (k == C_LONG_VARINT) {
        for (int i = 0; i < 11; i++)
            cr_byte(&c, 0xFF);
        cr_byte(&c, 0x01);
    } else {
        cr_u(&c, flags);
    }
    if (k == C_HUGE_TABLE) {
        cr_u(&c, (uint64_t)1 << 40);
    } else if (k == C_TIER_UNKNOWN) {
        cr_u(&c, 1);
        cr_str(&c, "diamond");
    } else {
        cr_u(&c, k == C_TABLE_EMPTY_STRING ? 2 : 1);
        if (k == C_TABLE_BAD_UTF8)
            cr_str(&c, "memb\xff");
        else if (k == C_TABLE_NUL)
            cr_raw(&c, "\x06mem\0er", 7);
        else if (k == C_STRING_PAST_END)
            cr_raw(&c, "\x7fmember", 7);
        else
            cr_str(&c, "member");
        if (k == C_TABLE_EMPTY_STRING)
            cr_u(&c, 0);
    }
    cr_str(&c, "M-1");
    cr_s(&c, k == C_JOINED_OUT_OF_RANGE ? 4000000 : day_of("2026-01-01"));
    cr_u(&c, 0);
    cr_u(&c, k == C_HUGE_TAGS ? 1000000 : 0);
    cr_u(&c, k == C_TIER_REF_OUT ? 3 : 0);
    cr_s(&c, 0);
    cr_u(&c, 0);
    if (k == C_NEGATIVE_DEBT)
        cr_u(&c, (uint64_t)1 << 63);
    else
        cr_u(&c, 0);
    switch (k) {
    case C_LOT_ZERO:
        cr_u(&c, 1);
        cr_byte(&c, 0);
        cr_u(&c, 0);
        cr_s(&c, 0);
        break;
    case C_LOTS_DISORDER:       /* the never-expiring lot before a dated one */
        cr_u(&c, 2);
        cr_byte(&c, 0);
        cr_u(&c, 5);
        cr_s(&c, 0);
        cr_byte(&c, 2);
        cr_u(&c, 5);
        cr_s(&c, 0);
        cr_s(&c, 30);
        break;
    case C_LOTS_SAME_RANK:
        cr_u(&c, 2);
        cr_byte(&c, 2 | 8);
        cr_u(&c, 1);
        cr_u(&c, 5);
        cr_s(&c, 0);
        cr_s(&c, 30);
        cr_byte(&c, 2 | 8);
        cr_u(&c, 1);
        cr_u(&c, 5);
        cr_s(&c, 0);
        cr_s(&c, 30);
        break;
    case C_PENDING_NO_ORDER:
        cr_u(&c, 1);
        cr_byte(&c, 1);
        cr_u(&c, 5);
        cr_s(&c, 0);
        cr_s(&c, 7);
        break;
    case C_LOT_FLAGS:
        cr_u(&c, 1);
        cr_byte(&c, 0x30);
        cr_u(&c, 5);
        cr_s(&c, 0);
        break;
    case C_LOTS_OVERFLOW:
        cr_u(&c, 2);
        cr_byte(&c, 2);
        cr_u(&c, (uint64_t)INT64_MAX);
        cr_s(&c, 0);
        cr_s(&c, 30);
        cr_byte(&c, 0);
        cr_u(&c, 1);
        cr_s(&c, 0);
        break;
    default:
        cr_u(&c, 0);
    }
    switch (k) {
    case C_MONTH_MASK_ZERO:
        cr_u(&c, 1);
        cr_s(&c, 0);
        cr_byte(&c, 0);
        break;
    case C_MONTH_PAST_9999:
        cr_u(&c, 2);
        cr_s(&c, 0);
        cr_byte(&c, 1);
        cr_u(&c, 5);
        cr_byte(&c, 0xF1);      /* a gap of 15 months or more, then the rest of it */
        cr_u(&c, 10000 * 12);
        cr_u(&c, 5);
        break;
    case C_MONTH_ZERO_FIGURE:
        cr_u(&c, 1);
        cr_s(&c, 0);
        cr_byte(&c, 1);
        cr_u(&c, 0);
        break;
    default:
        cr_u(&c, 0);
    }
    for (int i = 0; i < 4; i++)
        cr_s(&c, 0);
    cr_u(&c, 0);
    cr_u(&c, 0);
    if (k == C_COUNTER_BAD_LIMIT) {
        cr_u(&c, 1);
        cr_u(&c, 0);
        cr_byte(&c, 3);
        cr_u(&c, 1);
    } else {
        cr_u(&c, 0);
    }
    cr_u(&c, 0);
    cr_u(&c, 0);
    if (k == C_BIRTHDAY_YEAR_PAST) {
        cr_u(&c, 2);
        cr_u(&c, 9000);
        cr_u(&c, 1500);
    } else {
        cr_u(&c, 0);
    }
    cr_u(&c, 0);
    if (k == C_SPEND_BAD_KIND) {
        cr_u(&c, 1);
        cr_u(&c, 0);
        cr_byte(&c, 3);
        cr_u(&c, 2026);
    } else {
        cr_u(&c, 0);
    }
    if (k == C_LAST_EVENT_SECONDS) {
        cr_s(&c, 0);
        cr_u(&c, 90000);
        cr_s(&c, 480);
        cr_s(&c, 0);
    }
    cr_u(&c, 0);
    cr_u(&c, 0);
    if (k == C_TOO_MANY_RECENT) {
        cr_u(&c, 300);
        for (int i = 0; i < 300 * 8; i++)
            cr_byte(&c, (unsigned)i & 0xFF);
    } else if (k != C_TRUNCATED_PAYLOAD) {
        cr_u(&c, 0);
    }
    if (k == C_TRAILING)
        cr_byte(&c, 0);
    return cr_seal(&c);
}

static void test_crafted_payloads(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("minimal.yaml");
    loy_member *m = bystander(p);
    blob ok = crafted(C_OK);
    assert_int_equal(loy_member_load(m, ok.data, ok.len), LOY_OK);
    assert_string_equal(loy_member_id(m), "M-1");
    free(ok.data);
    loy_member_free(m);
    m = bystander(p);
    for (int k = C_OK + 1; k < C_COUNT; k++) {
        blob b = crafted((craft_case)k);
        int want = k == C_TIER_UNKNOWN ? LOY_E_STATE_POLICY : LOY_E_STATE_CHECKSUM;
        expect_load_refused(m, b.data, b.len, want);
        if (getenv("LOY_TEST_VERBOSE"))
            print_message("crafted case %d: %s\n", k, last_error);
        if (want == LOY_E_STATE_CHECKSUM)
            assert_non_null(strstr(last_error, "malformed"));
        else
            assert_string_equal(last_error, "state names tier 'diamond', which this policy lacks");
        free(b.data);
    }
    loy_member_free(m);
    loy_policy_free(p);
}

/* Random damage to the payload, resealed so that only the parser stands
 * between it and the member: never a crash, never a read out of bounds,
 * and whatever loads writes itself back and loads again. */
static void test_random_damage(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p;
    blob good = rich_state(&p);
    loy_member *m = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    uint64_t seed = 12345;
    size_t loads = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t extra = lcg(&seed) % 3;
        blob b = {malloc(good.len + extra), good.len};
        memcpy(b.data, good.data, good.len);
        int edits = 1 + (int)(lcg(&seed) % 4);
        for (int e = 0; e < edits; e++) {
            size_t payload = b.len - 20;
            size_t at = 12 + lcg(&seed) % payload;
            switch (lcg(&seed) % 4) {
            case 0: b.data[at] = (uint8_t)lcg(&seed); break;
            case 1: b.data[at] ^= (uint8_t)(1u << (lcg(&seed) % 8)); break;
            case 2:     /* drop a byte */
                memmove(b.data + at, b.data + at + 1, b.len - at - 1);
                b.len--;
                break;
            default:    /* insert one, when there is room */
                if (extra) {
                    memmove(b.data + at + 1, b.data + at, b.len - at);
                    b.data[at] = (uint8_t)lcg(&seed);
                    b.len++;
                    extra--;
                }
            }
        }
        reseal(&b);
        int rc = loy_member_load(m, b.data, b.len);
        assert_true(rc == LOY_OK || rc == LOY_E_STATE_CHECKSUM || rc == LOY_E_STATE_POLICY);
        if (rc == LOY_OK) {
            loads++;
            blob again = state_of(m);
            assert_round_trip(p, &again);
            free(again.data);
        }
        free(b.data);
    }
    print_message("random damage: %zu of 20000 damaged payloads still made a valid state\n", loads);
    loy_member_free(m);
    free(good.data);
    loy_policy_free(p);
}

/* -------------------------------------------------------- out of memory */

typedef struct oom_budget {
    long budget;                /* allocations left; < 0: unlimited */
} oom_budget;

static void *fail_malloc(void *ctx, size_t n)
{
    oom_budget *f = ctx;
    if (f->budget == 0)
        return NULL;
    if (f->budget > 0)
        f->budget--;
    return malloc(n);
}

static void *fail_realloc(void *ctx, void *ptr, size_t n)
{
    oom_budget *f = ctx;
    if (f->budget == 0)
        return NULL;
    if (f->budget > 0)
        f->budget--;
    return realloc(ptr, n);
}

static void fail_free(void *ctx, void *ptr)
{
    LOY_UNUSED(ctx);
    free(ptr);
}

static void test_out_of_memory(void **state)
{
    LOY_UNUSED(state);
    oom_budget f = {-1};
    loy_allocator a = {fail_malloc, fail_realloc, fail_free, &f};
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer_ex(&p, RICH_POLICY, strlen(RICH_POLICY), NULL, NULL, &a), LOY_OK);
    loy_member *src = NULL;
    assert_int_equal(loy_member_new(&src, p, "M-OOM", "2024-03-01"), LOY_OK);
    import_everything(src);
    blob b = state_of(src);

    /* load: every allocation failing in turn */
    int failures = 0;
    for (long budget = 0;; budget++) {
        loy_member *m = bystander(p);
        blob before = state_of(m);
        f.budget = budget;
        int rc = loy_member_load(m, b.data, b.len);
        f.budget = -1;
        if (rc == LOY_OK) {
            assert_state_is(m, &b);
            free(before.data);
            loy_member_free(m);
            break;
        }
        assert_int_equal(rc, LOY_E_NOMEM);
        assert_state_is(m, &before);
        failures++;
        free(before.data);
        loy_member_free(m);
    }
    assert_true(failures > 3);

    /* to_bytes on a handle that has no buffer yet */
    for (long budget = 0;; budget++) {
        loy_member *m = NULL;
        assert_int_equal(loy_member_create(&m, p), LOY_OK);
        assert_int_equal(loy_member_load(m, b.data, b.len), LOY_OK);
        loy_free(&p->alloc, m->bytes);
        m->bytes = NULL;
        m->bytes_cap = 0;
        const void *data;
        size_t len;
        f.budget = budget;
        int rc = loy_member_to_bytes(m, &data, &len);
        f.budget = -1;
        if (rc == LOY_OK) {
            assert_int_equal(len, b.len);
            assert_memory_equal(data, b.data, len);
            loy_member_free(m);
            break;
        }
        assert_int_equal(rc, LOY_E_NOMEM);
        loy_member_free(m);
    }

    /* imports: a refusal for memory changes nothing either */
    for (long budget = 0;; budget++) {
        loy_member *m = NULL;
        assert_int_equal(loy_member_new(&m, p, "M-OOM2", "2024-03-01"), LOY_OK);
        int rc = LOY_OK;
        for (int call = 0; call < 3 && rc == LOY_OK; call++) {
            blob before = state_of(m);
            f.budget = budget;
            rc = call == 0 ? loy_member_add_tag(m, "employee")
               : call == 1 ? loy_member_import_month(m, LOY_METRIC_SPEND, "2025-01", 5)
                           : loy_member_import_gift(m, "surprise", "s-year:2025");
            f.budget = -1;
            if (rc != LOY_OK) {
                assert_int_equal(rc, LOY_E_NOMEM);
                assert_state_is(m, &before);
            }
            free(before.data);
        }
        loy_member_free(m);
        if (rc == LOY_OK)
            break;
    }
    free(b.data);
    loy_member_free(src);
    loy_policy_free(p);
}

/* Long ids and tags: the writer reserves room for the fixed fields up
 * front, makes room for each string as it comes, and moves the body once
 * when the string table outgrows the room left before it. The bytes are
 * still exactly the layout, and writing them when every allocation fails
 * in turn reports the failure and then succeeds. */
static void long_id(char *out, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(c + (char)(i % 7));
    out[n] = '\0';
}

static void test_layout_long_strings(void **state)
{
    LOY_UNUSED(state);
    char tier_a[301], tier_b[301], gift[301], id[301], tag[3][901];
    long_id(tier_a, 300, 'a');
    long_id(tier_b, 300, 'k');
    long_id(gift, 300, 'p');
    long_id(id, 300, 'A');
    for (int i = 0; i < 3; i++)
        long_id(tag[i], 900, (char)('H' + i));
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "loyalty_policy: 1\n"
             "tiers:\n"
             "  qualify_on: spend\n"
             "  window: 12_months\n"
             "  levels:\n"
             "    - {id: %s}\n"
             "    - {id: %s, at: 1000}\n"
             "points:\n"
             "  earn:\n"
             "    rate: {amount: 1, points: 1}\n"
             "gifts:\n"
             "  upgrade: {by_tier: {%s: {points: 200}}}\n"
             "  surprise:\n"
             "    - {id: %s, reward: {coupons: [S1]}}\n",
             tier_a, tier_b, tier_b, gift);
    oom_budget f = {-1};
    loy_allocator a = {fail_malloc, fail_realloc, fail_free, &f};
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer_ex(&p, yaml, strlen(yaml), NULL, NULL, &a), LOY_OK);
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, id, "2026-01-01"), LOY_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(loy_member_add_tag(m, tag[i]), LOY_OK);
    assert_int_equal(loy_member_import_tier(m, tier_b, "2026-01-01"), LOY_OK);
    assert_int_equal(loy_member_import_gift(m, "upgrade", tier_b), LOY_OK);
    assert_int_equal(loy_member_import_gift(m, "surprise", gift), LOY_OK);

    craft *c = calloc(1, sizeof *c);
    assert_non_null(c);
    cr_u(c, 1);                           /* flags: fresh */
    cr_u(c, 2);                           /* string table: the tier, the gift */
    cr_str(c, tier_b);
    cr_str(c, gift);
    cr_str(c, id);
    cr_s(c, day_of("2026-01-01"));
    cr_u(c, 0);                           /* birthday: none */
    cr_u(c, 3);
    for (int i = 0; i < 3; i++)
        cr_str(c, tag[i]);
    cr_u(c, 0);                           /* tier: string 0 */
    cr_s(c, 0);                           /* tier_since = joined */
    cr_u(c, 0);                           /* last review */
    cr_u(c, 0);                           /* debt */
    cr_u(c, 0);                           /* lots */
    cr_u(c, 0);                           /* months */
    for (int i = 0; i < 4; i++)
        cr_s(c, 0);
    cr_u(c, 0);                           /* orders */
    cr_u(c, 0);                           /* last order */
    cr_u(c, 0);                           /* action counters */
    cr_u(c, 0);                           /* benefit counters */
    cr_u(c, 1);                           /* upgrade gifts: the tier */
    cr_u(c, 0);
    cr_u(c, 0);                           /* birthday gifts */
    cr_u(c, 1);                           /* surprise gifts: the gift, once in a lifetime */
    cr_u(c, 1);
    cr_u(c, 0);
    cr_u(c, 0);                           /* spend gifts */
    cr_u(c, 0);                           /* cap day */
    cr_u(c, 0);                           /* day's points */
    cr_u(c, 0);                           /* recent ids */
    blob want = cr_seal(c);
    free(c);
    assert_state_is(m, &want);
    assert_round_trip(p, &want);

    /* a handle with no buffer yet: every allocation failing in turn */
    int failures = 0;
    for (long budget = 0;; budget++) {
        loy_free(&p->alloc, m->bytes);
        m->bytes = NULL;
        m->bytes_cap = 0;
        const void *data;
        size_t len;
        f.budget = budget;
        int rc = loy_member_to_bytes(m, &data, &len);
        f.budget = -1;
        if (rc == LOY_OK) {
            assert_int_equal(len, want.len);
            assert_memory_equal(data, want.data, len);
            break;
        }
        assert_int_equal(rc, LOY_E_NOMEM);
        failures++;
    }
    assert_true(failures >= 2);
    loy_member_free(m);
    free(want.data);
    loy_policy_free(p);
}

/* Table ids are found by their first 8 bytes and, up to 16, their last 8:
 * ids of 1 to 24 bytes that differ from the policy's only in their last
 * byte, or their first, are still ids the policy lacks. */
static void test_ids_differ_at_the_ends(void **state)
{
    LOY_UNUSED(state);
    for (size_t len = 1; len <= 24; len++) {
        for (int where = 0; where < 2; where++) {
            char mine[32], other[32];
            for (size_t i = 0; i < len; i++)
                mine[i] = (char)('a' + (char)(i % 26));
            mine[len] = '\0';
            memcpy(other, mine, len + 1);
            other[where ? 0 : len - 1] = 'Z';
            char yaml[2][512];
            const char *ids[2] = {mine, other};
            loy_policy *p[2];
            for (int k = 0; k < 2; k++) {
                snprintf(yaml[k], sizeof yaml[k],
                         "loyalty_policy: 1\n"
                         "tiers:\n"
                         "  qualify_on: spend\n"
                         "  levels:\n"
                         "    - {id: base-tier}\n"
                         "    - {id: \"%s\", at: 3000}\n"
                         "points:\n"
                         "  earn:\n"
                         "    rate: {amount: 1, points: 1}\n",
                         ids[k]);
                p[k] = load_policy_text(yaml[k]);
            }
            rig t;
            rig_open(&t, p[0], "M-ENDS", "2026-01-01");
            assert_int_equal(loy_member_import_tier(t.m, mine, "2026-01-01"), LOY_OK);
            blob b = state_of(t.m);
            assert_round_trip(p[0], &b);
            loy_member *m = NULL;
            assert_int_equal(loy_member_create(&m, p[1]), LOY_OK);
            assert_int_equal(loy_member_load(m, b.data, b.len), LOY_E_STATE_POLICY);
            assert_non_null(strstr(loy_member_error(m), "lacks"));
            loy_member_free(m);
            free(b.data);
            rig_close(&t);
            loy_policy_free(p[1]);
        }
    }
}

/* ------------------------------------------- fast entries against checked */

/* lib/state/codec.h (internal): loy_member_load without its fast paths. */
int loy_state_load_checked(loy_member *m, const void *data, size_t len);

typedef struct twin_loads {
    const loy_policy *p;
    loy_member *fast, *checked;
    size_t tried, loaded;
} twin_loads;

/* The same bytes, in a buffer of exactly their length (ASan sees any read
 * past it), through both entries: the same code, the same message and the
 * same state after, whether loaded or refused. */
static void twin_load(twin_loads *w, const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, data, len);
    int rf = loy_member_load(w->fast, copy, len);
    int rc = loy_state_load_checked(w->checked, copy, len);
    if (rf != rc || strcmp(loy_member_error(w->fast), loy_member_error(w->checked)) != 0)
        fprintf(stderr, "len %zu: fast %s (%s), checked %s (%s)\n", len, loy_error_name(rf),
                loy_member_error(w->fast), loy_error_name(rc), loy_member_error(w->checked));
    assert_int_equal(rf, rc);
    assert_string_equal(loy_member_error(w->fast), loy_member_error(w->checked));
    blob a = state_of(w->fast), b = state_of(w->checked);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_int_equal(w->fast->next_seq, w->checked->next_seq);
    free(a.data);
    free(b.data);
    free(copy);
    w->tried++;
    w->loaded += rf == LOY_OK;
}

/* A payload edited, resealed so that the parsers see it. */
static void twin_resealed(twin_loads *w, const blob *good, size_t at, size_t drop, const uint8_t *put,
                          size_t put_len)
{
    blob b = {malloc(good->len + put_len), 0};
    assert_non_null(b.data);
    memcpy(b.data, good->data, at);
    if (put_len)
        memcpy(b.data + at, put, put_len);
    memcpy(b.data + at + put_len, good->data + at + drop, good->len - at - drop);
    b.len = good->len - drop + put_len;
    reseal(&b);
    twin_load(w, b.data, b.len);
    free(b.data);
}

/* Every cut of the payload, every byte of it replaced by values that
 * end, continue or stretch a varint, bytes dropped and inserted, and
 * random damage. */
static void twin_damage(const loy_policy *p, const blob *good, uint64_t seed)
{
    twin_loads w = {p, NULL, NULL, 0, 0};
    assert_int_equal(loy_member_create(&w.fast, p), LOY_OK);
    assert_int_equal(loy_member_create(&w.checked, p), LOY_OK);
    twin_load(&w, good->data, good->len);
    assert_int_equal(w.loaded, 1);
    size_t payload_end = good->len - 8;
    for (size_t at = 12; at <= payload_end; at++)
        twin_resealed(&w, good, at, payload_end - at, NULL, 0);
    static const uint8_t values[] = {0x00, 0x01, 0x02, 0x0F, 0x10, 0x1F, 0x7F, 0x80, 0x81, 0xFE, 0xFF};
    for (size_t at = 12; at < payload_end; at++) {
        uint8_t was = good->data[at];
        uint8_t more[] = {(uint8_t)(was ^ 0x80), (uint8_t)(was + 1), (uint8_t)(was - 1)};
        for (size_t k = 0; k < sizeof values; k++)
            twin_resealed(&w, good, at, 1, &values[k], 1);
        for (size_t k = 0; k < sizeof more; k++)
            twin_resealed(&w, good, at, 1, &more[k], 1);
        twin_resealed(&w, good, at, 1, NULL, 0);
        uint8_t two[] = {0x80, was};
        twin_resealed(&w, good, at, 0, two, 2);
    }
    for (int iter = 0; iter < 3000; iter++) {
        blob b = {malloc(good->len + 4), good->len};
        assert_non_null(b.data);
        memcpy(b.data, good->data, good->len);
        int edits = 1 + (int)(lcg(&seed) % 3);
        for (int e = 0; e < edits; e++) {
            size_t at = 12 + lcg(&seed) % (b.len - 20);
            if (lcg(&seed) % 2)
                b.data[at] = (uint8_t)lcg(&seed);
            else
                b.data[at] ^= (uint8_t)(1u << (lcg(&seed) % 8));
        }
        reseal(&b);
        twin_load(&w, b.data, b.len);
        free(b.data);
    }
    print_message("fast against checked: %zu loads, %zu of them valid\n", w.tried, w.loaded);
    loy_member_free(w.fast);
    loy_member_free(w.checked);
}

static void test_fast_against_checked(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p;
    blob b = rich_state(&p);
    twin_damage(p, &b, 1);
    free(b.data);
    loy_policy_free(p);

    /* a year of events: pending lots with order ids, expiring lots, counters */
    rig t;
    rig_open(&t, load_policy_text(RICH_POLICY), "M-YEAR", "2025-06-01");
    live_a_year(&t);
    b = state_of(t.m);
    twin_damage(t.p, &b, 2);
    free(b.data);
    rig_close(&t);

    /* lots out of credit order (ranks), points and figures past 3-byte
     * varints, order ids longer than 8 and 16 bytes */
    rig_open(&t, load_policy_text(RICH_POLICY), "M-BIG", "2025-06-01");
    assert_int_equal(loy_member_import_lot(t.m, 5000000, "2027-01-31"), LOY_OK);
    assert_int_equal(loy_member_import_lot(t.m, 7, "2026-09-30"), LOY_OK);
    assert_int_equal(loy_member_import_lot(t.m, 3000000000, NULL), LOY_OK);
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_SPEND, "2025-07", 987654321), LOY_OK);
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_ORDERS, "2025-07", 2), LOY_OK);
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_SPEND, "2025-08", 2097151), LOY_OK);
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_SPEND, "2025-09", 2097152), LOY_OK);
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_GROWTH, "2019-01", 16383), LOY_OK);
    assert_int_equal(loy_member_import_month(t.m, LOY_METRIC_POINTS_EARNED, "2019-01", 16384), LOY_OK);
    order_at(&t, "O-123456789", "2026-02-01T10:00:00+08:00", 50000);
    order_at(&t, "O-1234567890123456789", "2026-02-02T10:00:00+08:00", 3000000);
    order_at(&t, "O-12345678", "2026-02-03T10:00:00+08:00", 127);
    b = state_of(t.m);
    twin_damage(t.p, &b, 3);
    free(b.data);
    rig_close(&t);

    /* the inline string and reference readers at their edges: an id of 16
     * bytes, tags of 1 to 17 bytes and one not ASCII, upgrade gifts of
     * every tier */
    rig_open(&t, load_policy_text(RICH_POLICY), "M-0123456789ABCD", "2025-06-01");
    static const char *const tags[] = {"a", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmno",
                                       "abcdefghijklmnop", "abcdefghijklmnopq", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        assert_int_equal(loy_member_add_tag(t.m, tags[i]), LOY_OK);
    assert_int_equal(loy_member_import_gift(t.m, "upgrade", "gold"), LOY_OK);
    assert_int_equal(loy_member_import_gift(t.m, "upgrade", "silver"), LOY_OK);
    assert_int_equal(loy_member_import_gift(t.m, "upgrade", "member"), LOY_OK);
    order_at(&t, "O-1", "2026-02-01T10:00:00+08:00", 500);
    b = state_of(t.m);
    twin_damage(t.p, &b, 5);
    free(b.data);
    rig_close(&t);

    /* 127 and more months, gaps past 15 */
    rig_open(&t, load_policy_text(RICH_POLICY), "M-MONTHS", "2000-01-01");
    for (int i = 0; i < 131; i++) {
        char month[8];
        int at = i < 100 ? i : 100 + 17 * (i - 100);
        snprintf(month, sizeof month, "%04d-%02d", 2000 + at / 12, 1 + at % 12);
        assert_int_equal(loy_member_import_month(t.m, (loy_metric)(i % 4), month, 1 + (int64_t)i * 40000), LOY_OK);
    }
    b = state_of(t.m);
    twin_damage(t.p, &b, 4);
    free(b.data);
    rig_close(&t);
}

/* --------------------------------------------------- what the bytes remember */

static void test_recent_ids_survive(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_file("minimal.yaml"), "M-IDS", "2026-01-01");
    char id[16], at[40];
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof id, "T-%d", i);
        snprintf(at, sizeof at, "2026-02-01T%02d:%02d:00+08:00", i / 60, i % 60);
        ev(&t, LOY_EVENT_TICK, id, at);
        OK_APPLY(&t);
    }
    assert_int_equal(t.m->recent_count, 256);
    blob b = state_of(t.m);
    /* 256 ids of 8 bytes */
    assert_true(b.len > 2048 && b.len < 2048 + 80);
    assert_round_trip(t.p, &b);
    loy_member_free(t.m);
    t.m = loaded(t.p, &b);
    /* the last 256 (T-44 .. T-299) are remembered */
    const char *dups[] = {"T-44", "T-45", "T-200", "T-299"};
    for (size_t i = 0; i < LOY_ARRAY_LEN(dups); i++) {
        ev(&t, LOY_EVENT_TICK, dups[i], "2026-02-02T10:00:00+08:00");
        assert_int_equal(apply(&t), LOY_E_DUPLICATE);
    }
    ev(&t, LOY_EVENT_TICK, "T-new", "2026-02-02T10:00:00+08:00");
    OK_APPLY(&t);
    /* and the ring goes on from where it stood */
    assert_int_equal(t.m->recent_count, 256);
    ev(&t, LOY_EVENT_TICK, "T-new", "2026-02-02T10:00:01+08:00");
    assert_int_equal(apply(&t), LOY_E_DUPLICATE);
    free(b.data);
    rig_close(&t);
}

static void test_last_instant_survives(void **state)
{
    LOY_UNUSED(state);
    rig t;
    rig_open(&t, load_policy_file("minimal.yaml"), "M-AT", "2026-01-01");
    ev(&t, LOY_EVENT_TICK, "T-1", "2026-05-01T10:00:00.5+08:00");
    OK_APPLY(&t);
    blob b = state_of(t.m);
    loy_member_free(t.m);
    t.m = loaded(t.p, &b);
    assert_int_equal(t.m->last_event.seconds, 36000);
    assert_int_equal(t.m->last_event.offset_min, 480);
    assert_int_equal(t.m->last_event.date, day_of("2026-05-01"));
    /* 0.4 s earlier is out of order, the same microsecond is not */
    ev(&t, LOY_EVENT_TICK, "T-2", "2026-05-01T10:00:00.4+08:00");
    assert_int_equal(apply(&t), LOY_E_OUT_OF_ORDER);
    /* the same instant written in UTC: 02:00:00.4Z is earlier too */
    ev(&t, LOY_EVENT_TICK, "T-3", "2026-05-01T02:00:00.499999Z");
    assert_int_equal(apply(&t), LOY_E_OUT_OF_ORDER);
    ev(&t, LOY_EVENT_TICK, "T-4", "2026-05-01T02:00:00.500000Z");
    OK_APPLY(&t);
    free(b.data);
    rig_close(&t);
}

static void test_load_replaces_state(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p;
    blob b = rich_state(&p);
    loy_member *m = bystander(p);
    assert_int_equal(loy_member_load(m, b.data, b.len), LOY_OK);
    assert_string_equal(loy_member_id(m), "M-DMG");
    assert_string_equal(loy_member_error(m), "");
    /* loading the handle's own output buffer into itself */
    const void *data;
    size_t len;
    assert_int_equal(loy_member_to_bytes(m, &data, &len), LOY_OK);
    assert_int_equal(loy_member_load(m, data, len), LOY_OK);
    assert_state_is(m, &b);
    /* and a new member over a loaded one */
    assert_int_equal(loy_member_init(m, "M-FRESH", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_member_lot_count(m), 0);
    assert_int_equal(m->recent_count, 0);
    loy_member_free(m);
    free(b.data);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_new_member),
        cmocka_unit_test(test_round_trip_imported),
        cmocka_unit_test(test_round_trip_events),
        cmocka_unit_test(test_shared_ids_one_entry),
        cmocka_unit_test(test_many_months),
        cmocka_unit_test(test_many_upgrade_gifts),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_layout_pinned),
        cmocka_unit_test(test_varint_lengths),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_every_bit_flip),
        cmocka_unit_test(test_foreign_bytes),
        cmocka_unit_test(test_crafted_payloads),
        cmocka_unit_test(test_random_damage),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_layout_long_strings),
        cmocka_unit_test(test_fast_against_checked),
        cmocka_unit_test(test_ids_differ_at_the_ends),
        cmocka_unit_test(test_recent_ids_survive),
        cmocka_unit_test(test_last_instant_survives),
        cmocka_unit_test(test_load_replaces_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
