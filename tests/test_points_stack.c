/*
 * An order's points under many stacked multipliers (lib/engine/earn.c,
 * raw_points) against the plain arithmetic of POLICY.md §4.1, done here in
 * its most literal form: every line over the one denominator
 * rate.amount x 10^(4 x the multiplier count), in 32-bit limbs, rounded by
 * dividing step by step. The engine instead drops each factor's trailing
 * decimal zeros, keeps numbers in 128 bits while they fit, brings lines to
 * the largest denominator seen so far and stops working out a sum once it
 * is past int64 by bit lengths; the answers (points, caps, the overflow
 * refusal, the rules) must be the same. Policies have 0-12 multipliers (the
 * compiled plan takes most of those orders) or 65-260 (the general path
 * alone), with factors from 0.0001 to 9999.9999, every rounding mode and
 * scope, and caps or none.
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
#include "support/points_text.h"

/* ------------------------------------------------- the literal arithmetic */

typedef struct ref {
    uint32_t *w;        /* little-endian 32-bit limbs */
    size_t n, cap;
} ref;

static void ref_set(ref *x, uint64_t v)
{
    if (x->cap < 2) {
        x->w = realloc(x->w, 2 * sizeof *x->w);
        assert_non_null(x->w);
        x->cap = 2;
    }
    x->n = 0;
    for (; v; v >>= 32)
        x->w[x->n++] = (uint32_t)v;
}

static void ref_grow(ref *x, size_t n)
{
    if (x->cap < n) {
        x->cap = 2 * n;
        x->w = realloc(x->w, x->cap * sizeof *x->w);
        assert_non_null(x->w);
    }
}

static void ref_mul(ref *x, uint32_t v)
{
    uint64_t carry = 0;
    for (size_t i = 0; i < x->n; i++) {
        uint64_t t = (uint64_t)x->w[i] * v + carry;
        x->w[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry) {
        ref_grow(x, x->n + 1);
        x->w[x->n++] = (uint32_t)carry;
    }
    while (x->n && x->w[x->n - 1] == 0)
        x->n--;
}

static void ref_add(ref *a, const ref *b)
{
    size_t n = a->n > b->n ? a->n : b->n;
    ref_grow(a, n + 1);
    uint64_t carry = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t t = carry + (i < a->n ? a->w[i] : 0) + (i < b->n ? b->w[i] : 0);
        a->w[i] = (uint32_t)t;
        carry = t >> 32;
    }
    a->n = n;
    if (carry)
        a->w[a->n++] = (uint32_t)carry;
}

/* x = floor(x / v); the remainder */
static uint32_t ref_div(ref *x, uint32_t v)
{
    uint64_t rem = 0;
    for (size_t i = x->n; i-- > 0;) {
        uint64_t cur = rem << 32 | x->w[i];
        x->w[i] = (uint32_t)(cur / v);
        rem = cur % v;
    }
    while (x->n && x->w[x->n - 1] == 0)
        x->n--;
    return (uint32_t)rem;
}

/* x x 10^(4 x k), one 10^4 at a time */
static void ref_mul_fix(ref *x, uint32_t k)
{
    while (k-- > 0)
        ref_mul(x, 10000);
}

/* x = round(x / (ra x 10^(4 x k))) */
static void ref_round(ref *x, uint32_t ra, uint32_t k, loy_round mode)
{
    if (mode == LOY_ROUND_NEAREST) {
        /* floor((2x + D) / 2D) */
        ref d = {0};
        ref_set(&d, ra);
        ref_mul_fix(&d, k);
        ref_mul(x, 2);
        ref_add(x, &d);
        ref_div(x, 2);
        free(d.w);
    }
    bool inexact = ref_div(x, ra) != 0;
    for (uint32_t i = 0; i < k; i++)
        inexact |= ref_div(x, 10000) != 0;
    if (mode == LOY_ROUND_CEIL && inexact) {
        ref one = {0};
        ref_set(&one, 1);
        ref_add(x, &one);
        free(one.w);
    }
}

/* x as int64, or -1 when it passes INT64_MAX */
static int64_t ref_i64(const ref *x)
{
    if (x->n > 2 || (x->n == 2 && x->w[1] > 0x7fffffffu))
        return -1;
    return (int64_t)((x->n > 1 ? (uint64_t)x->w[1] << 32 : 0) | (x->n ? x->w[0] : 0));
}

/* ------------------------------------------------------------ the policies */

