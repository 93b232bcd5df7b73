/*
 * The member handle: life cycle, legacy import (POLICY.md §11.2), getters,
 * and the copy/swap/clear helpers the engine uses for its working copy.
 * The state bytes live apart, in lib/state/.
 *
 * Every public call that changes the member checks all of its input before
 * it touches the state, so a refusal leaves the member exactly as it was;
 * capacity may grow before a failure, which is not state.
 */
#include "member.h"

#include <stdarg.h>
#include <stdio.h>
#include <xxhash.h>

#include "engine/engine.h"

/* ------------------------------------------------------------- helpers */

static bool undo_hold(struct loy_undo *u, char *s, size_t cap);
static void undo_made_str(struct loy_undo *u);

int loy_member_fail(loy_member *m, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    loy_vformat(m->error, sizeof m->error, fmt, ap);
    va_end(ap);
    return code;
}

static void ok(loy_member *m)
{
    m->error[0] = '\0';
}

static size_t tier_count(const loy_member *m)
{
    return m->policy->tiers.count;
}

/* n <= 16 zero bytes at d, by loy_copy_short's fixed-size moves (the
 * upgrade ledger: a byte per tier). */
static inline void zero_bytes(uint8_t *d, size_t n)
{
    static const char zeros[16];
    loy_copy_short(d, zeros, n);
}

/* Copy s (len bytes) into an owned, reusable buffer. The terminator goes
 * first, so nothing is live across a library copy: no saved registers. */
static inline bool set_str(const loy_alloc *a, char **buf, size_t *cap, const char *s, size_t len)
{
    if (len >= *cap && (len == SIZE_MAX || !LOY_GROW(a, *buf, *cap, len + 1)))
        return false;
    char *d = *buf;
    d[len] = '\0';
    loy_copy_short(d, s, len);
    return true;
}

/* set_str when the buffer is short: out of line, so the usual call, which
 * reuses a buffer, keeps no registers for the grow. */
static __attribute__((noinline)) bool set_str_grow(const loy_alloc *a, char **buf, size_t *cap, const char *s,
                                                   size_t len)
{
    return set_str(a, buf, cap, s, len);
}

/* upgrade_given covers every tier of the policy, zeroed beyond what was set. */
static bool ensure_upgrade_ledger(loy_member *m)
{
    size_t old = m->upgrade_given_cap;
    size_t need = tier_count(m);
    if (need <= old && m->upgrade_given)
        return true;
    if (!LOY_GROW(m->alloc, m->upgrade_given, m->upgrade_given_cap, need))
        return false;
    if (m->upgrade_given_cap > old)
        memset(m->upgrade_given + old, 0, m->upgrade_given_cap - old);
    return true;
}

bool loy_member_set_str(loy_member *m, char **buf, size_t *cap, const char *s, size_t len)
{
    if (!*buf) {
        if (m->undo)
            undo_made_str(m->undo);
        if (m->spare_count) {
            loy_spare_str *sp = &m->spare[--m->spare_count];
            *buf = sp->s;
            *cap = sp->cap;
        }
    }
    if (len >= *cap)
        return set_str_grow(m->alloc, buf, cap, s, len);
    char *d = *buf;
    d[len] = '\0';
    loy_copy_short(d, s, len);
    return true;
}

/* loy_member_drop_str on a handle with no journal open: the member's own
 * copy, clear and free paths, which drop many strings at a time. */
static void give_spare(loy_member *m, char **buf, size_t *cap)
{
    if (!*buf)
        return;
    if (LOY_GROW(m->alloc, m->spare, m->spare_cap, m->spare_count + 1)) {
        loy_member_spare_put(m, buf, cap);
        return;
    }
    loy_free(m->alloc, *buf);
    *buf = NULL;
    *cap = 0;
}

void loy_member_drop_str(loy_member *m, char **buf, size_t *cap)
{
    if (*buf && m->undo && undo_hold(m->undo, *buf, *cap)) {
        *buf = NULL;
        *cap = 0;
        return;
    }
    give_spare(m, buf, cap);
}

/* Room in the spare list for n more strings, made once for a whole drop
 * rather than checked string by string. false: the caller drops one by
 * one with give_spare, which frees what the list cannot take. */
static bool spare_room(loy_member *m, size_t n)
{
    return m->spare_count + n <= m->spare_cap || LOY_GROW(m->alloc, m->spare, m->spare_cap, m->spare_count + n);
}

/* Lots and tags from `from` on give their strings back as spares (never
 * under a journal: see give_spare). */
static void drop_lot_ids_from(loy_member *m, size_t from)
{
    /* nothing to drop: the buffers may be NULL, and NULL + 0 is undefined */
    if (from >= m->lot_count)
        return;
    if (!spare_room(m, m->lot_count - from)) {
        for (size_t i = from; i < m->lot_count; i++)
            give_spare(m, &m->lots[i].order_id, &m->lots[i].order_id_cap);
        return;
    }
    loy_member_spare_lot_ids(m, from);
}

/* The test inline: a working copy or scratch often holds no lot or tag. */
static inline void drop_lot_ids(loy_member *m, size_t from)
{
    if (from < m->lot_count)
        drop_lot_ids_from(m, from);
}

static void drop_tags_from(loy_member *m, size_t from)
{
    if (!spare_room(m, m->tag_count - from)) {
        for (size_t i = from; i < m->tag_count; i++)
            give_spare(m, &m->tags[i], &m->tag_caps[i]);
        return;
    }
    for (size_t i = from; i < m->tag_count; i++) {
        if (m->tags[i]) {
            m->spare[m->spare_count].s = m->tags[i];
            m->spare[m->spare_count].cap = m->tag_caps[i];
            m->spare_count++;
            m->tags[i] = NULL;
            m->tag_caps[i] = 0;
        }
    }
}

static inline void drop_tags(loy_member *m, size_t from)
{
    if (from < m->tag_count)
        drop_tags_from(m, from);
}

void loy_member_keep_lots(loy_member *m, size_t n)
{
    drop_lot_ids(m, n);
    m->lot_count = n;
}

