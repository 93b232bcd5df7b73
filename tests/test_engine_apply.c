/*
 * loy_apply and loy_query_benefits (POLICY.md §10, §10.1, §11): step 1
 * with every field's refusal, duplicates (256 remembered), order and ties,
 * the order of refusals, a refused event leaving the state bytes as they
 * were (housekeeping included), the query's view, the profile event, the
 * trace and fingerprint options, out-of-memory at every allocation, and a
 * seeded random stream checking the state's invariants after each event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/engine_support.h"

static const char *const SMALL_POLICY =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  levels: [{id: member}, {id: silver, at: 1000}]\n"
    "points:\n"
    "  earn:\n"
    "    rate: {amount: 1, points: 1}\n"
    "  actions:\n"
    "    review: {points: 10}\n"
    "  pending_days: 7\n"
    "  expiry: {after_months: 12}\n"
    "  redeem: {rate: {points: 100, amount: 1}}\n";

static const char *event_id(rig *t)
{
    const loy_node *id = root_get(t, "event");
    assert_non_null(id);
    return loy_node_type(id) == LOY_NODE_NULL ? NULL : loy_node_str(id, NULL);
}

#define AT "2026-05-01T10:00:00+08:00"

/* --------------------------------------------------------------- step 1 */

static void refuse_invalid(rig *t, const char *message, const char *id)
{
    expect_refused_same(t, LOY_E_INVALID_EVENT, NULL);
    assert_string_equal(loy_result_message(t->r), message);
    assert_string_equal(loy_node_str(loy_node_get(root_get(t, "error"), "message"), NULL), message);
    if (id)
        assert_string_equal(event_id(t), id);
    else
        assert_null(event_id(t));
}

