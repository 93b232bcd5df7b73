/*
 * `loyalty simulate` (cli/simulate.c) as a process: totals checked against
 * a hand-verified history (the golden apparel member, tests/golden/README.md,
 * plus one small member), against a replay of a generated history through
 * the C API, and against the points identity; --compare; input errors;
 * --jobs N gives the same bytes as one thread, bad lines included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loyalty.h"
#include "core.h"
#include "wire/json.h"
#include "support/wire_support.h"

#define APPAREL LOY_SPEC_DIR "/policies/apparel.yaml"
#define GROCERY LOY_SPEC_DIR "/policies/grocery.yaml"
#define MINIMAL LOY_SPEC_DIR "/policies/minimal.yaml"

static const char *tmp_path(const char *name)
{
    static char paths[8][4096];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 4096, "%s/%s", loy_test_tmpdir(), name);
    return p;
}

/* simulate --json: the report parsed (into the caller's arena). */
static const loy_json *report(loy_arena *arena, const char *policy, const char *history, const char *other)
{
    const char *argv[] = {LOY_CLI, "simulate", policy, history, "--json", other ? "--compare" : NULL, other, NULL};
    loy_test_run run;
    assert_true(loy_test_spawn(argv, &run));
    if (run.status != 0)
        fail_msg("simulate exited %d: %s", run.status, run.err);
    char *copy = loy_arena_strndup(arena, run.out, run.out_len);
    loy_json_error err;
    const loy_json *root = loy_json_parse(arena, copy, run.out_len, 1, &err);
    if (!root)
        fail_msg("not JSON (%u:%u %s): %s", err.line, err.column, err.message, run.out);
    loy_test_run_free(&run);
    return root;
}

/* A number at a dotted path ("points.issued_by_source.order"). */
static int64_t num(const loy_json *obj, const char *path)
{
    char key[128];
    const char *p = path;
    const loy_json *v = obj;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        v = loy_json_get(v, key);
        if (!v)
            fail_msg("no '%s' in the report", path);
        p += n + (dot ? 1 : 0);
    }
    int64_t out = 0;
    if (v->type != LOY_JSON_NUMBER || loy_json_int(v, &out) != LOY_JSON_INT_OK)
        fail_msg("'%s' is not an integer", path);
    return out;
}

#define EXPECT(run, path, value)                                                              \
    do {                                                                                      \
        int64_t got_ = num(run, path);                                                        \
        if (got_ != (int64_t)(value))                                                         \
            fail_msg("%s: %lld, expected %lld", path, (long long)got_, (long long)(value));  \
    } while (0)

static const loy_json *run_at(const loy_json *root, size_t i)
{
    const loy_json *r = loy_json_get(root, "runs")->first;
    while (r && i--)
        r = r->next;
    assert_non_null(r);
    return r;
}

/* The first cell after a row's label in the readable table. */
static const char *table_cell(const char *table, const char *label)
{
    static char cell[64];
    size_t n = strlen(label);
    for (const char *line = table; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, label, n) != 0 || line[n] != ' ')
            continue;
        const char *p = line + n;
        while (*p == ' ')
            p++;
        size_t k = strcspn(p, " \n");
        snprintf(cell, sizeof cell, "%.*s", (int)k, p);
        return cell;
    }
    fail_msg("no row '%s' in:\n%s", label, table);
    return NULL;
}

/* ------------------------------------------------- a hand-verified history */

/* The golden apparel member (every figure derived in tests/golden/README.md)
 * and S-2: one 500.00 order on 2026-03-03 (no multiplier; 500 points pending
 * to 03-10, below silver), released by a tick on 03-10. */
