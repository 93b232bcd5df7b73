/*
 * loy_member_load: state bytes back into a member, read under the handle's
 * policy, which may not be the one that wrote them (POLICY.md §10.2).
 *
 * The bytes are parsed into a new handle and swapped in only when the whole
 * state is good, so a refusal leaves the caller's member as it was. Every
 * read is bounds-checked and every count is checked against the bytes left
 * before anything is allocated: a crafted payload with a valid checksum is
 * refused with LOY_E_STATE_CHECKSUM and a message of its own, never read
 * past its end, never trusted for an index.
 */
#include <stdarg.h>
#include <stdio.h>
#include <xxhash.h>

#include "codec.h"

typedef struct id_ref {
    const char *s;          /* into the input, not NUL-terminated */
    size_t len;
} id_ref;

typedef struct loader {
    const uint8_t *at, *end;
    bool bad;
    bool oom;               /* an allocation failed (also sets bad, to stop reading) */
    char why[200];          /* the first malformation */
    int policy_code;        /* the first §10.2 refusal */
    char policy_why[200];
    loy_member *t;          /* the state being built */
    const loy_policy *p;
    id_ref *table;          /* table_small or allocated */
    size_t table_count;
    id_ref *table_small;    /* the caller's, TABLE_SMALL entries: most states need no allocation */
    loy_day joined;
    const uint8_t *recent;      /* the recent ids, read once the state is good */
    size_t recent_count;
    /* With the policy's string numbers (lib/policy/ids.c) and a table of
     * up to TABLE_SMALL entries, each entry's number is found once, by
     * one probe, and every reference resolves by it; else by scans. */
    bool by_number;
    int32_t number[32];         /* per table entry: the policy's number, -1: none */
    bool fast;                  /* false: the checked path alone (tests) */
    /* Every month read by fast_month: their figures' sums, which read_state
     * then needs not work out again (see read_months). */
    bool months_summed;
    int64_t in_months[4];
} loader;

/* The grow call only when short: a reused handle has the room. */
#define ROOM(t, arr, capf, n) ((n) <= (t)->capf || LOY_GROW((t)->alloc, (t)->arr, (t)->capf, (n)))

#define TABLE_SMALL 32
/* The payload is read from a copy followed by PAD bytes of 0xFF: a varint
 * that reaches them never ends there, so get_uvar's short forms need no
 * end check (the long form has one), and a word read may run past a
 * string's end. */
#define PAD 16
#define LOTS_SMALL 64


static void malformed(loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3), cold));
static void malformed(loader *l, const char *fmt, ...)
{
    if (l->bad)
        return;
    l->bad = true;
    va_list ap;
    va_start(ap, fmt);
    loy_vformat(l->why, sizeof l->why, fmt, ap);
    va_end(ap);
    l->at = l->end;     /* every later read fails quietly */
}

static void lacks(loader *l, const char *what, id_ref id) __attribute__((cold));
static void lacks(loader *l, const char *what, id_ref id)
{
    if (l->policy_code)
        return;
    l->policy_code = LOY_E_STATE_POLICY;
    snprintf(l->policy_why, sizeof l->policy_why, "state names %s '%.*s', which this policy lacks", what,
             (int)(id.len > 100 ? 100 : id.len), id.s);
}

static size_t left(const loader *l)
{
    return (size_t)(l->end - l->at);
}

static uint8_t get_byte(loader *l, const char *what)
{
    if (l->at >= l->end) {
        malformed(l, "the payload ends inside %s", what);
        return 0;
    }
    return *l->at++;
}

static uint64_t get_uvar_long(loader *l, const char *what) __attribute__((noinline));
static uint64_t get_uvar_long(loader *l, const char *what)
{
    if (l->end - l->at >= 10) {
        /* room for the longest varint: no end checks, unrolled (the
         * first byte, if it had no continuation, was read inline) */
        const uint8_t *p = l->at;
        uint64_t v = 0, b;
#define ST_VAR_BYTE(k)                          \
        b = p[k];                               \
        v |= (b & 0x7F) << (7 * (k));           \
        if (b < 0x80) {                         \
            l->at = p + (k) + 1;                \
            return v;                           \
        }
        ST_VAR_BYTE(0)
        ST_VAR_BYTE(1)
        ST_VAR_BYTE(2)
        ST_VAR_BYTE(3)
        ST_VAR_BYTE(4)
        ST_VAR_BYTE(5)
        ST_VAR_BYTE(6)
        ST_VAR_BYTE(7)
        ST_VAR_BYTE(8)
#undef ST_VAR_BYTE
        b = p[9];
        if (b & 0xFE) {
            malformed(l, "%s: a varint longer than 64 bits", what);
            return 0;
        }
        l->at = p + 10;
        return v | b << 63;
    }
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (l->at >= l->end) {
            malformed(l, "the payload ends inside %s", what);
            return 0;
        }
        uint8_t b = *l->at++;
        if (shift == 63 && (b & 0x7E)) {
            malformed(l, "%s: a varint longer than 64 bits", what);
            return 0;
        }
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return v;
    }
    malformed(l, "%s: a varint longer than 64 bits", what);
    return 0;
}

/* Most varints of a state are one byte: those inline, the rest (and the
 * end of the payload) through the call. At the end, p[0..2] are padding
 * (0xFF, see PAD): no short form matches, and the call reports the end. */
static inline uint64_t get_uvar(loader *l, const char *what)
{
    const uint8_t *p = l->at;
    if (__builtin_expect(p[0] < 0x80, 1)) {
        l->at = p + 1;
        return p[0];
    }
    /* amounts and dates in days are often two bytes, money three */
    if (p[1] < 0x80) {
        l->at = p + 2;
        return (uint64_t)(p[0] & 0x7F) | (uint64_t)p[1] << 7;
    }
    if (p[2] < 0x80) {
        l->at = p + 3;
        return (uint64_t)(p[0] & 0x7F) | (uint64_t)(p[1] & 0x7F) << 7 | (uint64_t)p[2] << 14;
    }
    return get_uvar_long(l, what);
}

static inline int64_t get_svar(loader *l, const char *what)
{
    return st_unzigzag(get_uvar(l, what));
}

/*
 * The entries of the longer sections (months, lots) are first read by a
 * path without end checks, in their regular form: varints of at most 3
 * bytes. An entry that reaches the end meets the padding (0xFF, see PAD),
 * which no regular field takes: no varint ends in it and no header or
 * month byte has its bits. Anything else (a longer varint, a value out of
 * range, the end) leaves the loader untouched, and the checked path reads
 * the entry again and answers exactly as it always did.
 */
static inline bool fast_var3(const uint8_t **pp, uint64_t *v)
{
    const uint8_t *p = *pp;
    if (p[0] < 0x80) {
        *v = p[0];
        *pp = p + 1;
        return true;
    }
    if (p[1] < 0x80) {
        *v = (uint64_t)(p[0] & 0x7F) | (uint64_t)p[1] << 7;
        *pp = p + 2;
        return true;
    }
    if (p[2] < 0x80) {
        *v = (uint64_t)(p[0] & 0x7F) | (uint64_t)(p[1] & 0x7F) << 7 | (uint64_t)p[2] << 14;
        *pp = p + 3;
        return true;
    }
    return false;
}

