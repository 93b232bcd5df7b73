/*
 * Civil dates and instants, exact and proleptic Gregorian.
 *
 * A date is a day number (loy_day): days since 0000-03-01 is an internal
 * detail; only compare, subtract and convert with these functions. Years
 * run 0000..9999; anything past 9999-12-31 is an overflow (POLICY.md §1).
 */
#ifndef LOY_DATE_H
#define LOY_DATE_H

#include "core.h"

typedef int32_t loy_day;          /* a civil date as a day number */
#define LOY_DAY_NONE INT32_MIN    /* "no date" (never expires, no birthday...) */
/* 0000-01-01 and 9999-12-31, the ends of the range (loy_day_min() and
 * loy_day_max()): constants for the hot paths that test a day against them. */
#define LOY_DAY_FIRST (-719528)
#define LOY_DAY_LAST 2932896

/* A month as year*12 + (month-1): "2026-10" is 2026*12 + 9. */
#define LOY_MONTH_LAST (9999 * 12 + 11)   /* 9999-12, the last month of the range */
typedef int32_t loy_month;

typedef struct loy_ymd { int32_t y; int32_t m; int32_t d; } loy_ymd;

LOY_INTERNAL bool loy_ymd_valid(int32_t y, int32_t m, int32_t d);
LOY_INTERNAL loy_day loy_day_from_ymd(int32_t y, int32_t m, int32_t d);   /* inputs valid */
LOY_INTERNAL loy_ymd loy_day_to_ymd(loy_day day);
/* The plain conversions the fast ones above are checked against. */
LOY_INTERNAL loy_day loy_day_from_ymd_ref(int32_t y, int32_t m, int32_t d);
LOY_INTERNAL loy_ymd loy_day_to_ymd_ref(loy_day day);
LOY_INTERNAL loy_day loy_day_max(void);            /* 9999-12-31 */
LOY_INTERNAL loy_day loy_day_min(void);            /* 0000-01-01 */
LOY_INTERNAL int loy_days_in_month(int32_t y, int32_t m);
LOY_INTERNAL bool loy_is_leap(int32_t y);
/* 0 = Monday ... 6 = Sunday */
LOY_INTERNAL int loy_weekday(loy_day day);
/* The Monday on or before day. */
LOY_INTERNAL loy_day loy_week_start(loy_day day);

static inline loy_month loy_month_of_ymd(loy_ymd v) { return v.y * 12 + (v.m - 1); }
LOY_INTERNAL loy_month loy_month_of(loy_day day);
LOY_INTERNAL loy_day loy_month_first_day(loy_month month);
LOY_INTERNAL loy_day loy_month_last_day(loy_month month);

/*
 * day + n months keeping the day of month, clamped to the target month's
 * last day (POLICY.md §1). n may be negative. Returns false when the
 * result is past 9999-12-31 or before 0000-01-01.
 */
LOY_INTERNAL bool loy_add_months(loy_day day, int64_t n, loy_day *out);
/* loy_add_months(day, 12 * n, out) for the day whose date is v: the
 * conversion back from the day number is saved when the date is at hand. */
LOY_INTERNAL bool loy_add_years_ymd(loy_ymd v, int64_t n, loy_day *out);
/* day + n days, false when out of 0000-01-01..9999-12-31. */
LOY_INTERNAL bool loy_add_days(loy_day day, int64_t n, loy_day *out);

/* "YYYY-MM-DD" exactly (10 chars). */
LOY_INTERNAL bool loy_parse_date(const char *s, size_t len, loy_day *out);
/* "YYYY-MM" exactly (7 chars). */
LOY_INTERNAL bool loy_parse_month(const char *s, size_t len, loy_month *out);
/* Writes "YYYY-MM-DD" + NUL into out (11 bytes). */
LOY_INTERNAL void loy_format_date(loy_day day, char out[11]);
/* Writes "YYYY-MM" + NUL into out (8 bytes). */
LOY_INTERNAL void loy_format_month(loy_month month, char out[8]);

/*
 * An instant of POLICY.md §1: the local date and time as written, and the
 * UTC microsecond used only to order events.
 */
typedef struct loy_instant {
    loy_day date;          /* local date as written */
    int32_t seconds;       /* local time of day, 0..86399 */
    int32_t offset_min;    /* offset from UTC, minutes */
    int64_t utc_us;        /* microseconds since an internal epoch, for ordering */
} loy_instant;

/* The earliest local date an event accepted after `at` can carry. With
 * mixed offsets a later event may have an earlier local date (POLICY.md
 * §1); it has a UTC instant at or after this one's and an offset of at
 * least -23:59, so its local date is at least the UTC date of (this
 * instant - 23:59). It is never after at's own local date, and at most two
 * days before it. What a member keeps for later events (per-day cap
 * counts, limit counters, monthly figures) reaches back to this date. */