static void hand_verified_totals(void **state)
{
    (void)state;
    size_t len;
    char *golden = loy_test_read_file(LOY_TEST_DIR "/golden/apparel.jsonl", &len);
    assert_non_null(golden);
    const char *s2 = "{\"member\": {\"id\": \"S-2\", \"joined\": \"2026-01-01\"}}\n"
                     "{\"type\": \"order\", \"id\": \"O-1\", \"at\": \"2026-03-03T10:00:00+08:00\", "
                     "\"lines\": [{\"sku\": \"TEE\", \"category\": \"tees\", \"amount\": 50000}]}\n"
                     "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2026-03-10T10:00:00+08:00\"}\n";
    size_t total = len + strlen(s2);
    char *history = malloc(total + 1);
    memcpy(history, golden, len);
    memcpy(history + len, s2, strlen(s2) + 1);
    const char *path = tmp_path("hand.jsonl");
    assert_true(loy_test_write_file(path, history, total));

    loy_arena arena;
    loy_arena_init(&arena, &loy_default_alloc);
    const loy_json *root = report(&arena, APPAREL, path, NULL);
    EXPECT(root, "member_lines", 2);
    const loy_json *r = run_at(root, 0);
    EXPECT(r, "members", 2);
    EXPECT(r, "members_refused", 0);
    EXPECT(r, "events", 26);          /* 24 golden events + S-2's 2 */
    EXPECT(r, "events_refused", 4);   /* U-2, U-5 */
    EXPECT(r, "queries", 2);
    EXPECT(r, "tiers.member", 1);
    EXPECT(r, "tiers.silver", 0);
    EXPECT(r, "tiers.gold", 0);
    EXPECT(r, "tiers.platinum", 1);
    EXPECT(r, "stages.loyal", 1);
    EXPECT(r, "stages.first", 1);
    EXPECT(r, "stages.registered", 0);
    /* orders 598 + 5000 + 3600 + 600 + 2250 (+ S-2's 500); actions 100 + 10;
     * upgrade gifts 200 + 500. */
    EXPECT(r, "points.issued_by_source.order", 12548);
    EXPECT(r, "points.issued_by_source.action", 110);
    EXPECT(r, "points.issued_by_source.upgrade", 700);
    EXPECT(r, "points.issued_by_source.birthday", 0);
    EXPECT(r, "points.issued", 13358);
    EXPECT(r, "points.imported", 0);
    EXPECT(r, "points.returned", 600);
    EXPECT(r, "points.redeemed", 9600);   /* 600 + 9000 */
    EXPECT(r, "points.expired", 0);
    EXPECT(r, "points.outstanding", 3158); /* 2658 + 500 */
    EXPECT(r, "points.available", 3158);
    EXPECT(r, "points.pending", 0);
    EXPECT(r, "liability.points", 3158);
    EXPECT(r, "liability.money", 3158);    /* 100 points = 1.00 */
    EXPECT(r, "gifts.upgrade.silver", 1);
    EXPECT(r, "gifts.upgrade.gold", 1);
    EXPECT(r, "gifts.upgrade.platinum", 1);
    EXPECT(r, "gifts.birthday.member", 1);
    EXPECT(r, "gifts.surprise.platinum", 1);
    EXPECT(r, "gifts.spend.silver", 1);    /* monthly-credit 2026-04, as silver */
    EXPECT(r, "gift_credit", 5000);
    EXPECT(r, "tier_changes.upgrades", 3);
    EXPECT(r, "tier_changes.downgrades", 0);
    EXPECT(r, "paid.started", 0);
    EXPECT(r, "refusals.LOY_E_NOT_STEP_MULTIPLE", 1);
    EXPECT(r, "refusals.LOY_E_OVER_ORDER_SHARE", 1);
    EXPECT(r, "refusals.LOY_E_BENEFIT_NOT_OPEN", 1);
    EXPECT(r, "refusals.LOY_E_BENEFIT_LIMIT_REACHED", 1);
    /* At their last events: G-APP (platinum, 2658 points, 2027-01-02, its
     * designer-salon use of 2027 made) has every benefit but designer-salon;
     * S-2 (member, no tags) none. */
    EXPECT(r, "benefits_queried", 2);
    EXPECT(r, "benefits.member-price.open", 1);
    EXPECT(r, "benefits.free-shipping.open", 1);
    EXPECT(r, "benefits.alteration.open", 1);
    EXPECT(r, "benefits.stylist.open", 1);
    EXPECT(r, "benefits.designer-salon.open", 0);
    EXPECT(r, "benefits.preview-launch.open", 1);
    EXPECT(r, "benefits.staff-discount.open", 1);
    const loy_json *share = loy_json_get(loy_json_get(loy_json_get(r, "benefits"), "member-price"), "share");
    assert_non_null(share);
    assert_string_equal(share->str, "0.5000");

    /* The readable table says the same. */
    const char *argv[] = {LOY_CLI, "simulate", APPAREL, path, NULL};
    loy_test_run run;
    assert_true(loy_test_spawn(argv, &run));
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "members per tier at the end"));
    assert_string_equal(table_cell(run.out, "  outstanding (liability)"), "3158");
    assert_string_equal(table_cell(run.out, "  liability in money (minor units)"), "3158");
    assert_string_equal(table_cell(run.out, "  member-price"), "50.0%");
    assert_string_equal(table_cell(run.out, "  designer-salon"), "0.0%");
    /* Progress goes to stderr only on a terminal. */
    assert_int_equal(run.err_len, 0);
    loy_test_run_free(&run);

    loy_arena_release(&arena);
    free(history);
    free(golden);
}

