/*
 * The state writer (lib/state/save.c) against its general paths, over many
 * generated members:
 *
 * - ids by the policy's string numbers, whose map is cleared with a store
 *   of constant size when the policy has at most 32 of them, against the
 *   writer that compares strings (state_ids.names NULL): the same bytes,
 *   under policies of fewer and of more than 32 ids, with ids of 1 to 40
 *   bytes;
 * - months, whose mask byte is filled in as the figures are written, read
 *   back by the checked reader (loy_state_load_checked, no fast paths):
 *   every non-empty month with each of its four figures, the empty ones
 *   gone, and the bytes of the loaded handle the same bytes again;
 * - lists the member holds none of (counters, surprise gifts), written as
 *   one byte without their loops, and everything else: read back by the
 *   checked reader and written again to the same bytes.
 *
 * Members get random tiers, upgrade gifts, birthday gifts (none, one, or
 * several with repeats: a single one is written without the sort), lots,
 * months (any subset of the four figures zero, gaps of 1 to 40 months),
 * orders, tags and actions.
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
#include "state_support.h"
#include "state/codec.h"
#include "support/test_rng.h"

/* An id of `len` bytes, distinct by its number n. */
static void make_id(char *out, const char *prefix, int n, int len)
{
    int k = snprintf(out, 64, "%s%d", prefix, n);
    for (; k < len; k++)
        out[k] = (char)('a' + (k * 7 + n) % 26);
    out[k] = '\0';
}

typedef struct gen_policy {
    loy_policy *p;
    int tiers, actions, stages;
    char tier[64][64], action[16][64], stage[8][64];
} gen_policy;

static void gen_policy_open(gen_policy *g, rng *r, int tiers, int actions, int stages)
{
    g->tiers = tiers;
    g->actions = actions;
    g->stages = stages;
    static char yaml[65536];
    size_t n = 0;
#define PUT(...) n += (size_t)snprintf(yaml + n, sizeof yaml - n, __VA_ARGS__)
    PUT("loyalty_policy: 1\ntiers:\n  qualify_on: spend\n  levels:\n");
    for (int i = 0; i < tiers; i++) {
        make_id(g->tier[i], "t", i, 1 + pick(r, 40));
        if (i == 0)
            PUT("    - {id: %s}\n", g->tier[i]);
        else
            PUT("    - {id: %s, at: %d}\n", g->tier[i], 1000 * i);
    }
    PUT("points:\n  earn:\n    rate: {amount: 1, points: 1}\n");
    PUT("  actions:\n");
    for (int i = 0; i < actions; i++) {
        make_id(g->action[i], "a", i, 1 + pick(r, 24));
        PUT("    %s: {points: %d, limit: once}\n", g->action[i], 1 + i);
    }
    PUT("gifts:\n  upgrade:\n    by_tier:\n");
    for (int i = 1; i < tiers; i++)
        PUT("      %s: {points: %d}\n", g->tier[i], 5 + i);
    PUT("lifecycle:\n");
    for (int i = 0; i < stages; i++) {
        make_id(g->stage[i], "s", i, 1 + pick(r, 20));
        if (i + 1 < stages)
            PUT("  - {id: %s, when: {orders_at_least: %d}}\n", g->stage[i], stages - i);
        else
            PUT("  - {id: %s}\n", g->stage[i]);
    }
#undef PUT
    g->p = load_policy_text(yaml);
}

static void fmt_month(char out[8], int month)
{
    snprintf(out, 8, "%04d-%02d", 2020 + month / 12, 1 + month % 12);
}

