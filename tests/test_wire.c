/*
 * The JSON entry points (lib/wire/): member lines (§11.2), event lines
 * (§11.1) and what the wire refuses itself, queries (§11.4), the one-call
 * state form (loy_apply_json), allocations in steady state and under
 * failing allocators.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loyalty.h"
#include "support/wire_support.h"
#include "support/state_bytes.h"

#define APPAREL LOY_SPEC_DIR "/policies/apparel.yaml"
#define GROCERY LOY_SPEC_DIR "/policies/grocery.yaml"
#define MINIMAL LOY_SPEC_DIR "/policies/minimal.yaml"

/* ---------------------------------------------------------------- helpers */

typedef struct rig {
    loy_policy *p;
    loy_member *m;
    loy_result *r;
} rig;

static void rig_open(rig *g, const char *policy_path)
{
    memset(g, 0, sizeof *g);
    loy_diag *diag = NULL;
    int rc = loy_policy_load_file(&g->p, policy_path, &diag);
    if (rc != LOY_OK)
        fail_msg("%s does not load: %s", policy_path,
                 diag && loy_diag_count(diag) ? loy_diag_message(diag, 0) : loy_error_name(rc));
    loy_diag_free(diag);
    assert_int_equal(loy_member_create(&g->m, g->p), LOY_OK);
    assert_int_equal(loy_result_new(&g->r, g->p), LOY_OK);
}

static void rig_close(rig *g)
{
    loy_result_free(g->r);
    loy_member_free(g->m);
    loy_policy_free(g->p);
}

static int init(rig *g, const char *json)
{
    return loy_member_init_json(g->m, json, strlen(json), g->r);
}

static int line(rig *g, const char *json)
{
    return loy_apply_json_line(g->p, g->m, json, strlen(json), g->r);
}

/* The result's JSON equals `want` as a JSON value. */
static void result_is(loy_result *r, const char *want)
{
    size_t len;
    const char *got = loy_result_json(r, &len);
    assert_non_null(got);
    char why[600];
    if (!loy_test_json_equal(want, strlen(want), got, len, why, sizeof why))
        fail_msg("%s\n  expected: %s\n  got:      %s", why, want, got);
}

/* An error answer {KEY: id|null, "error": {"code": code, "message": ...}}
 * whose message holds `words`. */
static void error_is(loy_result *r, int rc, int code, const char *key, const char *id, const char *words)
{
    if (rc != code)
        fail_msg("returned %s, expected %s: %s", loy_error_name(rc), loy_error_name(code),
                 loy_result_json(r, NULL));
    assert_int_equal(loy_result_code(r), code);
    const loy_node *root = loy_result_root(r);
    assert_non_null(root);
    const loy_node *k = loy_node_get(root, key);
    assert_non_null(k);
    if (id) {
        assert_int_equal(loy_node_type(k), LOY_NODE_STRING);
        assert_string_equal(loy_node_str(k, NULL), id);
    } else if (strcmp(key, "event") == 0) {
        assert_int_equal(loy_node_type(k), LOY_NODE_NULL);
    }
    const loy_node *err = loy_node_get(root, "error");
    assert_non_null(err);
    assert_string_equal(loy_node_str(loy_node_get(err, "code"), NULL), loy_error_name(code));
    const char *message = loy_node_str(loy_node_get(err, "message"), NULL);
    assert_non_null(message);
    assert_string_equal(message, loy_result_message(r));
    if (words && !strstr(message, words))
        fail_msg("message '%s' does not say '%s'", message, words);
    /* The line written is JSON and says the same. */
    size_t len;
    const char *json = loy_result_json(r, &len);
    char why[600];
    char want[256];
    snprintf(want, sizeof want, "{\"%s\": %s%s%s, \"error\": {\"code\": \"%s\"}}", key, id ? "\"" : "",
             id ? id : "null", id ? "\"" : "", loy_error_name(code));
    if (strcmp(key, "event") == 0 && !loy_test_json_equal(want, strlen(want), json, len, why, sizeof why)
        && !strstr(why, "$.error.message"))
        fail_msg("%s: %s", why, json);
}

#define MEMBER_APPAREL "{\"member\": {\"id\": \"M-1\", \"joined\": \"2026-01-01\"}}"

/* ----------------------------------------------------------- member lines */

static void member_line_minimal(void **state)
{
    (void)state;
    rig g;
    rig_open(&g, APPAREL);
    assert_int_equal(init(&g, MEMBER_APPAREL), LOY_OK);
    assert_string_equal(loy_member_id(g.m), "M-1");
    result_is(g.r, "{\"member\": {\"id\": \"M-1\", \"tier\": \"member\", "
                   "\"points\": {\"available\": 0, \"pending\": 0}, \"stage\": \"registered\"}}");
    rig_close(&g);
}

/* docs/wire.md: the first of a repeated key wins for every reader, also
 * in the member line's month maps, short (checked against the earlier
 * keys) or long (checked by month number), and in gifts_given. */
