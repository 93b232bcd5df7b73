/*
 * Internal plumbing shared by every part of the library: allocation through
 * the policy's allocator, a bump arena, checked int64 arithmetic.
 * Nothing here is exported.
 */
#ifndef LOY_CORE_H
#define LOY_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "loyalty.h"

#define LOY_INTERNAL __attribute__((visibility("hidden")))
#define LOY_UNUSED(x) ((void)(x))
#define LOY_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ allocation */

/* A resolved allocator: every pointer is set. */
typedef struct loy_alloc {
    void *(*malloc_fn)(void *ctx, size_t size);
    void *(*realloc_fn)(void *ctx, void *ptr, size_t size);
    void (*free_fn)(void *ctx, void *ptr);
    void *ctx;
} loy_alloc;

LOY_INTERNAL void loy_alloc_resolve(loy_alloc *out, const loy_allocator *in);
LOY_INTERNAL extern const loy_alloc loy_default_alloc;

static inline void *loy_malloc(const loy_alloc *a, size_t n) { return a->malloc_fn(a->ctx, n ? n : 1); }
static inline void *loy_realloc(const loy_alloc *a, void *p, size_t n) { return a->realloc_fn(a->ctx, p, n ? n : 1); }
static inline void loy_free(const loy_alloc *a, void *p) { if (p) a->free_fn(a->ctx, p); }
LOY_INTERNAL void *loy_calloc(const loy_alloc *a, size_t count, size_t size);
LOY_INTERNAL char *loy_strdup(const loy_alloc *a, const char *s);
LOY_INTERNAL char *loy_strndup(const loy_alloc *a, const char *s, size_t n);

/*
 * Grow a dynamic array so that it holds at least `need` elements of `elem`
 * bytes. Returns false (array untouched) when the allocation fails or the
 * size would overflow. Capacity at least doubles, so appends are amortised.
 */
LOY_INTERNAL bool loy_grow(const loy_alloc *a, void **items, size_t *cap, size_t need, size_t elem);
#define LOY_GROW(alloc, arr, capv, need) \
    loy_grow((alloc), (void **)&(arr), &(capv), (need), sizeof(*(arr)))

/* ----------------------------------------------------------------- arena */

/*
 * A bump allocator whose chunks are kept across resets, so a result reused
 * for many decisions stops allocating once it has seen its largest one.
 * Allocations are 8-byte aligned. loy_arena_alloc returns NULL on NOMEM.
 */
typedef struct loy_arena_chunk loy_arena_chunk;
typedef struct loy_arena {
    const loy_alloc *alloc;
    loy_arena_chunk *head;     /* chunk being filled */
    loy_arena_chunk *first;    /* all chunks, in order, for reuse */
    size_t used;               /* bytes used in head */
    unsigned char *head_data;  /* head's bytes and their count (0 with no head), */
    size_t head_size;          /* for loy_arena_take's inline path */
} loy_arena;

LOY_INTERNAL void loy_arena_init(loy_arena *arena, const loy_alloc *alloc);
LOY_INTERNAL void *loy_arena_alloc(loy_arena *arena, size_t size);
/* loy_arena_alloc with the common case (room in the head chunk) inline:
 * a result takes dozens of nodes per decision. */
