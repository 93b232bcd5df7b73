/*
 * A surprise gift's `when` has two paths (lib/engine/gifts.c): the
 * surprises' conditions compiled at load (lib/policy/gifts.c), and the
 * general one, loy_cond_holds. Random surprise policies (every predicate
 * the plan compiles, alone, together, under `all`, `any` and `not`, and
 * ones it leaves to the general code) are asked about random members on
 * random days, with the plan and with the plan taken away, and must give
 * the same answer for every surprise.
 *
 * The gift effects' fixed parts are built at load as nodes every answer
 * shares (loy_effect_nodes): random rewards for every kind of gift are given
 * to random members, and each gift effect read back must be the one
 * POLICY.md §5 and §11.3 write, field by field, from the test's own record
 * of the policy, and so must each upgrade's tier_changed, whose end is
 * shared too; no shared node may be left for a reader to finish.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xxhash.h>

#include "loyalty.h"
#include "engine/engine.h"
#include "member.h"
#include "support/test_rng.h"
#include "support/cond_gen.h"
#include "support/fixed_nodes.h"

static const char *const TIERS[] = {"t0", "t1", "t2"};

/* One entry of a `when` map, without the braces. */
static void random_entry(rng *r, char *out, size_t cap, int depth)
{
    switch (pick(r, depth > 0 ? 12 : 16)) {
    case 0: snprintf(out, cap, "orders_at_least: %d", pick(r, 8)); break;
    case 1: {
        /* from on or before to, as the loader asks */
        int from = pick(r, 700), to = from + pick(r, 120);
        char a[11], b[11];
        loy_format_date(loy_day_from_ymd(2026, 1, 1) + from, a);
        loy_format_date(loy_day_from_ymd(2026, 1, 1) + to, b);
        snprintf(out, cap, "date_between: [%s, %s]", a, b);
        break;
    }
    case 2: snprintf(out, cap, "member_days_at_least: %d", pick(r, 800)); break;
    case 3: snprintf(out, cap, "orders_in_months: {months: %d, at_least: %d}", 1 + pick(r, 14), pick(r, 7)); break;
    case 4: snprintf(out, cap, "tier_at_least: %s", TIERS[pick(r, 3)]); break;
    case 5: snprintf(out, cap, "tier_below: %s", TIERS[pick(r, 3)]); break;
    case 6: snprintf(out, cap, "tier: [%s]", TIERS[pick(r, 3)]); break;
    case 7: snprintf(out, cap, "points_at_least: %d", pick(r, 300)); break;
    case 8: snprintf(out, cap, "channel: [pos]"); break;
    case 9: snprintf(out, cap, "month: [%d, %d]", 1 + pick(r, 12), 1 + pick(r, 12)); break;
    case 10: snprintf(out, cap, "month: [%d]", 1 + pick(r, 12)); break;
    case 11: snprintf(out, cap, "orders_at_least: %d", 1 + pick(r, 3)); break;
    default: random_group(r, out, cap, depth, random_entry); break;
    }
}

static loy_policy *random_policy(rng *r, char *y, size_t cap, int surprises)
{
    y[0] = '\0';
    add(y, cap, "loyalty_policy: 1\ncurrency: {code: CNY}\n");
    add(y, cap, "tiers:\n  qualify_on: spend\n  window: 12_months\n");
    add(y, cap, "  levels:\n    - {id: t0}\n    - {id: t1, at: 1000}\n    - {id: t2, at: 5000}\n");
    add(y, cap, "points:\n  earn:\n    rate: {amount: 1, points: 1}\n");
    add(y, cap, "gifts:\n  surprise:\n");
    for (int s = 0; s < surprises; s++) {
        add(y, cap, "    - {id: g%d, sample_percent: 100, reward: {points: 1}, once: lifetime", s);
        if (pick(r, 6) != 0)
            add_random_when(r, y, cap, random_entry);
        add(y, cap, "}\n");
    }
    return load_generated(y, "surprises.yaml");
}

/* Surprise `index`'s answer with the plan or, `plan` false, through the
 * general path, for a ctx set up as the steps leave it. */