static void member_line_repeated_keys(void **state)
{
    (void)state;
    for (int months = 2; months <= 120; months += 59) {
        char json[8192];
        size_t n = (size_t)snprintf(json, sizeof json,
                                    "{\"member\": {\"id\": \"M-R\", \"joined\": \"2010-01-01\", "
                                    "\"spend_by_month\": {");
        /* months - 1 distinct months of 1.00 from 2015-01, then the first
         * one again (99.00, not read), then the last one (1.00) */
        for (int i = 0; i < months - 1; i++)
            n += (size_t)snprintf(json + n, sizeof json - n, "\"%04d-%02d\": 100, ", 2015 + i / 12, i % 12 + 1);
        n += (size_t)snprintf(json + n, sizeof json - n,
                              "\"2015-01\": 9900, \"%04d-%02d\": 100}, "
                              "\"gifts_given\": {\"birthday\": [2024], \"birthday\": [\"x\"]}}}",
                              2015 + (months - 1) / 12, (months - 1) % 12 + 1);
        rig g;
        rig_open(&g, MINIMAL);
        assert_int_equal(init(&g, json), LOY_OK);
        int64_t spend = -1;
        assert_int_equal(loy_member_metric(g.m, "2026-01-01", &spend), LOY_OK);
        assert_int_equal(spend, (int64_t)months * 100);
        rig_close(&g);
    }
}

static void member_line_imports(void **state)
{
    (void)state;
    rig g;
    rig_open(&g, APPAREL);
    int rc = init(&g, "{\"member\": {\"id\": \"M-2\", \"joined\": \"2025-03-02\", \"birthday\": \"1990-11-20\","
                      " \"tags\": [\"employee\", \"vip-list\"], \"tier\": \"gold\", \"tier_since\": \"2025-06-01\","
                      " \"points\": [{\"points\": 500, \"expires\": \"2027-03-31\"}, {\"points\": 20}],"
                      " \"spend_by_month\": {\"2026-10\": 120000}, \"orders_by_month\": {\"2026-10\": 3},"
                      " \"orders\": 7, \"last_order\": \"2026-10-30\","
                      " \"gifts_given\": {\"upgrade\": [\"silver\", \"gold\"], \"birthday\": [2025],"
                      " \"surprise\": [\"crab-season:2026\"], \"spend\": [\"monthly-credit:2026-10\"]}}}");
    if (rc != LOY_OK)
        fail_msg("%s", loy_result_json(g.r, NULL));
    char since[11];
    assert_int_equal(loy_member_tier_since(g.m, since), LOY_OK);
    assert_string_equal(since, "2025-06-01");
    /* 7 lifetime orders, 3 of them in the 12 months to 2026-10: `repeat`
     * (loyal needs 4 in 12 months; the last order is 0 days old). */
    result_is(g.r, "{\"member\": {\"id\": \"M-2\", \"tier\": \"gold\", "
                   "\"points\": {\"available\": 520, \"pending\": 0}, \"stage\": \"repeat\"}}");
    assert_int_equal(loy_member_lot_count(g.m), 2);
    int64_t pts;
    char expires[11], pending[11];
    assert_int_equal(loy_member_lot(g.m, 0, &pts, expires, pending), LOY_OK);
    assert_int_equal(pts, 500);
    assert_string_equal(expires, "2027-03-31");
    assert_int_equal(loy_member_lot(g.m, 1, &pts, expires, pending), LOY_OK);
    assert_int_equal(pts, 20);
    assert_string_equal(expires, "");
    rig_close(&g);

    /* tier_since alone dates the entry tier; a running plan imports. */
    rig_open(&g, GROCERY);
    rc = init(&g, "{\"member\": {\"id\": \"G-1\", \"joined\": \"2025-01-01\", \"tier_since\": \"2025-02-01\","
                  " \"paid\": {\"plan\": \"annual\", \"until\": \"2026-12-31\"}, \"birthday\": null}}");
    if (rc != LOY_OK)
        fail_msg("%s", loy_result_json(g.r, NULL));
    assert_int_equal(loy_member_tier_since(g.m, since), LOY_OK);
    assert_string_equal(since, "2025-02-01");
    assert_string_equal(loy_member_tier(g.m), "regular");
    /* The imported annual plan opens the paid benefits. */
    assert_int_equal(line(&g, "{\"query\": \"benefits\", \"at\": \"2026-03-05T10:00:00+08:00\"}"), LOY_OK);
    const loy_node *b = loy_node_get(loy_result_root(g.r), "benefits");
    assert_int_equal(loy_node_count(b), 5);
    assert_string_equal(loy_node_str(loy_node_get(loy_node_at(b, 1), "id"), NULL), "monthly-coupons");
    assert_true(loy_node_bool(loy_node_get(loy_node_at(b, 1), "open")));
    rig_close(&g);
}

typedef struct refusal {
    const char *policy;
    const char *json;
    int code;
    const char *words;
} refusal;

#define M0 "\"id\": \"M\", \"joined\": \"2026-01-01\""

