/*
 * Policies that must not load (POLICY.md §2): every file of
 * tests/policies/invalid/ against its pinned `LINE:COL: message` lines
 * (see the README there), and the cases easier to build in code: alias
 * bombs, nesting depth, file size, NUL and invalid UTF-8 bytes, the error
 * cap, did-you-mean distances and the diag API.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "loyalty.h"
#include "policy/internal.h"
#include "support/wire_support.h"

#define CORPUS LOY_TEST_DIR "/policies/invalid"

/* The diag as "LINE:COL: message\n" lines (malloc'd). */
static char *diag_text(const loy_diag *d)
{
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    for (size_t i = 0; i < loy_diag_count(d); i++) {
        const char *msg = loy_diag_message(d, i);
        size_t need = len + strlen(msg) + 32;
        if (need > cap) {
            cap = need * 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        len += (size_t)sprintf(out + len, "%u:%u: %s\n", loy_diag_line(d, i), loy_diag_column(d, i), msg);
    }
    return out;
}

/* Loads text that must fail; returns its errors as lines (caller frees). */
static char *errors_of(const char *text, size_t len)
{
    loy_policy *p = (loy_policy *)1;
    loy_diag *d = NULL;
    int rc = loy_policy_load_buffer(&p, text, len, "t.yaml", &d);
    assert_int_equal(rc, LOY_E_POLICY);
    assert_null(p);
    assert_non_null(d);
    assert_string_equal(loy_diag_file(d), "t.yaml");
    char *out = diag_text(d);
    loy_diag_free(d);
    return out;
}

static void expect_errors(const char *text, const char *want)
{
    char *got = errors_of(text, strlen(text));
    if (strcmp(got, want) != 0)
        fprintf(stderr, "--- policy:\n%s\n--- want:\n%s--- got:\n%s", text, want, got);
    assert_string_equal(got, want);
    free(got);
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* ------------------------------------------------------------- corpus */

static void test_corpus(void **state)
{
    (void)state;
    DIR *dir = opendir(CORPUS);
    assert_non_null(dir);
    char *names[1024];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0 && n < 1024)
            names[n++] = strndup(e->d_name, len - 5);
    }
    closedir(dir);
    qsort(names, n, sizeof *names, name_cmp);
    assert_true(n >= 40);

    int failures = 0;
    size_t errors = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096], expected_path[4096];
        snprintf(path, sizeof path, "%s/%s.yaml", CORPUS, names[i]);
        snprintf(expected_path, sizeof expected_path, "%s/%s.expected", CORPUS, names[i]);
        char *want = loy_test_read_file(expected_path, NULL);
        loy_policy *p = NULL;
        loy_diag *d = NULL;
        int rc = loy_policy_load_file(&p, path, &d);
        char *got = diag_text(d);
        if (rc != LOY_E_POLICY || p != NULL || !want || strcmp(got, want) != 0) {
            fprintf(stderr, "%s.yaml: rc %d\n--- want:\n%s--- got:\n%s", names[i], rc, want ? want : "(no .expected)\n",
                    got);
            failures++;
        }
        /* the diag names the file as given */
        assert_string_equal(loy_diag_file(d), path);
        errors += loy_diag_count(d);
        loy_policy_free(p);
        loy_diag_free(d);
        free(got);
        free(want);
        free(names[i]);
    }
    printf("corpus: %zu invalid policies, %zu errors pinned\n", n, errors);
    assert_int_equal(failures, 0);
}

/* Every error of a file is reported, in file order. */
static void test_all_errors_reported(void **state)
{
    (void)state;
    loy_policy *p = NULL;
    loy_diag *d = NULL;
    assert_int_equal(loy_policy_load_file(&p, CORPUS "/three-errors.yaml", &d), LOY_E_POLICY);
    assert_int_equal(loy_diag_count(d), 3);
    assert_int_equal(loy_diag_line(d, 0), 6);
    assert_int_equal(loy_diag_column(d, 0), 3);
    assert_string_equal(loy_diag_message(d, 0), "unknown key 'windw' in tiers; did you mean 'window'?");
    assert_int_equal(loy_diag_line(d, 1), 10);
    assert_int_equal(loy_diag_column(d, 1), 24);
    assert_int_equal(loy_diag_line(d, 2), 15);
    assert_int_equal(loy_diag_column(d, 2), 15);
    /* out of range */
    assert_int_equal(loy_diag_line(d, 3), 0);
    assert_int_equal(loy_diag_column(d, 3), 0);
    assert_null(loy_diag_message(d, 3));
    loy_diag_free(d);
}

