/*
 * Memory faults: every allocation the library makes goes through the
 * policy's allocator (loy_policy_load_buffer_ex), so a test allocator can
 * fail the k-th one. For every k along each path — policy load, apply of
 * each kind of event (an order with gifts, a return, a redemption, a
 * benefit use, a plan join and end, housekeeping), the benefits query,
 * state bytes written and loaded, legacy import, and the JSON entry points
 * — the call either
 *
 *   - fails cleanly: LOY_E_NOMEM, the member's state bytes exactly as they
 *     were, the result saying LOY_E_NOMEM; or
 *   - succeeds (the failure hit a path that can retry or did not need the
 *     block), with exactly the answer of a run without any failure;
 *
 * and nothing leaks: the allocator counts live blocks, which must come
 * back to what the policy itself holds once the handles are freed, and to
 * zero once the policy is (ASan's leak checker watches as well).
 *
 * Each sweep runs twice: failing only the k-th allocation ("once"), and
 * failing every allocation from the k-th on ("from"), which reaches the
 * cleanup of paths that would otherwise recover on a retry.
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

#define MAX_K 200000

/* --------------------------------------------------------------- policies */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    char *buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static char *policy_text(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/policies/%s.yaml", LOY_SPEC_DIR, name);
    return read_file(path, len);
}

static loy_policy *load_with(fault_alloc *fa, const char *name)
{
    size_t len;
    char *yaml = policy_text(name, &len);
    loy_allocator a = {fault_malloc, fault_realloc, fault_free, fa};
    loy_policy *p = NULL;
    disarm(fa);
    assert_int_equal(loy_policy_load_buffer_ex(&p, yaml, len, name, NULL, &a), LOY_OK);
    free(yaml);
    return p;
}

/* A member under p made by replaying JSON lines (member line first). */
static bytes prepared_state(const loy_policy *p, const char *const *lines)
{
    loy_member *m = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    assert_int_equal(loy_member_init_json(m, lines[0], strlen(lines[0]), r), LOY_OK);
    for (size_t i = 1; lines[i]; i++) {
        int rc = loy_apply_json_line(p, m, lines[i], strlen(lines[i]), r);
        if (rc != LOY_OK)
            fail_msg("history line %zu refused: %s", i, loy_result_json(r, NULL));
    }
    bytes b = state_of(m);
    loy_result_free(r);
    loy_member_free(m);
    return b;
}

/* --------------------------------------------------------------- histories */

static const char *const apparel_history[] = {
    "{\"member\": {\"id\": \"M-FAULT\", \"joined\": \"2025-01-01\", \"birthday\": \"1990-11-20\", \"tags\": [\"employee\"]}}",
    "{\"type\": \"action\", \"id\": \"A-1\", \"at\": \"2026-10-01T09:00:00+08:00\", \"kind\": \"signup\"}",
    "{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-11-01T12:00:00+08:00\", \"channel\": \"app\", "
    "\"lines\": [{\"sku\": \"TEE-1\", \"category\": \"tees\", \"amount\": 90000}]}",
    NULL};

/* After an order that made the member silver, released. */
static const char *const apparel_silver[] = {
    "{\"member\": {\"id\": \"M-FAULT\", \"joined\": \"2025-01-01\", \"birthday\": \"1990-11-20\", \"tags\": [\"employee\"]}}",
    "{\"type\": \"action\", \"id\": \"A-1\", \"at\": \"2026-10-01T09:00:00+08:00\", \"kind\": \"signup\"}",
    "{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-11-01T12:00:00+08:00\", \"channel\": \"app\", "
    "\"lines\": [{\"sku\": \"TEE-1\", \"category\": \"tees\", \"amount\": 90000}]}",
    "{\"type\": \"order\", \"id\": \"O-2\", \"at\": \"2026-11-11T20:15:00+08:00\", \"channel\": \"pos\", "
    "\"lines\": [{\"sku\": \"COAT-1\", \"category\": \"coats\", \"amount\": 129900}]}",
    "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2026-11-20T00:00:00+08:00\"}",
    NULL};