static void test_invalid_events(void **state)
{
    (void)state;
    rig t;
    rig_open(&t, load_policy_text(SMALL_POLICY), "M-1", "2026-01-01");

    /* an event never reset has no type */
    loy_event *blank = NULL;
    assert_int_equal(loy_event_new(&blank, t.p), LOY_OK);
    loy_event *keep = t.e;
    t.e = blank;
    expect_refused_same(&t, LOY_E_INVALID_EVENT, "unknown event type");
    assert_null(event_id(&t));
    t.e = keep;
    loy_event_free(blank);

    ev(&t, LOY_EVENT_TICK, NULL, AT);
    refuse_invalid(&t, "tick: missing 'id'", NULL);
    ev(&t, LOY_EVENT_TICK, "", AT);
    refuse_invalid(&t, "tick: 'id' must be a non-empty string", NULL);
    ev(&t, LOY_EVENT_TICK, "Z-\xff", AT);
    refuse_invalid(&t, "tick: 'id' must be a non-empty string", NULL);
    ev(&t, LOY_EVENT_TICK, "Z-1", NULL);
    refuse_invalid(&t, "tick: missing 'at'", "Z-1");
    ev(&t, LOY_EVENT_TICK, "Z-1", "2026-05-01T10:00:00");
    refuse_invalid(&t, "tick: 'at' must be an RFC 3339 instant with an offset", "Z-1");
    ev(&t, LOY_EVENT_TICK, "Z-1", "2026-02-30T10:00:00+08:00");
    refuse_invalid(&t, "tick: 'at' must be an RFC 3339 instant with an offset", "Z-1");
    ev(&t, LOY_EVENT_TICK, "Z-1", "2026-05-01T24:00:00+08:00");
    refuse_invalid(&t, "tick: 'at' must be an RFC 3339 instant with an offset", "Z-1");
    ev(&t, LOY_EVENT_TICK, "Z-1", AT);
    assert_int_equal(loy_event_set_channel(t.e, ""), LOY_OK);
    refuse_invalid(&t, "tick: 'channel' must be a non-empty string", "Z-1");
    ev(&t, LOY_EVENT_TICK, "Z-1", AT);
    assert_int_equal(loy_event_set_store(t.e, ""), LOY_OK);
    refuse_invalid(&t, "tick: 'store' must be a non-empty string", "Z-1");

    ev(&t, LOY_EVENT_ORDER, "Z-2", AT);
    ev_line(&t, "A", "x", -100);
    refuse_invalid(&t, "order.lines[0]: 'amount' must be >= 0", "Z-2");
    ev(&t, LOY_EVENT_ORDER, "Z-2", AT);
    ev_line(&t, "A", "x", 100);
    assert_int_equal(loy_event_add_line(t.e, "B", "x", 100, -1), LOY_OK);
    refuse_invalid(&t, "order.lines[1]: 'qty' must be >= 0", "Z-2");
    ev(&t, LOY_EVENT_ORDER, "Z-2", AT);
    ev_line(&t, "", "x", 100);
    refuse_invalid(&t, "order.lines[0]: 'sku' must be a non-empty string", "Z-2");
    ev(&t, LOY_EVENT_ORDER, "Z-2", AT);
    ev_line(&t, "A", "", 100);
    refuse_invalid(&t, "order.lines[0]: 'category' must be a non-empty string", "Z-2");
    ev(&t, LOY_EVENT_ORDER, "Z-2", AT);
    assert_int_equal(loy_event_set_savings(t.e, -1), LOY_OK);
    refuse_invalid(&t, "order: 'savings' must be >= 0", "Z-2");

    ev(&t, LOY_EVENT_RETURN, "Z-3", AT);
    assert_int_equal(loy_event_set_original(t.e, "O-1", AT, 100, 1), LOY_OK);
    refuse_invalid(&t, "return: missing 'amount'", "Z-3");
    ev(&t, LOY_EVENT_RETURN, "Z-3", AT);
    assert_int_equal(loy_event_set_amount(t.e, 100), LOY_OK);
    refuse_invalid(&t, "return: missing 'original'", "Z-3");
    ev_return(&t, "Z-3", AT, 100, "", AT, 100, 1);
    refuse_invalid(&t, "return.original: 'id' must be a non-empty string", "Z-3");
    ev_return(&t, "Z-3", AT, 100, "O-1", "yesterday", 100, 1);
    refuse_invalid(&t, "return.original: 'at' must be an RFC 3339 instant with an offset", "Z-3");
    ev_return(&t, "Z-3", AT, -1, "O-1", AT, 100, 1);
    refuse_invalid(&t, "return: 'amount' must be >= 0", "Z-3");
    ev_return(&t, "Z-3", AT, 100, "O-1", AT, 100, -1);
    refuse_invalid(&t, "return.original: 'points' must be >= 0", "Z-3");
    ev_return(&t, "Z-3", AT, 101, "O-1", AT, 100, 1);
    refuse_invalid(&t, "return: refunded amount exceeds the original order amount", "Z-3");
    /* one second later in the same place, or the same instant written in
     * another offset an hour later */
    ev_return(&t, "Z-3", AT, 100, "O-1", "2026-05-01T10:00:01+08:00", 100, 1);
    refuse_invalid(&t, "return: the original order is later than the return", "Z-3");
    ev_return(&t, "Z-3", AT, 100, "O-1", "2026-05-01T03:00:01+01:00", 100, 1);
    refuse_invalid(&t, "return: the original order is later than the return", "Z-3");

    ev(&t, LOY_EVENT_ACTION, "Z-4", AT);
    refuse_invalid(&t, "action: missing 'kind'", "Z-4");
    /* An empty kind is an unknown one (test_empty_names_are_unknown); bytes
     * that are not UTF-8 are not a kind at all. */
    ev_action(&t, "Z-4", AT, "\xff");
    refuse_invalid(&t, "action: 'kind' must be a string of UTF-8", "Z-4");

    ev(&t, LOY_EVENT_REDEEM, "Z-5", AT);
    assert_int_equal(loy_event_set_order_amount(t.e, 100), LOY_OK);
    refuse_invalid(&t, "redeem: missing 'points'", "Z-5");
    ev(&t, LOY_EVENT_REDEEM, "Z-5", AT);
    assert_int_equal(loy_event_set_points(t.e, 100), LOY_OK);
    refuse_invalid(&t, "redeem: missing 'order_amount'", "Z-5");
    ev_redeem(&t, "Z-5", AT, -5, 100);
    refuse_invalid(&t, "redeem: 'points' must be >= 1", "Z-5");
    ev_redeem(&t, "Z-5", AT, 100, -1);
    refuse_invalid(&t, "redeem: 'order_amount' must be >= 0", "Z-5");

    ev(&t, LOY_EVENT_USE_BENEFIT, "Z-6", AT);
    refuse_invalid(&t, "use_benefit: missing 'benefit'", "Z-6");
    ev(&t, LOY_EVENT_JOIN_PAID, "Z-7", AT);
    refuse_invalid(&t, "join_paid: missing 'plan'", "Z-7");
    ev(&t, LOY_EVENT_PROFILE, "Z-8", AT);
    refuse_invalid(&t, "profile: needs 'birthday' or 'tags'", "Z-8");
    ev(&t, LOY_EVENT_PROFILE, "Z-8", AT);
    assert_int_equal(loy_event_set_birthday(t.e, "1990-02-30"), LOY_OK);
    refuse_invalid(&t, "profile: 'birthday' must be a date YYYY-MM-DD", "Z-8");
    ev(&t, LOY_EVENT_PROFILE, "Z-8", AT);
    assert_int_equal(loy_event_add_tag(t.e, ""), LOY_OK);
    refuse_invalid(&t, "profile.tags[0]: a tag must be a non-empty string", "Z-8");

    /* Nothing above was remembered: the ids are all still free. A return at
     * the very instant of its order is fine. */
    ev_return(&t, "Z-3", AT, 100, "O-1", AT, 100, 1);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 0, \"source\": \"return\", \"order\": \"O-1\", \"shortfall\": 1}]");
    rig_close(&t);
}