static const char *const CATS[] = {"c0", "c1", "c2", "c3", "gc"};  /* gc earns nothing */
static const char *const FACTORS[] = {"0.0001", "0.5", "0.9", "1", "1.0001", "1.1", "1.2", "1.25", "1.5",
                                      "2", "3", "10", "100", "1.2345", "9999.9999"};

typedef struct spec {
    int count;
    int cat[300];       /* the category multiplier j looks at, or -1 for none */
} spec;

static loy_policy *random_policy(rng *r, spec *s)
{
    static char y[65536];
    y[0] = '\0';
    static const char *const rates[] = {"{amount: 1, points: 1}", "{amount: 3, points: 7}", "{amount: 100, points: 1}",
                                        "{amount: 0.07, points: 999983}", "{amount: 123.45, points: 1000}"};
    static const char *const rounds[] = {"floor", "ceil", "nearest"};
    static const char *const stacks[] = {"multiply", "multiply", "multiply", "add", "max"};
    add(y, sizeof y, "loyalty_policy: 1\ntiers: {qualify_on: spend, levels: [{id: t0}]}\n");
    add(y, sizeof y, "points:\n  earn:\n    rate: %s\n    rounding: %s\n    rounding_scope: %s\n",
        rates[pick(r, 5)], rounds[pick(r, 3)], pick(r, 2) ? "line" : "order");
    add(y, sizeof y, "    exclude: {categories: [gc]}\n");
    s->count = pick(r, 3) ? 65 + pick(r, 196) : pick(r, 13);
    /* mostly one kind of factor, so that stacks reach every size */
    int usual = pick(r, 15);
    if (s->count)
        add(y, sizeof y, "    multipliers:\n");
    for (int j = 0; j < s->count; j++) {
        const char *f = FACTORS[pick(r, 4) ? usual : pick(r, 15)];
        s->cat[j] = pick(r, 3) ? -1 : pick(r, 4);
        if (s->cat[j] < 0)
            add(y, sizeof y, "      - {id: m%03d, factor: %s}\n", j, f);
        else
            add(y, sizeof y, "      - {id: m%03d, when: {category: [%s]}, factor: %s}\n", j, CATS[s->cat[j]], f);
    }
    add(y, sizeof y, "    stacking: %s\n", stacks[pick(r, 5)]);
    switch (pick(r, 4)) {
    case 0: add(y, sizeof y, "    cap: {per_order: %d}\n", pick(r, 100000)); break;
    case 1: add(y, sizeof y, "    cap: {per_order: 9000000000000000000, per_day: %d}\n", pick(r, 1000000)); break;
    default: break;
    }
    loy_policy *p = NULL;
    if (loy_policy_load_buffer(&p, y, strlen(y), "stack.yaml", NULL) != LOY_OK)
        fail_msg("policy refused:\n%s", y);
    return p;
}

/* ---------------------------------------------------------------- expected */

typedef struct line {
    int cat;
    int64_t amount;
} line;

typedef struct expected {
    int rc;
    int64_t points;
    char text[4096];    /* as points_text writes it */
} expected;

