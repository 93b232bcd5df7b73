/*
 * The order's points have two paths (lib/engine/earn.c): the one compiled
 * at load (lib/policy/order.c: masks per tier, date, birthday and line id,
 * a table of line factors, 128-bit arithmetic), and the general one, which
 * a traced result always takes, and an untraced one when the policy has no
 * plan (it then settles line-free conditions once per order). Random
 * policies and orders are applied to copies of a member: one traced (the
 * general path as it reports), one untraced (the plan), one untraced with
 * the plan taken away (the general path as it runs untraced), and
 * everything but the trace must agree: codes, messages,
 * the points effect and the state bytes. Another copy gets the same orders
 * with every string cut at its first NUL, which is how the policy's strings
 * compare against them (strcmp). Policies of more than 64 multipliers
 * have no such plan, and their untraced general path reads one plan of
 * masks per 64 multipliers instead (wide_plans_as_general). The interned lookup
 * itself is checked against strcmp on strings of every length around its
 * 8- and 16-byte words, and `birthday: month` against its general form.
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
#include "event.h"
#include "member.h"
#include "support/test_rng.h"
#include "support/cond_gen.h"
#include "support/points_text.h"

static const char *const CATS[] = {"c1", "c2", "c3", "gc", "other", "\xe5\xa4\x96\xe5\xa5\x97"};
static const char *const SKUS[] = {"S1", "S2", "S9", "X-LONG-SKU-0001"};
static const char *const CHANNELS[] = {"pos", "app", "web"};

static const char *const MONTHS[] = {"01", "02", "03", "06", "10", "12"};

/* `birthday: window` needs gifts.birthday (has_gift) */
static const char *random_when(rng *r, char *out, size_t cap, bool has_gift)
{
    out[0] = '\0';
    switch (pick(r, 40)) {
    case 0: snprintf(out, cap, "{category: [%s]}", CATS[pick(r, 6)]); break;
    case 1: snprintf(out, cap, "{category: [%s, %s]}", CATS[pick(r, 6)], CATS[pick(r, 6)]); break;
    case 2: snprintf(out, cap, "{sku: [%s]}", SKUS[pick(r, 4)]); break;
    case 3: snprintf(out, cap, "{channel: [%s]}", CHANNELS[pick(r, 3)]); break;
    case 4: snprintf(out, cap, "{day_of_month: [%d, %d]}", 1 + pick(r, 28), 1 + pick(r, 28)); break;
    case 5: snprintf(out, cap, "{category: [%s], channel: [%s]}", CATS[pick(r, 6)], CHANNELS[pick(r, 3)]); break;
    case 6: snprintf(out, cap, "{any: [{category: [%s]}, {sku: [%s]}]}", CATS[pick(r, 6)], SKUS[pick(r, 4)]); break;
    case 7: snprintf(out, cap, "{not: {category: [%s]}}", CATS[pick(r, 6)]); break;
    case 8: snprintf(out, cap, "{store: [ST1]}"); break;
    case 9: snprintf(out, cap, "{tier_at_least: t1, category: [%s]}", CATS[pick(r, 6)]); break;
    case 10: snprintf(out, cap, "{weekday: [mon, wed, fri], sku: [%s, %s]}", SKUS[pick(r, 4)], SKUS[pick(r, 4)]); break;
    /* what the plan compiles, alone and together */
    case 11: snprintf(out, cap, "{birthday: month}"); break;
    case 12: snprintf(out, cap, "{birthday: day}"); break;
    case 13: snprintf(out, cap, "{birthday: %s}", has_gift ? "window" : "day"); break;
    case 14: snprintf(out, cap, "{month: [%d, %d]}", 1 + pick(r, 12), 1 + pick(r, 12)); break;
    case 15: snprintf(out, cap, "{weekday: [%s]}", (const char *[]){"mon", "tue", "sat", "sun"}[pick(r, 4)]); break;
    case 16: {
        int from = 2025 + pick(r, 2);
        snprintf(out, cap, "{date_between: [%d-%s-01, %d-%s-28]}", from, MONTHS[pick(r, 6)], from + pick(r, 2) + 1,
                 MONTHS[pick(r, 6)]);
        break;
    }
    case 17: snprintf(out, cap, "{tier: [t%d, t%d]}", pick(r, 3), pick(r, 3)); break;
    case 18: snprintf(out, cap, "{tier_below: t%d}", pick(r, 3)); break;
    case 19: snprintf(out, cap, "{tier_at_least: t%d}", pick(r, 3)); break;
    case 20: snprintf(out, cap, "{tags: [%s]}", pick(r, 2) ? "vip" : "staff"); break;
    case 21: snprintf(out, cap, "{channel: [%s, %s]}", CHANNELS[pick(r, 3)], CHANNELS[pick(r, 3)]); break;
    case 22: snprintf(out, cap, "{day_of_month: [8, 18, 28]}"); break;
    case 23:
        snprintf(out, cap, "{category: [%s], date_between: [2025-10-01, 2027-12-31]}", CATS[pick(r, 6)]);
        break;
    case 24:
        snprintf(out, cap, "{all: [{day_of_month: [%d, %d]}, {month: [%d]}], sku: [%s]}", 1 + pick(r, 31),
                 1 + pick(r, 31), 1 + pick(r, 12), SKUS[pick(r, 4)]);
        break;
    case 25:
        snprintf(out, cap, "{all: [{date_between: [2025-01-01, 2027-06-30]}, {date_between: [2026-03-01, 2028-01-31]}]}");
        break;
    case 26: snprintf(out, cap, "{time_between: [\"09:00\", \"12:00\"]}"); break;
    case 27: snprintf(out, cap, "{order_at_least: %d}", pick(r, 3000)); break;
    case 28: snprintf(out, cap, "{member_days_at_least: %d}", pick(r, 900)); break;
    case 29: snprintf(out, cap, "{any: [{birthday: month}, {tier: [t2]}], category: [%s]}", CATS[pick(r, 6)]); break;
    case 30: snprintf(out, cap, "{not: {tags: [vip]}, store: [ST1, ST2]}"); break;
    case 31:
        snprintf(out, cap, "{birthday: month, tier_at_least: t1, category: [%s, %s]}", CATS[pick(r, 6)], CATS[pick(r, 6)]);
        break;
    case 32:
        snprintf(out, cap, "{any: [{category: [%s]}, {channel: [%s]}], day_of_month: [%d]}", CATS[pick(r, 6)],
                 CHANNELS[pick(r, 3)], 1 + pick(r, 31));
        break;
    case 33: snprintf(out, cap, "{all: [{category: [%s]}, {category: [%s, %s]}]}", CATS[pick(r, 6)], CATS[pick(r, 6)], CATS[pick(r, 6)]); break;
    case 34: snprintf(out, cap, "{any: []}"); break;
    case 35:
        snprintf(out, cap, "{paid: %s, time_between: [\"%02d:00\", \"%02d:30\"]}", pick(r, 2) ? "active" : "none",
                 pick(r, 24), pick(r, 24));
        break;
    case 36: snprintf(out, cap, "{all: [{time_between: [\"22:00\", \"06:00\"]}, {time_between: [\"05:00\", \"23:00\"]}]}"); break;
    case 37: snprintf(out, cap, "{paid: [annual], channel: [%s]}", CHANNELS[pick(r, 3)]); break;
    default: return NULL;
    }
    return out;
}

