/*
 * A changed policy, end to end (POLICY.md §10.2, §12): members carry on
 * under next year's program.
 *
 *   1. Through the `loyalty` program (LOY_CLI): a member's 2026 under
 *      tests/season/season-2026.yaml (policies/apparel.yaml), its state
 *      written with --state-out and continued under season-2027.yaml with
 *      --state-in, every result compared with a line worked out by hand
 *      (tests/season/README.md gives each derivation). States the new
 *      policy cannot continue (a tier, running plan or stage it lacks) are
 *      refused with their error object and exit 2; a state without a stage
 *      gets one at its next event.
 *   2. How far back a state keeps monthly figures (docs/state.md): a policy
 *      whose window reaches further back than the old one sees only the
 *      months kept.
 *   3. A property: for seeded random streams under apparel.yaml,
 *      grocery.yaml and season-2027.yaml, replaying part of a stream,
 *      saving the state bytes, loading them into a new handle and
 *      replaying the rest gives the same results, line for line, and the
 *      same state bytes as one uninterrupted replay.
 *   4. Another: the same streams cut at a random event and loaded under
 *      next year's policy are refused exactly when their stage or running
 *      plan was dropped, and otherwise carry on from where they stood.
 *
 * The properties run LOY_PROP_STREAMS streams (default 50) of
 * LOY_PROP_EVENTS events (default 200) per policy; LOY_PROP_SEED=N runs
 * stream N alone; LOY_PROP_VERBOSE=1 prints what the streams reached. A
 * failure prints the policy, the seed and the split.
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
#include "state_support.h"

#define SEASON LOY_TEST_DIR "/season/"
#define APPAREL LOY_SPEC_DIR "/policies/apparel.yaml"
#define GROCERY LOY_SPEC_DIR "/policies/grocery.yaml"

/* ================================================================ the CLI */

static loy_test_run cli(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
                        const char *a6, const char *a7, const char *a8)
{
    const char *argv[] = {LOY_CLI, a1, a2, a3, a4, a5, a6, a7, a8, NULL};
    loy_test_run run;
    assert_true(loy_test_spawn(argv, &run));
    return run;
}