static const char *const grocery_history[] = {
    "{\"member\": {\"id\": \"M-GF\", \"joined\": \"2026-01-01\", \"birthday\": \"1992-03-01\"}}",
    "{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-02-05T15:00:00+08:00\", \"channel\": \"mini_program\", "
    "\"lines\": [{\"sku\": \"APPLE\", \"category\": \"fruit\", \"amount\": 25000}]}",
    "{\"type\": \"join_paid\", \"id\": \"P-1\", \"at\": \"2026-02-06T10:00:00+08:00\", \"plan\": \"annual\"}",
    "{\"type\": \"order\", \"id\": \"O-2\", \"at\": \"2026-02-12T15:00:00+08:00\", \"savings\": 3000, "
    "\"lines\": [{\"sku\": \"PEAR\", \"category\": \"fruit\", \"amount\": 8000}]}",
    NULL};

/* -------------------------------------------------------- typed events */

typedef void (*build_fn)(loy_event *e);

/* Crosses silver (upgrade gift), birthday month (gift), the monthly spend
 * gift and a stage change, with multipliers. */
static void build_order_gifts(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_ORDER, "O-2", "2026-11-11T20:15:00+08:00");
    loy_event_set_channel(e, "pos");
    loy_event_set_store(e, "GZ-001");
    loy_event_add_line(e, "COAT-1", "coats", 129900, 1);
    loy_event_add_line(e, "GC-100", "gift_card", 5000, 1);
}

static void build_return(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_RETURN, "R-1", "2026-11-21T10:00:00+08:00");
    loy_event_set_amount(e, 50000);
    loy_event_set_original(e, "O-2", "2026-11-11T20:15:00+08:00", 129900, 3897);
    loy_event_add_line(e, "COAT-1", "coats", 50000, 1);
}

static void build_redeem(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_REDEEM, "X-1", "2026-11-21T10:00:00+08:00");
    loy_event_set_points(e, 1000);
    loy_event_set_order_amount(e, 100000);
}

static void build_use(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_USE_BENEFIT, "U-1", "2026-11-21T10:00:00+08:00");
    loy_event_set_benefit(e, "member-price");
}

static void build_profile(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_PROFILE, "F-1", "2026-11-21T10:00:00+08:00");
    loy_event_set_birthday(e, "1990-02-28");
    loy_event_clear_tags(e);
    loy_event_add_tag(e, "vip-list");
    loy_event_add_tag(e, "employee");
}

/* Releases, expiry, a review a year later. */
static void build_tick_year(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_TICK, "T-9", "2028-01-05T00:00:00+08:00");
}

static void build_join(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_JOIN_PAID, "P-2", "2026-03-01T10:00:00+08:00");
    loy_event_set_plan(e, "annual");
}

/* The annual plan ends with its guarantee refund. */
static void build_tick_plan_end(loy_event *e)
{
    loy_event_reset(e, LOY_EVENT_TICK, "T-PE", "2027-02-10T00:00:00+08:00");
}

/* ---------------------------------------------------------- apply sweep */

/*
 * Apply the event `build` makes to a member in state `start` under `p`,
 * failing the k-th allocation for k = 0, 1, ... until a run needs no more
 * than k allocations. Returns the number of runs that hit a failure.
 */