static const refusal member_refusals[] = {
    {APPAREL, "{\"member\": {" M0 ", \"nickname\": \"x\"}}", LOY_E_INVALID_MEMBER, "unknown field 'nickname'"},
    {APPAREL, "{\"member\": {" M0 ", \"birthdy\": \"1990-01-01\"}}", LOY_E_INVALID_MEMBER, "did you mean 'birthday'"},
    {APPAREL, "{\"member\": {\"joined\": \"2026-01-01\"}}", LOY_E_INVALID_MEMBER, "missing 'id'"},
    {APPAREL, "{\"member\": {\"id\": \"M\"}}", LOY_E_INVALID_MEMBER, "missing 'joined'"},
    {APPAREL, "{\"member\": {\"id\": \"\", \"joined\": \"2026-01-01\"}}", LOY_E_INVALID_MEMBER, "'id' must be a non-empty string"},
    {APPAREL, "{\"member\": {\"id\": 5, \"joined\": \"2026-01-01\"}}", LOY_E_INVALID_MEMBER, "'id' must be a non-empty string"},
    {APPAREL, "{\"member\": {\"id\": \"M\", \"joined\": 20260101}}", LOY_E_INVALID_MEMBER, "'joined' must be a string"},
    {APPAREL, "{\"member\": {\"id\": \"M\", \"joined\": \"2026-02-30\"}}", LOY_E_INVALID_MEMBER, "member.joined"},
    {APPAREL, "{\"member\": {" M0 ", \"tags\": \"vip\"}}", LOY_E_INVALID_MEMBER, "'tags' must be a list"},
    {APPAREL, "{\"member\": {" M0 ", \"tags\": [\"a\", 1]}}", LOY_E_INVALID_MEMBER, "member.tags[1]"},
    {APPAREL, "{\"member\": {" M0 ", \"birthday\": 19900101}}", LOY_E_INVALID_MEMBER, "'birthday' must be a date"},
    {APPAREL, "{\"member\": {" M0 ", \"tier\": \"diamond\"}}", LOY_E_UNKNOWN_TIER, "member.tier"},
    {APPAREL, "{\"member\": {" M0 ", \"tier\": \"\"}}", LOY_E_INVALID_MEMBER, "'tier' must be a non-empty string"},
    {GROCERY, "{\"member\": {" M0 ", \"paid\": {\"plan\": \"platinum-plus\", \"until\": \"2027-01-01\"}}}", LOY_E_UNKNOWN_PLAN, "member.paid"},
    {GROCERY, "{\"member\": {" M0 ", \"paid\": {\"plan\": \"annual\"}}}", LOY_E_INVALID_MEMBER, "member.paid: missing 'until'"},
    {GROCERY, "{\"member\": {" M0 ", \"paid\": {\"plan\": \"annual\", \"until\": \"2027-01-01\", \"fee\": 1}}}", LOY_E_INVALID_MEMBER, "member.paid: unknown field 'fee'"},
    {GROCERY, "{\"member\": {" M0 ", \"paid\": \"annual\"}}", LOY_E_INVALID_MEMBER, "'paid' must be an object"},
    {APPAREL, "{\"member\": {" M0 ", \"points\": [{\"points\": 9223372036854775808}]}}", LOY_E_OVERFLOW, "member.points[0]: 'points' does not fit int64"},
    {APPAREL, "{\"member\": {" M0 ", \"points\": [{\"points\": 1.5}]}}", LOY_E_INVALID_MEMBER, "member.points[0]: 'points' must be an integer"},
    {APPAREL, "{\"member\": {" M0 ", \"points\": [{\"points\": -5}]}}", LOY_E_INVALID_MEMBER, "'points' must be >= 0"},
    {APPAREL, "{\"member\": {" M0 ", \"points\": [{\"points\": 5, \"expire\": \"2027-01-01\"}]}}", LOY_E_INVALID_MEMBER, "did you mean 'expires'"},
    {APPAREL, "{\"member\": {" M0 ", \"points\": {\"points\": 5}}}", LOY_E_INVALID_MEMBER, "'points' must be a list"},
    {APPAREL, "{\"member\": {" M0 ", \"points\": [500]}}", LOY_E_INVALID_MEMBER, "member.points[0]: a lot must be an object"},
    {APPAREL, "{\"member\": {" M0 ", \"spend_by_month\": {\"2026-10\": \"120000\"}}}", LOY_E_INVALID_MEMBER, "member.spend_by_month: '2026-10' must be an integer"},
    {APPAREL, "{\"member\": {" M0 ", \"growth_by_month\": [1]}}", LOY_E_INVALID_MEMBER, "'growth_by_month' must be an object"},
    {APPAREL, "{\"member\": {" M0 ", \"orders_by_month\": {\"2026-10\": 99999999999999999999}}}", LOY_E_OVERFLOW, "does not fit int64"},
    {APPAREL, "{\"member\": {" M0 ", \"orders\": 1e2}}", LOY_E_INVALID_MEMBER, "'orders' must be an integer"},
    {APPAREL, "{\"member\": {" M0 ", \"last_order\": true}}", LOY_E_INVALID_MEMBER, "'last_order' must be a string"},
    {APPAREL, "{\"member\": {" M0 ", \"gifts_given\": {\"anniversary\": []}}}", LOY_E_INVALID_MEMBER, "unknown field 'anniversary'"},
    {APPAREL, "{\"member\": {" M0 ", \"gifts_given\": {\"birthday\": [\"2025\"]}}}", LOY_E_INVALID_MEMBER, "'year' must be an integer"},
    {APPAREL, "{\"member\": {" M0 ", \"gifts_given\": {\"upgrade\": \"silver\"}}}", LOY_E_INVALID_MEMBER, "'upgrade' must be a list"},
    {APPAREL, "{\"member\": {" M0 ", \"gifts_given\": {\"surprise\": [\"\"]}}}", LOY_E_INVALID_MEMBER, "member.gifts_given.surprise[0]"},
    {APPAREL, "{\"member\": {" M0 "}, \"extra\": 1}", LOY_E_INVALID_MEMBER, "unknown field 'extra' beside 'member'"},
    {APPAREL, "{\"type\": \"tick\", \"id\": \"T\", \"at\": \"2026-01-01T00:00:00Z\"}", LOY_E_INVALID_MEMBER, "must be a member object"},
    {APPAREL, "[1]", LOY_E_INVALID_MEMBER, "must be a member object"},
    {APPAREL, "{\"member\": \"M-1\"}", LOY_E_INVALID_MEMBER, "must be a member object"},
    {APPAREL, "{\"member\": {", LOY_E_JSON, "line 1, column 13"},
    {APPAREL, "", LOY_E_JSON, "line 1, column 1"},
};