/* `loyalty replay POLICY EVENTS [--state-in IN] [--state-out OUT]`; NULL leaves an option out. */
static loy_test_run replay(const char *policy, const char *events, const char *state_in, const char *state_out)
{
    const char *a[8] = {"replay", policy, events};
    int n = 3;
    if (state_in) {
        a[n++] = "--state-in";
        a[n++] = state_in;
    }
    if (state_out) {
        a[n++] = "--state-out";
        a[n++] = state_out;
    }
    return cli(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
}

static const char *tmp_path(const char *name)
{
    static char paths[16][4096];
    static int next;
    char *path = paths[next++ % 16];
    snprintf(path, 4096, "%s/%s", loy_test_tmpdir(), name);
    return path;
}

static const char *tmp_text(const char *name, const char *text)
{
    const char *path = tmp_path(name);
    assert_true(loy_test_write_file(path, text, strlen(text)));
    return path;
}

static void expect_status(const loy_test_run *run, int status)
{
    if (run->status != status)
        fail_msg("exit %d, expected %d\nstdout: %s\nstderr: %s", run->status, status, run->out, run->err);
}

/* stdout equals the lines of an expected file (as JSON values, line by line). */
static void expect_output_file(const loy_test_run *run, const char *expected_path)
{
    size_t len;
    char *want = loy_test_read_file(expected_path, &len);
    if (!want)
        fail_msg("cannot read %s", expected_path);
    int n = loy_test_compare_lines(expected_path, want, len, run->out, run->out_len);
    free(want);
    if (n)
        fail_msg("%s: %d line(s) differ", expected_path, n);
}

static void expect_output_text(const loy_test_run *run, const char *label, const char *want)
{
    int n = loy_test_compare_lines(label, want, strlen(want), run->out, run->out_len);
    if (n)
        fail_msg("%s: %d line(s) differ", label, n);
}

static size_t line_count(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

static bool file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* Replay a fixture with --state-out; it must go through as written down. */
static const char *state_after(const char *policy, const char *fixture, const char *state_name)
{
    char events[512], expected[512];
    snprintf(events, sizeof events, SEASON "%s.jsonl", fixture);
    snprintf(expected, sizeof expected, SEASON "%s.expected.jsonl", fixture);
    const char *state = tmp_path(state_name);
    loy_test_run run = replay(policy, events, NULL, state);
    expect_status(&run, 0);
    expect_output_file(&run, expected);
    loy_test_run_free(&run);
    assert_true(file_exists(state));
    return state;
}

/*
 * The refusal of state bytes the policy cannot continue: exactly one line,
 * the error object with "event": null, the code, and the message naming
 * the missing id; exit 2; no --state-out written.
 */
static void expect_state_refused(const char *policy, const char *events, const char *state, const char *message)
{
    const char *out = tmp_path("refused.state");
    remove(out);
    loy_test_run run = replay(policy, events, state, out);
    expect_status(&run, 2);
    expect_output_text(&run, "refusal",
                       "{\"event\": null, \"error\": {\"code\": \"LOY_E_STATE_POLICY\", \"message\": \"\"}}\n");
    assert_int_equal(line_count(run.out), 1);
    char quoted[256];
    snprintf(quoted, sizeof quoted, "\"%s\"", message);
    if (!strstr(run.out, quoted))
        fail_msg("the error message is not %s:\n%s", quoted, run.out);
    assert_false(file_exists(out));
    loy_test_run_free(&run);
}

static blob read_blob(const char *path)
{
    size_t len;
    char *data = loy_test_read_file(path, &len);
    assert_non_null(data);
    blob b = {(uint8_t *)data, len};
    return b;
}

/* ------------------------------------------------------------ the season */

static void test_season_2026_is_apparel(void **state)
{
    LOY_UNUSED(state);
    /* The 2026 program is the reference policy as it stands. */
    size_t a_len, b_len;
    char *a = loy_test_read_file(APPAREL, &a_len);
    char *b = loy_test_read_file(SEASON "season-2026.yaml", &b_len);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    free(a);
    free(b);
    loy_test_run run = cli("check", SEASON "season-2026.yaml", SEASON "season-2027.yaml", SEASON "pilot-2026.yaml",
                           SEASON "grocery-2027.yaml", NULL, NULL, NULL);
    expect_status(&run, 0);
    loy_test_run_free(&run);
}

/*
 * The year under 2026, then the continuation under 2027: each line as
 * worked out by hand (tests/season/README.md). What the lines prove:
 * the review count of December (4) carries and the new count (3) refuses
 * the 5th; the share counter, whose period changed, starts afresh; the
 * birthday and upgrade ledgers carry (no second 2026 birthday gift, no
 * second gold gift); December's spend from before the change counts for
 * the monthly gift after it, and the year's for the new calendar-year
 * gift; the pending lot of O-3 is released under the new policy; old lots
 * keep their last day while new credits take the new expiry; gold stays
 * when the new thresholds would not give it (O-4 reaches what was
 * platinum, not what is) until the review applies the new `keep`; the new
 * top tier is reached with only the gifts not yet given; the dropped
 * benefit is unknown; the new lifecycle acts at the first event.
 */
static void test_season_continues_under_2027(void **state)
{
    LOY_UNUSED(state);
    const char *s2026 = state_after(SEASON "season-2026.yaml", "member-2026", "season-2026.state");
    const char *s2027 = tmp_path("season-2027.state");
    loy_test_run run = replay(SEASON "season-2027.yaml", SEASON "continue-2027.jsonl", s2026, s2027);
    expect_status(&run, 0);
    expect_output_file(&run, SEASON "continue-2027.expected.jsonl");
    assert_int_equal(run.err_len, 0);
    loy_test_run_free(&run);

    /* Dropped entries vanish: the alteration counter was in the 2026 state
     * and is not in the state written under 2027; the rest is named by id. */
    blob before = read_blob(s2026), after = read_blob(s2027);
    assert_true(bytes_contain(&before, "alteration"));
    assert_false(bytes_contain(&after, "alteration"));
    assert_true(bytes_contain(&after, "diamond"));
    assert_true(bytes_contain(&after, "year-spend"));
    assert_true(bytes_contain(&after, "review"));
    free(before.data);
    free(after.data);
}

/*
 * The same state continued under the 2026 program: O-4 makes the member
 * platinum there (Jan-Dec 2026 spend 5900.00 >= 5000.00) and earns without
 * app_weekend (1.5 x 2 x 1.5 = 4.5: 6300), its lot expiring after 12
 * months. So the 2027 lines above are the new policy's doing.
 */
static void test_same_state_under_the_old_program(void **state)
{
    LOY_UNUSED(state);
    const char *s2026 = state_after(SEASON "season-2026.yaml", "member-2026", "season-2026b.state");
    const char *events = tmp_text("old-program.jsonl",
        "{\"type\": \"action\", \"id\": \"S-5\", \"at\": \"2026-12-20T09:00:00+08:00\", \"kind\": \"share\"}\n"
        "{\"type\": \"order\", \"id\": \"O-4\", \"at\": \"2026-12-20T14:00:00+08:00\", \"channel\": \"app\", "
        "\"lines\": [{\"sku\": \"COAT-02\", \"category\": \"coats\", \"amount\": 140000, \"qty\": 1}]}\n"
        "{\"type\": \"action\", \"id\": \"R-5\", \"at\": \"2026-12-21T09:00:00+08:00\", \"kind\": \"review\"}\n");
    loy_test_run run = replay(SEASON "season-2026.yaml", events, s2026, NULL);
    expect_status(&run, 0);
    expect_output_text(&run, "old program",
        /* a new day: 3 shares a day again */
        "{\"event\": \"S-5\", \"effects\": [{\"type\": \"points\", \"delta\": 5, \"source\": \"action\", \"kind\": \"share\","
        " \"expires\": \"2027-12-31\"}], \"member\": {\"tier\": \"gold\", \"points\": {\"available\": 5410, \"pending\": 1800},"
        " \"stage\": \"repeat\"}}\n"
        "{\"event\": \"O-4\", \"effects\": [{\"type\": \"points\", \"delta\": 6300, \"source\": \"order\", \"pending_until\":"
        " \"2026-12-27\", \"expires\": \"2027-12-31\", \"rules\": [\"tier_bonus\", \"birthday_month\", \"new_season\"]},"
        " {\"type\": \"tier_changed\", \"from\": \"gold\", \"to\": \"platinum\", \"reason\": \"upgrade\"},"
        " {\"type\": \"gift\", \"gift\": \"upgrade\", \"tier\": \"platinum\", \"reward\": {\"coupons\": [\"PLAT-WELCOME-300\"],"
        " \"items\": [\"SCARF-CASHMERE\"]}},"
        " {\"type\": \"gift\", \"gift\": \"spend\", \"id\": \"monthly-credit\", \"period\": \"2026-12\", \"reward\": {\"credit\": 5000}},"
        " {\"type\": \"stage_changed\", \"from\": \"repeat\", \"to\": \"loyal\"}],"
        " \"member\": {\"tier\": \"platinum\", \"points\": {\"available\": 5410, \"pending\": 8100}, \"stage\": \"loyal\"}}\n"
        /* the 5th review of December is within 5 a month */
        "{\"event\": \"R-5\", \"effects\": [{\"type\": \"points\", \"delta\": 10, \"source\": \"action\", \"kind\": \"review\","
        " \"expires\": \"2027-12-31\"}], \"member\": {\"tier\": \"platinum\", \"points\": {\"available\": 5420, \"pending\": 8100},"
        " \"stage\": \"loyal\"}}\n");
    loy_test_run_free(&run);
}

/* ------------------------------------------------------- refused states */

static void test_refused_tier_removed(void **state)
{
    LOY_UNUSED(state);
    /* Rolling the program back: a diamond member cannot go on under 2026. */
    const char *s2026 = state_after(SEASON "season-2026.yaml", "member-2026", "rollback-2026.state");
    const char *s2027 = tmp_path("rollback-2027.state");
    loy_test_run run = replay(SEASON "season-2027.yaml", SEASON "continue-2027.jsonl", s2026, s2027);
    expect_status(&run, 0);
    loy_test_run_free(&run);
    const char *tick = tmp_text("tick.jsonl", "{\"type\": \"tick\", \"id\": \"T-9\", \"at\": \"2027-03-01T09:00:00+08:00\"}\n");
    expect_state_refused(SEASON "season-2026.yaml", tick, s2027, "state names tier 'diamond', which this policy lacks");
    /* the refused bytes are untouched and still go on under 2027 */
    run = replay(SEASON "season-2027.yaml", tick, s2027, NULL);
    expect_status(&run, 0);
    loy_test_run_free(&run);
}

static void test_refused_stage_removed(void **state)
{
    LOY_UNUSED(state);
    /* `first` became `newcomer`: a member in `first` is moved by import. */
    const char *s = state_after(SEASON "season-2026.yaml", "first-2026", "first.state");
    expect_state_refused(SEASON "season-2027.yaml", SEASON "continue-2027.jsonl", s,
                         "state names stage 'first', which this policy lacks");
}

static void test_refused_running_plan_removed(void **state)
{
    LOY_UNUSED(state);
    /* The annual plan is withdrawn while it runs for this member... */
    const char *annual = state_after(GROCERY, "grocery-annual", "grocery-annual.state");
    expect_state_refused(SEASON "grocery-2027.yaml", SEASON "grocery-continue-2027.jsonl", annual,
                         "state names running plan 'annual', which this policy lacks");
    /* ...while a member on the monthly plan, which stays, goes on and the
     * plan ends with what it paid: 19.00, no guarantee, refund 0. */
    const char *monthly = state_after(GROCERY, "grocery-monthly", "grocery-monthly.state");
    loy_test_run run = replay(SEASON "grocery-2027.yaml", SEASON "grocery-continue-2027.jsonl", monthly, NULL);
    expect_status(&run, 0);
    expect_output_file(&run, SEASON "grocery-continue-2027.expected.jsonl");
    loy_test_run_free(&run);
}

static void test_stage_from_null(void **state)
{
    LOY_UNUSED(state);
    /* Written under the pilot without lifecycle: no stage in the bytes. */
    const char *s = state_after(SEASON "pilot-2026.yaml", "pilot-2026", "pilot.state");
    loy_test_run run = replay(SEASON "season-2027.yaml", SEASON "pilot-continue-2027.jsonl", s, NULL);
    expect_status(&run, 0);
    expect_output_file(&run, SEASON "pilot-continue-2027.expected.jsonl");
    assert_non_null(strstr(run.out, "\"from\": null"));
    loy_test_run_free(&run);
}

/* ================================================ months kept (state.md) */

#define TIERS_HEAD "loyalty_policy: 1\ntiers:\n  qualify_on: spend\n"
#define TIERS_LEVELS "  levels:\n    - {id: member}\n    - {id: silver, at: 2000}\n"
#define EARN "points:\n  earn: {rate: {amount: 1, points: 1}}\n"

static const char OLD_12[] = TIERS_HEAD "  window: 12_months\n" TIERS_LEVELS EARN;
/* the same tiers, with a lifecycle stage that reaches 18 months back */
static const char OLD_18[] = TIERS_HEAD "  window: 12_months\n" TIERS_LEVELS EARN
                             "lifecycle:\n"
                             "  - {id: regular, when: {orders_in_months: {months: 18, at_least: 2}}}\n"
                             "  - {id: casual}\n";
static const char NEW_24[] = TIERS_HEAD "  window: 24_months\n" TIERS_LEVELS EARN;
static const char NEW_LIFETIME[] = TIERS_HEAD "  window: lifetime\n" TIERS_LEVELS EARN;

static loy_policy *load_path(const char *path)
{
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_file(&p, path, NULL), LOY_OK);
    return p;
}

static void order_of(rig *t, const char *id, const char *at, int64_t amount)
{
    ev(t, LOY_EVENT_ORDER, id, at);
    ev_line(t, "SKU", "goods", amount);
    int rc = apply(t);
    if (rc != LOY_OK)
        fprintf(stderr, "refused: %s: %s\n", loy_error_name(rc), loy_result_message(t->r));
    assert_int_equal(rc, LOY_OK);
}

/*
 * A member's orders under `old`: 1000.00 in 2024-12, 500.00 in 2025-01,
 * 200.00 in 2026-01 (none reaches silver's 2000.00 in 12 months). After
 * the last order the state keeps `months_kept` months ending 2026-01.
 */
static blob months_state(const char *old_yaml, int32_t months_kept)
{
    rig t;
    rig_open(&t, load_policy_text(old_yaml), "M-MONTHS", "2024-01-01");
    assert_int_equal(t.p->months_kept, months_kept);
    order_of(&t, "O-1", "2024-12-10T10:00:00+08:00", 100000);
    order_of(&t, "O-2", "2025-01-10T10:00:00+08:00", 50000);
    order_of(&t, "O-3", "2026-01-15T10:00:00+08:00", 20000);
    assert_string_equal(loy_member_tier(t.m), "member");
    blob b = state_of(t.m);
    rig_close(&t);
    return b;
}

static void open_under(rig *t, const char *yaml, const blob *b)
{
    memset(t, 0, sizeof *t);
    t->p = load_policy_text(yaml);
    t->m = loaded(t->p, b);
    assert_int_equal(loy_event_new(&t->e, t->p), LOY_OK);
    assert_int_equal(loy_result_new(&t->r, t->p), LOY_OK);
}

static int64_t metric_as_of(rig *t, const char *date)
{
    int64_t v = -1;
    assert_int_equal(loy_member_metric(t->m, date, &v), LOY_OK);
    return v;
}

static void test_months_kept_formula(void **state)
{
    LOY_UNUSED(state);
    /* docs/state.md: max(13, N_months, 12 for calendar_year, every
     * orders_in_months M, 12 for a calendar-year spend gift) */
    struct {
        const char *yaml;
        int32_t kept;
    } cases[] = {
        {OLD_12, 13},
        {OLD_18, 18},
        {NEW_24, 24},
        {NEW_LIFETIME, 13},
        {TIERS_HEAD "  window: calendar_year\n" TIERS_LEVELS EARN, 13},
        {TIERS_HEAD "  window: 6_months\n" TIERS_LEVELS EARN, 13},
        {TIERS_HEAD "  window: 60_months\n" TIERS_LEVELS EARN, 60},
        {TIERS_HEAD "  window: 12_months\n" TIERS_LEVELS EARN
         "benefits:\n  - {id: b, kind: gift, when: {orders_in_months: {months: 30, at_least: 1}}}\n", 30},
        {TIERS_HEAD "  window: 3_months\n" TIERS_LEVELS EARN
         "gifts:\n  spend:\n    - {id: y, period: calendar_year, at_least: 10, reward: {credit: 1}}\n", 13},
    };
    for (size_t i = 0; i < LOY_ARRAY_LEN(cases); i++) {
        loy_policy *p = load_policy_text(cases[i].yaml);
        if (p->months_kept != cases[i].kept)
            fail_msg("case %zu: months_kept %d, expected %d", i, (int)p->months_kept, (int)cases[i].kept);
        loy_policy_free(p);
    }
    /* the reference policies and the season's keep 13 (state.md) */
    const char *files[] = {APPAREL, GROCERY, LOY_SPEC_DIR "/policies/minimal.yaml", SEASON "season-2027.yaml",
                           SEASON "grocery-2027.yaml", SEASON "pilot-2026.yaml"};
    for (size_t i = 0; i < LOY_ARRAY_LEN(files); i++) {
        loy_policy *p = load_path(files[i]);
        assert_int_equal(p->months_kept, 13);
        loy_policy_free(p);
    }
}

static void test_months_kept_on_a_change(void **state)
{
    LOY_UNUSED(state);
    rig t;
    /* Under a 12-month window the state keeps 13 months, 2025-01..2026-01:
     * 2024-12 was dropped at O-3. */
    blob kept13 = months_state(OLD_12, 13);
    open_under(&t, OLD_12, &kept13);
    assert_int_equal(metric_as_of(&t, "2026-01-31"), 20000);   /* 2025-02..2026-01 */
    assert_int_equal(t.m->month_count, 2);
    rig_close(&t);

    /* A 24-month window sees 2024-02..2026-01 but only the months kept:
     * 500.00 + 200.00, not the 1000.00 of 2024-12 (the 13th month back,
     * 2025-01, is there). */
    open_under(&t, NEW_24, &kept13);
    assert_int_equal(metric_as_of(&t, "2026-01-31"), 70000);
    /* so 400.00 more in 2026-02 is 1100.00, not the 2100.00 that would be
     * silver had 2024-12 been kept */
    ev(&t, LOY_EVENT_ORDER, "O-4", "2026-02-01T10:00:00+08:00");
    ev_line(&t, "SKU", "goods", 40000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 400, \"source\": \"order\", \"rules\": []}]");
    assert_string_equal(loy_member_tier(t.m), "member");
    assert_int_equal(metric_as_of(&t, "2026-02-28"), 110000);
    rig_close(&t);

    /* A lifetime window reads the lifetime totals, which never lose a month:
     * 1700.00 + 400.00 reaches silver. */
    open_under(&t, NEW_LIFETIME, &kept13);
    assert_int_equal(metric_as_of(&t, "2026-01-31"), 170000);
    ev(&t, LOY_EVENT_ORDER, "O-4", "2026-02-01T10:00:00+08:00");
    ev_line(&t, "SKU", "goods", 40000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 400, \"source\": \"order\", \"rules\": []},"
                       " {\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"silver\", \"reason\": \"upgrade\"}]");
    rig_close(&t);
    free(kept13.data);

    /* A policy whose own rules reach 18 months back kept 2024-08..2026-01,
     * 2024-12 included: the 24-month window sees all three orders, and
     * 400.00 more is silver. */
    blob kept18 = months_state(OLD_18, 18);
    open_under(&t, NEW_24, &kept18);
    assert_int_equal(t.m->month_count, 3);
    assert_int_equal(metric_as_of(&t, "2026-01-31"), 170000);
    ev(&t, LOY_EVENT_ORDER, "O-4", "2026-02-01T10:00:00+08:00");
    ev_line(&t, "SKU", "goods", 40000);
    expect_effects(&t, "[{\"type\": \"points\", \"delta\": 400, \"source\": \"order\", \"rules\": []},"
                       " {\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"silver\", \"reason\": \"upgrade\"}]");
    /* from here the state keeps what the new policy reaches: 24 months */
    assert_int_equal(t.m->month_count, 4);
    rig_close(&t);
    free(kept18.data);
}

/*
 * A month the state keeps whose figures all went back to 0 is not written
 * to the state bytes; a return of an order of that month must lower it the
 * same way whether its bucket is there or not (found by the property
 * below: the lifetime totals of a split replay differed).
 *
 * Lifetime window, silver at 1000.00. O-1 (Dec 2025) 800.00. January 2026:
 * a check-in (+1, points_earned 1), then a return of an order of
 * 2026-01-02 that earned 1 point: January's figures are all 0 again. A
 * tick in January 2027 keeps January 2026 (13 months). In February 2027 a
 * return of another order of 2026-01-02 (500.00) lowers January 2026,
 * which is 0: the lifetime spend stays 800.00, and 200.00 more is silver.
 */
static const char LIFETIME_SPEND[] = TIERS_HEAD "  window: lifetime\n"
                                     "  levels:\n    - {id: member}\n    - {id: silver, at: 1000}\n"
                                     "points:\n  earn: {rate: {amount: 1, points: 1}}\n"
                                     "  actions:\n    check_in: {points: 1}\n";

static void return_of(rig *t, const char *id, const char *at, const char *order, int64_t amount, int64_t points)
{
    ev(t, LOY_EVENT_RETURN, id, at);
    assert_int_equal(loy_event_set_amount(t->e, amount), LOY_OK);
    assert_int_equal(loy_event_set_original(t->e, order, "2026-01-02T10:00:00+08:00", amount, points), LOY_OK);
    int rc = apply(t);
    if (rc != LOY_OK)
        fprintf(stderr, "refused: %s: %s\n", loy_error_name(rc), loy_result_message(t->r));
    assert_int_equal(rc, LOY_OK);
}

static void test_zero_month_survives_bytes(void **state)
{
    LOY_UNUSED(state);
    for (int through_bytes = 0; through_bytes < 2; through_bytes++) {
        rig t;
        rig_open(&t, load_policy_text(LIFETIME_SPEND), "M-ZERO", "2025-12-01");
        order_of(&t, "O-1", "2025-12-10T10:00:00+08:00", 80000);
        ev(&t, LOY_EVENT_ACTION, "A-1", "2026-01-05T10:00:00+08:00");
        assert_int_equal(loy_event_set_kind(t.e, "check_in"), LOY_OK);
        assert_int_equal(apply(&t), LOY_OK);
        return_of(&t, "R-1", "2026-01-06T10:00:00+08:00", "O-0", 10000, 1);
        ev(&t, LOY_EVENT_TICK, "T-1", "2027-01-10T10:00:00+08:00");
        assert_int_equal(apply(&t), LOY_OK);
        if (through_bytes) {
            blob b = state_of(t.m);
            loy_member_free(t.m);
            t.m = loaded(t.p, &b);
            free(b.data);
        }
        return_of(&t, "R-2", "2027-02-03T10:00:00+08:00", "O-00", 50000, 0);
        assert_int_equal(metric_as_of(&t, "2027-02-03"), 80000);
        ev(&t, LOY_EVENT_ORDER, "O-2", "2027-02-04T10:00:00+08:00");
        ev_line(&t, "SKU", "goods", 20000);
        expect_effects(&t, "[{\"type\": \"points\", \"delta\": 200, \"source\": \"order\", \"rules\": []},"
                           " {\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"silver\", \"reason\": \"upgrade\"}]");
        rig_close(&t);
    }
}

/* ================================================= the save/load property */

typedef struct prng {
    uint64_t s;
} prng;

static uint64_t rnd(prng *r)
{
    /* splitmix64: the same stream on every machine */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t below(prng *r, uint32_t n)
{
    return (uint32_t)(rnd(r) % n);
}

static bool chance(prng *r, uint32_t percent)
{
    return below(r, 100) < percent;
}

static int64_t between(prng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd(r) % (uint64_t)(hi - lo + 1));
}

static const char *pick(prng *r, const char *const *list, size_t n)
{
    return list[below(r, (uint32_t)n)];
}

#define PICK(r, list) pick((r), (list), LOY_ARRAY_LEN(list))

/* What the generator needs to know of a policy. */
typedef struct prop_policy {
    const char *name;
    const char *path;
    const char *const *categories;
    size_t category_count;
    const char *const *kinds;       /* action kinds, listed or not */
    size_t kind_count;
    const char *const *import_tiers;
    size_t import_tier_count;
    const char *import_plan;        /* NULL: the policy has no plans */
    int earn_divisor;               /* minor units per point, roughly: for plausible original points */
    const char *never;              /* effects the policy cannot give (no plans, no pending days) */
} prop_policy;

static const char *const APPAREL_CATEGORIES[] = {"coats", "tees", "knitwear", "bags", "dresses", "gift_card", "shipping"};
static const char *const GROCERY_CATEGORIES[] = {"fruit", "veg", "dairy", "bags", "deposit", "bakery"};
static const char *const APPAREL_KINDS[] = {"signup", "review", "share", "check_in", "like"};
static const char *const GROCERY_KINDS[] = {"check_in", "review", "referral", "signup", "share"};
static const char *const APPAREL_TIERS[] = {"silver", "gold", "platinum"};
static const char *const GROCERY_TIERS[] = {"silver", "gold", "platinum", "black"};

static const prop_policy PROP_APPAREL = {
    "apparel", APPAREL, APPAREL_CATEGORIES, LOY_ARRAY_LEN(APPAREL_CATEGORIES), APPAREL_KINDS,
    LOY_ARRAY_LEN(APPAREL_KINDS), APPAREL_TIERS, LOY_ARRAY_LEN(APPAREL_TIERS), NULL, 100,
    "\"paid_started\" \"paid_ended\"",
};
static const prop_policy PROP_GROCERY = {
    "grocery", GROCERY, GROCERY_CATEGORIES, LOY_ARRAY_LEN(GROCERY_CATEGORIES), GROCERY_KINDS,
    LOY_ARRAY_LEN(GROCERY_KINDS), GROCERY_TIERS, LOY_ARRAY_LEN(GROCERY_TIERS), "annual", 1000,
    "\"points_released\"",
};

static const char *const SEASON_TIERS[] = {"silver", "gold", "platinum", "diamond"};
static const prop_policy PROP_SEASON_2027 = {
    "season-2027", SEASON "season-2027.yaml", APPAREL_CATEGORIES, LOY_ARRAY_LEN(APPAREL_CATEGORIES), APPAREL_KINDS,
    LOY_ARRAY_LEN(APPAREL_KINDS), SEASON_TIERS, LOY_ARRAY_LEN(SEASON_TIERS), NULL, 100,
    "\"paid_started\" \"paid_ended\"",
};

static const char *const CHANNELS[] = {"pos", "app", "mini_program", "tmall", "douyin"};
static const char *const TAGS[] = {"employee", "vip-list", "student"};

typedef struct past_order {
    char id[24];
    char at[48];
    int64_t amount;
} past_order;

/* A stream being written: its lines and what later lines refer to. */
typedef struct stream {
    char **lines;
    size_t count, cap;
    loy_day day;                    /* the clock: local date and second */
    int32_t second;
    int32_t pace;                   /* gaps between events are this many times longer */
    past_order orders[256];
    size_t order_count;
    char ids[512][24];
    size_t id_count;
    unsigned serial;
} stream;

static void push_line(stream *s, sbuf_t *b)
{
    if (s->count == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->lines = realloc(s->lines, s->cap * sizeof *s->lines);
        assert_non_null(s->lines);
    }
    s->lines[s->count++] = b->s;
    memset(b, 0, sizeof *b);
}

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof tmp);
    sb_puts(b, tmp);
}