/* ----------------------------------------- a generated history, replayed */

typedef struct rng { uint64_t s; } rng;

static uint32_t next(rng *g)
{
    g->s = g->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(g->s >> 33);
}

static uint32_t below(rng *g, uint32_t n) { return next(g) % n; }

static void put(char **out, size_t *n, size_t *cap, const char *line, int w)
{
    while (*n + (size_t)w + 1 > *cap) {
        *cap *= 2;
        *out = realloc(*out, *cap);
        assert_non_null(*out);
    }
    memcpy(*out + *n, line, (size_t)w);
    *n += (size_t)w;
}

/* Members of grocery.yaml over 2026-2028 (so that lots expire), some with
 * imported points, with orders, returns, actions, redemptions, plans,
 * benefit uses, ticks and queries. */
static char *generate(size_t *len)
{
    rng g = {20260101};
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    static const char *const kinds[] = {"check_in", "review", "referral", "like"};
    static const char *const benefits[] = {"tasting", "monthly-coupons", "pickup-coupon", "free-veg",
                                           "delivery-priority", "nope"};
    static const char *const channels[] = {"pos", "mini_program", "app"};
    for (int m = 0; m < 40; m++) {
        char line[1024];
        int w;
        if (m % 4 == 0)
            w = snprintf(line, sizeof line,
                         "{\"member\": {\"id\": \"M-%d\", \"joined\": \"2025-12-01\", \"birthday\": \"1990-%02u-%02u\", "
                         "\"points\": [{\"points\": %u, \"expires\": \"2026-06-30\"}, {\"points\": %u}]}}\n",
                         m, 1 + below(&g, 12), 1 + below(&g, 28), 1 + below(&g, 500), 1 + below(&g, 500));
        else
            w = snprintf(line, sizeof line, "{\"member\": {\"id\": \"M-%d\", \"joined\": \"2025-12-01\"}}\n", m);
        put(&out, &n, &cap, line, w);
        int day = 0;
        unsigned events = 5 + below(&g, 40);
        unsigned last_order_amount = 0;
        int last_order = -1;
        for (unsigned k = 0; k < events; k++) {
            day += 1 + (int)below(&g, 25);
            /* day 0 = 2026-01-01, in months of 28 days to keep dates simple */
            int y = 2026 + day / (12 * 28), mo = 1 + (day / 28) % 12, d = 1 + day % 28;
            if (y > 2028)
                break;
            char at[40];
            snprintf(at, sizeof at, "%04d-%02d-%02dT%02u:30:00+08:00", y, mo, d, 8 + below(&g, 12));
            unsigned r = below(&g, 100);
            if (r < 40) {
                last_order_amount = 500 + below(&g, 30000);
                last_order = (int)k;
                w = snprintf(line, sizeof line,
                             "{\"type\": \"order\", \"id\": \"E-%u\", \"at\": \"%s\", \"channel\": \"%s\", \"savings\": %u, "
                             "\"lines\": [{\"sku\": \"F\", \"category\": \"fruit\", \"amount\": %u}, "
                             "{\"sku\": \"B\", \"category\": \"bags\", \"amount\": 100}]}\n",
                             k, at, channels[below(&g, 3)], below(&g, 2000), last_order_amount);
            } else if (r < 48 && last_order >= 0) {
                w = snprintf(line, sizeof line,
                             "{\"type\": \"return\", \"id\": \"E-%u\", \"at\": \"%s\", \"amount\": %u, \"original\": "
                             "{\"id\": \"E-%d\", \"at\": \"2026-01-01T00:00:00+08:00\", \"amount\": %u, \"points\": %u}}\n",
                             k, at, 1 + below(&g, last_order_amount + 100u), last_order, last_order_amount,
                             last_order_amount / 500);
            } else if (r < 65) {
                w = snprintf(line, sizeof line, "{\"type\": \"action\", \"id\": \"E-%u\", \"at\": \"%s\", \"kind\": \"%s\"}\n",
                             k, at, kinds[below(&g, 4)]);
            } else if (r < 72) {
                w = snprintf(line, sizeof line,
                             "{\"type\": \"redeem\", \"id\": \"E-%u\", \"at\": \"%s\", \"points\": %u, \"order_amount\": %u}\n",
                             k, at, 10 * (1 + below(&g, 20)), 1000 + below(&g, 20000));
            } else if (r < 76) {
                w = snprintf(line, sizeof line, "{\"type\": \"join_paid\", \"id\": \"E-%u\", \"at\": \"%s\", \"plan\": \"%s\"}\n",
                             k, at, below(&g, 2) ? "annual" : "monthly");
            } else if (r < 84) {
                w = snprintf(line, sizeof line,
                             "{\"type\": \"use_benefit\", \"id\": \"E-%u\", \"at\": \"%s\", \"benefit\": \"%s\", \"channel\": \"%s\"}\n",
                             k, at, benefits[below(&g, 6)], channels[below(&g, 3)]);
            } else if (r < 95) {
                w = snprintf(line, sizeof line, "{\"type\": \"tick\", \"id\": \"E-%u\", \"at\": \"%s\", \"member_id\": \"M-%d\"}\n",
                             k, at, m);
            } else {
                w = snprintf(line, sizeof line, "{\"query\": \"benefits\", \"at\": \"%s\"}\n", at);
            }
            put(&out, &n, &cap, line, w);
        }
    }
    out[n] = '\0';
    *len = n;
    return out;
}

