/*
 * An event as the setters of loy_event_* built it (lib/event.c). Values are
 * stored as given; loy_apply validates them (lib/engine/validate.c). String
 * buffers are reused across loy_event_reset, so a reused event stops
 * allocating.
 */
#ifndef LOY_EVENT_H
#define LOY_EVENT_H

#include "core.h"
#include "date.h"

/*
 * What loy_sbuf.set knows of the string. A producer that writes `true`
 * claims only that the string is there, and step 1 checks its bytes; the
 * setters' copy and the JSON reader's (lib/wire/event_json.c), which have
 * every byte in hand, write LOY_SBUF_PLAIN when they are 1..16 bytes of
 * ASCII without NUL (so valid UTF-8, non-empty, and equal to its C
 * string), and step 1 takes that without reading them again. Writing
 * either other value forgets it, so a producer that knows nothing of this
 * (a test) stays on the checks.
 */
enum { LOY_SBUF_UNSET = 0, LOY_SBUF_GIVEN = 1, LOY_SBUF_PLAIN = 2 };

/* A reusable owned string: NULL/absent when !set. */
typedef struct loy_sbuf {
    char *s;
    size_t len;
    size_t cap;
    uint8_t set;                    /* LOY_SBUF_* (true is LOY_SBUF_GIVEN) */
} loy_sbuf;

/*
 * A set buffer is readable in whole words past its NUL: loy_sbuf_set gives
 * it at least LOY_SBUF_MIN bytes and a multiple of 8, and zeroes every byte
 * it adds, so s[0..16) and s[0..(len + 8) & ~7) are initialised bytes of
 * the buffer. Validation reads the short strings of every event that way,
 * with a mask instead of a load per length (lib/engine/validate.c).
 */
#define LOY_SBUF_MIN 16

static inline uint64_t loy_sbuf_word(const loy_sbuf *b, size_t at)
{
    uint64_t w;
    memcpy(&w, b->s + at, sizeof w);
    return w;
}

/*
 * The length of a caller's C string that ends within the aligned 16-byte
 * blocks its first byte is in or the next two, and whether its bytes are all
 * ASCII, found by a few vector compares in place of a call to
 * strlen (the setters' callers pass ids, SKUs, categories and instants of
 * under 32 bytes). It reads whole aligned blocks: an aligned block does not
 * cross a page, and each next one is read only when the string goes on
 * into it, so every byte read is on a page the string is on, as the C
 * library's own strlen does; the bytes outside the string are masked off
 * and never used. The loads are asm so that the sanitizers, which would
 * report those bytes, do not instrument them (and the tests run this path
 * under ASan). false: no NUL in those blocks, the caller asks strlen.
 */
#if defined(__SSE2__) && defined(__GNUC__) && defined(__x86_64__)
#include <emmintrin.h>
#define LOY_HAVE_CSCAN 1

static inline __m128i loy_block16(const char *p)
{
    __m128i v;
    __asm__("movdqa %1, %0" : "=x"(v) : "m"(*(const struct { char b[16]; } *)p));
    return v;
}

static inline uint64_t loy_block_zeros(__m128i v)
{
    return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()));
}

static inline __attribute__((always_inline)) bool loy_cstr_scan(const char *s, size_t *len)
{
    const unsigned mis = (unsigned)((uintptr_t)s & 15);
    const char *p = s - mis;
    uint64_t z = loy_block_zeros(loy_block16(p)) >> mis;
    if (!z) {
        /* an instant (25 bytes) may reach a third block */
        z = loy_block_zeros(loy_block16(p + 16)) << 16 >> mis;
        if (!z) {
            z = loy_block_zeros(loy_block16(p + 32)) << 32 >> mis;
            if (!z)
                return false;
        }
    }
    *len = (size_t)__builtin_ctzll(z);
    return true;
}
#endif

typedef struct loy_line {
    loy_sbuf sku;                   /* optional */
    loy_sbuf category;              /* optional */
    int64_t amount;
    int64_t qty;
} loy_line;

/* Bits of loy_event.fields: which optional or required fields were set. */
enum {
    LOY_F_SAVINGS = 1u << 0,
    LOY_F_AMOUNT = 1u << 1,
    LOY_F_ORIGINAL = 1u << 2,
    LOY_F_POINTS = 1u << 3,
    LOY_F_ORDER_AMOUNT = 1u << 4,
    LOY_F_BIRTHDAY = 1u << 5,       /* birthday given (possibly null: birthday.set false) */
    LOY_F_TAGS = 1u << 6,
    LOY_F_LINES = 1u << 7
};

struct loy_event {
    const loy_alloc *alloc;
    loy_event_type type;            /* 0 until reset */
    unsigned fields;
    loy_sbuf id;
    loy_sbuf at;
    loy_sbuf channel;
    loy_sbuf store;
    int64_t savings;
    loy_line *lines;
    size_t line_count, line_cap;
    int64_t amount;                 /* return: refunded amount */
    loy_sbuf orig_id;
    loy_sbuf orig_at;
    int64_t orig_amount;
    int64_t orig_points;
    loy_sbuf kind;                  /* action */
    int64_t points;                 /* redeem */
    int64_t order_amount;           /* redeem */
    loy_sbuf benefit;
    loy_sbuf plan;
    loy_sbuf birthday;              /* profile: set=false with LOY_F_BIRTHDAY means null */
    loy_sbuf *tags;
    size_t tag_count, tag_cap;
};

LOY_INTERNAL bool loy_sbuf_set(const loy_alloc *a, loy_sbuf *b, const char *s, size_t len);
LOY_INTERNAL void loy_sbuf_free(const loy_alloc *a, loy_sbuf *b);
/* The type as the wire writes it ("event" for none). Inline: every event's
 * validation names its type. */
static inline const char *loy_event_type_name(loy_event_type type)
{
    static const char *const names[] = {"event", "order", "return", "action", "redeem",
                                        "use_benefit", "join_paid", "profile", "tick"};
    return type >= LOY_EVENT_ORDER && type <= LOY_EVENT_TICK ? names[type] : names[0];
}

#endif