static void member_line_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof member_refusals / sizeof member_refusals[0]; i++) {
        const refusal *t = &member_refusals[i];
        rig g;
        rig_open(&g, t->policy);
        int rc = init(&g, t->json);
        if (rc != t->code || !strstr(loy_result_message(g.r), t->words))
            fail_msg("%s\n  got %s: %s\n  expected %s with '%s'", t->json, loy_error_name(rc),
                     loy_result_message(g.r), loy_error_name(t->code), t->words);
        error_is(g.r, rc, t->code, "event", NULL, t->words);
        rig_close(&g);
    }
}

/* ------------------------------------------------------------ event lines */

#define AT "\"at\": \"2026-05-01T10:00:00+08:00\""
#define ORDER(id, line) "{\"type\": \"order\", \"id\": \"" id "\", " AT ", \"lines\": [" line "]}"

static const refusal event_refusals[] = {
    /* numbers (§1) */
    {NULL, ORDER("N-1", "{\"amount\": \"100\"}"), LOY_E_INVALID_EVENT, "order.lines[0]: 'amount' must be an integer"},
    {NULL, ORDER("N-2", "{\"amount\": 100.0}"), LOY_E_INVALID_EVENT, "order.lines[0]: 'amount' must be an integer"},
    {NULL, ORDER("N-3", "{\"amount\": 1e2}"), LOY_E_INVALID_EVENT, "order.lines[0]: 'amount' must be an integer"},
    {NULL, ORDER("N-4", "{\"amount\": 100, \"qty\": 1.5}"), LOY_E_INVALID_EVENT, "order.lines[0]: 'qty' must be an integer"},
    {NULL, ORDER("N-5", "{\"amount\": 1}, {\"amount\": 9223372036854775808}"), LOY_E_OVERFLOW, "order.lines[1]: 'amount' does not fit int64"},
    {NULL, ORDER("N-6", "{\"amount\": -9223372036854775809}"), LOY_E_INVALID_EVENT, "order.lines[0]: 'amount' must be >= 0"},
    {NULL, ORDER("N-7", "{\"amount\": -1}"), LOY_E_INVALID_EVENT, "'amount' must be >= 0"},
    {NULL, "{\"type\": \"order\", \"id\": \"N-8\", " AT ", \"savings\": -1}", LOY_E_INVALID_EVENT, "order: 'savings' must be >= 0"},
    {NULL, "{\"type\": \"redeem\", \"id\": \"N-9\", " AT ", \"points\": \"500\", \"order_amount\": 1}", LOY_E_INVALID_EVENT, "redeem: 'points' must be an integer"},
    {NULL, "{\"type\": \"return\", \"id\": \"N-10\", " AT ", \"amount\": 1, \"original\": {\"id\": \"O\", " AT ", \"amount\": 1, \"points\": 1.5}}", LOY_E_INVALID_EVENT, "return.original: 'points' must be an integer"},
    /* shapes */
    {NULL, "{\"type\": \"tick\", \"id\": \"S-1\", " AT ", \"channel\": 5}", LOY_E_INVALID_EVENT, "tick: 'channel' must be a non-empty string"},
    {NULL, "{\"type\": \"tick\", \"id\": \"S-2\", " AT ", \"store\": \"\"}", LOY_E_INVALID_EVENT, "tick: 'store' must be a non-empty string"},
    {NULL, "{\"type\": \"order\", \"id\": \"S-3\", " AT ", \"lines\": {}}", LOY_E_INVALID_EVENT, "order: 'lines' must be an array"},
    {NULL, ORDER("S-4", "1"), LOY_E_INVALID_EVENT, "order.lines[0]: a line must be an object"},
    {NULL, ORDER("S-5", "{\"sku\": \"A\"}"), LOY_E_INVALID_EVENT, "order.lines[0]: missing 'amount'"},
    {NULL, ORDER("S-6", "{\"sku\": 7, \"amount\": 1}"), LOY_E_INVALID_EVENT, "order.lines[0]: 'sku' must be a non-empty string"},
    {NULL, "{\"type\": \"return\", \"id\": \"S-7\", " AT ", \"amount\": 1}", LOY_E_INVALID_EVENT, "return: missing 'original'"},
    {NULL, "{\"type\": \"return\", \"id\": \"S-8\", " AT ", \"amount\": 1, \"original\": \"O-1\"}", LOY_E_INVALID_EVENT, "'original' must be an object"},
    {NULL, "{\"type\": \"return\", \"id\": \"S-9\", " AT ", \"amount\": 1, \"original\": {\"id\": \"O\", \"amount\": 1, \"points\": 1}}", LOY_E_INVALID_EVENT, "return.original: missing 'at'"},
    {NULL, "{\"type\": \"return\", \"id\": \"S-10\", " AT ", \"original\": {\"id\": \"O\", " AT ", \"amount\": 1, \"points\": 1}}", LOY_E_INVALID_EVENT, "return: missing 'amount'"},
    {NULL, "{\"type\": \"action\", \"id\": \"S-11\", " AT ", \"kind\": 5}", LOY_E_INVALID_EVENT, "action: 'kind' must be a string"},
    {NULL, "{\"type\": \"join_paid\", \"id\": \"S-12\", " AT "}", LOY_E_INVALID_EVENT, "join_paid: missing 'plan'"},
    {NULL, "{\"type\": \"profile\", \"id\": \"S-13\", " AT "}", LOY_E_INVALID_EVENT, "profile: needs 'birthday'"},
    {NULL, "{\"type\": \"profile\", \"id\": \"S-14\", " AT ", \"tags\": [\"\"]}", LOY_E_INVALID_EVENT, "profile.tags[0]"},
    {NULL, "{\"type\": \"profile\", \"id\": \"S-15\", " AT ", \"tags\": \"vip\"}", LOY_E_INVALID_EVENT, "'tags' must be a list"},
    {NULL, "{\"type\": \"profile\", \"id\": \"S-16\", " AT ", \"birthday\": 5}", LOY_E_INVALID_EVENT, "'birthday' must be a date"},
    {NULL, "{\"type\": 5, \"id\": \"S-17\", " AT "}", LOY_E_INVALID_EVENT, "'type' must be a string"},
    {NULL, "{\"id\": \"S-18\", " AT "}", LOY_E_INVALID_EVENT, "missing 'type'"},
    {NULL, "{\"type\": \"tick\", \"id\": \"S-19\", \"at\": 5}", LOY_E_INVALID_EVENT, "tick: 'at' must be an RFC 3339 instant"},
    {NULL, "{\"type\": \"tick\", \"id\": \"S-20\"}", LOY_E_INVALID_EVENT, "tick: missing 'at'"},
};