/* What the C API says, summed the way the report defines its figures. */
typedef struct sums {
    int64_t members, events, refused, queries;
    int64_t imported, issued, returned, redeemed, expired, available, pending;
    int64_t upgrades, downgrades, started, extended, ended, refunds, gifts;
    int64_t tiers[8];
} sums;

static void replay(const char *history, size_t len, sums *t)
{
    memset(t, 0, sizeof *t);
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_file(&p, GROCERY, NULL), LOY_OK);
    loy_member *m = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    const char **lines;
    size_t *lens, count;
    loy_test_split_lines(history, len, &lines, &lens, &count);
    bool open = false;
    for (size_t i = 0; i <= count; i++) {
        bool member_line = i < count && strncmp(lines[i], "{\"member\"", 9) == 0;
        if ((i == count || member_line) && open) {
            const char *tier = loy_member_tier(m);
            for (size_t k = 0; k < loy_policy_count(p, LOY_KIND_TIER); k++)
                if (strcmp(loy_policy_id(p, LOY_KIND_TIER, k), tier) == 0)
                    t->tiers[k]++;
            t->available += loy_member_points_available(m);
            t->pending += loy_member_points_pending(m);
        }
        if (i == count)
            break;
        if (member_line) {
            assert_int_equal(loy_member_init_json(m, lines[i], lens[i], r), LOY_OK);
            t->members++;
            t->imported += loy_member_points_available(m);
            open = true;
            continue;
        }
        int rc = loy_apply_json_line(p, m, lines[i], lens[i], r);
        const loy_node *root = loy_result_root(r);
        if (loy_node_get(root, "query")) {
            t->queries++;
            continue;
        }
        t->events++;
        if (rc != LOY_OK) {
            t->refused++;
            continue;
        }
        for (const loy_node *e = loy_node_first(loy_node_get(root, "effects")); e; e = loy_node_next(e)) {
            const char *type = loy_node_str(loy_node_get(e, "type"), NULL);
            if (strcmp(type, "points") == 0) {
                const char *source = loy_node_str(loy_node_get(e, "source"), NULL);
                int64_t d = loy_node_int(loy_node_get(e, "delta"));
                if (strcmp(source, "return") == 0)
                    t->returned -= d;
                else if (strcmp(source, "redeem") == 0)
                    t->redeemed -= d;
                else if (strcmp(source, "expiry") == 0)
                    t->expired -= d;
                else
                    t->issued += d;
            } else if (strcmp(type, "tier_changed") == 0) {
                if (strcmp(loy_node_str(loy_node_get(e, "reason"), NULL), "upgrade") == 0)
                    t->upgrades++;
                else
                    t->downgrades++;
            } else if (strcmp(type, "paid_started") == 0) {
                if (loy_node_get(e, "extended"))
                    t->extended++;
                else
                    t->started++;
            } else if (strcmp(type, "paid_ended") == 0) {
                t->ended++;
                t->refunds += loy_node_int(loy_node_get(e, "refund"));
            } else if (strcmp(type, "gift") == 0) {
                t->gifts++;
            }
        }
    }
    free(lines);
    free(lens);
    loy_result_free(r);
    loy_member_free(m);
    loy_policy_free(p);
}

