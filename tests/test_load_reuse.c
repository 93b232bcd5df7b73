/*
 * A handle loaded again and again (lib/state/load.c): after an accepted
 * load its scratch is not cleared but keeps the previous state's lots and
 * tags with their strings, which the next load writes over or gives back.
 * These tests hold that shortcut against the general path, a fresh handle
 * per load: many generated states loaded in random order into one handle
 * (with events applied in between, so that the scratch takes states the
 * engine made) give the same bytes and the same answers; and a load
 * refused at any point (damaged bytes, every allocation failure) after a
 * big state leaves the handle's bytes as they were, and the next load
 * still reads right.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "state_support.h"
#include "support/fault_alloc.h"

/* Pending points (lots with order ids), expiry, tags, ledgers. */
static const char POLICY[] =
    "loyalty_policy: 1\n"
    "tiers:\n"
    "  qualify_on: spend\n"
    "  window: 12_months\n"
    "  levels:\n"
    "    - {id: member}\n"
    "    - {id: silver, at: 1000}\n"
    "    - {id: gold, at: 3000}\n"
    "points:\n"
    "  earn:\n"
    "    rate: {amount: 1, points: 1}\n"
    "  actions:\n"
    "    review: {points: 10, limit: {count: 3, per: month}}\n"
    "  pending_days: 7\n"
    "  expiry: {after_months: 12}\n"
    "  redeem: {rate: {points: 100, amount: 1}}\n"
    "gifts:\n"
    "  upgrade: {by_tier: {silver: {points: 200}, gold: {points: 500}}}\n"
    "  surprise:\n"
    "    - {id: s-year, reward: {coupons: [S2]}, once: per_year}\n"
    "benefits:\n"
    "  - {id: lounge, kind: service, limit: {count: 1, per: year}}\n";

#define MAX_STATES 160

typedef struct states {
    blob b[MAX_STATES];
    size_t n;
} states;

static void keep(states *s, loy_member *m)
{
    assert_true(s->n < MAX_STATES);
    s->b[s->n++] = state_of(m);
}

/* One member's history, its state kept after every event: lots pending
 * and released, with and without order ids, counts rising and falling,
 * tags coming and going (long ones too, so buffers are outgrown). */
static void history(loy_policy *p, states *s, const char *member, uint64_t seed)
{
    rig t;
    rig_open_untraced(&t, p, member, "2025-01-01");
    if (seed % 2)
        assert_int_equal(loy_member_add_tag(t.m, "imported-tag"), LOY_OK);
    if (seed % 3 == 0)
        assert_int_equal(loy_member_import_lot(t.m, 250, NULL), LOY_OK);
    keep(s, t.m);
    char id[48], at[48];
    int day = 0;
    for (int k = 0; k < 30; k++) {
        day += 1 + (int)(lcg(&seed) % 9);
        int mo = 1 + (day / 28) % 12, d = 1 + day % 28, y = 2025 + day / 336;
        snprintf(at, sizeof at, "%04d-%02d-%02dT10:00:00+08:00", y, mo, d);
        unsigned what = (unsigned)(lcg(&seed) % 10);
        if (what < 6) {
            /* order ids of many lengths, up to past 40 bytes */
            size_t len = 3 + lcg(&seed) % 40;
            int n = snprintf(id, sizeof id, "O-%s-%d-", member, k);
            for (size_t i = (size_t)n; i < len && i + 1 < sizeof id; i++)
                id[i] = (char)('a' + (i + (size_t)k) % 26);
            if ((size_t)n < len && len < sizeof id)
                id[len] = '\0';
            ev(&t, LOY_EVENT_ORDER, id, at);
            ev_line(&t, "SKU", "shirts", 1000 + (int64_t)(lcg(&seed) % 90000));
        } else if (what < 7) {
            snprintf(id, sizeof id, "T-%s-%d", member, k);
            ev(&t, LOY_EVENT_TICK, id, at);
        } else if (what < 8) {
            snprintf(id, sizeof id, "A-%s-%d", member, k);
            ev(&t, LOY_EVENT_ACTION, id, at);
            assert_int_equal(loy_event_set_kind(t.e, "review"), LOY_OK);
        } else if (what < 9) {
            snprintf(id, sizeof id, "P-%s-%d", member, k);
            ev(&t, LOY_EVENT_PROFILE, id, at);
            assert_int_equal(loy_event_clear_tags(t.e), LOY_OK);
            int tags = (int)(lcg(&seed) % 4);
            for (int i = 0; i < tags; i++) {
                char tag[40];
                snprintf(tag, sizeof tag, "tag-%d-%.*s", i, (int)(lcg(&seed) % 24), "xxxxxxxxxxxxxxxxxxxxxxxxxxxx");
                assert_int_equal(loy_event_add_tag(t.e, tag), LOY_OK);
            }
        } else {
            snprintf(id, sizeof id, "X-%s-%d", member, k);
            ev(&t, LOY_EVENT_REDEEM, id, at);
            assert_int_equal(loy_event_set_points(t.e, 100), LOY_OK);
            assert_int_equal(loy_event_set_order_amount(t.e, 50000), LOY_OK);
        }
        apply(&t);      /* refused events (a redemption short of points) are fine */
        keep(s, t.m);
    }
    loy_result_free(t.r);
    loy_event_free(t.e);
    loy_member_free(t.m);
}

