/*
 * The fast date conversions of lib/date.c against the plain reference
 * (H. Hinnant's algorithms) they replace: every day and every (y, m, d) of
 * the years they serve and past both ends, where the reference takes over;
 * and the engine's per-event date cache (loy_ctx) against working the same
 * values out from the event's day, for every day of 1900..2400.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_support.h"
#include "date.h"
#include "support/one_tier.h"

/* A little past the fast range (-1000..12000) on both sides. */
#define Y_LO (-1200)
#define Y_HI 12200

static void to_ymd_every_day(void **state)
{
    (void)state;
    loy_day lo = loy_day_from_ymd_ref(Y_LO, 1, 1), hi = loy_day_from_ymd_ref(Y_HI, 12, 31);
    for (loy_day day = lo; day <= hi; day++) {
        loy_ymd ref = loy_day_to_ymd_ref(day), got = loy_day_to_ymd(day);
        if (ref.y != got.y || ref.m != got.m || ref.d != got.d)
            fail_msg("day %d: %d-%d-%d, reference %d-%d-%d", (int)day, (int)got.y, (int)got.m,
                     (int)got.d, (int)ref.y, (int)ref.m, (int)ref.d);
        if (loy_month_of(day) != loy_month_of_ymd(ref))
            fail_msg("day %d: month %d, reference %d", (int)day, (int)loy_month_of(day),
                     (int)loy_month_of_ymd(ref));
        if (loy_day_from_ymd(ref.y, ref.m, ref.d) != day)
            fail_msg("day %d does not come back from its date", (int)day);
    }
}

/* loy_ns_month_day: the reference's month and day on every day it takes,
 * and false exactly outside the fast range (both ends, far days, no date). */
static void month_day_every_day(void **state)
{
    (void)state;
    loy_day lo = loy_day_from_ymd_ref(Y_LO, 1, 1), hi = loy_day_from_ymd_ref(Y_HI, 12, 31);
    loy_day fast_lo = loy_day_from_ymd_ref(-1000, 1, 1), fast_hi = loy_day_from_ymd_ref(12000, 12, 31);
    for (loy_day day = lo; day <= hi; day++) {
        int32_t m = -1, d = -1;
        bool ok = loy_ns_month_day(day, &m, &d);
        if (ok != (day >= fast_lo && day <= fast_hi))
            fail_msg("day %d: taken %d", (int)day, (int)ok);
        loy_ymd ref = loy_day_to_ymd_ref(day);
        if (ok && (m != ref.m || d != ref.d))
            fail_msg("day %d: %d-%d, reference %d-%d", (int)day, (int)m, (int)d, (int)ref.m, (int)ref.d);
    }
    for (int64_t day = INT32_MIN; day <= INT32_MAX - 1000000; day += 9973) {
        int32_t m, d;
        if (loy_ns_month_day((loy_day)day, &m, &d)) {
            loy_ymd ref = loy_day_to_ymd_ref((loy_day)day);
            assert_true(day >= fast_lo && day <= fast_hi);
            assert_int_equal(m, ref.m);
            assert_int_equal(d, ref.d);
        }
    }
    int32_t m, d;
    assert_false(loy_ns_month_day(LOY_DAY_NONE, &m, &d));
    assert_false(loy_ns_month_day(INT32_MAX, &m, &d));
    assert_false(loy_ns_month_day(fast_lo - 1, &m, &d));
    assert_false(loy_ns_month_day(fast_hi + 1, &m, &d));
    assert_true(loy_ns_month_day(loy_day_from_ymd_ref(2024, 2, 29), &m, &d));
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
}

/* Days of month past the month's end too: both formulas are linear in d. */
static void from_ymd_every_date(void **state)
{
    (void)state;
    for (int32_t y = Y_LO; y <= Y_HI; y++)
        for (int32_t m = 1; m <= 12; m++)
            for (int32_t d = 0; d <= 32; d++)
                if (loy_day_from_ymd(y, m, d) != loy_day_from_ymd_ref(y, m, d))
                    fail_msg("%d-%d-%d: %d, reference %d", (int)y, (int)m, (int)d,
                             (int)loy_day_from_ymd(y, m, d), (int)loy_day_from_ymd_ref(y, m, d));
}

