/*
 * Step 1 (validation) must answer the same for an event however it was
 * filled: by the setters on a fresh event, by the JSON decoder
 * (loy_apply_json_line), and by the setters on a reused event that held
 * other values first, valid or not, or whose fields were set to a bad
 * value and back. Any verdict cached in the event by a writer (setter or
 * decoder) must follow the bytes, so these three must give the same code,
 * message, answer JSON and member state for every event below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loyalty.h"

#define APPAREL LOY_SPEC_DIR "/policies/apparel.yaml"

typedef struct spec_line {
    const char *sku, *category;     /* NULL: absent */
    int64_t amount, qty;
} spec_line;

typedef struct spec {
    loy_event_type type;
    const char *id, *at;
    const char *channel, *store;    /* NULL: absent */
    size_t line_count;
    spec_line lines[3];
    /* return */
    int64_t amount;
    const char *orig_id, *orig_at;
    int64_t orig_amount, orig_points;
    /* profile */
    const char *birthday;           /* NULL: absent */
    size_t tag_count;
    const char *tags[2];
} spec;

#define AT "2026-11-11T20:15:00+08:00"

static const spec specs[] = {
    {LOY_EVENT_ORDER, "O-1", AT, "pos", "SH-001", 2, {{"SKU-1", "coats", 129900, 1}, {"GC", "gift_card", 100, 1}}},
    {LOY_EVENT_ORDER, "O-2", "2026-11-11T12:15:00Z", NULL, NULL, 1, {{NULL, "tops", 5000, 3}}},
    {LOY_EVENT_ORDER, "O-3", "2026-11-11T20:15:00.250+08:00", "app", NULL, 1, {{"S", NULL, 100, 1}}},
    {LOY_EVENT_ORDER, "O-4", "2026-11-11 20:15:00+08:00", "pos", NULL, 1, {{"S", "coats", 100, 1}}},
    {LOY_EVENT_ORDER, "O-5", "2026-02-30T20:15:00+08:00", NULL, NULL, 0, {{0}}},
    {LOY_EVENT_ORDER, "O-6", "2026-11-11T24:15:00+08:00", NULL, NULL, 0, {{0}}},
    {LOY_EVENT_ORDER, "O-7", "2026-11-11T20:15:00", NULL, NULL, 0, {{0}}},
    {LOY_EVENT_ORDER, "", AT, NULL, NULL, 0, {{0}}},
    {LOY_EVENT_ORDER, "O-9", AT, "", NULL, 0, {{0}}},
    {LOY_EVENT_ORDER, "O-10", AT, "pos", "", 0, {{0}}},
    {LOY_EVENT_ORDER, "O-11", AT, "pos", NULL, 2, {{"S", "coats", 100, 1}, {"", "coats", 100, 1}}},
    {LOY_EVENT_ORDER, "O-12", AT, "pos", NULL, 2, {{"S", "coats", 100, 1}, {"S", "", 100, 1}}},
    {LOY_EVENT_ORDER, "O-13", AT, "pos", NULL, 2, {{"S", "coats", -1, 1}, {"S", "", 100, 1}}},
    {LOY_EVENT_ORDER, "O-14", AT, "pos", NULL, 1, {{"S", "coats", 100, -2}}},
    {LOY_EVENT_ORDER, "O-15", AT, "\xc3\x28", NULL, 0, {{0}}},
    {LOY_EVENT_ORDER, "O-16", AT, "pos", NULL, 1, {{"\xe5\xa4\x96\xe5\xa5\x97", "\xed\xa0\x80", 100, 1}}},
    {LOY_EVENT_ORDER, "O-17", AT, "\xe5\xb0\x8f", "SH-001", 1, {{"\xe5\xa4\x96", "coats", 100, 1}}},
    /* strings either side of the 8- and 16-byte words step 1 reads them as */
    {LOY_EVENT_ORDER, "O-18-0123456789A", AT, "pos", "SH-000000000001", 2,
     {{"SKU-0123456789AB", "gift_card", 100, 1}, {"SKU-0123456789ABC", "shipping", 100, 1}}},
    {LOY_EVENT_ORDER, "O-19", AT, "p", "S", 3,
     {{"S", "c", 1, 1}, {"SKU-0123", "accessories", 5, 2}, {"12345678", "abcdefgh", 1, 1}}},
    {LOY_EVENT_ORDER, "O-20", AT, "pos", NULL, 2,
     {{"SKU-\xc3\xa9", "\xe5\xa4\x96\xe5\xa5\x97\xe5\xa4\x96", 100, 1}, {"S", "gift_car", 100, 1}}},
    {LOY_EVENT_RETURN, "R-1", "2026-11-12T10:00:00+08:00", NULL, NULL, 0, {{0}}, 50000, "O-0",
     "2026-11-01T09:00:00+08:00", 100000, 1000},
    {LOY_EVENT_RETURN, "R-2", "2026-11-12T10:00:00+08:00", NULL, NULL, 0, {{0}}, 500, "O-0", "", 1000, 10},
    {LOY_EVENT_RETURN, "R-3", "2026-11-12T10:00:00+08:00", NULL, NULL, 0, {{0}}, 500, "O-0",
     "2026-11-13T09:00:00+08:00", 1000, 10},
    {LOY_EVENT_RETURN, "R-4", "2026-11-12T10:00:00+08:00", NULL, NULL, 1, {{"S", "", 10, 1}}, 500, "O-0",
     "2026-11-01T09:00:00+08:00", 1000, 10},
    {LOY_EVENT_PROFILE, "P-1", AT, NULL, NULL, 0, {{0}}, 0, NULL, NULL, 0, 0, "1990-02-29", 0, {0}},
    {LOY_EVENT_PROFILE, "P-2", AT, NULL, NULL, 0, {{0}}, 0, NULL, NULL, 0, 0, "1992-02-29", 2, {"vip", "x"}},
    {LOY_EVENT_PROFILE, "P-3", AT, NULL, NULL, 0, {{0}}, 0, NULL, NULL, 0, 0, NULL, 2, {"vip", ""}},
};

