/*
 * loy_apply changes the member in place under an undo journal
 * (lib/member.c, loy_member_undo_*). A refusal at any step, after earlier
 * steps already changed the state, must put it back byte for byte, and
 * leave the handles fit for the next event: that event must give exactly
 * the answer and state bytes of a member freshly loaded from the same
 * bytes. The refusals are forced late on purpose:
 *
 *   - step 3: the order's points overflow the balance after housekeeping
 *     released a pending lot (its order id dropped) and expired another;
 *   - step 4: the upgrade gift's points overflow after the order's pending
 *     lot was added;
 *   - step 5: the birthday gift's points overflow after housekeeping;
 *   - any step: out of memory at each allocation of an apply, on handles
 *     that are then reused (step 6 has no refusal of its own).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loyalty.h"
#include "support/fault_alloc.h"
#include "support/state_bytes.h"
#include "support/undo_support.h"

static fault_alloc fa = {.countdown = -1};

/* m, on long-lived handles, answered as the freshly loaded member did and
 * holds the same state bytes. */
static void assert_same_as_fresh(loy_member *m, loy_result *r, loy_member *fresh, loy_result *fr)
{
    assert_same_json(r, fr);
    bytes want_state = state_of(fresh);
    assert_state(m, &want_state);
    free(want_state.data);
}

/* ---------------------------------------------------------------- members */

/*
 * Joined 2025-01-01, a lot of INT64_MAX - headroom points lasting to the
 * end of 2027 and one of 10 expiring 2026-03-31, then an order on
 * 2026-03-01 of 150.00 (150 points pending until 2026-03-08, order id
 * "O-1"; 225 for gold). By 2026-04-10 housekeeping releases O-1's lot and
 * expires the lot of 10, so the balance is then INT64_MAX - headroom + 150.
 */
static bytes member_near_max(const loy_policy *p, int64_t headroom, const char *tier, const char *birthday)
{
    loy_member *m = NULL;
    loy_result *r = NULL;
    loy_event *e = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-UNDO", "2025-01-01"), LOY_OK);
    assert_int_equal(loy_member_import_lot(m, INT64_MAX - headroom, "2027-12-31"), LOY_OK);
    assert_int_equal(loy_member_import_lot(m, 10, "2026-03-31"), LOY_OK);
    if (tier)
        assert_int_equal(loy_member_import_tier(m, tier, "2026-02-01"), LOY_OK);
    if (birthday)
        assert_int_equal(loy_member_set_birthday(m, birthday), LOY_OK);
    assert_int_equal(loy_member_add_tag(m, "employee"), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    assert_int_equal(loy_event_new(&e, p), LOY_OK);
    loy_event_reset(e, LOY_EVENT_ORDER, "O-1", "2026-03-01T12:00:00+08:00");
    loy_event_add_line(e, "TEE-1", "tees", 15000, 1);
    if (loy_apply(p, m, e, r) != LOY_OK)
        fail_msg("O-1 refused: %s", loy_result_json(r, NULL));
    assert_true(loy_member_points_pending(m) >= 150);
    bytes b = state_of(m);
    loy_event_free(e);
    loy_result_free(r);
    loy_member_free(m);
    return b;
}

/* ----------------------------------------------------------------- events */

/* 2,000.00 of coats: 2,000 points (times 1.5 in season), and silver. */
static void build_big_order(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_ORDER, "O-2", "2026-04-10T12:00:00+08:00");
    loy_event_set_channel(e, "pos");
    loy_event_add_line(e, "TEE-2", "tees", 150000, 1);
    loy_event_add_line(e, "GC-1", "gift_card", 5000, 1);
    loy_event_add_line(e, "TEE-3", "tees", 50000, 1);
}

/* 1,000.00 of tees: 1,000 points pending, and silver (200 points). */
static void build_upgrade_order(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_ORDER, "O-3", "2026-04-10T12:00:00+08:00");
    loy_event_add_line(e, "TEE-4", "tees", 100000, 1);
}

static void build_tick(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_TICK, "T-1", "2026-04-10T12:00:00+08:00");
}

