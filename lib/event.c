/* The loy_event handle: setters that copy into reusable buffers. */
#include "event.h"

#include "policy.h"

bool loy_sbuf_set(const loy_alloc *a, loy_sbuf *b, const char *s, size_t len)
{
    if (!s) {
        b->set = false;
        b->len = 0;
        return true;
    }
    if (len > SIZE_MAX - 8)
        return false;
    /* see LOY_SBUF_MIN */
    size_t need = (len + 8) & ~(size_t)7, old = b->cap;
    if (need < LOY_SBUF_MIN)
        need = LOY_SBUF_MIN;
    if (need > old) {
        if (!LOY_GROW(a, b->s, b->cap, need))
            return false;
        memset(b->s + old, 0, b->cap - old);
    }
    memcpy(b->s, s, len);
    b->s[len] = '\0';
    b->len = len;
    b->set = true;
    return true;
}

void loy_sbuf_free(const loy_alloc *a, loy_sbuf *b)
{
    loy_free(a, b->s);
    b->s = NULL;
    b->cap = b->len = 0;
    b->set = false;
}

/* An instant's 25 bytes and NUL as two 16-byte moves that overlap, where
 * loy_copy_short would call the library past 16. The bytes are not looked
 * at (step 1 parses them). */
static inline void copy_instant(char *d, const char *s, size_t n)
{
    if (n - 17 > 15) {
        loy_copy_short(d, s, n);
        return;
    }
    loy_copy_short(d, s, 16);
    loy_copy_short(d + n - 16, s + n - 16, 16);
}

/* loy_sbuf_set of a C string; a reused buffer that has room takes the
 * bytes and their NUL in one copy, without a call to grow it, and the copy
 * tells whether they are plain: ASCII, and strlen found no NUL before len,
 * and loy_copy_short looks only up to 16 bytes with the NUL. The empty
 * string takes loy_sbuf_set, which claims nothing (step 1 refuses it); an
 * instant is never claimed plain, empty or not. */
static inline __attribute__((always_inline)) bool sset(loy_event *e, loy_sbuf *b, const char *s, bool instant)
{
    if (!s) {
        b->set = LOY_SBUF_UNSET;
        b->len = 0;
        return true;
    }
    size_t len = strlen(s);
    if (len >= b->cap || (!instant && len == 0))
        return loy_sbuf_set(e->alloc, b, s, len);
    b->len = len;
    if (instant) {
        copy_instant(b->s, s, len + 1);
        b->set = LOY_SBUF_GIVEN;
    } else {
        b->set = loy_copy_short(b->s, s, len + 1) ? LOY_SBUF_GIVEN : LOY_SBUF_PLAIN;
    }
    return true;
}

/* sset apart, for the strings sset_fast leaves. */
static __attribute__((noinline)) bool sset_general(loy_event *e, loy_sbuf *b, const char *s, bool instant)
{
    return sset(e, b, s, instant);
}

/*
 * sset's answer for a non-empty string whose length loy_cstr_scan finds
 * and that fits the buffer, the same bytes, length and mark, with no call
 * for ids, SKUs and categories under 16 bytes and instants: a setter whose
 * strings all take it saves the strlen calls and, being a leaf, the
 * registers it kept across them. false: nothing written, ask sset.
 */
static inline __attribute__((always_inline)) bool sset_fast(loy_sbuf *b, const char *s, bool instant)
{
#ifdef LOY_HAVE_CSCAN
    if (!s) {
        b->set = LOY_SBUF_UNSET;
        b->len = 0;
        return true;
    }
    size_t len;
    if (!loy_cstr_scan(s, &len) || len == 0 || len >= b->cap)
        return false;
    b->len = len;
    if (instant) {
        copy_instant(b->s, s, len + 1);
        b->set = LOY_SBUF_GIVEN;
    } else {
        b->set = loy_copy_short(b->s, s, len + 1) ? LOY_SBUF_GIVEN : LOY_SBUF_PLAIN;
    }
    return true;
#else
    (void)b, (void)s, (void)instant;
    return false;
#endif
}

int loy_event_new(loy_event **out, const loy_policy *policy)
{
    if (!out || !policy)
        return LOY_E_INVALID_ARG;
    *out = NULL;
    loy_event *e = loy_calloc(&policy->alloc, 1, sizeof *e);
    if (!e)
        return LOY_E_NOMEM;
    e->alloc = &policy->alloc;
    *out = e;
    return LOY_OK;
}