static long sweep_apply(fault_alloc *fa, const loy_policy *p, const bytes *start, build_fn build, bool sticky)
{
    /* The answer without faults. */
    loy_member *m = NULL;
    loy_event *e = NULL;
    loy_result *r = NULL;
    disarm(fa);
    long base_live = fa->live;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    assert_int_equal(loy_member_load(m, start->data, start->len), LOY_OK);
    assert_int_equal(loy_event_new(&e, p), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    loy_result_set_options(r, LOY_RESULT_TRACE | LOY_RESULT_FINGERPRINT);
    build(e);
    int want_rc = loy_apply(p, m, e, r);
    char *want_json = json_of(r);
    bytes want_state = state_of(m);
    loy_result_free(r);
    loy_event_free(e);
    loy_member_free(m);
    assert_int_equal(fa->live, base_live);

    long hits = 0;
    for (long k = 0; k < MAX_K; k++) {
        assert_int_equal(loy_member_create(&m, p), LOY_OK);
        assert_int_equal(loy_member_load(m, start->data, start->len), LOY_OK);
        assert_int_equal(loy_event_new(&e, p), LOY_OK);
        assert_int_equal(loy_result_new(&r, p), LOY_OK);
        loy_result_set_options(r, LOY_RESULT_TRACE | LOY_RESULT_FINGERPRINT);
        build(e);

        arm(fa, k, sticky);
        int rc = loy_apply(p, m, e, r);
        long failures = fa->failures;
        disarm(fa);

        if (rc == LOY_E_NOMEM) {
            assert_true(failures > 0);
            assert_int_equal(loy_result_code(r), LOY_E_NOMEM);
            assert_state(m, start);
            /* The result still reads as a JSON line naming the failure. */
            size_t len;
            const char *json = loy_result_json(r, &len);
            assert_non_null(json);
            assert_non_null(strstr(json, "LOY_E_NOMEM"));
        } else {
            if (rc != want_rc)
                fail_msg("k=%ld (%s): got %s, want %s", k, sticky ? "from" : "once", loy_error_name(rc),
                         loy_error_name(want_rc));
            char *got = json_of(r);
            assert_string_equal(got, want_json);
            free(got);
            assert_state(m, &want_state);
        }
        loy_result_free(r);
        loy_event_free(e);
        loy_member_free(m);
        if (fa->live != base_live)
            fail_msg("k=%ld (%s): %ld blocks leaked", k, sticky ? "from" : "once", fa->live - base_live);
        if (failures > 0)
            hits++;
        else
            break;
    }
    free(want_json);
    free(want_state.data);
    return hits;
}

static void sweep_both(const char *policy, const char *const *history, build_fn build, long min_hits)
{
    fault_alloc fa = {.countdown = -1};
    loy_policy *p = load_with(&fa, policy);
    bytes start = prepared_state(p, history);
    long once = sweep_apply(&fa, p, &start, build, false);
    long from = sweep_apply(&fa, p, &start, build, true);
    if (getenv("FAULTS_VERBOSE"))
        fprintf(stderr, "%s: %ld allocations failed in turn (once), %ld (from)\n", policy, once, from);
    /* The sweep really went through the event's allocations. */
    assert_true(once >= min_hits);
    assert_true(from >= min_hits);
    free(start.data);
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);
}

static void test_fault_order_with_gifts(void **s)
{
    (void)s;
    sweep_both("apparel", apparel_history, build_order_gifts, 5);
}

static void test_fault_return(void **s)
{
    (void)s;
    sweep_both("apparel", apparel_silver, build_return, 3);
}

static void test_fault_redeem(void **s)
{
    (void)s;
    sweep_both("apparel", apparel_silver, build_redeem, 3);
}

static void test_fault_benefit_use(void **s)
{
    (void)s;
    sweep_both("apparel", apparel_silver, build_use, 3);
}

static void test_fault_profile(void **s)
{
    (void)s;
    sweep_both("apparel", apparel_silver, build_profile, 3);
}

static void test_fault_housekeeping(void **s)
{
    (void)s;
    sweep_both("apparel", apparel_silver, build_tick_year, 3);
}

static void test_fault_paid(void **s)
{
    (void)s;
    sweep_both("grocery", grocery_history, build_join, 3);
    sweep_both("grocery", grocery_history, build_tick_plan_end, 3);
}

/* ----------------------------------------------------------------- query */

static void test_fault_query(void **s)
{
    (void)s;
    fault_alloc fa = {.countdown = -1};
    loy_policy *p = load_with(&fa, "apparel");
    bytes start = prepared_state(p, apparel_silver);
    loy_member *m = NULL;
    loy_result *r = NULL;
    long base_live = fa.live;

    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    assert_int_equal(loy_member_load(m, start.data, start.len), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    assert_int_equal(loy_query_benefits(p, m, "2027-12-01T10:00:00+08:00", "pos", "GZ-001", r), LOY_OK);
    char *want = json_of(r);
    loy_result_free(r);
    loy_member_free(m);

    long hits = 0;
    for (long k = 0; k < MAX_K; k++) {
        assert_int_equal(loy_member_create(&m, p), LOY_OK);
        assert_int_equal(loy_member_load(m, start.data, start.len), LOY_OK);
        assert_int_equal(loy_result_new(&r, p), LOY_OK);
        arm(&fa, k, k % 2 == 1);
        int rc = loy_query_benefits(p, m, "2027-12-01T10:00:00+08:00", "pos", "GZ-001", r);
        long failures = fa.failures;
        disarm(&fa);
        assert_state(m, &start);
        if (rc == LOY_E_NOMEM) {
            assert_int_equal(loy_result_code(r), LOY_E_NOMEM);
        } else {
            assert_int_equal(rc, LOY_OK);
            char *got = json_of(r);
            assert_string_equal(got, want);
            free(got);
        }
        loy_result_free(r);
        loy_member_free(m);
        assert_int_equal(fa.live, base_live);
        if (failures == 0)
            break;
        hits++;
    }
    assert_true(hits >= 3);
    free(want);
    free(start.data);
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);
}

