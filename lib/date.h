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
#define LOY_DAY_MAX_VALID 0       /* see loy_day_max(): computed, not a constant */

/* A month as year*12 + (month-1): "2026-10" is 2026*12 + 9. */
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

/* Parses YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM); T and Z may be lowercase. */
LOY_INTERNAL bool loy_parse_instant(const char *s, size_t len, loy_instant *out);

/* "HH:MM" (two-digit hours 00..23 and minutes 00..59) to minutes since midnight. */
LOY_INTERNAL bool loy_parse_hhmm(const char *s, size_t len, int32_t *minutes);

#endif