void loy_member_keep_tags(loy_member *m, size_t n)
{
    drop_tags(m, n);
    m->tag_count = n;
}

static void free_lot_ids(loy_member *m)
{
    for (size_t i = 0; i < m->lot_count; i++) {
        loy_free(m->alloc, m->lots[i].order_id);
        m->lots[i].order_id = NULL;
        m->lots[i].order_id_cap = 0;
    }
}

static void free_tags(loy_member *m)
{
    for (size_t i = 0; i < m->tag_count; i++) {
        loy_free(m->alloc, m->tags[i]);
        m->tags[i] = NULL;
        m->tag_caps[i] = 0;
    }
}

void loy_member_clear(loy_member *m)
{
    drop_lot_ids(m, 0);
    drop_tags(m, 0);
    m->initialised = false;
    m->fresh = false;
    if (m->id)
        m->id[0] = '\0';
    m->joined = LOY_DAY_NONE;
    loy_member_put_birthday(m, LOY_DAY_NONE);
    m->tag_count = 0;
    m->tier = 0;
    m->tier_since = LOY_DAY_NONE;
    m->last_review = LOY_DAY_NONE;
    m->lot_count = 0;
    m->debt = 0;
    m->next_seq = 0;
    m->month_count = 0;
    memset(m->lifetime, 0, sizeof m->lifetime);
    m->orders = 0;
    m->orders_imported = false;
    m->last_order = LOY_DAY_NONE;
    m->action_count = 0;
    m->benefit_use_count = 0;
    if (m->upgrade_given_cap <= 16)
        zero_bytes(m->upgrade_given, m->upgrade_given_cap);
    else
        memset(m->upgrade_given, 0, m->upgrade_given_cap);
    m->birthday_year_count = 0;
    m->surprise_given_count = 0;
    m->spend_given_count = 0;
    m->spend_order_count = 0;
    m->plan = -1;
    m->plan_from = LOY_DAY_NONE;
    m->plan_until = LOY_DAY_NONE;
    m->plan_fees = 0;
    m->plan_savings = 0;
    m->stage = -1;
    m->has_last_event = false;
    memset(&m->last_event, 0, sizeof m->last_event);
    m->cap_day = LOY_DAY_NONE;
    m->day_points = 0;
    m->cap_earlier_count = 0;
    m->recent_count = 0;        /* the ring past recent_count is not state */
    m->recent_pos = 0;
}

/* Frees every array of the state (not the handle's error/bytes scratch). */
static void free_state_arrays(loy_member *m)
{
    const loy_alloc *a = m->alloc;
    free_lot_ids(m);
    free_tags(m);
    for (size_t i = 0; i < m->spare_count; i++)
        loy_free(a, m->spare[i].s);
    loy_free(a, m->spare);
    m->spare = NULL;
    m->spare_count = m->spare_cap = 0;
    loy_free(a, m->id);
    loy_free(a, m->tags);
    loy_free(a, m->tag_caps);
    loy_free(a, m->lots);
    loy_free(a, m->upgrade_given);
#define FREE_PLAIN(type, arr, count, capf) loy_free(a, m->arr);
    PLAIN_ARRAYS(FREE_PLAIN)
#undef FREE_PLAIN
}

/* ---------------------------------------------------- copy, swap, free */

#define COPY_PLAIN(type, arr, count, capf) COPY_ARRAY(dst, src, arr, count, capf);

/* tags and tag_caps are parallel arrays sharing tag_cap: both grow by the
 * same rule from the same capacity, so they stay the same size. */
static bool grow_tags(loy_member *m, size_t need)
{
    if (need <= m->tag_cap && m->tag_caps)
        return true;
    size_t caps_cap = m->tag_cap;
    if (!loy_grow(m->alloc, (void **)&m->tag_caps, &caps_cap, need, sizeof(size_t)))
        return false;
    return LOY_GROW(m->alloc, m->tags, m->tag_cap, need);
}

static bool copy_tags(loy_member *dst, const loy_member *src)
{
    if (!src->tag_count && !dst->tag_count)
        return true;    /* most members: nothing to copy, nothing to drop */
    if (!grow_tags(dst, src->tag_count))
        return false;
    drop_tags(dst, src->tag_count);
    if (dst->tag_count > src->tag_count)
        dst->tag_count = src->tag_count;
    for (size_t i = 0; i < src->tag_count; i++) {
        if (i >= dst->tag_count) {
            dst->tags[i] = NULL;
            dst->tag_caps[i] = 0;
            dst->tag_count = i + 1;
        }
        if (!loy_member_set_str(dst, &dst->tags[i], &dst->tag_caps[i], src->tags[i], strlen(src->tags[i])))
            return false;
    }
    return true;
}

static bool copy_lots(loy_member *dst, const loy_member *src)
{
    if (src->lot_count > dst->lot_cap && !LOY_GROW(dst->alloc, dst->lots, dst->lot_cap, src->lot_count))
        return false;
    drop_lot_ids(dst, src->lot_count);
    if (dst->lot_count > src->lot_count)
        dst->lot_count = src->lot_count;
    for (size_t i = 0; i < src->lot_count; i++) {
        if (i >= dst->lot_count) {
            dst->lots[i].order_id = NULL;
            dst->lots[i].order_id_cap = 0;
            dst->lot_count = i + 1;
        }
        loy_lot *d = &dst->lots[i];
        char *buf = d->order_id;
        size_t cap = d->order_id_cap;
        *d = src->lots[i];
        d->order_id = buf;
        d->order_id_cap = cap;
        if (src->lots[i].order_id) {
            const char *s = src->lots[i].order_id;
            if (!loy_member_set_str(dst, &d->order_id, &d->order_id_cap, s, strlen(s)))
                return false;
        } else {
            give_spare(dst, &d->order_id, &d->order_id_cap);
        }
    }
    return true;
}

/* The fields copied and swapped whole (member.h's layout rule). */
#define STATE_PREFIX offsetof(loy_member, recent)
/* The state's fields not held in buffers: from here to STATE_PREFIX. */
#define STATE_FIELDS offsetof(loy_member, initialised)
#define SCALARS_LEN (STATE_PREFIX - STATE_FIELDS)