static int64_t gifts_total(const loy_json *run)
{
    int64_t total = 0;
    for (const loy_json *kind = loy_json_get(run, "gifts")->first; kind; kind = kind->next)
        for (const loy_json *tier = kind->first; tier; tier = tier->next) {
            int64_t n = 0;
            loy_json_int(tier, &n);
            total += n;
        }
    return total;
}

static void generated_history_matches_replay(void **state)
{
    (void)state;
    size_t len;
    char *history = generate(&len);
    const char *path = tmp_path("generated.jsonl");
    assert_true(loy_test_write_file(path, history, len));
    sums t;
    replay(history, len, &t);
    /* The history reaches what the report counts. */
    assert_true(t.members == 40 && t.events > 400 && t.refused > 0 && t.queries > 0);
    assert_true(t.imported > 0 && t.returned > 0 && t.redeemed > 0 && t.expired > 0);
    assert_true(t.started > 0 && t.ended > 0 && t.upgrades > 0 && t.gifts > 0);

    loy_arena arena;
    loy_arena_init(&arena, &loy_default_alloc);
    const loy_json *r = run_at(report(&arena, GROCERY, path, NULL), 0);
    EXPECT(r, "members", t.members);
    EXPECT(r, "events", t.events);
    EXPECT(r, "events_refused", t.refused);
    EXPECT(r, "queries", t.queries);
    EXPECT(r, "points.imported", t.imported);
    EXPECT(r, "points.issued", t.issued);
    EXPECT(r, "points.returned", t.returned);
    EXPECT(r, "points.redeemed", t.redeemed);
    EXPECT(r, "points.expired", t.expired);
    EXPECT(r, "points.available", t.available);
    EXPECT(r, "points.pending", t.pending);
    EXPECT(r, "tier_changes.upgrades", t.upgrades);
    EXPECT(r, "tier_changes.downgrades", t.downgrades);
    EXPECT(r, "paid.started", t.started);
    EXPECT(r, "paid.extended", t.extended);
    EXPECT(r, "paid.ended", t.ended);
    EXPECT(r, "paid.refunds", t.refunds);
    assert_int_equal(gifts_total(r), t.gifts);
    static const char *const tiers[] = {"tiers.regular", "tiers.silver", "tiers.gold", "tiers.platinum", "tiers.black"};
    for (size_t k = 0; k < 5; k++)
        EXPECT(r, tiers[k], t.tiers[k]);
    /* Points are neither made nor lost: what came in, less what went out,
     * is what is left. */
    assert_int_equal(num(r, "points.imported") + num(r, "points.issued") - num(r, "points.returned")
                         - num(r, "points.redeemed") - num(r, "points.expired"),
                     num(r, "points.outstanding"));
    /* grocery: 10 points = 1.00 → liability in money = outstanding × 10. */
    EXPECT(r, "liability.money", num(r, "points.outstanding") * 10);
    loy_arena_release(&arena);
    free(history);
}