void loy_event_free(loy_event *e)
{
    if (!e)
        return;
    const loy_alloc *a = e->alloc;
    loy_sbuf *bufs[] = {&e->id, &e->at, &e->channel, &e->store, &e->orig_id, &e->orig_at,
                        &e->kind, &e->benefit, &e->plan, &e->birthday};
    for (size_t i = 0; i < LOY_ARRAY_LEN(bufs); i++)
        loy_sbuf_free(a, bufs[i]);
    for (size_t i = 0; i < e->line_cap; i++) {
        loy_sbuf_free(a, &e->lines[i].sku);
        loy_sbuf_free(a, &e->lines[i].category);
    }
    loy_free(a, e->lines);
    for (size_t i = 0; i < e->tag_cap; i++)
        loy_sbuf_free(a, &e->tags[i]);
    loy_free(a, e->tags);
    loy_free(a, e);
}

static __attribute__((noinline)) int reset_strs(loy_event *e, const char *id, const char *at)
{
    if (!sset(e, &e->id, id, false) || !sset(e, &e->at, at, true))
        return LOY_E_NOMEM;
    return LOY_OK;
}

int loy_event_reset(loy_event *e, loy_event_type type, const char *id, const char *at)
{
    if (!e)
        return LOY_E_INVALID_ARG;
    if (type < LOY_EVENT_ORDER || type > LOY_EVENT_TICK)
        return LOY_E_INVALID_ARG;
    e->type = type;
    e->fields = 0;
    e->channel.set = e->store.set = false;
    e->orig_id.set = e->orig_at.set = false;
    e->kind.set = e->benefit.set = e->plan.set = e->birthday.set = false;
    e->line_count = 0;
    e->tag_count = 0;
    e->savings = e->amount = e->orig_amount = e->orig_points = 0;
    e->points = e->order_amount = 0;
    if (sset_fast(&e->id, id, false) && sset_fast(&e->at, at, true))
        return LOY_OK;
    return reset_strs(e, id, at);
}

static int need(const loy_event *e, bool ok)
{
    if (!e)
        return LOY_E_INVALID_ARG;
    return ok ? LOY_OK : LOY_E_INVALID_ARG;
}

int loy_event_set_channel(loy_event *e, const char *channel)
{
    if (!e)
        return LOY_E_INVALID_ARG;
    if (sset_fast(&e->channel, channel, false))
        return LOY_OK;
    return sset_general(e, &e->channel, channel, false) ? LOY_OK : LOY_E_NOMEM;
}

int loy_event_set_store(loy_event *e, const char *store)
{
    if (!e)
        return LOY_E_INVALID_ARG;
    if (sset_fast(&e->store, store, false))
        return LOY_OK;
    return sset_general(e, &e->store, store, false) ? LOY_OK : LOY_E_NOMEM;
}

int loy_event_set_savings(loy_event *e, int64_t savings)
{
    int rc = need(e, e && e->type == LOY_EVENT_ORDER);
    if (rc == LOY_OK) {
        e->savings = savings;
        e->fields |= LOY_F_SAVINGS;
    }
    return rc;
}

/* The line after the last, which has room. The numbers first: they need
 * not live across the copies' calls, and a slot past line_count is not
 * read. */
static inline __attribute__((always_inline)) int put_line(loy_event *e, const char *sku, const char *category,
                                                          int64_t amount, int64_t qty)
{
    loy_line *l = &e->lines[e->line_count];
    l->amount = amount;
    l->qty = qty;
    if (!sset(e, &l->sku, sku, false) || !sset(e, &l->category, category, false))
        return LOY_E_NOMEM;
    e->line_count++;
    e->fields |= LOY_F_LINES;
    return LOY_OK;
}

/* A line that needs room or a string sset_fast leaves, apart: a line
 * that takes the fast path then keeps nothing across a call. */
static __attribute__((noinline)) int add_line_general(loy_event *e, const char *sku, const char *category,
                                                     int64_t amount, int64_t qty)
{
    if (e->line_count >= e->line_cap) {
        size_t old_cap = e->line_cap;
        if (!LOY_GROW(e->alloc, e->lines, e->line_cap, e->line_count + 1))
            return LOY_E_NOMEM;
        memset(e->lines + old_cap, 0, (e->line_cap - old_cap) * sizeof *e->lines);
    }
    return put_line(e, sku, category, amount, qty);
}