/* Move the clock on: mostly hours, often days, sometimes weeks. */
static void advance(prng *r, stream *s)
{
    uint32_t kind = below(r, 10);
    int64_t seconds = kind < 6 ? between(r, 0, 6 * 3600) : kind < 9 ? between(r, 1, 5) * 86400 + between(r, 0, 3600)
                                                                     : between(r, 10, 60) * 86400;
    int64_t total = s->second + seconds * s->pace;
    s->day += (loy_day)(total / 86400);
    s->second = (int32_t)(total % 86400);
}

/* An instant on the clock, or `back` seconds before it (out of order).
 * Mostly +08:00, sometimes with a fraction or another offset. */
static void format_at(prng *r, const stream *s, int64_t back, char out[48])
{
    int64_t t = (int64_t)s->day * 86400 + s->second - back;
    loy_day day = (loy_day)(t / 86400);
    int32_t sec = (int32_t)(t % 86400);
    char date[11];
    loy_format_date(day, date);
    char frac[16] = "";
    if (chance(r, 10))
        snprintf(frac, sizeof frac, ".%06u", below(r, 1000000));
    const char *offset = chance(r, 95) ? "+08:00" : chance(r, 50) ? "Z" : "+09:30";
    snprintf(out, 48, "%sT%02d:%02d:%02d%s%s", date, sec / 3600, sec / 60 % 60, sec % 60, frac, offset);
}