static void compare_is_both_runs(void **state)
{
    (void)state;
    size_t len;
    char *history = generate(&len);
    const char *path = tmp_path("compare.jsonl");
    assert_true(loy_test_write_file(path, history, len));
    loy_arena arena;
    loy_arena_init(&arena, &loy_default_alloc);
    const loy_json *both = report(&arena, GROCERY, path, APPAREL);
    const loy_json *a = report(&arena, GROCERY, path, NULL);
    const loy_json *b = report(&arena, APPAREL, path, NULL);
    loy_buf x, y;
    loy_buf_init(&x, &loy_default_alloc);
    loy_buf_init(&y, &loy_default_alloc);
    for (size_t i = 0; i < 2; i++) {
        x.len = y.len = 0;
        loy_json_write_value(&x, run_at(both, i));
        loy_json_write_value(&y, run_at(i ? b : a, 0));
        char why[600];
        if (!loy_test_json_equal(y.data, y.len, x.data, x.len, why, sizeof why))
            fail_msg("run %zu of --compare differs from its own run: %s", i, why);
    }
    /* Under apparel, the grocery plans and most benefits are unknown. */
    assert_true(num(run_at(both, 1), "refusals.LOY_E_UNKNOWN_PLAN") > 0);

    /* The table has a difference column. */
    const char *argv[] = {LOY_CLI, "simulate", GROCERY, path, "--compare", APPAREL, NULL};
    loy_test_run run;
    assert_true(loy_test_spawn(argv, &run));
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "difference"));
    loy_test_run_free(&run);
    loy_buf_release(&x);
    loy_buf_release(&y);
    loy_arena_release(&arena);
    free(history);
}

/* ----------------------------------------------------------- --jobs N */

/* generate()'s members twenty times over (about 1.7 MB, many batches), with
 * one member in the middle whose lines outgrow a batch (1 MiB), so that a
 * batch goes on in the next one. */
static char *generate_many(size_t *len)
{
    size_t one_len;
    char *one = generate(&one_len);
    size_t cap = 1 << 22, n = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    for (int copy = 0; copy < 20; copy++) {
        put(&out, &n, &cap, one, (int)one_len);
        if (copy == 9) {
            const char *member = "{\"member\": {\"id\": \"BIG\", \"joined\": \"2025-12-01\"}}\n";
            put(&out, &n, &cap, member, (int)strlen(member));
            for (int k = 0; k < 12000; k++) {
                char line[256];
                int day = k / 20;
                int w = snprintf(line, sizeof line,
                                 "{\"type\": \"order\", \"id\": \"B-%d\", \"at\": \"%04d-%02d-%02dT10:%02d:00+08:00\", "
                                 "\"lines\": [{\"sku\": \"F\", \"category\": \"fruit\", \"amount\": %d}]}\n",
                                 k, 2026 + day / 336, 1 + (day / 28) % 12, 1 + day % 28, k % 20, 100 + k % 900);
                put(&out, &n, &cap, line, w);
            }
        }
    }
    free(one);
    out[n] = '\0';
    *len = n;
    return out;
}

/* Runs simulate with each --jobs and checks that status, stdout and stderr
 * are the same bytes as without it. */
static void same_for_all_jobs(const char *policy, const char *path, const char *extra1, const char *extra2,
                              int status)
{
    const char *base[] = {LOY_CLI, "simulate", policy, path, extra1, extra2, NULL};
    if (!extra1)
        base[5] = NULL;
    loy_test_run one;
    assert_true(loy_test_spawn(base, &one));
    assert_int_equal(one.status, status);
    static const char *const jobs[] = {"1", "2", "4", "7"};
    for (size_t j = 0; j < sizeof jobs / sizeof jobs[0]; j++) {
        const char *argv[] = {LOY_CLI, "simulate", policy, path, "--jobs", jobs[j], extra1, extra2, NULL};
        if (!extra1)
            argv[7] = NULL;
        loy_test_run run;
        assert_true(loy_test_spawn(argv, &run));
        if (run.status != one.status || run.out_len != one.out_len || memcmp(run.out, one.out, one.out_len) != 0
            || run.err_len != one.err_len || memcmp(run.err, one.err, one.err_len) != 0)
            fail_msg("--jobs %s %s differs: status %d/%d, stderr '%s' / '%s'", jobs[j], extra1 ? extra1 : "",
                     run.status, one.status, run.err, one.err);
        loy_test_run_free(&run);
    }
    loy_test_run_free(&one);
}