/* A non-negative int64 (amounts, counts, points). */
static inline int64_t get_nonneg(loader *l, const char *what)
{
    uint64_t v = get_uvar(l, what);
    if (v > INT64_MAX) {
        malformed(l, "%s exceeds the int64 range", what);
        return 0;
    }
    return (int64_t)v;
}

/* An empty list (a count of 0, one byte), read before anything else: most
 * members' lists are mostly empty. At the end the byte is padding. */
static inline bool empty_list(loader *l)
{
    if (*l->at == 0) {
        l->at++;
        return true;
    }
    return false;
}

/* A count of entries each at least `min_bytes` long: never more than the bytes left allow. */
static inline size_t get_count(loader *l, size_t min_bytes, const char *what)
{
    if (empty_list(l))
        return 0;
    uint64_t n = get_uvar(l, what);
    if (l->bad)
        return 0;
    /* n * min_bytes > left, as n > left / min_bytes, without the division */
    uint64_t need;
    if (__builtin_mul_overflow(n, (uint64_t)min_bytes, &need) || need > left(l)) {
        malformed(l, "%s (%llu) exceeds what the payload can hold", what, (unsigned long long)n);
        return 0;
    }
    return (size_t)n;
}

/* Bytes all in 1..0x7F (ids nearly always are): UTF-8 without NUL. false
 * says only "look closer". The payload is followed by PAD bytes, so a
 * string's last word may be read whole and the bytes past it masked off. */
static inline bool plain_ascii(const uint8_t *s, size_t n)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, sizeof w);
        /* a 0 byte borrows into a high bit; a byte >= 0x80 has one */
        if (((w - ones) | w) & highs)
            return false;
    }
    if (i == n)
        return true;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w;
    memcpy(&w, s + i, sizeof w);
    uint64_t keep = (UINT64_C(1) << (8 * (n - i))) - 1;
    /* the bytes past the string become 0x01: plain */
    w = (w & keep) | (ones & ~keep);
    return !(((w - ones) | w) & highs);
#else
    for (; i < n; i++)
        if ((unsigned)s[i] - 1u >= 0x7Fu)
            return false;
    return true;
#endif
}

/* A length-prefixed id or text: non-empty UTF-8 without NUL. */
static inline id_ref get_str(loader *l, const char *what)
{
    id_ref r = {"", 0};
    uint64_t n = get_uvar(l, what);
    if (l->bad)
        return r;
    if (n > left(l)) {
        malformed(l, "%s runs past the end of the payload", what);
        return r;
    }
    const char *s = (const char *)l->at;
    if (n == 0 || (!plain_ascii(l->at, (size_t)n) &&
                   (memchr(s, '\0', (size_t)n) || !loy_utf8_valid(s, (size_t)n)))) {
        malformed(l, "%s is not a non-empty UTF-8 string", what);
        return r;
    }
    l->at += n;
    r.s = s;
    r.len = (size_t)n;
    return r;
}

/* A string of 1..16 plain bytes (1..0x7F: what get_str takes unchanged),
 * read without get_str's call; false: nothing read, get_str answers. Its
 * bytes are read as two words, which the padding after the payload
 * (PAD >= 16) keeps inside the buffer. */
static inline bool fast_str(loader *l, id_ref *out)
{
    const uint8_t *p = l->at;
    size_t n = p[0];
    if (n - 1u >= 16u || n >= (size_t)(l->end - p))
        return false;
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t a = st_get_u64le(p + 1), b = st_get_u64le(p + 9);
    /* the bytes past the string become 0x01: plain */
    if (n < 8) {
        uint64_t keep = (UINT64_C(1) << (8 * n)) - 1;
        a = (a & keep) | (ones & ~keep);
        b = ones;
    } else if (n < 16) {
        uint64_t keep = (UINT64_C(1) << (8 * (n - 8))) - 1;
        b = (b & keep) | (ones & ~keep);
    }
    if ((((a - ones) | a) | ((b - ones) | b)) & highs)
        return false;
    out->s = (const char *)p + 1;
    out->len = n;
    l->at = p + 1 + n;
    return true;
}

/* Into *buf, reusing it or one of the handle's spare buffers. */
static bool dup_ref(loader *l, id_ref r, char **buf, size_t *cap)
{
    return loy_member_set_str(l->t, buf, cap, r.s, r.len);
}

/* *at: the entry's index in the table (SIZE_MAX when bad). */
static inline id_ref get_ref_at(loader *l, const char *what, size_t *at)
{
    *at = SIZE_MAX;
    uint64_t i = get_uvar(l, what);
    if (l->bad)
        return (id_ref){"", 0};
    if (i >= l->table_count) {
        malformed(l, "%s refers to string %llu of %zu", what, (unsigned long long)i, l->table_count);
        return (id_ref){"", 0};
    }
    *at = (size_t)i;
    return l->table[i];
}


static inline bool day_in_range(const loader *l, int64_t d)
{
    /* one compare: a day before the first wraps past the span */
    (void)l;
    return (uint64_t)d - (uint64_t)(int64_t)LOY_DAY_FIRST <= (uint64_t)((int64_t)LOY_DAY_LAST - LOY_DAY_FIRST);
}

/* base + a decoded delta; a sum past int64 (only damaged bytes have one)
 * becomes INT64_MAX, which every range check below refuses. */
static int64_t plus_delta(int64_t base, int64_t delta)
{
    int64_t sum;
    return loy_add(base, delta, &sum) ? sum : INT64_MAX;
}

static inline loy_day get_date(loader *l, const char *what)
{
    int64_t d = plus_delta(l->joined, get_svar(l, what));
    if (l->bad)
        return l->joined;
    if (!day_in_range(l, d)) {
        malformed(l, "%s is not a date of 0000..9999", what);
        return l->joined;
    }
    return (loy_day)d;
}

static inline loy_day get_opt_date(loader *l, const char *what)
{
    uint64_t v = get_uvar(l, what);
    if (l->bad || v == 0)
        return LOY_DAY_NONE;
    int64_t d = plus_delta(l->joined, st_unzigzag(v - 1));
    if (!day_in_range(l, d)) {
        malformed(l, "%s is not a date of 0000..9999", what);
        return LOY_DAY_NONE;
    }
    return (loy_day)d;
}

/* ------------------------------------------------------ ids in the policy */

/* r holds no NUL, so a shorter id stops at its terminator */
static inline bool id_is(const char *id, id_ref r)
{
    if (!id)
        return false;
    for (size_t k = 0; k < r.len; k++)
        if (id[k] != r.s[k])
            return false;
    return id[r.len] == '\0';
}

static int tier_of(const loy_policy *p, id_ref r)
{
    for (uint32_t i = 0; i < p->tiers.count; i++)
        if (id_is(p->tiers.levels[i].id, r))
            return (int)i;
    return -1;
}