/* ------------------------------------------------------ duplicates, order */

static void test_duplicates_256_remembered(void **state)
{
    (void)state;
    rig t;
    rig_open(&t, load_policy_text(SMALL_POLICY), "M-1", "2026-01-01");
    char id[16];
    for (int i = 0; i <= 256; i++) {
        snprintf(id, sizeof id, "E-%d", i);
        tick(&t, id, "2026-01-01T00:00:00Z");
    }
    /* The last 256 are remembered, whatever their order of arrival. */
    for (int i = 256; i >= 1; i--) {
        snprintf(id, sizeof id, "E-%d", i);
        ev(&t, LOY_EVENT_TICK, id, "2026-01-02T00:00:00Z");
        expect_refused_same(&t, LOY_E_DUPLICATE, id);
        assert_string_equal(event_id(&t), id);
    }
    /* Refusals are not remembered, so the oldest is still the one forgotten. */
    tick(&t, "E-0", "2026-01-02T00:00:00Z");
    /* ... and now E-1 has gone. */
    tick(&t, "E-1", "2026-01-02T00:00:00Z");
    ev(&t, LOY_EVENT_TICK, "E-0", "2026-01-02T00:00:00Z");
    expect_refused_same(&t, LOY_E_DUPLICATE, NULL);
    rig_close(&t);
}

static void test_order_ties_and_refusal_precedence(void **state)
{
    (void)state;
    rig t;
    rig_open(&t, load_policy_text(SMALL_POLICY), "M-1", "2026-01-01");
    tick(&t, "T-1", "2026-01-01T10:00:00+08:00");
    ev(&t, LOY_EVENT_TICK, "T-2", "2026-01-01T09:59:59+08:00");
    expect_refused_same(&t, LOY_E_OUT_OF_ORDER, NULL);
    /* the same instant in another offset: a tie, accepted */
    tick(&t, "T-3", "2026-01-01T02:00:00Z");
    ev(&t, LOY_EVENT_TICK, "T-4", "2026-01-01T01:59:59.999999Z");
    expect_refused_same(&t, LOY_E_OUT_OF_ORDER, NULL);
    /* digits past the microsecond are ignored: still a tie */
    tick(&t, "T-5", "2026-01-01T02:00:00.0000009Z");
    /* an earlier local date in a later instant is accepted */
    ev(&t, LOY_EVENT_TICK, "T-6", "2026-01-01T03:00:00+09:00");
    expect_refused_same(&t, LOY_E_OUT_OF_ORDER, NULL);
    tick(&t, "T-7", "2025-12-31T23:00:00-04:00");
    /* invalid comes before duplicate, duplicate before out of order */
    ev(&t, LOY_EVENT_TICK, "T-1", "not a time");
    expect_refused_same(&t, LOY_E_INVALID_EVENT, NULL);
    ev(&t, LOY_EVENT_TICK, "T-1", "2020-01-01T00:00:00Z");
    expect_refused_same(&t, LOY_E_DUPLICATE, NULL);
    /* events before joining are accepted */
    rig_close(&t);
    rig_open(&t, load_policy_text(SMALL_POLICY), "M-1", "2026-01-01");
    tick(&t, "T-0", "2025-06-01T00:00:00Z");
    rig_close(&t);
}