static const char *const FACTORS[] = {"0.5", "1.2", "1.5", "2", "3", "0.0001", "10000", "1.2345", "9999.9999"};

/* wide: 65-164 multipliers, past one 64-bit mask (the plan's blocks) */
static loy_policy *random_policy(rng *r, bool wide)
{
    static char y[65536];
    y[0] = '\0';
    add(y, sizeof y, "loyalty_policy: 1\ncurrency: {code: CNY, minor_units: 2}\n");
    add(y, sizeof y, "tiers:\n  qualify_on: spend\n");
    if (pick(r, 2))
        add(y, sizeof y, "  exclude: {categories: [%s], skus: [%s]}\n", CATS[pick(r, 6)], SKUS[pick(r, 4)]);
    add(y, sizeof y, "  levels:\n    - {id: t0}\n    - {id: t1, at: 1000}\n    - {id: t2, at: 5000}\n");
    add(y, sizeof y, "paid:\n  plans:\n    - {id: annual, fee: 199, months: 12}\n");
    /* Feb 29 birthdays move to Feb 28 or Mar 1 (birthday predicates) */
    int gift = pick(r, 3);
    switch (gift) {
    case 0: add(y, sizeof y, "gifts: {birthday: {window: month, feb29: mar1, by_tier: {t0: {points: 1}}}}\n"); break;
    case 1: add(y, sizeof y, "gifts: {birthday: {window: day, feb29: feb28, by_tier: {t1: {points: 1}}}}\n"); break;
    default: break;
    }
    static const char *const rates[] = {"{amount: 1, points: 1}", "{amount: 3, points: 7}",
                                        "{amount: 100, points: 1}", "{amount: 0.07, points: 999983}"};
    static const char *const rounds[] = {"floor", "ceil", "nearest"};
    static const char *const stacks[] = {"multiply", "add", "max"};
    add(y, sizeof y, "points:\n  earn:\n    rate: %s\n    rounding: %s\n    rounding_scope: %s\n",
        rates[pick(r, 4)], rounds[pick(r, 3)], pick(r, 2) ? "line" : "order");
    switch (pick(r, 3)) {
    case 0: add(y, sizeof y, "    exclude: {categories: [%s, %s]}\n", CATS[pick(r, 6)], CATS[pick(r, 6)]); break;
    case 1: add(y, sizeof y, "    exclude: {skus: [%s]}\n", SKUS[pick(r, 4)]); break;
    default: break;
    }
    int n = wide ? 65 + pick(r, 100) : pick(r, 4) == 0 ? pick(r, 14) : pick(r, 6);
    if (n) {
        add(y, sizeof y, "    multipliers:\n");
        for (int j = 0; j < n; j++) {
            char when[256];
            if (pick(r, 8) == 0)
                add(y, sizeof y, "      - {id: m%d, by_tier: {t0: %s, t2: %s}", j, FACTORS[pick(r, 9)], FACTORS[pick(r, 9)]);
            else if (pick(r, 4) == 0)
                add(y, sizeof y, "      - {id: m%d, by_tier: {t1: %s, t2: %s}", j, FACTORS[pick(r, 9)], FACTORS[pick(r, 9)]);
            else
                add(y, sizeof y, "      - {id: m%d, factor: %s", j, FACTORS[pick(r, 9)]);
            if (random_when(r, when, sizeof when, gift < 2))
                add(y, sizeof y, ", when: %s", when);
            add(y, sizeof y, "}\n");
        }
        add(y, sizeof y, "    stacking: %s\n", stacks[pick(r, 3)]);
    }
    switch (pick(r, 4)) {
    case 0: add(y, sizeof y, "    cap: {per_order: %d}\n", pick(r, 5000)); break;
    case 1: add(y, sizeof y, "    cap: {per_order: %d, per_day: %d}\n", pick(r, 5000), pick(r, 20000)); break;
    case 2: add(y, sizeof y, "    min_order: %d\n", pick(r, 2000)); break;
    default: break;
    }
    return load_generated(y, "random.yaml");
}