static int plan_of(const loy_policy *p, id_ref r)
{
    for (uint32_t i = 0; i < p->plan_count; i++)
        if (id_is(p->plans[i].id, r))
            return (int)i;
    return -1;
}

static int stage_of(const loy_policy *p, id_ref r)
{
    for (uint32_t i = 0; i < p->stage_count; i++)
        if (id_is(p->stages[i].id, r))
            return (int)i;
    return -1;
}

static int action_of(const loy_policy *p, id_ref r)
{
    for (uint32_t i = 0; i < p->points.action_count; i++)
        if (id_is(p->points.actions[i].kind, r))
            return (int)i;
    return -1;
}

static int benefit_of(const loy_policy *p, id_ref r)
{
    for (uint32_t i = 0; i < p->benefit_count; i++)
        if (id_is(p->benefits[i].id, r))
            return (int)i;
    return -1;
}

static int surprise_of(const loy_policy *p, id_ref r)
{
    for (uint32_t i = 0; i < p->gifts.surprise_count; i++)
        if (id_is(p->gifts.surprise[i].id, r))
            return (int)i;
    return -1;
}

static int spend_of(const loy_policy *p, id_ref r)
{
    for (uint32_t i = 0; i < p->gifts.spend_count; i++)
        if (id_is(p->gifts.spend[i].id, r))
            return (int)i;
    return -1;
}

/* The policy's number of a string of the table, -1: no id of the policy.
 * r lies in the payload, which PAD bytes follow, so its first 8 bytes may
 * be read whole. */
static inline int32_t number_of(const loy_state_ids *ids, id_ref r)
{
    uint64_t head = st_get_u64le((const uint8_t *)r.s);
    if (r.len < 8)
        head &= (UINT64_C(1) << (8 * r.len)) - 1;
    for (uint32_t h = loy_state_id_hash(head, r.len) & ids->mask;; h = (h + 1) & ids->mask) {
        uint32_t e = ids->slots[h];
        if (!e)
            return -1;
        e--;
        if (ids->head[e] != head || ids->lens[e] != r.len)
            continue;
        if (r.len <= 8)
            return (int32_t)e;
        /* up to 16 bytes: the last 8 of each, overlapping the head (no
         * memcmp call); both strings hold all r.len bytes */
        if (r.len <= 16 ? st_get_u64le((const uint8_t *)ids->names[e] + r.len - 8) ==
                              st_get_u64le((const uint8_t *)r.s + r.len - 8)
                        : memcmp(ids->names[e] + 8, r.s + 8, r.len - 8) == 0)
            return (int32_t)e;
    }
}

static int lookup_scan(const loader *l, unsigned kind, id_ref r) __attribute__((noinline));
static int lookup_scan(const loader *l, unsigned kind, id_ref r)
{
    switch (kind) {
    case LOY_SID_TIER: return tier_of(l->p, r);
    case LOY_SID_PLAN: return plan_of(l->p, r);
    case LOY_SID_STAGE: return stage_of(l->p, r);
    case LOY_SID_ACTION: return action_of(l->p, r);
    case LOY_SID_BENEFIT: return benefit_of(l->p, r);
    case LOY_SID_SURPRISE: return surprise_of(l->p, r);
    default: return spend_of(l->p, r);
    }
}

/* Table entry `at` (string r) as an id of `kind`: its index, -1: none. */
static inline int lookup(const loader *l, unsigned kind, size_t at, id_ref r)
{
    if (__builtin_expect(l->by_number, 1)) {
        int32_t n = l->number[at];
        return n < 0 ? -1 : l->p->state_ids.index_of[(size_t)n * LOY_SID_KINDS + kind];
    }
    return lookup_scan(l, kind, r);
}

/* ---------------------------------------------------------------- parts */

static void nomem(loader *l) __attribute__((cold));
static void nomem(loader *l)
{
    malformed(l, "out of memory");
    l->oom = true;
}

static inline __attribute__((always_inline)) void read_table(loader *l)
{
    size_t n = get_count(l, 2, "the string table's size");
    if (l->bad || n == 0)
        return;
    l->table = n <= TABLE_SMALL ? l->table_small : loy_malloc(l->t->alloc, n * sizeof *l->table);
    if (!l->table) {
        nomem(l);
        return;
    }
    const loy_state_ids *ids = &l->p->state_ids;
    l->by_number = ids->names && n <= TABLE_SMALL;
    size_t i = 0;
    if (l->fast && l->by_number) {
        /* A string of the policy (its length one byte) is found by its
         * bytes as they stand: the policy's strings are all good ones
         * (lib/policy/ids.c), so get_str would take it unchanged. The
         * cursor stays in a local until the first other string, which the
         * loop below reads. */
        const uint8_t *p = l->at, *end = l->end;
        id_ref *table = l->table;
        for (; i < n; i++) {
            size_t len = p[0];
            if (len - 1u >= 0x7Fu || len >= (size_t)(end - p))
                break;
            id_ref r = {(const char *)p + 1, len};
            int32_t number = number_of(ids, r);
            if (number < 0)
                break;
            table[i] = r;
            l->number[i] = number;
            p += 1 + len;
        }
        l->at = p;
        l->table_count = i;
    }
    for (; i < n && !l->bad; i++) {
        l->table_count = i + 1;
        l->table[i] = get_str(l, "a string of the table");
        if (l->by_number && !l->bad)
            l->number[i] = number_of(ids, l->table[i]);
    }
}

static void read_tags(loader *l)
{
    loy_member *t = l->t;
    size_t n = get_count(l, 2, "the number of tags");
    if (l->bad || n == 0)
        return;
    /* tags and tag_caps share tag_cap (a reused handle has both already) */
    size_t caps_cap = t->tag_cap;
    if ((n > t->tag_cap || !t->tag_caps) &&
        (!loy_grow(t->alloc, (void **)&t->tag_caps, &caps_cap, n, sizeof(size_t)) ||
         !ROOM(t, tags, tag_cap, n))) {
        nomem(l);
        return;
    }
    /* Tags below `owned` hold the previous state's strings (see
     * load_bytes): each is written over in place. */
    size_t owned = t->tag_count;
    for (size_t i = 0; i < n && !l->bad; i++) {
        id_ref r;
        if (!l->fast || !fast_str(l, &r))
            r = get_str(l, "a tag");
        if (l->bad)
            return;
        if (i >= owned) {
            t->tags[i] = NULL;
            t->tag_caps[i] = 0;
            t->tag_count = i + 1;   /* owned from here on, for the free on failure */
        }
        if (!dup_ref(l, r, &t->tags[i], &t->tag_caps[i])) {
            nomem(l);
            return;
        }
    }
    if (!l->bad && n < t->tag_count)
        loy_member_keep_tags(t, n);
}

static inline bool seen_has(const uint64_t *seen, uint64_t rank)
{
    return (seen[rank / 64] >> (rank % 64)) & 1u;
}

static inline void seen_put(uint64_t *seen, uint64_t rank)
{
    seen[rank / 64] |= UINT64_C(1) << (rank % 64);
}

/* Lot i but for its order id, when it is regular (see fast_var3); false:
 * nothing read, nothing changed. */