static void remember(stream *s, const char *id)
{
    if (s->id_count < LOY_ARRAY_LEN(s->ids))
        snprintf(s->ids[s->id_count++], sizeof s->ids[0], "%s", id);
}

static void head(sbuf_t *b, stream *s, const char *type, const char *prefix, const char *at, char id[24])
{
    snprintf(id, 24, "%s-%u", prefix, ++s->serial);
    remember(s, id);
    sb_printf(b, "{\"type\": \"%s\", \"id\": \"%s\", \"at\": \"%s\"", type, id, at);
}

static void gen_member(prng *r, const prop_policy *pp, uint64_t seed, sbuf_t *b)
{
    sb_printf(b, "{\"member\": {\"id\": \"P-%s-%llu\", \"joined\": \"2025-06-01\"", pp->name, (unsigned long long)seed);
    if (chance(r, 70))
        sb_printf(b, ", \"birthday\": \"%04d-%02d-%02d\"", (int)between(r, 1960, 2005), (int)between(r, 1, 12),
                  (int)between(r, 1, 28));
    if (chance(r, 20))
        sb_printf(b, ", \"tags\": [\"%s\"]", PICK(r, TAGS));
    if (chance(r, 40)) {
        const char *tier = pick(r, pp->import_tiers, pp->import_tier_count);
        sb_printf(b, ", \"tier\": \"%s\", \"tier_since\": \"2025-10-01\"", tier);
        sb_printf(b, ", \"points\": [{\"points\": %d, \"expires\": \"2026-%02d-28\"}, {\"points\": %d}]",
                  (int)between(r, 1, 5000), (int)between(r, 1, 12), (int)between(r, 1, 800));
        sb_printf(b, ", \"spend_by_month\": {\"2025-11\": %d, \"2025-12\": %d}", (int)between(r, 0, 400000),
                  (int)between(r, 0, 400000));
        sb_printf(b, ", \"orders_by_month\": {\"2025-12\": %d}, \"last_order\": \"2025-12-20\"", (int)between(r, 1, 4));
        sb_printf(b, ", \"gifts_given\": {\"upgrade\": [\"%s\"], \"birthday\": [2025]}", tier);
        if (pp->import_plan && chance(r, 50))
            sb_printf(b, ", \"paid\": {\"plan\": \"%s\", \"until\": \"2026-0%d-15\"}", pp->import_plan,
                      (int)between(r, 1, 9));
    }
    sb_puts(b, "}}");
}

