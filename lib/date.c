/* Proleptic Gregorian dates as day numbers; instants of POLICY.md §1. */
#include "date.h"

#include <stdio.h>

/* Divisible by 4 and not by 100, or by 400: that is, by 4, and by 16 when by
 * 25, the same for every int32 with cheaper tests. */
bool loy_is_leap(int32_t y)
{
    return (y & 3) == 0 && (y % 25 != 0 || (y & 15) == 0);
}

int loy_days_in_month(int32_t y, int32_t m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && loy_is_leap(y))
        return 29;
    return dim[m - 1];
}

bool loy_ymd_valid(int32_t y, int32_t m, int32_t d)
{
    return y >= 0 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= loy_days_in_month(y, m);
}

/* Days since 1970-01-01 (H. Hinnant's days_from_civil), valid for years >= 0.
 * The reference the fast conversions below are tested against, and their
 * fallback outside the years they are checked for. */
loy_day loy_day_from_ymd_ref(int32_t y, int32_t m, int32_t d)
{
    y -= m <= 2;
    const int32_t era = (y >= 0 ? y : y - 399) / 400;
    const int32_t yoe = y - era * 400;
    const int32_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

loy_ymd loy_day_to_ymd_ref(loy_day z)
{
    z += 719468;
    const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int32_t doe = z - era * 146097;
    const int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int32_t mp = (5 * doy + 2) / 153;
    loy_ymd r;
    r.d = doy - (153 * mp + 2) / 5 + 1;
    r.m = mp < 10 ? mp + 3 : mp - 9;
    r.y = yoe + era * 400 + (r.m <= 2);
    return r;
}

/*
 * The engine converts the same few dates dozens of times an event, and the
 * signed divisions above cost 45-80 instructions a call. These are
 * C. Neri and L. Schneider's conversions ("Euclidean affine functions and
 * their application to calendar algorithms", 2022): unsigned arithmetic on
 * a calendar shifted NS_S 400-year eras back so every day is positive, with
 * one division by a constant and the rest multiplications and shifts.
 * They are used for years LOY_FAST_Y0..LOY_FAST_Y1, for which
 * tests/test_dates.c checks every day and every (y, m, d) against the
 * reference; anything else takes the reference.
 */
#define NS_S LOY_NS_S
#define NS_K LOY_NS_K
#define NS_L LOY_NS_L
#define LOY_FAST_Y0 (-1000)
#define LOY_FAST_Y1 12000
#define LOY_FAST_D0 (-1084770)    /* loy_day_from_ymd_ref(-1000, 1, 1) */
#define LOY_FAST_D1 3663747       /* loy_day_from_ymd_ref(12000, 12, 31) */

static inline bool fast_day(loy_day day)
{
    return (uint32_t)day - (uint32_t)LOY_FAST_D0 <= (uint32_t)LOY_FAST_D1 - (uint32_t)LOY_FAST_D0;
}

/* The March-based year (shifted by NS_L) and month (3..14) of a day in range,
 * and the day of that year (0 = March 1). */
static inline void ns_year_month(loy_day day, uint32_t *year, uint32_t *month, uint32_t *n3)
{
    const uint32_t n = (uint32_t)day + NS_K;
    const uint32_t n1 = 4 * n + 3;
    const uint32_t cent = n1 / 146097;
    const uint32_t nc = n1 % 146097 / 4;
    const uint32_t n2 = 4 * nc + 3;
    const uint64_t p2 = (uint64_t)2939745 * n2;
    const uint32_t z = (uint32_t)(p2 >> 32);
    const uint32_t ny = (uint32_t)p2 / 2939745 / 4;
    *year = 100 * cent + z;
    *n3 = 2141 * ny + 197913;
    *month = *n3 >> 16;
}

loy_day loy_day_from_ymd(int32_t y, int32_t m, int32_t d)
{
    if ((uint32_t)y - (uint32_t)LOY_FAST_Y0 > (uint32_t)(LOY_FAST_Y1 - LOY_FAST_Y0) ||
        (uint32_t)m - 1 >= 12 || (uint32_t)d - 1 >= 31)
        return loy_day_from_ymd_ref(y, m, d);
    return loy_ns_from_ymd(y, m, d);
}

loy_ymd loy_day_to_ymd(loy_day day)
{
    if (!fast_day(day))
        return loy_day_to_ymd_ref(day);
    uint32_t year, month, n3;
    ns_year_month(day, &year, &month, &n3);
    const uint32_t jan_feb = month > 12;
    loy_ymd r;
    r.y = (int32_t)(year - NS_L + jan_feb);
    r.m = (int32_t)(jan_feb ? month - 12 : month);
    r.d = (int32_t)((n3 & 0xffff) / 2141 + 1);
    return r;
}

/* Constants checked against the conversions in tests/test_dates.c. */
loy_day loy_day_max(void) { return LOY_DAY_LAST; }
loy_day loy_day_min(void) { return LOY_DAY_FIRST; }

int loy_weekday(loy_day day)
{
    /* 1970-01-01 was a Thursday (3 with Monday = 0). */
    int32_t w = (day + 3) % 7;
    if (w < 0)
        w += 7;
    return (int)w;
}

loy_day loy_week_start(loy_day day)
{
    return day - loy_weekday(day);
}

/* loy_day_to_ymd's steps as far as the month: called for most rules of an
 * event. In the March-based year Y, month M (3..14, January and February
 * being 13 and 14 of the year before) is the civil month Y * 12 + M - 1
 * either way. */
loy_month loy_month_of(loy_day day)
{
    if (!fast_day(day))
        return loy_month_of_ymd(loy_day_to_ymd_ref(day));
    uint32_t year, month, n3;
    ns_year_month(day, &year, &month, &n3);
    return ((int32_t)year - (int32_t)NS_L) * 12 + (int32_t)month - 1;
}

/* Expiry and limit periods ask for month ends on every credit: in the
 * fast range the month index goes straight to Neri-Schneider's day count
 * (March-based year: January and February count as months 13 and 14). */
loy_day loy_month_first_day(loy_month month)
{
    if ((uint32_t)month > (uint32_t)(LOY_FAST_Y1 * 12 + 11))
        return loy_day_from_ymd(month / 12, month % 12 + 1, 1);
    const uint32_t mo = (uint32_t)month + 12 * NS_L - 2;   /* March-based: March of year 0 is 0 */
    const uint32_t year = mo / 12;
    const uint32_t month3 = mo % 12 + 3;                     /* 3..14 */
    const uint32_t cent = year / 100;
    const uint32_t y_star = 1461 * year / 4 - cent + cent / 4;
    const uint32_t m_star = (979 * month3 - 2919) / 32;
    return (loy_day)(y_star + m_star - NS_K);
}

/* The day before the next month's first: no month length to look up. */
loy_day loy_month_last_day(loy_month month)
{
    if (month < 0) {
        int32_t y = month / 12, m = month % 12 + 1;
        return loy_day_from_ymd(y, m, loy_days_in_month(y, m));
    }
    return loy_month_first_day(month + 1) - 1;
}

bool loy_add_months(loy_day day, int64_t n, loy_day *out)
{
    loy_ymd v = loy_day_to_ymd(day);
    int64_t mi = (int64_t)v.y * 12 + (v.m - 1) + n;
    if (mi < 0 || mi > LOY_MONTH_LAST)
        return false;
    int32_t y = (int32_t)(mi / 12), m = (int32_t)(mi % 12) + 1;
    int32_t dim = loy_days_in_month(y, m);
    *out = loy_day_from_ymd(y, m, v.d > dim ? dim : v.d);
    return true;
}

bool loy_add_years_ymd(loy_ymd v, int64_t n, loy_day *out)
{
    int64_t mi = (int64_t)v.y * 12 + (v.m - 1) + 12 * n;
    if (mi < 0 || mi > LOY_MONTH_LAST)
        return false;
    /* mi >= 0 with v.m in 1..12: the month stays v.m. */
    int32_t y = (int32_t)(mi / 12);
    int32_t dim = loy_days_in_month(y, v.m);
    *out = loy_day_from_ymd(y, v.m, v.d > dim ? dim : v.d);
    return true;
}

bool loy_add_days(loy_day day, int64_t n, loy_day *out)
{
    int64_t r = (int64_t)day + n;
    if (r < loy_day_min() || r > loy_day_max())
        return false;
    *out = (loy_day)r;
    return true;
}

/* Every event and query parses an instant: two- and four-digit fields are
 * read without a loop (a byte is a digit when byte - '0' is 0..9 unsigned). */
static inline uint32_t digit_value(char ch)
{
    return (uint32_t)(unsigned char)ch - '0';
}

static inline bool digits2(const char *s, int32_t *out)
{
    uint32_t a = digit_value(s[0]), b = digit_value(s[1]);
    if (a > 9 || b > 9)
        return false;
    *out = (int32_t)(a * 10 + b);
    return true;
}

static inline bool digits4(const char *s, int32_t *out)
{
    uint32_t a = digit_value(s[0]), b = digit_value(s[1]), c = digit_value(s[2]), d = digit_value(s[3]);
    if (a > 9 || b > 9 || c > 9 || d > 9)
        return false;
    *out = (int32_t)(a * 1000 + b * 100 + c * 10 + d);
    return true;
}

bool loy_parse_date(const char *s, size_t len, loy_day *out)
{
    int32_t y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    if (!digits4(s, &y) || !digits2(s + 5, &m) || !digits2(s + 8, &d))
        return false;
    /* Four digits: y is 0..9999 already. */
    if (m < 1 || m > 12 || d < 1 || d > loy_days_in_month(y, m))
        return false;
    *out = loy_ns_from_ymd(y, m, d);
    return true;
}

bool loy_parse_month(const char *s, size_t len, loy_month *out)
{
    int32_t y, m;
    if (len != 7 || s[4] != '-')
        return false;
    if (!digits4(s, &y) || !digits2(s + 5, &m) || m < 1 || m > 12)
        return false;
    *out = y * 12 + (m - 1);
    return true;
}

/* Every result carries dates, so they are written by hand: snprintf cost
 * about 1,900 instructions a date, a third of a whole checkout decision
 * (bench/FINDINGS.md). Years 0..9999 only; anything else keeps printf's
 * rendering. */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* v in 0..99 */
static inline void put2(char *out, uint32_t v)
{
    memcpy(out, digit_pairs + 2 * v, 2);
}

/* v in 0..9999 */
static inline void put4(char *out, uint32_t v)
{
    put2(out, v / 100);
    put2(out + 2, v % 100);
}

void loy_format_date(loy_day day, char out[11])
{
    loy_ymd v = loy_day_to_ymd(day);
    if (v.y < 0 || v.y > 9999) {
        /* snprintf(out, 11, ...) as before, truncation included. */
        char wide[48];
        snprintf(wide, sizeof wide, "%04d-%02d-%02d", (int)v.y % 10000, (int)v.m % 100, (int)v.d % 100);
        memcpy(out, wide, 10);
        out[10] = '\0';
        return;
    }
    put4(out, (uint32_t)v.y);
    out[4] = '-';
    put2(out + 5, (uint32_t)v.m);
    out[7] = '-';
    put2(out + 8, (uint32_t)v.d);
    out[10] = '\0';
}

void loy_format_month(loy_month month, char out[8])
{
    if (month < 0 || month / 12 > 9999) {
        char wide[32];
        snprintf(wide, sizeof wide, "%04d-%02d", (int)(month / 12) % 10000, (int)(month % 12 + 1) % 100);
        memcpy(out, wide, 7);
        out[7] = '\0';
        return;
    }
    uint32_t mo = (uint32_t)month;
    put4(out, mo / 12);
    out[4] = '-';
    put2(out + 5, mo % 12 + 1);
    out[7] = '\0';
}

/*
 * Every event parses its instant, so the fixed part "YYYY-MM-DDTHH:MM:SS" is
 * read as words: a byte xor '0' is 0..9 exactly when it was a digit, and
 * v | (v + 0x76) has its high bit clear exactly when v <= 9 (a carry out of
 * a byte needs v >= 0x8a, whose own high bit already refuses). Pairs of
 * digits combine in place: 10 x byte i + byte i+1 fits the byte.
 */
static inline bool digits_ok(uint64_t x, uint64_t digit_bytes)
{
    uint64_t d = x & digit_bytes;
    return ((d | (d + (LOY_W8(0x76) & digit_bytes))) & LOY_W8(0x80) & digit_bytes) == 0;
}

/* What follows the seconds, from s[19]: [.fraction](Z|±HH:MM), in general. */
static __attribute__((noinline)) bool instant_tail(const char *s, size_t len, int32_t *offset_out,
                                                   int64_t *micros_out)
{
    size_t i = 19;
    int64_t micros = 0;
    if (s[i] == '.') {
        i++;
        size_t start = i, nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nd < 6)
                micros = micros * 10 + (s[i] - '0');
            nd++;
            i++;
        }
        if (i == start)
            return false;
        for (; nd < 6; nd++)
            micros *= 10;
    }
    if (i >= len)
        return false;
    int32_t offset = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        int32_t oh, om;
        if (len - i != 6 || s[i + 3] != ':')
            return false;
        if (!digits2(s + i + 1, &oh) || !digits2(s + i + 4, &om) || oh > 23 || om > 59)
            return false;
        offset = oh * 60 + om;
        if (s[i] == '-')
            offset = -offset;
        i += 6;
    } else {
        return false;
    }
    if (i != len)
        return false;
    *offset_out = offset;
    *micros_out = micros;
    return true;
}