/* A string of the pool, sometimes with a NUL and a tail after it. */
typedef struct str {
    const char *s;          /* NULL: unset */
    char buf[40];
    size_t len;
} str;

static void pick_str(rng *r, str *out, const char *const *pool, int n, int unset_pct)
{
    if (pick(r, 100) < unset_pct) {
        out->s = NULL;
        return;
    }
    const char *base = pool[pick(r, n)];
    size_t bl = strlen(base);
    memcpy(out->buf, base, bl + 1);
    out->len = bl;
    if (pick(r, 8) == 0) {
        memcpy(out->buf + bl, "\0zz", 4);
        out->len = bl + 3;
    }
    out->s = out->buf;
}

/* Sets b to the string, or to its part before a NUL when `cut`. */
static void put(loy_event *e, loy_sbuf *b, const str *s, bool cut)
{
    if (!s->s) {
        assert_true(loy_sbuf_set(e->alloc, b, NULL, 0));
        return;
    }
    assert_true(loy_sbuf_set(e->alloc, b, s->s, cut ? strlen(s->s) : s->len));
}

typedef struct order {
    char id[32], at[40];
    int lines;
    str cat[6], sku[6], channel, store;
    int64_t amount[6];
} order;

/* Orders move forward by 0..70 days from 2025-12-20, over leap and other
 * years, every weekday, month and day of month, and hours of the day. */
