/*
 * `loyalty replay` and the dispatcher as a process (POLICY.md §12): exit
 * codes, what goes to stdout and stderr, --state-in/--state-out, --trace,
 * blank lines, usage errors.
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

#define APPAREL LOY_SPEC_DIR "/policies/apparel.yaml"
#define MINIMAL LOY_SPEC_DIR "/policies/minimal.yaml"

static const char *tmp_file(const char *name, const void *content, size_t len)
{
    static char paths[16][4096];
    static int next;
    char *path = paths[next++ % 16];
    snprintf(path, 4096, "%s/%s", loy_test_tmpdir(), name);
    if (content)
        assert_true(loy_test_write_file(path, content, len));
    return path;
}

/* A file in the test's directory holding text; NULL text: only the path. */
static const char *TMP(const char *name, const char *text)
{
    return tmp_file(name, text, text ? strlen(text) : 0);
}

static loy_test_run run_cli(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
                            const char *a6, const char *a7, const char *a8)
{
    const char *argv[] = {LOY_CLI, a1, a2, a3, a4, a5, a6, a7, a8, NULL};
    loy_test_run run;
    assert_true(loy_test_spawn(argv, &run));
    return run;
}

#define RUN1(a) run_cli(a, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
#define RUN2(a, b) run_cli(a, b, NULL, NULL, NULL, NULL, NULL, NULL)
#define RUN3(a, b, c) run_cli(a, b, c, NULL, NULL, NULL, NULL, NULL)
#define RUN4(a, b, c, d) run_cli(a, b, c, d, NULL, NULL, NULL, NULL)
#define RUN5(a, b, c, d, e) run_cli(a, b, c, d, e, NULL, NULL, NULL)
#define RUN6(a, b, c, d, e, f) run_cli(a, b, c, d, e, f, NULL, NULL)

static void expect_status(const loy_test_run *run, int status)
{
    if (run->status != status)
        fail_msg("exit %d, expected %d\nstdout: %s\nstderr: %s", run->status, status, run->out, run->err);
}

static void expect_in(const char *text, const char *words)
{
    if (!strstr(text, words))
        fail_msg("'%s' not in:\n%s", words, text);
}

static void expect_same_lines(const char *label, const char *expected, const char *got)
{
    int n = loy_test_compare_lines(label, expected, strlen(expected), got, strlen(got));
    if (n)
        fail_msg("%s: %d line(s) differ", label, n);
}

/* One error object {"event": null, "error": {"code": code}} and nothing else. */
static void expect_error_object(const char *out, const char *code)
{
    char want[160];
    snprintf(want, sizeof want, "{\"event\": null, \"error\": {\"code\": \"%s\", \"message\": \"\"}}\n", code);
    expect_same_lines("error object", want, out);
}

#define M1 "{\"member\": {\"id\": \"M-1\", \"joined\": \"2026-01-01\"}}\n"

/* minimal.yaml: 1 point per yuan, available at once, vip at 500.00 lifetime
 * spend, no gifts, no lifecycle (stage null). */
static const char events[] =
    M1
    "{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-02-01T10:00:00+08:00\", \"lines\": [{\"amount\": 30000}]}\n"
    "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2026-02-02T10:00:00+08:00\"}\n"
    "{\"type\": \"order\", \"id\": \"O-2\", \"at\": \"2026-02-03T10:00:00+08:00\", \"lines\": [{\"amount\": 25000}]}\n"
    "{\"type\": \"order\", \"id\": \"O-2\", \"at\": \"2026-02-04T10:00:00+08:00\", \"lines\": [{\"amount\": 100}]}\n"
    "{\"query\": \"benefits\", \"at\": \"2026-02-05T10:00:00+08:00\"}\n"
    "{\"type\": \"order\", \"id\": \"O-3\", \"at\": \"2026-02-06T10:00:00+08:00\", \"lines\": [{\"amount\": 1050}]}\n";

