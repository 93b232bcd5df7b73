/*
 * The benefits query reads the caller's member directly when step 2 would
 * change nothing at its instant (lib/engine/apply.c, idle_totals, which
 * also sums its points in the same walk over the lots),
 * and copies it and runs step 2 on the copy otherwise. Random policies
 * (pending points, expiry, paid plans, reviews of every kind) and members
 * made by random events are asked about instants on, just before and just
 * after every date step 2 acts on (releases, expiries, plan ends, reviews),
 * and before the last event; the answer must be the same, byte for byte,
 * as the one through the copy (loy_query_benefits_copied), and the member
 * must not change.
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
#include "support/state_bytes.h"

static const char *const TIERS[] = {"t0", "t1", "t2", "t3"};
static const char *const PLANS[] = {"annual", "monthly"};

static loy_policy *random_policy(rng *r, char *y, size_t cap)
{
    static const char *const REVIEWS[] = {"anniversary", "calendar_year", "never"};
    y[0] = '\0';
    add(y, cap, "loyalty_policy: 1\ncurrency: {code: CNY}\n");
    add(y, cap, "tiers:\n  qualify_on: orders\n  window: %d_months\n  review: %s\n", 1 + pick(r, 12),
        REVIEWS[pick(r, 3)]);
    add(y, cap, "  downgrade: %s\n  min_hold_months: %d\n", pick(r, 2) ? "one_level" : "to_qualified",
        pick(r, 3) ? 0 : pick(r, 14));
    add(y, cap, "  levels:\n    - {id: t0}\n    - {id: t1, at: 2}\n    - {id: t2, at: 4, keep: 3}\n"
                "    - {id: t3, at: 7}\n");
    add(y, cap, "points:\n  earn:\n    rate: {amount: 1, points: 1}\n  pending_days: %d\n",
        pick(r, 3) ? pick(r, 12) : 0);
    switch (pick(r, 3)) {
    case 0: add(y, cap, "  expiry: {after_months: %d}\n", 1 + pick(r, 4)); break;
    case 1: add(y, cap, "  expiry: {end_of_year_plus: %d}\n", pick(r, 2)); break;
    default: break;
    }
    add(y, cap, "paid:\n  plans:\n    - {id: annual, fee: 199, months: %d, guarantee: true}\n"
                "    - {id: monthly, fee: 19, months: 1}\n",
        1 + pick(r, 12));
    add(y, cap, "lifecycle:\n  - {id: dormant, when: {days_since_last_order_at_least: 60}}\n");
    add(y, cap, "  - {id: first, when: {orders_at_least: 1}}\n  - {id: registered}\n");
    /* benefits that each of step 2's changes can open or close */
    add(y, cap, "benefits:\n");
    add(y, cap, "  - {id: points, kind: gift, when: {points_at_least: %d}}\n", pick(r, 4000));
    add(y, cap, "  - {id: tier, kind: service, when: {tier_at_least: %s}, value: {by_tier: {t2: 0.9, t3: 0.8}}}\n",
        TIERS[1 + pick(r, 3)]);
    add(y, cap, "  - {id: paid, kind: service, when: {paid: %s}, limit: {count: 2, per: month}}\n",
        pick(r, 2) ? "active" : "annual");
    add(y, cap, "  - {id: either, kind: product, when: {any: [{tier: %s}, {paid: none}]}}\n", TIERS[pick(r, 4)]);
    add(y, cap, "  - {id: stage, kind: activity, when: {lifecycle: [dormant]}, limit: once}\n");
    return load_generated(y, "query.yaml");
}

typedef struct history {
    loy_event *e;
    loy_result *res;
    loy_day day;     /* of the last event made */
    int n;
} history;

static void instant(char *out, size_t cap, loy_day day, rng *r)
{
    static const char *const OFFSETS[] = {"+08:00", "+00:00", "-05:00"};
    char d[11];
    loy_format_date(day, d);
    snprintf(out, cap, "%sT%02d:%02d:00%s", d, pick(r, 24), pick(r, 60), OFFSETS[pick(r, 3)]);
}