static inline bool fast_lot(loader *l, size_t i, size_t n, uint64_t *seen, int64_t *total,
                            loy_day *prev_credit, loy_day *prev_expires, loy_lot *lot, unsigned *hdr_out)
{
    const uint8_t *p = l->at;
    unsigned hdr = *p++;
    uint64_t rank = i, points, x;
    if (hdr & ~(unsigned)ST_LOT_ALL)
        return false;
    if ((hdr & ST_LOT_RANK) && !fast_var3(&p, &rank))
        return false;
    if (rank >= n || seen_has(seen, rank) || !fast_var3(&p, &points) || points == 0)
        return false;
    int64_t sum;
    if (!loy_add(*total, (int64_t)points, &sum) || !fast_var3(&p, &x))
        return false;
    int64_t credited = plus_delta(*prev_credit, st_unzigzag(x));
    if (credited != LOY_DAY_NONE && !day_in_range(l, credited))
        return false;
    int64_t expires = LOY_DAY_NONE, pending = LOY_DAY_NONE;
    if (hdr & ST_LOT_EXPIRES) {
        if (!fast_var3(&p, &x))
            return false;
        expires = plus_delta(*prev_expires, st_unzigzag(x));
        if (!day_in_range(l, expires))
            return false;
    }
    if (hdr & ST_LOT_PENDING) {
        if (!(hdr & ST_LOT_ORDER_ID) || !fast_var3(&p, &x))
            return false;
        pending = plus_delta((loy_day)credited, st_unzigzag(x));
        if (!day_in_range(l, pending))
            return false;
    }
    l->at = p;
    seen_put(seen, rank);
    lot->seq = (uint32_t)rank;
    lot->points = (int64_t)points;
    *total = sum;
    lot->credited = (loy_day)credited;
    *prev_credit = lot->credited;
    lot->expires = (loy_day)expires;
    if (hdr & ST_LOT_EXPIRES)
        *prev_expires = lot->expires;
    lot->pending_until = (loy_day)pending;
    *hdr_out = hdr;
    return true;
}

/* The scratch's own drops of lot order ids (loy_member_drop_str and
 * loy_member_keep_lots): the scratch never has a journal open, so a
 * buffer goes straight onto its spare list when the list has room; the
 * member.c calls, which may grow the list or free, take the rest. */
static inline void scratch_drop_id(loy_member *t, loy_lot *lot)
{
    if (t->spare_count < t->spare_cap)
        loy_member_spare_put(t, &lot->order_id, &lot->order_id_cap);
    else
        loy_member_drop_str(t, &lot->order_id, &lot->order_id_cap);
}

/* n < t->lot_count */
static inline void scratch_keep_lots(loy_member *t, size_t n)
{
    if (t->spare_count + (t->lot_count - n) > t->spare_cap) {
        loy_member_keep_lots(t, n);
        return;
    }
    loy_member_spare_lot_ids(t, n);
    t->lot_count = n;
}

static void read_lots(loader *l)
{
    loy_member *t = l->t;
    /* Lots below `owned` are the previous state's, with their order ids
     * (see load_bytes): a lot read there writes its id into the buffer it
     * finds, and a lot without one gives the buffer back as a spare, so
     * the ids need not all go to the spares and come back at every load.
     * The lot count covers them until the end, for the free on failure. */
    size_t owned = t->lot_count;
    size_t n = get_count(l, 3, "the number of lots");
    if (l->bad)
        return;
    if (n == 0) {
        if (owned)
            scratch_keep_lots(t, 0);
        t->next_seq = 0;
        return;
    }
    if (!ROOM(t, lots, lot_cap, n)) {
        nomem(l);
        return;
    }
    /* the ranks seen, a bit each: most states fit one word */
    uint64_t seen_small[LOTS_SMALL / 64];
    uint64_t *seen = seen_small;
    if (n <= LOTS_SMALL)
        seen_small[0] = 0;
    else
        seen = loy_calloc(t->alloc, (n + 63) / 64, sizeof *seen);
    if (!seen) {
        nomem(l);
        return;
    }
    loy_day prev_credit = l->joined, prev_expires = l->joined;
    int64_t total = 0;
    for (size_t i = 0; i < n && !l->bad; i++) {
        loy_lot *lot = &t->lots[i];
        /* both paths write every other field (a refusal clears the rest) */
        if (i >= owned) {
            lot->order_id = NULL;
            lot->order_id_cap = 0;
            t->lot_count = i + 1;   /* owned from here on, for the free on failure */
        }
        unsigned hdr;
        if (l->fast &&
            fast_lot(l, i, n, seen, &total, &prev_credit, &prev_expires, lot, &hdr))
            goto order_id;
        hdr = get_byte(l, "a lot");
        if (hdr & ~(unsigned)ST_LOT_ALL)
            malformed(l, "a lot has unknown flags 0x%02x", hdr);
        uint64_t rank = (hdr & ST_LOT_RANK) ? get_uvar(l, "a lot's rank") : i;
        if (!l->bad && (rank >= n || seen_has(seen, rank)))
            malformed(l, "lot ranks are not a permutation");
        if (l->bad)
            break;
        seen_put(seen, rank);
        lot->seq = (uint32_t)rank;
        lot->points = get_nonneg(l, "a lot's points");
        if (!l->bad && lot->points == 0)
            malformed(l, "a lot holds 0 points");
        if (!l->bad && !loy_add(total, lot->points, &total))
            malformed(l, "the lots add up beyond the int64 range");
        int64_t credited = plus_delta(prev_credit, get_svar(l, "a lot's credit date"));
        if (!l->bad && credited != LOY_DAY_NONE && !day_in_range(l, credited))
            malformed(l, "a lot's credit date is not a date of 0000..9999");
        lot->credited = (loy_day)credited;
        prev_credit = lot->credited;
        lot->expires = LOY_DAY_NONE;
        if (hdr & ST_LOT_EXPIRES) {
            int64_t d = plus_delta(prev_expires, get_svar(l, "a lot's last day"));
            if (!l->bad && !day_in_range(l, d))
                malformed(l, "a lot's last day is not a date of 0000..9999");
            lot->expires = (loy_day)d;
            prev_expires = lot->expires;
        }
        lot->pending_until = LOY_DAY_NONE;
        if (hdr & ST_LOT_PENDING) {
            int64_t d = plus_delta(lot->credited, get_svar(l, "a lot's release date"));
            if (!l->bad && !day_in_range(l, d))
                malformed(l, "a lot's release date is not a date of 0000..9999");
            lot->pending_until = (loy_day)d;
            if (!(hdr & ST_LOT_ORDER_ID))
                malformed(l, "a pending lot has no order id");
        }
    order_id:
        if (hdr & ST_LOT_ORDER_ID) {
            id_ref r;
            if (!l->fast || !fast_str(l, &r))
                r = get_str(l, "a lot's order id");
            if (!l->bad) {
                if (!dup_ref(l, r, &lot->order_id, &lot->order_id_cap))
                    nomem(l);
            }
        } else if (lot->order_id) {
            scratch_drop_id(t, lot);
        }
        if (!l->bad && i > 0 && !loy_lot_before(&t->lots[i - 1], lot))
            malformed(l, "lots are not in expiry and credit order");
    }
    if (seen != seen_small)
        loy_free(t->alloc, seen);
    if (!l->bad && n < t->lot_count)
        scratch_keep_lots(t, n);
    t->next_seq = (uint32_t)n;
}

