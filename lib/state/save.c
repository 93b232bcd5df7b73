/*
 * loy_member_to_bytes: the member's state as the bytes of docs/state.md.
 *
 * The bytes depend on what the state means, not on how memory happens to
 * hold it: set-like ledgers are written sorted, lots carry their credit
 * rank rather than the raw sequence number, the recent ids run oldest
 * first. So bytes -> load -> bytes gives the same bytes, and two handles
 * that hold the same state write the same bytes.
 */
#include <stdlib.h>
#include <xxhash.h>

#include "codec.h"

/* Most states fit these on the stack, so writing them allocates nothing
 * beyond the handle's kept output buffer. */
#define SMALL_TABLE 32
#define SMALL_KEYS 128

typedef struct saver {
    const loy_member *m;
    const loy_policy *p;
    const loy_alloc *a;
    bool collect;                   /* first pass: only gather the string table */
    bool nomem;
    uint8_t *buf;
    size_t len, cap;
    const char **table;             /* ids, in order of first use: table_small or allocated */
    size_t table_count, table_cap;
    const char **table_small;       /* the caller's, SMALL_TABLE entries */
    uint64_t *keys;                 /* scratch for sorting */
    uint64_t *ranks;                /* lots: credit rank per position */
} saver;

static void put_raw(saver *s, const void *data, size_t n)
{
    if (s->collect || s->nomem)
        return;
    /* Writes are a byte or a few into a buffer kept from the last call, so
     * the grow call is made only when the room is short (cap >= len). */
    if (n > s->cap - s->len &&
        (n > SIZE_MAX - s->len || !LOY_GROW(s->a, s->buf, s->cap, s->len + n))) {
        s->nomem = true;
        return;
    }
    /* Writes are mostly 1-8 bytes: a loop, not a call to memcpy. */
    uint8_t *out = s->buf + s->len;
    const uint8_t *in = data;
    if (n <= 16) {
        for (size_t i = 0; i < n; i++)
            out[i] = in[i];
    } else {
        memcpy(out, in, n);
    }
    s->len += n;
}

static void put_byte(saver *s, uint8_t b)
{
    put_raw(s, &b, 1);
}

