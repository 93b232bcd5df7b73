/*
 * The loader's fast months (lib/state/load.c, fast_month) sum their
 * figures as they read them, and read_state then checks the lifetime
 * totals against those sums instead of walking the months again. This
 * holds that shortcut against the checked loader (loy_state_load_checked,
 * which reads every month by the general path and sums them in the walk):
 * many hand-made states, whose months are all regular (the sums the fast
 * path keeps), regular then not (a figure past 3 varint bytes, a gap past
 * 15: the walk decides), or damaged (a figure of 0, no figure, a month out
 * of range, the payload cut inside them), with lifetime totals just below,
 * at and above the months' sums, and figures whose sums pass int64, give
 * the same code, the same message and the same bytes back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "state_support.h"
#include "rules_support.h"
#include "state/codec.h"

static uint64_t pick_figure(uint64_t *seed, unsigned style)
{
    switch (style) {
    case 0:     /* regular: 1..2^21-1, one to three bytes */
        switch (lcg(seed) % 4) {
        case 0: return 1 + lcg(seed) % 127;
        case 1: return 128 + lcg(seed) % (16384 - 128);
        case 2: return 2097151 - lcg(seed) % 3;
        default: return 1 + lcg(seed) % 2097151;
        }
    case 1:     /* past three bytes */
        return 2097152 + lcg(seed) % 1000000000;
    default:    /* sums that reach int64's end */
        return (uint64_t)INT64_MAX / (2 + lcg(seed) % 3) + lcg(seed) % 3;
    }
}

typedef struct twins {
    loy_member *fast, *checked;
    size_t tried, loaded, summed;
} twins;

static void twin_load(twins *w, const blob *b)
{
    int rf = loy_member_load(w->fast, b->data, b->len);
    int rc = loy_state_load_checked(w->checked, b->data, b->len);
    if (rf != rc || strcmp(loy_member_error(w->fast), loy_member_error(w->checked)) != 0)
        fprintf(stderr, "fast %s (%s), checked %s (%s)\n", loy_error_name(rf), loy_member_error(w->fast),
                loy_error_name(rc), loy_member_error(w->checked));
    assert_int_equal(rf, rc);
    assert_string_equal(loy_member_error(w->fast), loy_member_error(w->checked));
    /* both refused the first states they met: no state to write yet */
    assert_int_equal(w->fast->initialised, w->checked->initialised);
    if (w->fast->initialised) {
        blob a = state_of(w->fast), c = state_of(w->checked);
        assert_int_equal(a.len, c.len);
        assert_memory_equal(a.data, c.data, a.len);
        free(a.data);
        free(c.data);
    }
    w->tried++;
    w->loaded += rf == LOY_OK;
}

/* One state of `months` months in the given style; the lifetime totals
 * near the months' sums. */
static blob make_state(uint64_t *seed, size_t months, unsigned style, bool *all_regular)
{
    craft c = {.len = 0};
    cr_u(&c, 1);                          /* flags: fresh */
    cr_u(&c, 1);                          /* string table: one id */
    cr_str(&c, "member");
    cr_str(&c, "M-1");
    cr_s(&c, day_of("2026-01-01"));       /* joined */
    cr_u(&c, 0);                          /* birthday: none */
    cr_u(&c, 0);                          /* tags */
    cr_u(&c, 0);                          /* tier: string 0 */
    cr_s(&c, 0);                          /* tier_since */
    cr_u(&c, 0);                          /* last review: none */
    cr_u(&c, 0);                          /* debt */
    cr_u(&c, 0);                          /* lots */
    cr_u(&c, months);
    __int128 sum[4] = {0, 0, 0, 0};
    *all_regular = true;
    for (size_t i = 0; i < months; i++) {
        unsigned mask = 1 + (unsigned)(lcg(seed) % 15);
        unsigned fig_style = 0;
        if (style == 1 && lcg(seed) % 3 == 0)
            fig_style = 1;
        if (style == 2 && lcg(seed) % 2 == 0)
            fig_style = 2;
        if (style == 3 && lcg(seed) % 8 == 0)
            mask = 0;                     /* malformed: no figure */
        if (i == 0) {
            int64_t delta = (int64_t)(lcg(seed) % 61) - 30;
            if (style == 3 && lcg(seed) % 16 == 0)
                delta = -(int64_t)(2026 * 12 + 1 + lcg(seed) % 3);   /* before 0000-01 */
            cr_s(&c, delta);
            cr_byte(&c, mask);
        } else {
            uint64_t gap = lcg(seed) % 4 == 0 ? lcg(seed) % 40 : lcg(seed) % 3;
            if (style == 3 && lcg(seed) % 16 == 0)
                gap = 200000;             /* past 9999-12 */
            if (gap >= 15) {
                cr_byte(&c, 0xF0u | mask);
                cr_u(&c, gap - 15);
                *all_regular = *all_regular && gap - 15 < 2097152;
            } else {
                cr_byte(&c, (unsigned)gap << 4 | mask);
            }
        }
        for (unsigned k = 0; k < 4; k++) {
            if (!(mask & (1u << k)))
                continue;
            uint64_t v = pick_figure(seed, fig_style);
            if (style == 3 && lcg(seed) % 24 == 0)
                v = 0;                    /* malformed: a figure of 0 */
            if (v >= 2097152)
                *all_regular = false;
            cr_u(&c, v);
            sum[k] += v;
        }
    }
    for (unsigned k = 0; k < 4; k++) {
        __int128 total = sum[k];
        switch (lcg(seed) % 6) {
        case 0: total -= 1; break;
        case 1: total += 1; break;
        case 2: total += (__int128)(lcg(seed) % 1000); break;
        case 3: total -= (__int128)(lcg(seed) % 3); break;
        default: break;
        }
        if (total > INT64_MAX)
            total = INT64_MAX - (__int128)(lcg(seed) % 2);
        cr_s(&c, (int64_t)total);
    }
    /* the rest of a new member */
    cr_u(&c, 0);                          /* orders */
    cr_u(&c, 0);                          /* last order */
    for (int i = 0; i < 6; i++)
        cr_u(&c, 0);                      /* counters and gift ledgers */
    cr_u(&c, 0);                          /* cap day */
    cr_u(&c, 0);                          /* day's points */
    cr_u(&c, 0);                          /* recent ids */
    if (style == 3 && lcg(seed) % 6 == 0)
        c.len -= 1 + lcg(seed) % (c.len - 20);  /* cut: the payload ends early */
    return cr_seal(&c);
}

static void test_months_fast_against_checked(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("minimal.yaml");
    twins w = {NULL, NULL, 0, 0, 0};
    assert_int_equal(loy_member_create(&w.fast, p), LOY_OK);
    assert_int_equal(loy_member_create(&w.checked, p), LOY_OK);
    uint64_t seed = 20261124;
    for (int iter = 0; iter < 20000; iter++) {
        size_t months = lcg(&seed) % 14;
        unsigned style = (unsigned)(lcg(&seed) % 4);
        bool regular;
        blob b = make_state(&seed, months, style, &regular);
        twin_load(&w, &b);
        w.summed += regular && style != 3;
        free(b.data);
    }
    print_message("months: %zu loads, %zu accepted, %zu all regular\n", w.tried, w.loaded, w.summed);
    /* every kind was met */
    assert_true(w.loaded > 2000);
    assert_true(w.tried - w.loaded > 2000);
    assert_true(w.summed > 4000);
    loy_member_free(w.fast);
    loy_member_free(w.checked);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_months_fast_against_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
