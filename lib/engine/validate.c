/*
 * Step 1 of an event (POLICY.md §10.1, §11.1): its fields. An event that
 * fails here is refused with LOY_E_INVALID_EVENT before anything else is
 * looked at; the message names the field as the wire format writes it.
 */
#include "engine.h"

#include <stdio.h>

static __attribute__((noinline)) bool refuse_str(loy_ctx *c, const char *where, const char *field,
                                                  const loy_sbuf *b)
{
    if (!b->set)
        return loy_refuse(c, LOY_E_INVALID_EVENT, "%s: missing '%s'", where, field);
    return loy_refuse(c, LOY_E_INVALID_EVENT, "%s: '%s' must be a non-empty string", where, field);
}

/* Per length 0..16: the masks of the string's bytes in its first two words,
 * and of their high bits. */
typedef struct short_masks {
    uint64_t m0, m1, h0, h1;
} short_masks;
#define M8(n) ((n) >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * ((n) & 7))) - 1)
#define MROW(n)                                                                               \
    {M8(n), M8((n) > 8 ? (n) - 8 : 0), M8(n) & UINT64_C(0x8080808080808080),                  \
     M8((n) > 8 ? (n) - 8 : 0) & UINT64_C(0x8080808080808080)}
static const short_masks short_mask[17] = {
    MROW(0), MROW(1), MROW(2), MROW(3), MROW(4), MROW(5), MROW(6), MROW(7), MROW(8),
    MROW(9), MROW(10), MROW(11), MROW(12), MROW(13), MROW(14), MROW(15), MROW(16)};
#undef MROW
#undef M8

static __attribute__((noinline)) bool sbuf_utf8_ok_long(const loy_sbuf *b)
{
    return loy_utf8_ok(b->s, b->len);
}

/* loy_utf8_ok of a set, non-empty buffer; up to 16 bytes as two masked
 * words of its padded buffer (LOY_SBUF_MIN), the rest out of line. */
static inline __attribute__((always_inline)) bool sbuf_utf8_ok(const loy_sbuf *b)
{
    if (b->len > 16)
        return sbuf_utf8_ok_long(b);
    const short_masks *m = &short_mask[b->len];
    return !((loy_sbuf_word(b, 0) & m->h0) | (loy_sbuf_word(b, 8) & m->h1)) || sbuf_utf8_ok_long(b);
}

/* A required or optional string: present, non-empty, valid UTF-8 (as a
 * plain one from the setters is). The test is inline (every event checks a
 * few); the refusal is not. */
static inline __attribute__((always_inline)) bool check_str(loy_ctx *c, const char *where, const char *field,
                                                            const loy_sbuf *b, bool required)
{
    if (b->set == LOY_SBUF_PLAIN || (!b->set ? !required : b->len > 0 && sbuf_utf8_ok(b)))
        return true;
    return refuse_str(c, where, field, b);
}

/* kind, benefit and plan: present and a string, which §11.1 does not ask
 * to be non-empty. An empty one names nothing in the policy, so it is an
 * unknown kind (accepted, earns nothing, §4.3), benefit or plan. */
static bool check_name(loy_ctx *c, const char *where, const char *field, const loy_sbuf *b)
{
    if (b->set == LOY_SBUF_PLAIN || (b->set && (b->len == 0 || sbuf_utf8_ok(b))))
        return true;
    if (!b->set)
        return loy_refuse(c, LOY_E_INVALID_EVENT, "%s: missing '%s'", where, field);
    return loy_refuse(c, LOY_E_INVALID_EVENT, "%s: '%s' must be a string of UTF-8", where, field);
}

static bool check_nonneg(loy_ctx *c, const char *where, const char *field, int64_t v)
{
    if (v < 0)
        return loy_refuse(c, LOY_E_INVALID_EVENT, "%s: '%s' must be >= 0", where, field);
    return true;
}

/* check_str's test without its message, resolving the string's interned id
 * in the same read (-1 when unset). */
static inline __attribute__((always_inline)) bool str_ok_id(const loy_interned *t, const loy_sbuf *b, int32_t *id)
{
    *id = -1;
    if (!b->set)
        return true;
    if (b->len == 0)
        return false;
    bool plain;
    *id = loy_intern_lookup(t, b->s, b->len, &plain);
    return plain || loy_utf8_valid(b->s, b->len);
}

static bool str_ok(const loy_sbuf *b)
{
    return !b->set || (b->len > 0 && loy_utf8_ok(b->s, b->len));
}

/* A line that fails a test: the first failed test's message. The message
 * names the line, so it is written only for a bad one: formatting it for
 * every line cost an eighth of a checkout. */
static __attribute__((noinline)) bool refuse_line(loy_ctx *c, const loy_line *l, const char *type, size_t i)
{
    char where[64];
    snprintf(where, sizeof where, "%s.lines[%zu]", type, i);
    if (!check_nonneg(c, where, "amount", l->amount) || !check_nonneg(c, where, "qty", l->qty) ||
        !check_str(c, where, "sku", &l->sku, false) ||
        !check_str(c, where, "category", &l->category, false))
        return false;
    return true;
}

