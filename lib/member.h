/*
 * A member's state in memory (POLICY.md §10). Entries refer to the policy
 * the handle was made or loaded under by index; the state bytes
 * (lib/state/) name them by id, so a state survives a changed policy.
 *
 * Every array is owned by the member and grows only (capacity kept), so a
 * handle reused for many members stops allocating.
 */
#ifndef LOY_MEMBER_H
#define LOY_MEMBER_H

#include "core.h"
#include "date.h"
#include "policy.h"

#define LOY_RECENT_IDS 256          /* event ids remembered, at least (§10) */

typedef struct loy_lot {
    int64_t points;                 /* > 0 */
    loy_day expires;                /* last day; LOY_DAY_NONE: never */
    loy_day pending_until;          /* LOY_DAY_NONE: available */
    loy_day credited;               /* local date of the credit */
    uint32_t seq;                   /* credit order, for "in credit order" */
    char *order_id;                 /* pending order lots: the order's id (owned); else NULL */
    size_t order_id_cap;
} loy_lot;

/* Sort key of a last day: "never" after every date. */
static inline int64_t loy_lot_expiry_key(loy_day expires)
{
    return expires == LOY_DAY_NONE ? INT64_MAX : (int64_t)expires;
}

/* The order lots are kept in: expires ascending, never-expiring last, then
 * credit order. One definition for the engine, the member API and the state
 * loader, which must all agree on it. */
static inline bool loy_lot_before(const loy_lot *a, const loy_lot *b)
{
    int64_t ka = loy_lot_expiry_key(a->expires), kb = loy_lot_expiry_key(b->expires);
    return ka != kb ? ka < kb : a->seq < b->seq;
}

/* A string buffer kept for reuse (see loy_member_set_str). */
typedef struct loy_spare_str {
    char *s;
    size_t cap;
} loy_spare_str;

typedef struct loy_month_bucket {
    loy_month month;
    int64_t spend;                  /* qualifying spend, money */
    int64_t orders;
    int64_t growth;
    int64_t points_earned;
} loy_month_bucket;

typedef struct loy_counter {
    int32_t index;                  /* action or benefit index in the policy */
    loy_limit_kind kind;            /* the limit kind the count was made under */
    loy_period per;                 /* and its period (LOY_LIMIT_PER) */
    loy_day period_start;           /* first day of the counted period */
    int64_t count;
} loy_counter;

typedef struct loy_gift_mark {
    int32_t index;                  /* surprise or spend gift index */
    int32_t period;                 /* surprise: year, or 0 for a lifetime entry;
                                     * spend: a month (loy_month), or LOY_SPEND_YEAR_MARK + a year */
} loy_gift_mark;

/* A spend gift's ledger keeps the kind of period each entry was given for,
 * whatever the policy says now (POLICY.md §10.2: the ledgers carry over as
 * they stand), so a year is kept apart from every month. */
#define LOY_SPEND_YEAR_MARK (INT32_C(1) << 20)
_Static_assert(LOY_SPEND_YEAR_MARK > LOY_MONTH_LAST, "a year mark must lie past every month");

/* Order points credited on one local date (cap.per_day). */
typedef struct loy_day_points {
    loy_day day;
    int64_t points;
} loy_day_points;

/* Local dates a later event can reach besides the latest: an event accepted
 * later has a UTC instant at or after the last one's, and offsets span
 * -23:59..+23:59, so its local date is at most two days before the latest
 * local date counted (see lib/engine/earn.c). */
#define LOY_CAP_EARLIER_DAYS 2

/* An imported spend gift of period `order` (§11.2 `ID:ORDER-ID`): that
 * order's event must not get the gift again. Kept for good (imports only,
 * so rare). */
typedef struct loy_order_mark {
    int32_t index;                  /* spend gift index */
    uint64_t order;                 /* XXH3-64 of the order id */
} loy_order_mark;

struct loy_member {
    const loy_policy *policy;
    const loy_alloc *alloc;         /* the policy's */