/* ---------------------------------------------------------- policy load */

static void sweep_load(const char *name, const char *yaml, size_t len, int want_rc)
{
    fault_alloc fa = {.countdown = -1};
    loy_allocator a = {fault_malloc, fault_realloc, fault_free, &fa};
    loy_policy *p = NULL;
    loy_diag *diag = NULL;
    assert_int_equal(loy_policy_load_buffer_ex(&p, yaml, len, name, &diag, &a), want_rc);
    size_t want_errors = loy_diag_count(diag);
    char *first = want_errors ? strdup(loy_diag_message(diag, 0)) : NULL;
    loy_diag_free(diag);
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);

    long hits = 0;
    for (long k = 0; k < MAX_K; k++) {
        for (int sticky = 0; sticky < 2; sticky++) {
            p = NULL;
            diag = NULL;
            arm(&fa, k, sticky);
            int rc = loy_policy_load_buffer_ex(&p, yaml, len, name, &diag, &a);
            long failures = fa.failures;
            disarm(&fa);
            if (rc == LOY_E_NOMEM) {
                assert_null(p);
            } else {
                if (rc != want_rc)
                    fail_msg("%s k=%ld: got %s, want %s", name, k, loy_error_name(rc), loy_error_name(want_rc));
                /* A load that did not fail on NOMEM reports exactly what a
                 * clean one does. */
                assert_int_equal(loy_diag_count(diag), want_errors);
                if (first)
                    assert_string_equal(loy_diag_message(diag, 0), first);
            }
            loy_diag_free(diag);
            loy_policy_free(p);
            if (fa.live != 0)
                fail_msg("%s k=%ld: %ld blocks leaked", name, k, fa.live);
            if (failures == 0)
                goto done;
        }
        hits++;
    }
done:
    if (getenv("FAULTS_VERBOSE"))
        fprintf(stderr, "%s: %ld allocations failed in turn\n", name, hits);
    assert_true(hits >= 3);
    free(first);
}

static void test_fault_policy_load(void **s)
{
    (void)s;
    static const char *const names[] = {"apparel", "grocery", "minimal"};
    for (size_t i = 0; i < 3; i++) {
        size_t len;
        char *yaml = policy_text(names[i], &len);
        sweep_load(names[i], yaml, len, LOY_OK);
        free(yaml);
    }
    /* A policy with several errors: the diagnostics allocate too. */
    static const char bad[] = "loyalty_policy: 1\n"
                              "tiers:\n"
                              "  qualify_on: spnd\n"
                              "  levels:\n"
                              "    - {id: member}\n"
                              "    - {id: silver, at: -5}\n"
                              "    - {id: silver, at: 10.123}\n"
                              "points: {earn: {rate: {amount: 0, points: 1}}, pending_days: 9999}\n"
                              "benefits: [{id: b, kind: wrong, when: {tier_at_least: nope}}]\n";
    sweep_load("bad.yaml", bad, sizeof bad - 1, LOY_E_POLICY);
}

/* ------------------------------------------------------ state and import */