static inline loy_day loy_earliest_reachable_day(const loy_instant *at)
{
    const int64_t day_us = INT64_C(86400) * 1000000;
    const int64_t widest_offset_us = INT64_C(1439) * 60 * 1000000;   /* 23:59 */
    int64_t t = at->utc_us - widest_offset_us;
    int64_t day = t / day_us - (t % day_us < 0);
    return (loy_day)day;
}

/* Parses YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM); T and Z may be lowercase. */
LOY_INTERNAL bool loy_parse_instant(const char *s, size_t len, loy_instant *out);
/* The same parser without the fast path: any shape of loy_parse_instant. */
LOY_INTERNAL bool loy_parse_instant_general(const char *s, size_t len, loy_instant *out);

/*
 * Every event parses its instant in step 1, so the common shape is parsed
 * inline there (loy_parse_instant_inline, lib/engine/validate.c): a call
 * cost about a tenth of the parse. What that needs follows.
 */

/* Neri-Schneider's calendar (lib/date.c): LOY_NS_S 400-year eras back. */
#define LOY_NS_S 82u
#define LOY_NS_K (719468u + 146097u * LOY_NS_S)
#define LOY_NS_L (400u * LOY_NS_S)

/* Its day number of y-m-d for years -1000..12000 (LOY_FAST_Y0..LOY_FAST_Y1,
 * lib/date.c), m 1..12, d 1..31. */
static inline loy_day loy_ns_from_ymd(int32_t y, int32_t m, int32_t d)
{
    const uint32_t jan_feb = m <= 2;
    const uint32_t year = (uint32_t)y + LOY_NS_L - jan_feb;
    const uint32_t month = jan_feb ? (uint32_t)m + 12 : (uint32_t)m;
    const uint32_t cent = year / 100;
    const uint32_t y_star = 1461 * year / 4 - cent + cent / 4;
    const uint32_t m_star = (979 * month - 2919) / 32;
    return (loy_day)(y_star + m_star + (uint32_t)d - 1 - LOY_NS_K);
}

/* The month and day of `day` without its year, for days the fast
 * conversion covers (lib/date.c's LOY_FAST_D0..LOY_FAST_D1); false
 * otherwise, and the caller takes loy_day_to_ymd. Inline: a birthday's
 * month is wanted once an event, and a call with the year worked out and
 * packed costs about twice the arithmetic (tests/test_dates.c checks it). */
static inline bool loy_ns_month_day(loy_day day, int32_t *m, int32_t *d)
{
    if ((uint32_t)day - (uint32_t)-1084770 > (uint32_t)3663747 - (uint32_t)-1084770)
        return false;
    const uint32_t n1 = 4 * ((uint32_t)day + LOY_NS_K) + 3;
    const uint32_t n2 = 4 * (n1 % 146097 / 4) + 3;
    const uint32_t ny = (uint32_t)((uint64_t)2939745 * n2) / 2939745 / 4;
    const uint32_t n3 = 2141 * ny + 197913;
    const uint32_t month = n3 >> 16;
    *m = (int32_t)(month > 12 ? month - 12 : month);
    *d = (int32_t)((n3 & 0xffff) / 2141 + 1);
    return true;
}

/* Fields are read as words (lib/date.c says how); LOY_W8 is b in every byte. */
#define LOY_W8(b) (UINT64_C(0x0101010101010101) * (uint8_t)(b))

static inline uint64_t loy_load8(const char *s)
{
    uint64_t w;
    memcpy(&w, s, sizeof w);
    return w;
}

/*
 * The shape events nearly always carry, "YYYY-MM-DDTHH:MM:SS±HH:MM" (25
 * bytes), in three words: s[0..8) "YYYY-MM-", s[8..16) "DDTHH:MM" and
 * s[17..25) "SS±HH:MM". Each word is xored with its template, which turns
 * a digit into 0..9 and a right separator into 0; then one add per word
 * bounds every byte at once, 9 for a digit and 0 for a separator: byte v
 * plus 0x80 - (bound + 1) has its high bit set exactly when v > bound (a
 * byte that carries out is >= 0x8a and fails by its own high bit). Digits
 * then pair in place (10 x byte i + byte i+1, at most 99, so no byte
 * carries), and the same trick bounds month, day, hours, minutes and
 * seconds from above in one more add per word. false means "not this
 * shape, or not valid": loy_parse_instant_general then answers, so this path
 * only has to accept exactly what that one accepts, with the same fields.
 */
#define LOY_STR8(a, b, c, d, e, f, g, h)                                                          \
    ((uint64_t)(uint8_t)(a) | (uint64_t)(uint8_t)(b) << 8 | (uint64_t)(uint8_t)(c) << 16 |        \
     (uint64_t)(uint8_t)(d) << 24 | (uint64_t)(uint8_t)(e) << 32 | (uint64_t)(uint8_t)(f) << 40 | \
     (uint64_t)(uint8_t)(g) << 48 | (uint64_t)(uint8_t)(h) << 56)