/* The scalar block (SCALARS_LEN bytes). */
static inline void copy_scalars(void *dst, const void *src)
{
    loy_copy_block(dst, src, SCALARS_LEN);
}

_Static_assert(JOURNAL_FROM >= STATE_FIELDS && JOURNAL_FROM + JOURNAL_LEN <= STATE_PREFIX,
               "the journaled fields lie in the scalar block");

/* Entries of the ring that are state: the ring fills from slot 0. */
static size_t ring_used(const loy_member *m)
{
    return m->recent_count;
}

static bool copy_state(loy_member *dst, const loy_member *src, bool ring)
{
    if (dst == src)
        return true;
    const char *sid = src->id ? src->id : "";
    if (!set_str(dst->alloc, &dst->id, &dst->id_cap, sid, strlen(sid)))
        goto nomem;
    if (!copy_tags(dst, src) || !copy_lots(dst, src))
        goto nomem;
    PLAIN_ARRAYS(COPY_PLAIN)
    {
        size_t n = tier_count(dst);
        if ((n > dst->upgrade_given_cap || !dst->upgrade_given) && !ensure_upgrade_ledger(dst))
            goto nomem;
        size_t have = src->upgrade_given_cap < n ? src->upgrade_given_cap : n;
        /* a byte per tier: a handful, not worth the library calls */
        for (size_t i = 0; i < have; i++)
            dst->upgrade_given[i] = src->upgrade_given[i];
        for (size_t i = have; i < n; i++)
            dst->upgrade_given[i] = 0;
    }

    /* Every other field comes from src by one copy of the block from
     * `initialised` to the ring (member.h's layout rule), so a field added
     * there later is copied without touching this function; the buffers
     * (filled above) lie before the block, the handle's scratch after the
     * ring. Only the live part of the ring is copied: most members hold
     * far fewer than 256 ids. */
    copy_scalars((char *)dst + STATE_FIELDS, (const char *)src + STATE_FIELDS);
    if (ring && src->recent_count)
        memcpy(dst->recent, src->recent, ring_used(src) * sizeof src->recent[0]);
    return true;
nomem:
    loy_member_clear(dst);
    return false;
}

bool loy_member_copy(loy_member *dst, const loy_member *src)
{
    return copy_state(dst, src, true);
}

bool loy_member_copy_working(loy_member *dst, const loy_member *src)
{
    return copy_state(dst, src, false);
}

static void swap_state(loy_member *a, loy_member *b, bool ring)
{
    if (a == b)
        return;
    /* The fields before the ring hold the state and its buffers, which
     * travel with it; so do the spares (the engine's swaps then keep both
     * handles' string counts steady). The rest of the handle's scratch
     * (error, bytes, load_scratch) stays. Only the live part of the rings
     * is exchanged. */
    unsigned char t[STATE_PREFIX];
    memcpy(t, a, STATE_PREFIX);
    memcpy(a, b, STATE_PREFIX);
    memcpy(b, t, STATE_PREFIX);
    size_t n = !ring ? 0 : ring_used(a) > ring_used(b) ? ring_used(a) : ring_used(b);
    for (size_t i = 0; i < n; i++) {
        uint64_t h = a->recent[i];
        a->recent[i] = b->recent[i];
        b->recent[i] = h;
    }
    loy_spare_str *spare = a->spare;
    size_t spare_count = a->spare_count, spare_cap = a->spare_cap;
    a->spare = b->spare; a->spare_count = b->spare_count; a->spare_cap = b->spare_cap;
    b->spare = spare; b->spare_count = spare_count; b->spare_cap = spare_cap;
}

void loy_member_swap(loy_member *a, loy_member *b)
{
    swap_state(a, b, true);
}

void loy_member_swap_working(loy_member *a, loy_member *b)
{
    swap_state(a, b, false);
}

/* The buffers' pointers and capacities (member.h's layout rule). */
#define STATE_BUFFERS offsetof(loy_member, id)

void loy_member_take_working(loy_member *dst, loy_member *src)
{
    if (dst == src)
        return;
    /* What dst's old buffers hold, for whoever reuses or frees them. */
    size_t lots = dst->lot_count, tags = dst->tag_count;
    unsigned char t[STATE_FIELDS - STATE_BUFFERS];
    memcpy(t, (char *)dst + STATE_BUFFERS, sizeof t);
    memcpy((char *)dst + STATE_BUFFERS, (char *)src + STATE_BUFFERS, sizeof t);
    memcpy((char *)src + STATE_BUFFERS, t, sizeof t);
    copy_scalars((char *)dst + STATE_FIELDS, (const char *)src + STATE_FIELDS);
    /* src's other counts may exceed the buffers it now has: none is read */
    src->initialised = false;
    src->lot_count = lots;
    src->tag_count = tags;
    src->month_count = src->action_count = src->benefit_use_count = 0;
    src->birthday_year_count = src->surprise_given_count = src->spend_given_count = src->spend_order_count = 0;
    src->recent_count = src->recent_pos = 0;
    loy_spare_str *spare = dst->spare;
    size_t spare_count = dst->spare_count, spare_cap = dst->spare_cap;
    dst->spare = src->spare; dst->spare_count = src->spare_count; dst->spare_cap = src->spare_cap;
    src->spare = spare; src->spare_count = spare_count; src->spare_cap = spare_cap;
}

/* ---------------------------------------------------------- undo journal */

static void undo_free(loy_undo *u)
{
    if (!u)
        return;
    const loy_alloc *a = u->alloc;
    for (size_t i = 0; i < u->tag_owned; i++)
        loy_free(a, u->tags[i]);
    loy_free(a, u->tags);
    loy_free(a, u->tag_caps);
    loy_free(a, u->lots);
    loy_free(a, u->upgrade_given);
#define FREE_PLAIN(type, arr, count, capf) loy_free(a, u->arr);
    EVENT_ARRAYS(FREE_PLAIN)
#undef FREE_PLAIN
    loy_free(a, u->dropped);
    loy_free(a, u);
}