#define HEAD "loyalty_policy: 1\ntiers: {qualify_on: spend, levels: [{id: member}]}\n"

static void test_duplicate_key_and_did_you_mean(void **state)
{
    (void)state;
    expect_errors(HEAD "points: {pending_days: 1, pending_days: 2}\n",
                  "3:27: points: key 'pending_days' repeated (first at 3:10)\n");
    /* a repeated top-level key */
    expect_errors(HEAD "program: a\nprogram: b\n", "4:1: top-level key 'program' repeated (first at 3:1)\n");
    /* many keys: the sorted path of the duplicate check */
    char text[4096] = HEAD "benefits:\n  - {id: x, kind: gift, when: {";
    for (int i = 0; i < 40; i++)
        sprintf(text + strlen(text), "tags: t%d, ", i);
    strcat(text, "tags: z}}\n");
    char *got = errors_of(text, strlen(text));
    assert_non_null(strstr(got, "4:42: benefits[0].when: key 'tags' repeated (first at 4:32)\n"));
    free(got);

    expect_errors(HEAD "points: {earn: {rate: {amount: 1, points: 1}, multiplers: []}}\n",
                  "3:47: unknown key 'multiplers' in points.earn; did you mean 'multipliers'?\n");
    expect_errors(HEAD "points: {earn: {rate: {amount: 1, points: 1}, rounding: nearst}}\n",
                  "3:57: points.earn.rounding: expected floor, nearest or ceil, got 'nearst'; did you mean 'nearest'?\n");
    expect_errors(HEAD "benefits: [{id: x, kind: gift, when: {tier_below: membr}}]\n",
                  "3:51: benefits[0].when.tier_below: unknown tier 'membr'; did you mean 'member'?\n");

    assert_int_equal(loy_edit_distance("window", "window", 3), 0);
    assert_int_equal(loy_edit_distance("windw", "window", 3), 1);
    assert_int_equal(loy_edit_distance("widnow", "window", 3), 1);   /* a transposition is one edit */
    assert_int_equal(loy_edit_distance("", "abc", 3), 3);
    assert_int_equal(loy_edit_distance("abcdef", "uvwxyz", 3), 4);   /* capped: cap + 1 */
}

/* ------------------------------------------------------------- bounds */

static void test_alias_bomb(void **state)
{
    (void)state;
    /* "billion laughs": 10^9 nodes once expanded, a few hundred bytes */
    char text[4096] = "loyalty_policy: 1\nlol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (int i = 1; i < 10; i++) {
        char line[256];
        snprintf(line, sizeof line, "lol%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n", i, i,
                 i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
        strcat(text, line);
    }
    clock_t t0 = clock();
    /* before lol5, 123,467 nodes; each *l4 adds 111,111: the 8th one (column
     * 47 of lol5's line) passes 1,000,000 */
    expect_errors(text, "7:47: the policy has more than 1000000 nodes once aliases are expanded (the loader's bound)\n");
    assert_true(clock() - t0 < 5 * CLOCKS_PER_SEC);

    /* a recursive alias */
    expect_errors("loyalty_policy: 1\nx: &a [1, *a]\n",
                  "2:11: alias '*a' refers to a node that contains it (a recursive structure)\n");
    /* aliases under the bound load (and are validated at each use) */
    expect_errors("loyalty_policy: 1\ntiers: &t {qualify_on: spend, levels: [{id: a}]}\nx: *t\n",
                  "3:1: unknown top-level key 'x'; expected loyalty_policy, program, currency, tiers, growth, points, "
                  "gifts, benefits, paid or lifecycle\n");
}

static char *nested(int depth, const char *prefix)
{
    size_t len = strlen(prefix);
    char *s = malloc(len + (size_t)depth * 2 + 2);
    memcpy(s, prefix, len);
    for (int i = 0; i < depth; i++)
        s[len + (size_t)i] = '[';
    for (int i = 0; i < depth; i++)
        s[len + (size_t)depth + (size_t)i] = ']';
    s[len + (size_t)depth * 2] = '\n';
    s[len + (size_t)depth * 2 + 1] = '\0';
    return s;
}