static void test_fault_state_bytes(void **s)
{
    (void)s;
    fault_alloc fa = {.countdown = -1};
    loy_policy *p = load_with(&fa, "apparel");
    bytes start = prepared_state(p, apparel_silver);
    long base_live = fa.live;
    long hits = 0;

    /* Writing: a freshly loaded handle has no output buffer yet. */
    for (long k = 0; k < MAX_K; k++) {
        loy_member *m = NULL;
        assert_int_equal(loy_member_create(&m, p), LOY_OK);
        assert_int_equal(loy_member_load(m, start.data, start.len), LOY_OK);
        const void *data = NULL;
        size_t len = 0;
        arm(&fa, k, false);
        int rc = loy_member_to_bytes(m, &data, &len);
        long failures = fa.failures;
        disarm(&fa);
        if (rc == LOY_E_NOMEM) {
            assert_true(failures > 0);
        } else {
            assert_int_equal(rc, LOY_OK);
            assert_int_equal(len, start.len);
            assert_memory_equal(data, start.data, len);
        }
        assert_state(m, &start);
        loy_member_free(m);
        assert_int_equal(fa.live, base_live);
        if (failures == 0)
            break;
        hits++;
    }
    assert_true(hits >= 1);

    /* Loading into a handle that holds another member: on NOMEM it keeps it. */
    hits = 0;
    for (long k = 0; k < MAX_K; k++) {
        loy_member *m = NULL;
        assert_int_equal(loy_member_new(&m, p, "M-OTHER", "2024-05-05"), LOY_OK);
        assert_int_equal(loy_member_add_tag(m, "x"), LOY_OK);
        bytes other = state_of(m);
        arm(&fa, k, k % 2 == 1);
        int rc = loy_member_load(m, start.data, start.len);
        long failures = fa.failures;
        disarm(&fa);
        if (rc == LOY_E_NOMEM) {
            assert_true(loy_member_error(m)[0] != '\0');
            assert_state(m, &other);
        } else {
            assert_int_equal(rc, LOY_OK);
            assert_state(m, &start);
        }
        free(other.data);
        loy_member_free(m);
        assert_int_equal(fa.live, base_live);
        if (failures == 0)
            break;
        hits++;
    }
    assert_true(hits >= 3);

    /* Handles themselves. */
    for (long k = 0; k < 4; k++) {
        loy_member *m = (loy_member *)&fa;
        loy_event *e = (loy_event *)&fa;
        loy_result *r = (loy_result *)&fa;
        arm(&fa, 0, false);
        assert_int_equal(loy_member_new(&m, p, "M-1", "2026-01-01"), LOY_E_NOMEM);
        assert_null(m);
        arm(&fa, 0, false);
        assert_int_equal(loy_event_new(&e, p), LOY_E_NOMEM);
        assert_null(e);
        arm(&fa, 0, false);
        assert_int_equal(loy_result_new(&r, p), LOY_E_NOMEM);
        assert_null(r);
        disarm(&fa);
        assert_int_equal(fa.live, base_live);
    }
    free(start.data);
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);
}

/* One import call under every k: NOMEM leaves the member as it was. */
typedef int (*import_fn)(loy_member *m);

static int import_lot(loy_member *m) { return loy_member_import_lot(m, 500, "2027-03-31"); }
static int import_month(loy_member *m) { return loy_member_import_month(m, LOY_METRIC_SPEND, "2026-10", 120000); }
static int import_gift(loy_member *m) { return loy_member_import_gift(m, "spend", "monthly-credit:2026-10"); }
static int import_surprise(loy_member *m) { return loy_member_import_gift(m, "surprise", "crab-season:2026"); }
static int import_birthday(loy_member *m) { return loy_member_import_gift(m, "birthday", "2025"); }
static int import_tag(loy_member *m) { return loy_member_add_tag(m, "vip-list"); }
static int import_tier(loy_member *m) { return loy_member_import_tier(m, "gold", "2025-06-01"); }
static int import_birthday_date(loy_member *m) { return loy_member_set_birthday(m, "1990-11-20"); }

static void test_fault_import(void **s)
{
    (void)s;
    static const import_fn calls[] = {import_lot,      import_month, import_gift, import_surprise,
                                      import_birthday, import_tag,   import_tier, import_birthday_date};
    fault_alloc fa = {.countdown = -1};
    loy_policy *p = load_with(&fa, "apparel");
    long base_live = fa.live;
    for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
        for (long k = 0; k < MAX_K; k++) {
            loy_member *m = NULL;
            assert_int_equal(loy_member_new(&m, p, "M-IMP", "2025-01-01"), LOY_OK);
            bytes before = state_of(m);
            arm(&fa, k, false);
            int rc = calls[c](m);
            long failures = fa.failures;
            disarm(&fa);
            if (rc == LOY_E_NOMEM)
                assert_state(m, &before);
            else
                assert_int_equal(rc, LOY_OK);
            free(before.data);
            loy_member_free(m);
            assert_int_equal(fa.live, base_live);
            if (failures == 0)
                break;
        }
    }
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);
}

/* ------------------------------------------------------------------- JSON */