/* After the scalars are back: the counts are the saved ones, and the
 * member's capacity only grew since. */
#define UNDO_RESTORE(u, m, arr, count)                                \
    do {                                                              \
        if ((m)->count)                                               \
            COPY_ENTRIES((m)->arr, (u)->arr, (m)->count);              \
    } while (0)
#define UNDO_RESTORE_PLAIN(type, arr, count, capf) UNDO_RESTORE(u, m, arr, count);

loy_undo *loy_member_undo_store_make(loy_member *store)
{
    if (!store->undo_store) {
        loy_undo *u = loy_calloc(store->alloc, 1, sizeof *u);
        if (!u)
            return NULL;
        u->alloc = store->alloc;
        store->undo_store = u;
    }
    return store->undo_store;
}

static loy_undo *undo_store(loy_member *store)
{
    return store->undo_store ? store->undo_store : loy_member_undo_store_make(store);
}

bool loy_member_undo_save_tags(loy_member *m)
{
    loy_undo *u = m->undo;
    if (!u || u->tags_saved)
        return true;
    size_t n = m->tag_count;
    if (n > u->tag_cap) {
        /* tags and tag_caps share tag_cap, as in grow_tags */
        size_t caps_cap = u->tag_cap;
        if (!loy_grow(u->alloc, (void **)&u->tag_caps, &caps_cap, n, sizeof(size_t)) ||
            !LOY_GROW(u->alloc, u->tags, u->tag_cap, n))
            return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (i >= u->tag_owned) {
            u->tags[i] = NULL;
            u->tag_caps[i] = 0;
            u->tag_owned = i + 1;
        }
        if (!set_str(u->alloc, &u->tags[i], &u->tag_caps[i], m->tags[i], strlen(m->tags[i])))
            return false;
    }
    u->tags_saved = true;
    return true;
}

static void undo_made_str(loy_undo *u)
{
    u->made_str = true;
}

/* Is s the order id of a saved (or borrowed) lot? */
static bool undo_saved_id(const loy_undo *u, const char *s)
{
    for (size_t i = 0; i < u->id_count; i++)
        if (u->ids[i].order_id == s)
            return true;
    return false;
}

/* loy_member_drop_str while a journal is open: a saved lot's id is held,
 * a borrowed one forgotten. */
static bool undo_hold(loy_undo *u, char *s, size_t cap)
{
    if (!undo_saved_id(u, s))
        return false;
    if (u->hold) {
        u->dropped[u->dropped_count].s = s;
        u->dropped[u->dropped_count].cap = cap;
        u->dropped_count++;
    }
    return true;
}

void loy_member_undo_spare_dropped(loy_member *m, loy_undo *u)
{
    for (size_t i = 0; i < u->dropped_count; i++)
        give_spare(m, &u->dropped[i].s, &u->dropped[i].cap);
    u->dropped_count = 0;
}

void loy_member_undo_rollback(loy_member *m)
{
    loy_undo *u = m->undo;
    m->undo = NULL;
    /* Ids the event gave to new lots become spares; the saved lots own
     * every other, held or not. */
    for (size_t i = 0; i < m->lot_count; i++) {
        const char *s = m->lots[i].order_id;
        if (s && !undo_saved_id(u, s))
            give_spare(m, &m->lots[i].order_id, &m->lots[i].order_id_cap);
    }
    u->dropped_count = 0;
    if (u->tags_saved) {
        /* The copy goes back by exchanging the arrays; the journal then
         * owns the tags the event left (the member's count before the
         * scalars return). */
        for (size_t i = u->tag_count; i < u->tag_owned; i++) {
            loy_free(u->alloc, u->tags[i]);
            u->tags[i] = NULL;
        }
        size_t left = m->tag_count;
        char **tags = m->tags;
        size_t *caps = m->tag_caps;
        size_t cap = m->tag_cap;
        m->tags = u->tags;
        m->tag_caps = u->tag_caps;
        m->tag_cap = u->tag_cap;
        u->tags = tags;
        u->tag_caps = caps;
        u->tag_cap = cap;
        u->tag_owned = left;
        u->tags_saved = false;
    }
    loy_copy_block((char *)m + JOURNAL_FROM, u->scalars, JOURNAL_LEN);
    UNDO_RESTORE(u, m, lots, lot_count);
    EVENT_ARRAYS(UNDO_RESTORE_PLAIN)
    size_t n = m->upgrade_given_cap < tier_count(m) ? m->upgrade_given_cap : tier_count(m);
    loy_copy_short(m->upgrade_given, u->upgrade_given, n);
}

/* ------------------------------------------------------------- borrowing */

bool loy_member_borrow(loy_member *dst, const loy_member *src)
{
    loy_undo *u = undo_store(dst);
    if (!u)
        return false;
    /* dst owns no string from here on, whatever fails below */
    drop_lot_ids(dst, 0);
    dst->lot_count = 0;
    drop_tags(dst, 0);
    dst->tag_count = 0;
    if (src->lot_count > dst->lot_cap && !LOY_GROW(dst->alloc, dst->lots, dst->lot_cap, src->lot_count))
        return false;
    if (src->tag_count && !grow_tags(dst, src->tag_count))
        return false;
    PLAIN_ARRAYS(COPY_PLAIN)
    {
        size_t n = tier_count(dst);
        if ((n > dst->upgrade_given_cap || !dst->upgrade_given) && !ensure_upgrade_ledger(dst))
            return false;
        size_t have = src->upgrade_given_cap < n ? src->upgrade_given_cap : n;
        loy_copy_short(dst->upgrade_given, src->upgrade_given, have);
        for (size_t i = have; i < n; i++)
            dst->upgrade_given[i] = 0;
    }
    /* The strings are src's: the lots' and tags' pointers, and the id. */
    if (src->lot_count)
        memcpy(dst->lots, src->lots, src->lot_count * sizeof *src->lots);
    if (src->tag_count) {
        memcpy(dst->tags, src->tags, src->tag_count * sizeof *src->tags);
        memcpy(dst->tag_caps, src->tag_caps, src->tag_count * sizeof *src->tag_caps);
    }
    u->own_id = dst->id;
    u->own_id_cap = dst->id_cap;
    dst->id = src->id;
    dst->id_cap = 0;
    copy_scalars((char *)dst + STATE_FIELDS, (const char *)src + STATE_FIELDS);
    u->ids = src->lots;
    u->id_count = src->lot_count;
    u->hold = false;
    u->made_str = false;
    dst->undo = u;
    return true;
nomem:
    return false;
}