    /* The state's buffers, owned by the handle: a copy fills dst's own
     * (capacity kept), a swap exchanges them with the state. Layout rule
     * (lib/member.c copies by it): every buffer pointer and capacity of
     * the state lies here, before `initialised`; every other state field
     * lies from `initialised` up to `recent`. An array of plain entries
     * added here goes into PLAIN_ARRAYS (below) too, which copying,
     * borrowing, freeing and the undo journal expand. */
    char *id;
    size_t id_cap;
    char **tags;
    size_t tag_cap;
    size_t *tag_caps;
    loy_lot *lots;                  /* available and pending, sorted: expires ascending, never last, then seq */
    size_t lot_cap;
    loy_month_bucket *months;       /* ascending by month; only months kept (policy->months_kept) */
    size_t month_cap;
    loy_counter *actions;           /* action limit counters */
    size_t action_cap;
    loy_counter *benefit_uses;      /* benefit limit counters */
    size_t benefit_use_cap;
    uint8_t *upgrade_given;         /* per tier index: 1 when that tier's upgrade gift was given */
    size_t upgrade_given_cap;
    int32_t *birthday_years;        /* occurrence years whose birthday gift was given, ascending */
    size_t birthday_year_cap;
    loy_gift_mark *surprise_given;
    size_t surprise_given_cap;
    loy_gift_mark *spend_given;     /* calendar month / year periods only */
    size_t spend_given_cap;
    loy_order_mark *spend_orders;   /* period order: imported entries, ascending (index, order) */
    size_t spend_order_cap;

    /* The fields no step of loy_apply writes (the call writes the last
     * event and `fresh` only past its last refusal; imports write the
     * rest): first, outside the part the undo journal saves. */
    bool initialised;               /* has an id and a joining date */
    bool fresh;                     /* no event accepted yet: import calls allowed */
    bool has_last_event;
    bool orders_imported;           /* import: `orders` was given, so it no longer follows the buckets' sum */
    loy_day joined;
    size_t spend_order_count;
    loy_instant last_event;         /* instant of the last accepted event */

    /* The fields the steps may write, from tag_count to recent_count: what
     * the undo journal saves (JOURNAL_FROM, below). Eight-byte
     * fields first, then four-byte ones, so that no padding is saved. */
    size_t tag_count;
    size_t lot_count;
    size_t month_count;
    size_t action_count;
    size_t benefit_use_count;
    size_t birthday_year_count;
    size_t surprise_given_count;
    size_t spend_given_count;

    int64_t debt;                   /* >= 0; only with negative_balance */
    int64_t lifetime[4];            /* spend, orders, growth, points_earned since joining (imports included) */
    int64_t orders;                 /* lifetime orders, imported included (>= sum of orders buckets) */
    int64_t plan_fees;
    int64_t plan_savings;
    int64_t day_points;             /* order points credited on cap_day */
    /* Earlier local dates still reachable by a later event (mixed offsets),
     * ascending, all before cap_day, which is the latest date counted. */
    loy_day_points cap_earlier[LOY_CAP_EARLIER_DAYS];

    loy_day birthday;               /* LOY_DAY_NONE: none (the date as given, Feb 29 kept) */
    /* Not state: the birthday's month and day, worked out where the
     * birthday is written (loy_member_put_birthday) instead of on every
     * event that asks. Keyed by the day they are for (loy_dc_key's form,
     * so a zeroed handle's key names no day): a birthday written any other
     * way only misses them. In the journaled block, so a rollback and
     * every copy carry them with the birthday. */
    uint32_t birthday_md_key;
    int16_t birthday_m;
    int16_t birthday_d;
    int32_t tier;                   /* tier index */
    loy_day tier_since;
    loy_day last_review;            /* LOY_DAY_NONE: none processed yet */
    uint32_t next_seq;
    loy_day last_order;             /* LOY_DAY_NONE: none */
    int32_t plan;                   /* running plan index, -1: none */
    loy_day plan_from;              /* join date; LOY_DAY_NONE for an imported plan */
    loy_day plan_until;             /* last day */
    int32_t stage;                  /* stage index, -1: null */
    loy_day cap_day;                /* the local date day_points counts */
    uint32_t cap_earlier_count;

