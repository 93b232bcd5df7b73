/*
 * The loader's own drops of its scratch's strings (lib/state/load.c:
 * scratch_drop_id, scratch_keep_lots): a lot order id the next state does
 * not need goes straight onto the scratch's spare list when the list has
 * room, and through loy_member_drop_str / loy_member_keep_lots when not.
 * Held against the general path, a fresh handle per load: states with
 * fewer and more lots, short and long order ids, pending lots released,
 * loaded in random order into one reused handle, with refused loads and
 * applied orders in between (so the spare list fills, empties and grows),
 * give the same member (lots, ids, tags) and the same bytes, no string
 * has two owners and none is lost. Also: the
 * loader's day-range constants are lib/date.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "state_support.h"
#include "date.h"
#include "support/fault_alloc.h"

static const char POLICY[] =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  window: 12_months\n"
    "  levels:\n"
    "    - {id: member}\n"
    "    - {id: silver, at: 1000}\n"
    "points:\n"
    "  earn:\n"
    "    rate: {amount: 1, points: 1}\n"
    "  pending_days: 20\n"
    "  expiry: {after_months: 12}\n"
    "  redeem: {rate: {points: 100, amount: 1}}\n";

#define MAX_STATES 400

typedef struct states {
    blob b[MAX_STATES];
    size_t n;
} states;

static void keep(states *s, loy_member *m)
{
    assert_true(s->n < MAX_STATES);
    s->b[s->n++] = state_of(m);
}

/* A history of bursts of orders (many pending lots with ids of 1..60
 * bytes) and quiet gaps (the lots release and lose their ids). */
static void history(loy_policy *p, states *s, const char *member, uint64_t seed)
{
    rig t;
    rig_open_untraced(&t, p, member, "2025-01-01");
    keep(s, t.m);
    char id[72], at[48];
    int day = 0;
    for (int k = 0; k < 90; k++) {
        bool gap = lcg(&seed) % 8 == 0;
        day += gap ? 25 + (int)(lcg(&seed) % 20) : (int)(lcg(&seed) % 3);
        int mo = 1 + (day / 28) % 12, d = 1 + day % 28, y = 2025 + day / 336;
        snprintf(at, sizeof at, "%04d-%02d-%02dT%02d:00:00+00:00", y, mo, d, (int)(k % 24));
        if (gap || lcg(&seed) % 6 == 0) {
            snprintf(id, sizeof id, "T%d", k);
            ev(&t, LOY_EVENT_TICK, id, at);
        } else {
            size_t len = 1 + lcg(&seed) % 60;
            for (size_t i = 0; i < len; i++)
                id[i] = (char)('a' + (i * 7 + (size_t)k) % 26);
            id[len] = '\0';
            id[0] = (char)('A' + k % 26);
            ev(&t, LOY_EVENT_ORDER, id, at);
            ev_line(&t, "SKU", "shirts", 100 + (int64_t)(lcg(&seed) % 9000));
        }
        apply(&t);
        keep(s, t.m);
    }
    loy_result_free(t.r);
    loy_event_free(t.e);
    loy_member_free(t.m);
}

/* The member as the engine sees it: lots with their ids, and tags. */
static void assert_same_member(loy_member *a, loy_member *b)
{
    assert_int_equal(a->lot_count, b->lot_count);
    for (size_t i = 0; i < a->lot_count; i++) {
        const loy_lot *x = &a->lots[i], *y = &b->lots[i];
        assert_int_equal(x->points, y->points);
        assert_int_equal(x->expires, y->expires);
        assert_int_equal(x->pending_until, y->pending_until);
        assert_int_equal(x->credited, y->credited);
        assert_int_equal(x->seq, y->seq);
        assert_int_equal(x->order_id == NULL, y->order_id == NULL);
        if (x->order_id)
            assert_string_equal(x->order_id, y->order_id);
    }
    assert_int_equal(a->tag_count, b->tag_count);
    for (size_t i = 0; i < a->tag_count; i++)
        assert_string_equal(a->tags[i], b->tags[i]);
    assert_int_equal(a->next_seq, b->next_seq);
    blob fb = state_of(b);
    assert_state_is(a, &fb);
    free(fb.data);
}

