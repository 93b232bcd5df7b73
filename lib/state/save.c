/*
 * loy_member_to_bytes: the member's state as the bytes of docs/state.md.
 *
 * The bytes depend on what the state means, not on how memory happens to
 * hold it: set-like ledgers are written sorted, lots carry their credit
 * rank rather than the raw sequence number, the recent ids run oldest
 * first. So bytes -> load -> bytes gives the same bytes, and two handles
 * that hold the same state write the same bytes.
 *
 * One pass: the room the state can take is reserved up front (every
 * varint at its longest), so the writers below store without checks. The
 * body goes after some head room; the string table, known only once the
 * body has named its ids, is then written just before it, with the header
 * before that, and the bytes start wherever the header landed.
 */
#include <stdlib.h>
#include <xxhash.h>

#include "codec.h"

/* Most states fit these on the stack, so writing them allocates nothing
 * beyond the handle's kept output buffer. */
#define SMALL_TABLE 32
#define SMALL_KEYS 128
/* Room before the body for the header, flags and string table: most
 * tables fit, and a larger one moves the body once. */
#define HEAD_ROOM 256
#define VAR_MAX 10      /* bytes of the longest varint */

typedef struct table_entry {
    const char *s;
    size_t len;
} table_entry;

/* The writers below that take the saver are all inlined into
 * loy_member_to_bytes, so its address never leaves that function: its
 * cursor then stays in a register across the byte stores, which the
 * compiler must otherwise assume may overwrite it. */
typedef struct saver {
    const loy_member *m;
    const loy_policy *p;
    const loy_alloc *a;
    bool nomem;
    loy_member *out;                /* m, whose buffer takes the bytes */
    uint8_t *w;                     /* the next byte to write; room reserved */
    size_t promised;                /* bytes of the buffer the writes may reach (checksum not counted) */
    table_entry *table;             /* ids, in order of first use: table_small or allocated */
    size_t table_count, table_cap;
    size_t table_bytes;             /* the table's entries as written: each its length's varint and bytes */
    table_entry *table_small;       /* the caller's, SMALL_TABLE entries */
    uint64_t *keys;                 /* scratch for sorting */
    uint64_t *ranks;                /* lots out of seq order: credit rank per position */
    uint16_t *entry_of;             /* per policy string number: table index + 1, 0: not yet; NULL: put_ref */
} saver;

/* A buffer of `need` bytes; it may move. */
static inline __attribute__((always_inline)) bool more_room(saver *s, size_t need)
{
    loy_member *m = s->out;
    size_t at = (size_t)(s->w - m->bytes);
    if (!LOY_GROW(s->a, m->bytes, m->bytes_cap, need)) {
        s->nomem = true;
        return false;
    }
    s->w = m->bytes + at;
    return true;
}

static inline void put_raw(saver *s, const void *data, size_t n)
{
    loy_copy_short(s->w, data, n);
    s->w += n;
}

static inline void put_byte(saver *s, uint8_t b)
{
    *s->w++ = b;
}