/* A member of g's policy with random imports and a few actions. */
static loy_member *gen_member(const gen_policy *g, rng *r, int seed, rig *t)
{
    char id[64];
    make_id(id, "M-", seed, 1 + pick(r, 30));
    rig_open(t, g->p, id, "2020-01-15");
    loy_member *m = t->m;
    assert_int_equal(loy_member_import_tier(m, g->tier[pick(r, g->tiers)], "2021-03-01"), LOY_OK);
    for (int i = 1; i < g->tiers; i++)
        if (pick(r, 3) == 0)
            assert_int_equal(loy_member_import_gift(m, "upgrade", g->tier[i]), LOY_OK);
    /* birthday gifts: none, one (written without the sort) or several,
     * repeats among them */
    int gifts = pick(r, 4);
    for (int i = 0; i < gifts; i++) {
        char year[8];
        snprintf(year, sizeof year, "%d", 2021 + pick(r, 5));
        assert_int_equal(loy_member_import_gift(m, "birthday", year), LOY_OK);
    }
    int tags = pick(r, 3);
    for (int i = 0; i < tags; i++) {
        char tag[64];
        make_id(tag, "tag", i, 1 + pick(r, 20));
        assert_int_equal(loy_member_add_tag(m, tag), LOY_OK);
    }
    int lots = pick(r, 5);
    for (int i = 0; i < lots; i++) {
        static const int64_t sizes[] = {0, 1, 127, 128, 16383, 16384, 2097151, 2097152, 1000000007};
        char expires[11];
        snprintf(expires, sizeof expires, "2027-%02d-28", 1 + pick(r, 12));
        assert_int_equal(loy_member_import_lot(m, sizes[pick(r, 9)], pick(r, 2) ? expires : NULL), LOY_OK);
    }
    /* months up to 2026-10, for the actions of 2026-11 below */
    int month = pick(r, 12);
    int months = pick(r, 12);
    for (int i = 0; i < months && month < 82; i++) {
        char ym[8];
        fmt_month(ym, month);
        for (int k = 0; k < 4; k++) {
            static const int64_t values[] = {0, 0, 1, 127, 128, 300, 16384, 99999999, 1234567890123};
            int64_t v = values[pick(r, 9)];
            if (k == LOY_METRIC_ORDERS && v > 1000)
                v = 3;
            assert_int_equal(loy_member_import_month(m, (loy_metric)k, ym, v), LOY_OK);
        }
        month += 1 + (pick(r, 4) == 0 ? pick(r, 40) : 0);
    }
    /* an emptied month, as the engine may leave one: written as nothing */
    if (m->month_count && pick(r, 3) == 0) {
        loy_month_bucket *b = &m->months[pick(r, (int)m->month_count)];
        b->spend = b->orders = b->growth = b->points_earned = 0;
    }
    for (int i = 0; i < g->actions; i++)
        if (pick(r, 2)) {
            char ev_id[32];
            snprintf(ev_id, sizeof ev_id, "A-%d", i);
            ev(t, LOY_EVENT_ACTION, ev_id, "2026-11-11T10:00:00+08:00");
            assert_int_equal(loy_event_set_kind(t->e, g->action[i]), LOY_OK);
            assert_int_equal(apply(t), LOY_OK);
        }
    return m;
}

/* Members seen with lots in seq order (no ranks written) and out of it,
 * with an empty month kept in memory, with a gap of 15 months or more. */
static size_t seen_in_seq, seen_out_of_seq, seen_empty_month, seen_long_gap;

/* The same bytes by string numbers and by string compares; the months
 * and lots read back whole by the checked reader. */