/* One random event a few days after the last; refusals are fine. */
static void random_event(rng *r, const loy_policy *p, loy_member *m, history *h)
{
    char id[16], at[32];
    snprintf(id, sizeof id, "E-%d", h->n++);
    h->day += 1 + pick(r, pick(r, 4) ? 20 : 200);
    instant(at, sizeof at, h->day, r);
    switch (pick(r, 8)) {
    case 0:
        assert_int_equal(loy_event_reset(h->e, LOY_EVENT_JOIN_PAID, id, at), LOY_OK);
        assert_int_equal(loy_event_set_plan(h->e, PLANS[pick(r, 2)]), LOY_OK);
        break;
    case 1:
        assert_int_equal(loy_event_reset(h->e, LOY_EVENT_USE_BENEFIT, id, at), LOY_OK);
        assert_int_equal(loy_event_set_benefit(h->e, pick(r, 2) ? "paid" : "stage"), LOY_OK);
        break;
    case 2:
        assert_int_equal(loy_event_reset(h->e, LOY_EVENT_TICK, id, at), LOY_OK);
        break;
    default:
        assert_int_equal(loy_event_reset(h->e, LOY_EVENT_ORDER, id, at), LOY_OK);
        assert_int_equal(loy_event_add_line(h->e, "SKU", "c", 1 + pick(r, 3000), 1), LOY_OK);
        break;
    }
    loy_apply(p, m, h->e, h->res);
}

/* A member from an import: lots with last days, a tier since a date, a
 * plan, none of it yet looked at by step 2. */
static void imported_member(rng *r, loy_member *m, history *h)
{
    char d[11], since[11];
    h->day = loy_day_from_ymd(2025, 1, 1) + pick(r, 400);
    loy_format_date(h->day - pick(r, 800), d);
    assert_int_equal(loy_member_init(m, "M-1", d), LOY_OK);
    loy_format_date(h->day - pick(r, 700), since);
    assert_int_equal(loy_member_import_tier(m, TIERS[pick(r, 4)], since), LOY_OK);
    for (int k = pick(r, 4); k > 0; k--) {
        loy_format_date(h->day + pick(r, 300) - 50, d);
        assert_int_equal(loy_member_import_lot(m, 1 + pick(r, 2000), pick(r, 3) ? d : NULL), LOY_OK);
    }
    if (pick(r, 2)) {
        loy_format_date(h->day + pick(r, 200) - 20, d);
        assert_int_equal(loy_member_import_paid(m, PLANS[pick(r, 2)], d), LOY_OK);
    }
}

/* The days step 2 acts on or around for this member. */
static size_t due_days(const loy_member *m, loy_day *out, size_t cap)
{
    size_t n = 0;
#define DUE(d_)                                   \
    do {                                          \
        if ((d_) != LOY_DAY_NONE && n < cap)      \
            out[n++] = (d_);                      \
    } while (0)
    for (size_t i = 0; i < m->lot_count; i++) {
        DUE(m->lots[i].pending_until);
        DUE(m->lots[i].expires);
        if (m->lots[i].expires != LOY_DAY_NONE)
            DUE(m->lots[i].expires + 1);
    }
    if (m->plan >= 0) {
        DUE(m->plan_until);
        DUE(m->plan_until + 1);
    }
    loy_day after = m->tier_since;
    if (m->last_review != LOY_DAY_NONE && m->last_review > after)
        after = m->last_review;
    DUE(after);
    for (int years = 1; years <= 2; years++) {
        loy_ymd since = loy_day_to_ymd(m->tier_since), last = loy_day_to_ymd(after);
        DUE(loy_day_from_ymd(last.y + years, 1, 1));
        DUE(loy_day_from_ymd(since.y + years, since.m, since.d > 28 ? 28 : since.d));
        DUE(m->tier_since + 365 * years);
    }
#undef DUE
    return n;
}

typedef struct tally {
    long asked, idle, busy, one_take, takes;
} tally;

/* Did the query lay its own nodes out in one take (the list, then the
 * root, lib/engine/apply.c's query_on), or take them one by one? */
static bool took_once(const loy_result *res)
{
    const loy_node *root = loy_result_root(res);
    return root && loy_node_get(root, "benefits") + 1 == root;
}

/* The query at `at` read directly and through the copy: the same bytes,
 * and the member unchanged. */