static void random_order(rng *r, order *o, int k, loy_day *day)
{
    snprintf(o->id, sizeof o->id, "O-%d", k);
    if (k == 0)
        *day = loy_day_from_ymd(2025, 12, 20);
    *day += pick(r, 4) == 0 ? 0 : pick(r, 71);
    loy_ymd d = loy_day_to_ymd(*day);
    /* often on the hour or half past, where time_between ranges start and end */
    int minute = pick(r, 3) == 0 ? 0 : pick(r, 2) ? 30 : pick(r, 60);
    snprintf(o->at, sizeof o->at, "%04d-%02d-%02dT%02d:%02d:00+08:00", (int)d.y, (int)d.m, (int)d.d, pick(r, 24),
             minute);
    o->lines = 1 + pick(r, 6);
    for (int i = 0; i < o->lines; i++) {
        pick_str(r, &o->cat[i], CATS, 6, 10);
        pick_str(r, &o->sku[i], SKUS, 4, 20);
        switch (pick(r, 10)) {
        case 0: o->amount[i] = (int64_t)(next(r) >> (2 + pick(r, 30))); break;
        case 1: o->amount[i] = 0; break;
        default: o->amount[i] = 1 + pick(r, 200000); break;
        }
    }
    pick_str(r, &o->channel, CHANNELS, 3, 20);
    pick_str(r, &o->store, (const char *const[]){"ST1", "ST2"}, 2, 50);
}

static void build(loy_event *e, const order *o, bool cut)
{
    assert_int_equal(loy_event_reset(e, LOY_EVENT_ORDER, o->id, o->at), LOY_OK);
    put(e, &e->channel, &o->channel, cut);
    put(e, &e->store, &o->store, cut);
    for (int i = 0; i < o->lines; i++) {
        assert_int_equal(loy_event_add_line(e, NULL, NULL, o->amount[i], 1), LOY_OK);
        put(e, &e->lines[i].category, &o->cat[i], cut);
        put(e, &e->lines[i].sku, &o->sku[i], cut);
    }
}

