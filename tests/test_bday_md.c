/*
 * The member keeps its birthday's month and day beside the day number
 * (lib/member.h, loy_member_put_birthday), and the per-event birthday
 * cache reads them instead of converting the day (lib/engine/gifts.c,
 * loy_ctx_birthday_fill). Here the kept month and day are compared with
 * loy_day_to_ymd after every way the birthday changes: the setter, a
 * state load, a JSON import, a profile event, and a journal's rollback;
 * and the cache filled from them is compared with the one filled the
 * general way (the key cleared, so the day is converted) and with
 * loy_birthday_in_year, for generated birthdays of 0000..9999 (every
 * Feb 29 among them) and event days, under feb28 and mar1 policies.
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
#include "rules_support.h"
#include "support/test_rng.h"
#include "support/one_tier.h"

#define POLICY(feb29)                                  \
    ONE_TIER_POLICY("Bday")                            \
    "gifts:\n"                                         \
    "  birthday:\n"                                    \
    "    window: month\n"                              \
    "    feb29: " feb29 "\n"                           \
    "    by_tier:\n"                                   \
    "      member: {points: 10}\n"

static const loy_day DAY_MIN = -719528;     /* 0000-01-01 */
static const loy_day DAY_MAX = 2932896;     /* 9999-12-31 */

/* The kept month and day say what loy_day_to_ymd says of the birthday. */
static void expect_md(const loy_member *m)
{
    if (m->birthday == LOY_DAY_NONE) {
        assert_int_equal(m->birthday_md_key, 0);
        return;
    }
    loy_ymd b = loy_day_to_ymd(m->birthday);
    if (m->birthday_md_key != ((uint32_t)m->birthday ^ 0x80000000u) || m->birthday_m != b.m ||
        m->birthday_d != b.d)
        fail_msg("birthday %d: kept key %08x month %d day %d, want %04d-%02d-%02d", (int)m->birthday,
                 (unsigned)m->birthday_md_key, (int)m->birthday_m, (int)m->birthday_d, (int)b.y, (int)b.m,
                 (int)b.d);
}

/* Birthdays: every Feb 29 of 0000..9999, the ends of the range, and
 * random days. */
static size_t gen_days(loy_day *out, size_t cap, uint64_t seed)
{
    size_t n = 0;
    for (int32_t y = 0; y <= 9999; y++)
        if (loy_is_leap(y) && n < cap)
            out[n++] = loy_day_from_ymd(y, 2, 29);
    loy_day edges[] = {DAY_MIN, DAY_MIN + 1, DAY_MAX - 1, DAY_MAX, 0, -1, loy_day_from_ymd(2000, 3, 1),
                       loy_day_from_ymd(1900, 2, 28), loy_day_from_ymd(1900, 3, 1),
                       loy_day_from_ymd(2100, 2, 28), loy_day_from_ymd(2024, 12, 31)};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0] && n < cap; i++)
        out[n++] = edges[i];
    rng r = {seed};
    while (n < cap)
        out[n++] = DAY_MIN + (loy_day)(next(&r) % (uint64_t)(DAY_MAX - DAY_MIN + 1));
    return n;
}

#define NDAYS 6000

static void md_after_every_writer(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_text(POLICY("mar1"));
    static loy_day days[NDAYS];
    size_t n = gen_days(days, NDAYS, 7);
    loy_member *m = NULL, *loaded = NULL, *store = NULL, *imported = NULL;
    assert_int_equal(loy_member_new(&loaded, p, "L", "2020-01-01"), LOY_OK);
    assert_int_equal(loy_member_create(&store, p), LOY_OK);
    assert_int_equal(loy_member_create(&imported, p), LOY_OK);
    loy_event *e = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_event_new(&e, p), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    rng g = {11};
    for (size_t i = 0; i < n; i++) {
        char date[11], prev[11];
        loy_format_date(days[i], date);
        loy_format_date(days[(i + 1) % n], prev);

        /* the setter, the birthday removed and set again */
        assert_int_equal(loy_member_new(&m, p, "M", "2020-01-01"), LOY_OK);
        expect_md(m);
        assert_int_equal(loy_member_set_birthday(m, prev), LOY_OK);
        expect_md(m);
        assert_int_equal(loy_member_set_birthday(m, NULL), LOY_OK);
        expect_md(m);
        assert_int_equal(loy_member_set_birthday(m, date), LOY_OK);
        expect_md(m);

        /* a state load, into a handle that last held another birthday */
        const void *bytes = NULL;
        size_t len = 0;
        assert_int_equal(loy_member_to_bytes(m, &bytes, &len), LOY_OK);
        assert_int_equal(loy_member_load(loaded, bytes, len), LOY_OK);
        assert_int_equal(loaded->birthday, days[i]);
        expect_md(loaded);

        /* a JSON import */
        char json[160];
        snprintf(json, sizeof json, "{\"member\": {\"id\": \"J\", \"joined\": \"2020-01-01\", \"birthday\": \"%s\"}}",
                 date);
        int rc = loy_member_init_json(imported, json, strlen(json), r);
        if (rc != LOY_OK)
            fail_msg("%s: %s", json, loy_result_message(r));
        assert_int_equal(imported->birthday, days[i]);
        expect_md(imported);

        /* a profile event, then the journal's rollback of a change */
        char id[32];
        snprintf(id, sizeof id, "p%zu", i);
        assert_int_equal(loy_event_reset(e, LOY_EVENT_PROFILE, id, "2026-11-11T20:15:00+08:00"), LOY_OK);
        assert_int_equal(loy_event_set_birthday(e, pick(&g, 8) ? prev : NULL), LOY_OK);
        rc = loy_apply(p, m, e, r);
        if (rc != LOY_OK)
            fail_msg("profile: %s", loy_result_message(r));
        expect_md(m);
        loy_day before_day = m->birthday;
        unsigned char before[JOURNAL_LEN];
        memcpy(before, (const char *)m + JOURNAL_FROM, JOURNAL_LEN);
        assert_true(loy_member_undo_begin(m, store));
        loy_member_put_birthday(m, days[i]);
        expect_md(m);
        loy_member_undo_rollback(m);
        assert_int_equal(m->birthday, before_day);
        assert_memory_equal(before, (const char *)m + JOURNAL_FROM, JOURNAL_LEN);
        expect_md(m);
        loy_member_free(m);
        m = NULL;
    }
    /* days past the fast conversion's range take loy_day_to_ymd */
    rng w = {3};
    for (int i = 0; i < 20000; i++) {
        /* within what loy_day_to_ymd takes */
        loy_day d = (loy_day)(next(&w) % 200000001u) - 100000000;
        loy_member_put_birthday(loaded, d);
        expect_md(loaded);
    }
    loy_member_put_birthday(loaded, LOY_DAY_NONE);
    expect_md(loaded);
    loy_result_free(r);
    loy_event_free(e);
    loy_member_free(imported);
    loy_member_free(store);
    loy_member_free(loaded);
    loy_policy_free(p);
}