/* Far outside the fast range, including "no date", the reference answers. */
static void far_days_take_the_reference(void **state)
{
    (void)state;
    for (int64_t day = INT32_MIN; day <= INT32_MAX - 1000000; day += 9973) {
        loy_ymd ref = loy_day_to_ymd_ref((loy_day)day), got = loy_day_to_ymd((loy_day)day);
        assert_int_equal(got.y, ref.y);
        assert_int_equal(got.m, ref.m);
        assert_int_equal(got.d, ref.d);
        assert_int_equal(loy_month_of((loy_day)day), loy_month_of_ymd(ref));
    }
    loy_ymd none = loy_day_to_ymd(LOY_DAY_NONE), none_ref = loy_day_to_ymd_ref(LOY_DAY_NONE);
    assert_int_equal(none.y, none_ref.y);
    assert_int_equal(none.m, none_ref.m);
    assert_int_equal(none.d, none_ref.d);
}

static void limits_and_feb29(void **state)
{
    (void)state;
    assert_int_equal(loy_day_max(), loy_day_from_ymd_ref(9999, 12, 31));
    assert_int_equal(loy_day_min(), loy_day_from_ymd_ref(0, 1, 1));
    assert_int_equal(loy_day_from_ymd(1970, 1, 1), 0);
    assert_int_equal(loy_day_from_ymd(1900, 2, 28) + 1, loy_day_from_ymd(1900, 3, 1));
    assert_int_equal(loy_day_from_ymd(2000, 2, 28) + 2, loy_day_from_ymd(2000, 3, 1));
    assert_int_equal(loy_day_from_ymd(2100, 2, 28) + 1, loy_day_from_ymd(2100, 3, 1));
    assert_int_equal(loy_day_from_ymd(2400, 2, 28) + 2, loy_day_from_ymd(2400, 3, 1));
    loy_ymd v = loy_day_to_ymd(loy_day_from_ymd(2024, 2, 29));
    assert_int_equal(v.y, 2024);
    assert_int_equal(v.m, 2);
    assert_int_equal(v.d, 29);
    assert_int_equal(loy_month_of(loy_day_from_ymd(2024, 2, 29)), 2024 * 12 + 1);
    assert_int_equal(loy_month_of(loy_day_from_ymd(0, 1, 1)), 0);
    assert_int_equal(loy_month_of(loy_day_max()), 9999 * 12 + 11);
}

static void month_last_day_every_month(void **state)
{
    (void)state;
    for (loy_month mo = 0; mo <= Y_HI * 12 + 11; mo++) {
        int32_t y = mo / 12, m = mo % 12 + 1;
        loy_day want = loy_day_from_ymd_ref(y, m, loy_days_in_month(y, m));
        if (loy_month_last_day(mo) != want)
            fail_msg("month %d: %d, reference %d", (int)mo, (int)loy_month_last_day(mo), (int)want);
        if (loy_month_first_day(mo) != loy_day_from_ymd_ref(y, m, 1))
            fail_msg("month %d: first day wrong", (int)mo);
    }
}

/* The hand-written digits against printf's, every day and month 0000..9999. */
static void format_every_day_and_month(void **state)
{
    (void)state;
    char got[11], want[48];
    for (loy_day day = loy_day_min(); day <= loy_day_max(); day++) {
        loy_ymd v = loy_day_to_ymd_ref(day);
        snprintf(want, sizeof want, "%04d-%02d-%02d", (int)v.y, (int)v.m, (int)v.d);
        loy_format_date(day, got);
        if (strcmp(got, want) != 0)
            fail_msg("day %d: %s, want %s", (int)day, got, want);
    }
    char mgot[8];
    for (loy_month mo = 0; mo <= 9999 * 12 + 11; mo++) {
        snprintf(want, sizeof want, "%04d-%02d", (int)(mo / 12), (int)(mo % 12 + 1));
        loy_format_month(mo, mgot);
        if (strcmp(mgot, want) != 0)
            fail_msg("month %d: %s, want %s", (int)mo, mgot, want);
    }
    /* Past 9999: printf's rendering, cut to the field. */
    loy_format_date(loy_day_from_ymd(10000, 1, 2), got);
    assert_string_equal(got, "0000-01-02");
    loy_format_month(10000 * 12 + 4, mgot);
    assert_string_equal(mgot, "0000-05");
}