/* "delta rules..." of the order's points effect, or "" */
static void bytes_equal(loy_member *a, loy_member *b)
{
    const void *da, *db;
    size_t la, lb;
    assert_int_equal(loy_member_to_bytes(a, &da, &la), LOY_OK);
    char *copy = malloc(la ? la : 1);
    assert_non_null(copy);
    memcpy(copy, da, la);
    assert_int_equal(loy_member_to_bytes(b, &db, &lb), LOY_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(copy, db, la);
    free(copy);
}

static const char *const BIRTHDAYS[] = {NULL, "2000-02-29", "1996-02-29", "1990-03-01", "1988-02-28",
                                         "1979-01-15", "1985-06-08", "1999-12-31", "2001-10-28"};

enum { VARIANTS = 4 };  /* untraced (plan), traced (general), strings cut (plan), no plan (general, untraced) */

static void compare_paths(int policies, bool wide)
{
    rng r = {20261124};
    long compared = 0, points = 0, planned = 0, tabled = 0;
    for (int pi = 0; pi < policies; pi++) {
        loy_policy *p = random_policy(&r, wide);
        const loy_order_plan *plan = p->order_plan;
        planned += plan != NULL;
        tabled += plan && plan->g;
        loy_member *m[VARIANTS];
        loy_result *res[VARIANTS];
        loy_event *e;
        const char *birthday = BIRTHDAYS[pick(&r, 9)];
        int tags = pick(&r, 4);
        for (int k = 0; k < VARIANTS; k++) {
            assert_int_equal(loy_member_new(&m[k], p, "M-1", "2025-01-01"), LOY_OK);
            assert_int_equal(loy_result_new(&res[k], p), LOY_OK);
            assert_int_equal(loy_member_set_birthday(m[k], birthday), LOY_OK);
            if (tags & 1)
                assert_int_equal(loy_member_add_tag(m[k], "vip"), LOY_OK);
            if (tags & 2)
                assert_int_equal(loy_member_add_tag(m[k], "staff"), LOY_OK);
            /* a plan that runs for the first orders, or for all of them */
            if (tags == 1)
                assert_int_equal(loy_member_import_paid(m[k], "annual", "2026-09-30"), LOY_OK);
            else if (tags == 2)
                assert_int_equal(loy_member_import_paid(m[k], "annual", "2030-01-31"), LOY_OK);
        }
        loy_result_set_options(res[1], LOY_RESULT_TRACE);
        assert_int_equal(loy_event_new(&e, p), LOY_OK);
        loy_day day = 0;
        for (int k = 0; k < 30; k++) {
            order o;
            random_order(&r, &o, k, &day);
            char text[VARIANTS][2048];
            int rc[VARIANTS];
            for (int v = 0; v < VARIANTS; v++) {
                build(e, &o, v == 2);
                if (v == 3)
                    p->order_plan = NULL;
                rc[v] = loy_apply(p, m[v], e, res[v]);
                p->order_plan = plan;
                points_text(res[v], text[v], sizeof text[v]);
            }
            for (int v = 1; v < VARIANTS; v++) {
                assert_int_equal(rc[0], rc[v]);
                assert_string_equal(loy_result_message(res[0]), loy_result_message(res[v]));
                assert_string_equal(text[0], text[v]);
                bytes_equal(m[0], m[v]);
            }
            compared++;
            points += text[0][0] != '\0';
        }
        loy_event_free(e);
        for (int k = 0; k < VARIANTS; k++) {
            loy_result_free(res[k]);
            loy_member_free(m[k]);
        }
        loy_policy_free(p);
    }
    /* the comparison saw real points, not only refusals, and the plan both
     * with its table of line factors and without */
    assert_true(points > compared / 3);
    if (wide) {
        assert_true(planned == 0);
        return;
    }
    assert_true(planned > 200);
    assert_true(tabled > 150 && tabled < planned);
}

static void fast_and_general_agree(void **state)
{
    (void)state;
    compare_paths(300, false);
}

/* Past 64 multipliers the untraced general path reads one plan per 64
 * (order_blocks); traced, it tests every condition as written. */
static void wide_plans_as_general(void **state)
{
    (void)state;
    compare_paths(60, true);
}

/* lib/engine/cond.c settles `birthday: month` from the birthday's month
 * (Feb 29 moved to Feb 28 or Mar 1 in a year without one); the general
 * form moves the birthday into the year and compares months. */
static void birthday_month_as_general(void **state)
{
    (void)state;
    static const char *const yaml[] = {
        "loyalty_policy: 1\ntiers: {qualify_on: spend, levels: [{id: t0}]}\n"
        "benefits:\n  - {id: b, kind: service, when: {birthday: month}}\n",
        "loyalty_policy: 1\ntiers: {qualify_on: spend, levels: [{id: t0}]}\n"
        "gifts: {birthday: {window: month, feb29: mar1, by_tier: {t0: {points: 1}}}}\n"
        "benefits:\n  - {id: b, kind: service, when: {birthday: month}}\n",
        "loyalty_policy: 1\ntiers: {qualify_on: spend, levels: [{id: t0}]}\n"
        "gifts: {birthday: {window: month, feb29: feb28, by_tier: {t0: {points: 1}}}}\n"
        "benefits:\n  - {id: b, kind: service, when: {birthday: month}}\n"};
    long agree = 0;
    for (size_t k = 0; k < sizeof yaml / sizeof yaml[0]; k++) {
        loy_policy *p = NULL;
        assert_int_equal(loy_policy_load_buffer(&p, yaml[k], strlen(yaml[k]), "b.yaml", NULL), LOY_OK);
        loy_member *m = NULL;
        assert_int_equal(loy_member_new(&m, p, "M-1", "1990-01-01"), LOY_OK);
        const loy_cond *when = p->benefits[0].when;
        loy_ctx c;
        memset(&c, 0, sizeof c);
        c.p = p;
        c.m = m;
        /* birthdays around Feb 29 in leap and other years; days of 2026 to 2028 */
        loy_day first = loy_day_from_ymd(1999, 12, 1), last = loy_day_from_ymd(2001, 4, 1);
        for (loy_day b = first; b <= last; b += 3) {
            m->birthday = b;
            for (loy_day d = loy_day_from_ymd(2026, 1, 1); d <= loy_day_from_ymd(2028, 12, 31); d += 5) {
                c.day = d;
                bool general = loy_month_of(loy_birthday_in_year(p, b, loy_day_to_ymd(d).y)) == loy_month_of(d);
                assert_int_equal(loy_cond_holds(&c, when), general);
                agree += general;
            }
        }
        m->birthday = loy_day_from_ymd(2000, 2, 29);
        for (loy_day d = loy_day_from_ymd(2026, 1, 1); d <= loy_day_from_ymd(2028, 12, 31); d++) {
            c.day = d;
            bool general = loy_month_of(loy_birthday_in_year(p, m->birthday, loy_day_to_ymd(d).y)) == loy_month_of(d);
            assert_int_equal(loy_cond_holds(&c, when), general);
        }
        loy_member_free(m);
        loy_policy_free(p);
    }
    assert_true(agree > 0);
}

/* loy_intern_lookup (lib/policy.h) finds exactly the policy's strings that
 * strcmp finds, and calls a string plain exactly when it is ASCII without NUL. */
static void interned_lookup_as_strcmp(void **state)
{
    (void)state;
    static const char *const names[] = {
        "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh", "abcdefghi",
        "abcdefghijklmno", "abcdefghijklmnop", "abcdefghijklmnopq", "abcdefghijklmnopqrstuvwxyz0123",
        "\xe5\xa4\x96\xe5\xa5\x97", "coats", "coats2", "gift_card", "x-very-long-category-name-0001",
        "x-very-long-category-name-0002"};
    enum { N = sizeof names / sizeof names[0] };
    char yaml[4096] = "loyalty_policy: 1\ntiers: {qualify_on: spend, levels: [{id: t0}]}\n"
                      "points:\n  earn:\n    rate: {amount: 1, points: 1}\n    exclude: {categories: [";
    for (int i = 0; i < N; i++)
        add(yaml, sizeof yaml, "%s\"%s\"", i ? ", " : "", names[i]);
    add(yaml, sizeof yaml, "]}\n");
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, yaml, strlen(yaml), "i.yaml", NULL), LOY_OK);
    const loy_interned *t = &p->interned;
    assert_int_equal(t->count, N);
    rng r = {77};
    char buf[64];
    for (int k = 0; k < 200000; k++) {
        /* a name, maybe cut, extended, mutated, or with a NUL inside */
        const char *base = names[pick(&r, N)];
        size_t len = strlen(base);
        memcpy(buf, base, len + 1);
        switch (pick(&r, 6)) {
        case 0: len = (size_t)pick(&r, (int)len + 1); break;
        case 1: if (len < 40) { buf[len] = (char)('a' + pick(&r, 26)); len++; } break;
        case 2: if (len) buf[pick(&r, (int)len)] ^= (char)(1 << pick(&r, 8)); break;
        case 3: if (len) buf[pick(&r, (int)len)] = '\0'; break;
        default: break;
        }
        buf[len] = '\0';
        bool plain;
        int32_t id = loy_intern_lookup(t, buf, len, &plain);
        int want = -1;
        for (int i = 0; i < N; i++)
            if (strcmp(names[i], buf) == 0)
                want = i;
        bool ascii = true;
        for (size_t i = 0; i < len; i++)
            if (buf[i] == '\0' || (unsigned char)buf[i] >= 0x80)
                ascii = false;
        assert_int_equal(plain, ascii);
        assert_int_equal(id >= 0, want >= 0);
        if (id >= 0)
            assert_int_equal(t->flags[id], LOY_IN_PTS_CAT);
    }
    loy_policy_free(p);
}