static void test_depth(void **state)
{
    (void)state;
    /* the top mapping is level 1: 63 lists inside it reach level 64, the bound */
    char *ok = nested(63, "loyalty_policy: 1\nx: ");
    char *got = errors_of(ok, strlen(ok));
    assert_string_equal(got, "1:1: missing required top-level key 'tiers'\n"
                             "2:1: unknown top-level key 'x'; expected loyalty_policy, program, currency, tiers, "
                             "growth, points, gifts, benefits, paid or lifecycle\n");
    free(got);
    free(ok);
    char *deep = nested(64, "loyalty_policy: 1\nx: ");
    expect_errors(deep, "2:67: mappings and lists nest deeper than 64 levels (the loader's bound)\n");
    free(deep);
    /* far deeper: stops at once */
    char *deeper = nested(100000, "loyalty_policy: 1\nx: ");
    expect_errors(deeper, "2:67: mappings and lists nest deeper than 64 levels (the loader's bound)\n");
    free(deeper);

    /* an alias that would put its target beyond the bound */
    char *anchored = nested(40, "loyalty_policy: 1\na: &deep ");
    char *text = malloc(strlen(anchored) + 200);
    strcpy(text, anchored);
    strcat(text, "b: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*deep]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n");
    expect_errors(text, "3:34: alias '*deep' makes mappings and lists nest deeper than 64 levels (the loader's bound)\n");
    free(text);
    free(anchored);

    /* conditions nest too, through not/any/all */
    char cond[8192] = HEAD "benefits: [{id: x, kind: gift, when: ";
    for (int i = 0; i < 40; i++)
        strcat(cond, "{not: ");
    strcat(cond, "{tags: a}");
    for (int i = 0; i < 40; i++)
        strcat(cond, "}");
    strcat(cond, "}]\n");
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, cond, strlen(cond), NULL, NULL), LOY_OK);
    loy_policy_free(p);
}

static void test_size(void **state)
{
    (void)state;
    size_t len = LOY_POLICY_MAX_BYTES + 1;
    char *big = malloc(len);
    memset(big, '#', len);
    for (size_t i = 79; i < len; i += 80)
        big[i] = '\n';
    char *got = errors_of(big, len);
    assert_string_equal(got, "1:1: the policy is larger than 4194304 bytes (4 MiB, the loader's bound)\n");
    free(got);
    /* exactly at the bound it is read (a file of comments is an empty policy) */
    got = errors_of(big, len - 1);
    assert_string_equal(got, "1:1: the policy is empty: expected a mapping with loyalty_policy: 1 and tiers\n");
    free(got);

    /* through the file loader, which stops reading past the bound */
    char path[] = "/tmp/loy_big_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, big, len), (ssize_t)len);
    assert_int_equal(write(fd, big, 4096), 4096);
    close(fd);
    loy_policy *p = NULL;
    loy_diag *d = NULL;
    assert_int_equal(loy_policy_load_file(&p, path, &d), LOY_E_POLICY);
    assert_int_equal(loy_diag_count(d), 1);
    assert_string_equal(loy_diag_message(d, 0), "the policy is larger than 4194304 bytes (4 MiB, the loader's bound)");
    loy_diag_free(d);
    unlink(path);
    free(big);
}

static void test_bytes(void **state)
{
    (void)state;
    static const char nul[] = "loyalty_policy: 1\nprogram: \"a\\0b\"\ntiers: {qualify_on: spend, levels: [{id: m}]}\n";
    expect_errors(nul, "2:10: program: text may not contain a NUL character\n");
    static const char raw_nul[] = "loyalty_policy: 1\nprogram: a\0b\n";
    char *got = errors_of(raw_nul, sizeof raw_nul - 1);
    assert_string_equal(got, "2:11: cannot read the text: control characters are not allowed\n");
    free(got);
    /* the octet after \xc3 (the newline) is the bad one */
    expect_errors("loyalty_policy: 1\nprogram: caf\xc3\n", "2:14: cannot read the text: invalid trailing UTF-8 octet\n");
    expect_errors("loyalty_policy: 1\nprogram: \xff\n", "2:10: cannot read the text: invalid leading UTF-8 octet\n");
    /* an empty buffer and an empty document */
    got = errors_of("", 0);
    assert_string_equal(got, "1:1: the policy is empty: expected a mapping with loyalty_policy: 1 and tiers\n");
    free(got);
    expect_errors("---\n...\n", "1:1: the policy is empty: expected a mapping with loyalty_policy: 1 and tiers\n");
    expect_errors("42\n", "1:1: expected a mapping at the top of the policy, got 42\n");
}