void loy_member_unborrow(loy_member *dst)
{
    loy_undo *u = dst->undo;
    dst->undo = NULL;
    /* An id made while borrowing (no query path makes one today) is dst's
     * own: a spare. */
    for (size_t i = 0; u->made_str && i < dst->lot_count; i++) {
        const char *s = dst->lots[i].order_id;
        if (s && !undo_saved_id(u, s))
            give_spare(dst, &dst->lots[i].order_id, &dst->lots[i].order_id_cap);
    }
    dst->lot_count = 0;
    dst->tag_count = 0;
    dst->initialised = false;
    dst->id = u->own_id;
    dst->id_cap = u->own_id_cap;
    u->ids = NULL;
    u->id_count = 0;
}

/* ------------------------------------------------------------ lifecycle */

int loy_member_create(loy_member **out, const loy_policy *policy)
{
    if (!out)
        return LOY_E_INVALID_ARG;
    *out = NULL;
    if (!policy)
        return LOY_E_INVALID_ARG;
    loy_member *m = loy_calloc(&policy->alloc, 1, sizeof *m);
    if (!m)
        return LOY_E_NOMEM;
    m->policy = policy;
    m->alloc = &policy->alloc;
    loy_member_clear(m);
    *out = m;
    return LOY_OK;
}

int loy_member_new(loy_member **out, const loy_policy *policy, const char *id, const char *joined)
{
    int rc = loy_member_create(out, policy);
    if (rc != LOY_OK)
        return rc;
    rc = loy_member_init(*out, id, joined);
    if (rc != LOY_OK) {
        loy_member_free(*out);
        *out = NULL;
    }
    return rc;
}

void loy_member_free(loy_member *m)
{
    if (!m)
        return;
    const loy_alloc *a = m->alloc;
    loy_member_free(m->load_scratch);
    undo_free(m->undo_store);
    free_state_arrays(m);
    loy_free(a, m->bytes);
    loy_free(a, m);
}

const char *loy_member_error(const loy_member *m)
{
    return m ? m->error : "no member";
}

static bool parse_date_str(const char *s, loy_day *out)
{
    return s && loy_parse_date(s, strlen(s), out);
}

/* A text the library will write back as JSON: non-empty UTF-8. */
static bool good_text(const char *s)
{
    return s && s[0] && loy_utf8_valid(s, strlen(s));
}

int loy_member_init(loy_member *m, const char *id, const char *joined)
{
    if (!m)
        return LOY_E_INVALID_ARG;
    loy_day day;
    if (!good_text(id))
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "member id must be a non-empty UTF-8 string");
    if (!parse_date_str(joined, &day))
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "joined must be a date YYYY-MM-DD");
    /* Allocate first, so a NOMEM leaves the previous state in place; a new
     * buffer also serves a caller passing loy_member_id(m) itself. */
    char *buf = NULL;
    size_t cap = 0;
    if (!set_str(m->alloc, &buf, &cap, id, strlen(id)))
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    if (!ensure_upgrade_ledger(m)) {
        loy_free(m->alloc, buf);
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    }
    loy_member_clear(m);
    loy_free(m->alloc, m->id);
    m->id = buf;
    m->id_cap = cap;
    m->joined = day;
    m->tier_since = day;
    m->initialised = true;
    m->fresh = true;
    loy_member_initial_stage(m);
    ok(m);
    return LOY_OK;
}

void loy_member_initial_stage(loy_member *m)
{
    const loy_policy *p = m->policy;
    if (!p->has_lifecycle || !m->initialised) {
        m->stage = -1;
        return;
    }
    loy_day day = m->joined;
    if (m->last_order != LOY_DAY_NONE && m->last_order > day)
        day = m->last_order;
    /* A private result gives the conditions an arena for any message they
     * write; no effect is reported (§8: the first stage is not a change). */
    loy_result r;
    memset(&r, 0, sizeof r);
    r.policy = p;
    r.alloc = m->alloc;
    r.message = "";
    loy_arena_init(&r.arena, m->alloc);
    loy_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.m = m;
    c.r = &r;
    c.day = day;
    c.at.date = day;
    c.no_event = true;
    c.stage_at_start = -1;
    m->stage = -1;
    int32_t stage = loy_stage_for(&c);
    m->stage = (stage >= 0 && (uint32_t)stage < p->stage_count) ? stage : -1;
    loy_arena_release(&r.arena);
}

/* --------------------------------------------------------------- import */

/* The common gate of every import call: a made member with no event yet. */
static int import_gate(loy_member *m)
{
    if (!m->initialised)
        return loy_member_fail(m, LOY_E_INVALID_ARG, "the member has no id and joining date yet");
    if (!m->fresh)
        return loy_member_fail(m, LOY_E_INVALID_MEMBER,
                               "import is only possible before the member's first event");
    return LOY_OK;
}

int loy_member_set_birthday(loy_member *m, const char *date)
{
    if (!m)
        return LOY_E_INVALID_ARG;
    int rc = import_gate(m);
    if (rc)
        return rc;
    loy_day day = LOY_DAY_NONE;
    if (date && !parse_date_str(date, &day))
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "birthday '%s' is not a date YYYY-MM-DD", date);
    loy_member_put_birthday(m, day);
    loy_member_initial_stage(m);
    ok(m);
    return LOY_OK;
}

