/*
 * Shared by the libFuzzer targets in fuzz/ and by their replay in
 * tests/test_fuzz_replay.c: the reference policies (loaded once per
 * process), checks that abort with a message, and the invariants every
 * member must keep whatever it was fed:
 *
 *   - available points = sum of the available lots - debt, and pending
 *     points = sum of the pending lots, both within int64;
 *   - no lot holds 0 or fewer points; debt is never negative;
 *   - state bytes round-trip: to_bytes -> load -> to_bytes is identical;
 *   - a result always writes as valid JSON (loy_result_json).
 *
 * A check that fails calls abort(), which libFuzzer reports as a crash and
 * which stops a test program just as loudly. Harness state (the policies)
 * is process-wide on purpose: it is loaded once, never changed, and is not
 * part of the library.
 */
#ifndef LOY_FUZZ_COMMON_H
#define LOY_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loyalty.h"
#include "member.h"
#include "wire/json.h"

#ifndef LOY_SPEC_DIR
#define LOY_SPEC_DIR "../shared/spec"
#endif

#define FUZZ_CHECK(cond, ...)                                                   \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "fuzz check failed at %s:%d: %s\n  ", __FILE__,    \
                    __LINE__, #cond);                                           \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            abort();                                                            \
        }                                                                       \
    } while (0)

/* ------------------------------------------------------------- policies */

enum { FZ_APPAREL = 0, FZ_APPAREL_DEBT, FZ_GROCERY, FZ_MINIMAL, FZ_POLICY_COUNT };

static inline char *fz_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 14, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* The source text of a reference policy (FZ_APPAREL_DEBT: apparel with
 * negative_balance: true, so debts are reachable). Caller frees. */
static inline char *fz_policy_text(int which, size_t *len)
{
    static const char *const names[FZ_POLICY_COUNT] = {"apparel", "apparel", "grocery", "minimal"};
    char path[4096];
    snprintf(path, sizeof path, "%s/policies/%s.yaml", LOY_SPEC_DIR, names[which]);
    char *text = fz_read_file(path, len);
    FUZZ_CHECK(text != NULL, "cannot read %s (LOY_SPEC_DIR)", path);
    if (which == FZ_APPAREL_DEBT) {
        char *at = strstr(text, "negative_balance: false");
        FUZZ_CHECK(at != NULL, "apparel.yaml no longer says negative_balance: false");
        /* "false" -> "true " keeps the length. */
        memcpy(at + strlen("negative_balance: "), "true ", 5);
    }
    return text;
}

static inline loy_policy *fz_load_policy(int which, const loy_allocator *alloc)
{
    size_t len = 0;
    char *text = fz_policy_text(which, &len);
    loy_policy *p = NULL;
    loy_diag *diag = NULL;
    int rc = loy_policy_load_buffer_ex(&p, text, len, "reference.yaml", &diag, alloc);
    if (rc != LOY_OK && diag && loy_diag_count(diag))
        fprintf(stderr, "%u:%u: %s\n", loy_diag_line(diag, 0), loy_diag_column(diag, 0),
                loy_diag_message(diag, 0));
    FUZZ_CHECK(rc == LOY_OK, "reference policy %d does not load: %s", which, loy_error_name(rc));
    loy_diag_free(diag);
    free(text);
    return p;
}

/* The reference policies, loaded on first use and kept for the process. */
static inline const loy_policy *fz_policy(int which)
{
    static loy_policy *policies[FZ_POLICY_COUNT];
    if (!policies[which])
        policies[which] = fz_load_policy(which, NULL);
    return policies[which];
}

/* ------------------------------------------------------------ invariants */

static inline int fz_is_known_code(int rc)
{
    return rc == LOY_OK || rc == LOY_E_NOMEM || rc == LOY_E_JSON ||
           (rc <= LOY_E_INVALID_EVENT && rc >= LOY_E_STATE_POLICY);
}