/* Anniversaries from a date at hand against loy_add_months(day, 12 n). */
static void add_years_every_day(void **state)
{
    (void)state;
    const int64_t ns[] = {-3, -1, 0, 1, 2, 5, 400, 8000, 10000};
    const loy_day spans[][2] = {{loy_day_from_ymd(1900, 1, 1), loy_day_from_ymd(2400, 12, 31)},
                                {loy_day_min(), loy_day_from_ymd(10, 12, 31)},
                                {loy_day_from_ymd(9990, 1, 1), loy_day_max()}};
    for (size_t s = 0; s < 3; s++)
        for (loy_day day = spans[s][0]; day <= spans[s][1]; day++)
            for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
                loy_day want = 0, got = 0;
                bool ok = loy_add_months(day, 12 * ns[i], &want);
                assert_int_equal(loy_add_years_ymd(loy_day_to_ymd(day), ns[i], &got), ok);
                if (ok && got != want)
                    fail_msg("day %d + %d years: %d, want %d", (int)day, (int)ns[i], (int)got, (int)want);
            }
}

/* tiers.c skips working out the next anniversary review while the event is
 * less than 365 days after tier_since: that needs every anniversary
 * (12 k months, k >= 1) to be at least 365 days on, Feb 29 included. */
static void anniversaries_are_365_days_on(void **state)
{
    (void)state;
    for (loy_day day = loy_day_min(); day <= loy_day_max(); day++)
        for (int64_t k = 1; k <= 2; k++) {
            loy_day r;
            if (loy_add_months(day, 12 * k, &r) && r < day + 365)
                fail_msg("day %d + %d years is only %d days on", (int)day, (int)k, (int)(r - day));
        }
}

/* ------------------------------------------------------------ parsing */

/* The parsers as they were before digits were read without a loop. */
static bool ref_is_leap(int32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool ref_ymd_valid(int32_t y, int32_t m, int32_t d)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 0 || y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= (m == 2 && ref_is_leap(y) ? 29 : dim[m - 1]);
}

static bool ref_digits(const char *s, size_t n, int32_t *out)
{
    int32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}