static void make_states(loy_policy *p, states *s)
{
    s->n = 0;
    history(p, s, "ALICE", 1);
    history(p, s, "BOB", 2);
    history(p, s, "CAROL-WITH-A-LONGER-ID", 3);
    history(p, s, "D", 6);
}

static void free_states(states *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->b[i].data);
    s->n = 0;
}

/* An order applied to a loaded member, to compare two handles' answers. */
static void order_on(loy_policy *p, loy_member *m, loy_event *e, loy_result *r, int k, int *code, char **json)
{
    char id[32];
    snprintf(id, sizeof id, "NEXT-%d", k);
    assert_int_equal(loy_event_reset(e, LOY_EVENT_ORDER, id, "2027-06-01T12:00:00+08:00"), LOY_OK);
    assert_int_equal(loy_event_add_line(e, "SKU", "shirts", 12345, 1), LOY_OK);
    *code = loy_apply(p, m, e, r);
    size_t len;
    const char *text = loy_result_json(r, &len);
    assert_non_null(text);
    *json = strndup(text, len);
}

/* Loads into one reused handle against loads into a fresh handle each. */
static void test_reused_against_fresh(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_text(POLICY);
    states s;
    make_states(p, &s);
    loy_member *h = NULL;
    assert_int_equal(loy_member_create(&h, p), LOY_OK);
    loy_event *e = NULL;
    loy_result *r1 = NULL, *r2 = NULL;
    assert_int_equal(loy_event_new(&e, p), LOY_OK);
    assert_int_equal(loy_result_new(&r1, p), LOY_OK);
    assert_int_equal(loy_result_new(&r2, p), LOY_OK);
    uint64_t seed = 12345;
    for (int k = 0; k < 3000; k++) {
        const blob *b = &s.b[lcg(&seed) % s.n];
        assert_int_equal(loy_member_load(h, b->data, b->len), LOY_OK);
        assert_state_is(h, b);
        if (lcg(&seed) % 3 == 0) {
            /* an event on both: the reused handle's strings and spares
             * must serve the engine as a fresh handle's do */
            loy_member *f = loaded(p, b);
            int c1, c2;
            char *j1, *j2;
            order_on(p, h, e, r1, k, &c1, &j1);
            order_on(p, f, e, r2, k, &c2, &j2);
            assert_int_equal(c1, c2);
            assert_string_equal(j1, j2);
            blob fb = state_of(f);
            assert_state_is(h, &fb);
            free(fb.data);
            free(j1);
            free(j2);
            loy_member_free(f);
        }
    }
    loy_result_free(r1);
    loy_result_free(r2);
    loy_event_free(e);
    loy_member_free(h);
    free_states(&s);
    loy_policy_free(p);
}

/* The state with the most lots, and with tags. */
static size_t biggest(const states *s)
{
    size_t best = 0;
    for (size_t i = 1; i < s->n; i++)
        if (s->b[i].len > s->b[best].len)
            best = i;
    return best;
}

