/*
 * The layout of the state bytes (docs/state.md), shared by the writer
 * (save.c) and the reader (load.c). Private to lib/state/.
 *
 *   "LOY"  version(1)  length(u32 LE)  ~length(u32 LE)  payload  XXH3-64(u64 LE)
 *
 * length counts the whole byte string, checksum included; its complement
 * makes a damaged length a checksum failure rather than a false
 * "truncated". The checksum covers everything before it. The payload is a
 * fixed sequence of LEB128 varints (zigzag for signed values), bytes and
 * length-prefixed strings; it names tiers, plans, stages, action kinds,
 * benefits and gifts by id through a string table at its start.
 */
#ifndef LOY_STATE_CODEC_H
#define LOY_STATE_CODEC_H

#include <string.h>

#include "../member.h"

#define ST_MAGIC "LOY"
#define ST_MAGIC_LEN 3
#define ST_VERSION 1
#define ST_HEADER_LEN 12
#define ST_CHECKSUM_LEN 8
#define ST_MIN_LEN (ST_HEADER_LEN + ST_CHECKSUM_LEN)

/* payload flags */
enum {
    ST_F_FRESH = 1u << 0,            /* no event accepted yet: imports allowed */
    ST_F_LAST_EVENT = 1u << 1,       /* has_last_event, and the instant follows */
    ST_F_ORDERS_IMPORTED = 1u << 2,
    ST_F_PLAN = 1u << 3,             /* a running plan follows */
    ST_F_STAGE = 1u << 4,            /* a stage follows */
    /* Optional sections after the day's order points, added within version
     * 1: bytes without these flags read exactly as before. */
    ST_F_CAP_EARLIER = 1u << 5,      /* earlier local dates of cap.per_day follow */
    ST_F_SPEND_ORDERS = 1u << 6,     /* imported period-order spend gift entries follow */
    ST_F_ALL = (1u << 7) - 1
};

/* per-lot header bits */
enum {
    ST_LOT_PENDING = 1u << 0,
    ST_LOT_EXPIRES = 1u << 1,
    ST_LOT_ORDER_ID = 1u << 2,
    ST_LOT_RANK = 1u << 3,           /* credit rank given (else: the lot's position) */
    ST_LOT_ALL = (1u << 4) - 1
};

/* per-month byte: the low nibble says which figures are non-zero and
 * follow; the high nibble is the gap to the month before, minus one, with
 * 15 meaning "15 or more: the rest follows as a varint" */
enum { ST_MONTH_ALL = 0xF, ST_MONTH_GAP_MORE = 15 };

/* a counter's limit byte: kind | per << 2 | has_period_start << 4 */
#define ST_COUNTER_START 0x10u

/* spend-gift ledger entries carry their period kind, so a gift whose
 * period changed does not read a month as a year */
enum { ST_SPEND_MONTH = 1, ST_SPEND_YEAR = 2 };

/* loy_member_load without its fast paths: every entry read by the checked
 * path, for the tests that hold the two to the same answers. */
LOY_INTERNAL int loy_state_load_checked(loy_member *m, const void *data, size_t len);

static inline uint64_t st_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t st_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline void st_put_u32le(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, sizeof v);
#else
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static inline uint32_t st_get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The recent ids are most of a large state's bytes: on a little-endian
 * machine they move as whole words. */
static inline void st_put_u64le(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, sizeof v);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static inline uint64_t st_get_u64le(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
#else
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
#endif
}

#endif