/* The most a regular month or lot takes, all within the padding when it
 * starts at the end: a month's byte, its gap or first month, four
 * figures; a lot's byte, rank, points and three dates (3 bytes each but
 * for the bytes). */
_Static_assert(PAD >= 16, "a regular month or lot is read within the padding");

/* Month i into *b when it is regular (see fast_var3); false: nothing read. */
static inline bool fast_month(loader *l, size_t i, int64_t *month, loy_month_bucket *b, uint64_t sum[4])
{
    const int64_t last_month = LOY_MONTH_LAST;
    const uint8_t *p = l->at;
    int64_t mo = *month;
    unsigned mask;
    uint64_t x;
    if (i == 0) {
        if (!fast_var3(&p, &x))
            return false;
        mo = plus_delta(mo, st_unzigzag(x));
        mask = *p++;
        if (mask & ~(unsigned)ST_MONTH_ALL)
            return false;
    } else {
        mask = *p++;
        uint64_t gap = mask >> 4;
        if (gap == ST_MONTH_GAP_MORE) {
            if (!fast_var3(&p, &x))
                return false;
            gap += x;
        }
        mo += (int64_t)gap + 1;
        mask &= ST_MONTH_ALL;
    }
    if (mo < 0 || mo > last_month || mask == 0)
        return false;
    /* bit by bit, each figure in a register of its own */
    uint64_t v0 = 0, v1 = 0, v2 = 0, v3 = 0;
    if ((mask & 1) && (!fast_var3(&p, &v0) || v0 == 0))
        return false;
    if ((mask & 2) && (!fast_var3(&p, &v1) || v1 == 0))
        return false;
    if ((mask & 4) && (!fast_var3(&p, &v2) || v2 == 0))
        return false;
    if ((mask & 8) && (!fast_var3(&p, &v3) || v3 == 0))
        return false;
    l->at = p;
    *month = mo;
    sum[0] += v0;
    sum[1] += v1;
    sum[2] += v2;
    sum[3] += v3;
    b->month = (loy_month)mo;
    b->spend = (int64_t)v0;
    b->orders = (int64_t)v1;
    b->growth = (int64_t)v2;
    b->points_earned = (int64_t)v3;
    return true;
}

static void read_months(loader *l)
{
    loy_member *t = l->t;
    /* a later month takes as little as 2 bytes: its byte and one figure */
    size_t n = get_count(l, 2, "the number of months");
    l->months_summed = false;
    if (l->bad || n == 0)
        return;
    if (!ROOM(t, months, month_cap, n)) {
        nomem(l);
        return;
    }
    const int64_t last_month = LOY_MONTH_LAST;
    int64_t month = loy_month_of(l->joined);
    size_t i = 0;
    if (l->fast) {
        /* Figures below 2^21 each (fast_var3), at most 2^32 of them (the
         * length is a u32): their sums stay below 2^53, no check needed. */
        uint64_t sum[4] = {0, 0, 0, 0};
        while (i < n && fast_month(l, i, &month, &t->months[i], sum))
            i++;
        t->month_count = i;
        if (i == n) {
            l->months_summed = true;
            for (int k = 0; k < 4; k++)
                l->in_months[k] = (int64_t)sum[k];
            return;
        }
    }
    for (; i < n && !l->bad; i++) {
        unsigned mask;
        if (i == 0) {
            month = plus_delta(month, get_svar(l, "a month"));
            mask = get_byte(l, "a month's figures");
            if (mask & ~(unsigned)ST_MONTH_ALL)
                malformed(l, "the first month has a gap");
        } else {
            mask = get_byte(l, "a month's figures");
            uint64_t gap = mask >> 4;
            if (gap == ST_MONTH_GAP_MORE) {
                uint64_t more = get_uvar(l, "a month's gap");
                gap = more > (uint64_t)last_month ? (uint64_t)last_month : gap + more;
            }
            month += (int64_t)gap + 1;
        }
        mask &= ST_MONTH_ALL;
        if (!l->bad && (month < 0 || month > last_month))
            malformed(l, "a month is not in 0000-01..9999-12");
        if (!l->bad && mask == 0)
            malformed(l, "a month has no figure");
        int64_t v[4] = {0, 0, 0, 0};
        /* only the figures the mask lists; once bad, the reads are quiet */
        for (unsigned bits = l->bad ? 0 : mask; bits; bits &= bits - 1) {
            unsigned k = (unsigned)__builtin_ctz(bits);
            v[k] = get_nonneg(l, "a monthly figure");
            if (!l->bad && v[k] == 0)
                malformed(l, "a month lists a figure of 0");
        }
        if (l->bad)
            return;
        loy_month_bucket *b = &t->months[i];
        b->month = (loy_month)month;
        b->spend = v[0];
        b->orders = v[1];
        b->growth = v[2];
        b->points_earned = v[3];
        t->month_count = i + 1;
    }
}

/*
 * Limit counters (§10.2): a count carries over while the limit keeps its
 * period (once, or the same per); a limit that changed its period, or went
 * away, counts afresh, and a kind or benefit the policy lacks is dropped.
 */
static void read_counters(loader *l, bool benefits)
{
    loy_member *t = l->t;
    const char *what = benefits ? "the number of benefit counters" : "the number of action counters";
    size_t n = get_count(l, 3, what);
    if (l->bad || n == 0)
        return;
    loy_counter **arr = benefits ? &t->benefit_uses : &t->actions;
    size_t *count = benefits ? &t->benefit_use_count : &t->action_count;
    size_t *cap = benefits ? &t->benefit_use_cap : &t->action_cap;
    if (n > *cap && !loy_grow(t->alloc, (void **)arr, cap, n, sizeof **arr)) {
        nomem(l);
        return;
    }
    for (size_t i = 0; i < n && !l->bad; i++) {
        size_t at;
        id_ref id = get_ref_at(l, "a counter's id", &at);
        unsigned lim = get_byte(l, "a counter's limit");
        if (!l->bad && ((lim & 3u) == 3u || (lim & ~0x1Fu)))
            malformed(l, "a counter has the limit byte 0x%02x", lim);
        loy_day start = LOY_DAY_NONE;
        if (lim & ST_COUNTER_START)
            start = get_date(l, "a counter's period");
        int64_t uses = get_nonneg(l, "a counter's count");
        if (l->bad)
            return;
        loy_limit_kind kind = (loy_limit_kind)(lim & 3u);
        loy_period per = (loy_period)((lim >> 2) & 3u);
        int idx = lookup(l, benefits ? LOY_SID_BENEFIT : LOY_SID_ACTION, at, id);
        if (idx < 0 || kind == LOY_LIMIT_NONE)
            continue;
        const loy_limit *now = benefits ? &l->p->benefits[idx].limit : &l->p->points.actions[idx].limit;
        if (now->kind != kind || (kind == LOY_LIMIT_PER && now->per != per))
            continue;
        loy_counter *c = &(*arr)[(*count)++];
        c->index = idx;
        c->kind = kind;
        c->per = per;
        c->period_start = start;
        c->count = uses;
    }
}