    /* Written by loy_apply after its last refusal: not journaled. */
    uint32_t recent_count;          /* 0..LOY_RECENT_IDS */
    uint32_t recent_pos;            /* next slot to write */
    /* Layout rule (lib/member.c copies and swaps by it): the state's
     * fields lie before `recent` (its buffers before `initialised`, the
     * rest from it); only the first recent_count entries of the ring are
     * state; what follows the ring is the handle's own. */
    uint64_t recent[LOY_RECENT_IDS]; /* XXH3-64 of accepted event ids, a ring */

    /* handle-owned scratch, not state */
    char error[256];
    uint8_t *bytes;                 /* loy_member_to_bytes output; a load scratch's: the padded payload */
    size_t bytes_cap;
    /* String buffers dropped by lots and tags, handed to the next lot or tag
     * that needs one, so a handle in steady use stops allocating. */
    loy_spare_str *spare;
    size_t spare_count, spare_cap;
    /* loy_member_load decodes here and swaps, so a reused handle keeps the
     * capacities of both (created on first load). */
    struct loy_member *load_scratch;
    /* While loy_apply changes this member in place: the journal that puts
     * it back on a refusal (see loy_member_undo_begin), else NULL. */
    struct loy_undo *undo;
    /* Owned: the journal a result's scratch lends to the members applied
     * with it, kept with its capacities (created on first use). */
    struct loy_undo *undo_store;
};

/*
 * Ownership inside the arrays (lib/member.c relies on it): lots[i].order_id
 * and tags[i] are owned for i < lot_count / tag_count only; a slot at or
 * past the count owns nothing, so whoever drops a lot or a tag frees its
 * string first. upgrade_given always holds at least the policy's tier count
 * of entries (zeroed by loy_member_init / loy_member_load).
 */

/* Reset to an empty, uninitialised state (keeps capacity). */
LOY_INTERNAL void loy_member_clear(loy_member *m);
/* dst becomes an exact copy of src (same policy). false on NOMEM (dst then cleared). */
LOY_INTERNAL bool loy_member_copy(loy_member *dst, const loy_member *src);
/* Exchange the whole states of two handles of the same policy. */
LOY_INTERNAL void loy_member_swap(loy_member *a, loy_member *b);
/*
 * A working copy: as loy_member_copy and loy_member_swap, but the
 * recent-id ring's entries stay where they are (its count and position do
 * travel), so up to 2 KB of ids are not copied. A handle filled this way
 * holds a stale ring: it is only ever a working copy. (The engine no
 * longer uses these: loy_apply journals, the query borrows, below;
 * loy_member_load takes its decoded scratch with take_working.)
 */
LOY_INTERNAL bool loy_member_copy_working(loy_member *dst, const loy_member *src);
LOY_INTERNAL void loy_member_swap_working(loy_member *a, loy_member *b);
/*
 * dst takes src's state as loy_member_swap_working would, ring entries
 * excepted, but src gets back only dst's old buffers (with the lot and tag
 * counts that say which strings they own) and the spares: it is no member
 * any more, only capacity to copy into, clear or free. Cheaper than the
 * swap, for a working copy or a scratch that is cleared next. src's other
 * counts become 0, so the state loader reads into it again without a
 * clear (lib/state/load.c: its lots and tags write over the strings they
 * find, and read_state writes every other field).
 */
LOY_INTERNAL void loy_member_take_working(loy_member *dst, loy_member *src);
/*
 * Applying an event in place (lib/engine/apply.c). loy_member_undo_begin
 * saves what the engine may change: the scalar block (member.h's layout
 * rule) and the contents of every array, in a journal kept by `store` (a
 * result's scratch), so that no array is copied whole into a second member.
 * Lot order ids are not copied: while the journal is open, an id a lot
 * drops is held by the journal instead of becoming a spare, so no new lot
 * can write over it. Tags, which the engine rewrites in place, are copied
 * by loy_member_undo_save_tags before a profile event replaces them.
 * Rollback puts the state back byte for byte and cannot fail; commit keeps
 * the changes. false on NOMEM (the member is then unchanged).
 */