static void test_refusal_undoes_housekeeping(void **state)
{
    (void)state;
    rig t;
    rig_open(&t, load_policy_text(SMALL_POLICY), "M-1", "2026-01-01");
    assert_int_equal(loy_member_import_lot(t.m, 100, "2026-01-31"), LOY_OK);
    ev_order1(&t, "O-1", "2026-01-28T10:00:00Z", "x", 50000);
    assert_int_equal(apply(&t), LOY_OK);
    /* On Feb 1 the 100 expire and the 500 are still pending: the redemption
     * fails after housekeeping ran on the working copy. */
    ev_redeem(&t, "X-1", "2026-02-01T10:00:00Z", 100, 100000);
    expect_refused_same(&t, LOY_E_INSUFFICIENT_POINTS, "100 points asked, 0 available");
    assert_int_equal(loy_member_points_available(t.m), 100);
    assert_int_equal(loy_member_points_pending(t.m), 500);
    expect_lots(t.m, "100@2026-01-31 500@2027-01-31/2026-02-04");
    /* The same id later: housekeeping again, then the redemption. */
    ev_redeem(&t, "X-1", "2026-02-04T10:00:00Z", 100, 100000);
    expect_effects(&t, "[{\"type\": \"points_released\", \"points\": 500, \"order\": \"O-1\"},"
                       " {\"type\": \"points\", \"delta\": -100, \"source\": \"expiry\", \"expires\": \"2026-01-31\"},"
                       " {\"type\": \"points\", \"delta\": -100, \"source\": \"redeem\", \"value\": 100}]");
    rig_close(&t);
}

/* ----------------------------------------------------------------- query */

static void test_query_sees_housekeeping_without_changing(void **state)
{
    (void)state;
    rig t;
    rig_open(&t, load_policy_text(SMALL_POLICY), "M-1", "2026-01-01");
    loy_result_set_options(t.r, 0);
    ev_order1(&t, "O-1", "2026-05-01T10:00:00+08:00", "x", 100000);
    assert_int_equal(apply(&t), LOY_OK);
    snapshot before = snap_take(t.m);
    assert_int_equal(query(&t, "2026-05-08T00:00:00+08:00", "app", NULL), LOY_OK);
    assert_node_json(loy_result_root(t.r),
                     "{\"query\": \"benefits\", \"at\": \"2026-05-08T00:00:00+08:00\", \"benefits\": [],"
                     " \"member\": {\"tier\": \"silver\", \"points\": {\"available\": 1000, \"pending\": 0}, \"stage\": null}}");
    snap_expect_same(t.m, &before);
    assert_int_equal(loy_member_points_pending(t.m), 1000);
    /* before the last event: the state as it is (nothing undone either) */
    assert_int_equal(query(&t, "2026-04-30T00:00:00+08:00", NULL, NULL), LOY_OK);
    expect_member(&t, "{\"tier\": \"silver\", \"points\": {\"available\": 0, \"pending\": 1000}, \"stage\": null}");
    /* a malformed instant */
    assert_int_equal(query(&t, "yesterday", NULL, NULL), LOY_E_INVALID_QUERY);
    assert_node_json(loy_result_root(t.r),
                     "{\"query\": \"benefits\", \"error\": {\"code\": \"LOY_E_INVALID_QUERY\","
                     " \"message\": \"'at' must be an RFC 3339 instant with an offset\"}}");
    assert_int_equal(query(&t, NULL, NULL, NULL), LOY_E_INVALID_QUERY);
    rig_close(&t);
}

/* --------------------------------------------------------------- profile */

static void test_profile_event(void **state)
{
    (void)state;
    rig t;
    rig_open(&t, load_policy_text(SMALL_POLICY), "M-1", "2026-01-01");
    assert_int_equal(loy_member_add_tag(t.m, "old"), LOY_OK);
    ev(&t, LOY_EVENT_PROFILE, "F-1", AT);
    assert_int_equal(loy_event_set_birthday(t.e, "1990-11-20"), LOY_OK);
    assert_int_equal(loy_event_add_tag(t.e, "vip"), LOY_OK);
    assert_int_equal(loy_event_add_tag(t.e, "staff"), LOY_OK);
    assert_int_equal(loy_event_add_tag(t.e, "vip"), LOY_OK);
    expect_effects(&t, "[]");
    assert_int_equal(t.m->tag_count, 2);
    assert_string_equal(t.m->tags[0], "vip");
    assert_string_equal(t.m->tags[1], "staff");
    char bday[11];
    loy_format_date(t.m->birthday, bday);
    assert_string_equal(bday, "1990-11-20");
    /* birthday null removes it; tags cleared to none */
    ev(&t, LOY_EVENT_PROFILE, "F-2", AT);
    assert_int_equal(loy_event_set_birthday(t.e, NULL), LOY_OK);
    assert_int_equal(loy_event_clear_tags(t.e), LOY_OK);
    expect_effects(&t, "[]");
    assert_int_equal(t.m->birthday, LOY_DAY_NONE);
    assert_int_equal(t.m->tag_count, 0);
    /* tags only: the birthday stays */
    ev(&t, LOY_EVENT_PROFILE, "F-3", AT);
    assert_int_equal(loy_event_set_birthday(t.e, "2000-02-29"), LOY_OK);
    assert_int_equal(apply(&t), LOY_OK);
    ev(&t, LOY_EVENT_PROFILE, "F-4", AT);
    assert_int_equal(loy_event_add_tag(t.e, "x"), LOY_OK);
    assert_int_equal(apply(&t), LOY_OK);
    loy_format_date(t.m->birthday, bday);
    assert_string_equal(bday, "2000-02-29");
    assert_int_equal(t.m->tag_count, 1);
    rig_close(&t);
}