static bool mark_known(const loy_gift_mark *marks, size_t n, int32_t index, int32_t period)
{
    for (size_t i = 0; i < n; i++)
        if (marks[i].index == index && marks[i].period == period)
            return true;
    return false;
}

static void read_gifts(loader *l)
{
    loy_member *t = l->t;
    const loy_policy *p = l->p;

    size_t n = get_count(l, 1, "the number of upgrade gifts");
    size_t g = 0;
    if (l->fast && l->by_number) {
        /* references of one byte to the table (at most TABLE_SMALL
         * entries), the cursor in a local; any other (the end is
         * padding, past every entry) goes to the loop below */
        const uint8_t *q = l->at;
        const int32_t *index_of = p->state_ids.index_of;
        for (; g < n; g++) {
            size_t at = q[0];
            if (at >= l->table_count)
                break;
            q++;
            int32_t number = l->number[at];
            int idx = number < 0 ? -1 : index_of[(size_t)number * LOY_SID_KINDS + LOY_SID_TIER];
            if (idx >= 0)
                t->upgrade_given[idx] = 1;
        }
        l->at = q;
    }
    for (; g < n && !l->bad; g++) {
        size_t at;
        id_ref id = get_ref_at(l, "an upgrade gift's tier", &at);
        int idx = l->bad ? -1 : lookup(l, LOY_SID_TIER, at, id);
        if (idx >= 0)
            t->upgrade_given[idx] = 1;
    }

    n = get_count(l, 1, "the number of birthday gifts");
    if (n && !l->bad) {
        if (!ROOM(t, birthday_years, birthday_year_cap, n)) {
            nomem(l);
            return;
        }
        int64_t year = -1;
        for (size_t i = 0; i < n && !l->bad; i++) {
            uint64_t v = get_uvar(l, "a birthday gift's year");
            year = v > 9999 ? 10000 : year + (int64_t)v + 1;
            if (!l->bad && year > 9999)
                malformed(l, "a birthday gift's year is past 9999");
            if (l->bad)
                return;
            t->birthday_years[t->birthday_year_count++] = (int32_t)year;
        }
    }

    n = get_count(l, 2, "the number of surprise gifts");
    if (n && !l->bad &&
        !ROOM(t, surprise_given, surprise_given_cap, n)) {
        nomem(l);
        return;
    }
    for (size_t i = 0; i < n && !l->bad; i++) {
        size_t at;
        id_ref id = get_ref_at(l, "a surprise gift's id", &at);
        uint64_t year = get_uvar(l, "a surprise gift's year");
        if (!l->bad && year > 9999)
            malformed(l, "a surprise gift's year is past 9999");
        if (l->bad)
            return;
        int idx = lookup(l, LOY_SID_SURPRISE, at, id);
        if (idx < 0)
            continue;
        /* The entry as it stands (§10.2), its year too: a gift now once in
         * a lifetime counts as given whatever year an entry names. */
        int32_t period = (int32_t)year;
        if (!mark_known(t->surprise_given, t->surprise_given_count, idx, period)) {
            t->surprise_given[t->surprise_given_count].index = idx;
            t->surprise_given[t->surprise_given_count].period = period;
            t->surprise_given_count++;
        }
    }

    n = get_count(l, 3, "the number of spend gifts");
    if (n && !l->bad && !ROOM(t, spend_given, spend_given_cap, n)) {
        nomem(l);
        return;
    }
    for (size_t i = 0; i < n && !l->bad; i++) {
        size_t at;
        id_ref id = get_ref_at(l, "a spend gift's id", &at);
        unsigned kind = get_byte(l, "a spend gift's period kind");
        uint64_t v = get_uvar(l, "a spend gift's period");
        if (!l->bad && kind != ST_SPEND_MONTH && kind != ST_SPEND_YEAR)
            malformed(l, "a spend gift has the period kind %u", kind);
        if (!l->bad && v > (kind == ST_SPEND_MONTH ? (unsigned)LOY_MONTH_LAST : 9999u))
            malformed(l, "a spend gift's period is past 9999");
        if (l->bad)
            return;
        int idx = lookup(l, LOY_SID_SPEND, at, id);
        if (idx < 0)
            continue;
        /* Kept as it stands (§10.2), with its kind of period: under a
         * policy that now counts the other kind, or orders, it matches no
         * period, and it does again if the policy changes back. */
        t->spend_given[t->spend_given_count].index = idx;
        t->spend_given[t->spend_given_count].period =
            kind == ST_SPEND_YEAR ? LOY_SPEND_YEAR_MARK + (int32_t)v : (int32_t)v;
        t->spend_given_count++;
    }
}

/* Earlier local dates of cap.per_day: each back from the date after it
 * (cap_day for the last), so they are ascending and before cap_day by
 * construction. */
static void read_cap_earlier(loader *l)
{
    loy_member *t = l->t;
    size_t n = get_count(l, 2, "the number of earlier days of the points cap");
    if (l->bad)
        return;
    if (n == 0 || n > LOY_CAP_EARLIER_DAYS || t->cap_day == LOY_DAY_NONE) {
        malformed(l, "%zu earlier days of the points cap%s", n,
                  t->cap_day == LOY_DAY_NONE ? " without a day" : "");
        return;
    }
    uint64_t back[LOY_CAP_EARLIER_DAYS];
    int64_t points[LOY_CAP_EARLIER_DAYS];
    for (size_t i = 0; i < n; i++) {
        back[i] = get_uvar(l, "an earlier day of the points cap");
        points[i] = get_nonneg(l, "an earlier day's order points");
    }
    if (l->bad)
        return;
    /* Any gap is accepted: the engine keeps only dates a later event can
     * reach, but a state it continued (loaded from older or other bytes)
     * may hold any ascending dates, and what the library writes it must
     * read back. */
    int64_t next = t->cap_day;
    for (size_t i = n; i-- > 0;) {
        int64_t day = back[i] >= (uint64_t)(next - LOY_DAY_FIRST) ? INT64_MIN
                                                                    : next - (int64_t)back[i] - 1;
        if (!day_in_range(l, day)) {
            malformed(l, "an earlier day of the points cap is not a date of 0000..9999");
            return;
        }
        t->cap_earlier[i].day = (loy_day)day;
        t->cap_earlier[i].points = points[i];
        next = day;
    }
    t->cap_earlier_count = (uint32_t)n;
}

/* Imported period-order spend gift entries: kept ascending by (index,
 * order) under this policy; gifts it lacks or no longer has per order are
 * dropped, like the other ledgers' entries (§10.2). */