static void gen_lines(prng *r, const prop_policy *pp, sbuf_t *b, int64_t *total, int max_lines)
{
    int n = (int)between(r, 0, max_lines);
    *total = 0;
    sb_puts(b, ", \"lines\": [");
    for (int i = 0; i < n; i++) {
        uint32_t size = below(r, 10);
        int64_t amount = size < 6 ? between(r, 1000, 50000) : size < 9 ? between(r, 50000, 400000) : between(r, 0, 999);
        *total += amount;
        sb_puts(b, i ? ", {" : "{");
        bool comma = false;
        if (chance(r, 90)) {
            sb_printf(b, "\"sku\": \"SKU-%u\"", below(r, 20));
            comma = true;
        }
        if (chance(r, 90)) {
            sb_printf(b, "%s\"category\": \"%s\"", comma ? ", " : "", pick(r, pp->categories, pp->category_count));
            comma = true;
        }
        sb_printf(b, "%s\"amount\": %lld, \"qty\": %d}", comma ? ", " : "", (long long)amount, (int)between(r, 1, 3));
    }
    sb_puts(b, "]");
}

static void gen_where(prng *r, sbuf_t *b)
{
    if (chance(r, 70))
        sb_printf(b, ", \"channel\": \"%s\"", PICK(r, CHANNELS));
    if (chance(r, 30))
        sb_printf(b, ", \"store\": \"S-%u\"", below(r, 4));
}