/* An order small enough for any headroom used here. */
static void build_small_order(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_ORDER, "O-9", "2026-04-11T12:00:00+08:00");
    loy_event_add_line(e, "TEE-9", "tees", 1000, 1);
}

static void build_profile(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_PROFILE, "F-1", "2026-04-10T12:00:00+08:00");
    loy_event_set_birthday(e, "1990-04-02");
    loy_event_clear_tags(e);
    loy_event_add_tag(e, "vip-list");
    loy_event_add_tag(e, "new-tag-with-a-longer-name");
    loy_event_add_tag(e, "vip-list");
}

static void build_return(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_RETURN, "R-1", "2026-03-05T10:00:00+08:00");
    loy_event_set_amount(e, 5000);
    loy_event_set_original(e, "O-1", "2026-03-01T12:00:00+08:00", 15000, 150);
    loy_event_add_line(e, "TEE-1", "tees", 5000, 1);
}

/* ------------------------------------------------------ late refusals */

/*
 * `refused` must be refused with `code` from `start`, after the trace shows
 * the housekeeping that changed the state; the member's bytes are then
 * unchanged, and `next` gives on the same handles what it gives on a
 * freshly loaded member.
 */
static void refused_then_next(const loy_policy *p, const bytes *start, build_fn refused, int code,
                              const char *const *in_trace, build_fn next)
{
    loy_result *r;
    loy_event *e;
    loy_member *m = loaded_traced(p, start, &r, &e);

    refused(e);
    int rc = loy_apply(p, m, e, r);
    char *json = json_of(r);
    if (getenv("UNDO_VERBOSE"))
        fprintf(stderr, "%s\n", json);
    if (rc != code)
        fail_msg("got %s, want %s: %s", loy_error_name(rc), loy_error_name(code), json);
    for (size_t i = 0; in_trace[i]; i++)
        if (!strstr(json, in_trace[i]))
            fail_msg("no %s in %s", in_trace[i], json);
    free(json);
    assert_state(m, start);

    /* Twice: a refusal may not leave anything behind that the next one trips on. */
    rc = loy_apply(p, m, e, r);
    assert_int_equal(rc, code);
    assert_state(m, start);

    loy_member *fresh = loaded(p, start);
    loy_result *fr = NULL;
    assert_int_equal(loy_result_new(&fr, p), LOY_OK);
    loy_result_set_options(fr, LOY_RESULT_TRACE);
    next(e);
    int want_rc = loy_apply(p, fresh, e, fr);
    int got_rc = loy_apply(p, m, e, r);
    assert_int_equal(got_rc, want_rc);
    assert_same_as_fresh(m, r, fresh, fr);

    loy_result_free(fr);
    loy_member_free(fresh);
    loy_event_free(e);
    loy_result_free(r);
    loy_member_free(m);
}

static void test_step3_overflow_after_housekeeping(void **s)
{
    (void)s;
    loy_policy *p = load_policy(&fa, "apparel");
    /* Room for the release (150) but not the order's points as well. */
    bytes start = member_near_max(p, 1000, NULL, NULL);
    static const char *const trace[] = {"\"release\"", "\"expiry\"", "points balance overflows", NULL};
    refused_then_next(p, &start, build_big_order, LOY_E_OVERFLOW, trace, build_tick);
    refused_then_next(p, &start, build_big_order, LOY_E_OVERFLOW, trace, build_small_order);
    refused_then_next(p, &start, build_big_order, LOY_E_OVERFLOW, trace, build_profile);
    free(start.data);
    loy_policy_free(p);
}

static void test_step4_overflow_in_upgrade_gift(void **s)
{
    (void)s;
    loy_policy *p = load_policy(&fa, "apparel");
    /* After housekeeping INT64_MAX - 1150: the order's 1,000 pending points
     * fit, the silver gift's 200 do not. */
    bytes start = member_near_max(p, 1300, NULL, NULL);
    static const char *const trace[] = {"\"release\"", "\"expiry\"", "\"step\": 4", "points balance overflows", NULL};
    refused_then_next(p, &start, build_upgrade_order, LOY_E_OVERFLOW, trace, build_small_order);
    refused_then_next(p, &start, build_upgrade_order, LOY_E_OVERFLOW, trace, build_profile);
    free(start.data);
    loy_policy_free(p);
}