static void same_answers(const loy_policy *p, loy_member *m, loy_result *res, loy_result *other,
                         const char *at, rng *r, tally *t)
{
    bytes before = state_of(m);
    /* now and then an instant of another length than the usual 25 */
    char longer[40];
    if (pick(r, 3) == 0) {
        snprintf(longer, sizeof longer, "%.19s.250%s", at, at + 19);
        at = longer;
    }

    /* traced, so that step 2's work shows in the copy's answer */
    unsigned options = pick(r, 2) ? LOY_RESULT_TRACE : 0;
    loy_result_set_options(res, options);
    loy_result_set_options(other, LOY_RESULT_TRACE);
    const char *channel = pick(r, 2) ? "pos" : NULL;
    char *read = code_and_json(loy_query_benefits(p, m, at, channel, NULL, res), res);
    char *traced = code_and_json(loy_query_benefits_copied(p, m, at, channel, NULL, other), other);
    bool busy = strstr(traced, "\"step\": 2,") != NULL;
    loy_result_set_options(other, options);
    char *copied = code_and_json(loy_query_benefits_copied(p, m, at, channel, NULL, other), other);
    if (strcmp(read, copied) != 0)
        fprintf(stderr, "at %s\nread   %s\ncopied %s\n", at, read, copied);
    assert_string_equal(read, copied);
    /* A fresh result has no chunk yet: untraced, its query takes its
     * nodes one by one, the general road of the one take. */
    t->one_take += took_once(res);
    loy_result *fresh = NULL;
    assert_int_equal(loy_result_new(&fresh, p), LOY_OK);
    char *general = code_and_json(loy_query_benefits(p, m, at, channel, NULL, fresh), fresh);
    t->takes += !took_once(fresh) && !options;
    if (!options)
        assert_string_equal(general, copied);
    loy_result_free(fresh);
    free(general);
    t->asked++;
    t->busy += busy;
    t->idle += !busy;

    assert_state(m, &before);
    free(before.data);
    free(read);
    free(traced);
    free(copied);
}

static void read_and_copied_agree(void **state)
{
    (void)state;
    static char y[8192];
    rng r = {20261124};
    tally t = {0, 0, 0, 0, 0};
    for (int k = 0; k < 60; k++) {
        loy_policy *p = random_policy(&r, y, sizeof y);
        history h = {NULL, NULL, 0, 0};
        loy_result *res = NULL, *other = NULL;
        assert_int_equal(loy_event_new(&h.e, p), LOY_OK);
        assert_int_equal(loy_result_new(&h.res, p), LOY_OK);
        assert_int_equal(loy_result_new(&res, p), LOY_OK);
        assert_int_equal(loy_result_new(&other, p), LOY_OK);
        loy_member *m = NULL;
        assert_int_equal(loy_member_create(&m, p), LOY_OK);
        for (int j = 0; j < 4; j++) {
            imported_member(&r, m, &h);
            for (int events = 0; events < 24; events++) {
                /* the imported state first, then after events */
                if (events % 6 == 0) {
                    loy_day days[64];
                    size_t n = due_days(m, days, 64);
                    char at[32];
                    for (size_t i = 0; i < n; i++)
                        for (int d = -1; d <= 1; d++) {
                            instant(at, sizeof at, days[i] + d, &r);
                            same_answers(p, m, res, other, at, &r, &t);
                        }
                    /* before the last event, and some way after it */
                    instant(at, sizeof at, h.day - pick(&r, 30), &r);
                    same_answers(p, m, res, other, at, &r, &t);
                    instant(at, sizeof at, h.day + pick(&r, 400), &r);
                    same_answers(p, m, res, other, at, &r, &t);
                }
                random_event(&r, p, m, &h);
            }
        }
        loy_member_free(m);
        loy_event_free(h.e);
        loy_result_free(h.res);
        loy_result_free(res);
        loy_result_free(other);
        loy_policy_free(p);
    }
    fprintf(stderr, "query: %ld asked, %ld with step 2 work, %ld without\n", t.asked, t.busy, t.idle);
    assert_true(t.busy > t.asked / 10 && t.idle > t.asked / 10);
    /* both roads of the query's own nodes were taken, often */
    fprintf(stderr, "query: %ld in one take, %ld fresh in several\n", t.one_take, t.takes);
    assert_true(t.one_take > t.asked / 2 && t.takes > t.asked / 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_and_copied_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