/* ------------------------------------------------------ trace, fingerprint */

static void test_trace_and_fingerprint(void **state)
{
    (void)state;
    rig t;
    rig_open(&t, load_policy_text(SMALL_POLICY), "M-1", "2026-01-01");
    loy_result_set_options(t.r, LOY_RESULT_TRACE | LOY_RESULT_FINGERPRINT);
    ev_order1(&t, "O-1", "2026-05-01T10:00:00+08:00", "x", 100000);
    assert_int_equal(apply(&t), LOY_OK);
    char hex[17];
    loy_policy_fingerprint_hex(t.p, hex);
    assert_string_equal(loy_node_str(root_get(&t, "policy"), NULL), hex);
    const loy_node *trace = root_get(&t, "trace");
    assert_int_equal(loy_node_type(trace), LOY_NODE_LIST);
    bool upgrade = false;
    for (const loy_node *e = loy_node_first(trace); e; e = loy_node_next(e)) {
        assert_int_equal(loy_node_type(loy_node_get(e, "step")), LOY_NODE_INT);
        assert_int_equal(loy_node_type(loy_node_get(e, "applied")), LOY_NODE_BOOL);
        assert_non_null(loy_node_str(loy_node_get(e, "rule"), NULL));
        assert_non_null(loy_node_str(loy_node_get(e, "why"), NULL));
        const char *rule = loy_node_str(loy_node_get(e, "rule"), NULL);
        if (strcmp(rule, "upgrade") == 0) {
            upgrade = true;
            assert_int_equal(loy_node_int(loy_node_get(e, "step")), 4);
            assert_true(loy_node_bool(loy_node_get(e, "applied")));
        }
    }
    assert_true(upgrade);
    /* off: neither key */
    loy_result_set_options(t.r, 0);
    tick(&t, "T-1", "2026-05-09T10:00:00+08:00");
    assert_null(root_get(&t, "trace"));
    assert_null(root_get(&t, "policy"));
    assert_node_json(loy_result_root(t.r),
                     "{\"event\": \"T-1\", \"effects\": [{\"type\": \"points_released\", \"points\": 1000, \"order\": \"O-1\"}],"
                     " \"member\": {\"tier\": \"silver\", \"points\": {\"available\": 1000, \"pending\": 0}, \"stage\": null}}");
    rig_close(&t);
}

/* ------------------------------------------------------- out of memory */

typedef struct fail_alloc {
    long calls;
    long fail_at;       /* the call that fails; -1: never */
} fail_alloc;

static void *fa_malloc(void *ctx, size_t n)
{
    fail_alloc *f = ctx;
    if (f->fail_at >= 0 && f->calls++ >= f->fail_at)
        return NULL;
    return malloc(n);
}

static void *fa_realloc(void *ctx, void *p, size_t n)
{
    fail_alloc *f = ctx;
    if (f->fail_at >= 0 && f->calls++ >= f->fail_at)
        return NULL;
    return realloc(p, n);
}

static void fa_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static void test_nomem_at_every_allocation(void **state)
{
    (void)state;
    fail_alloc fa = {0, -1};
    loy_allocator a = {fa_malloc, fa_realloc, fa_free, &fa};
    loy_policy *p = NULL;
    const char *yaml = SMALL_POLICY;
    assert_int_equal(loy_policy_load_buffer_ex(&p, yaml, strlen(yaml), "t.yaml", NULL, &a), LOY_OK);
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_member_import_lot(m, 300, "2026-01-31"), LOY_OK);
    loy_event *e = NULL;
    assert_int_equal(loy_event_new(&e, p), LOY_OK);
    assert_int_equal(loy_event_reset(e, LOY_EVENT_ORDER, "O-1", "2026-02-01T10:00:00Z"), LOY_OK);
    assert_int_equal(loy_event_add_line(e, "A", "x", 200000, 1), LOY_OK);
    snapshot before = snap_take(m);
    bool done = false;
    for (long n = 0; n < 10000 && !done; n++) {
        loy_result *r = NULL;
        assert_int_equal(loy_result_new(&r, p), LOY_OK);
        loy_result_set_options(r, LOY_RESULT_TRACE);
        fa.calls = 0;
        fa.fail_at = n;
        int rc = loy_apply(p, m, e, r);
        fa.fail_at = -1;
        if (rc == LOY_OK) {
            done = true;
            assert_int_equal(loy_member_points_pending(m), 2000);
        } else {
            assert_int_equal(rc, LOY_E_NOMEM);
            assert_int_equal(loy_result_code(r), LOY_E_NOMEM);
            snapshot again = before;
            again.bytes = malloc(before.len ? before.len : 1);
            memcpy(again.bytes, before.bytes, before.len);
            snap_expect_same(m, &again);
        }
        loy_result_free(r);
    }
    assert_true(done);
    free(before.bytes);
    loy_event_free(e);
    loy_member_free(m);
    loy_policy_free(p);
}