static void jobs_same_bytes(void **state)
{
    (void)state;
    size_t len;
    char *history = generate_many(&len);
    const char *path = tmp_path("many.jsonl");
    assert_true(loy_test_write_file(path, history, len));
    same_for_all_jobs(GROCERY, path, NULL, NULL, 0);
    same_for_all_jobs(GROCERY, path, "--json", NULL, 0);
    same_for_all_jobs(GROCERY, path, "--compare", APPAREL, 0);

    /* A bad line at the start, in the first batches, inside the long
     * member, near the end, and two bad lines: the first one is reported. */
    static const char *const bad[] = {
        "{nope}\n",
        "{\"type\": \"tick\" \"id\": 1}\n",
        "{\"type\": \"tick\", \"id\": \"T\", \"at\": \"2026-01-01T00:00:00Z\", \"member_id\": \"nobody\"}\n",
        "{\"member\": {\"id\": \"X\"},}\n",
    };
    const double where[][2] = {{0, -1}, {0.01, -1}, {0.3, 0.9}, {0.52, -1}, {0.999, -1}, {0.7, 0.2}};
    for (size_t c = 0; c < sizeof where / sizeof where[0]; c++) {
        char *text = malloc(len + 256);
        assert_non_null(text);
        size_t n = 0, at[2];
        for (int k = 0; k < 2; k++) {
            at[k] = SIZE_MAX;
            if (where[c][k] < 0)
                continue;
            size_t off = (size_t)(where[c][k] * (double)len);
            while (off > 0 && history[off - 1] != '\n')
                off--;
            at[k] = off;
        }
        for (size_t i = 0; i <= len; i++) {
            for (int k = 0; k < 2; k++)
                if (at[k] == i) {
                    const char *line = bad[(c + (size_t)k) % 4];
                    memcpy(text + n, line, strlen(line));
                    n += strlen(line);
                }
            if (i < len)
                text[n++] = history[i];
        }
        const char *bad_path = tmp_path("many-bad.jsonl");
        assert_true(loy_test_write_file(bad_path, text, n));
        same_for_all_jobs(GROCERY, bad_path, c % 2 ? "--json" : NULL, NULL, 2);
        same_for_all_jobs(GROCERY, bad_path, "--compare", APPAREL, 2);
        free(text);
    }

    /* Totals that leave int64 saturate, and warn, the same way: members
     * importing 4e18 points each, in batches of their own. */
    size_t cap = 1 << 20, n = 0;
    char *big = malloc(cap);
    assert_non_null(big);
    for (int m = 0; m < 8; m++) {
        char line[256];
        int w = snprintf(line, sizeof line,
                         "{\"member\": {\"id\": \"V%d\", \"joined\": \"2025-01-01\", \"points\": [{\"points\": %s}]}}\n",
                         m, m % 2 ? "5" : "4000000000000000000");
        put(&big, &n, &cap, line, w);
        for (int k = 0; k < 700; k++) {
            w = snprintf(line, sizeof line,
                         "{\"type\": \"order\", \"id\": \"O%d\", \"at\": \"2026-01-%02dT10:00:00Z\", "
                         "\"lines\": [{\"amount\": 100}]}\n", k, 1 + k % 28);
            put(&big, &n, &cap, line, w);
        }
    }
    const char *big_path = tmp_path("saturated.jsonl");
    assert_true(loy_test_write_file(big_path, big, n));
    free(big);
    loy_arena arena;
    loy_arena_init(&arena, &loy_default_alloc);
    const loy_json *overflow = loy_json_get(run_at(report(&arena, MINIMAL, big_path, NULL), 0), "overflow");
    assert_true(overflow && overflow->type == LOY_JSON_BOOL && overflow->b);
    loy_arena_release(&arena);
    same_for_all_jobs(MINIMAL, big_path, "--json", NULL, 0);
    same_for_all_jobs(MINIMAL, big_path, NULL, NULL, 0);

    static const char *const wrong[] = {"-1", "x", "257", "", "2x"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        const char *argv[] = {LOY_CLI, "simulate", GROCERY, path, "--jobs", wrong[i], NULL};
        loy_test_run run;
        assert_true(loy_test_spawn(argv, &run));
        assert_int_equal(run.status, 2);
        assert_int_equal(run.out_len, 0);
        loy_test_run_free(&run);
    }
    free(history);
}