/* The state's arrays of plain entries (no strings of their own), listed
 * once: copying, borrowing, freeing and the undo journal all expand this
 * list, so an array added to the member here is carried by every one of
 * them. The lots (their order ids), the tags and the upgrade ledger (a
 * byte per tier of the policy) are handled by name.
 *
 * The list is in parts by how loy_apply may write an array, which decides
 * what the undo journal saves: an array goes into the part that says so. */
#define PLAIN_ARRAYS(X) EVENT_ARRAYS(X) APPEND_ARRAYS(X) IMPORT_ARRAYS(X)
/* Rewritten in place by the engine's steps: saved for every event. */
#define EVENT_ARRAYS(X)                                                        \
    X(loy_month_bucket, months, month_count, month_cap)                        \
    X(loy_counter, actions, action_count, action_cap)                          \
    X(loy_counter, benefit_uses, benefit_use_count, benefit_use_cap)           \
    X(int32_t, birthday_years, birthday_year_count, birthday_year_cap)
/* Only ever appended to by the engine (gifts.c's add_mark, nothing else):
 * the entries below the count an event starts with stay as they are, and
 * the count is in the scalar block, so putting the count back undoes the
 * event: never saved. An engine change that writes one of these other
 * than at its end moves it to EVENT_ARRAYS (test_undo's random histories
 * compare every refusal with the state before it). */
#define APPEND_ARRAYS(X)                                                       \
    X(loy_gift_mark, surprise_given, surprise_given_count, surprise_given_cap) \
    X(loy_gift_mark, spend_given, spend_given_count, spend_given_cap)
/* Made by the legacy import alone (§11.2); the engine only reads them:
 * never saved. */
#define IMPORT_ARRAYS(X)                                                       \
    X(loy_order_mark, spend_orders, spend_order_count, spend_order_cap)

/* An array's live entries. Ledgers of 4- and 8-byte marks (birthday
 * years, gifts given) hold a few entries: fixed-size moves; the rest, of
 * 16 bytes and more an entry, the library call. The test is on a constant. */
#define COPY_ENTRIES(d, s, n)                                          \
    do {                                                               \
        if (sizeof *(s) <= 8)                                          \
            loy_copy_short((d), (s), (n) * sizeof *(s));               \
        else                                                           \
            memcpy((d), (s), (n) * sizeof *(s));                       \
    } while (0)

/* src's live entries of arr into dst's (dst has an alloc, src a count):
 * a member's into another's, or into the undo journal. The grow call only
 * when dst is short: a working copy or a journal usually has room. The
 * count is tested first: most of a member's arrays are empty. */
#define COPY_ARRAY(dst, src, arr, count, capf)                                       \
    do {                                                                             \
        if ((src)->count) {                                                          \
            if ((src)->count > (dst)->capf &&                                        \
                !LOY_GROW((dst)->alloc, (dst)->arr, (dst)->capf, (src)->count))      \
                goto nomem;                                                          \
            COPY_ENTRIES((dst)->arr, (src)->arr, (src)->count);                     \
        }                                                                            \
    } while (0)

/* n bytes (a constant) by 16-byte moves unrolled: left to itself the
 * compiler copies a block this size with rep movsq, which executes one
 * step per 8 bytes plus its setup. */
static inline __attribute__((always_inline)) void loy_copy_block(void *dst, const void *src, size_t n)
{
    char *d = dst;
    const char *s = src;
#pragma GCC unroll 32
    for (size_t i = 0; i < n / 16; i++)
        memcpy(d + 16 * i, s + 16 * i, 16);
    if (n % 16)
        memcpy(d + n - n % 16, s + n - n % 16, n % 16);
}

/* The part of the scalar block the steps of loy_apply may write, which
 * the undo journal saves (the struct above orders the fields for it). */
#define JOURNAL_FROM offsetof(loy_member, tag_count)
#define JOURNAL_LEN (offsetof(loy_member, recent_count) - JOURNAL_FROM)

/* What loy_member_undo_begin saves, kept by a result's scratch with its
 * capacities so that a steady stream of events stops allocating. Here,
 * not in lib/member.c, so that the begin and the commit, which every
 * event runs, are inline in loy_apply. */