int loy_member_add_tag(loy_member *m, const char *tag)
{
    if (!m)
        return LOY_E_INVALID_ARG;
    int rc = import_gate(m);
    if (rc)
        return rc;
    if (!good_text(tag))
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "a tag must be a non-empty UTF-8 string");
    for (size_t i = 0; i < m->tag_count; i++)
        if (strcmp(m->tags[i], tag) == 0) {
            ok(m);
            return LOY_OK;      /* tags are a set */
        }
    size_t n = m->tag_count + 1;
    if (!grow_tags(m, n))
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    char *copy = NULL;
    size_t cap = 0;
    if (!set_str(m->alloc, &copy, &cap, tag, strlen(tag)))
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    m->tags[m->tag_count] = copy;
    m->tag_caps[m->tag_count] = cap;
    m->tag_count = n;
    loy_member_initial_stage(m);
    ok(m);
    return LOY_OK;
}

int loy_member_import_tier(loy_member *m, const char *tier, const char *since)
{
    if (!m)
        return LOY_E_INVALID_ARG;
    int rc = import_gate(m);
    if (rc)
        return rc;
    if (!tier)
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "tier must be a tier id");
    int idx = loy_policy_tier_index(m->policy, tier);
    if (idx < 0)
        return loy_member_fail(m, LOY_E_UNKNOWN_TIER, "unknown tier '%s'", tier);
    loy_day day = m->joined;
    if (since && !parse_date_str(since, &day))
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "tier_since '%s' is not a date YYYY-MM-DD", since);
    m->tier = idx;
    m->tier_since = day;
    loy_member_initial_stage(m);
    ok(m);
    return LOY_OK;
}

static int64_t lots_total(const loy_member *m)
{
    int64_t total = 0;
    for (size_t i = 0; i < m->lot_count; i++)
        total += m->lots[i].points;     /* the engine keeps the sum within int64 */
    return total;
}

int loy_member_import_lot(loy_member *m, int64_t points, const char *expires)
{
    if (!m)
        return LOY_E_INVALID_ARG;
    int rc = import_gate(m);
    if (rc)
        return rc;
    if (points < 0)
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "a points lot cannot be negative (%lld)",
                               (long long)points);
    loy_day last = LOY_DAY_NONE;
    if (expires && !parse_date_str(expires, &last))
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "lot expires '%s' is not a date YYYY-MM-DD", expires);
    int64_t sum;
    if (!loy_add(lots_total(m), points, &sum))
        return loy_member_fail(m, LOY_E_OVERFLOW, "imported points exceed the int64 range");
    if (points == 0) {
        /* An empty lot holds nothing to spend or expire: accepted, not kept. */
        ok(m);
        return LOY_OK;
    }
    /* Available points with one last day are one lot, as the engine keeps them. */
    for (size_t i = 0; i < m->lot_count; i++) {
        loy_lot *same = &m->lots[i];
        if (same->pending_until == LOY_DAY_NONE && same->expires == last) {
            same->points += points;     /* within int64: the total with it was checked */
            loy_member_initial_stage(m);
            ok(m);
            return LOY_OK;
        }
    }
    if (!LOY_GROW(m->alloc, m->lots, m->lot_cap, m->lot_count + 1))
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    loy_lot lot;
    memset(&lot, 0, sizeof lot);
    lot.points = points;
    lot.expires = last;
    lot.pending_until = LOY_DAY_NONE;
    lot.credited = m->joined;   /* a legacy lot's credit date is unknown; joining is the earliest we know */
    lot.seq = m->next_seq++;
    size_t at = m->lot_count;
    while (at > 0 && loy_lot_before(&lot, &m->lots[at - 1]))
        at--;
    memmove(&m->lots[at + 1], &m->lots[at], (m->lot_count - at) * sizeof lot);
    m->lots[at] = lot;
    m->lot_count++;
    loy_member_initial_stage(m);
    ok(m);
    return LOY_OK;
}

static int64_t *bucket_field(loy_month_bucket *b, loy_metric metric)
{
    switch (metric) {
    case LOY_METRIC_SPEND: return &b->spend;
    case LOY_METRIC_ORDERS: return &b->orders;
    case LOY_METRIC_GROWTH: return &b->growth;
    case LOY_METRIC_POINTS_EARNED: return &b->points_earned;
    }
    return NULL;
}

int loy_member_import_month(loy_member *m, loy_metric metric, const char *month, int64_t value)
{
    if (!m)
        return LOY_E_INVALID_ARG;
    int rc = import_gate(m);
    if (rc)
        return rc;
    if (metric < LOY_METRIC_SPEND || metric > LOY_METRIC_POINTS_EARNED)
        return loy_member_fail(m, LOY_E_INVALID_ARG, "unknown metric %d", (int)metric);
    loy_month mon;
    if (!month || !loy_parse_month(month, strlen(month), &mon))
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "month '%s' is not YYYY-MM", month ? month : "(null)");
    if (value < 0)
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "a monthly figure cannot be negative (%s: %lld)",
                               month, (long long)value);
    size_t at = 0;
    while (at < m->month_count && m->months[at].month < mon)
        at++;
    bool exists = at < m->month_count && m->months[at].month == mon;
    /* Importing a month again replaces its figure. */
    int64_t old = 0;
    if (exists) {
        loy_month_bucket b = m->months[at];
        old = *bucket_field(&b, metric);
    }
    int64_t life;
    if (!loy_sub(m->lifetime[metric], old, &life) || !loy_add(life, value, &life))
        return loy_member_fail(m, LOY_E_OVERFLOW, "imported %s exceeds the int64 range", month);
    int64_t orders = m->orders;
    if (metric == LOY_METRIC_ORDERS) {
        if (m->orders_imported) {
            if (life > m->orders)
                return loy_member_fail(m, LOY_E_INVALID_MEMBER,
                                       "orders_by_month add up to %lld, more than the %lld lifetime orders",
                                       (long long)life, (long long)m->orders);
        } else {
            orders = life;
        }
    }
    if (!exists) {
        if (value == 0) {
            ok(m);
            return LOY_OK;
        }
        if (!LOY_GROW(m->alloc, m->months, m->month_cap, m->month_count + 1))
            return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
        memmove(&m->months[at + 1], &m->months[at], (m->month_count - at) * sizeof *m->months);
        memset(&m->months[at], 0, sizeof *m->months);
        m->months[at].month = mon;
        m->month_count++;
    }
    *bucket_field(&m->months[at], metric) = value;
    m->lifetime[metric] = life;
    m->orders = orders;
    loy_member_initial_stage(m);
    ok(m);
    return LOY_OK;
}