static void event_line_refusals(void **state)
{
    (void)state;
    rig g;
    rig_open(&g, APPAREL);
    assert_int_equal(init(&g, MEMBER_APPAREL), LOY_OK);
    bytes before = state_of(g.m);
    for (size_t i = 0; i < sizeof event_refusals / sizeof event_refusals[0]; i++) {
        const refusal *t = &event_refusals[i];
        int rc = line(&g, t->json);
        if (rc != t->code || !strstr(loy_result_message(g.r), t->words))
            fail_msg("%s\n  got %s: %s\n  expected %s with '%s'", t->json, loy_error_name(rc),
                     loy_result_message(g.r), loy_error_name(t->code), t->words);
        /* The id of each line above is usable, so the answer names it. */
        char id[16];
        const char *s = strstr(t->json, "\"id\": \"");
        assert_non_null(s);
        s += 7;
        size_t len = (size_t)(strchr(s, '"') - s);
        snprintf(id, sizeof id, "%.*s", (int)len, s);
        error_is(g.r, rc, t->code, "event", id, t->words);
        /* Refused: the member is unchanged byte for byte. */
        assert_state(g.m, &before);
    }
    free(before.data);
    rig_close(&g);
}

static void event_line_ids(void **state)
{
    (void)state;
    rig g;
    rig_open(&g, APPAREL);
    assert_int_equal(init(&g, MEMBER_APPAREL), LOY_OK);
    /* Without a usable id the answer's event is null. */
    error_is(g.r, line(&g, "{\"type\": \"tick\", \"id\": \"\", " AT "}"), LOY_E_INVALID_EVENT, "event", NULL,
             "tick: 'id' must be a non-empty string");
    error_is(g.r, line(&g, "{\"type\": \"tick\", \"id\": [\"T\"], " AT "}"), LOY_E_INVALID_EVENT, "event", NULL,
             "'id' must be a non-empty string");
    error_is(g.r, line(&g, "{\"type\": \"tick\", \"id\": \"T\\u0000X\", " AT "}"), LOY_E_INVALID_EVENT, "event",
             NULL, "'id' must be a non-empty string");
    error_is(g.r, line(&g, "\"tick\""), LOY_E_INVALID_EVENT, "event", NULL, "an event must be a JSON object");
    error_is(g.r, line(&g, "{\"member\": {\"id\": \"M-1\", \"joined\": \"2026-01-01\"}}"), LOY_E_INVALID_EVENT,
             "event", NULL, "may only be the first line");
    /* An unknown type still names the event when its id is usable. */
    error_is(g.r, line(&g, "{\"type\": \"refund\", \"id\": \"Z-1\", " AT "}"), LOY_E_INVALID_EVENT, "event", "Z-1",
             "unknown event type 'refund'; expected one of order, return, action, redeem, use_benefit, join_paid, profile, tick");
    /* Malformed JSON: LOY_E_JSON with the position. */
    error_is(g.r, line(&g, "{\"type\": \"tick\", \"id\": \"T-9\" " AT "}"), LOY_E_JSON, "event", NULL,
             "line 1, column 30");
    /* Duplicate keys: the first wins, for the id as for every field. */
    assert_int_equal(line(&g, "{\"type\": \"tick\", \"id\": \"T-A\", \"id\": \"T-B\", " AT ", \"at\": \"x\"}"), LOY_OK);
    result_is(g.r, "{\"event\": \"T-A\", \"effects\": [], \"member\": {\"tier\": \"member\", "
                   "\"points\": {\"available\": 0, \"pending\": 0}, \"stage\": \"registered\"}}");
    /* Unknown fields are ignored, at any depth, and so are another type's. */
    assert_int_equal(line(&g, "{\"type\": \"tick\", \"id\": \"T-C\", \"at\": \"2026-05-01T11:00:00+08:00\", "
                              "\"foo\": {\"deep\": [1, 2.5, null]}, \"points\": \"many\", \"lines\": 7}"),
                     LOY_OK);
    /* "-0" is the integer 0: an order of 0 earns nothing and is accepted. */
    assert_int_equal(line(&g, "{\"type\": \"order\", \"id\": \"O-0\", \"at\": \"2026-05-01T12:00:00+08:00\", "
                              "\"savings\": -0, \"lines\": [{\"amount\": -0, \"qty\": -0}]}"),
                     LOY_OK);
    result_is(g.r, "{\"event\": \"O-0\", \"effects\": [{\"type\": \"stage_changed\", \"from\": \"registered\", "
                   "\"to\": \"first\"}], \"member\": {\"tier\": \"member\", "
                   "\"points\": {\"available\": 0, \"pending\": 0}, \"stage\": \"first\"}}");
    rig_close(&g);
}