/* Eligible and qualifying spend are summed in one pass; an eligible overflow
 * anywhere is still the one reported, even after a qualifying one. */
static void spend_overflow_reported_in_order(void **state)
{
    (void)state;
    const char *yaml = "loyalty_policy: 1\ntiers: {qualify_on: spend, levels: [{id: t0}]}\n"
                       "points:\n  earn:\n    rate: {amount: 1, points: 1}\n    exclude: {categories: [gc]}\n";
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, yaml, strlen(yaml), "o.yaml", NULL), LOY_OK);
    loy_member *m = NULL;
    loy_result *r = NULL;
    loy_event *e = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-1", "2026-01-01"), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    assert_int_equal(loy_event_new(&e, p), LOY_OK);
    /* qualifying overflows on the second line, eligible on the third */
    assert_int_equal(loy_event_reset(e, LOY_EVENT_ORDER, "O-1", "2026-03-01T10:00:00+08:00"), LOY_OK);
    assert_int_equal(loy_event_add_line(e, NULL, "gc", INT64_MAX, 1), LOY_OK);
    assert_int_equal(loy_event_add_line(e, NULL, "x", INT64_MAX, 1), LOY_OK);
    assert_int_equal(loy_event_add_line(e, NULL, "x", 1, 1), LOY_OK);
    assert_int_equal(loy_apply(p, m, e, r), LOY_E_OVERFLOW);
    assert_string_equal(loy_result_message(r), "eligible spend overflows int64");
    /* only qualifying overflows */
    assert_int_equal(loy_event_reset(e, LOY_EVENT_ORDER, "O-2", "2026-03-01T10:00:00+08:00"), LOY_OK);
    assert_int_equal(loy_event_add_line(e, NULL, "gc", INT64_MAX, 1), LOY_OK);
    assert_int_equal(loy_event_add_line(e, NULL, "x", 1, 1), LOY_OK);
    assert_int_equal(loy_apply(p, m, e, r), LOY_E_OVERFLOW);
    assert_string_equal(loy_result_message(r), "qualifying spend overflows int64");
    loy_event_free(e);
    loy_result_free(r);
    loy_member_free(m);
    loy_policy_free(p);
}

