/*
 * Exact decimals of a policy file (POLICY.md §1): the parser of
 * lib/policy/decimal.c on its edges, the normalised text of benefit values,
 * and the same rules as the loader applies them to money, factors,
 * percentages and integers (messages pinned).
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
#include "policy.h"
#include "policy/decimal.h"

typedef struct dcase {
    const char *text;
    bool quoted;
    int scale;
    loy_dec_status status;
    int64_t value;  /* when LOY_DEC_OK */
} dcase;

static const dcase CASES[] = {
    /* plain values */
    {"123", false, 2, LOY_DEC_OK, 12300},
    {"123.45", false, 2, LOY_DEC_OK, 12345},
    {"19.9", false, 2, LOY_DEC_OK, 1990},
    {"0", false, 2, LOY_DEC_OK, 0},
    {"0.0", false, 4, LOY_DEC_OK, 0},
    {"0.50", true, 2, LOY_DEC_OK, 50},
    {"0.50", false, 2, LOY_DEC_OK, 50},
    {"1.5", false, 4, LOY_DEC_OK, 15000},
    {"2", false, 4, LOY_DEC_OK, 20000},
    {"100", false, 0, LOY_DEC_OK, 100},
    {"00.5", false, 2, LOY_DEC_OK, 50},   /* a float in YAML 1.1: no octal trap */
    {"010", true, 0, LOY_DEC_OK, 10},     /* quoted: just text */
    /* decimals are counted without trailing zeros */
    {"1.500", false, 1, LOY_DEC_OK, 15},
    {"1.000000000000000000000000000000000000000000000000", false, 0, LOY_DEC_OK, 1},
    {"1.55", false, 1, LOY_DEC_DECIMALS, 0},
    {"0.001", false, 2, LOY_DEC_DECIMALS, 0},
    {"1.23456", false, 4, LOY_DEC_DECIMALS, 0},
    {"1.5", false, 0, LOY_DEC_DECIMALS, 0},
    {"0.000000000000000000000000000000000000000000000001", false, 4, LOY_DEC_DECIMALS, 0},
    /* `_` groups digits, unquoted only, between digits only */
    {"10_000", false, 2, LOY_DEC_OK, 1000000},
    {"1_000_000", false, 0, LOY_DEC_OK, 1000000},
    {"1_0.2_5", false, 2, LOY_DEC_OK, 1025},
    {"10_000", true, 2, LOY_DEC_QUOTED_GROUPING, 0},
    {"0.5_0", true, 2, LOY_DEC_QUOTED_GROUPING, 0},
    {"1__0", false, 0, LOY_DEC_SYNTAX, 0},
    {"1_", false, 0, LOY_DEC_SYNTAX, 0},
    {"_1", false, 0, LOY_DEC_SYNTAX, 0},
    {"1_.5", false, 2, LOY_DEC_SYNTAX, 0},
    {"1._5", false, 2, LOY_DEC_SYNTAX, 0},
    /* no exponent, no leading point, no sign */
    {"1e3", false, 2, LOY_DEC_EXPONENT, 0},
    {"1E3", false, 2, LOY_DEC_EXPONENT, 0},
    {"1.5e+2", false, 2, LOY_DEC_EXPONENT, 0},
    {"2e-1", true, 2, LOY_DEC_EXPONENT, 0},
    {"-1e3", false, 2, LOY_DEC_EXPONENT, 0},
    {".5", false, 2, LOY_DEC_LEADING_DOT, 0},
    {".5", true, 2, LOY_DEC_LEADING_DOT, 0},
    {"-5", false, 2, LOY_DEC_NEGATIVE, 0},
    {"-0.5", false, 2, LOY_DEC_NEGATIVE, 0},
    {"-0", false, 2, LOY_DEC_NEGATIVE, 0},
    {"-.5", false, 2, LOY_DEC_NEGATIVE, 0},
    {"+5", false, 2, LOY_DEC_SIGN, 0},
    {"-", false, 2, LOY_DEC_SYNTAX, 0},
    {"-abc", false, 2, LOY_DEC_SYNTAX, 0},
    /* not numbers */
    {"", false, 2, LOY_DEC_SYNTAX, 0},
    {"abc", false, 2, LOY_DEC_SYNTAX, 0},
    {"5.", false, 2, LOY_DEC_SYNTAX, 0},
    {".", false, 2, LOY_DEC_SYNTAX, 0},
    {"1.2.3", false, 2, LOY_DEC_SYNTAX, 0},
    {"1,5", false, 2, LOY_DEC_SYNTAX, 0},
    {"12 ", true, 2, LOY_DEC_SYNTAX, 0},
    {"0x10", false, 0, LOY_DEC_SYNTAX, 0},
    {"1e", false, 2, LOY_DEC_SYNTAX, 0},
    {".inf", false, 2, LOY_DEC_SYNTAX, 0},
    /* unquoted 010 is octal 8 in YAML 1.1: refused rather than misread */
    {"010", false, 0, LOY_DEC_LEADING_ZERO, 0},
    {"00", false, 0, LOY_DEC_LEADING_ZERO, 0},
    /* int64 edges */
    {"9223372036854775807", false, 0, LOY_DEC_OK, INT64_MAX},
    {"9_223_372_036_854_775_807", false, 0, LOY_DEC_OK, INT64_MAX},
    {"9223372036854775808", false, 0, LOY_DEC_OVERFLOW, 0},
    {"92233720368547758.07", false, 2, LOY_DEC_OK, INT64_MAX},
    {"92233720368547758.08", false, 2, LOY_DEC_OVERFLOW, 0},
    {"92233720368547758.1", false, 2, LOY_DEC_OVERFLOW, 0},
    {"99999999999999999999999999999999", false, 0, LOY_DEC_OVERFLOW, 0},
    {"1", false, 18, LOY_DEC_OK, 1000000000000000000},
    {"10", false, 18, LOY_DEC_OVERFLOW, 0},
    {"0000000000000000000000000000001", true, 0, LOY_DEC_OK, 1},
};