typedef struct loy_undo {
    const loy_alloc *alloc;
    unsigned char scalars[JOURNAL_LEN];   /* the fields from JOURNAL_FROM */
    size_t lot_count;               /* the saved state's (also in scalars) */
    size_t tag_count;
    loy_lot *lots;                  /* their order ids are the member's */
    size_t lot_cap;
    uint8_t *upgrade_given;         /* the policy's tier count of entries */
    size_t upgrade_given_cap;
#define UNDO_FIELDS(type, arr, count, capf) type *arr; size_t capf;
    EVENT_ARRAYS(UNDO_FIELDS)
#undef UNDO_FIELDS
    /* Order ids of saved lots dropped while open: the saved lots still
     * name them, so they may not become spares before the commit. Room
     * for every saved lot is made at the start, so a drop cannot fail. */
    loy_spare_str *dropped;
    size_t dropped_count, dropped_cap;
    /* The lots whose order ids a drop must not give away: the saved lots
     * (journal: held in `dropped`), or a borrowing copy's source's (only
     * forgotten: the source still owns them). */
    const loy_lot *ids;
    size_t id_count;
    bool hold;
    /* loy_member_borrow: the borrowing handle's own id buffer, and whether
     * it made a string of its own (a lot's id) while borrowing */
    char *own_id;
    size_t own_id_cap;
    bool made_str;
    /* A copy of the tags (loy_member_undo_save_tags), owned: tags[i] for
     * i < tag_owned, which may exceed tag_count. */
    bool tags_saved;
    char **tags;
    size_t *tag_caps;
    size_t tag_cap;
    size_t tag_owned;
} loy_undo;

/* The journal a result's scratch keeps, made on first use (NULL on NOMEM). */
LOY_INTERNAL loy_undo *loy_member_undo_store_make(loy_member *store);

static inline bool loy_member_undo_begin(loy_member *m, loy_member *store)
{
    loy_undo *u = store->undo_store ? store->undo_store : loy_member_undo_store_make(store);
    if (!u)
        return false;
    if (m->lot_count > u->dropped_cap && !LOY_GROW(u->alloc, u->dropped, u->dropped_cap, m->lot_count))
        return false;
    COPY_ARRAY(u, m, lots, lot_count, lot_cap);
#define UNDO_SAVE_PLAIN(type, arr, count, capf) COPY_ARRAY(u, m, arr, count, capf);
    EVENT_ARRAYS(UNDO_SAVE_PLAIN)
#undef UNDO_SAVE_PLAIN
    size_t n = m->policy->tiers.count;
    if (n > u->upgrade_given_cap && !LOY_GROW(u->alloc, u->upgrade_given, u->upgrade_given_cap, n))
        return false;
    /* entries the ledger lacks read as 0, as loy_member_copy makes them */
    size_t have = m->upgrade_given_cap < n ? m->upgrade_given_cap : n;
    loy_copy_short(u->upgrade_given, m->upgrade_given, have);
    for (size_t i = have; i < n; i++)
        u->upgrade_given[i] = 0;
    loy_copy_block(u->scalars, (const char *)m + JOURNAL_FROM, JOURNAL_LEN);
    u->lot_count = m->lot_count;
    u->tag_count = m->tag_count;
    u->dropped_count = 0;
    u->tags_saved = false;
    u->ids = u->lots;
    u->id_count = m->lot_count;
    u->hold = true;
    m->undo = u;
    return true;
nomem:
    return false;
}
LOY_INTERNAL bool loy_member_undo_save_tags(loy_member *m);
/* The commit's part when ids are held: they become spares. */
LOY_INTERNAL void loy_member_undo_spare_dropped(loy_member *m, loy_undo *u);
/* Inline: the usual commit (no lot dropped a saved id) is a store and a
 * test, not a call. */
