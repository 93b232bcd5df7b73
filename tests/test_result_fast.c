/*
 * The answer of loy_apply is built in fixed-shape blocks (lib/result.h):
 * the root and its event id in one take (rn_root3, with the general road
 * rn_root3_slow), effects chained as they are laid out (rn_effect_take,
 * rn_sib, rn_effect_done). rn_root3 is compared with its general road for
 * every id length up to 40, on ids allocated to the exact length so that
 * the sanitizer refuses a read past them, and across arena chunk
 * boundaries. Answers of real decisions under the reference policies are
 * checked to be well formed: every map and list counts, and ends at, the
 * children its chain holds. Orders, actions, redeems, returns and paid
 * plans are mixed in, so that every effect laid out in one take is met,
 * and a benefits query after each event checks the query's root.
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
#include "result.h"

static loy_policy *load(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/policies/%s", LOY_SPEC_DIR, name);
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_file(&p, path, NULL), LOY_OK);
    return p;
}

/* Every container's count and last agree with its chain; returns the nodes
 * under n. */
static size_t check_tree(const loy_node *n)
{
    if (n->kind != LOY_NODE_MAP && n->kind != LOY_NODE_LIST)
        return 0;
    size_t walked = 0, below = 0;
    const loy_node *last = NULL;
    for (const loy_node *c = n->first; c; c = c->next) {
        walked++;
        last = c;
        if (n->kind == LOY_NODE_MAP)
            assert_non_null(c->key);
        else
            assert_null(c->key);
        below += check_tree(c);
    }
    assert_int_equal(walked, n->count);
    assert_ptr_equal(last, n->last);
    return walked + below;
}