int loy_member_import_orders(loy_member *m, int64_t orders)
{
    if (!m)
        return LOY_E_INVALID_ARG;
    int rc = import_gate(m);
    if (rc)
        return rc;
    if (orders < 0)
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "orders cannot be negative (%lld)", (long long)orders);
    if (orders < m->lifetime[LOY_METRIC_ORDERS])
        return loy_member_fail(m, LOY_E_INVALID_MEMBER,
                               "orders %lld is less than the %lld of orders_by_month",
                               (long long)orders, (long long)m->lifetime[LOY_METRIC_ORDERS]);
    m->orders = orders;
    m->orders_imported = true;
    loy_member_initial_stage(m);
    ok(m);
    return LOY_OK;
}

int loy_member_import_last_order(loy_member *m, const char *date)
{
    if (!m)
        return LOY_E_INVALID_ARG;
    int rc = import_gate(m);
    if (rc)
        return rc;
    loy_day day;
    if (!parse_date_str(date, &day))
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "last_order '%s' is not a date YYYY-MM-DD",
                               date ? date : "(null)");
    m->last_order = day;
    loy_member_initial_stage(m);
    ok(m);
    return LOY_OK;
}

/* A year as the ledgers write it: 1 to 4 decimal digits, nothing else. */
static bool parse_year(const char *s, size_t len, int32_t *out)
{
    if (len < 1 || len > 4)
        return false;
    int32_t y = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        y = y * 10 + (s[i] - '0');
    }
    *out = y;
    return true;
}

static bool has_mark(const loy_gift_mark *marks, size_t n, int32_t index, int32_t period)
{
    for (size_t i = 0; i < n; i++)
        if (marks[i].index == index && marks[i].period == period)
            return true;
    return false;
}

static int add_mark(loy_member *m, loy_gift_mark **marks, size_t *count, size_t *cap,
                    int32_t index, int32_t period)
{
    if (!has_mark(*marks, *count, index, period)) {
        if (!loy_grow(m->alloc, (void **)marks, cap, *count + 1, sizeof **marks))
            return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
        (*marks)[*count].index = index;
        (*marks)[*count].period = period;
        (*count)++;
    }
    return LOY_OK;
}

static int import_birthday_year(loy_member *m, const char *entry)
{
    int32_t year;
    if (!parse_year(entry, strlen(entry), &year))
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "birthday gift entry '%s' is not a year", entry);
    size_t at = 0;
    while (at < m->birthday_year_count && m->birthday_years[at] < year)
        at++;
    if (at < m->birthday_year_count && m->birthday_years[at] == year)
        return LOY_OK;
    if (!LOY_GROW(m->alloc, m->birthday_years, m->birthday_year_cap, m->birthday_year_count + 1))
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    memmove(&m->birthday_years[at + 1], &m->birthday_years[at],
            (m->birthday_year_count - at) * sizeof *m->birthday_years);
    m->birthday_years[at] = year;
    m->birthday_year_count++;
    return LOY_OK;
}

static int import_surprise(loy_member *m, const char *entry)
{
    const loy_policy *p = m->policy;
    const char *colon = strchr(entry, ':');
    size_t idlen = colon ? (size_t)(colon - entry) : strlen(entry);
    int idx = -1;
    for (uint32_t i = 0; i < p->gifts.surprise_count; i++) {
        const char *gid = p->gifts.surprise[i].id;
        if (strlen(gid) == idlen && memcmp(gid, entry, idlen) == 0) {
            idx = (int)i;
            break;
        }
    }
    if (idx < 0)
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "surprise gift entry '%s' names no surprise gift of the policy",
                               entry);
    int32_t period = 0;
    if (p->gifts.surprise[idx].per_year) {
        /* YEAR as YYYY, like a spend gift's year: "crab-season:26" is more
         * likely a slip for 2026 than a gift given in year 26, and read as
         * year 26 it would let 2026's gift be given again. */
        if (!colon || strlen(colon + 1) != 4 || !parse_year(colon + 1, 4, &period))
            return loy_member_fail(m, LOY_E_INVALID_MEMBER,
                                   "surprise gift entry '%s' must be ID:YYYY (the gift is once per_year)", entry);
    } else if (colon) {
        return loy_member_fail(m, LOY_E_INVALID_MEMBER,
                               "surprise gift entry '%s' must be the bare id (the gift is once lifetime)", entry);
    }
    return add_mark(m, &m->surprise_given, &m->surprise_given_count, &m->surprise_given_cap, idx, period);
}