static const char member_line[] =
    "{\"member\": {\"id\": \"M-JSON\", \"joined\": \"2025-03-02\", \"birthday\": \"1990-11-20\", "
    "\"tags\": [\"employee\", \"vip-list\"], \"tier\": \"gold\", \"tier_since\": \"2025-06-01\", "
    "\"points\": [{\"points\": 500, \"expires\": \"2027-03-31\"}, {\"points\": 70}], "
    "\"spend_by_month\": {\"2026-09\": 120000, \"2026-10\": 80000}, \"orders_by_month\": {\"2026-10\": 2}, "
    "\"orders\": 7, \"last_order\": \"2026-10-30\", "
    "\"gifts_given\": {\"upgrade\": [\"silver\"], \"birthday\": [2025], \"surprise\": [\"crab-season:2026\"], "
    "\"spend\": [\"monthly-credit:2026-10\"]}}}";

static const char *const json_lines[] = {
    "{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-11-11T20:15:00+08:00\", \"channel\": \"pos\", "
    "\"store\": \"GZ-001\", \"savings\": 0, \"lines\": [{\"sku\": \"COAT-1\", \"category\": \"coats\", "
    "\"amount\": 129900, \"qty\": 1}, {\"sku\": \"GC\", \"category\": \"gift_card\", \"amount\": 100}]}",
    "{\"query\": \"benefits\", \"at\": \"2026-11-11T20:16:00+08:00\", \"channel\": \"pos\"}",
    "{\"type\": \"use_benefit\", \"id\": \"U-1\", \"at\": \"2026-11-11T20:17:00+08:00\", \"benefit\": \"designer-salon\"}",
    "{\"type\": \"redeem\", \"id\": \"X-1\", \"at\": \"2026-11-11T20:18:00+08:00\", \"points\": 500, \"order_amount\": 200000}",
    "{\"type\": \"nonsense\", \"id\": \"Z-1\", \"at\": \"2026-11-11T20:19:00+08:00\"}",
    "{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-11-11T20:15:00\"",
    NULL};

static void test_fault_member_json(void **s)
{
    (void)s;
    fault_alloc fa = {.countdown = -1};
    loy_policy *p = load_with(&fa, "apparel");
    long base_live = fa.live;
    loy_member *m = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    assert_int_equal(loy_member_init_json(m, member_line, sizeof member_line - 1, r), LOY_OK);
    char *want_json = json_of(r);
    bytes want = state_of(m);
    loy_result_free(r);
    loy_member_free(m);

    long hits = 0;
    for (long k = 0; k < MAX_K; k++) {
        assert_int_equal(loy_member_new(&m, p, "M-OLD", "2024-01-01"), LOY_OK);
        assert_int_equal(loy_result_new(&r, p), LOY_OK);
        bytes before = state_of(m);
        arm(&fa, k, k % 2 == 1);
        int rc = loy_member_init_json(m, member_line, sizeof member_line - 1, r);
        long failures = fa.failures;
        disarm(&fa);
        if (rc == LOY_E_NOMEM) {
            assert_state(m, &before);
            assert_int_equal(loy_result_code(r), LOY_E_NOMEM);
        } else {
            assert_int_equal(rc, LOY_OK);
            assert_state(m, &want);
            char *got = json_of(r);
            assert_string_equal(got, want_json);
            free(got);
        }
        free(before.data);
        loy_result_free(r);
        loy_member_free(m);
        assert_int_equal(fa.live, base_live);
        if (failures == 0)
            break;
        hits++;
    }
    assert_true(hits >= 10);
    free(want.data);
    free(want_json);
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);
}