int loy_event_add_line(loy_event *e, const char *sku, const char *category, int64_t amount,
                       int64_t qty)
{
    int rc = need(e, e && (e->type == LOY_EVENT_ORDER || e->type == LOY_EVENT_RETURN));
    if (rc != LOY_OK)
        return rc;
    if (e->line_count < e->line_cap) {
        loy_line *l = &e->lines[e->line_count];
        if (sset_fast(&l->sku, sku, false) && sset_fast(&l->category, category, false)) {
            l->amount = amount;
            l->qty = qty;
            e->line_count++;
            e->fields |= LOY_F_LINES;
            return LOY_OK;
        }
    }
    return add_line_general(e, sku, category, amount, qty);
}

int loy_event_set_amount(loy_event *e, int64_t amount)
{
    int rc = need(e, e && e->type == LOY_EVENT_RETURN);
    if (rc == LOY_OK) {
        e->amount = amount;
        e->fields |= LOY_F_AMOUNT;
    }
    return rc;
}

int loy_event_set_original(loy_event *e, const char *order_id, const char *at, int64_t amount,
                           int64_t points)
{
    int rc = need(e, e && e->type == LOY_EVENT_RETURN);
    if (rc != LOY_OK)
        return rc;
    if (!sset(e, &e->orig_id, order_id, false) || !sset(e, &e->orig_at, at, true))
        return LOY_E_NOMEM;
    e->orig_amount = amount;
    e->orig_points = points;
    e->fields |= LOY_F_ORIGINAL;
    return LOY_OK;
}

int loy_event_set_kind(loy_event *e, const char *kind)
{
    int rc = need(e, e && e->type == LOY_EVENT_ACTION);
    if (rc != LOY_OK)
        return rc;
    return sset(e, &e->kind, kind, false) ? LOY_OK : LOY_E_NOMEM;
}

int loy_event_set_points(loy_event *e, int64_t points)
{
    int rc = need(e, e && e->type == LOY_EVENT_REDEEM);
    if (rc == LOY_OK) {
        e->points = points;
        e->fields |= LOY_F_POINTS;
    }
    return rc;
}

int loy_event_set_order_amount(loy_event *e, int64_t order_amount)
{
    int rc = need(e, e && e->type == LOY_EVENT_REDEEM);
    if (rc == LOY_OK) {
        e->order_amount = order_amount;
        e->fields |= LOY_F_ORDER_AMOUNT;
    }
    return rc;
}

int loy_event_set_benefit(loy_event *e, const char *benefit)
{
    int rc = need(e, e && e->type == LOY_EVENT_USE_BENEFIT);
    if (rc != LOY_OK)
        return rc;
    return sset(e, &e->benefit, benefit, false) ? LOY_OK : LOY_E_NOMEM;
}

int loy_event_set_plan(loy_event *e, const char *plan)
{
    int rc = need(e, e && e->type == LOY_EVENT_JOIN_PAID);
    if (rc != LOY_OK)
        return rc;
    return sset(e, &e->plan, plan, false) ? LOY_OK : LOY_E_NOMEM;
}

int loy_event_set_birthday(loy_event *e, const char *date)
{
    int rc = need(e, e && e->type == LOY_EVENT_PROFILE);
    if (rc != LOY_OK)
        return rc;
    if (!sset(e, &e->birthday, date, false))
        return LOY_E_NOMEM;
    e->fields |= LOY_F_BIRTHDAY;
    return LOY_OK;
}

int loy_event_clear_tags(loy_event *e)
{
    int rc = need(e, e && e->type == LOY_EVENT_PROFILE);
    if (rc == LOY_OK) {
        e->tag_count = 0;
        e->fields |= LOY_F_TAGS;
    }
    return rc;
}

int loy_event_add_tag(loy_event *e, const char *tag)
{
    int rc = need(e, e && e->type == LOY_EVENT_PROFILE && tag);
    if (rc != LOY_OK)
        return rc;
    size_t old_cap = e->tag_cap;
    if (!LOY_GROW(e->alloc, e->tags, e->tag_cap, e->tag_count + 1))
        return LOY_E_NOMEM;
    if (e->tag_cap > old_cap)
        memset(e->tags + old_cap, 0, (e->tag_cap - old_cap) * sizeof *e->tags);
    if (!sset(e, &e->tags[e->tag_count], tag, false))
        return LOY_E_NOMEM;
    e->tag_count++;
    e->fields |= LOY_F_TAGS;
    return LOY_OK;
}