/* §11.1 asks only id, channel, store, sku and category to be non-empty:
 * through the setters, as through JSON, an empty kind, benefit or plan is a
 * name the policy lacks, while bytes that are not UTF-8 are still refused. */
static void test_empty_names_are_unknown(void **state)
{
    (void)state;
    rig t;
    rig_open(&t, load_policy_file("grocery.yaml"), "M-1", "2026-01-01");
    const char *at = "2026-02-01T10:00:00+08:00";

    ev_action(&t, "A-1", at, "");
    assert_int_equal(apply(&t), LOY_OK);
    assert_int_equal(loy_member_points_available(t.m), 0);

    ev(&t, LOY_EVENT_USE_BENEFIT, "U-1", at);
    assert_int_equal(loy_event_set_benefit(t.e, ""), LOY_OK);
    assert_int_equal(apply(&t), LOY_E_UNKNOWN_BENEFIT);

    ev(&t, LOY_EVENT_JOIN_PAID, "P-1", at);
    assert_int_equal(loy_event_set_plan(t.e, ""), LOY_OK);
    assert_int_equal(apply(&t), LOY_E_UNKNOWN_PLAN);

    ev_action(&t, "A-2", at, "\xff");
    assert_int_equal(apply(&t), LOY_E_INVALID_EVENT);

    ev(&t, LOY_EVENT_ACTION, "A-3", at);
    assert_int_equal(apply(&t), LOY_E_INVALID_EVENT);
    rig_close(&t);
}

static void test_steady_state_does_not_allocate(void **state)
{
    (void)state;
    fail_alloc fa = {0, 1L << 40};
    loy_allocator a = {fa_malloc, fa_realloc, fa_free, &fa};
    loy_policy *p = NULL;
    const char *yaml = SMALL_POLICY;
    assert_int_equal(loy_policy_load_buffer_ex(&p, yaml, strlen(yaml), "t.yaml", NULL, &a), LOY_OK);
    loy_member *m = NULL;
    loy_event *e = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_event_new(&e, p), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    char id[16], at[40];
    for (int i = 0; i < 40; i++) {
        if (i == 20)
            fa.calls = 0;
        snprintf(id, sizeof id, "A-%d", i);
        snprintf(at, sizeof at, "2026-02-%02dT10:00:00Z", i % 28 + 1);
        if (i >= 28)
            snprintf(at, sizeof at, "2026-03-%02dT10:00:00Z", i - 27);
        assert_int_equal(loy_event_reset(e, LOY_EVENT_ACTION, id, at), LOY_OK);
        assert_int_equal(loy_event_set_kind(e, "review"), LOY_OK);
        assert_int_equal(loy_apply(p, m, e, r), LOY_OK);
    }
    /* Twenty events after the warm-up: the working copy, the lots and the
     * result's arena are all reused. */
    assert_int_equal(fa.calls, 0);
    assert_int_equal(loy_member_points_available(m), 400);
    loy_result_free(r);
    loy_event_free(e);
    loy_member_free(m);
    loy_policy_free(p);
}