/* A line the fast test below leaves: the tests as they were, then the
 * refusal of the first failed one. */
static __attribute__((noinline)) bool line_general(loy_ctx *c, const loy_line *l, const char *type, size_t i,
                                                   loy_line_ids *ids)
{
    const loy_interned *t = &c->p->interned;
    loy_line_ids id = {-1, -1};
    bool sku_ok = t->any_sku ? str_ok_id(t, &l->sku, &id.sku) : str_ok(&l->sku);
    bool cat_ok = t->any_category ? str_ok_id(t, &l->category, &id.category) : str_ok(&l->category);
    if (l->amount >= 0 && l->qty >= 0 && sku_ok && cat_ok) {
        if (ids)
            ids[i] = id;
        return true;
    }
    return refuse_line(c, l, type, i);
}

/*
 * A line string's test in the common case, read as two words of its padded
 * buffer (LOY_SBUF_MIN): unset, or 1..16 bytes. Without a lookup the test
 * is str_ok's, no high bit. With one it is "plain" as loy_str_key_of
 * means it, no high bit and no NUL, and the key is the masked words. A
 * string the setters found plain (LOY_SBUF_PLAIN) is that already. For
 * the others a zero byte is found by (w - 1..1) & ~w, exact for the lowest
 * zero byte and wrong only above one; the byte after the string is its
 * NUL, so within the mask that can only flag a string holding a NUL
 * already. false: not that case, the caller looks again the general way.
 */
static inline __attribute__((always_inline)) bool line_str_fast(const loy_interned *t, const loy_sbuf *b,
                                                                bool lookup, int32_t *id)
{
    if (!b->set)
        return true;
    const bool plain = b->set == LOY_SBUF_PLAIN;
    if (plain && !lookup)
        return true;
    if (b->len - 1 >= 16)
        return false;
    const short_masks *m = &short_mask[b->len];
    const uint64_t w0 = loy_sbuf_word(b, 0), w1 = loy_sbuf_word(b, 8);
    if (!lookup)
        return !((w0 & m->h0) | (w1 & m->h1));
    const uint64_t ones = UINT64_C(0x0101010101010101);
    if (!plain && (((((w0 - ones) & ~w0) | w0) & m->h0) | ((((w1 - ones) & ~w1) | w1) & m->h1)))
        return false;
    loy_str_key k = {w0 & m->m0, w1 & m->m1, b->len};
    *id = loy_intern_find(t, b->s, &k);
    return true;
}

/* The lines' checks with the policy's two "worth a lookup" flags fixed, so
 * each of the four loops tests only what it needs. */
static inline __attribute__((always_inline)) bool lines_ok(loy_ctx *c, const loy_event *ev, const char *type,
                                                           loy_line_ids *ids, bool any_sku, bool any_category)
{
    const loy_interned *t = &c->p->interned;
    for (size_t i = 0; i < ev->line_count; i++) {
        const loy_line *l = &ev->lines[i];
        loy_line_ids id = {-1, -1};
        if ((l->amount | l->qty) >= 0 && line_str_fast(t, &l->sku, any_sku, &id.sku) &&
            line_str_fast(t, &l->category, any_category, &id.category)) {
            if (ids)
                ids[i] = id;
            continue;
        }
        if (!line_general(c, l, type, i, ids))
            return false;
    }
    return true;
}

/* Inline in its two callers: a call here cost a second prologue per order. */
static inline __attribute__((always_inline)) bool check_lines(loy_ctx *c, const loy_event *ev,
                                                              const char *type)
{
    const loy_interned *t = &c->p->interned;
    /* The lines' ids, for every later look at a category or sku. Without
     * room for them the engine looks strings up instead: same answers. */
    loy_line_ids *ids = NULL;
    if (ev->line_count && ev->line_count <= SIZE_MAX / sizeof *ids)
        ids = loy_arena_take(&c->r->arena, ev->line_count * sizeof *ids);
    bool ok = t->any_sku ? (t->any_category ? lines_ok(c, ev, type, ids, true, true)
                                            : lines_ok(c, ev, type, ids, true, false))
                         : (t->any_category ? lines_ok(c, ev, type, ids, false, true)
                                            : lines_ok(c, ev, type, ids, false, false));
    if (!ok)
        return false;
    c->line_ids = ids;
    return true;
}