static void expect(const loy_policy *p, const spec *s, const line *lines, int count, expected *out)
{
    const loy_points *pts = &p->points;
    uint32_t mc = pts->multiplier_count, scale = pts->stacking == LOY_STACK_MULTIPLY ? mc : 1;
    uint32_t ra = (uint32_t)pts->rate_amount;
    bool used[300] = {false};
    ref sum = {0}, term = {0};
    ref_set(&sum, 0);
    bool past = false;
    for (int li = 0; li < count; li++) {
        if (lines[li].cat == 4)
            continue;
        ref_set(&term, (uint64_t)lines[li].amount);
        ref_mul(&term, (uint32_t)pts->rate_points);
        uint32_t applied = 0;
        int64_t add_sum = LOY_FIX_ONE, best = 0;
        for (uint32_t j = 0; j < mc; j++) {
            if (s->cat[j] >= 0 && s->cat[j] != lines[li].cat)
                continue;
            used[j] = true;
            applied++;
            loy_fix f = pts->multipliers[j].factor;
            if (pts->stacking == LOY_STACK_MULTIPLY)
                ref_mul(&term, (uint32_t)f);
            else if (pts->stacking == LOY_STACK_ADD)
                add_sum += f - LOY_FIX_ONE;
            else if (f > best)
                best = f;
        }
        if (pts->stacking == LOY_STACK_MULTIPLY) {
            ref_mul_fix(&term, mc - applied);
        } else if (pts->stacking == LOY_STACK_ADD) {
            if (add_sum < 0)
                add_sum = 0;
            ref_mul(&term, (uint32_t)(add_sum >> 16));
            ref_mul(&term, 65536);
            ref tail = {0};
            ref_set(&tail, (uint64_t)lines[li].amount);
            ref_mul(&tail, (uint32_t)pts->rate_points);
            ref_mul(&tail, (uint32_t)(add_sum & 0xffff));
            ref_add(&term, &tail);
            free(tail.w);
        } else {
            ref_mul(&term, (uint32_t)(applied ? best : LOY_FIX_ONE));
        }
        if (pts->round_per_line) {
            ref_round(&term, ra, scale, pts->rounding);
            past |= ref_i64(&term) < 0;
        }
        ref_add(&sum, &term);
    }
    if (!pts->round_per_line)
        ref_round(&sum, ra, scale, pts->rounding);
    int64_t earned = past ? -1 : ref_i64(&sum);
    free(sum.w);
    free(term.w);
    out->rc = LOY_OK;
    if (earned < 0) {
        if (pts->cap_per_order < 0) {
            out->rc = LOY_E_OVERFLOW;
            out->points = 0;
            out->text[0] = '\0';
            return;
        }
        earned = INT64_MAX;
    }
    if (pts->cap_per_order >= 0 && earned > pts->cap_per_order)
        earned = pts->cap_per_order;
    if (pts->cap_per_day >= 0 && earned > pts->cap_per_day)
        earned = pts->cap_per_day;
    out->points = earned;
    out->text[0] = '\0';
    if (earned > 0)
        add(out->text, sizeof out->text, "%lld", (long long)earned);
    for (uint32_t j = 0; earned > 0 && j < mc; j++)
        if (used[j])
            add(out->text, sizeof out->text, " %s", pts->multipliers[j].id);
}

/* ------------------------------------------------------------------- tests */

static void stacks_as_literal_arithmetic(void **state)
{
    (void)state;
    rng r = {20261124};
    static const int64_t amounts[] = {0, 1, 7, 99, 12345, 159900, INT64_C(1) << 33, INT64_C(1) << 50,
                                      INT64_C(1) << 58};
    long compared = 0, earned = 0, capped = 0, refused = 0, general = 0;
    for (int pi = 0; pi < 160; pi++) {
        spec s;
        loy_policy *p = random_policy(&r, &s);
        general += p->order_plan == NULL;
        loy_event *e = NULL;
        assert_int_equal(loy_event_new(&e, p), LOY_OK);
        for (int k = 0; k < 12; k++) {
            line lines[5];
            int count = 1 + pick(&r, 5);
            int pool = pick(&r, 3) ? 6 : 9;
            assert_int_equal(loy_event_reset(e, LOY_EVENT_ORDER, "O-1", "2026-03-08T12:00:00+08:00"), LOY_OK);
            for (int li = 0; li < count; li++) {
                lines[li].cat = pick(&r, 5);
                lines[li].amount = amounts[pick(&r, pool)];
                assert_int_equal(loy_event_add_line(e, NULL, CATS[lines[li].cat], lines[li].amount, 1), LOY_OK);
            }
            expected want;
            expect(p, &s, lines, count, &want);
            loy_member *m = NULL;
            loy_result *res = NULL;
            assert_int_equal(loy_member_new(&m, p, "M-1", "2025-01-01"), LOY_OK);
            assert_int_equal(loy_result_new(&res, p), LOY_OK);
            int rc = loy_apply(p, m, e, res);
            char text[4096];
            points_text(res, text, sizeof text);
            if (rc != want.rc || strcmp(text, want.text) != 0)
                fail_msg("policy %d order %d: rc %d points '%.40s', expected rc %d points '%.40s' (%s)", pi, k, rc,
                         text, want.rc, want.text, loy_result_message(res));
            if (rc == LOY_E_OVERFLOW)
                assert_string_equal(loy_result_message(res), "order points overflow int64");
            compared++;
            earned += want.points > 0;
            capped += p->points.cap_per_order >= 0 && want.points == p->points.cap_per_order;
            refused += rc != LOY_OK;
            loy_result_free(res);
            loy_member_free(m);
        }
        loy_event_free(e);
        loy_policy_free(p);
    }
    /* every outcome was met, on both paths */
    assert_true(earned > compared / 4);
    assert_true(capped > 20);
    assert_true(refused > 20);
    assert_true(general > 80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stacks_as_literal_arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