/* Each line through loy_apply_json_line and loy_apply_json, each k. */
static void test_fault_json_lines(void **s)
{
    (void)s;
    fault_alloc fa = {.countdown = -1};
    loy_policy *p = load_with(&fa, "apparel");
    long base_live = fa.live;

    /* The member in its start state, and the answers without faults. */
    loy_member *m = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    assert_int_equal(loy_member_init_json(m, member_line, sizeof member_line - 1, r), LOY_OK);
    bytes start = state_of(m);
    loy_result_free(r);
    loy_member_free(m);

    for (size_t i = 0; json_lines[i]; i++) {
        const char *line = json_lines[i];
        size_t len = strlen(line);
        assert_int_equal(loy_member_create(&m, p), LOY_OK);
        assert_int_equal(loy_result_new(&r, p), LOY_OK);
        assert_int_equal(loy_member_load(m, start.data, start.len), LOY_OK);
        int want_rc = loy_apply_json_line(p, m, line, len, r);
        char *want_json = json_of(r);
        bytes want = state_of(m);
        loy_result_free(r);
        loy_member_free(m);

        for (int form = 0; form < 2; form++) {
            long hits = 0;
            for (long k = 0; k < MAX_K; k++) {
                assert_int_equal(loy_member_create(&m, p), LOY_OK);
                assert_int_equal(loy_result_new(&r, p), LOY_OK);
                assert_int_equal(loy_member_load(m, start.data, start.len), LOY_OK);
                arm(&fa, k, k % 2 == 1);
                int rc = form == 0 ? loy_apply_json_line(p, m, line, len, r)
                                   : loy_apply_json(p, start.data, start.len, line, len, r);
                long failures = fa.failures;
                disarm(&fa);
                if (rc == LOY_E_NOMEM) {
                    assert_int_equal(loy_result_code(r), LOY_E_NOMEM);
                    assert_state(m, &start);
                } else {
                    if (rc != want_rc)
                        fail_msg("line %zu form %d k=%ld: got %s, want %s", i, form, k, loy_error_name(rc),
                                 loy_error_name(want_rc));
                    char *got = json_of(r);
                    assert_string_equal(got, want_json);
                    free(got);
                    if (form == 0) {
                        assert_state(m, &want);
                    } else {
                        size_t slen = 0;
                        const void *st = loy_result_state(r, &slen);
                        assert_non_null(st);
                        assert_int_equal(slen, want.len);
                        assert_memory_equal(st, want.data, slen);
                    }
                }
                loy_result_free(r);
                loy_member_free(m);
                if (fa.live != base_live)
                    fail_msg("line %zu form %d k=%ld: %ld blocks leaked", i, form, k, fa.live - base_live);
                if (failures == 0)
                    break;
                hits++;
            }
            assert_true(hits >= 1);
        }
        free(want_json);
        free(want.data);
    }
    free(start.data);
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);
}

/* loy_result_json on a result whose tree is built: failing the k-th
 * allocation of the writer gives NULL (or the text), never a wrong text;
 * the next call without a fault gives the text. */
static void test_fault_result_json(void **s)
{
    (void)s;
    fault_alloc fa = {.countdown = -1};
    loy_policy *p = load_with(&fa, "apparel");
    loy_member *m = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    assert_int_equal(loy_member_init_json(m, member_line, sizeof member_line - 1, r), LOY_OK);
    assert_int_equal(loy_apply_json_line(p, m, json_lines[0], strlen(json_lines[0]), r), LOY_OK);
    char *want = json_of(r);
    loy_result_free(r);
    long loop_live = fa.live;

    long hits = 0;
    for (long k = 0; k < MAX_K; k++) {
        loy_member *m2 = NULL;
        assert_int_equal(loy_member_create(&m2, p), LOY_OK);
        assert_int_equal(loy_result_new(&r, p), LOY_OK);
        assert_int_equal(loy_member_init_json(m2, member_line, sizeof member_line - 1, r), LOY_OK);
        assert_int_equal(loy_apply_json_line(p, m2, json_lines[0], strlen(json_lines[0]), r), LOY_OK);
        arm(&fa, k, true);
        size_t len = 12345;
        const char *json = loy_result_json(r, &len);
        long failures = fa.failures;
        disarm(&fa);
        if (json) {
            assert_string_equal(json, want);
            assert_int_equal(len, strlen(want));
        } else {
            assert_true(failures > 0);
            assert_int_equal(len, 0);
        }
        json = loy_result_json(r, &len);
        assert_non_null(json);
        assert_string_equal(json, want);
        loy_result_free(r);
        loy_member_free(m2);
        assert_int_equal(fa.live, loop_live);
        if (failures == 0)
            break;
        hits++;
    }
    assert_true(hits >= 1);
    free(want);
    loy_member_free(m);
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_policy_load),
        cmocka_unit_test(test_fault_order_with_gifts),
        cmocka_unit_test(test_fault_return),
        cmocka_unit_test(test_fault_redeem),
        cmocka_unit_test(test_fault_benefit_use),
        cmocka_unit_test(test_fault_profile),
        cmocka_unit_test(test_fault_housekeeping),
        cmocka_unit_test(test_fault_paid),
        cmocka_unit_test(test_fault_query),
        cmocka_unit_test(test_fault_state_bytes),
        cmocka_unit_test(test_fault_import),
        cmocka_unit_test(test_fault_member_json),
        cmocka_unit_test(test_fault_json_lines),
        cmocka_unit_test(test_fault_result_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