static inline uint8_t *write_uvar(uint8_t *w, uint64_t v)
{
    while (v >= 0x80) {
        *w++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *w++ = (uint8_t)v;
    return w;
}

static inline void put_uvar(saver *s, uint64_t v)
{
    s->w = write_uvar(s->w, v);
}

static inline void put_svar(saver *s, int64_t v)
{
    put_uvar(s, st_zigzag(v));
}

static inline void put_u64le(saver *s, uint64_t v)
{
    st_put_u64le(s->w, v);
    s->w += 8;
}

/* Strings are not in the room reserved up front: each adds its own. */
static inline __attribute__((always_inline)) void put_str(saver *s, const char *str)
{
    size_t n = strlen(str), want;
    if (s->nomem || __builtin_add_overflow(s->promised, n + VAR_MAX, &want) ||
        (want > s->out->bytes_cap - ST_CHECKSUM_LEN && !more_room(s, want + ST_CHECKSUM_LEN)))
        return;     /* not written; the bytes are dropped */
    s->promised = want;
    put_uvar(s, n);
    put_raw(s, str, n);
}

/* A date relative to the joining date: small numbers, few bytes. */
static inline void put_date(saver *s, loy_day d)
{
    put_svar(s, (int64_t)d - s->m->joined);
}

/* An optional date: 0 for none, else the relative date + 1. */
static inline void put_opt_date(saver *s, loy_day d)
{
    if (d == LOY_DAY_NONE)
        put_uvar(s, 0);
    else
        put_uvar(s, st_zigzag((int64_t)d - s->m->joined) + 1);
}

static size_t uvar_len(uint64_t v);

/* A new table entry, written as its index; false when out of memory (the
 * bytes are then dropped). */
static inline __attribute__((always_inline)) bool add_entry(saver *s, const char *id, size_t len)
{
    if (s->table_count == s->table_cap) {
        if (s->table == s->table_small) {
            /* past the caller's small table: move to the heap */
            table_entry *big = loy_malloc(s->a, 2 * s->table_cap * sizeof *big);
            if (!big) {
                s->nomem = true;
                put_uvar(s, 0);     /* keeps the reserved room honest; the bytes are dropped */
                return false;
            }
            memcpy(big, s->table, s->table_count * sizeof *big);
            s->table = big;
            s->table_cap *= 2;
        } else {
            /* through locals: the saver's address stays private, so its
             * cursor can live in a register */
            table_entry *table = s->table;
            size_t cap = s->table_cap;
            if (!LOY_GROW(s->a, table, cap, s->table_count + 1)) {
                s->nomem = true;
                put_uvar(s, 0);
                return false;
            }
            s->table = table;
            s->table_cap = cap;
        }
    }
    s->table[s->table_count].s = id;
    s->table[s->table_count].len = len;
    /* ids are short: a one-byte length without the call */
    s->table_bytes += (len < 0x80 ? 1 : uvar_len(len)) + len;
    put_uvar(s, s->table_count++);
    return true;
}

/* An id, through the string table, which it joins on first use. The same
 * policy string is usually the same pointer; two equal ids of different
 * kinds (a tier and a benefit both "gold") share an entry. */
static inline __attribute__((always_inline)) void put_ref(saver *s, const char *id)
{
    for (size_t i = 0; i < s->table_count; i++) {
        const char *t = s->table[i].s;
        if (t == id || (t[0] == id[0] && strcmp(t, id) == 0)) {
            put_uvar(s, i);
            return;
        }
    }
    add_entry(s, id, strlen(id));
}

/* The id of `kind` at `index` in the policy (id itself): by the policy's
 * string number when it has them (lib/policy/ids.c), which names equal
 * strings alike, so the table comes out as put_ref would make it. */
static inline __attribute__((always_inline)) void put_id(saver *s, unsigned kind, uint32_t index, const char *id)
{
    if (__builtin_expect(!s->entry_of, 0)) {
        put_ref(s, id);
        return;
    }
    uint32_t sn = s->p->state_ids.of[kind][index];
    if (s->entry_of[sn]) {
        put_uvar(s, s->entry_of[sn] - 1u);
        return;
    }
    if (add_entry(s, s->p->state_ids.names[sn], s->p->state_ids.lens[sn]))
        s->entry_of[sn] = (uint16_t)s->table_count;
}

/* put_id for the first id of the table, which it joins without a look. */
static inline __attribute__((always_inline)) void put_first_id(saver *s, unsigned kind, uint32_t index,
                                                                const char *id)
{
    if (__builtin_expect(!s->entry_of, 0)) {
        add_entry(s, id, strlen(id));
        return;
    }
    uint32_t sn = s->p->state_ids.of[kind][index];
    if (add_entry(s, s->p->state_ids.names[sn], s->p->state_ids.lens[sn]))
        s->entry_of[sn] = 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Equal keys are equal entries, so any sort gives the same bytes. */
static void sort_many_keys(uint64_t *k, size_t n)
{
    if (n > 32) {
        qsort(k, n, sizeof *k, cmp_u64);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        uint64_t v = k[i];
        size_t j = i;
        while (j > 0 && k[j - 1] > v) {
            k[j] = k[j - 1];
            j--;
        }
        k[j] = v;
    }
}

/* Most lists hold no entry or one: those without the call. */
static inline void sort_keys(uint64_t *k, size_t n)
{
    if (n > 1)
        sort_many_keys(k, n);
}
static uint64_t key2(uint32_t hi, uint32_t lo)
{
    return (uint64_t)hi << 32 | lo;
}

/* Counters, by policy index; an index the policy lacks is not written. */
static inline __attribute__((always_inline)) void put_counters(saver *s, const loy_counter *cs, size_t n, bool benefits)
{
    if (!n) {
        put_byte(s, 0);     /* most members hold no counter of a kind */
        return;
    }
    uint32_t limit = benefits ? s->p->benefit_count : s->p->points.action_count;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (cs[i].index >= 0 && (uint32_t)cs[i].index < limit)
            s->keys[k++] = key2((uint32_t)cs[i].index, (uint32_t)i);
    sort_keys(s->keys, k);
    put_uvar(s, k);
    for (size_t j = 0; j < k; j++) {
        const loy_counter *c = &cs[s->keys[j] & 0xFFFFFFFFu];
        put_id(s, benefits ? LOY_SID_BENEFIT : LOY_SID_ACTION, (uint32_t)c->index,
               benefits ? s->p->benefits[c->index].id : s->p->points.actions[c->index].kind);
        bool has_start = c->period_start != LOY_DAY_NONE;
        put_byte(s, (uint8_t)(((unsigned)c->kind & 3u) | ((unsigned)c->per & 3u) << 2 |
                              (has_start ? ST_COUNTER_START : 0u)));
        if (has_start)
            put_date(s, c->period_start);
        put_uvar(s, (uint64_t)c->count);
    }
}

/* The lots, each after its header byte; in_seq a constant at each call,
 * so the usual case (lots in seq order) asks nothing about ranks. */
static inline __attribute__((always_inline)) void put_lot_list(saver *s, bool in_seq)
{
    const loy_member *m = s->m;
    /* a local cursor: the compiler keeps it in a register across the
     * byte stores, which may alias anything, s->w included */
    uint8_t *w = write_uvar(s->w, m->lot_count);
    loy_day prev_credit = m->joined, prev_expires = m->joined;
    for (size_t i = 0; i < m->lot_count; i++) {
        const loy_lot *lot = &m->lots[i];
        unsigned hdr = 0;
        if (lot->pending_until != LOY_DAY_NONE)
            hdr |= ST_LOT_PENDING;
        if (lot->expires != LOY_DAY_NONE)
            hdr |= ST_LOT_EXPIRES;
        if (lot->order_id)
            hdr |= ST_LOT_ORDER_ID;
        if (!in_seq && s->ranks[i] != i)
            hdr |= ST_LOT_RANK;
        *w++ = (uint8_t)hdr;
        if (hdr & ST_LOT_RANK)
            w = write_uvar(w, s->ranks[i]);
        w = write_uvar(w, (uint64_t)lot->points);
        w = write_uvar(w, st_zigzag((int64_t)lot->credited - prev_credit));
        prev_credit = lot->credited;
        if (hdr & ST_LOT_EXPIRES) {
            w = write_uvar(w, st_zigzag((int64_t)lot->expires - prev_expires));
            prev_expires = lot->expires;
        }
        if (hdr & ST_LOT_PENDING)
            w = write_uvar(w, st_zigzag((int64_t)lot->pending_until - lot->credited));
        if (hdr & ST_LOT_ORDER_ID) {
            s->w = w;
            put_str(s, lot->order_id);
            w = s->w;
        }
    }
    s->w = w;
}

static inline __attribute__((always_inline)) void put_lots(saver *s)
{
    const loy_member *m = s->m;
    /* credit rank of each lot: its place in seq order; lots that all
     * expire alike sit in seq order already, so their rank is their place
     * and s->ranks is not filled */
    bool in_seq = true;
    for (size_t i = 1; i < m->lot_count && in_seq; i++)
        in_seq = m->lots[i - 1].seq < m->lots[i].seq;
    if (!in_seq) {
        for (size_t i = 0; i < m->lot_count; i++)
            s->keys[i] = key2(m->lots[i].seq, (uint32_t)i);
        sort_keys(s->keys, m->lot_count);
        for (size_t r = 0; r < m->lot_count; r++)
            s->ranks[s->keys[r] & 0xFFFFFFFFu] = r;
    }

    if (in_seq)
        put_lot_list(s, true);
    else
        put_lot_list(s, false);
}

/* The count of the n entries written after the byte kept for it at
 * count_at: one byte below 128 entries; past that the entries move up to
 * make room, which is within the room reserved for counts. */
static inline void put_count_at(saver *s, uint8_t *count_at, size_t n)
{
    if (n < 0x80) {
        *count_at = (uint8_t)n;
        return;
    }
    size_t extra = uvar_len(n) - 1;
    memmove(count_at + 1 + extra, count_at + 1, (size_t)(s->w - (count_at + 1)));
    s->w += extra;
    write_uvar(count_at, n);
}

/* A month's non-zero figures, each with its bit added to mask, which is
 * then stored at mask_at. */
static inline __attribute__((always_inline)) uint8_t *put_figures(uint8_t *w, const loy_month_bucket *b,
                                                                  uint8_t *mask_at, unsigned mask)
{
    if (b->spend) {
        mask |= 1u;
        w = write_uvar(w, (uint64_t)b->spend);
    }
    if (b->orders) {
        mask |= 2u;
        w = write_uvar(w, (uint64_t)b->orders);
    }
    if (b->growth) {
        mask |= 4u;
        w = write_uvar(w, (uint64_t)b->growth);
    }
    if (b->points_earned) {
        mask |= 8u;
        w = write_uvar(w, (uint64_t)b->points_earned);
    }
    *mask_at = (uint8_t)mask;
    return w;
}

static inline __attribute__((always_inline)) void put_months(saver *s)
{
    const loy_member *m = s->m;
    /* The count of months written goes first; it is known only after the
     * loop (empty months are skipped), so a byte is kept for it. */
    uint8_t *count_at = s->w, *w = s->w + 1;     /* a local cursor, as in put_lots */
    size_t n = 0, i = 0;
    loy_month prev = 0;
    /* The first month is placed from the joining month; each later one
     * by its gap in months to the one before, minus one, which shares a
     * byte with the figure mask while it is below 15. The mask byte is
     * kept and filled in as the figures are written. */
    for (; i < m->month_count; i++) {
        const loy_month_bucket *b = &m->months[i];
        if (!(b->spend | b->orders | b->growth | b->points_earned))
            continue;       /* an empty month says nothing */
        w = write_uvar(w, st_zigzag((int64_t)b->month - loy_month_of(m->joined)));
        uint8_t *mask_at = w++;
        w = put_figures(w, b, mask_at, 0);
        n = 1;
        prev = b->month;
        i++;
        break;
    }
    for (; i < m->month_count; i++) {
        const loy_month_bucket *b = &m->months[i];
        if (!(b->spend | b->orders | b->growth | b->points_earned))
            continue;
        uint64_t gap = (uint64_t)((int64_t)b->month - prev - 1);
        uint8_t *mask_at = w++;
        if (gap >= ST_MONTH_GAP_MORE)
            w = write_uvar(w, gap - ST_MONTH_GAP_MORE);
        w = put_figures(w, b, mask_at, (unsigned)(gap < ST_MONTH_GAP_MORE ? gap : ST_MONTH_GAP_MORE) << 4);
        n++;
        prev = b->month;
    }
    s->w = w;
    put_count_at(s, count_at, n);
}

static inline __attribute__((always_inline)) void put_gifts(saver *s)
{
    const loy_member *m = s->m;
    const loy_policy *p = s->p;

    /* one pass over the tiers: the count goes before the ids it counts */
    size_t tiers = p->tiers.count < m->upgrade_given_cap ? p->tiers.count : m->upgrade_given_cap;
    uint8_t *count_at = s->w++;
    size_t n = 0;
    for (size_t i = 0; i < tiers; i++)
        if (m->upgrade_given[i]) {
            put_id(s, LOY_SID_TIER, (uint32_t)i, p->tiers.levels[i].id);
            n++;
        }
    put_count_at(s, count_at, n);

    /* birthday years: ascending, each once; none or one without the keys */
    if (m->birthday_year_count <= 1) {
        put_uvar(s, m->birthday_year_count);
        if (m->birthday_year_count)
            put_uvar(s, (uint32_t)m->birthday_years[0]);
    } else {
        n = 0;
        for (size_t i = 0; i < m->birthday_year_count; i++)
            s->keys[n++] = (uint64_t)(uint32_t)m->birthday_years[i];
        sort_keys(s->keys, n);
        size_t distinct = 0;
        for (size_t i = 0; i < n; i++)
            if (i == 0 || s->keys[i] != s->keys[i - 1])
                s->keys[distinct++] = s->keys[i];
        put_uvar(s, distinct);
        for (size_t i = 0; i < distinct; i++)
            put_uvar(s, i == 0 ? s->keys[0] : s->keys[i] - s->keys[i - 1] - 1);
    }

    if (!m->surprise_given_count) {
        put_byte(s, 0);     /* surprises are rare */
    } else {
        n = 0;
        for (size_t i = 0; i < m->surprise_given_count; i++) {
            const loy_gift_mark *g = &m->surprise_given[i];
            if (g->index >= 0 && (uint32_t)g->index < p->gifts.surprise_count)
                s->keys[n++] = key2((uint32_t)g->index, (uint32_t)g->period);
        }
        sort_keys(s->keys, n);
        put_uvar(s, n);
        for (size_t i = 0; i < n; i++) {
            put_id(s, LOY_SID_SURPRISE, (uint32_t)(s->keys[i] >> 32), p->gifts.surprise[s->keys[i] >> 32].id);
            put_uvar(s, (uint32_t)s->keys[i]);
        }
    }

    /* Each entry with the kind of period it was given for, which the
     * policy may since have changed (§10.2: the ledgers carry over). */
    n = 0;
    for (size_t i = 0; i < m->spend_given_count; i++) {
        const loy_gift_mark *g = &m->spend_given[i];
        if (g->index >= 0 && (uint32_t)g->index < p->gifts.spend_count)
            s->keys[n++] = key2((uint32_t)g->index, (uint32_t)g->period);
    }
    sort_keys(s->keys, n);
    put_uvar(s, n);
    for (size_t i = 0; i < n; i++) {
        const loy_spend_gift *g = &p->gifts.spend[s->keys[i] >> 32];
        uint32_t period = (uint32_t)s->keys[i];
        bool year = period >= (uint32_t)LOY_SPEND_YEAR_MARK;
        put_id(s, LOY_SID_SPEND, (uint32_t)(s->keys[i] >> 32), g->id);
        put_byte(s, year ? ST_SPEND_YEAR : ST_SPEND_MONTH);
        put_uvar(s, year ? period - (uint32_t)LOY_SPEND_YEAR_MARK : period);
    }
}

/* Imported period-order entries of gifts the policy still has, as they
 * stand (§10.2) even if the gift now counts months or years: they match
 * again if it comes back to `period: order`. */
static bool spend_order_written(const loy_member *m, const loy_order_mark *o)
{
    const loy_policy *p = m->policy;
    return o->index >= 0 && (uint32_t)o->index < p->gifts.spend_count;
}

static size_t spend_orders_written(const loy_member *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->spend_order_count; i++)
        n += spend_order_written(m, &m->spend_orders[i]);
    return n;
}

/* Without branches: each test is a set flag or not. */
static unsigned state_flags(const loy_member *m, size_t spend_orders)
{
    return (m->fresh ? ST_F_FRESH : 0u) | (m->has_last_event ? ST_F_LAST_EVENT : 0u) |
           (m->orders_imported ? ST_F_ORDERS_IMPORTED : 0u) | (m->plan >= 0 ? ST_F_PLAN : 0u) |
           (m->stage >= 0 ? ST_F_STAGE : 0u) | (m->cap_earlier_count ? ST_F_CAP_EARLIER : 0u) |
           (spend_orders ? ST_F_SPEND_ORDERS : 0u);
}

/* Everything after the string table. */
static inline __attribute__((always_inline)) void put_body(saver *s, size_t spend_orders)
{
    const loy_member *m = s->m;
    const loy_policy *p = s->p;

    put_str(s, m->id);
    put_svar(s, m->joined);
    put_opt_date(s, m->birthday);
    put_uvar(s, m->tag_count);
    for (size_t i = 0; i < m->tag_count; i++)
        put_str(s, m->tags[i]);

    put_first_id(s, LOY_SID_TIER, (uint32_t)m->tier, p->tiers.levels[m->tier].id);
    put_date(s, m->tier_since);
    put_opt_date(s, m->last_review);

    put_uvar(s, (uint64_t)m->debt);
    put_lots(s);

    put_months(s);
    put_svar(s, m->lifetime[0]);
    put_svar(s, m->lifetime[1]);
    put_svar(s, m->lifetime[2]);
    put_svar(s, m->lifetime[3]);
    put_uvar(s, (uint64_t)m->orders);
    put_opt_date(s, m->last_order);

    put_counters(s, m->actions, m->action_count, false);
    put_counters(s, m->benefit_uses, m->benefit_use_count, true);

    put_gifts(s);

    if (m->plan >= 0) {
        put_id(s, LOY_SID_PLAN, (uint32_t)m->plan, p->plans[m->plan].id);
        put_opt_date(s, m->plan_from);
        put_date(s, m->plan_until);
        put_uvar(s, (uint64_t)m->plan_fees);
        put_uvar(s, (uint64_t)m->plan_savings);
    }
    if (m->stage >= 0)
        put_id(s, LOY_SID_STAGE, (uint32_t)m->stage, p->stages[m->stage].id);
    if (m->has_last_event) {
        const loy_instant *at = &m->last_event;
        put_date(s, at->date);
        put_uvar(s, (uint64_t)at->seconds);
        put_svar(s, at->offset_min);
        /* utc_us follows from the rest but for the fraction of a second */
        int64_t whole = ((int64_t)at->date * 86400 + at->seconds - (int64_t)at->offset_min * 60) * 1000000;
        put_svar(s, at->utc_us - whole);
    }
    put_opt_date(s, m->cap_day);
    put_uvar(s, (uint64_t)m->day_points);
    if (m->cap_earlier_count) {
        /* ascending and before cap_day: each as its distance back from the
         * date after it, minus one */
        put_uvar(s, m->cap_earlier_count);
        for (uint32_t i = 0; i < m->cap_earlier_count; i++) {
            loy_day next = i + 1 < m->cap_earlier_count ? m->cap_earlier[i + 1].day : m->cap_day;
            put_uvar(s, (uint64_t)((int64_t)next - m->cap_earlier[i].day - 1));
            put_uvar(s, (uint64_t)m->cap_earlier[i].points);
        }
    }
    if (spend_orders) {
        /* kept ascending by (index, order) in memory */
        put_uvar(s, spend_orders);
        for (size_t i = 0; i < m->spend_order_count; i++) {
            const loy_order_mark *o = &m->spend_orders[i];
            if (!spend_order_written(m, o))
                continue;
            put_id(s, LOY_SID_SPEND, (uint32_t)o->index, p->gifts.spend[o->index].id);
            put_u64le(s, o->order);
        }
    }

    put_uvar(s, m->recent_count);
    uint32_t oldest = (m->recent_pos + LOY_RECENT_IDS - m->recent_count) % LOY_RECENT_IDS;
    for (uint32_t i = 0; i < m->recent_count; i++)
        put_u64le(s, m->recent[(oldest + i) % LOY_RECENT_IDS]);
}

/* Values the format stores unsigned, and indices it dereferences. */
static const char *unwritable(const loy_member *m)
{
    const loy_policy *p = m->policy;
    if (m->tier < 0 || (uint32_t)m->tier >= p->tiers.count)
        return "its tier is not one of the policy's";
    if (m->plan >= 0 && (uint32_t)m->plan >= p->plan_count)
        return "its plan is not one of the policy's";
    if (m->stage >= 0 && (uint32_t)m->stage >= p->stage_count)
        return "its stage is not one of the policy's";
    if ((m->debt | m->orders | m->plan_fees | m->plan_savings | m->day_points) < 0)
        return "it holds a negative debt, order count, fee, saving or day's points";
    if (m->recent_count > LOY_RECENT_IDS || m->recent_pos >= LOY_RECENT_IDS)
        return "its recent event ids are out of range";
    for (size_t i = 0; i < m->lot_count; i++)
        if (m->lots[i].points < 0)
            return "it holds a lot below 0 points";
    for (size_t i = 0; i < m->month_count; i++) {
        const loy_month_bucket *b = &m->months[i];
        if (i > 0 && b->month <= m->months[i - 1].month)
            return "its monthly figures are not in ascending month order";
        if ((b->spend | b->orders | b->growth | b->points_earned) < 0)     /* any sign bit */
            return "it holds a monthly figure below 0";
    }
    for (size_t i = 0; i < m->action_count; i++)
        if (m->actions[i].count < 0)
            return "it holds a negative action count";
    for (size_t i = 0; i < m->benefit_use_count; i++)
        if (m->benefit_uses[i].count < 0)
            return "it holds a negative benefit use count";
    /* The loader's bounds, so that no state is written that it refuses. */
    for (size_t i = 0; i < m->birthday_year_count; i++)
        if (m->birthday_years[i] < 0 || m->birthday_years[i] > 9999)
            return "it holds a birthday year out of 0..9999";
    for (size_t i = 0; i < m->surprise_given_count; i++)
        if (m->surprise_given[i].period < 0 || m->surprise_given[i].period > 9999)
            return "it holds a surprise gift year out of 0..9999";
    for (size_t i = 0; i < m->spend_given_count; i++)
        if (m->spend_given[i].period < 0 ||
            (m->spend_given[i].period > LOY_MONTH_LAST && m->spend_given[i].period < LOY_SPEND_YEAR_MARK) ||
            m->spend_given[i].period > LOY_SPEND_YEAR_MARK + 9999)
            return "it holds a spend gift period past 9999";
    if (m->cap_earlier_count > LOY_CAP_EARLIER_DAYS || (m->cap_earlier_count && m->cap_day == LOY_DAY_NONE))
        return "its days of the points cap are out of range";
    for (uint32_t i = 0; i < m->cap_earlier_count; i++) {
        loy_day next = i + 1 < m->cap_earlier_count ? m->cap_earlier[i + 1].day : m->cap_day;
        if (m->cap_earlier[i].day == LOY_DAY_NONE || m->cap_earlier[i].day >= next || m->cap_earlier[i].points < 0)
            return "its days of the points cap are not ascending or hold negative points";
    }
    for (size_t i = 1; i < m->spend_order_count; i++) {
        const loy_order_mark *a = &m->spend_orders[i - 1], *b = &m->spend_orders[i];
        if (a->index > b->index || (a->index == b->index && a->order >= b->order))
            return "its imported order spend gifts are not in ascending order";
    }
    return NULL;
}

static size_t uvar_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* *room += n * each, false past SIZE_MAX */
static bool add_room(size_t *room, size_t n, size_t each)
{
    size_t more;
    return !__builtin_mul_overflow(n, each, &more) && !__builtin_add_overflow(*room, more, room);
}

/* The most bytes the body can take but for its strings (put_str makes
 * room for those): every varint at its longest. A list entry takes at most
 * a month's room (its byte, gap and four figures); upgrade gifts and
 * birthday years a varint; recent ids 8 bytes. */
static bool body_room(const loy_member *m, size_t *out)
{
    size_t entries = 0, small = 0, room = 0, more = 0;
    bool ok = !__builtin_add_overflow(m->lot_count, m->month_count, &entries) &&
              !__builtin_add_overflow(entries, m->action_count + m->benefit_use_count, &entries) &&
              !__builtin_add_overflow(entries, m->surprise_given_count + m->spend_given_count, &entries) &&
              !__builtin_add_overflow(entries, m->spend_order_count, &entries) &&
              !__builtin_add_overflow(m->policy->tiers.count, m->birthday_year_count, &small) &&
              !__builtin_mul_overflow(entries, 1 + 6 * VAR_MAX, &room) &&
              !__builtin_mul_overflow(small, VAR_MAX, &more) && !__builtin_add_overflow(room, more, &room) &&
              !__builtin_add_overflow(room, (size_t)m->recent_count * 8, &room) &&
              !__builtin_add_overflow(room, 64 * VAR_MAX, &room);   /* the scalars and counts, fewer than 64 */
    *out = room;
    return ok;
}

int loy_member_to_bytes(loy_member *m, const void **data, size_t *len)
{
    if (!m || !data || !len)
        return m ? loy_member_fail(m, LOY_E_INVALID_ARG, "to_bytes needs data and len") : LOY_E_INVALID_ARG;
    if (!m->initialised)
        return loy_member_fail(m, LOY_E_INVALID_ARG, "the member has no state to write");
    const char *why = unwritable(m);
    if (why)
        return loy_member_fail(m, LOY_E_INVALID_ARG, "the state cannot be written: %s", why);

    saver s;
    s.m = s.out = m;
    s.p = m->policy;
    s.a = m->alloc;
    s.nomem = false;
    s.table_count = 0;
    s.table_bytes = 0;

    size_t scratch = max_size(m->lot_count, m->action_count);
    scratch = max_size(scratch, m->benefit_use_count);
    scratch = max_size(scratch, m->birthday_year_count);
    scratch = max_size(scratch, m->surprise_given_count);
    scratch = max_size(scratch, m->spend_given_count);
    /* lot_count <= scratch, so the sum below cannot wrap */
    if (scratch >= SIZE_MAX / sizeof(uint64_t) / 4)
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    size_t room;
    if (!body_room(m, &room) || !add_room(&room, 1, HEAD_ROOM + ST_CHECKSUM_LEN) ||
        (room > m->bytes_cap && !LOY_GROW(m->alloc, m->bytes, m->bytes_cap, room)))
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");

    uint64_t keys_small[SMALL_KEYS];
    table_entry table_small[SMALL_TABLE];
    s.table = s.table_small = table_small;
    s.table_cap = SMALL_TABLE;
    /* ids by the policy's string numbers when it has few enough of them
     * for this stack map (every policy seen so far) */
    uint16_t entry_small[256];
    s.entry_of = NULL;
    if (s.p->state_ids.names && s.p->state_ids.count <= 256) {
        /* a constant size for the usual few ids: a handful of stores
         * instead of a string instruction sized at run time */
        if (s.p->state_ids.count <= 32)
            memset(entry_small, 0, 32 * sizeof entry_small[0]);
        else
            memset(entry_small, 0, s.p->state_ids.count * sizeof entry_small[0]);
        s.entry_of = entry_small;
    }
    size_t nkeys = scratch + m->lot_count + 1;
    s.keys = nkeys <= SMALL_KEYS ? keys_small : loy_malloc(s.a, nkeys * sizeof(uint64_t));
    if (!s.keys)
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    s.ranks = s.keys + scratch;

    s.w = m->bytes + HEAD_ROOM;
    s.promised = room - ST_CHECKSUM_LEN;
    size_t spend_orders = spend_orders_written(m);
    put_body(&s, spend_orders);
    size_t body_len = (size_t)(s.w - (m->bytes + HEAD_ROOM));
    if (s.keys != keys_small)
        loy_free(s.a, s.keys);

    /* header, flags and the string table go just before the body */
    uint8_t pre[ST_HEADER_LEN + 2 * VAR_MAX];
    memcpy(pre, ST_MAGIC, ST_MAGIC_LEN);
    pre[ST_MAGIC_LEN] = ST_VERSION;
    uint8_t *pre_end = write_uvar(pre + ST_HEADER_LEN, state_flags(m, spend_orders));
    pre_end = write_uvar(pre_end, s.table_count);
    size_t pre_len = (size_t)(pre_end - pre);
    size_t start = HEAD_ROOM, end = 0, head = 0;
    if (!s.nomem && __builtin_add_overflow(pre_len, s.table_bytes, &head))
        s.nomem = true;
    if (!s.nomem && head > HEAD_ROOM) {
        /* a long table: make room for it and move the body once */
        size_t need;
        if (__builtin_add_overflow(head, body_len + ST_CHECKSUM_LEN, &need) ||
            (need > m->bytes_cap && !LOY_GROW(m->alloc, m->bytes, m->bytes_cap, need))) {
            s.nomem = true;
        } else {
            memmove(m->bytes + head, m->bytes + HEAD_ROOM, body_len);
            start = head;
        }
    }
    if (!s.nomem) {
        end = start + body_len;
        start -= s.table_bytes;
        uint8_t *t = m->bytes + start;
        for (size_t i = 0; i < s.table_count; i++) {
            t = write_uvar(t, s.table[i].len);
            loy_copy_short(t, s.table[i].s, s.table[i].len);
            t += s.table[i].len;
        }
        start -= pre_len;
        loy_copy_short(m->bytes + start, pre, pre_len);
    }
    if (s.table != table_small)
        loy_free(s.a, s.table);
    if (s.nomem)
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");

    uint8_t *out = m->bytes + start;
    size_t total = end - start + ST_CHECKSUM_LEN;
    if (total > UINT32_MAX)
        return loy_member_fail(m, LOY_E_OVERFLOW, "the state exceeds 4 GiB");
    st_put_u32le(out + 4, (uint32_t)total);
    st_put_u32le(out + 8, ~(uint32_t)total);
    st_put_u64le(m->bytes + end, XXH3_64bits(out, end - start));
    m->error[0] = '\0';
    *data = out;
    *len = total;
    return LOY_OK;
}
