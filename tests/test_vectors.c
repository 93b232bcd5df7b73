/*
 * The conformance vectors (spec/vectors/, policy per MANIFEST.tsv) and the
 * project's golden replays (tests/golden/: a member's year under each
 * reference policy, the expected results worked out by hand from
 * POLICY.md and explained in tests/golden/README.md), each run twice: through the JSON entry points of the C API (loy_member_init_json +
 * loy_apply_json_line) and through `loyalty replay` as a process. Each
 * output line is compared with the expected line as JSON values (key order
 * and whitespace free, numbers by value, error.message wording free, a
 * "trace" ignored). One cmocka test per vector and route, so a failure
 * names the vector; a mismatch prints the expected and the actual line.
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
#include "support/replay_support.h"

typedef struct vector {
    char name[128];             /* "55-spec-example" */
    char input[512];
    char expected[512];
    char policy[512];
    char label[160];
} vector;

static void vector_api(void **state)
{
    const vector *v = *state;
    replay c = replay_open(v->policy, v->input, v->expected);
    int rc = loy_member_init_json(c.member, c.lines[0], c.lens[0], c.result);
    if (rc != LOY_OK)
        fail_msg("%s: the member line is refused: %s", v->name, loy_result_json(c.result, NULL));

    /* Every result line, as loy_result_json writes it, joined into one text. */
    size_t cap = 1 << 16, used = 0;
    char *got = malloc(cap);
    assert_non_null(got);
    for (size_t i = 1; i < c.count; i++) {
        loy_apply_json_line(c.policy, c.member, c.lines[i], c.lens[i], c.result);
        size_t n;
        const char *json = loy_result_json(c.result, &n);
        assert_non_null(json);
        assert_int_equal(strlen(json), n);
        append(&got, &used, &cap, json, n);
    }
    int mismatches = loy_test_compare_lines(v->label, c.expected, c.exp_len, got, used);

    free(got);
    replay_close(&c);
    if (mismatches)
        fail_msg("%s: %d line(s) differ from %s", v->name, mismatches, v->expected);
}

static void vector_cli(void **state)
{
    const vector *v = *state;
    const char *argv[] = {LOY_CLI, "replay", v->policy, v->input, NULL};
    loy_test_run run;
    assert_true(loy_test_spawn(argv, &run));
    if (run.status != 0) {
        fprintf(stderr, "%s", run.err);
        loy_test_run_free(&run);
        fail_msg("%s: loyalty replay exited with %d", v->name, run.status);
    }
    size_t exp_len;
    char *expected = read_or_fail(v->expected, &exp_len);
    int mismatches = loy_test_compare_lines(v->label, expected, exp_len, run.out, run.out_len);
    free(expected);
    loy_test_run_free(&run);
    if (mismatches)
        fail_msg("%s: %d line(s) of `loyalty replay` differ", v->name, mismatches);
}

static const char *const golden[] = {"minimal", "apparel", "grocery"};
#define GOLDEN_COUNT (sizeof golden / sizeof golden[0])

static void add_tests(struct CMUnitTest *tests, char (*names)[200], vector *v, size_t n)
{
    snprintf(names[2 * n], sizeof names[0], "%s (C API)", v->name);
    snprintf(names[2 * n + 1], sizeof names[0], "%s (loyalty replay)", v->name);
    tests[2 * n] = (struct CMUnitTest){names[2 * n], vector_api, NULL, NULL, v};
    tests[2 * n + 1] = (struct CMUnitTest){names[2 * n + 1], vector_cli, NULL, NULL, v};
}

int main(void)
{
    size_t len;
    char *manifest = loy_test_read_file(LOY_SPEC_DIR "/vectors/MANIFEST.tsv", &len);
    if (!manifest) {
        fprintf(stderr, "cannot read %s\n", LOY_SPEC_DIR "/vectors/MANIFEST.tsv");
        return 1;
    }
    const char **lines;
    size_t *lens, count;
    loy_test_split_lines(manifest, len, &lines, &lens, &count);
    size_t most = count + GOLDEN_COUNT;
    vector *vectors = calloc(most, sizeof *vectors);
    struct CMUnitTest *tests = calloc(2 * most, sizeof *tests);
    char (*names)[200] = calloc(2 * most, sizeof *names);
    if (!vectors || !tests || !names)
        return 1;
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const char *tab = memchr(lines[i], '\t', lens[i]);
        if (!tab || lines[i][0] == '#')
            continue;
        vector *v = &vectors[n];
        int file_len = (int)(tab - lines[i]);
        int policy_len = (int)(lens[i] - (size_t)file_len - 1);
        while (policy_len > 0 && (tab[policy_len] == '\r' || tab[policy_len] == ' '))
            policy_len--;
        char file[256];
        snprintf(file, sizeof file, "%.*s", file_len, lines[i]);
        /* "NAME.jsonl" -> NAME */
        snprintf(v->name, sizeof v->name, "%.*s", file_len > 6 ? file_len - 6 : file_len, lines[i]);
        snprintf(v->input, sizeof v->input, "%s/vectors/%s", LOY_SPEC_DIR, file);
        snprintf(v->expected, sizeof v->expected, "%s/vectors/%s.expected.jsonl", LOY_SPEC_DIR, v->name);
        snprintf(v->policy, sizeof v->policy, "%s/%.*s", LOY_SPEC_DIR, policy_len, tab + 1);
        snprintf(v->label, sizeof v->label, "vector %s", v->name);
        add_tests(tests, names, v, n++);
    }
    if (n == 0) {
        fprintf(stderr, "no vectors in MANIFEST.tsv\n");
        return 1;
    }
    for (size_t i = 0; i < GOLDEN_COUNT; i++) {
        vector *v = &vectors[n];
        snprintf(v->name, sizeof v->name, "golden-%s", golden[i]);
        snprintf(v->input, sizeof v->input, "%s/golden/%s.jsonl", LOY_TEST_DIR, golden[i]);
        snprintf(v->expected, sizeof v->expected, "%s/golden/%s.expected.jsonl", LOY_TEST_DIR, golden[i]);
        snprintf(v->policy, sizeof v->policy, "%s/policies/%s.yaml", LOY_SPEC_DIR, golden[i]);
        snprintf(v->label, sizeof v->label, "golden %s", golden[i]);
        add_tests(tests, names, v, n++);
    }
    int failed = _cmocka_run_group_tests("vectors", tests, 2 * n, NULL, NULL);
    free(names);
    free(tests);
    free(vectors);
    free(lines);
    free(lens);
    free(manifest);
    return failed;
}