static void read_spend_orders(loader *l)
{
    loy_member *t = l->t;
    size_t n = get_count(l, 9, "the number of order spend gifts");
    if (!l->bad && n == 0)
        malformed(l, "an empty section of order spend gifts");
    if (l->bad)
        return;
    if (!ROOM(t, spend_orders, spend_order_cap, n)) {
        nomem(l);
        return;
    }
    for (size_t i = 0; i < n && !l->bad; i++) {
        size_t entry;
        id_ref id = get_ref_at(l, "an order spend gift's id", &entry);
        if (!l->bad && left(l) < 8)
            malformed(l, "the payload ends inside an order spend gift's order");
        if (l->bad)
            return;
        uint64_t order = st_get_u64le(l->at);
        l->at += 8;
        int idx = lookup(l, LOY_SID_SPEND, entry, id);
        if (idx < 0)
            continue;
        size_t at = 0;
        while (at < t->spend_order_count &&
               (t->spend_orders[at].index < idx ||
                (t->spend_orders[at].index == idx && t->spend_orders[at].order < order)))
            at++;
        if (at < t->spend_order_count && t->spend_orders[at].index == idx && t->spend_orders[at].order == order) {
            malformed(l, "an order spend gift is listed twice");
            return;
        }
        memmove(&t->spend_orders[at + 1], &t->spend_orders[at],
                (t->spend_order_count - at) * sizeof t->spend_orders[0]);
        t->spend_orders[at].index = idx;
        t->spend_orders[at].order = order;
        t->spend_order_count++;
    }
}

static void read_state(loader *l, unsigned flags)
{
    loy_member *t = l->t;
    const loy_policy *p = l->p;

    id_ref id;
    if (!l->fast || !fast_str(l, &id))
        id = get_str(l, "the member id");
    if (l->bad)
        return;
    if (!dup_ref(l, id, &t->id, &t->id_cap)) {
        nomem(l);
        return;
    }
    int64_t joined = get_svar(l, "the joining date");
    if (!l->bad && !day_in_range(l, joined))
        malformed(l, "the joining date is not a date of 0000..9999");
    if (l->bad)
        return;
    l->joined = t->joined = (loy_day)joined;
    loy_member_put_birthday(t, get_opt_date(l, "the birthday"));
    if (!empty_list(l))
        read_tags(l);
    else if (t->tag_count)
        loy_member_keep_tags(t, 0);

    size_t entry;
    id_ref tier = get_ref_at(l, "the tier", &entry);
    if (!l->bad) {
        t->tier = lookup(l, LOY_SID_TIER, entry, tier);
        if (t->tier < 0) {
            lacks(l, "tier", tier);
            t->tier = 0;
        }
    }
    t->tier_since = get_date(l, "tier_since");
    t->last_review = get_opt_date(l, "the last review");

    t->debt = get_nonneg(l, "the debt");
    read_lots(l);

    read_months(l);
    t->lifetime[0] = get_svar(l, "a lifetime total");
    t->lifetime[1] = get_svar(l, "a lifetime total");
    t->lifetime[2] = get_svar(l, "a lifetime total");
    t->lifetime[3] = get_svar(l, "a lifetime total");
    /* What the engine's updates keep and lib/engine/metrics.c relies on:
     * each lifetime total holds at least the months kept (so their sum
     * fits int64). Damaged bytes that break it are refused here. */
    if (!l->bad) {
        int64_t in_months[4] = {0, 0, 0, 0};
        if (l->months_summed)
            memcpy(in_months, l->in_months, sizeof in_months);
        for (size_t i = 0; i < t->month_count && !l->months_summed; i++) {
            const loy_month_bucket *b = &t->months[i];
            if (!loy_add(in_months[LOY_METRIC_SPEND], b->spend, &in_months[LOY_METRIC_SPEND]) ||
                !loy_add(in_months[LOY_METRIC_ORDERS], b->orders, &in_months[LOY_METRIC_ORDERS]) ||
                !loy_add(in_months[LOY_METRIC_GROWTH], b->growth, &in_months[LOY_METRIC_GROWTH]) ||
                !loy_add(in_months[LOY_METRIC_POINTS_EARNED], b->points_earned,
                         &in_months[LOY_METRIC_POINTS_EARNED])) {
                malformed(l, "the monthly figures add up beyond the int64 range");
                break;
            }
        }
        if (!l->bad && ((t->lifetime[0] < in_months[0]) | (t->lifetime[1] < in_months[1]) |
                        (t->lifetime[2] < in_months[2]) | (t->lifetime[3] < in_months[3])))
            malformed(l, "a lifetime total is below the months it includes");
    }
    t->orders = get_nonneg(l, "the lifetime orders");
    t->last_order = get_opt_date(l, "the last order");

    if (!empty_list(l))
        read_counters(l, false);
    if (!empty_list(l))
        read_counters(l, true);
    read_gifts(l);

    t->plan = -1;
    if (flags & ST_F_PLAN) {
        id_ref plan = get_ref_at(l, "the running plan", &entry);
        t->plan_from = get_opt_date(l, "the plan's start");
        t->plan_until = get_date(l, "the plan's last day");
        t->plan_fees = get_nonneg(l, "the plan's fees");
        t->plan_savings = get_nonneg(l, "the plan's savings");
        if (!l->bad) {
            t->plan = lookup(l, LOY_SID_PLAN, entry, plan);
            if (t->plan < 0)
                lacks(l, "running plan", plan);
        }
    } else {
        t->plan_from = t->plan_until = LOY_DAY_NONE;
        t->plan_fees = t->plan_savings = 0;
    }
    t->stage = -1;
    if (flags & ST_F_STAGE) {
        id_ref stage = get_ref_at(l, "the stage", &entry);
        /* without lifecycle the stage is null (§10.2) */
        if (!l->bad && p->has_lifecycle) {
            t->stage = lookup(l, LOY_SID_STAGE, entry, stage);
            if (t->stage < 0)
                lacks(l, "stage", stage);
        }
    }
    if (flags & ST_F_LAST_EVENT) {
        loy_instant *at = &t->last_event;
        at->date = get_date(l, "the last event's date");
        uint64_t secs = get_uvar(l, "the last event's time");
        int64_t offset = get_svar(l, "the last event's offset");
        int64_t micros = get_svar(l, "the last event's fraction");
        if (!l->bad && (secs > 86399 || offset < -1439 || offset > 1439 || micros < 0 || micros > 999999))
            malformed(l, "the last event's instant is out of range");
        if (l->bad)
            return;
        at->seconds = (int32_t)secs;
        at->offset_min = (int32_t)offset;
        at->utc_us = ((int64_t)at->date * 86400 + at->seconds - offset * 60) * 1000000 + micros;
        t->has_last_event = true;
    } else {
        t->has_last_event = false;
        memset(&t->last_event, 0, sizeof t->last_event);
    }
    t->cap_day = get_opt_date(l, "the day of the points cap");
    t->day_points = get_nonneg(l, "the day's order points");
    t->cap_earlier_count = 0;
    if (flags & ST_F_CAP_EARLIER)
        read_cap_earlier(l);
    if (flags & ST_F_SPEND_ORDERS)
        read_spend_orders(l);

    size_t recent = get_count(l, 8, "the number of recent event ids");
    if (!l->bad && recent > LOY_RECENT_IDS)
        malformed(l, "%zu recent event ids, more than %d", recent, LOY_RECENT_IDS);
    if (l->bad)
        return;
    /* the ids go straight into the caller's ring once the state is good */
    l->recent = l->at;
    l->recent_count = recent;
    l->at += 8 * recent;
    t->recent_count = (uint32_t)recent;
    t->recent_pos = (uint32_t)(recent % LOY_RECENT_IDS);

    if (!l->bad && l->at != l->end)
        malformed(l, "%zu bytes follow the last field", left(l));
    t->fresh = (flags & ST_F_FRESH) != 0;
    t->orders_imported = (flags & ST_F_ORDERS_IMPORTED) != 0;
    t->initialised = true;
}