static void ctx_for(loy_ctx *c, loy_policy *p, loy_member *m, loy_day day, bool no_event, bool filled)
{
    memset(c, 0, sizeof *c);
    c->p = p;
    c->m = m;
    c->day = day;
    c->no_event = no_event;
    c->channel = "pos";
    c->stage_at_start = -1;
    if (filled)
        loy_ctx_dates_fill(c);
}

static bool holds_of(loy_policy *p, loy_member *m, uint32_t index, loy_day day, bool no_event,
                     bool filled, bool plan)
{
    const loy_gift_plan *kept = p->surprise_plan;
    if (!plan)
        p->surprise_plan = NULL;
    loy_ctx c;
    ctx_for(&c, p, m, day, no_event, filled);
    bool holds = loy_surprise_holds(&c, index);
    p->surprise_plan = kept;
    return holds;
}

/* The plan's gate, which lets the step skip every surprise. */
static bool gate_of(loy_policy *p, loy_member *m, loy_day day, bool no_event, bool filled)
{
    loy_ctx c;
    ctx_for(&c, p, m, day, no_event, filled);
    return loy_surprises_may_hold(&c);
}

static void planned_and_general_agree(void **state)
{
    (void)state;
    static char y[16384];
    rng r = {20261124};
    long asked = 0, held = 0, gated = 0;
    for (int k = 0; k < 500; k++) {
        int surprises = 1 + pick(&r, 4);
        loy_policy *p = random_policy(&r, y, sizeof y, surprises);
        assert_non_null(p->surprise_plan);
        assert_int_equal(p->gifts.surprise_count, (uint32_t)surprises);
        loy_member *m = NULL;
        assert_int_equal(loy_member_new(&m, p, "M-1", "2024-01-01"), LOY_OK);
        for (int j = 0; j < 80; j++) {
            loy_day day = loy_day_from_ymd(2026, 1, 1) + pick(&r, 800);
            random_member(&r, m, day);
            bool no_event = pick(&r, 4) == 0, filled = pick(&r, 2) == 0;
            /* closed, the gate skips every surprise: none may hold */
            bool may = gate_of(p, m, day, no_event, filled);
            gated += !may;
            for (uint32_t i = 0; i < (uint32_t)surprises; i++) {
                bool planned = holds_of(p, m, i, day, no_event, filled, true);
                bool general = holds_of(p, m, i, day, no_event, filled, false);
                if (planned != general || (general && !may))
                    fprintf(stderr, "%s\nday %d, surprise %u: planned %d, general %d, gate %d\n", y,
                            (int)day, (unsigned)i, planned, general, may);
                assert_int_equal(planned, general);
                assert_true(may || !general);
                held += planned;
                asked++;
            }
        }
        loy_member_free(m);
        loy_policy_free(p);
    }
    /* both answers are met often, and the gate often closes */
    assert_true(held > asked / 20);
    assert_true(held < asked - asked / 20);
    assert_true(gated > 500 * 80 / 20);
}

/* No surprises: no plan; the reference policies with surprises get one. */
static void plan_only_with_surprises(void **state)
{
    (void)state;
    static const char y[] = "loyalty_policy: 1\ncurrency: {code: CNY}\n"
                            "tiers: {qualify_on: spend, levels: [{id: t0}]}\n"
                            "points: {earn: {rate: {amount: 1, points: 1}}}\n";
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, y, strlen(y), "none.yaml", NULL), LOY_OK);
    assert_null(p->surprise_plan);
    loy_policy_free(p);
    assert_int_equal(loy_policy_load_file(&p, LOY_SPEC_DIR "/policies/apparel.yaml", NULL), LOY_OK);
    assert_non_null(p->surprise_plan);
    /* crab-season: a tier and a date range; new-fabric-trial: a tier and a month */
    assert_int_equal(p->surprise_plan->start[1], 2);
    assert_int_equal(p->surprise_plan->start[2], 4);
    assert_int_equal(p->surprise_plan->tests[0].kind, LOY_GT_TIER_AT_LEAST);
    assert_int_equal(p->surprise_plan->tests[1].kind, LOY_GT_DATE_BETWEEN);
    assert_int_equal(p->surprise_plan->tests[3].kind, LOY_GT_MONTH);
    assert_int_equal(p->surprise_plan->tests[3].months, 1u << 3);
    /* the gate: silver or above, in March or November */
    assert_int_equal(p->surprise_plan->tier_min, 1);
    assert_true(p->surprise_plan->dated);
    assert_int_equal(p->surprise_plan->months, 1u << 3 | 1u << 11);
    loy_policy_free(p);
}