/*
 * profile: birthday null removes the birthday, tags replace the tags.
 * apparel: birthday gifts by month (min 30 member days), member's is
 * BDAY-20; staff-discount is open to `employee` outside tmall and douyin.
 */
static void profile_birthday_and_tags(void **state)
{
    (void)state;
    rig g;
    rig_open(&g, APPAREL);
    const char *member = "{\"member\": {\"id\": \"M-P\", \"joined\": \"2026-01-01\", \"birthday\": \"1990-06-15\"}}";

    assert_int_equal(init(&g, member), LOY_OK);
    assert_int_equal(line(&g, "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2026-06-10T10:00:00+08:00\"}"), LOY_OK);
    result_is(g.r, "{\"event\": \"T-1\", \"effects\": [{\"type\": \"gift\", \"gift\": \"birthday\", \"tier\": \"member\", "
                   "\"year\": 2026, \"reward\": {\"coupons\": [\"BDAY-20\"]}}], \"member\": {\"tier\": \"member\", "
                   "\"points\": {\"available\": 0, \"pending\": 0}, \"stage\": \"registered\"}}");

    assert_int_equal(init(&g, member), LOY_OK);
    assert_int_equal(line(&g, "{\"type\": \"profile\", \"id\": \"F-1\", \"at\": \"2026-05-01T10:00:00+08:00\", "
                              "\"birthday\": null, \"tags\": [\"employee\"]}"),
                     LOY_OK);
    assert_int_equal(line(&g, "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2026-06-10T10:00:00+08:00\"}"), LOY_OK);
    result_is(g.r, "{\"event\": \"T-1\", \"effects\": [], \"member\": {\"tier\": \"member\", "
                   "\"points\": {\"available\": 0, \"pending\": 0}, \"stage\": \"registered\"}}");
    assert_int_equal(line(&g, "{\"query\": \"benefits\", \"at\": \"2026-06-10T11:00:00+08:00\", \"channel\": \"pos\"}"),
                     LOY_OK);
    const loy_node *staff = loy_node_at(loy_node_get(loy_result_root(g.r), "benefits"), 6);
    assert_string_equal(loy_node_str(loy_node_get(staff, "id"), NULL), "staff-discount");
    assert_true(loy_node_bool(loy_node_get(staff, "open")));

    /* Tags replaced by an empty list: staff-discount closes again. */
    assert_int_equal(line(&g, "{\"type\": \"profile\", \"id\": \"F-2\", \"at\": \"2026-06-11T10:00:00+08:00\", \"tags\": []}"),
                     LOY_OK);
    assert_int_equal(line(&g, "{\"query\": \"benefits\", \"at\": \"2026-06-11T11:00:00+08:00\", \"channel\": \"pos\"}"),
                     LOY_OK);
    staff = loy_node_at(loy_node_get(loy_result_root(g.r), "benefits"), 6);
    assert_false(loy_node_bool(loy_node_get(staff, "open")));
    rig_close(&g);
}

/* ----------------------------------------------------------------- queries */

static void queries(void **state)
{
    (void)state;
    rig g;
    rig_open(&g, APPAREL);
    assert_int_equal(init(&g, MEMBER_APPAREL), LOY_OK);
    bytes before = state_of(g.m);

    error_is(g.r, line(&g, "{\"query\": \"members\", " AT "}"), LOY_E_INVALID_QUERY, "query", "members",
             "the only query is 'benefits'");
    result_is(g.r, "{\"query\": \"members\", \"error\": {\"code\": \"LOY_E_INVALID_QUERY\", \"message\": \"\"}}");
    /* The query is echoed as sent, whatever its JSON type. */
    error_is(g.r, line(&g, "{\"query\": 5}"), LOY_E_INVALID_QUERY, "query", NULL, "the only query");
    result_is(g.r, "{\"query\": 5, \"error\": {\"code\": \"LOY_E_INVALID_QUERY\", \"message\": \"\"}}");
    error_is(g.r, line(&g, "{\"query\": [\"benefits\"], \"type\": \"tick\"}"), LOY_E_INVALID_QUERY, "query", NULL,
             "the only query");
    result_is(g.r, "{\"query\": [\"benefits\"], \"error\": {\"code\": \"LOY_E_INVALID_QUERY\", \"message\": \"\"}}");
    error_is(g.r, line(&g, "{\"query\": \"benefits\"}"), LOY_E_INVALID_QUERY, "query", "benefits", "'at'");
    error_is(g.r, line(&g, "{\"query\": \"benefits\", \"at\": 5}"), LOY_E_INVALID_QUERY, "query", "benefits", "'at'");
    error_is(g.r, line(&g, "{\"query\": \"benefits\", \"at\": \"yesterday\"}"), LOY_E_INVALID_QUERY, "query",
             "benefits", NULL);
    error_is(g.r, line(&g, "{\"query\": \"benefits\", " AT ", \"channel\": 5}"), LOY_E_INVALID_QUERY, "query",
             "benefits", "'channel' must be a non-empty string");

    assert_int_equal(line(&g, "{\"query\": \"benefits\", \"at\": \"2026-05-01T10:00:00.5+08:00\", \"store\": \"S\"}"),
                     LOY_OK);
    const loy_node *root = loy_result_root(g.r);
    assert_string_equal(loy_node_str(loy_node_get(root, "query"), NULL), "benefits");
    assert_string_equal(loy_node_str(loy_node_get(root, "at"), NULL), "2026-05-01T10:00:00.5+08:00");
    assert_int_equal(loy_node_count(loy_node_get(root, "benefits")), 7);

    /* Queries never change the member. */
    assert_state(g.m, &before);
    free(before.data);
    rig_close(&g);
}