/* ymd, when not NULL, gets the local date as written: step 1 hands it to
 * the event's date cache, which would otherwise work it out of the day
 * again (lib/engine/engine.h, loy_ctx_dates_set). */
static inline __attribute__((always_inline)) bool loy_instant25_ymd(const char *s, loy_instant *out,
                                                                    loy_ymd *ymd)
{
    const char sign = s[19];
    if ((sign != '+' && sign != '-') || s[16] != ':')
        return false;
    /* 'T' | 0x20 is 't', and no other byte ors to it; the sign byte xors
     * to 0 or 6, allowed up to 6 (it was checked above) */
    const uint64_t x0 = loy_load8(s) ^ LOY_STR8('0', '0', '0', '0', '-', '0', '0', '-');
    const uint64_t x1 =
        (loy_load8(s + 8) | UINT64_C(0x20) << 16) ^ LOY_STR8('0', '0', 't', '0', '0', ':', '0', '0');
    const uint64_t x3 = loy_load8(s + 17) ^ LOY_STR8('0', '0', '+', '0', '0', ':', '0', '0');
    const uint64_t lim0 = LOY_STR8(0x76, 0x76, 0x76, 0x76, 0x7f, 0x76, 0x76, 0x7f);
    const uint64_t lim1 = LOY_STR8(0x76, 0x76, 0x7f, 0x76, 0x76, 0x7f, 0x76, 0x76);
    const uint64_t lim3 = LOY_STR8(0x76, 0x76, 0x79, 0x76, 0x76, 0x7f, 0x76, 0x76);
    if (((x0 | (x0 + lim0)) | (x1 | (x1 + lim1)) | (x3 | (x3 + lim3))) & LOY_W8(0x80))
        return false;
    /* month at byte 5 of p0; day, hour, minute at bytes 0, 3, 6 of p1;
     * second, offset hour, offset minute at bytes 0, 3, 6 of p3. The
     * month and day are bounded below, on their own: they are read out
     * anyway, and a month in 1..12 bounds the day by its length. */
    const uint64_t p0 = x0 * 10 + (x0 >> 8), p1 = x1 * 10 + (x1 >> 8), p3 = x3 * 10 + (x3 >> 8);
    const uint64_t max1 = LOY_STR8(0, 0, 0, 0x80 - 24, 0, 0, 0x80 - 60, 0);
    const uint64_t max3 = LOY_STR8(0x80 - 60, 0, 0, 0x80 - 24, 0, 0, 0x80 - 60, 0);
    if (((p1 + max1) | (p3 + max3)) & LOY_W8(0x80))
        return false;
    const int32_t y = (int32_t)(p0 & 0xff) * 100 + (int32_t)((p0 >> 16) & 0xff);
    const int32_t m = (int32_t)((p0 >> 40) & 0xff);
    const int32_t d = (int32_t)(p1 & 0xff);
    /* Four digits: y is 0..9999 already; every month has 28 days. */
    if ((uint32_t)m - 1 > 11 || d == 0 || (d > 28 && d > loy_days_in_month(y, m)))
        return false;
    const int32_t seconds = (int32_t)((p1 >> 24) & 0xff) * 3600 + (int32_t)((p1 >> 48) & 0xff) * 60 +
                            (int32_t)(p3 & 0xff);
    const int32_t oabs = (int32_t)((p3 >> 24) & 0xff) * 60 + (int32_t)((p3 >> 48) & 0xff);
    const int32_t offset = sign == '-' ? -oabs : oabs;
    /* loy_ns_from_ymd with the month's first day, counted from March 1,
     * read from a table: (979 * month - 2919) / 32 for March..February */
    static const uint16_t mar_start[13] = {0, 306, 337, 0, 31, 61, 92, 122, 153, 184, 214, 245, 275};
    const uint32_t year = (uint32_t)y + LOY_NS_L - (uint32_t)(m <= 2), cent = year / 100;
    const loy_day date =
        (loy_day)(1461 * year / 4 - cent + cent / 4 + mar_start[m] + (uint32_t)d - 1 - LOY_NS_K);
    out->date = date;
    out->seconds = seconds;
    out->offset_min = offset;
    out->utc_us = ((int64_t)date * 86400 + seconds - (int64_t)offset * 60) * 1000000;
    if (ymd) {
        ymd->y = y;
        ymd->m = m;
        ymd->d = d;
    }
    return true;
}

static inline bool loy_instant25(const char *s, loy_instant *out)
{
    return loy_instant25_ymd(s, out, NULL);
}

static inline bool loy_parse_instant_inline(const char *s, size_t len, loy_instant *out)
{
    if (len == 25 && loy_instant25(s, out))
        return true;
    return loy_parse_instant_general(s, len, out);
}

/* "HH:MM" (two-digit hours 00..23 and minutes 00..59) to minutes since midnight. */
LOY_INTERNAL bool loy_parse_hhmm(const char *s, size_t len, int32_t *minutes);

#endif