static bool ref_parse_date(const char *s, size_t len, loy_day *out)
{
    int32_t y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    if (!ref_digits(s, 4, &y) || !ref_digits(s + 5, 2, &m) || !ref_digits(s + 8, 2, &d))
        return false;
    if (!ref_ymd_valid(y, m, d))
        return false;
    *out = loy_day_from_ymd_ref(y, m, d);
    return true;
}
static bool ref_parse_month(const char *s, size_t len, loy_month *out)
{
    int32_t y, m;
    if (len != 7 || s[4] != '-')
        return false;
    if (!ref_digits(s, 4, &y) || !ref_digits(s + 5, 2, &m) || m < 1 || m > 12)
        return false;
    *out = y * 12 + (m - 1);
    return true;
}
static bool ref_parse_instant(const char *s, size_t len, loy_instant *out)
{
    int32_t hh, mi, ss;
    loy_day date;
    if (len < 20)
        return false;
    if (!ref_parse_date(s, 10, &date))
        return false;
    if ((s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return false;
    if (!ref_digits(s + 11, 2, &hh) || !ref_digits(s + 14, 2, &mi) || !ref_digits(s + 17, 2, &ss))
        return false;
    if (hh > 23 || mi > 59 || ss > 59)
        return false;
    /*
     * The tail after the seconds, read from the right rather than as the
     * library reads it: the zone is the last byte (Z) or the last six
     * (+HH:MM), and what lies between the seconds and the zone is empty or
     * a dot and at least one digit, of which the first six count.
     */
    size_t zone;
    int32_t offset = 0;
    if (s[len - 1] == 'Z' || s[len - 1] == 'z') {
        zone = 1;
    } else {
        int32_t oh, om;
        const char *z = s + len - 6;
        if (len < 25 || (z[0] != '+' && z[0] != '-') || z[3] != ':' || !ref_digits(z + 1, 2, &oh) ||
            !ref_digits(z + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        offset = (z[0] == '-' ? -1 : 1) * (oh * 60 + om);
        zone = 6;
    }
    size_t frac = len - zone - 19;
    int64_t micros = 0;
    if (frac > 0) {
        if (s[19] != '.' || frac < 2)
            return false;
        int64_t place = 100000;
        for (size_t k = 20; k < len - zone; k++) {
            int32_t digit;
            if (!ref_digits(s + k, 1, &digit))
                return false;
            micros += digit * place;
            place /= 10;
        }
    }
    out->date = date;
    out->seconds = hh * 3600 + mi * 60 + ss;
    out->offset_min = offset;
    int64_t local_s = (int64_t)date * 86400 + out->seconds;
    out->utc_us = (local_s - (int64_t)offset * 60) * 1000000 + micros;
    return true;
}
static bool ref_parse_hhmm(const char *s, size_t len, int32_t *minutes)
{
    int32_t h, m;
    if (len != 5 || s[2] != ':' || !ref_digits(s, 2, &h) || !ref_digits(s + 3, 2, &m) || h > 23 || m > 59)
        return false;
    *minutes = h * 60 + m;
    return true;
}

static void is_leap_every_year(void **state)
{
    (void)state;
    for (int64_t y = -200000; y <= 200000; y++)
        assert_int_equal(loy_is_leap((int32_t)y), ref_is_leap((int32_t)y));
    for (int64_t y = INT32_MIN; y <= INT32_MAX; y += 99991)
        assert_int_equal(loy_is_leap((int32_t)y), ref_is_leap((int32_t)y));
    assert_int_equal(loy_is_leap(INT32_MIN), ref_is_leap(INT32_MIN));
    assert_int_equal(loy_is_leap(INT32_MAX), ref_is_leap(INT32_MAX));
}

/* Every field value 00..99 (and 0000..9999 years) and every odd byte in
 * every position: accepted or refused alike, and the same day. */
static void check_date_text(const char *s, size_t len)
{
    loy_day a = 7, b = 7;
    bool ok = loy_parse_date(s, len, &a), want = ref_parse_date(s, len, &b);
    if (ok != want || a != b)
        fail_msg("'%.*s': %d %d, reference %d %d", (int)len, s, ok, (int)a, want, (int)b);
    loy_month ma = 7, mb = 7;
    size_t mlen = len < 7 ? len : 7;
    ok = loy_parse_month(s, mlen, &ma);
    want = ref_parse_month(s, mlen, &mb);
    if (ok != want || ma != mb)
        fail_msg("month '%.*s': %d, reference %d", (int)mlen, s, ok, want);
}

static void parse_date_like_before(void **state)
{
    (void)state;
    char s[16];
    for (int y = 0; y <= 9999; y++)
        for (int m = 0; m <= 13; m++) {
            snprintf(s, sizeof s, "%04d-%02d-%02d", y, m, 1);
            check_date_text(s, 10);
            if (y % 97 == 0 || y == 1900 || y == 2000 || y == 2100 || y == 2400 || y == 9999)
                for (int d = 0; d <= 99; d++) {
                    snprintf(s, sizeof s, "%04d-%02d-%02d", y, m, d);
                    check_date_text(s, 10);
                }
        }
    for (int m = 0; m <= 99; m++) {
        snprintf(s, sizeof s, "2024-%02d-29", m);
        check_date_text(s, 10);
    }
    const char odd[] = {0, ' ', '+', '-', '/', '0' - 1, '9' + 1, ':', 'a', 'T', (char)0x80, (char)0xff};
    const char *bases[] = {"2024-02-29", "1900-02-28", "2026-11-13", "0000-01-01", "9999-12-31"};
    for (size_t b = 0; b < sizeof bases / sizeof *bases; b++)
        for (size_t pos = 0; pos < 10; pos++)
            for (size_t k = 0; k < sizeof odd; k++) {
                memcpy(s, bases[b], 11);
                s[pos] = odd[k];
                check_date_text(s, 10);
            }
    for (size_t len = 0; len <= 12; len++) {
        memcpy(s, "2024-02-2911", 12);
        check_date_text(s, len);
    }
}

static void check_instant_text(const char *s)
{
    size_t len = strlen(s);
    loy_instant a, b;
    memset(&a, 0x5a, sizeof a);
    memset(&b, 0x5a, sizeof b);
    bool ok = loy_parse_instant(s, len, &a), want = ref_parse_instant(s, len, &b);
    if (ok != want || memcmp(&a, &b, sizeof a) != 0)
        fail_msg("'%s': %d, reference %d", s, ok, want);
    int32_t ha = 7, hb = 7;
    size_t hlen = len < 5 ? len : 5;
    ok = loy_parse_hhmm(s + len - hlen, hlen, &ha);
    want = ref_parse_hhmm(s + len - hlen, hlen, &hb);
    if (ok != want || ha != hb)
        fail_msg("hhmm '%s': %d, reference %d", s + len - hlen, ok, want);
}

static void parse_instant_like_before(void **state)
{
    (void)state;
    const char *bases[] = {"2026-11-13T10:00:00+08:00", "2026-11-13t23:59:59.123456789z",
                           "2024-02-29T00:00:00Z", "0000-01-01T00:00:00.5-23:59",
                           "9999-12-31T23:59:59+23:59", "2026-03-01T09:30:15.000001-05:30"};
    /* 0x8a..0xff and 'j' are the bytes the word-wise digit test sees near
     * its carry edge (xor '0' gives 0xba.., 0x5a). */
    const char odd[] = {' ', '+', '-', '.', '/', '0' - 1, '0', '5', '9', '9' + 1, ':', 'T', 't', 'Z',
                        'd', 'j', 0x1d, 0x0a, (char)0x80, (char)0x8a, (char)0xb9, (char)0xff};
    char s[64];
    for (size_t b = 0; b < sizeof bases / sizeof *bases; b++) {
        check_instant_text(bases[b]);
        size_t n = strlen(bases[b]);
        for (size_t pos = 0; pos < n; pos++)
            for (size_t k = 0; k < sizeof odd; k++) {
                memcpy(s, bases[b], n + 1);
                s[pos] = odd[k];
                check_instant_text(s);
            }
        for (size_t cut = 0; cut < n; cut++) {
            memcpy(s, bases[b], cut);
            s[cut] = '\0';
            check_instant_text(s);
        }
    }
    /* Two or three bytes changed at once, anywhere. */
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 200000; round++) {
        const char *base = bases[round % (int)(sizeof bases / sizeof *bases)];
        size_t n = strlen(base);
        memcpy(s, base, n + 1);
        for (int k = 0; k < 2 + round % 2; k++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            size_t pos = (size_t)(seed >> 33) % n;
            s[pos] = (seed >> 16) & 1 ? odd[(seed >> 20) % sizeof odd] : (char)(seed >> 24);
            if (s[pos] == '\0')
                s[pos] = '0';
        }
        check_instant_text(s);
    }
    for (int h = 0; h <= 99; h++)
        for (int mi = 0; mi <= 99; mi += 7) {
            snprintf(s, sizeof s, "2026-01-02T%02d:%02d:%02d+%02d:%02d", h, mi, (h + mi) % 100, mi % 30, h);
            check_instant_text(s);
        }
}

/* s[0..len) copied into a buffer of exactly len bytes, so ASan sees any
 * read past the end; embedded NULs included. */
static void check_instant_bytes(const char *s, size_t len)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    loy_instant a, b;
    memset(&a, 0x5a, sizeof a);
    memset(&b, 0x5a, sizeof b);
    bool ok = loy_parse_instant(copy, len, &a), want = ref_parse_instant(copy, len, &b);
    if (ok != want || memcmp(&a, &b, sizeof a) != 0)
        fail_msg("'%.*s' (%zu bytes): %d, reference %d", (int)len, s, len, ok, want);
    /* the inline copy step 1 uses, and the general path on its own */
    loy_instant c, g;
    memset(&c, 0x5a, sizeof c);
    memset(&g, 0x5a, sizeof g);
    if (loy_parse_instant_inline(copy, len, &c) != want || memcmp(&c, &b, sizeof c) != 0)
        fail_msg("inline '%.*s' (%zu bytes): reference %d", (int)len, s, len, want);
    if (loy_parse_instant_general(copy, len, &g) != want || memcmp(&g, &b, sizeof g) != 0)
        fail_msg("general '%.*s' (%zu bytes): reference %d", (int)len, s, len, want);
    /* the fast path that also hands step 1 the date as y, m, d for the
     * date cache: when it takes the bytes, the same instant and the date
     * the reference conversion gives (when it does not, the general path
     * answers, checked above) */
    if (len == 25) {
        loy_instant f;
        loy_ymd ymd = {-1, -1, -1};
        memset(&f, 0x5a, sizeof f);
        if (loy_instant25_ymd(copy, &f, &ymd)) {
            loy_ymd want_ymd = loy_day_to_ymd_ref(b.date);
            if (!want || memcmp(&f, &b, sizeof f) != 0 || ymd.y != want_ymd.y || ymd.m != want_ymd.m ||
                ymd.d != want_ymd.d)
                fail_msg("instant25_ymd '%.*s': %d-%d-%d, reference %d-%d-%d", (int)len, s, (int)ymd.y,
                         (int)ymd.m, (int)ymd.d, (int)want_ymd.y, (int)want_ymd.m, (int)want_ymd.d);
        }
    }
    free(copy);
}

/* The 25-byte "YYYY-MM-DDTHH:MM:SS±HH:MM" fast path of loy_parse_instant
 * against the loop-based reference: every day of 0000..9999, days 00..99 of
 * every month in leap and common years, every value 00..99 of each time
 * and offset field with both signs, every byte value at every position,
 * and the neighbouring shapes (Z, fractions, trailing bytes, NULs) that
 * must leave the fast path for the general one. */
static void parse_instant_fast_shape(void **state)
{
    (void)state;
    char s[64];
    for (loy_day day = loy_day_min(); day <= loy_day_max(); day++) {
        loy_ymd v = loy_day_to_ymd_ref(day);
        snprintf(s, sizeof s, "%04d-%02d-%02d%c%02d:%02d:%02d%c%02d:%02d", (int)v.y, (int)v.m, (int)v.d,
                 day & 1 ? 'T' : 't', (int)(day % 24), (int)(day % 60), (int)(day / 7 % 60),
                 day & 2 ? '+' : '-', (int)(day / 3 % 24), (int)(day / 5 % 60));
        check_instant_bytes(s, 25);
    }
    const int years[] = {0, 1, 4, 100, 400, 1900, 2000, 2023, 2024, 2100, 2400, 9996, 9999};
    for (size_t k = 0; k < sizeof years / sizeof *years; k++)
        for (int m = 0; m <= 99; m++)
            for (int d = 0; d <= 99; d++) {
                snprintf(s, sizeof s, "%04d-%02d-%02dT00:00:00+00:00", years[k], m, d);
                check_instant_bytes(s, 25);
            }
    for (int a = 0; a <= 99; a++)
        for (int b = 0; b <= 99; b++) {
            snprintf(s, sizeof s, "2026-11-13T%02d:%02d:%02d+08:00", a, b, (a * 7 + b) % 100);
            check_instant_bytes(s, 25);
            snprintf(s, sizeof s, "2026-11-13T12:%02d:%02d-%02d:%02d", b, a, a, b);
            check_instant_bytes(s, 25);
            snprintf(s, sizeof s, "2026-11-13T12:00:00+%02d:%02d", a, b);
            check_instant_bytes(s, 25);
        }
    const char *bases[] = {"2026-11-13T10:00:00+08:00", "2024-02-29t23:59:59-23:59",
                           "0000-01-01T00:00:00-00:00", "9999-12-31T23:59:59+23:59"};
    for (size_t k = 0; k < sizeof bases / sizeof *bases; k++)
        for (size_t pos = 0; pos < 25; pos++)
            for (int byte = 0; byte <= 255; byte++) {
                memcpy(s, bases[k], 26);
                s[pos] = (char)byte;
                check_instant_bytes(s, 25);
            }
    const char *shapes[] = {"2026-11-13T10:00:00Z", "2026-11-13T10:00:00z", "2026-11-13t10:00:00+08:00",
                            "2026-11-13T10:00:00.1+08:00", "2026-11-13T10:00:00.1234Z",
                            "2026-11-13T10:00:00.12345Z", "2026-11-13T10:00:00.123456789012+08:00",
                            "2026-11-13T10:00:00+08:00x", "2026-11-13T10:00:00+08:000",
                            "2026-11-13T10:00:00+0800", "2026-11-13T10:00:00+08:0",
                            "2026-11-13T10:00:00 08:00", "2026-11-13T10:00:60+08:00",
                            "2026-11-13T23:59:60Z", "2023-02-29T10:00:00+08:00", "2024-02-29T10:00:00+08:00",
                            "1900-02-29T10:00:00+08:00", "2000-02-29T10:00:00+08:00",
                            "2026-12-31T23:59:59+23:59", "2026-01-01T00:00:00-23:59",
                            "2026-04-31T10:00:00+08:00", "2026-13-01T10:00:00+08:00",
                            "2026-00-10T10:00:00+08:00", "2026-11-00T10:00:00+08:00",
                            "2026-11-13T24:00:00+08:00", "2026-11-13T10:60:00+08:00",
                            "2026-11-13T10:00:00+24:00", "2026-11-13T10:00:00+08:60",
                            "+2026-11-13T10:00:00+08:00", "2026-11-13T10:00:00+08:00\n"};
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++)
        check_instant_bytes(shapes[k], strlen(shapes[k]));
    /* a NUL anywhere, and bytes past a NUL that would otherwise parse */
    for (size_t pos = 0; pos < 25; pos++) {
        memcpy(s, bases[0], 26);
        s[pos] = '\0';
        check_instant_bytes(s, 25);
    }
    check_instant_bytes("2026-11-13T10:00:00+08:00\0", 26);
    /* What the spec says, independent of the reference. */
    loy_instant at;
    assert_true(loy_parse_instant("2024-02-29T10:00:00+08:00", 25, &at));
    assert_int_equal(at.date, loy_day_from_ymd_ref(2024, 2, 29));
    assert_int_equal(at.seconds, 36000);
    assert_int_equal(at.offset_min, 480);
    assert_true(loy_parse_instant("2026-11-13T10:00:00-05:30", 25, &at));
    assert_int_equal(at.offset_min, -330);
    assert_true(loy_parse_instant("2026-11-13t10:00:00+08:00", 25, &at));
    assert_false(loy_parse_instant("2023-02-29T10:00:00+08:00", 25, &at));
    assert_false(loy_parse_instant("2100-02-29T10:00:00+08:00", 25, &at));
    assert_false(loy_parse_instant("2026-11-13T23:59:60+08:00", 25, &at));
    assert_false(loy_parse_instant("2026-11-13T10:00:00*08:00", 25, &at));
    assert_false(loy_parse_instant("2026-11-13T10:00:00+08:00", 24, &at));
    loy_instant east, west;
    assert_true(loy_parse_instant("2026-11-13T10:00:00+08:00", 25, &east));
    assert_true(loy_parse_instant("2026-11-13T02:00:00Z", 20, &west));
    assert_true(east.utc_us == west.utc_us);
}

/* ------------------------------------------------ per-event date cache */

static const char *cache_yaml(const char *expiry, const char *feb29, const char *window)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             ONE_TIER_POLICY("Dates")
             "  expiry: %s\n"
             "gifts:\n"
             "  birthday:\n"
             "    window: %s\n"
             "    feb29: %s\n"
             "    by_tier:\n"
             "      member: {points: 1}\n",
             expiry, window, feb29);
    return buf;
}