static const char *const type_names[] = {"", "order", "return", "action", "redeem", "use_benefit", "join_paid",
                                         "profile", "tick"};

static void fill(loy_event *e, const spec *s)
{
    assert_int_equal(loy_event_reset(e, s->type, s->id, s->at), LOY_OK);
    if (s->channel)
        assert_int_equal(loy_event_set_channel(e, s->channel), LOY_OK);
    if (s->store)
        assert_int_equal(loy_event_set_store(e, s->store), LOY_OK);
    for (size_t i = 0; i < s->line_count; i++) {
        const spec_line *l = &s->lines[i];
        assert_int_equal(loy_event_add_line(e, l->sku, l->category, l->amount, l->qty), LOY_OK);
    }
    if (s->type == LOY_EVENT_RETURN) {
        assert_int_equal(loy_event_set_amount(e, s->amount), LOY_OK);
        assert_int_equal(loy_event_set_original(e, s->orig_id, s->orig_at, s->orig_amount, s->orig_points),
                         LOY_OK);
    }
    if (s->type == LOY_EVENT_PROFILE) {
        if (s->birthday)
            assert_int_equal(loy_event_set_birthday(e, s->birthday), LOY_OK);
        if (s->tag_count) {
            assert_int_equal(loy_event_clear_tags(e), LOY_OK);
            for (size_t i = 0; i < s->tag_count; i++)
                assert_int_equal(loy_event_add_tag(e, s->tags[i]), LOY_OK);
        }
    }
}

/* The same event as a JSON line (the strings above need no escapes). */
static size_t to_json(const spec *s, char *out, size_t cap)
{
    size_t n = 0;
#define PUT(...) (n += (size_t)snprintf(out + n, cap - n, __VA_ARGS__), assert_true(n < cap))
    PUT("{\"type\":\"%s\",\"id\":\"%s\",\"at\":\"%s\"", type_names[s->type], s->id, s->at);
    if (s->channel)
        PUT(",\"channel\":\"%s\"", s->channel);
    if (s->store)
        PUT(",\"store\":\"%s\"", s->store);
    if (s->line_count) {
        PUT(",\"lines\":[");
        for (size_t i = 0; i < s->line_count; i++) {
            const spec_line *l = &s->lines[i];
            PUT("%s{\"amount\":%lld,\"qty\":%lld", i ? "," : "", (long long)l->amount, (long long)l->qty);
            if (l->sku)
                PUT(",\"sku\":\"%s\"", l->sku);
            if (l->category)
                PUT(",\"category\":\"%s\"", l->category);
            PUT("}");
        }
        PUT("]");
    }
    if (s->type == LOY_EVENT_RETURN)
        PUT(",\"amount\":%lld,\"original\":{\"id\":\"%s\",\"at\":\"%s\",\"amount\":%lld,\"points\":%lld}",
            (long long)s->amount, s->orig_id, s->orig_at, (long long)s->orig_amount, (long long)s->orig_points);
    if (s->type == LOY_EVENT_PROFILE) {
        if (s->birthday)
            PUT(",\"birthday\":\"%s\"", s->birthday);
        if (s->tag_count) {
            PUT(",\"tags\":[");
            for (size_t i = 0; i < s->tag_count; i++)
                PUT("%s\"%s\"", i ? "," : "", s->tags[i]);
            PUT("]");
        }
    }
    PUT("}");
#undef PUT
    return n;
}

typedef struct answer {
    int rc;
    char *json;
    size_t json_len;
    char *state;
    size_t state_len;
} answer;

static char *dup_bytes(const void *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    assert_non_null(c);
    memcpy(c, p, n);
    return c;
}

static void take(answer *a, int rc, loy_result *r, loy_member *m)
{
    a->rc = rc;
    const char *j = loy_result_json(r, &a->json_len);
    assert_non_null(j);
    a->json = dup_bytes(j, a->json_len);
    const void *b;
    assert_int_equal(loy_member_to_bytes(m, &b, &a->state_len), LOY_OK);
    a->state = dup_bytes(b, a->state_len);
}