static inline void *loy_arena_take(loy_arena *arena, size_t size)
{
    size_t rounded = (size + 7u) & ~(size_t)7u;
    if (rounded != 0 && arena->head_size - arena->used >= rounded) {
        void *p = arena->head_data + arena->used;
        arena->used += rounded;
        return p;
    }
    return loy_arena_alloc(arena, size);
}
LOY_INTERNAL char *loy_arena_strndup(loy_arena *arena, const char *s, size_t n);
LOY_INTERNAL char *loy_arena_strdup(loy_arena *arena, const char *s);
/* printf into the arena; NULL on NOMEM. */
LOY_INTERNAL char *loy_arena_printf(loy_arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
LOY_INTERNAL void loy_arena_reset(loy_arena *arena);
LOY_INTERNAL void loy_arena_release(loy_arena *arena);

/* ------------------------------------------------------ checked arithmetic */

/* Each returns false on int64 overflow, leaving *out unspecified. */
static inline bool loy_add(int64_t a, int64_t b, int64_t *out) { return !__builtin_add_overflow(a, b, out); }
static inline bool loy_sub(int64_t a, int64_t b, int64_t *out) { return !__builtin_sub_overflow(a, b, out); }
static inline bool loy_mul(int64_t a, int64_t b, int64_t *out) { return !__builtin_mul_overflow(a, b, out); }

/*
 * Exact rational arithmetic on 128-bit intermediates: a*b/c with the
 * rounding asked for (c > 0). Returns false when the rounded result leaves
 * int64. Intermediates never overflow for int64 inputs.
 */
typedef enum loy_round { LOY_ROUND_FLOOR = 0, LOY_ROUND_NEAREST = 1, LOY_ROUND_CEIL = 2 } loy_round;
LOY_INTERNAL bool loy_muldiv(int64_t a, int64_t b, int64_t c, loy_round mode, int64_t *out);
/* Round the rational num/den (den > 0, both __int128) to int64. */
LOY_INTERNAL bool loy_round_q(__int128 num, __int128 den, loy_round mode, int64_t *out);

/* --------------------------------------------------------------- strings */

static inline bool loy_streq(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* n bytes from s to d (not overlapping). Ids, order ids and tags are
 * mostly under 17 bytes: there two fixed-size moves that overlap in the
 * middle (or three single bytes below 4) cost a few instructions where
 * the library call costs a call and its size dispatch. Reads and writes
 * stay within [s, s + n) and [d, d + n). Returns the high bits of the
 * words it moved, or'd: 0 says every byte is ASCII, which the event's
 * setters keep (lib/event.h, LOY_SBUF_PLAIN) since the moves have them in
 * hand; past 16 bytes it does not look and returns them all set. A caller
 * that ignores it pays nothing for it. */
static inline uint64_t loy_copy_short(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    /* unsigned: n - 8 <= 8 is 8..16 in one compare, n - 4 <= 3 is 4..7,
     * n - 1 <= 2 is 1..3 */
    if (n - 8 <= 8) {
        uint64_t a, z;
        memcpy(&a, s, 8);
        memcpy(&z, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &z, 8);
        return (a | z) & UINT64_C(0x8080808080808080);
    }
    if (n - 4 <= 3) {
        uint32_t a, z;
        memcpy(&a, s, 4);
        memcpy(&z, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &z, 4);
        return (a | z) & UINT32_C(0x80808080);
    }
    if (n - 1 <= 2) {
        /* bytes 0, n/2 and n-1 cover 1 to 3 */
        unsigned char a = s[0], m = s[n / 2], z = s[n - 1];
        d[0] = a;
        d[n / 2] = m;
        d[n - 1] = z;
        return (a | m | z) & 0x80u;
    }
    if (n)
        memcpy(d, s, n);
    return n ? UINT64_C(0x8080808080808080) : 0;
}

/*
 * The key of a string for the policy's interned strings (lib/policy.h): its
 * length and first 16 bytes, zero padded. The same read tells whether the
 * string is plain: every byte ASCII and none NUL (then it is valid UTF-8
 * and equal to its C string), so an event's string is checked and resolved
 * in one pass.
 */
typedef struct loy_str_key {
    uint64_t w0, w1;
    uint64_t len;
} loy_str_key;

/* r < 8 bytes at p, as the low bytes of a word. Overlapping loads instead
 * of one per power of two: the bytes they share are the same bytes, so OR
 * joins them, and the common lengths take one branch. */
static inline __attribute__((always_inline)) uint64_t loy_load_low(const unsigned char *p, size_t r)
{
    if (r >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + r - 4, 4);
        return (uint64_t)lo | (uint64_t)hi << (8 * (r - 4));
    }
    if (r == 0)
        return 0;
    return (uint64_t)p[0] | (uint64_t)p[r >> 1] << (8 * (r >> 1)) | (uint64_t)p[r - 1] << (8 * (r - 1));
}

/* A high bit or a zero byte among the r low bytes of w (r <= 8):
 * (v - 1..1) & ~v sets the high bit of the lowest zero byte. */
static inline uint64_t loy_odd_bytes(uint64_t w, size_t r)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    uint64_t v = r < 8 ? w | (ones << (8 * r)) : w;   /* pad with 0x01: neither zero nor high */
    return (v | ((v - ones) & ~v)) & UINT64_C(0x8080808080808080);
}

/* Fills *k; returns whether the string is plain. */
static inline __attribute__((always_inline)) bool loy_str_key_of(const char *str, size_t len, loy_str_key *k)
{
    const unsigned char *s = (const unsigned char *)str;
    uint64_t odd;
    k->len = len;
    if (len <= 8) {
        k->w0 = len == 8 ? (memcpy(&k->w0, s, 8), k->w0) : loy_load_low(s, len);
        k->w1 = 0;
        return loy_odd_bytes(k->w0, len) == 0;
    }
    memcpy(&k->w0, s, 8);
    odd = loy_odd_bytes(k->w0, 8);
    if (len <= 16) {
        k->w1 = len == 16 ? (memcpy(&k->w1, s + 8, 8), k->w1) : loy_load_low(s + 8, len - 8);
        return (odd | loy_odd_bytes(k->w1, len - 8)) == 0;
    }
    memcpy(&k->w1, s + 8, 8);
    odd |= loy_odd_bytes(k->w1, 8);
    size_t i = 16;
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        odd |= loy_odd_bytes(w, 8);
    }
    if (len > i)
        odd |= loy_odd_bytes(loy_load_low(s + i, len - i), len - i);
    return odd == 0;
}

/* Validates UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
LOY_INTERNAL bool loy_utf8_valid(const char *s, size_t len);

/* vsnprintf into buf[cap], but a message cut short at cap ends on a
 * character boundary: an id in any script must not lose half a character
 * (the JSON writer would show U+FFFD). Returns the length written. */
LOY_INTERNAL size_t loy_vformat(char *buf, size_t cap, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* loy_utf8_valid with the all-ASCII case inline: an event's ids, SKUs and
 * categories nearly always are. */
static inline bool loy_utf8_ok(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    uint64_t acc, w;
    if (len < 8) {
        acc = loy_load_low(s, len);
    } else {
        /* the first and last eight bytes (overlapping), and any words between */
        memcpy(&acc, s, sizeof acc);
        memcpy(&w, s + len - 8, sizeof w);
        acc |= w;
        for (size_t i = 8; len - i > 8; i += 8) {
            memcpy(&w, s + i, sizeof w);
            acc |= w;
        }
    }
    return !(acc & UINT64_C(0x8080808080808080)) || loy_utf8_valid(str, len);
}

#endif