/* ------------------------------------------------------- loy_apply_json */

static void *dup_bytes(const void *p, size_t n)
{
    void *q = malloc(n ? n : 1);
    memcpy(q, p, n);
    return q;
}

static void apply_json_state_form(void **state)
{
    (void)state;
    rig g;
    rig_open(&g, APPAREL);
    assert_int_equal(init(&g, MEMBER_APPAREL), LOY_OK);
    const void *data;
    size_t n0;
    assert_int_equal(loy_member_to_bytes(g.m, &data, &n0), LOY_OK);
    void *s0 = dup_bytes(data, n0);

    /* A fresh result has no state. */
    loy_result *r = NULL;
    assert_int_equal(loy_result_new(&r, g.p), LOY_OK);
    size_t len = 99;
    assert_null(loy_result_state(r, &len));
    assert_int_equal(len, 0);

    const char *order = "{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-05-01T10:00:00+08:00\", "
                        "\"lines\": [{\"sku\": \"C\", \"category\": \"coats\", \"amount\": 100000}]}";
    assert_int_equal(loy_apply_json(g.p, s0, n0, order, strlen(order), r), LOY_OK);
    /* The same event through a member handle gives the same answer. */
    assert_int_equal(line(&g, order), LOY_OK);
    size_t a_len;
    const char *a = loy_result_json(g.r, &a_len);
    result_is(r, a);
    size_t n1;
    const void *st = loy_result_state(r, &n1);
    assert_non_null(st);
    assert_int_equal(loy_member_to_bytes(g.m, &data, &len), LOY_OK);
    assert_int_equal(n1, len);
    assert_memory_equal(st, data, n1);
    void *s1 = dup_bytes(st, n1);

    /* Refused, a query, malformed: the input bytes come back unchanged. */
    const char *inputs[] = {
        order,  /* LOY_E_DUPLICATE */
        "{\"query\": \"benefits\", \"at\": \"2026-05-02T10:00:00+08:00\"}",
        "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2026-04-01T10:00:00+08:00\"}", /* out of order */
        "{\"type\": \"tick\"",
    };
    const int codes[] = {LOY_E_DUPLICATE, LOY_OK, LOY_E_OUT_OF_ORDER, LOY_E_JSON};
    for (size_t i = 0; i < 4; i++) {
        int rc = loy_apply_json(g.p, s1, n1, inputs[i], strlen(inputs[i]), r);
        if (rc != codes[i])
            fail_msg("%s: %s", inputs[i], loy_result_json(r, NULL));
        st = loy_result_state(r, &len);
        assert_non_null(st);
        assert_int_equal(len, n1);
        assert_memory_equal(st, s1, n1);
    }

    /* The result's own state buffer may be passed back in. */
    const char *tick2 = "{\"type\": \"tick\", \"id\": \"T-2\", \"at\": \"2026-05-09T10:00:00+08:00\"}";
    loy_apply_json(g.p, s1, n1, tick2, strlen(tick2), r);
    assert_int_equal(loy_result_code(r), LOY_OK);
    st = loy_result_state(r, &len);
    const char *tick3 = "{\"type\": \"tick\", \"id\": \"T-3\", \"at\": \"2026-05-10T10:00:00+08:00\"}";
    assert_int_equal(loy_apply_json(g.p, st, len, tick3, strlen(tick3), r), LOY_OK);
    /* T-2 released the order's 1000 points (pending 7 days): 200 + 1000. */
    const loy_node *pts = loy_node_get(loy_node_get(loy_result_root(r), "member"), "points");
    assert_int_equal(loy_node_int(loy_node_get(pts, "available")), 1200);

    /* State bytes that do not load: the state error, event null, bytes back. */
    int rc = loy_apply_json(g.p, "garbage", 7, tick3, strlen(tick3), r);
    assert_true(rc == LOY_E_STATE_TRUNCATED || rc == LOY_E_STATE_CHECKSUM || rc == LOY_E_STATE_VERSION);
    error_is(r, rc, rc, "event", NULL, NULL);
    st = loy_result_state(r, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(st, "garbage", 7);

    /* Any other use of the result forgets the state. */
    assert_int_equal(loy_apply_json_line(g.p, g.m, tick3, strlen(tick3), r), LOY_OK);
    assert_null(loy_result_state(r, &len));

    assert_int_equal(loy_apply_json(NULL, s0, n0, tick3, strlen(tick3), r), LOY_E_INVALID_ARG);
    assert_int_equal(loy_apply_json_line(g.p, NULL, tick3, strlen(tick3), r), LOY_E_INVALID_ARG);
    assert_int_equal(loy_member_init_json(NULL, "{}", 2, r), LOY_E_INVALID_ARG);
    assert_int_equal(loy_apply_json_line(g.p, g.m, tick3, strlen(tick3), NULL), LOY_E_INVALID_ARG);
    assert_null(loy_result_json(NULL, NULL));

    free(s0);
    free(s1);
    loy_result_free(r);
    rig_close(&g);
}

/* --------------------------------------------------------- allocations */

typedef struct counting {
    long mallocs;               /* malloc + growing realloc calls */
    long limit;                 /* fail once mallocs reaches it; -1: never */
} counting;

static void *c_malloc(void *ctx, size_t n)
{
    counting *c = ctx;
    if (c->limit >= 0 && c->mallocs >= c->limit)
        return NULL;
    c->mallocs++;
    return malloc(n);
}

static void *c_realloc(void *ctx, void *p, size_t n)
{
    counting *c = ctx;
    if (c->limit >= 0 && c->mallocs >= c->limit)
        return NULL;
    c->mallocs++;
    return realloc(p, n);
}

static void c_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static loy_policy *counted_policy(counting *c, const char *path)
{
    size_t len;
    char *text = loy_test_read_file(path, &len);
    assert_non_null(text);
    loy_allocator a = {c_malloc, c_realloc, c_free, c};
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer_ex(&p, text, len, path, NULL, &a), LOY_OK);
    free(text);
    return p;
}