static int import_spend(loy_member *m, const char *entry)
{
    const loy_policy *p = m->policy;
    const char *colon = strchr(entry, ':');
    if (!colon)
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "spend gift entry '%s' must be ID:PERIOD", entry);
    size_t idlen = (size_t)(colon - entry);
    int idx = -1;
    for (uint32_t i = 0; i < p->gifts.spend_count; i++) {
        const char *gid = p->gifts.spend[i].id;
        if (strlen(gid) == idlen && memcmp(gid, entry, idlen) == 0) {
            idx = (int)i;
            break;
        }
    }
    if (idx < 0)
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "spend gift entry '%s' names no spend gift of the policy",
                               entry);
    const char *period = colon + 1;
    size_t plen = strlen(period);
    switch (p->gifts.spend[idx].period) {
    case LOY_SP_MONTH: {
        loy_month mon;
        if (!loy_parse_month(period, plen, &mon))
            return loy_member_fail(m, LOY_E_INVALID_MEMBER,
                                   "spend gift entry '%s' must name a month YYYY-MM", entry);
        return add_mark(m, &m->spend_given, &m->spend_given_count, &m->spend_given_cap, idx, mon);
    }
    case LOY_SP_YEAR: {
        int32_t year;
        if (plen != 4 || !parse_year(period, plen, &year))
            return loy_member_fail(m, LOY_E_INVALID_MEMBER,
                                   "spend gift entry '%s' must name a year YYYY", entry);
        return add_mark(m, &m->spend_given, &m->spend_given_count, &m->spend_given_cap, idx,
                        LOY_SPEND_YEAR_MARK + year);
    }
    case LOY_SP_ORDER: {
        /* The order may still arrive as an event (§5: the gift is given
         * once per period, the order being the period), so it is kept. */
        if (plen == 0)
            return loy_member_fail(m, LOY_E_INVALID_MEMBER,
                                   "spend gift entry '%s' must name the order id", entry);
        uint64_t order = XXH3_64bits(period, plen);
        size_t at = 0;
        while (at < m->spend_order_count &&
               (m->spend_orders[at].index < idx ||
                (m->spend_orders[at].index == idx && m->spend_orders[at].order < order)))
            at++;
        if (at < m->spend_order_count && m->spend_orders[at].index == idx && m->spend_orders[at].order == order)
            return LOY_OK;
        if (!LOY_GROW(m->alloc, m->spend_orders, m->spend_order_cap, m->spend_order_count + 1))
            return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
        memmove(&m->spend_orders[at + 1], &m->spend_orders[at],
                (m->spend_order_count - at) * sizeof m->spend_orders[0]);
        m->spend_orders[at].index = idx;
        m->spend_orders[at].order = order;
        m->spend_order_count++;
        return LOY_OK;
    }
    }
    return LOY_OK;
}

int loy_member_import_gift(loy_member *m, const char *kind, const char *entry)
{
    if (!m)
        return LOY_E_INVALID_ARG;
    int rc = import_gate(m);
    if (rc)
        return rc;
    if (!kind || !entry)
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "a gift entry needs a kind and a value");
    if (strcmp(kind, "upgrade") == 0) {
        int idx = loy_policy_tier_index(m->policy, entry);
        if (idx < 0)
            return loy_member_fail(m, LOY_E_UNKNOWN_TIER, "upgrade gift entry names unknown tier '%s'", entry);
        if (!ensure_upgrade_ledger(m))
            return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
        m->upgrade_given[idx] = 1;
    } else if (strcmp(kind, "birthday") == 0) {
        rc = import_birthday_year(m, entry);
    } else if (strcmp(kind, "surprise") == 0) {
        rc = import_surprise(m, entry);
    } else if (strcmp(kind, "spend") == 0) {
        rc = import_spend(m, entry);
    } else {
        return loy_member_fail(m, LOY_E_INVALID_MEMBER,
                               "unknown gift kind '%s'; expected upgrade, birthday, surprise or spend", kind);
    }
    if (rc)
        return rc;
    loy_member_initial_stage(m);
    ok(m);
    return LOY_OK;
}

int loy_member_import_paid(loy_member *m, const char *plan, const char *until)
{
    if (!m)
        return LOY_E_INVALID_ARG;
    int rc = import_gate(m);
    if (rc)
        return rc;
    if (!plan)
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "paid needs a plan");
    int idx = loy_policy_plan_index(m->policy, plan);
    if (idx < 0)
        return loy_member_fail(m, LOY_E_UNKNOWN_PLAN, "unknown paid plan '%s'", plan);
    loy_day last;
    if (!parse_date_str(until, &last))
        return loy_member_fail(m, LOY_E_INVALID_MEMBER, "paid until '%s' is not a date YYYY-MM-DD",
                               until ? until : "(null)");
    m->plan = idx;
    m->plan_from = LOY_DAY_NONE;
    m->plan_until = last;
    m->plan_fees = m->policy->plans[idx].fee;   /* §7: an imported plan has paid its fee once */
    m->plan_savings = 0;
    loy_member_initial_stage(m);
    ok(m);
    return LOY_OK;
}

/* -------------------------------------------------------------- getters */

const char *loy_member_id(const loy_member *m)
{
    return m && m->initialised ? m->id : NULL;
}

const char *loy_member_tier(const loy_member *m)
{
    if (!m || !m->initialised || m->tier < 0 || (size_t)m->tier >= tier_count(m))
        return NULL;
    return m->policy->tiers.levels[m->tier].id;
}

int loy_member_tier_since(const loy_member *m, char out[11])
{
    if (!m || !out || !m->initialised || m->tier_since == LOY_DAY_NONE)
        return LOY_E_INVALID_ARG;
    loy_format_date(m->tier_since, out);
    return LOY_OK;
}

const char *loy_member_stage(const loy_member *m)
{
    if (!m || !m->initialised || m->stage < 0 || (uint32_t)m->stage >= m->policy->stage_count)
        return NULL;
    return m->policy->stages[m->stage].id;
}

int64_t loy_member_points_available(const loy_member *m)
{
    return m ? loy_points_available(m) : 0;
}

int64_t loy_member_points_pending(const loy_member *m)
{
    return m ? loy_points_pending(m) : 0;
}

size_t loy_member_lot_count(const loy_member *m)
{
    return m ? m->lot_count : 0;
}

int loy_member_lot(const loy_member *m, size_t i, int64_t *points, char expires[11], char pending_until[11])
{
    if (!m || i >= m->lot_count)
        return LOY_E_INVALID_ARG;
    const loy_lot *lot = &m->lots[i];
    if (points)
        *points = lot->points;
    if (expires) {
        if (lot->expires == LOY_DAY_NONE)
            expires[0] = '\0';
        else
            loy_format_date(lot->expires, expires);
    }
    if (pending_until) {
        if (lot->pending_until == LOY_DAY_NONE)
            pending_until[0] = '\0';
        else
            loy_format_date(lot->pending_until, pending_until);
    }
    return LOY_OK;
}

int loy_member_metric(const loy_member *m, const char *as_of, int64_t *out)
{
    if (!m || !out || !m->initialised)
        return LOY_E_INVALID_ARG;
    loy_day day;
    if (!parse_date_str(as_of, &day))
        return LOY_E_INVALID_ARG;
    if (!loy_tier_metric(m->policy, m, day, out))
        return LOY_E_OVERFLOW;
    return LOY_OK;
}