static void put_uvar(saver *s, uint64_t v)
{
    if (!s->collect && !s->nomem && s->cap - s->len >= 10) {
        /* room for the longest varint: straight into the buffer */
        uint8_t *out = s->buf + s->len;
        size_t n = 0;
        do {
            uint8_t b = (uint8_t)(v & 0x7F);
            v >>= 7;
            out[n++] = (uint8_t)(b | (v ? 0x80 : 0));
        } while (v);
        s->len += n;
        return;
    }
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t b = (uint8_t)(v & 0x7F);
        v >>= 7;
        tmp[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    put_raw(s, tmp, n);
}

static void put_svar(saver *s, int64_t v)
{
    put_uvar(s, st_zigzag(v));
}

static void put_str(saver *s, const char *str)
{
    size_t n = strlen(str);
    put_uvar(s, n);
    put_raw(s, str, n);
}

/* A date relative to the joining date: small numbers, few bytes. */
static void put_date(saver *s, loy_day d)
{
    put_svar(s, (int64_t)d - s->m->joined);
}

/* An optional date: 0 for none, else the relative date + 1. */
static void put_opt_date(saver *s, loy_day d)
{
    if (d == LOY_DAY_NONE)
        put_uvar(s, 0);
    else
        put_uvar(s, st_zigzag((int64_t)d - s->m->joined) + 1);
}

/* An id, through the string table. */
static void put_ref(saver *s, const char *id)
{
    for (size_t i = 0; i < s->table_count; i++)
        if (strcmp(s->table[i], id) == 0) {
            put_uvar(s, i);
            return;
        }
    if (!s->collect) {
        s->nomem = true;    /* cannot happen: the first pass saw every id */
        return;
    }
    if (s->table_count == s->table_cap && s->table == s->table_small) {
        /* past the caller's small table: move to the heap */
        const char **big = loy_malloc(s->a, 2 * s->table_cap * sizeof *big);
        if (!big) {
            s->nomem = true;
            return;
        }
        memcpy(big, s->table, s->table_count * sizeof *big);
        s->table = big;
        s->table_cap *= 2;
    }
    if (!LOY_GROW(s->a, s->table, s->table_cap, s->table_count + 1)) {
        s->nomem = true;
        return;
    }
    s->table[s->table_count++] = id;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void sort_keys(saver *s, size_t n)
{
    if (n > 1)
        qsort(s->keys, n, sizeof *s->keys, cmp_u64);
}

static uint64_t key2(uint32_t hi, uint32_t lo)
{
    return (uint64_t)hi << 32 | lo;
}

/* Counters, by policy index; an index the policy lacks is not written. */
static void put_counters(saver *s, const loy_counter *cs, size_t n, bool benefits)
{
    uint32_t limit = benefits ? s->p->benefit_count : s->p->points.action_count;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (cs[i].index >= 0 && (uint32_t)cs[i].index < limit)
            s->keys[k++] = key2((uint32_t)cs[i].index, (uint32_t)i);
    sort_keys(s, k);
    put_uvar(s, k);
    for (size_t j = 0; j < k; j++) {
        const loy_counter *c = &cs[s->keys[j] & 0xFFFFFFFFu];
        put_ref(s, benefits ? s->p->benefits[c->index].id : s->p->points.actions[c->index].kind);
        bool has_start = c->period_start != LOY_DAY_NONE;
        put_byte(s, (uint8_t)(((unsigned)c->kind & 3u) | ((unsigned)c->per & 3u) << 2 |
                              (has_start ? ST_COUNTER_START : 0u)));
        if (has_start)
            put_date(s, c->period_start);
        put_uvar(s, (uint64_t)c->count);
    }
}

static void put_lots(saver *s)
{
    const loy_member *m = s->m;
    /* credit rank of each lot: its place in seq order */
    for (size_t i = 0; i < m->lot_count; i++)
        s->keys[i] = key2(m->lots[i].seq, (uint32_t)i);
    sort_keys(s, m->lot_count);
    for (size_t r = 0; r < m->lot_count; r++)
        s->ranks[s->keys[r] & 0xFFFFFFFFu] = r;

    put_uvar(s, m->lot_count);
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
        if (s->ranks[i] != i)
            hdr |= ST_LOT_RANK;
        put_byte(s, (uint8_t)hdr);
        if (hdr & ST_LOT_RANK)
            put_uvar(s, s->ranks[i]);
        put_uvar(s, (uint64_t)lot->points);
        put_svar(s, (int64_t)lot->credited - prev_credit);
        prev_credit = lot->credited;
        if (hdr & ST_LOT_EXPIRES) {
            put_svar(s, (int64_t)lot->expires - prev_expires);
            prev_expires = lot->expires;
        }
        if (hdr & ST_LOT_PENDING)
            put_svar(s, (int64_t)lot->pending_until - lot->credited);
        if (hdr & ST_LOT_ORDER_ID)
            put_str(s, lot->order_id);
    }
}

static void put_months(saver *s)
{
    const loy_member *m = s->m;
    size_t n = 0;
    for (size_t i = 0; i < m->month_count; i++) {
        const loy_month_bucket *b = &m->months[i];
        if (b->spend || b->orders || b->growth || b->points_earned)
            n++;
    }
    put_uvar(s, n);
    loy_month prev = loy_month_of(m->joined);
    bool first = true;
    for (size_t i = 0; i < m->month_count; i++) {
        const loy_month_bucket *b = &m->months[i];
        int64_t v[4] = {b->spend, b->orders, b->growth, b->points_earned};
        if (!(v[0] || v[1] || v[2] || v[3]))
            continue;       /* an empty month says nothing */
        unsigned mask = 0;
        for (unsigned k = 0; k < 4; k++)
            if (v[k])
                mask |= 1u << k;
        /* The first month is placed from the joining month; each later one
         * by its gap in months to the one before, minus one, which shares a
         * byte with the figure mask while it is below 15. */
        if (first) {
            put_svar(s, (int64_t)b->month - prev);
            put_byte(s, (uint8_t)mask);
        } else {
            uint64_t gap = (uint64_t)((int64_t)b->month - prev - 1);
            put_byte(s, (uint8_t)(mask | (gap < ST_MONTH_GAP_MORE ? gap : ST_MONTH_GAP_MORE) << 4));
            if (gap >= ST_MONTH_GAP_MORE)
                put_uvar(s, gap - ST_MONTH_GAP_MORE);
        }
        first = false;
        prev = b->month;
        for (unsigned k = 0; k < 4; k++)
            if (v[k])
                put_uvar(s, (uint64_t)v[k]);
    }
}

static void put_gifts(saver *s)
{
    const loy_member *m = s->m;
    const loy_policy *p = s->p;

    size_t tiers = p->tiers.count < m->upgrade_given_cap ? p->tiers.count : m->upgrade_given_cap;
    size_t n = 0;
    for (size_t i = 0; i < tiers; i++)
        n += m->upgrade_given[i] != 0;
    put_uvar(s, n);
    for (size_t i = 0; i < tiers; i++)
        if (m->upgrade_given[i])
            put_ref(s, p->tiers.levels[i].id);

    /* birthday years: ascending, each once */
    n = 0;
    for (size_t i = 0; i < m->birthday_year_count; i++)
        s->keys[n++] = (uint64_t)(uint32_t)m->birthday_years[i];
    sort_keys(s, n);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || s->keys[i] != s->keys[i - 1])
            s->keys[distinct++] = s->keys[i];
    put_uvar(s, distinct);
    for (size_t i = 0; i < distinct; i++)
        put_uvar(s, i == 0 ? s->keys[0] : s->keys[i] - s->keys[i - 1] - 1);

    n = 0;
    for (size_t i = 0; i < m->surprise_given_count; i++) {
        const loy_gift_mark *g = &m->surprise_given[i];
        if (g->index >= 0 && (uint32_t)g->index < p->gifts.surprise_count)
            s->keys[n++] = key2((uint32_t)g->index, (uint32_t)g->period);
    }
    sort_keys(s, n);
    put_uvar(s, n);
    for (size_t i = 0; i < n; i++) {
        put_ref(s, p->gifts.surprise[s->keys[i] >> 32].id);
        put_uvar(s, (uint32_t)s->keys[i]);
    }

    n = 0;
    for (size_t i = 0; i < m->spend_given_count; i++) {
        const loy_gift_mark *g = &m->spend_given[i];
        if (g->index >= 0 && (uint32_t)g->index < p->gifts.spend_count &&
            p->gifts.spend[g->index].period != LOY_SP_ORDER)
            s->keys[n++] = key2((uint32_t)g->index, (uint32_t)g->period);
    }
    sort_keys(s, n);
    put_uvar(s, n);
    for (size_t i = 0; i < n; i++) {
        const loy_spend_gift *g = &p->gifts.spend[s->keys[i] >> 32];
        put_ref(s, g->id);
        put_byte(s, g->period == LOY_SP_MONTH ? ST_SPEND_MONTH : ST_SPEND_YEAR);
        put_uvar(s, (uint32_t)s->keys[i]);
    }
}