/* A surprise's draw (lib/engine/gifts.c, sample_draw) hashes a short
 * member_id ":" gift_id in one call and a long one by streaming: the two
 * must agree on every length, on both sides of the stack key's size. */
static void draw_one_shot_is_streaming(void **state)
{
    (void)state;
    static char text[600];
    rng r = {7};
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)(' ' + pick(&r, 95));
    for (size_t ml = 0; ml < 300; ml += 1 + ml / 16)
        for (size_t gl = 0; gl < 300; gl += 1 + gl / 16) {
            char key[700];
            memcpy(key, text, ml);
            key[ml] = ':';
            memcpy(key + ml + 1, text + 300, gl);
            XXH3_state_t st;
            XXH3_64bits_reset(&st);
            XXH3_64bits_update(&st, text, ml);
            XXH3_64bits_update(&st, ":", 1);
            XXH3_64bits_update(&st, text + 300, gl);
            assert_true(XXH3_64bits(key, ml + 1 + gl) == XXH3_64bits_digest(&st));
        }
}

/* ------------------------------------------------ the fixed gift nodes */

/* A reward as the test wrote it: a field is absent when negative. */
typedef struct reward_spec {
    int points, coupons, items, credit; /* coupons, items: how many ids */
    int tag;                            /* ids are C<tag>-<i> and I<tag>-<i> */
} reward_spec;

static reward_spec random_reward(rng *r, int tag)
{
    reward_spec w = {-1, -1, -1, -1, tag};
    while (w.points < 0 && w.coupons < 0 && w.items < 0 && w.credit < 0) {
        w.points = pick(r, 2) ? 1 + pick(r, 500) : -1;
        w.coupons = pick(r, 2) ? pick(r, 4) : -1;
        w.items = pick(r, 3) == 0 ? pick(r, 4) : -1;
        w.credit = pick(r, 3) == 0 ? 1 + pick(r, 100) : -1;
    }
    return w;
}

static void add_ids(char *y, size_t cap, const char *key, char prefix, int count, int tag, bool *first)
{
    if (count < 0)
        return;
    add(y, cap, "%s%s: [", *first ? "" : ", ", key);
    for (int i = 0; i < count; i++)
        add(y, cap, "%s%c%d-%d", i ? ", " : "", prefix, tag, i);
    add(y, cap, "]");
    *first = false;
}

static void add_reward(char *y, size_t cap, const reward_spec *w)
{
    bool first = true;
    add(y, cap, "{");
    if (w->points >= 0) {
        add(y, cap, "points: %d", w->points);
        first = false;
    }
    add_ids(y, cap, "coupons", 'C', w->coupons, w->tag, &first);
    add_ids(y, cap, "items", 'I', w->items, w->tag, &first);
    if (w->credit >= 0)
        add(y, cap, "%scredit: %d", first ? "" : ", ", w->credit);
    add(y, cap, "}");
}

/* The field after f, which must be key: value. */
static const loy_node *expect_str(const loy_node *f, const char *key, const char *value)
{
    assert_non_null(f);
    if (key)
        assert_string_equal(loy_node_key(f), key);
    else
        assert_null(loy_node_key(f));
    assert_int_equal(loy_node_type(f), LOY_NODE_STRING);
    size_t len = 0;
    const char *s = loy_node_str(f, &len);
    assert_string_equal(s, value);
    assert_int_equal(len, strlen(value));
    return loy_node_next(f);
}