/* The cache of an event on `day` for m's birthday, filled as the steps
 * fill it: the month first (the order step), then this year's birthday. */
static void fill(loy_ctx *c, const loy_policy *p, loy_member *m, loy_day day, bool dates_first, loy_month *month,
                 loy_day *this_year)
{
    memset(c, 0, sizeof *c);
    c->p = p;
    c->m = m;
    c->day = day;
    /* in an event, step 1 has the dates cached first: the fill's usual path */
    if (dates_first)
        loy_ctx_dates(c);
    *month = loy_ctx_birthday_month(c, m->birthday);
    *this_year = loy_ctx_birthday_this_year(c, m->birthday);
}

static void fill_kept_against_general(const char *feb29)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "%s", feb29[0] == 'm' ? POLICY("mar1") : POLICY("feb28"));
    loy_policy *p = load_policy_text(yaml);
    static loy_day days[NDAYS];
    size_t n = gen_days(days, NDAYS, 19);
    loy_member *kept = NULL, *general = NULL;
    assert_int_equal(loy_member_new(&kept, p, "K", "2020-01-01"), LOY_OK);
    assert_int_equal(loy_member_new(&general, p, "G", "2020-01-01"), LOY_OK);
    rng g = {23};
    for (size_t i = 0; i < n; i++) {
        loy_member_put_birthday(kept, days[i]);
        general->birthday = days[i];
        general->birthday_md_key = 0;   /* kept for no day: the general path */
        for (int k = 0; k < 4; k++) {
            /* event days: the birthday's own year and others, leap or not */
            loy_day day;
            switch (k) {
            case 0: day = days[i]; break;
            case 1: day = loy_day_from_ymd(2023, 2, 28) + pick(&g, 3); break;
            case 2: day = loy_day_from_ymd(2024, 2, 27) + pick(&g, 4); break;
            default: day = DAY_MIN + (loy_day)(next(&g) % (uint64_t)(DAY_MAX - DAY_MIN + 1)); break;
            }
            loy_ctx a, b;
            loy_month ma, mb;
            loy_day ya, yb;
            fill(&a, p, kept, day, k != 3, &ma, &ya);
            fill(&b, p, general, day, k != 3, &mb, &yb);
            loy_day want = loy_birthday_in_year(p, days[i], loy_day_to_ymd(day).y);
            if (ma != mb || ya != yb || ya != want || ma != loy_month_of(want) ||
                a.dc_bday_ymd.m != b.dc_bday_ymd.m || a.dc_bday_ymd.d != b.dc_bday_ymd.d)
                fail_msg("%s: birthday %d on day %d: kept month %d day %d, general month %d day %d, want %d",
                         feb29, (int)days[i], (int)day, (int)ma, (int)ya, (int)mb, (int)yb, (int)want);
            /* the general path leaves the member as it found it */
            assert_int_equal(general->birthday_md_key, 0);
        }
    }
    loy_member_free(kept);
    loy_member_free(general);
    loy_policy_free(p);
}

static void fill_feb28(void **state)
{
    LOY_UNUSED(state);
    fill_kept_against_general("feb28");
}

static void fill_mar1(void **state)
{
    LOY_UNUSED(state);
    fill_kept_against_general("mar1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(md_after_every_writer),
        cmocka_unit_test(fill_feb28),
        cmocka_unit_test(fill_mar1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