/* Imported period-order entries of gifts the policy still has as such. */
static bool spend_order_written(const loy_member *m, const loy_order_mark *o)
{
    const loy_policy *p = m->policy;
    return o->index >= 0 && (uint32_t)o->index < p->gifts.spend_count &&
           p->gifts.spend[o->index].period == LOY_SP_ORDER;
}

static size_t spend_orders_written(const loy_member *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->spend_order_count; i++)
        n += spend_order_written(m, &m->spend_orders[i]);
    return n;
}

static unsigned state_flags(const loy_member *m)
{
    unsigned f = 0;
    if (m->fresh)
        f |= ST_F_FRESH;
    if (m->has_last_event)
        f |= ST_F_LAST_EVENT;
    if (m->orders_imported)
        f |= ST_F_ORDERS_IMPORTED;
    if (m->plan >= 0)
        f |= ST_F_PLAN;
    if (m->stage >= 0)
        f |= ST_F_STAGE;
    if (m->cap_earlier_count)
        f |= ST_F_CAP_EARLIER;
    if (spend_orders_written(m))
        f |= ST_F_SPEND_ORDERS;
    return f;
}

/* Everything after the string table; run once to collect ids, once to write. */
static void put_body(saver *s)
{
    const loy_member *m = s->m;
    const loy_policy *p = s->p;

    put_str(s, m->id);
    put_svar(s, m->joined);
    put_opt_date(s, m->birthday);
    put_uvar(s, m->tag_count);
    for (size_t i = 0; i < m->tag_count; i++)
        put_str(s, m->tags[i]);

    put_ref(s, p->tiers.levels[m->tier].id);
    put_date(s, m->tier_since);
    put_opt_date(s, m->last_review);

    put_uvar(s, (uint64_t)m->debt);
    put_lots(s);

    put_months(s);
    for (int k = 0; k < 4; k++)
        put_svar(s, m->lifetime[k]);
    put_uvar(s, (uint64_t)m->orders);
    put_opt_date(s, m->last_order);

    put_counters(s, m->actions, m->action_count, false);
    put_counters(s, m->benefit_uses, m->benefit_use_count, true);

    put_gifts(s);

    if (m->plan >= 0) {
        put_ref(s, p->plans[m->plan].id);
        put_opt_date(s, m->plan_from);
        put_date(s, m->plan_until);
        put_uvar(s, (uint64_t)m->plan_fees);
        put_uvar(s, (uint64_t)m->plan_savings);
    }
    if (m->stage >= 0)
        put_ref(s, p->stages[m->stage].id);
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
    size_t orders = spend_orders_written(m);
    if (orders) {
        /* kept ascending by (index, order) in memory */
        put_uvar(s, orders);
        for (size_t i = 0; i < m->spend_order_count; i++) {
            const loy_order_mark *o = &m->spend_orders[i];
            if (!spend_order_written(m, o))
                continue;
            put_ref(s, p->gifts.spend[o->index].id);
            uint8_t h[8];
            st_put_u64le(h, o->order);
            put_raw(s, h, sizeof h);
        }
    }

    put_uvar(s, m->recent_count);
    uint32_t oldest = (m->recent_pos + LOY_RECENT_IDS - m->recent_count) % LOY_RECENT_IDS;
    for (uint32_t i = 0; i < m->recent_count; i++) {
        uint8_t h[8];
        st_put_u64le(h, m->recent[(oldest + i) % LOY_RECENT_IDS]);
        put_raw(s, h, sizeof h);
    }
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
    if (m->debt < 0 || m->orders < 0 || m->plan_fees < 0 || m->plan_savings < 0 || m->day_points < 0)
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
        if (b->spend < 0 || b->orders < 0 || b->growth < 0 || b->points_earned < 0)
            return "it holds a monthly figure below 0";
    }
    for (size_t i = 0; i < m->action_count; i++)
        if (m->actions[i].count < 0)
            return "it holds a negative action count";
    for (size_t i = 0; i < m->benefit_use_count; i++)
        if (m->benefit_uses[i].count < 0)
            return "it holds a negative benefit use count";
    for (size_t i = 0; i < m->birthday_year_count; i++)
        if (m->birthday_years[i] < 0)
            return "it holds a negative birthday year";
    for (size_t i = 0; i < m->surprise_given_count; i++)
        if (m->surprise_given[i].period < 0)
            return "it holds a negative surprise gift period";
    for (size_t i = 0; i < m->spend_given_count; i++)
        if (m->spend_given[i].period < 0)
            return "it holds a negative spend gift period";
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

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
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
    memset(&s, 0, sizeof s);
    s.m = m;
    s.p = m->policy;
    s.a = m->alloc;
    s.buf = m->bytes;
    s.cap = m->bytes_cap;

    size_t scratch = max_size(m->lot_count, m->action_count);
    scratch = max_size(scratch, m->benefit_use_count);
    scratch = max_size(scratch, m->birthday_year_count);
    scratch = max_size(scratch, m->surprise_given_count);
    scratch = max_size(scratch, m->spend_given_count);
    /* lot_count <= scratch, so the sum below cannot wrap */
    if (scratch >= SIZE_MAX / sizeof(uint64_t) / 4)
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    uint64_t keys_small[SMALL_KEYS];
    const char *table_small[SMALL_TABLE];
    s.table = s.table_small = table_small;
    s.table_cap = SMALL_TABLE;
    size_t nkeys = scratch + m->lot_count + 1;
    s.keys = nkeys <= SMALL_KEYS ? keys_small : loy_malloc(s.a, nkeys * sizeof(uint64_t));
    if (!s.keys)
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    s.ranks = s.keys + scratch;

    s.collect = true;
    put_body(&s);
    s.collect = false;

    uint8_t header[ST_HEADER_LEN] = {0};
    memcpy(header, ST_MAGIC, ST_MAGIC_LEN);
    header[ST_MAGIC_LEN] = ST_VERSION;
    put_raw(&s, header, sizeof header);
    put_uvar(&s, state_flags(m));
    put_uvar(&s, s.table_count);
    for (size_t i = 0; i < s.table_count; i++)
        put_str(&s, s.table[i]);
    put_body(&s);

    if (s.keys != keys_small)
        loy_free(s.a, s.keys);
    if (s.table != table_small)
        loy_free(s.a, s.table);
    /* the buffer may have moved even when a later step failed */
    m->bytes = s.buf;
    m->bytes_cap = s.cap;
    if (s.nomem)
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");

    size_t total = s.len + ST_CHECKSUM_LEN;
    if (total > UINT32_MAX)
        return loy_member_fail(m, LOY_E_OVERFLOW, "the state exceeds 4 GiB");
    st_put_u32le(s.buf + 4, (uint32_t)total);
    st_put_u32le(s.buf + 8, ~(uint32_t)total);
    uint8_t sum[ST_CHECKSUM_LEN];
    st_put_u64le(sum, XXH3_64bits(s.buf, s.len));
    put_raw(&s, sum, sizeof sum);
    m->bytes = s.buf;
    m->bytes_cap = s.cap;
    if (s.nomem)
        return loy_member_fail(m, LOY_E_NOMEM, "out of memory");
    m->error[0] = '\0';
    *data = m->bytes;
    *len = s.len;
    return LOY_OK;
}