/* --------------------------------------------------------- property test */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static int64_t rnd_in(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static void format_at(char out[40], int64_t seconds)
{
    loy_day day = (loy_day)(seconds / 86400);
    int64_t s = seconds % 86400;
    char date[11];
    loy_format_date(day, date);
    snprintf(out, 40, "%sT%02d:%02d:%02d+08:00", date, (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
}

static void check_invariants(rig *t)
{
    const loy_member *m = t->m;
    int64_t available = 0, pending = 0, prev_key = INT64_MIN;
    for (size_t i = 0; i < m->lot_count; i++) {
        const loy_lot *lot = &m->lots[i];
        assert_true(lot->points > 0);
        int64_t key = lot->expires == LOY_DAY_NONE ? INT64_MAX : lot->expires;
        assert_true(key >= prev_key);
        prev_key = key;
        if (lot->pending_until == LOY_DAY_NONE)
            available += lot->points;
        else
            pending += lot->points;
    }
    assert_true(m->debt >= 0);
    if (!t->p->points.negative_balance)
        assert_int_equal(m->debt, 0);
    assert_int_equal(loy_member_points_available(m), available - m->debt);
    assert_int_equal(loy_member_points_pending(m), pending);
    const loy_node *pts = loy_node_get(root_get(t, "member"), "points");
    assert_int_equal(loy_node_int(loy_node_get(pts, "available")), available - m->debt);
    assert_int_equal(loy_node_int(loy_node_get(pts, "pending")), pending);

    /* the state bytes round-trip exactly */
    const void *data;
    size_t len;
    assert_int_equal(loy_member_to_bytes(t->m, &data, &len), LOY_OK);
    uint8_t *copy = malloc(len);
    memcpy(copy, data, len);
    loy_member *other = NULL;
    assert_int_equal(loy_member_create(&other, t->p), LOY_OK);
    assert_int_equal(loy_member_load(other, copy, len), LOY_OK);
    const void *data2;
    size_t len2;
    assert_int_equal(loy_member_to_bytes(other, &data2, &len2), LOY_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(data2, copy, len);
    loy_member_free(other);
    free(copy);
}

/* The sum of `points` deltas in the last result. */
static int64_t points_deltas(rig *t)
{
    int64_t sum = 0;
    for (const loy_node *e = loy_node_first(root_get(t, "effects")); e; e = loy_node_next(e)) {
        const char *type = loy_node_str(loy_node_get(e, "type"), NULL);
        if (strcmp(type, "points") == 0)
            sum += loy_node_int(loy_node_get(e, "delta"));
    }
    return sum;
}

typedef struct past_order {
    char id[16];
    char at[40];
    int64_t amount;
    int64_t points;
} past_order;

static void random_stream(const char *policy_text, uint64_t seed, int events)
{
    rng_state = seed;
    rig t;
    rig_open(&t, load_policy_text(policy_text), "M-P", "2026-01-01");
    loy_result_set_options(t.r, 0);
    assert_int_equal(loy_member_set_birthday(t.m, "1990-03-10"), LOY_OK);
    assert_int_equal(loy_member_import_lot(t.m, 500, "2026-06-30"), LOY_OK);
    static const char *const cats[] = {"coats", "shirts", "gift_card", "shipping", "dresses"};
    static const char *const kinds[] = {"signup", "review", "share", "dance"};
    static const char *const benefits[] = {"member-price", "designer-salon", "alteration", "nope"};
    past_order orders[64];
    int order_count = 0;
    char accepted[64][16];     /* the latest accepted ids, a ring: all remembered */
    int accepted_count = 0;
    int64_t now = (int64_t)loy_day_from_ymd(2026, 1, 2) * 86400 + 36000;
    int64_t last_ok = now;
    int ok_count = 0, refused = 0, debt_seen = 0;

    for (int i = 0; i < events; i++) {
        char id[16], at[40];
        snprintf(id, sizeof id, "E-%d", i);
        bool backwards = rnd_in(0, 99) < 4;
        int64_t when = backwards ? last_ok - rnd_in(1, 86400 * 3) : now + rnd_in(0, 86400 * 4);
        if (!backwards)
            now = when;
        format_at(at, when);
        int kind = (int)rnd_in(0, 99);
        int64_t order_amount = -1;
        int expect = LOY_OK;       /* LOY_OK: anything goes */
        if (kind < 35) {
            ev(&t, LOY_EVENT_ORDER, id, at);
            int lines = (int)rnd_in(0, 3);
            order_amount = 0;
            for (int l = 0; l < lines; l++) {
                int64_t a = rnd_in(0, 300000);
                order_amount += a;
                ev_line(&t, "SKU", cats[rnd_in(0, 4)], a);
            }
        } else if (kind < 45 && order_count > 0) {
            past_order *o = &orders[rnd_in(0, order_count - 1)];
            int64_t refund = rnd_in(0, o->amount);
            ev_return(&t, id, at, refund, o->id, o->at, o->amount, o->points);
            if (rnd_in(0, 2) == 0)
                ev_line(&t, "SKU", cats[rnd_in(0, 4)], rnd_in(0, refund));
        } else if (kind < 60) {
            ev_action(&t, id, at, kinds[rnd_in(0, 3)]);
        } else if (kind < 70) {
            /* Mostly all that is there (so later returns run into debt),
             * sometimes an amount that fails a check. */
            int64_t avail = loy_member_points_available(t.m);
            int64_t ask = avail >= 100 && rnd_in(0, 3) ? avail / 100 * 100 : rnd_in(1, 5000);
            ev_redeem(&t, id, at, ask, rnd_in(0, 3) ? 1000000000 : rnd_in(0, 500000));
        } else if (kind < 80) {
            ev(&t, LOY_EVENT_TICK, id, at);
        } else if (kind < 84) {
            ev(&t, LOY_EVENT_PROFILE, id, at);
            if (rnd_in(0, 1))
                assert_int_equal(loy_event_set_birthday(t.e, rnd_in(0, 1) ? "1991-02-28" : NULL), LOY_OK);
            else
                assert_int_equal(loy_event_add_tag(t.e, rnd_in(0, 1) ? "employee" : "vip-list"), LOY_OK);
        } else if (kind < 90) {
            ev(&t, LOY_EVENT_USE_BENEFIT, id, at);
            assert_int_equal(loy_event_set_benefit(t.e, benefits[rnd_in(0, 3)]), LOY_OK);
        } else if (kind < 93) {
            ev(&t, LOY_EVENT_ORDER, id, at);
            ev_line(&t, "SKU", "coats", -1);
            expect = LOY_E_INVALID_EVENT;
        } else if (accepted_count > 0) {
            ev(&t, LOY_EVENT_TICK, accepted[rnd_in(0, (accepted_count < 64 ? accepted_count : 64) - 1)], at);
            expect = LOY_E_DUPLICATE;
        } else {
            ev(&t, LOY_EVENT_TICK, id, at);
        }

        snapshot before = snap_take(t.m);
        int64_t total_before = loy_member_points_available(t.m) + loy_member_points_pending(t.m);
        int rc = apply(&t);
        if (expect != LOY_OK)
            assert_int_equal(rc, expect);
        else if (backwards)
            /* a return may name an order later than itself: invalid first */
            assert_true(rc == LOY_E_OUT_OF_ORDER || rc == LOY_E_INVALID_EVENT);
        if (rc != LOY_OK) {
            refused++;
            snap_expect_same(t.m, &before);
            continue;
        }
        free(before.bytes);
        ok_count++;
        last_ok = when;
        check_invariants(&t);
        if (t.m->debt > 0)
            debt_seen++;
        int64_t total_after = loy_member_points_available(t.m) + loy_member_points_pending(t.m);
        assert_int_equal(total_after - total_before, points_deltas(&t));
        snprintf(accepted[accepted_count++ % 64], 16, "%s", id);
        if (order_amount >= 0 && order_count < 64) {
            past_order *o = &orders[order_count++];
            snprintf(o->id, sizeof o->id, "%s", id);
            snprintf(o->at, sizeof o->at, "%s", at);
            o->amount = order_amount;
            o->points = 0;
            for (const loy_node *e = loy_node_first(root_get(&t, "effects")); e; e = loy_node_next(e))
                if (strcmp(loy_node_str(loy_node_get(e, "type"), NULL), "points") == 0 &&
                    strcmp(loy_node_str(loy_node_get(e, "source"), NULL), "order") == 0)
                    o->points = loy_node_int(loy_node_get(e, "delta"));
        }
    }
    /* the stream exercised both outcomes, and debts where they are allowed */
    assert_true(ok_count > events / 2);
    assert_true(refused > 0);
    if (t.p->points.negative_balance)
        assert_true(debt_seen > 0);
    rig_close(&t);
}

static void test_random_streams(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/policies/apparel.yaml", LOY_SPEC_DIR);
    char *apparel = read_text(path);
    /* The same program with negative balances allowed. */
    char *debt = malloc(strlen(apparel) + 16);
    strcpy(debt, apparel);
    char *nb = strstr(debt, "negative_balance: false");
    assert_non_null(nb);
    memcpy(nb, "negative_balance: true ", strlen("negative_balance: false"));
    for (uint64_t seed = 1; seed <= 3; seed++) {
        random_stream(apparel, 0x9E3779B97F4A7C15ull * seed, 300);
        random_stream(debt, 0xD1B54A32D192ED03ull * seed, 300);
    }
    free(debt);
    free(apparel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_events),
        cmocka_unit_test(test_duplicates_256_remembered),
        cmocka_unit_test(test_order_ties_and_refusal_precedence),
        cmocka_unit_test(test_refusal_undoes_housekeeping),
        cmocka_unit_test(test_query_sees_housekeeping_without_changing),
        cmocka_unit_test(test_profile_event),
        cmocka_unit_test(test_trace_and_fingerprint),
        cmocka_unit_test(test_nomem_at_every_allocation),
        cmocka_unit_test(test_steady_state_does_not_allocate),
        cmocka_unit_test(test_empty_names_are_unknown),
        cmocka_unit_test(test_random_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