/* One line: an event of any kind (now and then refused), or a query. */
static void gen_line(prng *r, const prop_policy *pp, const loy_policy *p, stream *s, sbuf_t *b)
{
    char at[48], id[24];
    uint32_t roll = below(r, 100);
    if (roll < 95)
        advance(r, s);
    format_at(r, s, roll >= 95 && roll < 97 ? between(r, 1, 3 * 86400) : 0, at);

    if (roll < 30) {                                        /* order */
        head(b, s, "order", "O", at, id);
        gen_where(r, b);
        if (chance(r, 30))
            sb_printf(b, ", \"savings\": %d", (int)between(r, 0, 5000));
        int64_t total;
        gen_lines(r, pp, b, &total, 4);
        sb_puts(b, "}");
        if (s->order_count < LOY_ARRAY_LEN(s->orders)) {
            past_order *o = &s->orders[s->order_count++];
            snprintf(o->id, sizeof o->id, "%s", id);
            snprintf(o->at, sizeof o->at, "%s", at);
            o->amount = total;
        }
    } else if (roll < 38 && s->order_count) {               /* return of an earlier order */
        const past_order *o = &s->orders[below(r, (uint32_t)s->order_count)];
        int64_t amount = chance(r, 95) ? between(r, 0, o->amount) : o->amount + 1;
        head(b, s, "return", "R", at, id);
        sb_printf(b, ", \"amount\": %lld, \"original\": {\"id\": \"%s\", \"at\": \"%s\", \"amount\": %lld, \"points\": %lld}",
                  (long long)amount, o->id, o->at, (long long)o->amount,
                  (long long)between(r, 0, o->amount / pp->earn_divisor * 3));
        if (chance(r, 50))
            sb_printf(b, ", \"lines\": [{\"category\": \"%s\", \"amount\": %lld}]",
                      pick(r, pp->categories, pp->category_count), (long long)between(r, 0, amount));
        sb_puts(b, "}");
    } else if (roll < 53) {                                 /* action */
        head(b, s, "action", "A", at, id);
        gen_where(r, b);
        sb_printf(b, ", \"kind\": \"%s\"}", pick(r, pp->kinds, pp->kind_count));
    } else if (roll < 59) {                                 /* redeem */
        static const int POINTS[] = {0, 10, 50, 100, 150, 200, 500, 1000, 3000};
        head(b, s, "redeem", "X", at, id);
        sb_printf(b, ", \"points\": %d, \"order_amount\": %d}", POINTS[below(r, LOY_ARRAY_LEN(POINTS))],
                  (int)between(r, 0, 200000));
    } else if (roll < 67) {                                 /* use a benefit */
        size_t n = loy_policy_count(p, LOY_KIND_BENEFIT);
        uint32_t i = below(r, (uint32_t)n + 1);
        head(b, s, "use_benefit", "U", at, id);
        gen_where(r, b);
        sb_printf(b, ", \"benefit\": \"%s\"}", i < n ? loy_policy_id(p, LOY_KIND_BENEFIT, i) : "no-such-benefit");
    } else if (roll < 70) {                                 /* join a plan */
        size_t n = loy_policy_count(p, LOY_KIND_PLAN);
        uint32_t i = below(r, (uint32_t)n + 1);
        head(b, s, "join_paid", "P", at, id);
        sb_printf(b, ", \"plan\": \"%s\"}", i < n ? loy_policy_id(p, LOY_KIND_PLAN, i) : "no-such-plan");
    } else if (roll < 74) {                                 /* profile */
        head(b, s, "profile", "F", at, id);
        uint32_t what = below(r, 20);
        if (what < 9 || what == 18) {
            if (chance(r, 15))
                sb_puts(b, ", \"birthday\": null");
            else
                sb_printf(b, ", \"birthday\": \"%04d-%02d-%02d\"", (int)between(r, 1960, 2005), (int)between(r, 1, 12),
                          (int)between(r, 1, 29));
        }
        if (what >= 9) {                                    /* 19: neither, refused */
            if (what != 19) {
                sb_puts(b, ", \"tags\": [");
                int n = (int)between(r, 0, 2);
                for (int i = 0; i < n; i++)
                    sb_printf(b, "%s\"%s\"", i ? ", " : "", PICK(r, TAGS));
                sb_puts(b, "]");
            }
        }
        sb_puts(b, "}");
    } else if (roll < 84) {                                 /* tick */
        head(b, s, "tick", "T", at, id);
        sb_puts(b, "}");
    } else if (roll < 92) {                                 /* benefits query */
        sb_printf(b, "{\"query\": \"benefits\", \"at\": \"%s\"", at);
        gen_where(r, b);
        sb_puts(b, "}");
    } else if (roll < 95 && s->id_count) {                  /* an id seen before: a duplicate when accepted */
        sb_printf(b, "{\"type\": \"tick\", \"id\": \"%s\", \"at\": \"%s\"}", s->ids[below(r, (uint32_t)s->id_count)], at);
    } else if (roll < 97) {                                 /* earlier than the clock: out of order */
        head(b, s, "tick", "T", at, id);
        sb_puts(b, "}");
    } else {                                                /* invalid */
        head(b, s, "order", "O", at, id);
        sb_puts(b, ", \"lines\": [{\"category\": \"tees\", \"amount\": -5}]}");
    }
}

static stream gen_stream(const prop_policy *pp, const loy_policy *p, uint64_t seed, size_t events)
{
    prng r = {seed * 0x2545F4914F6CDD1Dull + 1};
    stream s;
    memset(&s, 0, sizeof s);
    s.day = day_of("2026-01-01");
    s.second = 8 * 3600;
    /* one stream in four is a member who comes rarely: years pass, reviews
     * find too little spend */
    s.pace = seed % 4 == 0 ? 6 : 1;
    sbuf_t b = {0};
    gen_member(&r, pp, seed, &b);
    push_line(&s, &b);
    for (size_t i = 0; i < events; i++) {
        gen_line(&r, pp, p, &s, &b);
        push_line(&s, &b);
    }
    return s;
}

static void stream_free(stream *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->lines[i]);
    free(s->lines);
}

/* One replay's results, line by line, and its final state. */
typedef struct outcome {
    char **json;
    int *code;
    uint64_t *state_hash;           /* of the state bytes after each line */
    size_t count;
    blob state;
} outcome;

static void outcome_free(outcome *o)
{
    for (size_t i = 0; i < o->count; i++)
        free(o->json[i]);
    free(o->json);
    free(o->code);
    free(o->state_hash);
    free(o->state.data);
}

/* A member handle on `p` holding the bytes of `from`; `from` is freed. */
static loy_member *moved(loy_member *from, const loy_policy *p)
{
    blob b = state_of(from);
    loy_member_free(from);
    loy_member *m = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    int rc = loy_member_load(m, b.data, b.len);
    if (rc != LOY_OK)
        fail_msg("load: %s: %s", loy_error_name(rc), loy_member_error(m));
    free(b.data);
    return m;
}

/*
 * Replay a stream. split == SIZE_MAX: in one go. Otherwise after `split`
 * events the state goes through its bytes into a new handle on a second
 * copy of the policy (as another process would load it); every_event: so
 * before every event.
 */