/* Every day of 1900..2400 (and the last years before 9999-12-31, where
 * expiry overflows) through one ctx, its day moving as an event's would
 * not: the cache must follow the day and give what the plain functions do. */
static void check_cache(const char *expiry, const char *feb29, const char *window)
{
    loy_policy *p = load_policy_text(cache_yaml(expiry, feb29, window));
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "1900-01-01"), LOY_OK);
    const loy_day birthdays[] = {loy_day_from_ymd(1984, 2, 29), loy_day_from_ymd(1990, 1, 1),
                                 loy_day_from_ymd(1975, 12, 31), loy_day_from_ymd(2000, 3, 1)};
    loy_ctx c = ctx_on(p, m);
    const loy_day spans[][2] = {{loy_day_from_ymd(1900, 1, 1), loy_day_from_ymd(2400, 12, 31)},
                                {loy_day_from_ymd(9990, 1, 1), loy_day_max()}};
    for (size_t s = 0; s < 2; s++) {
        for (loy_day day = spans[s][0]; day <= spans[s][1]; day++) {
            c.day = day;
            if (day % 3 == 0)
                loy_ctx_dates(&c);
            loy_ymd v = loy_day_to_ymd(day), got = loy_ctx_ymd(&c);
            assert_int_equal(got.y, v.y);
            assert_int_equal(got.m, v.m);
            assert_int_equal(got.d, v.d);
            assert_int_equal(loy_ctx_month(&c), loy_month_of(day));
            for (int twice = 0; twice < 2; twice++) {
                loy_day want = 0, have = 0;
                bool ok = loy_lot_expiry(p, day, &want);
                assert_int_equal(loy_ctx_credit_expiry(&c, &have), ok);
                if (ok)
                    assert_int_equal(have, want);
            }
            const loy_day b = birthdays[(size_t)day % 4];
            loy_day want = loy_birthday_in_year(p, b, v.y);
            /* Month first on some days, the day first on others. */
            if (day % 2 == 0)
                assert_int_equal(loy_ctx_birthday_month(&c, b), loy_month_of(want));
            for (int twice = 0; twice < 2; twice++) {
                assert_int_equal(loy_ctx_birthday_this_year(&c, b), want);
                assert_int_equal(loy_ctx_birthday_month(&c, b), loy_month_of(want));
            }
        }
    }
    loy_member_free(m);
    loy_policy_free(p);
}