static void test_step5_overflow_in_birthday_gift(void **s)
{
    (void)s;
    loy_policy *p = load_policy(&fa, "apparel");
    /* A gold member in her birthday month: the gift's 300 points do not fit. */
    bytes start = member_near_max(p, 400, "gold", "1990-04-02");
    static const char *const trace[] = {"\"release\"", "\"expiry\"", "\"step\": 5", "points balance overflows", NULL};
    refused_then_next(p, &start, build_tick, LOY_E_OVERFLOW, trace, build_profile);
    /* The same gift after a profile event replaced the tags in step 3:
     * the tags come back from the journal's copy. */
    static const char *const trace_profile[] = {"\"profile\"", "\"step\": 5", "points balance overflows", NULL};
    refused_then_next(p, &start, build_profile, LOY_E_OVERFLOW, trace_profile, build_small_order);
    refused_then_next(p, &start, build_profile, LOY_E_OVERFLOW, trace_profile, build_tick);
    free(start.data);
    loy_policy_free(p);
}

/* -------------------------------------------------------- out of memory */

static void test_nomem_at_every_allocation(void **s)
{
    (void)s;
    loy_policy *p = load_policy(&fa, "apparel");
    bytes start = member_near_max(p, 1000000, NULL, "1990-04-02");
    nomem_sweep(&fa, p, &start, build_big_order, 5);       /* release, expiry, a new lot, upgrade, gifts */
    nomem_sweep(&fa, p, &start, build_upgrade_order, 5);
    nomem_sweep(&fa, p, &start, build_profile, 3);         /* tags saved, then replaced */
    nomem_sweep(&fa, p, &start, build_return, 2);
    nomem_sweep(&fa, p, &start, build_tick, 2);
    free(start.data);
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);
}

/*
 * Grocery's big-basket gift (period order) with two imported order marks,
 * one of them for O-2. The journal leaves out arrays the engine never
 * writes, and these marks are one (lib/member.c, IMPORT_ARRAYS): a refusal
 * at any allocation must still leave them, and the gift they hold back,
 * as they were.
 */
static bytes member_with_order_marks(const loy_policy *p)
{
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-MARKS", "2025-01-01"), LOY_OK);
    assert_int_equal(loy_member_import_lot(m, 5000, "2027-12-31"), LOY_OK);
    assert_int_equal(loy_member_import_gift(m, "spend", "big-basket:O-2"), LOY_OK);
    assert_int_equal(loy_member_import_gift(m, "spend", "big-basket:O-0"), LOY_OK);
    bytes b = state_of(m);
    loy_member_free(m);
    return b;
}

/* Whether `build`'s event, applied to a member loaded from start, gets the gift. */
static bool gets_big_basket(const loy_policy *p, const bytes *start, build_fn build)
{
    loy_member *m = loaded(p, start);
    loy_result *r = NULL;
    loy_event *e = NULL;
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    assert_int_equal(loy_event_new(&e, p), LOY_OK);
    build(e);
    assert_int_equal(loy_apply(p, m, e, r), LOY_OK);
    char *json = json_of(r);
    bool got = strstr(json, "big-basket") != NULL;
    free(json);
    loy_event_free(e);
    loy_result_free(r);
    loy_member_free(m);
    return got;
}

static void test_nomem_with_imported_order_marks(void **s)
{
    (void)s;
    loy_policy *p = load_policy(&fa, "grocery");
    bytes start = member_with_order_marks(p);
    assert_false(gets_big_basket(p, &start, build_big_order));     /* O-2: marked */
    assert_true(gets_big_basket(p, &start, build_upgrade_order));  /* O-3 */
    nomem_sweep(&fa, p, &start, build_big_order, 2);
    nomem_sweep(&fa, p, &start, build_upgrade_order, 2);
    free(start.data);
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);
}

/* A member on handles kept from event to event (m, r) beside its twin
 * loaded fresh from the same state bytes (fresh, fr), and one event. */
typedef struct twins {
    loy_member *m, *fresh;
    loy_result *r, *fr;
    loy_event *e;
} twins;