static void check_member(gen_policy *g, loy_member *m)
{
    bool in_seq = true;
    for (size_t i = 1; i < m->lot_count; i++)
        in_seq &= m->lots[i - 1].seq < m->lots[i].seq;
    if (m->lot_count > 1)
        *(in_seq ? &seen_in_seq : &seen_out_of_seq) += 1;
    for (size_t i = 0; i < m->month_count; i++) {
        const loy_month_bucket *b = &m->months[i];
        seen_empty_month += !(b->spend | b->orders | b->growth | b->points_earned);
        seen_long_gap += i > 0 && b->month - m->months[i - 1].month > 15;
    }

    blob numbered = state_of(m);
    loy_state_ids keep = g->p->state_ids;
    g->p->state_ids.names = NULL;
    blob compared = state_of(m);
    g->p->state_ids = keep;
    assert_int_equal(numbered.len, compared.len);
    assert_memory_equal(numbered.data, compared.data, numbered.len);

    loy_member *back = NULL;
    assert_int_equal(loy_member_create(&back, g->p), LOY_OK);
    assert_int_equal(loy_state_load_checked(back, numbered.data, numbered.len), LOY_OK);
    size_t k = 0;
    for (size_t i = 0; i < m->month_count; i++) {
        const loy_month_bucket *b = &m->months[i];
        if (!(b->spend | b->orders | b->growth | b->points_earned))
            continue;
        assert_true(k < back->month_count);
        const loy_month_bucket *c = &back->months[k++];
        assert_int_equal(c->month, b->month);
        assert_int_equal(c->spend, b->spend);
        assert_int_equal(c->orders, b->orders);
        assert_int_equal(c->growth, b->growth);
        assert_int_equal(c->points_earned, b->points_earned);
    }
    assert_int_equal(k, back->month_count);
    /* the birthday years, each once */
    for (size_t i = 0; i < m->birthday_year_count; i++) {
        bool found = false;
        for (size_t j = 0; j < back->birthday_year_count; j++)
            found |= back->birthday_years[j] == m->birthday_years[i];
        assert_true(found);
    }
    for (size_t j = 0; j < back->birthday_year_count; j++) {
        bool found = false;
        for (size_t i = 0; i < m->birthday_year_count; i++)
            found |= back->birthday_years[j] == m->birthday_years[i];
        assert_true(found);
        for (size_t i = 0; i < j; i++)
            assert_true(back->birthday_years[i] != back->birthday_years[j]);
    }
    /* the lots, in their places and in the same credit order (the ranks
     * written when they are out of seq order) */
    assert_int_equal(back->lot_count, m->lot_count);
    for (size_t i = 0; i < m->lot_count; i++) {
        const loy_lot *a = &m->lots[i], *c = &back->lots[i];
        assert_int_equal(c->points, a->points);
        assert_int_equal(c->credited, a->credited);
        assert_int_equal(c->expires, a->expires);
        assert_int_equal(c->pending_until, a->pending_until);
        assert_int_equal(c->order_id != NULL, a->order_id != NULL);
        for (size_t j = 0; j < i; j++)
            assert_int_equal(back->lots[j].seq < c->seq, m->lots[j].seq < a->seq);
    }
    assert_state_is(back, &numbered);
    loy_member_free(back);
    assert_round_trip(g->p, &numbered);
    free(numbered.data);
    free(compared.data);
}

static void run(int tiers, int actions, int stages, uint64_t seed, int members, bool few)
{
    rng r = {seed};
    gen_policy *g = calloc(1, sizeof *g);
    assert_non_null(g);
    gen_policy_open(g, &r, tiers, actions, stages);
    uint32_t ids = g->p->state_ids.count;
    assert_true(few ? ids <= 32 : ids > 32 && ids <= 256);
    for (int i = 0; i < members; i++) {
        rig t;
        loy_member *m = gen_member(g, &r, i, &t);
        check_member(g, m);
        t.p = NULL;     /* the policy outlives the member */
        rig_close(&t);
    }
    loy_policy_free(g->p);
    free(g);
}

/* Policies of at most 32 ids: the map is cleared by a constant store. */
static void test_few_ids(void **state)
{
    LOY_UNUSED(state);
    seen_in_seq = seen_out_of_seq = seen_empty_month = seen_long_gap = 0;
    for (uint64_t s = 1; s <= 6; s++)
        run(3 + 4 * (int)s, 1 + (int)s % 3, 1 + (int)s % 2, s, 120, true);
    assert_true(seen_in_seq > 0 && seen_out_of_seq > 0 && seen_empty_month > 0 && seen_long_gap > 0);
}

/* 33 to 64 ids: the map is cleared by its size. */
static void test_many_ids(void **state)
{
    LOY_UNUSED(state);
    for (uint64_t s = 11; s <= 13; s++)
        run(30 + 8 * (int)(s - 11), 8, 4, s, 120, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_few_ids),
        cmocka_unit_test(test_many_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