static bool check_return(loy_ctx *c, const loy_event *ev)
{
    if (!(ev->fields & LOY_F_AMOUNT))
        return loy_refuse(c, LOY_E_INVALID_EVENT, "return: missing 'amount'");
    if (!(ev->fields & LOY_F_ORIGINAL))
        return loy_refuse(c, LOY_E_INVALID_EVENT, "return: missing 'original'");
    if (!check_str(c, "return.original", "id", &ev->orig_id, true))
        return false;
    if (!ev->orig_at.set)
        return loy_refuse(c, LOY_E_INVALID_EVENT, "return.original: missing 'at'");
    loy_instant orig;
    if (!loy_parse_instant(ev->orig_at.s, ev->orig_at.len, &orig))
        return loy_refuse(c, LOY_E_INVALID_EVENT,
                          "return.original: 'at' must be an RFC 3339 instant with an offset");
    if (!check_nonneg(c, "return", "amount", ev->amount) ||
        !check_nonneg(c, "return.original", "amount", ev->orig_amount) ||
        !check_nonneg(c, "return.original", "points", ev->orig_points) ||
        !check_lines(c, ev, "return"))
        return false;
    if (ev->amount > ev->orig_amount)
        return loy_refuse(c, LOY_E_INVALID_EVENT,
                          "return: refunded amount exceeds the original order amount");
    if (orig.utc_us > c->at.utc_us)
        return loy_refuse(c, LOY_E_INVALID_EVENT,
                          "return: the original order is later than the return");
    return true;
}

static bool check_profile(loy_ctx *c, const loy_event *ev)
{
    if (!(ev->fields & (LOY_F_BIRTHDAY | LOY_F_TAGS)))
        return loy_refuse(c, LOY_E_INVALID_EVENT, "profile: needs 'birthday' or 'tags'");
    loy_day birthday;
    if ((ev->fields & LOY_F_BIRTHDAY) && ev->birthday.set &&
        !loy_parse_date(ev->birthday.s, ev->birthday.len, &birthday))
        return loy_refuse(c, LOY_E_INVALID_EVENT, "profile: 'birthday' must be a date YYYY-MM-DD");
    for (size_t i = 0; i < ev->tag_count; i++) {
        char where[64];
        snprintf(where, sizeof where, "profile.tags[%zu]", i);
        const loy_sbuf *t = &ev->tags[i];
        if (!t->set || t->len == 0 || !loy_utf8_valid(t->s, t->len))
            return loy_refuse(c, LOY_E_INVALID_EVENT, "%s: a tag must be a non-empty string", where);
    }
    return true;
}

bool loy_validate_event(loy_ctx *c, const loy_event *ev, bool *id_ok)
{
    *id_ok = false;
    if (ev->type < LOY_EVENT_ORDER || ev->type > LOY_EVENT_TICK)
        return loy_refuse(c, LOY_E_INVALID_EVENT,
                          "unknown event type; expected one of order, return, action, redeem, "
                          "use_benefit, join_paid, profile, tick");
    const char *type = loy_event_type_name(ev->type);
    if (!check_str(c, type, "id", &ev->id, true))
        return false;
    *id_ok = true;
    if (!ev->at.set)
        return loy_refuse(c, LOY_E_INVALID_EVENT, "%s: missing 'at'", type);
    /* The usual 25-byte instant also fills the event's date cache with
     * the date it spells, which every step reads. */
    loy_ymd ymd;
    if (ev->at.len == 25 && loy_instant25_ymd(ev->at.s, &c->at, &ymd)) {
        c->day = c->at.date;
        loy_ctx_dates_set(c, ymd);
    } else if (!loy_parse_instant_general(ev->at.s, ev->at.len, &c->at)) {
        return loy_refuse(c, LOY_E_INVALID_EVENT,
                          "%s: 'at' must be an RFC 3339 instant with an offset", type);
    } else {
        c->day = c->at.date;
    }
    if (!check_str(c, type, "channel", &ev->channel, false) ||
        !check_str(c, type, "store", &ev->store, false))
        return false;
    c->channel = ev->channel.set ? ev->channel.s : NULL;
    c->store = ev->store.set ? ev->store.s : NULL;

    switch (ev->type) {
    case LOY_EVENT_ORDER:
        if ((ev->fields & LOY_F_SAVINGS) && !check_nonneg(c, "order", "savings", ev->savings))
            return false;
        return check_lines(c, ev, "order");
    case LOY_EVENT_RETURN:
        return check_return(c, ev);
    case LOY_EVENT_ACTION:
        return check_name(c, type, "kind", &ev->kind);
    case LOY_EVENT_REDEEM:
        if (!(ev->fields & LOY_F_POINTS))
            return loy_refuse(c, LOY_E_INVALID_EVENT, "redeem: missing 'points'");
        if (!(ev->fields & LOY_F_ORDER_AMOUNT))
            return loy_refuse(c, LOY_E_INVALID_EVENT, "redeem: missing 'order_amount'");
        if (ev->points < 1)
            return loy_refuse(c, LOY_E_INVALID_EVENT, "redeem: 'points' must be >= 1");
        return check_nonneg(c, "redeem", "order_amount", ev->order_amount);
    case LOY_EVENT_USE_BENEFIT:
        return check_name(c, type, "benefit", &ev->benefit);
    case LOY_EVENT_JOIN_PAID:
        return check_name(c, type, "plan", &ev->plan);
    case LOY_EVENT_PROFILE:
        return check_profile(c, ev);
    case LOY_EVENT_TICK:
        return true;
    }
    return true;
}