static void same(const answer *a, const answer *b, const char *how, const spec *s)
{
    if (a->rc != b->rc || a->json_len != b->json_len || memcmp(a->json, b->json, a->json_len) != 0 ||
        a->state_len != b->state_len || memcmp(a->state, b->state, a->state_len) != 0)
        fail_msg("event %s (%s), %s:\n  setters (%s): %.*s\n  other   (%s): %.*s", s->id, s->at, how,
                 loy_error_name(a->rc), (int)a->json_len, a->json, loy_error_name(b->rc), (int)b->json_len,
                 b->json);
}

static void drop(answer *a)
{
    free(a->json);
    free(a->state);
}

static const char member_line[] =
    "{\"member\": {\"id\": \"M-V\", \"joined\": \"2025-03-01\", \"birthday\": \"1990-11-20\", "
    "\"tier\": \"silver\", \"tier_since\": \"2025-09-01\", \"points\": [{\"points\": 900}], "
    "\"spend_by_month\": {\"2026-10\": 80000}, \"orders\": 3, \"last_order\": \"2026-10-30\"}}";

static void filled_any_way(void **state)
{
    (void)state;
    loy_policy *p = NULL;
    loy_diag *diag = NULL;
    if (loy_policy_load_file(&p, APPAREL, &diag) != LOY_OK)
        fail_msg("%s does not load", APPAREL);
    loy_diag_free(diag);
    loy_member *m = NULL;
    loy_result *r = NULL;
    loy_event *fresh = NULL, *reused = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    assert_int_equal(loy_member_init_json(m, member_line, sizeof member_line - 1, r), LOY_OK);
    const void *b;
    size_t start_len;
    assert_int_equal(loy_member_to_bytes(m, &b, &start_len), LOY_OK);
    char *start = dup_bytes(b, start_len);
    assert_int_equal(loy_event_new(&reused, p), LOY_OK);

    const size_t n = sizeof specs / sizeof specs[0];
    for (size_t i = 0; i < n; i++) {
        const spec *s = &specs[i];
        answer want, got;

        /* fresh event, setters */
        assert_int_equal(loy_event_new(&fresh, p), LOY_OK);
        fill(fresh, s);
        assert_int_equal(loy_member_load(m, start, start_len), LOY_OK);
        take(&want, loy_apply(p, m, fresh, r), r, m);
        loy_event_free(fresh);

        /* the JSON decoder; it refuses invalid UTF-8 itself (LOY_E_JSON) */
        bool utf8_bad = strcmp(s->id, "O-15") == 0 || strcmp(s->id, "O-16") == 0;
        char line[1024];
        size_t len = to_json(s, line, sizeof line);
        assert_int_equal(loy_member_load(m, start, start_len), LOY_OK);
        take(&got, loy_apply_json_line(p, m, line, len, r), r, m);
        if (utf8_bad)
            assert_int_equal(got.rc, LOY_E_JSON);
        else
            same(&want, &got, "JSON line", s);
        drop(&got);

        /* the reused event after every other event, applied or not */
        for (size_t k = 0; k < n; k++) {
            fill(reused, &specs[k]);
            if (k % 2) {
                assert_int_equal(loy_member_load(m, start, start_len), LOY_OK);
                (void)loy_apply(p, m, reused, r);
            }
            fill(reused, s);
            assert_int_equal(loy_member_load(m, start, start_len), LOY_OK);
            take(&got, loy_apply(p, m, reused, r), r, m);
            same(&want, &got, "reused event", s);
            drop(&got);
        }

        /* fields set to a bad value, applied, and set back */
        fill(reused, s);
        assert_int_equal(loy_event_reset(reused, s->type, s->id, "2026-13-01T00:00:00Z"), LOY_OK);
        assert_int_equal(loy_member_load(m, start, start_len), LOY_OK);
        (void)loy_apply(p, m, reused, r);
        fill(reused, s);
        assert_int_equal(loy_event_set_channel(reused, ""), LOY_OK);
        assert_int_equal(loy_event_set_store(reused, "\xff"), LOY_OK);
        assert_int_equal(loy_member_load(m, start, start_len), LOY_OK);
        (void)loy_apply(p, m, reused, r);
        assert_int_equal(loy_event_set_channel(reused, s->channel), LOY_OK);
        assert_int_equal(loy_event_set_store(reused, s->store), LOY_OK);
        assert_int_equal(loy_member_load(m, start, start_len), LOY_OK);
        take(&got, loy_apply(p, m, reused, r), r, m);
        same(&want, &got, "fields set bad and back", s);
        drop(&got);

        /* the same event applied twice in a row */
        assert_int_equal(loy_member_load(m, start, start_len), LOY_OK);
        take(&got, loy_apply(p, m, reused, r), r, m);
        same(&want, &got, "applied again", s);
        drop(&got);
        drop(&want);
    }
    free(start);
    loy_event_free(reused);
    loy_result_free(r);
    loy_member_free(m);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(filled_any_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