static outcome run_stream(const stream *s, loy_policy *const ps[2], size_t split, bool every_event)
{
    outcome o;
    memset(&o, 0, sizeof o);
    o.count = s->count - 1;
    o.json = calloc(o.count ? o.count : 1, sizeof *o.json);
    o.code = calloc(o.count ? o.count : 1, sizeof *o.code);
    o.state_hash = calloc(o.count ? o.count : 1, sizeof *o.state_hash);
    assert_non_null(o.json);
    assert_non_null(o.code);
    assert_non_null(o.state_hash);
    int which = 0;
    loy_result *results[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(loy_result_new(&results[i], ps[i]), LOY_OK);
        loy_result_set_options(results[i], LOY_RESULT_TRACE);
    }
    loy_member *m = NULL;
    assert_int_equal(loy_member_create(&m, ps[0]), LOY_OK);
    int rc = loy_member_init_json(m, s->lines[0], strlen(s->lines[0]), results[0]);
    if (rc != LOY_OK)
        fail_msg("the member line is refused: %s\n%s", loy_result_message(results[0]), s->lines[0]);
    for (size_t i = 0; i < o.count; i++) {
        if (every_event || i == split) {
            which = 1 - which;
            m = moved(m, ps[which]);
        }
        o.code[i] = loy_apply_json_line(ps[which], m, s->lines[i + 1], strlen(s->lines[i + 1]), results[which]);
        size_t n;
        const char *json = loy_result_json(results[which], &n);
        assert_non_null(json);
        o.json[i] = strndup(json, n);
        const void *bytes;
        size_t len;
        assert_int_equal(loy_member_to_bytes(m, &bytes, &len), LOY_OK);
        o.state_hash[i] = XXH3_64bits(bytes, len);
    }
    if (split == o.count) {
        which = 1 - which;
        m = moved(m, ps[which]);
    }
    o.state = state_of(m);
    loy_member_free(m);
    loy_result_free(results[0]);
    loy_result_free(results[1]);
    return o;
}

/* What the streams of one policy exercised, so that the property cannot
 * pass on streams that never reach the rules. */
typedef struct coverage {
    size_t accepted, refused;
    size_t seen[16];
} coverage;

static const char *const MARKS[] = {
    "\"source\": \"order\"", "\"source\": \"return\"", "\"source\": \"redeem\"", "\"source\": \"expiry\"",
    "\"points_released\"", "\"reason\": \"upgrade\"", "\"reason\": \"review\"", "\"gift\": \"upgrade\"",
    "\"gift\": \"birthday\"", "\"gift\": \"spend\"", "\"benefit_used\"", "\"stage_changed\"",
    "\"paid_started\"", "\"paid_ended\"", "LOY_E_DUPLICATE", "LOY_E_OUT_OF_ORDER",
};

static void tally(coverage *c, const outcome *o)
{
    for (size_t i = 0; i < o->count; i++) {
        if (o->code[i] == LOY_OK)
            c->accepted++;
        else
            c->refused++;
        for (size_t k = 0; k < LOY_ARRAY_LEN(MARKS); k++)
            if (strstr(o->json[i], MARKS[k]))
                c->seen[k]++;
    }
}

static size_t env_size(const char *name, size_t fallback)
{
    const char *v = getenv(name);
    return v && *v ? (size_t)strtoull(v, NULL, 10) : fallback;
}

static bool same_outcome(const prop_policy *pp, uint64_t seed, const char *how, const stream *s, const outcome *whole,
                         const outcome *parts)
{
    for (size_t i = 0; i < whole->count; i++)
        if (whole->code[i] != parts->code[i] || strcmp(whole->json[i], parts->json[i]) != 0) {
            fprintf(stderr,
                    "%s seed %llu, %s: line %zu differs (rerun: LOY_PROP_SEED=%llu)\n"
                    "  line:          %s\n  uninterrupted: %s\n  resumed:       %s\n",
                    pp->name, (unsigned long long)seed, how, i + 2, (unsigned long long)seed, s->lines[i + 1],
                    whole->json[i], parts->json[i]);
            return false;
        }
    for (size_t i = 0; i < whole->count; i++)
        if (whole->state_hash[i] != parts->state_hash[i]) {
            fprintf(stderr,
                    "%s seed %llu, %s: the states differ from line %zu on (rerun: LOY_PROP_SEED=%llu)\n"
                    "  line: %s\n",
                    pp->name, (unsigned long long)seed, how, i + 2, (unsigned long long)seed, s->lines[i + 1]);
            return false;
        }
    if (whole->state.len != parts->state.len || memcmp(whole->state.data, parts->state.data, whole->state.len) != 0) {
        fprintf(stderr, "%s seed %llu, %s: the final states differ (rerun: LOY_PROP_SEED=%llu)\n", pp->name,
                (unsigned long long)seed, how, (unsigned long long)seed);
        return false;
    }
    return true;
}

static void save_load_property(const prop_policy *pp)
{
    size_t streams = env_size("LOY_PROP_STREAMS", 50);
    size_t events = env_size("LOY_PROP_EVENTS", 200);
    const char *only = getenv("LOY_PROP_SEED");
    loy_policy *ps[2] = {load_path(pp->path), load_path(pp->path)};
    coverage cov;
    memset(&cov, 0, sizeof cov);
    size_t failures = 0;
    for (uint64_t seed = 1; seed <= streams; seed++) {
        if (only && *only && seed != strtoull(only, NULL, 10))
            continue;
        stream s = gen_stream(pp, ps[0], seed, events);
        prng r = {seed ^ 0xA5A5A5A5ull};
        size_t split = below(&r, (uint32_t)events + 1);
        outcome whole = run_stream(&s, ps, SIZE_MAX, false);
        outcome parts = run_stream(&s, ps, split, false);
        char how[64];
        snprintf(how, sizeof how, "split after %zu events", split);
        bool ok = same_outcome(pp, seed, how, &s, &whole, &parts);
        /* every fifth stream also goes through its bytes before every event */
        if (ok && seed % 5 == 0) {
            outcome each = run_stream(&s, ps, SIZE_MAX, true);
            ok = same_outcome(pp, seed, "reloaded before every event", &s, &whole, &each);
            outcome_free(&each);
        }
        failures += !ok;
        tally(&cov, &whole);
        outcome_free(&whole);
        outcome_free(&parts);
        stream_free(&s);
    }
    loy_policy_free(ps[0]);
    loy_policy_free(ps[1]);
    if (failures)
        fail_msg("%s: %zu stream(s) differ when split", pp->name, failures);
    if (getenv("LOY_PROP_VERBOSE")) {
        fprintf(stderr, "%s: %zu accepted, %zu refused\n", pp->name, cov.accepted, cov.refused);
        for (size_t k = 0; k < LOY_ARRAY_LEN(MARKS); k++)
            fprintf(stderr, "  %-24s %zu\n", MARKS[k], cov.seen[k]);
    }
    if (only && *only)
        return;
    /* the streams reach every rule the policy has */
    for (size_t k = 0; k < LOY_ARRAY_LEN(MARKS); k++) {
        if (strstr(pp->never, MARKS[k]))
            continue;
        if (cov.seen[k] == 0)
            fail_msg("%s: no stream produced %s", pp->name, MARKS[k]);
    }
    assert_true(cov.accepted > cov.refused);
}

static void test_property_apparel(void **state)
{
    LOY_UNUSED(state);
    save_load_property(&PROP_APPAREL);
}

static void test_property_grocery(void **state)
{
    LOY_UNUSED(state);
    save_load_property(&PROP_GROCERY);
}

static void test_property_season_2027(void **state)
{
    LOY_UNUSED(state);
    save_load_property(&PROP_SEASON_2027);
}

/*
 * The carry-over property (POLICY.md §10.2): a member part-way through a
 * random stream under this year's policy, loaded under next year's.
 *   - The load is refused, with LOY_E_STATE_POLICY naming the id, exactly
 *     when the state's stage or running plan is one the new policy lacks
 *     (the new policies keep every tier).
 *   - Otherwise nothing moves at the change itself: tier and tier_since,
 *     stage, lots (points, last day, release date), available and pending
 *     points, and the tier metric as of the last event (both policies use
 *     the same window) are as they stood.
 *   - The member then goes on with the rest of the stream under the new
 *     policy, and its final state round-trips (bytes -> load -> bytes).
 */