static void same_tree(const loy_node *a, const loy_node *b)
{
    assert_int_equal(loy_node_type(a), loy_node_type(b));
    const char *ka = loy_node_key(a), *kb = loy_node_key(b);
    assert_true((ka == NULL) == (kb == NULL));
    if (ka)
        assert_string_equal(ka, kb);
    switch (loy_node_type(a)) {
    case LOY_NODE_STRING:
    case LOY_NODE_DECIMAL: {
        size_t la, lb;
        const char *sa = loy_node_str(a, &la), *sb = loy_node_str(b, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(sa, sb, la);
        assert_int_equal(sa[la], '\0');
        break;
    }
    case LOY_NODE_INT:
        assert_int_equal(loy_node_int(a), loy_node_int(b));
        break;
    case LOY_NODE_BOOL:
        assert_int_equal(loy_node_bool(a), loy_node_bool(b));
        break;
    case LOY_NODE_MAP:
    case LOY_NODE_LIST: {
        assert_int_equal(loy_node_count(a), loy_node_count(b));
        const loy_node *ca = loy_node_first(a), *cb = loy_node_first(b);
        for (; ca && cb; ca = loy_node_next(ca), cb = loy_node_next(cb))
            same_tree(ca, cb);
        assert_null(ca);
        assert_null(cb);
        break;
    }
    default:
        break;
    }
}

static loy_node *root_with(loy_result *r, const char *id, size_t len, bool general)
{
    loy_node *list = rn_list(r);
    rn_push(list, rn_int(r, (int64_t)len));
    loy_node *map = rn_map(r);
    rn_put_str(r, map, "tier", "t");
    loy_node *root = general ? rn_root3_slow(r, "event", id, len, "effects", list, "member", map)
                             : rn_root3(r, "event", id, len, "effects", list, "member", map);
    rn_put_int(r, root, "extra", 7);     /* as put_extras appends after it */
    return root;
}

static void root_fast_matches_general(void **state)
{
    (void)state;
    loy_policy *p = load("minimal.yaml");
    loy_result *fast = NULL, *general = NULL;
    assert_int_equal(loy_result_new(&fast, p), LOY_OK);
    assert_int_equal(loy_result_new(&general, p), LOY_OK);
    /* many roots without a reset, so that some meet the end of a chunk */
    for (int round = 0; round < 60; round++) {
        loy_result_begin(fast);
        loy_result_begin(general);
        for (int k = 0; k < round; k++)
            rn_null(fast);
        for (size_t len = 0; len <= 40; len++) {
            char *id = malloc(len ? len : 1);
            assert_non_null(id);
            for (size_t i = 0; i < len; i++)
                id[i] = (char)('A' + (i * 7 + len + (size_t)round) % 26);
            loy_node *a = root_with(fast, id, len, false);
            loy_node *b = root_with(general, id, len, true);
            free(id);
            assert_false(fast->nomem);
            assert_false(general->nomem);
            check_tree(a);
            same_tree(a, b);
            assert_int_equal(loy_node_count(a), 4);
        }
    }
    loy_result_free(fast);
    loy_result_free(general);
    loy_policy_free(p);
}

typedef struct {
    uint64_t s;
} rng;

static uint32_t pick(rng *r, uint32_t n)
{
    r->s = r->s * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(r->s >> 33) % n;
}

/* loy_result_begin against loy_result_begin_general from the same result,
 * after takes of many sizes that leave the head on the first chunk or on
 * a later one, with the answer's fields dirty. */
static void begin_fast_matches_general(void **state)
{
    (void)state;
    loy_policy *p = load("minimal.yaml");
    loy_result *r = NULL;
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    rng g = {12345};
    int later = 0, first = 0;
    for (int round = 0; round < 400; round++) {
        uint32_t takes = pick(&g, 60);
        for (uint32_t k = 0; k < takes; k++)
            assert_non_null(loy_arena_take(&r->arena, 1 + pick(&g, k % 7 == 0 ? 9000 : 300)));
        r->code = LOY_E_NOMEM;
        r->message = "dirty";
        r->nomem = pick(&g, 2);
        r->root = r->effects = r->trace = rn_null(r);
        r->json_valid = r->state_valid = true;
        if (r->arena.head == r->arena.first)
            first++;
        else
            later++;
        loy_result saved = *r;
        loy_result_begin_general(r);
        loy_result general = *r;
        *r = saved;
        loy_result_begin(r);
        assert_ptr_equal(r->arena.head, general.arena.head);
        assert_ptr_equal(r->arena.first, general.arena.first);
        assert_int_equal(r->arena.used, general.arena.used);
        assert_ptr_equal(r->arena.head_data, general.arena.head_data);
        assert_int_equal(r->arena.head_size, general.arena.head_size);
        assert_ptr_equal(r->arena.alloc, general.arena.alloc);
        assert_int_equal(r->code, general.code);
        assert_string_equal(r->message, general.message);
        assert_int_equal(r->nomem, general.nomem);
        assert_null(r->root);
        assert_null(r->effects);
        assert_null(r->trace);
        assert_int_equal(r->json_valid, general.json_valid);
        assert_int_equal(r->state_valid, general.state_valid);
    }
    /* both roads were taken */
    assert_true(first > 20 && later > 20);
    loy_result_free(r);
    loy_policy_free(p);
}

static void answers_well_formed(void **state)
{
    (void)state;
    static const char *const policies[] = {"minimal.yaml", "grocery.yaml", "apparel.yaml"};
    static const char *const cats[] = {"produce", "dairy", "bakery", "tops", "shoes", "x"};
    /* points effects, gift effects, tier changes, points with rules; then
     * the points of an action, a redeem and a return, paid_started
     * (and extended), paid_ended, stage_changed */
    size_t seen[11] = {0};
    static const char *const kinds[] = {"signup", "review", "share", "referral"};
    static const char *const plans[] = {"monthly", "annual", "none"};
    for (size_t k = 0; k < 3; k++) {
        loy_policy *p = load(policies[k]);
        rng r = {k + 1};
        for (int who = 0; who < 20; who++) {
            loy_member *m = NULL;
            loy_result *res = NULL;
            loy_event *e = NULL;
            char mid[32];
            snprintf(mid, sizeof mid, "M-%d", who);
            assert_int_equal(loy_member_new(&m, p, mid, "2024-01-01"), LOY_OK);
            assert_int_equal(loy_member_set_birthday(m, "1990-03-15"), LOY_OK);
            assert_int_equal(loy_result_new(&res, p), LOY_OK);
            assert_int_equal(loy_event_new(&e, p), LOY_OK);
            if (who % 2)
                loy_result_set_options(res, LOY_RESULT_TRACE);
            char last_order[48] = "none", last_at[40] = "2024-01-01T10:00:00+00:00";
            for (int i = 0; i < 120; i++) {
                char id[48], at[40];
                size_t len = 1 + pick(&r, 40);
                int n = snprintf(id, sizeof id, "%d-", i);
                for (size_t j = (size_t)n; j < len; j++)
                    id[j] = (char)('a' + pick(&r, 26));
                id[len > (size_t)n ? len : (size_t)n] = '\0';
                snprintf(at, sizeof at, "2024-%02d-%02dT10:00:00+00:00", 1 + i / 11, 1 + i % 11 * 2);
                /* mostly orders; the other kinds for the effects they make */
                uint32_t what = i < 4 ? 0 : pick(&r, 10);
                if (what == 6) {
                    assert_int_equal(loy_event_reset(e, LOY_EVENT_ACTION, id, at), LOY_OK);
                    assert_int_equal(loy_event_set_kind(e, kinds[pick(&r, 4)]), LOY_OK);
                } else if (what == 7) {
                    assert_int_equal(loy_event_reset(e, LOY_EVENT_REDEEM, id, at), LOY_OK);
                    assert_int_equal(loy_event_set_points(e, 1 + pick(&r, 300)), LOY_OK);
                    assert_int_equal(loy_event_set_order_amount(e, 1000 + pick(&r, 50000)), LOY_OK);
                } else if (what == 8) {
                    assert_int_equal(loy_event_reset(e, LOY_EVENT_RETURN, id, at), LOY_OK);
                    assert_int_equal(loy_event_set_original(e, last_order, last_at, 100 + pick(&r, 5000),
                                                            pick(&r, 200)),
                                     LOY_OK);
                    assert_int_equal(loy_event_set_amount(e, 1 + pick(&r, 100)), LOY_OK);
                } else if (what == 9) {
                    assert_int_equal(loy_event_reset(e, LOY_EVENT_JOIN_PAID, id, at), LOY_OK);
                    assert_int_equal(loy_event_set_plan(e, plans[pick(&r, 3)]), LOY_OK);
                } else {
                    assert_int_equal(loy_event_reset(e, LOY_EVENT_ORDER, id, at), LOY_OK);
                    for (uint32_t l = 0, lines = 1 + pick(&r, 4); l < lines; l++)
                        assert_int_equal(loy_event_add_line(e, NULL, cats[pick(&r, 6)],
                                                            100 + (int64_t)pick(&r, 50000),
                                                            1 + pick(&r, 3)),
                                         LOY_OK);
                }
                int rc = loy_apply(p, m, e, res);
                if (rc == LOY_OK && what < 6) {
                    snprintf(last_order, sizeof last_order, "%s", id);
                    snprintf(last_at, sizeof last_at, "%s", at);
                }
                const loy_node *root = loy_result_root(res);
                assert_non_null(root);
                check_tree(root);
                size_t got;
                const char *ev = loy_node_str(loy_node_get(root, "event"), &got);
                assert_non_null(ev);
                assert_int_equal(got, strlen(id));
                assert_string_equal(ev, id);
                if (rc == LOY_OK) {
                    for (const loy_node *x = loy_node_first(loy_node_get(root, "effects")); x;
                         x = loy_node_next(x)) {
                        const char *type = loy_node_str(loy_node_get(x, "type"), NULL);
                        seen[0] += strcmp(type, "points") == 0;
                        seen[1] += strcmp(type, "gift") == 0;
                        seen[2] += strcmp(type, "tier_changed") == 0;
                        seen[3] += loy_node_count(loy_node_get(x, "rules")) > 0;
                        const char *source = loy_node_str(loy_node_get(x, "source"), NULL);
                        if (strcmp(type, "points") == 0 && source) {
                            seen[4] += strcmp(source, "action") == 0;
                            seen[5] += strcmp(source, "redeem") == 0;
                            seen[6] += strcmp(source, "return") == 0;
                        }
                        seen[7] += strcmp(type, "paid_started") == 0;
                        seen[10] += loy_node_get(x, "extended") != NULL;
                        seen[8] += strcmp(type, "paid_ended") == 0;
                        seen[9] += strcmp(type, "stage_changed") == 0;
                    }
                    const loy_node *first = loy_node_first(root);
                    assert_string_equal(loy_node_key(first), "event");
                    assert_string_equal(loy_node_key(loy_node_next(first)), "effects");
                    assert_string_equal(loy_node_key(loy_node_next(loy_node_next(first))), "member");
                }
                /* the query's root: two takes, the query put in front */
                assert_int_equal(loy_query_benefits(p, m, at, i % 3 ? "app" : NULL, NULL, res), LOY_OK);
                const loy_node *q = loy_result_root(res);
                check_tree(q);
                const loy_node *f = loy_node_first(q);
                assert_string_equal(loy_node_key(f), "query");
                assert_string_equal(loy_node_str(f, NULL), "benefits");
                f = loy_node_next(f);
                assert_string_equal(loy_node_key(f), "at");
                size_t at_len;
                assert_string_equal(loy_node_str(f, &at_len), at);
                assert_int_equal(at_len, strlen(at));
                f = loy_node_next(f);
                assert_string_equal(loy_node_key(f), "benefits");
                f = loy_node_next(f);
                assert_string_equal(loy_node_key(f), "member");
                assert_int_equal(loy_node_count(q), who % 2 ? 5 : 4);
            }
            loy_event_free(e);
            loy_result_free(res);
            loy_member_free(m);
        }
        loy_policy_free(p);
    }
    /* the shapes built in one block were all met */
    printf("# effects: points %zu, gift %zu, tier_changed %zu, with rules %zu\n", seen[0], seen[1],
           seen[2], seen[3]);
    printf("# points of action %zu, redeem %zu, return %zu; paid_started %zu, paid_ended %zu, "
           "stage_changed %zu, extended %zu\n",
           seen[4], seen[5], seen[6], seen[7], seen[8], seen[9], seen[10]);
    for (size_t i = 0; i < 11; i++)
        assert_true(seen[i] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(root_fast_matches_general),
        cmocka_unit_test(answers_well_formed),
        cmocka_unit_test(begin_fast_matches_general),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