static inline void loy_member_undo_commit(loy_member *m)
{
    loy_undo *u = m->undo;
    m->undo = NULL;
    if (u->dropped_count)
        loy_member_undo_spare_dropped(m, u);
}
LOY_INTERNAL void loy_member_undo_rollback(loy_member *m);
/*
 * The benefits query's working copy: dst (a result's scratch) becomes a
 * copy of src whose strings (the id, tags, lot order ids) are src's own,
 * read, never written: a lot dropping its id only forgets it. Cheaper
 * than loy_member_copy_working, which copies every string. While
 * borrowing, src must not change; loy_member_unborrow ends it (dst then
 * holds no member, only capacity). false on NOMEM (nothing borrowed).
 */
LOY_INTERNAL bool loy_member_borrow(loy_member *dst, const loy_member *src);
LOY_INTERNAL void loy_member_unborrow(loy_member *dst);
/* *buf (capacity *cap) becomes a copy of s (len bytes); an empty *buf takes
 * a spare buffer first. false on NOMEM (*buf may then hold a buffer). */
LOY_INTERNAL bool loy_member_set_str(loy_member *m, char **buf, size_t *cap, const char *s, size_t len);
/* loy_member_set_str for a *buf that holds no buffer (a new lot's order
 * id). Inline when the last spare is long enough, as it is for a member
 * in steady use: no call, no grow test on the caller's capacity. */
static inline bool loy_member_set_new_str(loy_member *m, char **buf, size_t *cap, const char *s, size_t len)
{
    size_t n = m->spare_count;
    if (n && len < m->spare[n - 1].cap) {
        if (m->undo)
            m->undo->made_str = true;
        m->spare_count = n - 1;
        char *d = m->spare[n - 1].s;
        *buf = d;
        *cap = m->spare[n - 1].cap;
        d[len] = '\0';
        loy_copy_short(d, s, len);
        return true;
    }
    return loy_member_set_str(m, buf, cap, s, len);
}
/* Hand *buf back as a spare (freed when the spare list cannot grow); *buf becomes NULL. */
LOY_INTERNAL void loy_member_drop_str(loy_member *m, char **buf, size_t *cap);
/* The first n lots (tags) stay, those past them give their strings back
 * as spares (no journal open); n <= the count. */
LOY_INTERNAL void loy_member_keep_lots(loy_member *m, size_t n);
/* *buf onto the spare list, which has room for it; *buf becomes NULL.
 * Inline: the state loader's scratch drops ids through it on every load. */
static inline void loy_member_spare_put(loy_member *m, char **buf, size_t *cap)
{
    m->spare[m->spare_count].s = *buf;
    m->spare[m->spare_count].cap = *cap;
    m->spare_count++;
    *buf = NULL;
    *cap = 0;
}
/* The lots from `from` on hand their order ids to the spare list, which
 * the caller has made room in for all of them (no journal open). Inline
 * because the state loader's scratch does this at every load. */
static inline void loy_member_spare_lot_ids(loy_member *m, size_t from)
{
    loy_spare_str *sp = m->spare + m->spare_count;
    for (loy_lot *lot = m->lots + from, *end = m->lots + m->lot_count; lot < end; lot++) {
        if (lot->order_id) {
            sp->s = lot->order_id;
            sp->cap = lot->order_id_cap;
            sp++;
            lot->order_id = NULL;
            lot->order_id_cap = 0;
        }
    }
    m->spare_count = (size_t)(sp - m->spare);
}
LOY_INTERNAL void loy_member_keep_tags(loy_member *m, size_t n);
/* m->birthday = day, with its month and day kept beside it. */
static inline void loy_member_put_birthday(loy_member *m, loy_day day)
{
    int32_t bm = 0, bd = 0;
    if (day != LOY_DAY_NONE && !loy_ns_month_day(day, &bm, &bd)) {
        loy_ymd b = loy_day_to_ymd(day);
        bm = b.m;
        bd = b.d;
    }
    m->birthday = day;
    m->birthday_md_key = (uint32_t)day ^ 0x80000000u;
    m->birthday_m = (int16_t)bm;
    m->birthday_d = (int16_t)bd;
}
/* Set the handle's error message (printf-style). Returns code. */
LOY_INTERNAL int loy_member_fail(loy_member *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Stage as of a date with no event (§8: new and imported members). */
LOY_INTERNAL void loy_member_initial_stage(loy_member *m);

#endif