static const char expected[] =
    "{\"event\": \"O-1\", \"effects\": [{\"type\": \"points\", \"delta\": 300, \"source\": \"order\", \"rules\": []}], "
    "\"member\": {\"tier\": \"member\", \"points\": {\"available\": 300, \"pending\": 0}, \"stage\": null}}\n"
    "{\"event\": \"T-1\", \"effects\": [], "
    "\"member\": {\"tier\": \"member\", \"points\": {\"available\": 300, \"pending\": 0}, \"stage\": null}}\n"
    "{\"event\": \"O-2\", \"effects\": [{\"type\": \"points\", \"delta\": 250, \"source\": \"order\", \"rules\": []}, "
    "{\"type\": \"tier_changed\", \"from\": \"member\", \"to\": \"vip\", \"reason\": \"upgrade\"}], "
    "\"member\": {\"tier\": \"vip\", \"points\": {\"available\": 550, \"pending\": 0}, \"stage\": null}}\n"
    "{\"event\": \"O-2\", \"error\": {\"code\": \"LOY_E_DUPLICATE\", \"message\": \"\"}}\n"
    "{\"query\": \"benefits\", \"at\": \"2026-02-05T10:00:00+08:00\", \"benefits\": [], "
    "\"member\": {\"tier\": \"vip\", \"points\": {\"available\": 550, \"pending\": 0}, \"stage\": null}}\n"
    "{\"event\": \"O-3\", \"effects\": [{\"type\": \"points\", \"delta\": 10, \"source\": \"order\", \"rules\": []}], "
    "\"member\": {\"tier\": \"vip\", \"points\": {\"available\": 560, \"pending\": 0}, \"stage\": null}}\n";

static void replays_and_exits_0(void **state)
{
    (void)state;
    const char *ev = TMP("events.jsonl", events);
    loy_test_run run = RUN3("replay", MINIMAL, ev);
    expect_status(&run, 0);
    expect_same_lines("replay", expected, run.out);
    assert_int_equal(run.err_len, 0);
    loy_test_run_free(&run);
}