static twins twins_open(const loy_policy *p, const bytes *start)
{
    twins t = {loaded(p, start), loaded(p, start), NULL, NULL, NULL};
    assert_int_equal(loy_result_new(&t.r, p), LOY_OK);
    assert_int_equal(loy_result_new(&t.fr, p), LOY_OK);
    assert_int_equal(loy_event_new(&t.e, p), LOY_OK);
    return t;
}

static void twins_close(twins *t)
{
    loy_event_free(t->e);
    loy_result_free(t->r);
    loy_result_free(t->fr);
    loy_member_free(t->m);
    loy_member_free(t->fresh);
}

/* A one-line order accepted by both, with the same answer and state after. */
static void order_on_both(const loy_policy *p, twins *t, const char *id, const char *at, int64_t amount)
{
    loy_event_reset(t->e, LOY_EVENT_ORDER, id, at);
    loy_event_add_line(t->e, "TEE-9", "tees", amount, 1);
    assert_int_equal(loy_apply(p, t->m, t->e, t->r), LOY_OK);
    assert_int_equal(loy_apply(p, t->fresh, t->e, t->fr), LOY_OK);
    assert_same_as_fresh(t->m, t->r, t->fresh, t->fr);
}

/* A refused event on handles that keep being reused: the journal's held
 * order ids and the spares stay consistent over many rounds. */
static void test_refusals_interleaved(void **s)
{
    (void)s;
    loy_policy *p = load_policy(&fa, "apparel");
    bytes start = member_near_max(p, 1000, NULL, NULL);
    twins t = twins_open(p, &start);
    char id[32], at[40];
    for (int i = 0; i < 40; i++) {
        /* a refused order (overflow, after a release on the first round) */
        snprintf(id, sizeof id, "O-BIG-%d", i);
        snprintf(at, sizeof at, "2026-04-%02dT12:00:00+08:00", 10 + i / 4);
        loy_event_reset(t.e, LOY_EVENT_ORDER, id, at);
        loy_event_add_line(t.e, "TEE-2", "tees", 200000, 1);
        bytes before = state_of(t.m);
        assert_int_equal(loy_apply(p, t.m, t.e, t.r), LOY_E_OVERFLOW);
        assert_state(t.m, &before);
        free(before.data);
        /* an accepted small order with its own pending lot, on both */
        snprintf(id, sizeof id, "O-S-%d", i);
        order_on_both(p, &t, id, at, 1000);
    }
    twins_close(&t);
    free(start.data);
    loy_policy_free(p);
}

/* The benefits query runs on a copy borrowing the member's strings: its
 * housekeeping (a release dropping a lot's order id, an expiry) changes
 * nothing of the member, and the result it used serves the next apply as
 * a fresh one would. */
static void test_query_borrows(void **s)
{
    (void)s;
    loy_policy *p = load_policy(&fa, "apparel");
    bytes start = member_near_max(p, 1000000, NULL, "1990-04-02");
    twins t = twins_open(p, &start);
    loy_result_set_options(t.r, LOY_RESULT_TRACE);
    loy_result_set_options(t.fr, LOY_RESULT_TRACE);
    for (int i = 0; i < 20; i++) {
        bytes before = state_of(t.m);
        char at[40];
        snprintf(at, sizeof at, "2026-04-%02dT12:00:00+08:00", 10 + i / 2);
        assert_int_equal(loy_query_benefits(p, t.m, at, "pos", NULL, t.r), LOY_OK);
        if (i == 0) {
            /* the query's housekeeping released O-1's lot */
            char *got = json_of(t.r);
            assert_non_null(strstr(got, "\"release\""));
            assert_non_null(strstr(got, "O-1"));
            free(got);
        }
        assert_int_equal(loy_query_benefits(p, t.fresh, at, "pos", NULL, t.fr), LOY_OK);
        assert_same_json(t.r, t.fr);
        assert_state(t.m, &before);
        free(before.data);

        char id[32];
        snprintf(id, sizeof id, "O-Q-%d", i);
        order_on_both(p, &t, id, at, 1000 + 100 * i);
    }
    twins_close(&t);
    free(start.data);
    loy_policy_free(p);
}

