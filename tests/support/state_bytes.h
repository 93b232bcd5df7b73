/*
 * Owned copies of what a handle lends: a member's state bytes and a
 * result's JSON, for tests that compare them across refusals, failures,
 * reloads and paths (test_faults.c, test_undo.c, test_benefits_fast.c,
 * test_query_fast.c).
 *
 * Include after <cmocka.h> and "loyalty.h".
 */
#ifndef STATE_BYTES_H
#define STATE_BYTES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bytes {
    void *data;
    size_t len;
} bytes;

static inline bytes state_of(loy_member *m)
{
    const void *data;
    size_t len;
    assert_int_equal(loy_member_to_bytes(m, &data, &len), LOY_OK);
    bytes b = {malloc(len ? len : 1), len};
    assert_non_null(b.data);
    memcpy(b.data, data, len);
    return b;
}

/* The member's state is `want`, byte for byte (want stays the caller's). */
static inline void assert_state(loy_member *m, const bytes *want)
{
    bytes now = state_of(m);
    assert_int_equal(now.len, want->len);
    assert_memory_equal(now.data, want->data, want->len);
    free(now.data);
}

static inline char *json_of(loy_result *r)
{
    size_t len;
    const char *json = loy_result_json(r, &len);
    assert_non_null(json);
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, json, len + 1);
    return copy;
}

/* An answer whole: its code, a space, its JSON. */
static inline char *code_and_json(int code, loy_result *r)
{
    size_t len = 0;
    const char *json = loy_result_json(r, &len);
    assert_non_null(json);
    char *copy = malloc(len + 16);
    assert_non_null(copy);
    snprintf(copy, len + 16, "%d ", code);
    memcpy(copy + strlen(copy), json, len + 1);
    return copy;
}

#endif