/* earn.c takes an order with no line conditions and no rounding per line
 * as one product of its eligible spend; near and past 128 bits it must
 * answer as the general path does, with points or with a refusal. */
static void whole_order_product_as_general(void **state)
{
    (void)state;
    const char *yaml = "loyalty_policy: 1\ntiers: {qualify_on: spend, levels: [{id: t0}]}\n"
                       "points:\n  earn:\n    rate: {amount: 0.07, points: 999983}\n"
                       "    rounding: nearest\n    rounding_scope: order\n    exclude: {categories: [gc]}\n"
                       "    multipliers:\n      - {id: m0, factor: 9999.9999}\n      - {id: m1, factor: 1.2345}\n"
                       "      - {id: m2, factor: 10000}\n    stacking: multiply\n";
    static const int64_t amounts[] = {0, 1, 7, 99, 12345, INT64_C(1) << 40, INT64_MAX / 3, INT64_MAX / 2, INT64_MAX};
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, yaml, strlen(yaml), "w.yaml", NULL), LOY_OK);
    const loy_order_plan *plan = p->order_plan;
    assert_non_null(plan);
    rng r = {20261124};
    loy_event *e = NULL;
    assert_int_equal(loy_event_new(&e, p), LOY_OK);
    long points = 0, refused = 0;
    for (int k = 0; k < 400; k++) {
        char id[16];
        snprintf(id, sizeof id, "O-%d", k);
        assert_int_equal(loy_event_reset(e, LOY_EVENT_ORDER, id, "2026-03-01T10:00:00+08:00"), LOY_OK);
        int lines = 1 + pick(&r, 4);
        /* mostly small amounts, so that orders earn as well as overflow */
        int pool = pick(&r, 2) ? 5 : 9;
        for (int li = 0; li < lines; li++)
            assert_int_equal(loy_event_add_line(e, NULL, pick(&r, 4) ? "x" : "gc", amounts[pick(&r, pool)], 1),
                             LOY_OK);
        loy_member *m[2];
        loy_result *res[2];
        char text[2][512];
        int rc[2];
        for (int v = 0; v < 2; v++) {
            assert_int_equal(loy_member_new(&m[v], p, "M-1", "2025-01-01"), LOY_OK);
            assert_int_equal(loy_result_new(&res[v], p), LOY_OK);
            if (v == 1)
                p->order_plan = NULL;
            rc[v] = loy_apply(p, m[v], e, res[v]);
            p->order_plan = plan;
            points_text(res[v], text[v], sizeof text[v]);
        }
        assert_int_equal(rc[0], rc[1]);
        assert_string_equal(loy_result_message(res[0]), loy_result_message(res[1]));
        assert_string_equal(text[0], text[1]);
        bytes_equal(m[0], m[1]);
        points += text[0][0] != '\0';
        refused += rc[0] != LOY_OK;
        for (int v = 0; v < 2; v++) {
            loy_result_free(res[v]);
            loy_member_free(m[v]);
        }
    }
    assert_true(points > 100);
    assert_true(refused > 10);
    loy_event_free(e);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fast_and_general_agree),
        cmocka_unit_test(wide_plans_as_general),
        cmocka_unit_test(birthday_month_as_general),
        cmocka_unit_test(interned_lookup_as_strcmp),
        cmocka_unit_test(spend_overflow_reported_in_order),
        cmocka_unit_test(whole_order_product_as_general),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