/* No two owners of one string: the scratch's lots, the handle's lots and
 * both spare lists name distinct buffers (a double drop would free twice
 * under ASan later; this says where). */
static void assert_distinct_strings(loy_member *m)
{
    const char *seen[4096];
    size_t n = 0;
    loy_member *hs[2] = {m, m->load_scratch};
    for (int h = 0; h < 2; h++) {
        loy_member *x = hs[h];
        if (!x)
            continue;
        for (size_t i = 0; i < x->lot_count; i++)
            if (x->lots[i].order_id) {
                assert_true(n < 4096);
                seen[n++] = x->lots[i].order_id;
            }
        for (size_t i = 0; i < x->spare_count; i++) {
            assert_non_null(x->spare[i].s);
            assert_true(n < 4096);
            seen[n++] = x->spare[i].s;
        }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_true(seen[i] != seen[j]);
}

static void test_drops_against_fresh(void **state)
{
    LOY_UNUSED(state);
    /* never failing: it counts the blocks live, so a string dropped by
     * neither path (a leak) shows here, not only under LeakSanitizer */
    fault_alloc fa = {.countdown = -1};
    loy_allocator a = {fault_malloc, fault_realloc, fault_free, &fa};
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer_ex(&p, POLICY, strlen(POLICY), "test.yaml", NULL, &a), LOY_OK);
    long base_live = fa.live;
    states s;
    s.n = 0;
    history(p, &s, "A", 11);
    history(p, &s, "BEE-WITH-A-LONGER-MEMBER-ID", 22);
    history(p, &s, "C", 33);
    history(p, &s, "D", 44);
    loy_member *h = NULL;
    assert_int_equal(loy_member_create(&h, p), LOY_OK);
    loy_event *e = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_event_new(&e, p), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    uint64_t seed = 99;
    for (int k = 0; k < 4000; k++) {
        const blob *b = &s.b[lcg(&seed) % s.n];
        unsigned what = (unsigned)(lcg(&seed) % 8);
        if (what == 0) {
            /* a refused load: damaged, resealed, so the decoder refuses */
            blob before = state_of(h);
            blob d = blob_of(b->data, b->len);
            size_t at = 12 + lcg(&seed) % (d.len - 20);
            d.data[at] ^= (uint8_t)(1u << (lcg(&seed) % 8));
            reseal(&d);
            if (loy_member_load(h, d.data, d.len) != LOY_OK)
                assert_state_is(h, &before);
            free(d.data);
            free(before.data);
        }
        assert_int_equal(loy_member_load(h, b->data, b->len), LOY_OK);
        loy_member *f = loaded(p, b);
        assert_same_member(h, f);
        assert_distinct_strings(h);
        if (what <= 2) {
            /* the engine takes spares for new order ids and gives back */
            char id[64];
            snprintf(id, sizeof id, "NEXT-%d-%.*s", k, (int)(lcg(&seed) % 40),
                     "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
            assert_int_equal(loy_event_reset(e, LOY_EVENT_ORDER, id, "2029-06-01T12:00:00+00:00"), LOY_OK);
            assert_int_equal(loy_event_add_line(e, "SKU", "shirts", 4321, 1), LOY_OK);
            int c1 = loy_apply(p, h, e, r);
            int c2 = loy_apply(p, f, e, r);
            assert_int_equal(c1, c2);
            assert_same_member(h, f);
            assert_distinct_strings(h);
        }
        loy_member_free(f);
    }
    loy_result_free(r);
    loy_event_free(e);
    loy_member_free(h);
    assert_int_equal(fa.live, base_live);
    for (size_t i = 0; i < s.n; i++)
        free(s.b[i].data);
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);
}

/* lib/state/load.c reads dates against 0000-01-01..9999-12-31 as
 * constants: they must be lib/date.c's. */
static void test_day_range_constants(void **state)
{
    LOY_UNUSED(state);
    assert_int_equal(loy_day_min(), -719528);
    assert_int_equal(loy_day_max(), 2932896);
    assert_int_equal(loy_day_min(), day_of("0000-01-01"));
    assert_int_equal(loy_day_max(), day_of("9999-12-31"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drops_against_fresh),
        cmocka_unit_test(test_day_range_constants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