static const loy_node *expect_int(const loy_node *f, const char *key, int64_t value)
{
    assert_non_null(f);
    assert_string_equal(loy_node_key(f), key);
    assert_int_equal(loy_node_type(f), LOY_NODE_INT);
    assert_int_equal(loy_node_int(f), value);
    return loy_node_next(f);
}

static const loy_node *expect_ids(const loy_node *f, const char *key, char prefix, int count, int tag)
{
    if (count < 0)
        return f;
    assert_non_null(f);
    assert_string_equal(loy_node_key(f), key);
    assert_int_equal(loy_node_type(f), LOY_NODE_LIST);
    assert_int_equal(loy_node_count(f), (size_t)count);
    const loy_node *id = loy_node_first(f);
    for (int i = 0; i < count; i++) {
        char want[32];
        snprintf(want, sizeof want, "%c%d-%d", prefix, tag, i);
        id = expect_str(id, NULL, want);
    }
    assert_null(id);
    return loy_node_next(f);
}

static void expect_reward(const loy_node *reward, const reward_spec *w)
{
    assert_non_null(reward);
    assert_string_equal(loy_node_key(reward), "reward");
    assert_int_equal(loy_node_type(reward), LOY_NODE_MAP);
    size_t fields = (size_t)(w->points >= 0) + (size_t)(w->coupons >= 0) + (size_t)(w->items >= 0) +
                    (size_t)(w->credit >= 0);
    assert_int_equal(loy_node_count(reward), fields);
    const loy_node *f = loy_node_first(reward);
    if (w->points >= 0)
        f = expect_int(f, "points", w->points);
    f = expect_ids(f, "coupons", 'C', w->coupons, w->tag);
    f = expect_ids(f, "items", 'I', w->items, w->tag);
    if (w->credit >= 0)
        f = expect_int(f, "credit", (int64_t)w->credit * 100); /* money: CNY's minor units */
    assert_null(f);
}

enum { GIFT_TIERS = 4, MAX_SURPRISES = 2, MAX_SPENDS = 3 };

typedef struct gift_policy {
    reward_spec upgrade[GIFT_TIERS], birthday[GIFT_TIERS]; /* tag < 0: none */
    reward_spec surprise[MAX_SURPRISES], spend[MAX_SPENDS];
    int surprises, spends;
    const char *period[MAX_SPENDS];
} gift_policy;

static const char *const GIFT_TIER_IDS[GIFT_TIERS] = {"t0", "t1", "t2", "t3"};

static loy_policy *random_gift_policy(rng *r, char *y, size_t cap, gift_policy *g)
{
    static const char *const periods[] = {"order", "calendar_month", "calendar_year"};
    int tag = 0;
    y[0] = '\0';
    add(y, cap, "loyalty_policy: 1\ncurrency: {code: CNY}\n");
    add(y, cap, "tiers:\n  qualify_on: spend\n  window: 12_months\n  levels:\n    - {id: t0}\n"
                "    - {id: t1, at: 1000}\n    - {id: t2, at: 2000}\n    - {id: t3, at: 3000}\n");
    add(y, cap, "points:\n  earn:\n    rate: {amount: 1, points: 1}\n");
    add(y, cap, "gifts:\n  upgrade:\n    once: %s\n    skipped: %s\n    by_tier:\n",
        pick(r, 2) ? "lifetime" : "every_time", pick(r, 2) ? "each" : "highest");
    for (int t = 0; t < GIFT_TIERS; t++) {
        g->upgrade[t].tag = -1;
        if (t == 0 || (t < 3 && pick(r, 4) == 0))
            continue;
        g->upgrade[t] = random_reward(r, tag++);
        add(y, cap, "      %s: ", GIFT_TIER_IDS[t]);
        add_reward(y, cap, &g->upgrade[t]);
        add(y, cap, "\n");
    }
    add(y, cap, "  birthday:\n    by_tier:\n");
    for (int t = 0; t < GIFT_TIERS; t++) {
        g->birthday[t].tag = -1;
        if (t > 0 && pick(r, 2) == 0)
            continue;
        g->birthday[t] = random_reward(r, tag++);
        add(y, cap, "      %s: ", GIFT_TIER_IDS[t]);
        add_reward(y, cap, &g->birthday[t]);
        add(y, cap, "\n");
    }
    g->surprises = 1 + pick(r, MAX_SURPRISES);
    add(y, cap, "  surprise:\n");
    for (int s = 0; s < g->surprises; s++) {
        g->surprise[s] = random_reward(r, tag++);
        add(y, cap, "    - {id: s%d, once: %s, reward: ", s, pick(r, 2) ? "lifetime" : "per_year");
        add_reward(y, cap, &g->surprise[s]);
        if (pick(r, 2))
            add(y, cap, ", when: {tier_at_least: %s}", GIFT_TIER_IDS[pick(r, GIFT_TIERS)]);
        add(y, cap, "}\n");
    }
    g->spends = 1 + pick(r, MAX_SPENDS);
    add(y, cap, "  spend:\n");
    for (int s = 0; s < g->spends; s++) {
        g->spend[s] = random_reward(r, tag++);
        g->period[s] = periods[pick(r, 3)];
        add(y, cap, "    - {id: p%d, period: %s, at_least: %d, reward: ", s, g->period[s],
            100 + pick(r, 3000));
        add_reward(y, cap, &g->spend[s]);
        add(y, cap, "}\n");
    }
    return load_generated(y, "gifts.yaml");
}

