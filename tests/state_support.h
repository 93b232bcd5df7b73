/*
 * Helpers of the state-bytes tests (test_state.c, test_state_policy_change.c):
 * copies of state bytes, loading into a fresh handle, and a builder of
 * hand-made state bytes in the layout of docs/state.md.
 *
 * Include after <cmocka.h> and its prerequisites.
 */
#ifndef STATE_SUPPORT_H
#define STATE_SUPPORT_H

#include <xxhash.h>

#include "rules_support.h"
#include "member.h"

/* The seeded stream of the generated-state tests: a failing seed replays
 * the same states on every machine. */
static inline uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return *s >> 33;
}

typedef struct blob {
    uint8_t *data;
    size_t len;
} blob;

static inline blob blob_of(const void *data, size_t len)
{
    blob b = {malloc(len ? len : 1), len};
    assert_non_null(b.data);
    if (len)
        memcpy(b.data, data, len);
    return b;
}

static inline blob state_of(loy_member *m)
{
    const void *data = NULL;
    size_t len = 0;
    int rc = loy_member_to_bytes(m, &data, &len);
    if (rc != LOY_OK)
        fprintf(stderr, "to_bytes: %s\n", loy_member_error(m));
    assert_int_equal(rc, LOY_OK);
    return blob_of(data, len);
}

static inline void assert_state_is(loy_member *m, const blob *b)
{
    const void *data = NULL;
    size_t len = 0;
    assert_int_equal(loy_member_to_bytes(m, &data, &len), LOY_OK);
    assert_int_equal(len, b->len);
    assert_memory_equal(data, b->data, len);
}

/* The bytes loaded into a new handle of `p`; the load must succeed. */
static inline loy_member *loaded(const loy_policy *p, const blob *b)
{
    loy_member *m = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    int rc = loy_member_load(m, b->data, b->len);
    if (rc != LOY_OK)
        fprintf(stderr, "load: %s: %s\n", loy_error_name(rc), loy_member_error(m));
    assert_int_equal(rc, LOY_OK);
    return m;
}

/* bytes -> load -> bytes gives the same bytes. */
static inline void assert_round_trip(const loy_policy *p, const blob *b)
{
    loy_member *m = loaded(p, b);
    assert_state_is(m, b);
    loy_member_free(m);
}

/* --------------------------------------------------- hand-made state bytes */

typedef struct craft {
    uint8_t buf[4096];
    size_t len;
} craft;

static inline void cr_byte(craft *c, unsigned b)
{
    assert_true(c->len < sizeof c->buf);
    c->buf[c->len++] = (uint8_t)b;
}

static inline void cr_u(craft *c, uint64_t v)
{
    do {
        uint8_t b = (uint8_t)(v & 0x7F);
        v >>= 7;
        cr_byte(c, b | (v ? 0x80u : 0u));
    } while (v);
}

static inline void cr_s(craft *c, int64_t v)
{
    cr_u(c, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static inline void cr_raw(craft *c, const void *data, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_byte(c, ((const uint8_t *)data)[i]);
}

static inline void cr_str(craft *c, const char *s)
{
    cr_u(c, strlen(s));
    cr_raw(c, s, strlen(s));
}

/* The header of docs/state.md in front of the payload, the checksum after. */
static inline blob cr_seal(const craft *payload)
{
    size_t total = 12 + payload->len + 8;
    uint8_t *b = malloc(total);
    assert_non_null(b);
    memcpy(b, "LOY", 3);
    b[3] = 1;
    for (int i = 0; i < 4; i++) {
        b[4 + i] = (uint8_t)(total >> (8 * i));
        b[8 + i] = (uint8_t)(~total >> (8 * i));
    }
    memcpy(b + 12, payload->buf, payload->len);
    uint64_t sum = XXH3_64bits(b, total - 8);
    for (size_t i = 0; i < 8; i++)
        b[total - 8 + i] = (uint8_t)(sum >> (8 * i));
    blob out = {b, total};
    return out;
}

/* Rewrite the length fields and checksum of bytes whose payload was edited. */
static inline void reseal(blob *b)
{
    size_t total = b->len;
    for (int i = 0; i < 4; i++) {
        b->data[4 + i] = (uint8_t)(total >> (8 * i));
        b->data[8 + i] = (uint8_t)(~total >> (8 * i));
    }
    uint64_t sum = XXH3_64bits(b->data, total - 8);
    for (size_t i = 0; i < 8; i++)
        b->data[total - 8 + i] = (uint8_t)(sum >> (8 * i));
}

static inline loy_day day_of(const char *s)
{
    loy_day d;
    assert_true(loy_parse_date(s, strlen(s), &d));
    return d;
}

static inline bool bytes_contain(const blob *b, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= b->len; i++)
        if (memcmp(b->data + i, text, n) == 0)
            return true;
    return false;
}

#endif