/* After a big state, a refused load (damaged bytes) leaves the handle as
 * it was, and a good load then reads right. */
static void test_refused_after_big(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_text(POLICY);
    states s;
    make_states(p, &s);
    size_t big = biggest(&s);
    loy_member *h = NULL;
    assert_int_equal(loy_member_create(&h, p), LOY_OK);
    uint64_t seed = 777;
    for (size_t i = 0; i < s.n; i++) {
        /* the scratch holds the big state's lots and tags, or those of i */
        assert_int_equal(loy_member_load(h, s.b[big].data, s.b[big].len), LOY_OK);
        if (i % 2)
            assert_int_equal(loy_member_load(h, s.b[i].data, s.b[i].len), LOY_OK);
        blob before = state_of(h);
        const blob *src = &s.b[(i + 1) % s.n];
        for (int k = 0; k < 40; k++) {
            blob d = blob_of(src->data, src->len);
            /* damage the payload past the header, then reseal the checksum
             * so that the decoder, not the checksum, refuses it */
            size_t at = 12 + lcg(&seed) % (d.len - 20);
            d.data[at] ^= (uint8_t)(1u << (lcg(&seed) % 8));
            if (k % 4 == 0 && at + 1 < d.len - 8)
                d.data[at + 1] = (uint8_t)lcg(&seed);
            reseal(&d);
            int rc = loy_member_load(h, d.data, d.len);
            if (rc != LOY_OK) {
                assert_state_is(h, &before);
            } else {
                /* damage that still reads: the reused handle agrees with a fresh one */
                loy_member *f = loaded(p, &d);
                blob fb = state_of(f);
                assert_state_is(h, &fb);
                free(fb.data);
                loy_member_free(f);
                free(before.data);
                before = state_of(h);
            }
            free(d.data);
        }
        assert_int_equal(loy_member_load(h, src->data, src->len), LOY_OK);
        assert_state_is(h, src);
        free(before.data);
    }
    loy_member_free(h);
    free_states(&s);
    loy_policy_free(p);
}

/* After a big state, every allocation failure of a load leaves the handle
 * as it was, nothing leaks, and the next load reads right. */
static void test_nomem_after_big(void **state)
{
    LOY_UNUSED(state);
    fault_alloc fa = {.countdown = -1};
    loy_allocator a = {fault_malloc, fault_realloc, fault_free, &fa};
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer_ex(&p, POLICY, strlen(POLICY), "test.yaml", NULL, &a), LOY_OK);
    states s;
    make_states(p, &s);
    size_t big = biggest(&s);
    long base_live = fa.live;
    long hits = 0;
    for (size_t i = 0; i < s.n; i += 3) {
        const blob *src = &s.b[i];
        for (long k = 0; k < 64; k++) {
            for (int sticky = 0; sticky < 2; sticky++) {
                loy_member *h = NULL;
                assert_int_equal(loy_member_create(&h, p), LOY_OK);
                assert_int_equal(loy_member_load(h, s.b[big].data, s.b[big].len), LOY_OK);
                if (k % 2)
                    assert_int_equal(loy_member_load(h, s.b[(i + 7) % s.n].data, s.b[(i + 7) % s.n].len),
                                     LOY_OK);
                blob before = state_of(h);
                arm(&fa, k, sticky);
                int rc = loy_member_load(h, src->data, src->len);
                long failures = fa.failures;
                disarm(&fa);
                if (rc == LOY_E_NOMEM) {
                    assert_true(failures > 0);
                    assert_state_is(h, &before);
                    hits++;
                } else {
                    assert_int_equal(rc, LOY_OK);
                    assert_state_is(h, src);
                }
                assert_int_equal(loy_member_load(h, src->data, src->len), LOY_OK);
                assert_state_is(h, src);
                free(before.data);
                loy_member_free(h);
                assert_int_equal(fa.live, base_live);
            }
        }
    }
    assert_true(hits > 0);
    free_states(&s);
    loy_policy_free(p);
    assert_int_equal(fa.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reused_against_fresh),
        cmocka_unit_test(test_refused_after_big),
        cmocka_unit_test(test_nomem_after_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