bool loy_parse_instant(const char *s, size_t len, loy_instant *out)
{
    return loy_parse_instant_inline(s, len, out);
}

/* Any instant of POLICY.md §1: the reference for loy_instant25. */
bool loy_parse_instant_general(const char *s, size_t len, loy_instant *out)
{
    if (len < 20)
        return false;
    /* bytes 0..7 "YYYY-MM-", 8..15 "DDTHH:MM" (DD and T used), 11..18 "HH:MM:SS" */
    const uint64_t xa = loy_load8(s) ^ LOY_W8('0');
    const uint64_t xb = loy_load8(s + 8) ^ LOY_W8('0');
    const uint64_t xc = loy_load8(s + 11) ^ LOY_W8('0');
    const uint64_t a_digits = UINT64_C(0x00ffff00ffffffff), b_digits = UINT64_C(0xffff);
    const uint64_t c_digits = UINT64_C(0xffff00ffff00ffff);
    const uint64_t dash = '-' ^ '0', colon = ':' ^ '0';
    if ((xa & ~a_digits) != (dash << 56 | dash << 32) || (xc & ~c_digits) != (colon << 40 | colon << 16))
        return false;
    /* 'T' or 't': xor '0' gives 0x64 or 0x44, both 0x64 with bit 5 set */
    if ((((xb >> 16) & 0xff) | 0x20) != ('T' ^ '0'))
        return false;
    if (!digits_ok(xa, a_digits) || !digits_ok(xb, b_digits) || !digits_ok(xc, c_digits))
        return false;
    const uint64_t pa = (xa & a_digits) * 10 + ((xa & a_digits) >> 8);
    const uint64_t pc = (xc & c_digits) * 10 + ((xc & c_digits) >> 8);
    const int32_t y = (int32_t)(pa & 0xff) * 100 + (int32_t)((pa >> 16) & 0xff);
    const int32_t m = (int32_t)((pa >> 40) & 0xff);
    const int32_t d = (int32_t)(xb & 0xff) * 10 + (int32_t)((xb >> 8) & 0xff);
    const int32_t hh = (int32_t)(pc & 0xff), mi = (int32_t)((pc >> 24) & 0xff), ss = (int32_t)((pc >> 48) & 0xff);
    /* Four digits: y is 0..9999 already. */
    if (m < 1 || m > 12 || d < 1 || d > loy_days_in_month(y, m))
        return false;
    if (hh > 23 || mi > 59 || ss > 59)
        return false;
    /* The two common endings, "Z" and "±HH:MM", read here; a fraction, or
     * anything else, in instant_tail. */
    int32_t offset = 0;
    int64_t micros = 0;
    if (len == 20 && (s[19] | 0x20) == 'z') {
        offset = 0;
    } else if (len == 25 && (s[19] == '+' || s[19] == '-')) {
        /* "±HH:MM" as bytes 2..7 of the word ending the string */
        const uint64_t xo = loy_load8(s + 17) ^ LOY_W8('0');
        const uint64_t o_digits = UINT64_C(0xffff00ffff000000);
        if ((xo & UINT64_C(0x0000ff0000000000)) != colon << 40 || !digits_ok(xo, o_digits))
            return false;
        const uint64_t po = (xo & o_digits) * 10 + ((xo & o_digits) >> 8);
        const int32_t oh = (int32_t)((po >> 24) & 0xff), om = (int32_t)((po >> 48) & 0xff);
        if (oh > 23 || om > 59)
            return false;
        offset = s[19] == '-' ? -(oh * 60 + om) : oh * 60 + om;
    } else if (!instant_tail(s, len, &offset, &micros)) {
        return false;
    }
    const loy_day date = loy_ns_from_ymd(y, m, d);
    out->date = date;
    out->seconds = hh * 3600 + mi * 60 + ss;
    out->offset_min = offset;
    int64_t local_s = (int64_t)date * 86400 + out->seconds;
    out->utc_us = (local_s - (int64_t)offset * 60) * 1000000 + micros;
    return true;
}

bool loy_parse_hhmm(const char *s, size_t len, int32_t *minutes)
{
    int32_t h, m;
    if (len != 5 || s[2] != ':' || !digits2(s, &h) || !digits2(s + 3, &m) || h > 23 || m > 59)
        return false;
    *minutes = h * 60 + m;
    return true;
}