static void cache_months_feb28(void **state)
{
    (void)state;
    check_cache("{after_months: 12}", "feb28", "month");
}

static void cache_year_end_mar1(void **state)
{
    (void)state;
    check_cache("{end_of_year_plus: 1}", "mar1", "day");
}

static void cache_no_expiry(void **state)
{
    (void)state;
    check_cache("none", "feb28", "{days_before: 3, days_after: 7}");
}

/* The bucket an order's metrics go to is remembered between calls; buckets
 * made for other months in between move it, and it must still be found. */
static void metric_bucket_hint(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(cache_yaml("none", "feb28", "month"));
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2020-01-01"), LOY_OK);
    loy_ctx c = ctx_on(p, m);
    c.day = loy_day_from_ymd(2026, 6, 15);
    int64_t sum = 0;
    assert_true(loy_metric_add(&c, c.day, LOY_METRIC_SPEND, 5));
    for (int32_t mo = 1; mo <= 5; mo++) {
        /* An earlier month's bucket goes in front of June's. */
        assert_true(loy_metric_add(&c, loy_day_from_ymd(2026, mo, 3), LOY_METRIC_SPEND, 100));
        assert_true(loy_metric_add(&c, c.day, LOY_METRIC_SPEND, 5));
    }
    assert_true(loy_metric_add(&c, loy_day_from_ymd(2026, 9, 3), LOY_METRIC_SPEND, 100));
    assert_true(loy_metric_add(&c, c.day, LOY_METRIC_SPEND, 5));
    loy_month june = loy_month_of(c.day);
    assert_true(loy_metric_sum(m, LOY_METRIC_SPEND, june, june, &sum));
    assert_int_equal(sum, 35);
    assert_true(loy_metric_sum(m, LOY_METRIC_SPEND, june - 5, june + 3, &sum));
    assert_int_equal(sum, 635);
    assert_int_equal(m->month_count, 7);
    loy_member_free(m);
    loy_policy_free(p);
}