static void test_error_cap(void **state)
{
    (void)state;
    char *text = malloc(200 * 32 + 64);
    strcpy(text, "loyalty_policy: 1\ntiers: {qualify_on: spend, levels: [{id: m}]}\n");
    for (int i = 0; i < 200; i++)
        sprintf(text + strlen(text), "unknown_key_%03d: 1\n", i);
    loy_diag *d = NULL;
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, text, strlen(text), NULL, &d), LOY_E_POLICY);
    assert_int_equal(loy_diag_count(d), LOY_POLICY_MAX_ERRORS + 1);
    assert_int_equal(loy_diag_line(d, 0), 3);
    assert_string_equal(loy_diag_message(d, LOY_POLICY_MAX_ERRORS), "too many errors; only the first 100 are reported");
    loy_diag_free(d);
    free(text);
}

/* A policy loads whole or not at all, with or without a diag. */
static void test_no_partial_policy(void **state)
{
    (void)state;
    const char *text = HEAD "points: {earn: {rate: {amount: 1, points: 1}}, pending_days: -1}\n";
    loy_policy *p = (loy_policy *)1;
    assert_int_equal(loy_policy_load_buffer(&p, text, strlen(text), NULL, NULL), LOY_E_POLICY);
    assert_null(p);
}

/* POLICY.md §9 at its edges: a list names plans even when it says
 * `active` or `none`; `window` needs gifts.birthday, not just gifts;
 * date_between from = to and every range's ends load, one day past or an
 * impossible date does not. */
#define GIFTS "gifts: {upgrade: {by_tier: {member: {points: 1}}}}\n"

static void test_condition_edges(void **state)
{
    (void)state;
    expect_errors(HEAD "benefits: [{id: x, kind: gift, when: {paid: [none, active]}}]\n",
                  "3:46: benefits[0].when.paid[0]: unknown plan 'none' (the policy has no paid plans)\n"
                  "3:52: benefits[0].when.paid[1]: unknown plan 'active' (the policy has no paid plans)\n");
    expect_errors(HEAD GIFTS "benefits: [{id: x, kind: gift, when: {birthday: window}}]\n",
                  "4:49: benefits[0].when.birthday: 'window' means the gifts.birthday window, and the policy has "
                  "no gifts.birthday\n");
    expect_errors(HEAD "benefits: [{id: x, kind: gift, when: {date_between: [2028-02-29, 2028-02-28]}}]\n",
                  "3:53: benefits[0].when.date_between: from 2028-02-29 is after to 2028-02-28\n");
    expect_errors(HEAD "benefits: [{id: x, kind: gift, when: {date_between: [2027-02-29, 2027-03-01]}}]\n",
                  "3:54: benefits[0].when.date_between[0]: 2027-02-29 is not a date of the calendar\n");
    expect_errors(HEAD "lifecycle: [{id: a, when: {orders_in_months: {months: 1201, at_least: 1}}}, {id: b}]\n",
                  "3:55: lifecycle[0].when.orders_in_months.months: must be 1..1200, got 1201\n");

    static const char ok[] =
        HEAD "benefits: [{id: x, kind: gift, when: {date_between: [2028-02-29, 2028-02-29],\n"
             "  orders_in_months: {months: 1200, at_least: 0}, time_between: [\"00:00\", \"23:59\"],\n"
             "  not: {}, any: [], all: [], tags: [], day_of_month: [1, 31], month: [1, 12]}}]\n";
    loy_policy *p = NULL;
    loy_diag *d = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, ok, strlen(ok), NULL, &d), LOY_OK);
    assert_int_equal(p->months_kept, 1200);
    loy_policy_free(p);
    loy_diag_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_duplicate_key_and_did_you_mean),
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_error_cap),
        cmocka_unit_test(test_no_partial_policy),
        cmocka_unit_test(test_condition_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