static void test_parse(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const dcase *c = &CASES[i];
        int64_t v = -12345;
        loy_dec_status st = loy_decimal_parse(c->text, strlen(c->text), c->quoted, c->scale, &v, NULL);
        if (st != c->status || (st == LOY_DEC_OK && v != c->value)) {
            fprintf(stderr, "%s%s%s scale %d: status %d value %lld, want %d %lld\n", c->quoted ? "\"" : "", c->text,
                    c->quoted ? "\"" : "", c->scale, st, (long long)v, c->status, (long long)c->value);
            failures++;
        }
    }
    assert_int_equal(failures, 0);

    /* has_point tells an integer from 1.0 */
    bool point = true;
    int64_t v;
    assert_int_equal(loy_decimal_parse("12", 2, false, 0, &v, &point), LOY_DEC_OK);
    assert_false(point);
    assert_int_equal(loy_decimal_parse("1.0", 3, false, 0, &v, &point), LOY_DEC_OK);
    assert_true(point);
    assert_int_equal(v, 1);
    /* the length is honoured: no NUL needed */
    assert_int_equal(loy_decimal_parse("12345", 3, false, 0, &v, NULL), LOY_DEC_OK);
    assert_int_equal(v, 123);
    /* scale out of range */
    assert_int_equal(loy_decimal_parse("1", 1, false, 19, &v, NULL), LOY_DEC_SYNTAX);
}

static void test_format(void **state)
{
    (void)state;
    char buf[32];
    struct {
        int64_t v;
        int scale;
        const char *text;
    } cases[] = {
        {9500, 4, "0.95"}, {10000, 4, "1"},     {125000, 4, "12.5"}, {0, 4, "0"},
        {5, 4, "0.0005"},  {1990, 2, "19.9"},   {100, 0, "100"},     {INT64_MAX, 4, "922337203685477.5807"},
        {-15, 1, "-1.5"},  {INT64_MIN, 0, "-9223372036854775808"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = loy_decimal_format(cases[i].v, cases[i].scale, buf, sizeof buf);
        assert_string_equal(buf, cases[i].text);
        assert_int_equal(len, strlen(cases[i].text));
    }
}

/* ---------------------------------------------- through the loader */

/* Loads a policy whose tiers have `at: VALUE` (money) and whose redeem
 * share/multiplier factor/sample come from the template. */
static int load_with(const char *fmt, const char *value, loy_policy **out, char *msg, size_t cap)
{
    /* the template holds one %s: splice the value in */
    char text[2048];
    const char *at = strstr(fmt, "%s");
    assert_non_null(at);
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - fmt), fmt, value, at + 2);
    loy_diag *d = NULL;
    *out = NULL;
    int rc = loy_policy_load_buffer(out, text, strlen(text), NULL, &d);
    msg[0] = '\0';
    if (loy_diag_count(d) > 0)
        snprintf(msg, cap, "%u:%u: %s", loy_diag_line(d, 0), loy_diag_column(d, 0), loy_diag_message(d, 0));
    if (loy_diag_count(d) > 1)
        snprintf(msg, cap, "%zu errors", loy_diag_count(d));
    loy_diag_free(d);
    return rc;
}