/* Once the result's buffers have grown to the largest line, the wire's own
 * work (reading lines, refusing them, writing answers) allocates nothing. */
static void steady_state_no_allocations(void **state)
{
    (void)state;
    counting c = {0, -1};
    loy_policy *p = counted_policy(&c, APPAREL);
    loy_member *m = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    assert_int_equal(loy_member_init_json(m, MEMBER_APPAREL, strlen(MEMBER_APPAREL), r), LOY_OK);
    const char *lines[] = {
        ORDER("N-1", "{\"amount\": 1.5}"),
        "{\"type\": \"refund\", \"id\": \"Z-1\", " AT "}",
        "{\"query\": \"members\", " AT "}",
        "[\"not\", \"an\", \"object\", {\"deep\": [1, 2, 3, \"\\ud83d\\ude00\"]}]",
        "{\"type\": \"tick\", \"id\": 42}",
        "{broken",
    };
    for (int round = 0; round < 3; round++) {
        if (round == 2)
            c.mallocs = 0;
        for (int k = 0; k < 50; k++)
            for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
                loy_apply_json_line(p, m, lines[i], strlen(lines[i]), r);
                assert_non_null(loy_result_json(r, NULL));
            }
    }
    assert_int_equal(c.mallocs, 0);

    /* Accepted events too, once the member's ring of ids and the result's
     * arenas have grown. */
    char tick[128];
    for (int k = 0; k < 400; k++) {
        if (k == 200)
            c.mallocs = 0;
        snprintf(tick, sizeof tick, "{\"type\": \"tick\", \"id\": \"T-%04d\", \"at\": \"2026-05-01T10:00:00+08:00\"}", k);
        assert_int_equal(loy_apply_json_line(p, m, tick, strlen(tick), r), LOY_OK);
        assert_non_null(loy_result_json(r, NULL));
    }
    assert_int_equal(c.mallocs, 0);
    loy_result_free(r);
    loy_member_free(m);
    loy_policy_free(p);
}

/* Every allocation the wire makes may fail: the answer is LOY_E_NOMEM (or
 * the call succeeds) and a member is never half-changed. */
static void allocation_failures(void **state)
{
    (void)state;
    const char *order = "{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-05-01T10:00:00+08:00\", "
                        "\"channel\": \"pos\", \"lines\": [{\"sku\": \"C\", \"category\": \"coats\", \"amount\": 100000}, "
                        "{\"sku\": \"D\", \"category\": \"dresses\", \"amount\": 50000}]}";
    bool succeeded = false;
    long needed = -1;
    for (long budget = 0; budget < 400 && !succeeded; budget++) {
        counting c = {0, -1};
        loy_policy *p = counted_policy(&c, APPAREL);
        loy_member *m = NULL;
        loy_result *r = NULL;
        assert_int_equal(loy_member_create(&m, p), LOY_OK);
        assert_int_equal(loy_result_new(&r, p), LOY_OK);
        assert_int_equal(loy_member_init_json(m, MEMBER_APPAREL, strlen(MEMBER_APPAREL), r), LOY_OK);
        bytes before = state_of(m);

        c.mallocs = 0;
        c.limit = budget;
        int rc = loy_apply_json_line(p, m, order, strlen(order), r);
        const char *json = loy_result_json(r, NULL);
        c.limit = -1;
        if (rc == LOY_OK) {
            succeeded = true;
            needed = budget;
            assert_non_null(json ? json : loy_result_json(r, NULL));
        } else {
            if (rc != LOY_E_NOMEM)
                fail_msg("budget %ld: %s", budget, loy_error_name(rc));
            assert_state(m, &before);
        }
        free(before.data);
        loy_result_free(r);
        loy_member_free(m);
        loy_policy_free(p);
    }
    assert_true(succeeded);
    /* The first call on a result allocates (the wire context, the event,
     * arenas), so the loop did see failures before the success. */
    assert_true(needed >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(member_line_minimal),
        cmocka_unit_test(member_line_imports),
        cmocka_unit_test(member_line_repeated_keys),
        cmocka_unit_test(member_line_refusals),
        cmocka_unit_test(event_line_refusals),
        cmocka_unit_test(event_line_ids),
        cmocka_unit_test(profile_birthday_and_tags),
        cmocka_unit_test(queries),
        cmocka_unit_test(apply_json_state_form),
        cmocka_unit_test(steady_state_no_allocations),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