static int tier_of(const char *id)
{
    for (int t = 0; t < GIFT_TIERS; t++)
        if (strcmp(id, GIFT_TIER_IDS[t]) == 0)
            return t;
    fail_msg("unknown tier %s", id);
    return -1;
}

/* One gift effect of the answer to an order on day `day`, against the
 * test's record; returns its kind's index (upgrade, birthday, surprise,
 * spend). */
static int expect_gift(const loy_node *e, const gift_policy *g, loy_day day)
{
    const loy_node *f = expect_str(loy_node_first(e), "type", "gift");
    assert_string_equal(loy_node_key(f), "gift");
    const char *kind = loy_node_str(f, NULL);
    const loy_node *reward = loy_node_next(f);
    const loy_node *after = loy_node_next(reward);
    assert_non_null(after);
    const char *value = loy_node_str(after, NULL);
    loy_ymd d = loy_day_to_ymd(day);
    if (strcmp(kind, "upgrade") == 0) {
        assert_int_equal(loy_node_count(e), 4);
        int t = tier_of(value);
        expect_reward(reward, &g->upgrade[t]);
        assert_null(expect_str(after, "tier", value));
        return 0;
    }
    if (strcmp(kind, "birthday") == 0) {
        assert_int_equal(loy_node_count(e), 5);
        int t = tier_of(value);
        expect_reward(reward, &g->birthday[t]);
        assert_null(expect_int(expect_str(after, "tier", value), "year", d.y));
        return 1;
    }
    int index = value[1] - '0';
    if (strcmp(kind, "surprise") == 0) {
        assert_int_equal(loy_node_count(e), 4);
        expect_reward(reward, &g->surprise[index]);
        assert_null(expect_str(after, "id", value));
        return 2;
    }
    assert_string_equal(kind, "spend");
    expect_reward(reward, &g->spend[index]);
    const loy_node *period = expect_str(after, "id", value);
    char want[16];
    if (strcmp(g->period[index], "order") == 0) {
        assert_int_equal(loy_node_count(e), 4);
        assert_null(period);
        return 3;
    }
    assert_int_equal(loy_node_count(e), 5);
    if (strcmp(g->period[index], "calendar_month") == 0)
        snprintf(want, sizeof want, "%04d-%02d", (int)d.y, (int)d.m);
    else
        snprintf(want, sizeof want, "%04d", (int)d.y);
    assert_null(expect_str(period, "period", want));
    return 3;
}

/* An upgrade's tier_changed (the policies have no reviews), from the
 * member's tier before it; returns the new tier. */