#define MONEY(minor)                                                                          \
    "loyalty_policy: 1\ncurrency: {code: XYZ, minor_units: " #minor "}\n"                     \
    "tiers: {qualify_on: spend, levels: [{id: a}, {id: b, at: %s}]}\n"

static void test_money(void **state)
{
    (void)state;
    struct {
        const char *fmt, *value;
        int64_t at;          /* minor units, when it loads */
        const char *error;   /* else */
    } cases[] = {
        {MONEY(2), "1000", 100000, NULL},
        {MONEY(2), "19.9", 1990, NULL},
        {MONEY(2), "\"0.50\"", 50, NULL},
        {MONEY(2), "'0.50'", 50, NULL},
        {MONEY(2), "10_000.00", 1000000, NULL},
        {MONEY(2), "1.500", 150, NULL},
        {MONEY(0), "1200", 1200, NULL},
        {MONEY(3), "1.234", 1234, NULL},
        {MONEY(6), "0.000001", 1, NULL},
        {MONEY(2), "92233720368547758.07", INT64_MAX, NULL},
        {MONEY(2), "1.999", 0, "3:58: tiers.levels[1].at: money in XYZ takes at most 2 decimals, got 1.999"},
        {MONEY(0), "1.5", 0, "3:58: tiers.levels[1].at: money in XYZ takes no decimals, got 1.5"},
        {MONEY(2), "-5", 0, "3:58: tiers.levels[1].at: must not be negative, got -5"},
        {MONEY(2), "1e3", 0, "3:58: tiers.levels[1].at: write the number without an exponent, got 1e3"},
        {MONEY(2), ".5", 0, "3:58: tiers.levels[1].at: write a digit before the decimal point (0.5, not .5), got .5"},
        {MONEY(2), "\"1_000\"", 0,
         "3:58: tiers.levels[1].at: '_' may group digits only in an unquoted number, got \"1_000\""},
        {MONEY(2), "92233720368547758.08", 0, "3:58: tiers.levels[1].at: number too large, got 92233720368547758.08"},
        {MONEY(2), "1000000000000000000000", 0,
         "3:58: tiers.levels[1].at: number too large, got 1000000000000000000000"},
        {MONEY(2), "ten", 0, "3:58: tiers.levels[1].at: expected an amount of money (at most 2 decimals), got 'ten'"},
        {MONEY(2), "yes", 0,
         "3:58: tiers.levels[1].at: expected an amount of money (at most 2 decimals), got the boolean yes"},
        {MONEY(2), "2026-01-01", 0,
         "3:58: tiers.levels[1].at: expected an amount of money (at most 2 decimals), got the date 2026-01-01"},
        {MONEY(2), "[1]", 0, "3:58: tiers.levels[1].at: expected an amount of money (at most 2 decimals), got a list"},
        {MONEY(2), "+5", 0, "3:58: tiers.levels[1].at: a number takes no sign, got +5"},
        {MONEY(2), "010", 0,
         "3:58: tiers.levels[1].at: a number may not start with 0 (YAML 1.1 reads it as octal), got 010"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        loy_policy *p;
        char msg[512];
        int rc = load_with(cases[i].fmt, cases[i].value, &p, msg, sizeof msg);
        if (cases[i].error) {
            assert_int_equal(rc, LOY_E_POLICY);
            assert_string_equal(msg, cases[i].error);
        } else {
            if (rc != LOY_OK)
                fprintf(stderr, "%s: %s\n", cases[i].value, msg);
            assert_int_equal(rc, LOY_OK);
            assert_int_equal(p->tiers.levels[1].at, cases[i].at);
            loy_policy_free(p);
        }
    }
}

#define BASE "loyalty_policy: 1\ntiers: {qualify_on: spend, levels: [{id: a}]}\n"

static void test_factors_percent_integers(void **state)
{
    (void)state;
    struct {
        const char *fmt, *value;
        int64_t want;
        const char *error;
    } cases[] = {
        /* factors: 4 decimals, > 0 */
        {BASE "points: {earn: {rate: {amount: 1, points: 1}, multipliers: [{id: m, factor: %s}]}}\n", "2", 20000, NULL},
        {BASE "points: {earn: {rate: {amount: 1, points: 1}, multipliers: [{id: m, factor: %s}]}}\n", "0.0001", 1, NULL},
        {BASE "points: {earn: {rate: {amount: 1, points: 1}, multipliers: [{id: m, factor: %s}]}}\n", "1.23450", 12345,
         NULL},
        {BASE "points: {earn: {rate: {amount: 1, points: 1}, multipliers: [{id: m, factor: %s}]}}\n", "0.00001", 0,
         "3:77: points.earn.multipliers[0].factor: a factor takes at most 4 decimals, got 0.00001"},
        {BASE "points: {earn: {rate: {amount: 1, points: 1}, multipliers: [{id: m, factor: %s}]}}\n", "0.0000", 0,
         "3:77: points.earn.multipliers[0].factor: a factor must be greater than 0, got 0.0000"},
        /* a share: <= 1 */
        {BASE "points: {redeem: {rate: {points: 1, amount: 1}, max_order_share: %s}}\n", "1", 10000, NULL},
        {BASE "points: {redeem: {rate: {points: 1, amount: 1}, max_order_share: %s}}\n", "0", 0, NULL},
        {BASE "points: {redeem: {rate: {points: 1, amount: 1}, max_order_share: %s}}\n", "1.0001", 0,
         "3:66: points.redeem.max_order_share: must be at most 1, got 1.0001"},
        /* sample_percent: hundredths */
        {BASE "gifts: {surprise: [{id: s, reward: {points: 1}, sample_percent: %s}]}\n", "40.70", 4070, NULL},
        {BASE "gifts: {surprise: [{id: s, reward: {points: 1}, sample_percent: %s}]}\n", "\"0.01\"", 1, NULL},
        {BASE "gifts: {surprise: [{id: s, reward: {points: 1}, sample_percent: %s}]}\n", "100.00", 10000, NULL},
        {BASE "gifts: {surprise: [{id: s, reward: {points: 1}, sample_percent: %s}]}\n", "0.001", 0,
         "3:65: gifts.surprise[0].sample_percent: a percentage takes at most 2 decimals, got 0.001"},
        {BASE "gifts: {surprise: [{id: s, reward: {points: 1}, sample_percent: %s}]}\n", "100.01", 0,
         "3:65: gifts.surprise[0].sample_percent: must be 0..100, got 100.01"},
        /* integers: unquoted, no decimals (not even .0) */
        {BASE "points: {pending_days: %s}\n", "3_650", 3650, NULL},
        {BASE "points: {pending_days: %s}\n", "7.0", 0, "3:24: points.pending_days: expected an integer, got 7.0"},
        {BASE "points: {pending_days: %s}\n", "\"7\"", 0, "3:24: points.pending_days: write an integer unquoted, got \"7\""},
        {BASE "points: {pending_days: %s}\n", "-1", 0, "3:24: points.pending_days: must not be negative, got -1"},
        {BASE "points: {pending_days: %s}\n", "1e2", 0,
         "3:24: points.pending_days: write the number without an exponent, got 1e2"},
        {BASE "points: {pending_days: %s}\n", "~", 0, "3:24: points.pending_days: expected an integer, got null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        loy_policy *p;
        char msg[512];
        int rc = load_with(cases[i].fmt, cases[i].value, &p, msg, sizeof msg);
        if (cases[i].error) {
            if (rc != LOY_E_POLICY || strcmp(msg, cases[i].error) != 0)
                fprintf(stderr, "case %zu (%s): got %s\n", i, cases[i].value, msg);
            assert_int_equal(rc, LOY_E_POLICY);
            assert_string_equal(msg, cases[i].error);
            continue;
        }
        if (rc != LOY_OK)
            fprintf(stderr, "case %zu (%s): %s\n", i, cases[i].value, msg);
        assert_int_equal(rc, LOY_OK);
        int64_t got = strstr(cases[i].fmt, "factor")            ? p->points.multipliers[0].factor
                      : strstr(cases[i].fmt, "max_order_share") ? p->points.redeem_max_share
                      : strstr(cases[i].fmt, "sample_percent")  ? p->gifts.surprise[0].sample
                                                                : p->points.pending_days;
        assert_int_equal(got, cases[i].want);
        loy_policy_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_money),
        cmocka_unit_test(test_factors_percent_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