/* Lots and points of a member add up (see the file comment). */
static inline void fz_check_points(const loy_member *m)
{
    __int128 available = 0, pending = 0;
    FUZZ_CHECK(m->debt >= 0, "debt %lld", (long long)m->debt);
    for (size_t i = 0; i < m->lot_count; i++) {
        const loy_lot *lot = &m->lots[i];
        FUZZ_CHECK(lot->points > 0, "lot %zu holds %lld points", i, (long long)lot->points);
        if (lot->pending_until == LOY_DAY_NONE)
            available += lot->points;
        else
            pending += lot->points;
        /* The engine's order: soonest last day first, never-expiring last. */
        if (i > 0) {
            const loy_lot *prev = &m->lots[i - 1];
            FUZZ_CHECK(!(prev->expires == LOY_DAY_NONE && lot->expires != LOY_DAY_NONE) &&
                           (prev->expires == LOY_DAY_NONE || lot->expires == LOY_DAY_NONE ||
                            prev->expires <= lot->expires),
                       "lots %zu and %zu out of order", i - 1, i);
        }
    }
    available -= m->debt;
    FUZZ_CHECK(available >= INT64_MIN && available <= INT64_MAX, "available points leave int64");
    FUZZ_CHECK(pending <= INT64_MAX, "pending points leave int64");
    FUZZ_CHECK(loy_member_points_available(m) == (int64_t)available,
               "available %lld != lots - debt %lld", (long long)loy_member_points_available(m),
               (long long)available);
    FUZZ_CHECK(loy_member_points_pending(m) == (int64_t)pending, "pending %lld != pending lots %lld",
               (long long)loy_member_points_pending(m), (long long)pending);
}

typedef struct fz_bytes {
    uint8_t *data;
    size_t len;
} fz_bytes;

static inline fz_bytes fz_state(loy_member *m)
{
    const void *data = NULL;
    size_t len = 0;
    int rc = loy_member_to_bytes(m, &data, &len);
    FUZZ_CHECK(rc == LOY_OK, "to_bytes: %s: %s", loy_error_name(rc), loy_member_error(m));
    fz_bytes b = {malloc(len ? len : 1), len};
    FUZZ_CHECK(b.data != NULL, "out of memory in the harness");
    memcpy(b.data, data, len);
    return b;
}

static inline int fz_same(const fz_bytes *a, const fz_bytes *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static inline void fz_expect_state(loy_member *m, const fz_bytes *want, const char *what)
{
    fz_bytes now = fz_state(m);
    FUZZ_CHECK(fz_same(&now, want), "%s changed the state bytes (%zu -> %zu bytes)", what,
               want->len, now.len);
    free(now.data);
}

/* to_bytes -> load into a fresh handle -> to_bytes gives the same bytes. */
static inline void fz_check_round_trip(const loy_policy *p, loy_member *m)
{
    fz_bytes first = fz_state(m);
    loy_member *copy = NULL;
    FUZZ_CHECK(loy_member_create(&copy, p) == LOY_OK, "member_create");
    int rc = loy_member_load(copy, first.data, first.len);
    FUZZ_CHECK(rc == LOY_OK, "bytes the library wrote do not load: %s: %s", loy_error_name(rc),
               loy_member_error(copy));
    fz_check_points(copy);
    fz_bytes second = fz_state(copy);
    FUZZ_CHECK(fz_same(&first, &second), "bytes -> load -> bytes differ (%zu vs %zu bytes)",
               first.len, second.len);
    free(second.data);
    free(first.data);
    loy_member_free(copy);
}

static inline void fz_check_member(const loy_policy *p, loy_member *m)
{
    fz_check_points(m);
    fz_check_round_trip(p, m);
}

/* The result writes as one line of valid JSON whose root is an object. */
static inline void fz_check_result_json(loy_result *r)
{
    size_t len = 0;
    const char *json = loy_result_json(r, &len);
    FUZZ_CHECK(json != NULL, "loy_result_json returned NULL");
    FUZZ_CHECK(strlen(json) == len, "result JSON holds a NUL or a wrong length");
    FUZZ_CHECK(memchr(json, '\n', len) == NULL, "result JSON spans lines");
    loy_arena arena;
    loy_arena_init(&arena, &loy_default_alloc);
    loy_json_error err;
    loy_json *root = loy_json_parse(&arena, json, len, 1, &err);
    FUZZ_CHECK(root != NULL && root->type == LOY_JSON_OBJECT, "result JSON does not parse: %s: %.*s",
               root ? "not an object" : err.message, (int)(len > 400 ? 400 : len), json);
    loy_arena_release(&arena);
}

/* Copy of the result's JSON (to compare two results). Caller frees. */
static inline char *fz_result_text(loy_result *r)
{
    size_t len = 0;
    const char *json = loy_result_json(r, &len);
    FUZZ_CHECK(json != NULL, "loy_result_json returned NULL");
    char *copy = malloc(len + 1);
    FUZZ_CHECK(copy != NULL, "out of memory in the harness");
    memcpy(copy, json, len + 1);
    return copy;
}

#endif