static int expect_upgraded(const loy_node *e, int from)
{
    assert_int_equal(loy_node_count(e), 4);
    const loy_node *f = expect_str(loy_node_first(e), "type", "tier_changed");
    f = expect_str(f, "from", GIFT_TIER_IDS[from]);
    assert_non_null(f);
    int to = tier_of(loy_node_str(f, NULL));
    assert_true(to > from);
    assert_null(expect_str(expect_str(f, "to", GIFT_TIER_IDS[to]), "reason", "upgrade"));
    return to;
}

static void expect_policy_nodes_finished(const loy_policy *p)
{
    const loy_effect_nodes *gn = &p->effect_nodes;
    for (uint32_t t = 0; t < p->tiers.count; t++) {
        expect_finished(gn->upgrade[t].first);
        expect_finished(gn->birthday[t].first);
        expect_finished(gn->upgraded_to[t].first);
    }
    for (uint32_t i = 0; i < p->gifts.surprise_count; i++)
        expect_finished(gn->surprise[i].first);
    for (uint32_t i = 0; i < p->gifts.spend_count; i++)
        expect_finished(gn->spend[i].first);
}

static void fixed_gift_nodes_as_written(void **state)
{
    (void)state;
    static char y[16384];
    rng r = {20261125};
    long seen[4] = {0, 0, 0, 0}, upgrades = 0;
    for (int k = 0; k < 200; k++) {
        gift_policy g;
        loy_policy *p = random_gift_policy(&r, y, sizeof y, &g);
        expect_policy_nodes_finished(p);
        loy_result *res = NULL;
        loy_event *ev = NULL;
        assert_int_equal(loy_result_new(&res, p), LOY_OK);
        assert_int_equal(loy_event_new(&ev, p), LOY_OK);
        for (int n = 0; n < 4; n++) {
            loy_member *m = NULL;
            char id[16], date[11];
            snprintf(id, sizeof id, "M-%d", n);
            assert_int_equal(loy_member_new(&m, p, id, "2024-01-01"), LOY_OK);
            loy_format_date(loy_day_from_ymd(1990, 1 + pick(&r, 12), 1 + pick(&r, 28)), date);
            assert_int_equal(loy_member_set_birthday(m, date), LOY_OK);
            loy_day day = loy_day_from_ymd(2026, 1, 1);
            int tier = 0;
            for (int o = 0; o < 10; o++) {
                day += pick(&r, 80);
                char oid[16], at[32];
                snprintf(oid, sizeof oid, "O-%d", o);
                loy_format_date(day, date);
                snprintf(at, sizeof at, "%sT12:00:00+08:00", date);
                assert_int_equal(loy_event_reset(ev, LOY_EVENT_ORDER, oid, at), LOY_OK);
                assert_int_equal(loy_event_add_line(ev, "SKU", "any", (100 + pick(&r, 2500)) * 100, 1), LOY_OK);
                assert_int_equal(loy_apply(p, m, ev, res), LOY_OK);
                const loy_node *effects = loy_node_get(loy_result_root(res), "effects");
                for (const loy_node *e = loy_node_first(effects); e; e = loy_node_next(e)) {
                    const char *type = loy_node_str(loy_node_get(e, "type"), NULL);
                    if (strcmp(type, "gift") == 0)
                        seen[expect_gift(e, &g, day)]++;
                    if (strcmp(type, "tier_changed") == 0)
                        tier = expect_upgraded(e, tier), upgrades++;
                }
                size_t len = 0;
                assert_non_null(loy_result_json(res, &len));
            }
            loy_member_free(m);
        }
        expect_policy_nodes_finished(p);
        loy_event_free(ev);
        loy_result_free(res);
        loy_policy_free(p);
    }
    for (int kind = 0; kind < 4; kind++)
        assert_true(seen[kind] > 200);
    assert_true(upgrades > 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(planned_and_general_agree),
        cmocka_unit_test(plan_only_with_surprises),
        cmocka_unit_test(draw_one_shot_is_streaming),
        cmocka_unit_test(fixed_gift_nodes_as_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