static void input_errors(void **state)
{
    (void)state;
    struct {
        const char *text;
        const char *words;
    } cases[] = {
        {"{\"type\": \"tick\", \"id\": \"T\", \"at\": \"2026-01-01T00:00:00Z\"}\n", ":1: an event before the first member line"},
        {"{\"member\": {\"id\": \"A\", \"joined\": \"2026-01-01\"}}\n"
         "{\"type\": \"tick\", \"id\": \"T\", \"at\": \"2026-01-01T00:00:00Z\", \"member_id\": \"B\"}\n",
         ":2: 'member_id' is not the current member's ('A')"},
        {"{\"member\": {\"id\": \"A\", \"joined\": \"2026-01-01\"}}\n\n{\"type\": \"tick\" \"id\": 1}\n",
         ":3:17: expected ',' or '}'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = tmp_path("bad.jsonl");
        assert_true(loy_test_write_file(path, cases[i].text, strlen(cases[i].text)));
        const char *argv[] = {LOY_CLI, "simulate", MINIMAL, path, NULL};
        loy_test_run run;
        assert_true(loy_test_spawn(argv, &run));
        assert_int_equal(run.status, 2);
        assert_int_equal(run.out_len, 0);
        if (!strstr(run.err, cases[i].words))
            fail_msg("'%s' not in: %s", cases[i].words, run.err);
        loy_test_run_free(&run);
    }

    /* A member a policy refuses is counted, and its events are skipped. */
    const char *text = "{\"member\": {\"id\": \"A\", \"joined\": \"2026-01-01\", \"tier\": \"gold\"}}\n"
                       "{\"type\": \"order\", \"id\": \"O\", \"at\": \"2026-01-02T00:00:00Z\", \"lines\": [{\"amount\": 100}]}\n"
                       "{\"member\": {\"id\": \"B\", \"joined\": \"2026-01-01\"}}\n"
                       "{\"type\": \"order\", \"id\": \"O\", \"at\": \"2026-01-02T00:00:00Z\", \"lines\": [{\"amount\": 1000}]}\n";
    const char *path = tmp_path("refused.jsonl");
    assert_true(loy_test_write_file(path, text, strlen(text)));
    loy_arena arena;
    loy_arena_init(&arena, &loy_default_alloc);
    const loy_json *r = run_at(report(&arena, MINIMAL, path, NULL), 0);
    EXPECT(r, "members", 1);
    EXPECT(r, "members_refused", 1);
    EXPECT(r, "events", 1);
    EXPECT(r, "points.issued", 10);
    EXPECT(r, "tiers.member", 1);
    EXPECT(r, "no_stage", 1);
    loy_arena_release(&arena);

    const char *usage[][6] = {
        {LOY_CLI, "simulate", MINIMAL, NULL},
        {LOY_CLI, "simulate", MINIMAL, path, "--compare", NULL},
        {LOY_CLI, "simulate", MINIMAL, path, "--csv", NULL},
        {LOY_CLI, "simulate", MINIMAL, tmp_path("absent.jsonl"), NULL},
        {LOY_CLI, "simulate", tmp_path("absent.yaml"), path, NULL},
    };
    for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
        loy_test_run run;
        assert_true(loy_test_spawn(usage[i], &run));
        assert_int_equal(run.status, 2);
        assert_int_equal(run.out_len, 0);
        assert_true(run.err_len > 0);
        loy_test_run_free(&run);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_verified_totals),
        cmocka_unit_test(generated_history_matches_replay),
        cmocka_unit_test(compare_is_both_runs),
        cmocka_unit_test(input_errors),
        cmocka_unit_test(jobs_same_bytes),
    };
    return cmocka_run_group_tests_name("simulate_cli", tests, NULL, NULL);
}