static void blank_lines_skipped(void **state)
{
    (void)state;
    /* Blank and whitespace-only lines, CRLF endings, a BOM, no final newline. */
    char text[4096];
    snprintf(text, sizeof text,
             "\xEF\xBB\xBF\n   \r\n%s\r\n\t\n\n%s  \r\n\n%s",
             "{\"member\": {\"id\": \"M-1\", \"joined\": \"2026-01-01\"}}",
             "{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-02-01T10:00:00+08:00\", \"lines\": [{\"amount\": 30000}]}",
             "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2026-02-02T10:00:00+08:00\"}");
    const char *ev = TMP("blank.jsonl", text);
    loy_test_run run = RUN3("replay", MINIMAL, ev);
    expect_status(&run, 0);
    const char *want_end = strstr(expected, "\"effects\": [], ");  /* through T-1's line */
    want_end = strchr(want_end, '\n') + 1;
    char want[2048];
    snprintf(want, sizeof want, "%.*s", (int)(want_end - expected), expected);
    expect_same_lines("blank lines", want, run.out);
    /* Exactly two lines: nothing printed for the blank ones. */
    size_t lines = 0;
    for (const char *p = run.out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    loy_test_run_free(&run);
}

static void bad_policy_exits_2(void **state)
{
    (void)state;
    const char *ev = TMP("events.jsonl", events);
    const char *bad = TMP("bad.yaml", "loyalty_policy: 1\ntiers:\n  qualify_on: spend\n  levles: []\n");
    loy_test_run run = RUN3("replay", bad, ev);
    expect_status(&run, 2);
    assert_int_equal(run.out_len, 0);
    /* FILE:LINE:COL: message, for the misspelt key on line 4. */
    char where[4200];
    snprintf(where, sizeof where, "%s:4:", bad);
    expect_in(run.err, where);
    loy_test_run_free(&run);

    run = RUN3("replay", TMP("missing.yaml", NULL), ev);
    expect_status(&run, 2);
    assert_int_equal(run.out_len, 0);
    expect_in(run.err, "missing.yaml");
    loy_test_run_free(&run);
}

static void malformed_line_exits_2(void **state)
{
    (void)state;
    /* Line 3 (after a blank line 2) lacks a comma; line 5 has a bad escape
     * after a Chinese id: columns count characters. */
    const char *ev = TMP("broken.jsonl",
                         M1
                         "\n"
                         "{\"type\": \"tick\", \"id\": \"T-1\" \"at\": \"2026-02-02T10:00:00+08:00\"}\n"
                         "{\"type\": \"tick\", \"id\": \"T-2\", \"at\": \"2026-02-03T10:00:00+08:00\"}\n"
                         "{\"id\": \"订单\\q\"}\n");
    loy_test_run run = RUN3("replay", MINIMAL, ev);
    expect_status(&run, 2);
    assert_int_equal(run.out_len, 0);
    char where[4200];
    snprintf(where, sizeof where, "%s:3:30: expected ',' or '}'", ev);
    expect_in(run.err, where);
    snprintf(where, sizeof where, "%s:5:11: invalid escape \\q", ev);
    expect_in(run.err, where);
    loy_test_run_free(&run);
}

static void member_line_refused_exits_2(void **state)
{
    (void)state;
    const char *ev = TMP("badmember.jsonl",
                         "{\"member\": {\"id\": \"M-1\", \"joined\": \"2026-01-01\", \"tier\": \"gold\"}}\n"
                         "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2026-02-02T10:00:00+08:00\"}\n");
    loy_test_run run = RUN3("replay", MINIMAL, ev);
    expect_status(&run, 2);
    expect_error_object(run.out, "LOY_E_UNKNOWN_TIER");
    loy_test_run_free(&run);

    ev = TMP("nomember.jsonl", "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2026-02-02T10:00:00+08:00\"}\n");
    run = RUN3("replay", MINIMAL, ev);
    expect_status(&run, 2);
    expect_error_object(run.out, "LOY_E_INVALID_MEMBER");
    loy_test_run_free(&run);

    ev = TMP("empty.jsonl", "\n\n");
    run = RUN3("replay", MINIMAL, ev);
    expect_status(&run, 2);
    expect_error_object(run.out, "LOY_E_INVALID_MEMBER");
    loy_test_run_free(&run);
}

static void state_out_then_in_continues(void **state)
{
    (void)state;
    /* The whole file in one replay... */
    const char *all = TMP("all.jsonl", events);
    const char *state_all = TMP("all.state", NULL);
    loy_test_run whole = RUN5("replay", MINIMAL, all, "--state-out", state_all);
    expect_status(&whole, 0);

    /* ...and in two, the second starting from the first's state. */
    const char *split = strstr(events, "{\"type\": \"order\", \"id\": \"O-2\", \"at\": \"2026-02-04");
    char first[4096], second[4096];
    snprintf(first, sizeof first, "%.*s", (int)(split - events), events);
    snprintf(second, sizeof second, "%s", split);
    const char *part1 = TMP("part1.jsonl", first);
    const char *part2 = TMP("part2.jsonl", second);
    const char *state1 = TMP("part1.state", NULL);
    const char *state2 = TMP("part2.state", NULL);
    loy_test_run a = RUN5("replay", MINIMAL, part1, "--state-out", state1);
    expect_status(&a, 0);
    loy_test_run b = RUN6("replay", "--state-in", state1, MINIMAL, part2, "--state-out");
    /* --state-out without its FILE is a usage error. */
    expect_status(&b, 2);
    loy_test_run_free(&b);
    b = run_cli("replay", MINIMAL, part2, "--state-in", state1, "--state-out", state2, NULL);
    expect_status(&b, 0);

    size_t joined_len = a.out_len + b.out_len;
    char *joined = malloc(joined_len + 1);
    memcpy(joined, a.out, a.out_len);
    memcpy(joined + a.out_len, b.out, b.out_len);
    joined[joined_len] = '\0';
    expect_same_lines("split replay", expected, joined);
    expect_same_lines("split replay = whole", whole.out, joined);

    /* The final states are the same bytes. */
    size_t n1, n2;
    char *s1 = loy_test_read_file(state_all, &n1);
    char *s2 = loy_test_read_file(state2, &n2);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_int_equal(n1, n2);
    assert_memory_equal(s1, s2, n1);

    free(s1);
    free(s2);
    free(joined);
    loy_test_run_free(&a);
    loy_test_run_free(&b);
    loy_test_run_free(&whole);
}

static void state_in_refusals(void **state)
{
    (void)state;
    const char *ev = TMP("events.jsonl", events);
    const char *st = TMP("good.state", NULL);
    loy_test_run run = RUN5("replay", MINIMAL, ev, "--state-out", st);
    expect_status(&run, 0);
    loy_test_run_free(&run);

    /* A member object with --state-in is an error. */
    run = RUN5("replay", MINIMAL, ev, "--state-in", st);
    expect_status(&run, 2);
    expect_error_object(run.out, "LOY_E_INVALID_MEMBER");
    expect_in(run.err, "--state-in");
    loy_test_run_free(&run);

    /* Bytes that are not a state: the state's error code, event null. */
    const char *tick = TMP("tick.jsonl", "{\"type\": \"tick\", \"id\": \"T-9\", \"at\": \"2026-03-01T10:00:00+08:00\"}\n");
    const char *junk = TMP("junk.state", "not a state at all");
    run = RUN5("replay", MINIMAL, tick, "--state-in", junk);
    expect_status(&run, 2);
    const char *codes[] = {"LOY_E_STATE_TRUNCATED", "LOY_E_STATE_CHECKSUM", "LOY_E_STATE_VERSION"};
    bool matched = false;
    for (int i = 0; i < 3 && !matched; i++)
        matched = strstr(run.out, codes[i]) != NULL;
    assert_true(matched);
    expect_in(run.out, "\"event\": null");
    loy_test_run_free(&run);

    /* A state of minimal.yaml names tier `vip`, which apparel lacks. */
    run = RUN5("replay", APPAREL, tick, "--state-in", st);
    expect_status(&run, 2);
    expect_error_object(run.out, "LOY_E_STATE_POLICY");
    loy_test_run_free(&run);

    run = RUN5("replay", MINIMAL, tick, "--state-in", TMP("absent.state", NULL));
    expect_status(&run, 2);
    assert_int_equal(run.out_len, 0);
    loy_test_run_free(&run);

    /* With good bytes the tick continues the member: 560 points. */
    run = RUN5("replay", MINIMAL, tick, "--state-in", st);
    expect_status(&run, 0);
    expect_same_lines("state-in", "{\"event\": \"T-9\", \"effects\": [], \"member\": {\"tier\": \"vip\", "
                                  "\"points\": {\"available\": 560, \"pending\": 0}, \"stage\": null}}\n",
                      run.out);
    loy_test_run_free(&run);
}

/*
 * §12: "--state-in bytes may have been written under another policy
 * (§10.2)". apparel: O-1 300.00 on 2026-02-01 earns 300 pending until
 * 02-08 (pending_days 7), last day 2027-02-28 (12 months after February);
 * stage registered → first. Under minimal (tier member exists, no
 * lifecycle: stage null) the query at 02-10 sees the release (300
 * available) and lists no benefits; T-1 releases 300; O-2 100.00 earns 100,
 * available at once and never expiring (minimal has no expiry); lifetime
 * spend 400.00 < 500.00, no vip. Back under apparel the query sees the
 * stored stage, null, and every benefit closed for a member without tags
 * (400 points < 1000); T-2 gets its stage at step 6, reported as a change
 * from null: two orders, the last a day ago, so `repeat`. An empty events
 * file writes back the very bytes it read.
 */
static void state_in_under_another_policy(void **state)
{
    (void)state;
    const char *s1 = TMP("x1.state", NULL), *s2 = TMP("x2.state", NULL), *s3 = TMP("x3.state", NULL);
    const char *s4 = TMP("x4.state", NULL);
    const char *ev1 = TMP("x1.jsonl", M1 "{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-02-01T10:00:00+08:00\", "
                                         "\"lines\": [{\"amount\": 30000}]}\n");
    loy_test_run run = RUN5("replay", APPAREL, ev1, "--state-out", s1);
    expect_status(&run, 0);
    expect_same_lines("apparel", "{\"event\": \"O-1\", \"effects\": [{\"type\": \"points\", \"delta\": 300, "
                                 "\"source\": \"order\", \"pending_until\": \"2026-02-08\", \"expires\": \"2027-02-28\", "
                                 "\"rules\": []}, {\"type\": \"stage_changed\", \"from\": \"registered\", \"to\": \"first\"}], "
                                 "\"member\": {\"tier\": \"member\", \"points\": {\"available\": 0, \"pending\": 300}, "
                                 "\"stage\": \"first\"}}\n",
                      run.out);
    loy_test_run_free(&run);

    const char *ev2 = TMP("x2.jsonl", "{\"query\": \"benefits\", \"at\": \"2026-02-10T09:00:00+08:00\"}\n"
                                      "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2026-02-10T10:00:00+08:00\"}\n"
                                      "{\"type\": \"order\", \"id\": \"O-2\", \"at\": \"2026-02-11T10:00:00+08:00\", "
                                      "\"lines\": [{\"amount\": 10000}]}\n");
    run = run_cli("replay", MINIMAL, ev2, "--state-in", s1, "--state-out", s2, NULL);
    expect_status(&run, 0);
    expect_same_lines("minimal",
                      "{\"query\": \"benefits\", \"at\": \"2026-02-10T09:00:00+08:00\", \"benefits\": [], "
                      "\"member\": {\"tier\": \"member\", \"points\": {\"available\": 300, \"pending\": 0}, \"stage\": null}}\n"
                      "{\"event\": \"T-1\", \"effects\": [{\"type\": \"points_released\", \"points\": 300, \"order\": \"O-1\"}], "
                      "\"member\": {\"tier\": \"member\", \"points\": {\"available\": 300, \"pending\": 0}, \"stage\": null}}\n"
                      "{\"event\": \"O-2\", \"effects\": [{\"type\": \"points\", \"delta\": 100, \"source\": \"order\", "
                      "\"rules\": []}], \"member\": {\"tier\": \"member\", \"points\": {\"available\": 400, \"pending\": 0}, "
                      "\"stage\": null}}\n",
                      run.out);
    loy_test_run_free(&run);

    const char *ev3 = TMP("x3.jsonl", "{\"query\": \"benefits\", \"at\": \"2026-02-12T09:00:00+08:00\"}\n"
                                      "{\"type\": \"tick\", \"id\": \"T-2\", \"at\": \"2026-02-12T10:00:00+08:00\"}\n");
    run = run_cli("replay", APPAREL, ev3, "--state-in", s2, "--state-out", s3, NULL);
    expect_status(&run, 0);
    expect_same_lines(
        "apparel again",
        "{\"query\": \"benefits\", \"at\": \"2026-02-12T09:00:00+08:00\", \"benefits\": ["
        "{\"id\": \"member-price\", \"kind\": \"purchase\", \"open\": false, \"reasons\": [{\"tier_at_least\": \"silver\"}]}, "
        "{\"id\": \"free-shipping\", \"kind\": \"service\", \"open\": false, \"reasons\": [{\"tier_at_least\": \"gold\"}]}, "
        "{\"id\": \"alteration\", \"kind\": \"service\", \"open\": false, \"reasons\": [{\"tier_at_least\": \"gold\"}]}, "
        "{\"id\": \"stylist\", \"kind\": \"service\", \"open\": false, \"reasons\": [{\"tier_at_least\": \"platinum\"}]}, "
        "{\"id\": \"designer-salon\", \"kind\": \"activity\", \"open\": false, "
        "\"reasons\": [{\"tier_at_least\": \"platinum\"}, {\"points_at_least\": 1000}]}, "
        "{\"id\": \"preview-launch\", \"kind\": \"product\", \"open\": false, "
        "\"reasons\": [{\"any\": [{\"tier_at_least\": \"gold\"}, {\"tags\": [\"vip-list\"]}]}]}, "
        "{\"id\": \"staff-discount\", \"kind\": \"purchase\", \"open\": false, \"reasons\": [{\"tags\": [\"employee\"]}]}], "
        "\"member\": {\"tier\": \"member\", \"points\": {\"available\": 400, \"pending\": 0}, \"stage\": null}}\n"
        "{\"event\": \"T-2\", \"effects\": [{\"type\": \"stage_changed\", \"from\": null, \"to\": \"repeat\"}], "
        "\"member\": {\"tier\": \"member\", \"points\": {\"available\": 400, \"pending\": 0}, \"stage\": \"repeat\"}}\n",
        run.out);
    loy_test_run_free(&run);

    /* Nothing to replay (blank lines only): no output, exit 0, and
     * --state-out writes back the bytes --state-in read. */
    run = run_cli("replay", APPAREL, TMP("x4.jsonl", "\n  \r\n"), "--state-in", s3, "--state-out", s4, NULL);
    expect_status(&run, 0);
    assert_int_equal(run.out_len, 0);
    loy_test_run_free(&run);
    size_t n3, n4;
    char *b3 = loy_test_read_file(s3, &n3), *b4 = loy_test_read_file(s4, &n4);
    assert_non_null(b3);
    assert_non_null(b4);
    assert_int_equal(n3, n4);
    assert_memory_equal(b3, b4, n3);
    free(b3);
    free(b4);
}

/*
 * §12/§11.5: a refused member object exits 2 with its own code, event null,
 * whatever follows: a plan the policy lacks (apparel has no `paid`) is
 * UNKNOWN_PLAN, a lot past int64 OVERFLOW, a member line that is not an
 * object or a `member` that is not one INVALID_MEMBER, and a query as the
 * first line INVALID_MEMBER too (the first line must be the member).
 */
static void member_refusal_codes(void **state)
{
    (void)state;
    static const char tick[] = "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2026-02-02T10:00:00+08:00\"}\n";
    struct {
        const char *member;
        const char *code;
    } cases[] = {
        {"{\"member\": {\"id\": \"M-1\", \"joined\": \"2026-01-01\", \"paid\": {\"plan\": \"annual\", "
         "\"until\": \"2027-01-01\"}}}",
         "LOY_E_UNKNOWN_PLAN"},
        {"{\"member\": {\"id\": \"M-1\", \"joined\": \"2026-01-01\", \"points\": [{\"points\": 9223372036854775808}]}}",
         "LOY_E_OVERFLOW"},
        {"[{\"member\": {\"id\": \"M-1\", \"joined\": \"2026-01-01\"}}]", "LOY_E_INVALID_MEMBER"},
        {"{\"member\": \"M-1\"}", "LOY_E_INVALID_MEMBER"},
        {"{\"query\": \"benefits\", \"at\": \"2026-02-01T10:00:00+08:00\"}", "LOY_E_INVALID_MEMBER"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s\n%s", cases[i].member, tick);
        loy_test_run run = RUN3("replay", APPAREL, TMP("refused-member.jsonl", text));
        if (run.status != 2)
            fail_msg("%s: exit %d, expected 2\nstdout: %s", cases[i].member, run.status, run.out);
        expect_error_object(run.out, cases[i].code);
        loy_test_run_free(&run);
    }
}

/*
 * A file of the member line alone prints nothing and exits 0; its
 * --state-out is the imported member (a never-expiring lot of 5 points,
 * §11.2), which a query through --state-in sees: 5 available, stage
 * registered (no order: §8's first stage), and no member line needed.
 */
static void member_line_alone_writes_its_state(void **state)
{
    (void)state;
    const char *st = TMP("alone.state", NULL);
    loy_test_run run = RUN5("replay", APPAREL,
                            TMP("alone.jsonl", "{\"member\": {\"id\": \"M-A\", \"joined\": \"2026-01-01\", "
                                               "\"points\": [{\"points\": 5}]}}\n\n"),
                            "--state-out", st);
    expect_status(&run, 0);
    assert_int_equal(run.out_len, 0);
    loy_test_run_free(&run);
    run = RUN5("replay", APPAREL, TMP("alone-q.jsonl", "{\"query\": \"benefits\", \"at\": \"2026-01-02T00:00:00Z\"}\n"),
               "--state-in", st);
    expect_status(&run, 0);
    expect_in(run.out, "\"member\": {\"tier\": \"member\", \"points\": {\"available\": 5, \"pending\": 0}, "
                       "\"stage\": \"registered\"}}\n");
    loy_test_run_free(&run);
}

/*
 * §10/§11.5 through the tool: bytes cut short are STATE_TRUNCATED, bytes
 * changed STATE_CHECKSUM, another version or foreign bytes STATE_VERSION
 * (the header's "LOY" and version byte, docs/state.md); each exits 2 with
 * the one error object, "event": null, and writes no --state-out.
 */
static void state_in_codes(void **state)
{
    (void)state;
    const char *good = TMP("c.state", NULL);
    loy_test_run run = RUN5("replay", MINIMAL, TMP("c.jsonl", events), "--state-out", good);
    expect_status(&run, 0);
    loy_test_run_free(&run);
    size_t n;
    unsigned char *bytes = (unsigned char *)loy_test_read_file(good, &n);
    assert_non_null(bytes);
    assert_true(n > 24);
    unsigned char *work = malloc(n + 1);
    assert_non_null(work);

    /* A copy: TMP's paths are reused after 16 calls, and the loop makes more. */
    char tick[4096];
    snprintf(tick, sizeof tick, "%s",
             TMP("c-tick.jsonl", "{\"type\": \"tick\", \"id\": \"T-9\", \"at\": \"2026-03-01T10:00:00+08:00\"}\n"));
    struct {
        const char *what;
        size_t len;         /* bytes of the damaged copy */
        long at;            /* offset to change, or -1 */
        int to;             /* its new value, or -1 to flip its lowest bit */
        const char *code;
    } cases[] = {
        {"empty", 0, -1, 0, "LOY_E_STATE_TRUNCATED"},
        {"half a header", 6, -1, 0, "LOY_E_STATE_TRUNCATED"},
        {"the header only", 12, -1, 0, "LOY_E_STATE_TRUNCATED"},
        {"the last byte missing", n - 1, -1, 0, "LOY_E_STATE_TRUNCATED"},
        {"a byte more", n + 1, -1, 0, "LOY_E_STATE_CHECKSUM"},
        {"a payload byte changed", n, 14, -1, "LOY_E_STATE_CHECKSUM"},
        {"the checksum changed", n, (long)n - 1, -1, "LOY_E_STATE_CHECKSUM"},
        {"version 2", n, 3, 2, "LOY_E_STATE_VERSION"},
        {"version 0", n, 3, 0, "LOY_E_STATE_VERSION"},
        {"not LOY", n, 0, 'X', "LOY_E_STATE_VERSION"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(work, bytes, n);
        work[n] = 0;
        if (cases[i].at >= 0)
            work[cases[i].at] = cases[i].to < 0 ? (unsigned char)(bytes[cases[i].at] ^ 0x01) : (unsigned char)cases[i].to;
        const char *in = tmp_file("damaged.state", work, cases[i].len);
        const char *out = TMP("damaged-out.state", NULL);
        remove(out);
        run = run_cli("replay", MINIMAL, tick, "--state-in", in, "--state-out", out, NULL);
        if (run.status != 2 || !strstr(run.out, cases[i].code))
            fail_msg("%s: exit %d, expected 2 with %s\nstdout: %s", cases[i].what, run.status, cases[i].code, run.out);
        expect_error_object(run.out, cases[i].code);
        FILE *f = fopen(out, "rb");
        if (f) {
            fclose(f);
            fail_msg("%s: --state-out written after refused bytes", cases[i].what);
        }
        loy_test_run_free(&run);
    }
    free(work);
    free(bytes);
}

/*
 * §12: refused events and queries are answered with error objects and the
 * replay goes on, exit 0 — a line that is JSON but not an object, an
 * unknown type, a query that is not `benefits`, a member object after the
 * first line. A line that is not JSON stops everything before anything is
 * printed, even when the member object (or the --state-in bytes) would be
 * refused: exit 2, no results.
 */
static void refusals_exit_0_broken_line_prints_nothing(void **state)
{
    (void)state;
    const char *ev = TMP("mixed.jsonl",
                         M1
                         "[1, 2]\n"
                         "{\"type\": \"refund\", \"id\": \"Z-1\", \"at\": \"2026-02-01T10:00:00+08:00\"}\n"
                         "{\"query\": \"members\", \"at\": \"2026-02-01T10:00:00+08:00\"}\n"
                         M1
                         "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2026-02-02T10:00:00+08:00\"}\n");
    loy_test_run run = RUN3("replay", MINIMAL, ev);
    expect_status(&run, 0);
    expect_same_lines("refusals",
                      "{\"event\": null, \"error\": {\"code\": \"LOY_E_INVALID_EVENT\", \"message\": \"\"}}\n"
                      "{\"event\": \"Z-1\", \"error\": {\"code\": \"LOY_E_INVALID_EVENT\", \"message\": \"\"}}\n"
                      "{\"query\": \"members\", \"error\": {\"code\": \"LOY_E_INVALID_QUERY\", \"message\": \"\"}}\n"
                      "{\"event\": null, \"error\": {\"code\": \"LOY_E_INVALID_EVENT\", \"message\": \"\"}}\n"
                      "{\"event\": \"T-1\", \"effects\": [], \"member\": {\"tier\": \"member\", "
                      "\"points\": {\"available\": 0, \"pending\": 0}, \"stage\": null}}\n",
                      run.out);
    loy_test_run_free(&run);

    /* A refused member object, then a broken line: nothing on stdout. */
    ev = TMP("bad-both.jsonl", "{\"member\": {\"id\": \"M-1\"}}\n"
                               "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2026-02-02T10:00:00+08:00\"}\n"
                               "{\"type\": \"tick\",\n");
    run = RUN3("replay", MINIMAL, ev);
    expect_status(&run, 2);
    assert_int_equal(run.out_len, 0);
    loy_test_run_free(&run);

    /* Bytes that are no state, then a broken line: nothing on stdout. */
    run = RUN5("replay", MINIMAL, TMP("broken-only.jsonl", "{]\n"), "--state-in", TMP("junk2.state", "junk"));
    expect_status(&run, 2);
    assert_int_equal(run.out_len, 0);
    loy_test_run_free(&run);

    /* A policy that does not load and an events file that is missing: exit
     * 2, no results. */
    run = RUN3("replay", TMP("bad2.yaml", "loyalty_policy: 2\n"), TMP("missing.jsonl", NULL));
    expect_status(&run, 2);
    assert_int_equal(run.out_len, 0);
    loy_test_run_free(&run);
}

static void trace_adds_a_trace(void **state)
{
    (void)state;
    const char *ev = TMP("events.jsonl", events);
    loy_test_run plain = RUN3("replay", MINIMAL, ev);
    loy_test_run traced = RUN4("replay", "--trace", MINIMAL, ev);
    expect_status(&plain, 0);
    expect_status(&traced, 0);
    /* The same results as values (a trace is ignored by the comparison)... */
    expect_same_lines("trace", plain.out, traced.out);
    /* ...but every accepted event's line carries a "trace" list. */
    const char **lines;
    size_t *lens, count;
    loy_test_split_lines(traced.out, traced.out_len, &lines, &lens, &count);
    assert_int_equal(count, 6);
    const size_t accepted[] = {0, 1, 2, 5};
    for (size_t i = 0; i < 4; i++) {
        char buf[8192];
        snprintf(buf, sizeof buf, "%.*s", (int)lens[accepted[i]], lines[accepted[i]]);
        expect_in(buf, "\"trace\": [");
    }
    assert_null(strstr(plain.out, "\"trace\""));
    free(lines);
    free(lens);
    loy_test_run_free(&plain);
    loy_test_run_free(&traced);
}

static void usage_errors(void **state)
{
    (void)state;
    const char *ev = TMP("events.jsonl", events);
    loy_test_run run = RUN1(NULL);
    expect_status(&run, 2);
    expect_in(run.err, "usage: loyalty");
    assert_int_equal(run.out_len, 0);
    loy_test_run_free(&run);

    run = RUN1("frobnicate");
    expect_status(&run, 2);
    expect_in(run.err, "unknown command 'frobnicate'");
    loy_test_run_free(&run);

    run = RUN2("replay", MINIMAL);
    expect_status(&run, 2);
    expect_in(run.err, "usage: loyalty replay");
    loy_test_run_free(&run);

    run = RUN4("replay", MINIMAL, ev, "--fast");
    expect_status(&run, 2);
    expect_in(run.err, "unknown option '--fast'");
    assert_int_equal(run.out_len, 0);
    loy_test_run_free(&run);

    run = RUN4("replay", MINIMAL, ev, "extra");
    expect_status(&run, 2);
    loy_test_run_free(&run);

    run = RUN3("replay", MINIMAL, TMP("nope.jsonl", NULL));
    expect_status(&run, 2);
    expect_in(run.err, "nope.jsonl");
    loy_test_run_free(&run);

    run = RUN1("help");
    expect_status(&run, 0);
    expect_in(run.out, "loyalty replay POLICY EVENTS.jsonl");
    loy_test_run_free(&run);

    run = RUN1("version");
    expect_status(&run, 0);
    char want[64];
    snprintf(want, sizeof want, "loyalty %s\n", LOY_VERSION_STRING);
    assert_string_equal(run.out, want);
    loy_test_run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replays_and_exits_0),
        cmocka_unit_test(blank_lines_skipped),
        cmocka_unit_test(bad_policy_exits_2),
        cmocka_unit_test(malformed_line_exits_2),
        cmocka_unit_test(member_line_refused_exits_2),
        cmocka_unit_test(state_out_then_in_continues),
        cmocka_unit_test(state_in_refusals),
        cmocka_unit_test(state_in_under_another_policy),
        cmocka_unit_test(state_in_codes),
        cmocka_unit_test(member_line_alone_writes_its_state),
        cmocka_unit_test(member_refusal_codes),
        cmocka_unit_test(refusals_exit_0_broken_line_prints_nothing),
        cmocka_unit_test(trace_adds_a_trace),
        cmocka_unit_test(usage_errors),
    };
    return cmocka_run_group_tests_name("replay_cli", tests, NULL, NULL);
}