/* The month monthly figures are kept back from (loy_ctx_reachable_month)
 * against its definition worked out apart from date.h: the local date of
 * an instant at offset o minutes, time s seconds, less o and less the
 * widest offset 23:59, floored to a day. Every offset from -23:59 to
 * +23:59 in steps that hit both ends, times near both ends of the day,
 * every day of 2027-2029 (Feb 29 and the year ends among them). */
static void reachable_month_by_definition(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(cache_yaml("none", "feb28", "month"));
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2020-01-01"), LOY_OK);
    const int offsets[] = {-1439, -1438, -720, -300, -1, 0, 1, 330, 540, 840, 1438, 1439};
    const int times[] = {0, 59, 1800, 43200, 86340, 86399};
    long checked = 0, earlier_month = 0;
    for (loy_day day = loy_day_from_ymd(2027, 1, 1); day <= loy_day_from_ymd(2029, 12, 31); day++) {
        loy_ymd v = loy_day_to_ymd(day);
        for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++) {
            for (size_t t = 0; t < sizeof times / sizeof times[0]; t++) {
                int off = offsets[o], sec = times[t];
                char at[40];
                snprintf(at, sizeof at, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (int)v.y, (int)v.m,
                         (int)v.d, sec / 3600, sec / 60 % 60, sec % 60, off < 0 ? '-' : '+',
                         abs(off) / 60, abs(off) % 60);
                loy_ctx c = ctx_on(p, m);
                assert_true(loy_parse_instant(at, strlen(at), &c.at));
                c.day = c.at.date;
                int64_t utc_s = (int64_t)day * 86400 + sec - (int64_t)off * 60 - 1439 * 60;
                loy_day want = (loy_day)(utc_s >= 0 ? utc_s / 86400 : -((-utc_s + 86399) / 86400));
                assert_int_equal(loy_earliest_reachable_day(&c.at), want);
                assert_true(want <= day && want >= day - 2);
                assert_int_equal(loy_ctx_reachable_month(&c), loy_month_of(want));
                earlier_month += loy_month_of(want) < loy_month_of(day);
                checked++;
            }
        }
    }
    /* both roads taken: the cached month, and the month before */
    assert_true(earlier_month > 0 && earlier_month < checked);
    loy_member_free(m);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(to_ymd_every_day),
        cmocka_unit_test(month_day_every_day),
        cmocka_unit_test(from_ymd_every_date),
        cmocka_unit_test(far_days_take_the_reference),
        cmocka_unit_test(limits_and_feb29),
        cmocka_unit_test(month_last_day_every_month),
        cmocka_unit_test(format_every_day_and_month),
        cmocka_unit_test(add_years_every_day),
        cmocka_unit_test(anniversaries_are_365_days_on),
        cmocka_unit_test(is_leap_every_year),
        cmocka_unit_test(parse_date_like_before),
        cmocka_unit_test(parse_instant_like_before),
        cmocka_unit_test(parse_instant_fast_shape),
        cmocka_unit_test(cache_months_feb28),
        cmocka_unit_test(cache_year_end_mar1),
        cmocka_unit_test(cache_no_expiry),
        cmocka_unit_test(metric_bucket_hint),
        cmocka_unit_test(reachable_month_by_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