typedef struct carry_case {
    const prop_policy *pp;
    const char *next_path;
    const char *dropped_stage;      /* NULL: none */
    const char *dropped_plan;       /* NULL: none */
} carry_case;

static void expect_same_member(const loy_member *a, const loy_member *b, uint64_t seed, const char *name)
{
    char sa[11], sb[11];
    assert_string_equal(loy_member_tier(a), loy_member_tier(b));
    assert_int_equal(loy_member_tier_since(a, sa), LOY_OK);
    assert_int_equal(loy_member_tier_since(b, sb), LOY_OK);
    assert_string_equal(sa, sb);
    const char *stage_a = loy_member_stage(a), *stage_b = loy_member_stage(b);
    if ((stage_a == NULL) != (stage_b == NULL) || (stage_a && strcmp(stage_a, stage_b) != 0))
        fail_msg("%s seed %llu: stage %s became %s at the change", name, (unsigned long long)seed,
                 stage_a ? stage_a : "null", stage_b ? stage_b : "null");
    assert_int_equal(loy_member_points_available(a), loy_member_points_available(b));
    assert_int_equal(loy_member_points_pending(a), loy_member_points_pending(b));
    assert_int_equal(loy_member_lot_count(a), loy_member_lot_count(b));
    for (size_t i = 0; i < loy_member_lot_count(a); i++) {
        int64_t pa, pb;
        char ea[11], eb[11], ua[11], ub[11];
        assert_int_equal(loy_member_lot(a, i, &pa, ea, ua), LOY_OK);
        assert_int_equal(loy_member_lot(b, i, &pb, eb, ub), LOY_OK);
        assert_int_equal(pa, pb);
        assert_string_equal(ea, eb);
        assert_string_equal(ua, ub);
    }
    if (a->has_last_event) {
        char last[11];
        loy_format_date(a->last_event.date, last);
        int64_t ma, mb;
        assert_int_equal(loy_member_metric(a, last, &ma), LOY_OK);
        assert_int_equal(loy_member_metric(b, last, &mb), LOY_OK);
        assert_int_equal(ma, mb);
    }
}

static void carry_over_property(const carry_case *cc)
{
    size_t streams = env_size("LOY_PROP_STREAMS", 50);
    size_t events = env_size("LOY_PROP_EVENTS", 200);
    const char *only = getenv("LOY_PROP_SEED");
    loy_policy *old = load_path(cc->pp->path), *next = load_path(cc->next_path);
    loy_result *r_old = NULL, *r_next = NULL;
    assert_int_equal(loy_result_new(&r_old, old), LOY_OK);
    assert_int_equal(loy_result_new(&r_next, next), LOY_OK);
    size_t loaded_count = 0, refused_count = 0, accepted_after = 0;
    for (uint64_t seed = 1; seed <= streams; seed++) {
        if (only && *only && seed != strtoull(only, NULL, 10))
            continue;
        stream s = gen_stream(cc->pp, old, seed, events);
        prng r = {seed ^ 0x5A5A5A5Aull};
        size_t split = below(&r, (uint32_t)events + 1);
        loy_member *m = NULL;
        assert_int_equal(loy_member_create(&m, old), LOY_OK);
        assert_int_equal(loy_member_init_json(m, s.lines[0], strlen(s.lines[0]), r_old), LOY_OK);
        for (size_t i = 0; i < split; i++)
            loy_apply_json_line(old, m, s.lines[i + 1], strlen(s.lines[i + 1]), r_old);

        const char *stage = loy_member_stage(m);
        const char *plan = m->plan >= 0 ? old->plans[m->plan].id : NULL;
        char want[200] = "";
        if (cc->dropped_stage && stage && strcmp(stage, cc->dropped_stage) == 0)
            snprintf(want, sizeof want, "state names stage '%s', which this policy lacks", stage);
        else if (cc->dropped_plan && plan && strcmp(plan, cc->dropped_plan) == 0)
            snprintf(want, sizeof want, "state names running plan '%s', which this policy lacks", plan);

        blob b = state_of(m);
        loy_member *n = NULL;
        assert_int_equal(loy_member_create(&n, next), LOY_OK);
        int rc = loy_member_load(n, b.data, b.len);
        free(b.data);
        if (want[0]) {
            if (rc != LOY_E_STATE_POLICY || strcmp(loy_member_error(n), want) != 0)
                fail_msg("%s seed %llu split %zu: expected the refusal \"%s\", got %s: %s", cc->pp->name,
                         (unsigned long long)seed, split, want, loy_error_name(rc), loy_member_error(n));
            refused_count++;
        } else {
            if (rc != LOY_OK)
                fail_msg("%s seed %llu split %zu: the load under %s is refused: %s: %s", cc->pp->name,
                         (unsigned long long)seed, split, cc->next_path, loy_error_name(rc), loy_member_error(n));
            loaded_count++;
            expect_same_member(m, n, seed, cc->pp->name);
            for (size_t i = split; i < events; i++) {
                int code = loy_apply_json_line(next, n, s.lines[i + 1], strlen(s.lines[i + 1]), r_next);
                assert_non_null(loy_result_json(r_next, NULL));
                accepted_after += code == LOY_OK;
            }
            blob end = state_of(n);
            assert_round_trip(next, &end);
            free(end.data);
        }
        loy_member_free(n);
        loy_member_free(m);
        stream_free(&s);
    }
    loy_result_free(r_old);
    loy_result_free(r_next);
    loy_policy_free(old);
    loy_policy_free(next);
    if (getenv("LOY_PROP_VERBOSE"))
        fprintf(stderr, "%s -> %s: %zu loaded, %zu refused, %zu events accepted after the change\n", cc->pp->name,
                cc->next_path, loaded_count, refused_count, accepted_after);
    if (!(only && *only))
        assert_true(loaded_count > 0 && accepted_after > 0);
}

static void test_carry_over_apparel_to_2027(void **state)
{
    LOY_UNUSED(state);
    carry_case cc = {&PROP_APPAREL, SEASON "season-2027.yaml", "first", NULL};
    carry_over_property(&cc);
}

static void test_carry_over_grocery_to_2027(void **state)
{
    LOY_UNUSED(state);
    carry_case cc = {&PROP_GROCERY, SEASON "grocery-2027.yaml", NULL, "annual"};
    carry_over_property(&cc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_season_2026_is_apparel),
        cmocka_unit_test(test_season_continues_under_2027),
        cmocka_unit_test(test_same_state_under_the_old_program),
        cmocka_unit_test(test_refused_tier_removed),
        cmocka_unit_test(test_refused_stage_removed),
        cmocka_unit_test(test_refused_running_plan_removed),
        cmocka_unit_test(test_stage_from_null),
        cmocka_unit_test(test_months_kept_formula),
        cmocka_unit_test(test_months_kept_on_a_change),
        cmocka_unit_test(test_zero_month_survives_bytes),
        cmocka_unit_test(test_property_apparel),
        cmocka_unit_test(test_property_grocery),
        cmocka_unit_test(test_property_season_2027),
        cmocka_unit_test(test_carry_over_apparel_to_2027),
        cmocka_unit_test(test_carry_over_grocery_to_2027),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