/* ------------------------------------------------- random histories */

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t rnd(rng *g, uint32_t n)
{
    g->s = g->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(g->s >> 33) % n;
}

/* Days since 1970-01-01 as YYYY-MM-DD (proleptic Gregorian). */
static void civil(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void instant(long day, int hour, char out[40])
{
    int y, m, d;
    civil(day, &y, &m, &d);
    snprintf(out, 40, "%04d-%02d-%02dT%02d:00:00+08:00", y, m, d, hour);
}

typedef struct order_seen {
    char id[32];
    char at[40];
    int64_t amount;
} order_seen;

/*
 * A long-lived member handle and result, changed in place event after
 * event (accepted or refused: overflows near INT64_MAX, too few points,
 * limits, duplicates, out of order), against a member freshly loaded from
 * the bytes before each event: the answers and bytes must be the same,
 * and a refusal or a query must leave the bytes as they were.
 */
static void random_history(const char *policy, uint64_t seed, int members, int events)
{
    static const char *const cats[] = {"tees", "coats", "gift_card", "shipping", "fruit", "veg", "dairy", "other"};
    static const char *const kinds[] = {"signup", "review", "share", "check_in", "unknown"};
    static const char *const benefits[] = {"member-price", "alteration", "designer-salon", "staff-discount",
                                           "free-veg", "tasting", "monthly-coupons", "nope"};
    static const char *const tags[] = {"employee", "vip-list", "a-rather-longer-tag-name", "x"};
    static const char *const channels[] = {"pos", "app", "tmall", "mini_program"};
    loy_policy *p = load_policy(&fa, policy);
    rng g = {seed};
    for (int mi = 0; mi < members; mi++) {
        loy_member *m = NULL;
        char mid[32];
        snprintf(mid, sizeof mid, "M-R%d", mi);
        assert_int_equal(loy_member_new(&m, p, mid, "2025-01-01"), LOY_OK);
        if (mi % 3 == 1)
            assert_int_equal(loy_member_import_lot(m, INT64_MAX - 20000 - rnd(&g, 20000), "2027-06-30"), LOY_OK);
        if (mi % 2 == 0)
            assert_int_equal(loy_member_set_birthday(m, rnd(&g, 2) ? "1990-05-17" : "1988-02-29"), LOY_OK);
        loy_result *r = NULL;
        loy_event *e = NULL;
        assert_int_equal(loy_result_new(&r, p), LOY_OK);
        assert_int_equal(loy_event_new(&e, p), LOY_OK);
        if (mi % 2)
            loy_result_set_options(r, LOY_RESULT_TRACE);
        order_seen seen[64];
        int nseen = 0;
        long day = 20454;   /* 2026-01-01 */
        for (int i = 0; i < events; i++) {
            day += rnd(&g, 6);
            char at[40], id[32];
            long when = rnd(&g, 15) == 0 ? day - 3 : day;
            instant(when, 8 + (int)rnd(&g, 12), at);
            if (i > 0 && rnd(&g, 20) == 0)
                snprintf(id, sizeof id, "E-%d-%u", mi, rnd(&g, (uint32_t)i));
            else
                snprintf(id, sizeof id, "E-%d-%d", mi, i);
            switch (rnd(&g, 11)) {
            case 0: case 1: case 2: case 3: {
                loy_event_reset(e, LOY_EVENT_ORDER, id, at);
                loy_event_set_channel(e, channels[rnd(&g, 4)]);
                int64_t total = 0;
                for (uint32_t n = 1 + rnd(&g, 3); n > 0; n--) {
                    int64_t amount = 100 + rnd(&g, 400000);
                    total += amount;
                    loy_event_add_line(e, "SKU", cats[rnd(&g, 8)], amount, 1 + rnd(&g, 2));
                }
                if (nseen < 64) {
                    snprintf(seen[nseen].id, sizeof seen[nseen].id, "%s", id);
                    snprintf(seen[nseen].at, sizeof seen[nseen].at, "%s", at);
                    seen[nseen].amount = total;
                    nseen++;
                }
                break;
            }
            case 4:
                if (nseen) {
                    const order_seen *o = &seen[rnd(&g, (uint32_t)nseen)];
                    int64_t back = 1 + rnd(&g, (uint32_t)(o->amount > 0 ? o->amount : 1));
                    loy_event_reset(e, LOY_EVENT_RETURN, id, at);
                    loy_event_set_amount(e, back);
                    loy_event_set_original(e, o->id, o->at, o->amount, rnd(&g, 3000));
                    loy_event_add_line(e, "SKU", cats[rnd(&g, 8)], back, 1);
                } else {
                    loy_event_reset(e, LOY_EVENT_TICK, id, at);
                }
                break;
            case 5:
                loy_event_reset(e, LOY_EVENT_REDEEM, id, at);
                loy_event_set_points(e, 100 * (1 + rnd(&g, 60)));
                loy_event_set_order_amount(e, 1000 + rnd(&g, 300000));
                break;
            case 6:
                loy_event_reset(e, LOY_EVENT_USE_BENEFIT, id, at);
                loy_event_set_benefit(e, benefits[rnd(&g, 8)]);
                break;
            case 7:
                loy_event_reset(e, LOY_EVENT_ACTION, id, at);
                loy_event_set_kind(e, kinds[rnd(&g, 5)]);
                break;
            case 8:
                loy_event_reset(e, LOY_EVENT_PROFILE, id, at);
                if (rnd(&g, 2))
                    loy_event_set_birthday(e, rnd(&g, 3) ? "1990-05-17" : NULL);
                if (rnd(&g, 2)) {
                    loy_event_clear_tags(e);
                    for (uint32_t n = rnd(&g, 4); n > 0; n--)
                        loy_event_add_tag(e, tags[rnd(&g, 4)]);
                }
                break;
            case 9:
                loy_event_reset(e, LOY_EVENT_JOIN_PAID, id, at);
                loy_event_set_plan(e, rnd(&g, 2) ? "annual" : "monthly");
                break;
            default:
                loy_event_reset(e, LOY_EVENT_TICK, id, at);
                break;
            }

            bytes before = state_of(m);
            loy_member *fresh = loaded(p, &before);
            loy_result *fr = NULL;
            assert_int_equal(loy_result_new(&fr, p), LOY_OK);
            if (mi % 2)
                loy_result_set_options(fr, LOY_RESULT_TRACE);
            int rc = loy_apply(p, m, e, r);
            int want_rc = loy_apply(p, fresh, e, fr);
            if (getenv("UNDO_VERBOSE"))
                fprintf(stderr, "%s %s\n", policy, loy_error_name(rc));
            assert_int_equal(rc, want_rc);
            assert_same_json(r, fr);
            if (rc != LOY_OK)
                assert_state(m, &before);
            bytes want_state = state_of(fresh);
            assert_state(m, &want_state);
            free(before.data);

            if (rnd(&g, 4) == 0) {
                instant(day + rnd(&g, 40) - 2, 10, at);
                const char *ch = channels[rnd(&g, 4)];
                assert_int_equal(loy_query_benefits(p, m, at, ch, NULL, r),
                                 loy_query_benefits(p, fresh, at, ch, NULL, fr));
                assert_same_json(r, fr);
                assert_state(m, &want_state);
            }
            free(want_state.data);
            loy_result_free(fr);
            loy_member_free(fresh);
        }
        loy_event_free(e);
        loy_result_free(r);
        loy_member_free(m);
    }
    loy_policy_free(p);
}

static void test_random_histories(void **s)
{
    (void)s;
    random_history("apparel", 1, 6, 250);
    random_history("grocery", 2, 6, 250);
    random_history("minimal", 3, 3, 150);
    assert_int_equal(fa.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step3_overflow_after_housekeeping),
        cmocka_unit_test(test_step4_overflow_in_upgrade_gift),
        cmocka_unit_test(test_step5_overflow_in_birthday_gift),
        cmocka_unit_test(test_nomem_at_every_allocation),
        cmocka_unit_test(test_nomem_with_imported_order_marks),
        cmocka_unit_test(test_refusals_interleaved),
        cmocka_unit_test(test_query_borrows),
        cmocka_unit_test(test_random_histories),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