/* ----------------------------------------------------------------- entry */

/* inlined into both entries, so the fast one is compiled for itself */
static inline __attribute__((always_inline)) int load_bytes(loy_member *m, const void *data, size_t len,
                                                           bool fast)
{
    if (!m)
        return LOY_E_INVALID_ARG;
    if (!data && len)
        return loy_member_fail(m, LOY_E_INVALID_ARG, "state bytes are NULL");
    const uint8_t *b = data;

    /* The header: foreign bytes and other versions first, then length. */
    if (len == 0)
        return loy_member_fail(m, LOY_E_STATE_TRUNCATED, "state bytes are empty");
    /* byte by byte: a memcmp call costs more than the three compares */
    size_t magic = len < ST_MAGIC_LEN ? len : ST_MAGIC_LEN;
    bool foreign = false;
    for (size_t i = 0; i < magic; i++)
        foreign |= b[i] != (uint8_t)ST_MAGIC[i];
    if (foreign)
        return loy_member_fail(m, LOY_E_STATE_VERSION, "these are not libloyalty state bytes");
    if (len <= ST_MAGIC_LEN)
        return loy_member_fail(m, LOY_E_STATE_TRUNCATED, "state bytes end after %zu bytes, inside the header", len);
    if (b[ST_MAGIC_LEN] != ST_VERSION)
        return loy_member_fail(m, LOY_E_STATE_VERSION,
                               "state bytes have format version %u; this library reads version %u",
                               (unsigned)b[ST_MAGIC_LEN], (unsigned)ST_VERSION);
    if (len < ST_HEADER_LEN)
        return loy_member_fail(m, LOY_E_STATE_TRUNCATED, "state bytes end after %zu bytes, inside the header", len);
    uint32_t total = st_get_u32le(b + 4);
    if (total != ~st_get_u32le(b + 8))
        return loy_member_fail(m, LOY_E_STATE_CHECKSUM, "state bytes fail their checksum: the length is damaged");
    if (total < ST_MIN_LEN)
        return loy_member_fail(m, LOY_E_STATE_CHECKSUM, "state bytes declare an impossible length of %u",
                               (unsigned)total);
    if (len < total)
        return loy_member_fail(m, LOY_E_STATE_TRUNCATED, "state bytes are truncated: %zu of %u bytes", len,
                               (unsigned)total);
    if (len > total)
        return loy_member_fail(m, LOY_E_STATE_CHECKSUM, "%zu unexpected bytes follow the state's %u bytes",
                               len - total, (unsigned)total);
    if (XXH3_64bits(b, total - ST_CHECKSUM_LEN) != st_get_u64le(b + total - ST_CHECKSUM_LEN))
        return loy_member_fail(m, LOY_E_STATE_CHECKSUM, "state bytes fail their checksum");

    /* Decoded into the handle's scratch member, kept across loads with its
     * capacities, so a handle reused for many members stops allocating. */
    if (!m->load_scratch && loy_member_create(&m->load_scratch, m->policy) != LOY_OK)
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    /* A new scratch is cleared, and so is one a refused load leaves. One
     * an accepted load leaves holds the state the handle had, but for its
     * lots and tags (whose strings read_lots and read_tags write over or
     * give back) only buffers: loy_member_take_working zeroes the other
     * counts, and read_state writes every other field of the state. */
    loy_member *t = m->load_scratch;
    id_ref table_small[TABLE_SMALL];
    loader l;
    l.bad = l.oom = false;
    l.why[0] = '\0';
    l.policy_code = 0;
    l.policy_why[0] = '\0';
    l.table = NULL;
    l.table_count = 0;
    l.joined = 0;
    l.recent = NULL;
    l.recent_count = 0;
    l.by_number = false;
    l.fast = fast;
    l.table_small = table_small;
    /* the scratch never writes bytes: its buffer holds the padded copy */
    size_t payload = total - ST_MIN_LEN;
    if (!ROOM(t, bytes, bytes_cap, payload + PAD))
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    memcpy(t->bytes, b + ST_HEADER_LEN, payload);
    memset(t->bytes + payload, 0xFF, PAD);
    l.at = t->bytes;
    l.end = t->bytes + payload;
    l.t = t;
    l.p = m->policy;

    /* The ledger's bytes past the tier count are never written (a grow
     * zeroes them); those before it may hold the previous state's. */
    size_t tiers = l.p->tiers.count;
    size_t had = t->upgrade_given_cap;
    if (!ROOM(t, upgrade_given, upgrade_given_cap, tiers ? tiers : 1))
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    if (t->upgrade_given_cap > had)
        memset(t->upgrade_given + had, 0, t->upgrade_given_cap - had);
    if (tiers <= 16) {
        static const uint8_t zeros[16];
        loy_copy_short(t->upgrade_given, zeros, tiers);
    } else {
        memset(t->upgrade_given, 0, tiers);
    }

    uint64_t flags = get_uvar(&l, "the flags");
    if (!l.bad && (flags & ~(uint64_t)ST_F_ALL))
        malformed(&l, "unknown flags 0x%llx", (unsigned long long)flags);
    read_table(&l);
    if (!l.bad)
        read_state(&l, (unsigned)flags);
    if (l.table && l.table != l.table_small)
        loy_free(t->alloc, l.table);

    int rc = LOY_OK;
    if (l.oom)
        rc = loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    else if (l.bad)
        rc = loy_member_fail(m, LOY_E_STATE_CHECKSUM, "state bytes are malformed: %s", l.why);
    else if (l.policy_code)
        rc = loy_member_fail(m, l.policy_code, "%s", l.policy_why);
    if (rc == LOY_OK) {
        /* the ring's entries are not swapped: they come from the bytes */
        loy_member_take_working(m, t);
        for (size_t i = 0; i < l.recent_count; i++)
            m->recent[i] = st_get_u64le(l.recent + 8 * i);
        m->error[0] = '\0';
    } else {
        /* the half-read state: kept only as capacity */
        loy_member_clear(t);
    }
    return rc;
}

int loy_member_load(loy_member *m, const void *data, size_t len)
{
    return load_bytes(m, data, len, true);
}

int loy_state_load_checked(loy_member *m, const void *data, size_t len)
{
    return load_bytes(m, data, len, false);
}
