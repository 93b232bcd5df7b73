/*
 * Event lines (POLICY.md §11.1) into loy_event setters, then loy_apply.
 *
 * The wire refuses what it cannot hand to the C API — a line that is not an
 * object, a type it does not know, a missing field, a field of the wrong
 * JSON type, a number that is not an int64 integer >= 0 — with the event's
 * id when the id itself is usable. Everything about values (instants,
 * dates, a return above its order...) is loy_apply's to decide, so the two
 * entry points refuse alike. Fields an event does not know are ignored.
 */
#include "wire.h"

#include <stdio.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "event.h"

#define EVENT_TYPE(name, type) {name, sizeof name - 1, type}
static const struct {
    const char *name;
    size_t len;
    loy_event_type type;
} event_types[] = {
    EVENT_TYPE("order", LOY_EVENT_ORDER),       EVENT_TYPE("return", LOY_EVENT_RETURN),
    EVENT_TYPE("action", LOY_EVENT_ACTION),     EVENT_TYPE("redeem", LOY_EVENT_REDEEM),
    EVENT_TYPE("use_benefit", LOY_EVENT_USE_BENEFIT), EVENT_TYPE("join_paid", LOY_EVENT_JOIN_PAID),
    EVENT_TYPE("profile", LOY_EVENT_PROFILE),   EVENT_TYPE("tick", LOY_EVENT_TICK),
};
#undef EVENT_TYPE

#define TYPE_LIST "order, return, action, redeem, use_benefit, join_paid, profile, tick"

static int fail(loy_result *r, const char *id, const loy_rd *d)
{
    return loy_wire_error(r, id, d->code, d->message);
}

/* A setter's failure: NOMEM is the only one a well-formed call can meet. */
static bool set_ok(loy_rd *d, int rc)
{
    if (rc == LOY_OK)
        return true;
    char where[96];
    return loy_rd_fail(d, rc, "%s: %s", loy_rd_where(d, where, sizeof where), loy_strerror(rc));
}

/* lines of an order or a return */
static bool read_lines(loy_rd *d, const loy_json *obj, loy_event *ev, const char *type)
{
    const loy_json *lines = loy_json_get(obj, "lines");
    if (!lines)
        return true;
    if (lines->type != LOY_JSON_ARRAY)
        return loy_rd_fail(d, LOY_E_INVALID_EVENT, "%s: 'lines' must be an array", type);
    size_t i = 0;
    for (const loy_json *line = lines->first; line; line = line->next, i++) {
        loy_rd ld = {.where = type, .list = "lines", .index = i};
        const char *sku, *category;
        int64_t amount = 0, qty = 1;
        if (line->type != LOY_JSON_OBJECT)
            return loy_rd_fail(d, LOY_E_INVALID_EVENT, "%s.lines[%zu]: a line must be an object", type, i);
        if (!loy_rd_string(&ld, LOY_E_INVALID_EVENT, line, "sku", false, true, &sku)
            || !loy_rd_string(&ld, LOY_E_INVALID_EVENT, line, "category", false, true, &category)
            || !loy_rd_count(&ld, LOY_E_INVALID_EVENT, line, "amount", true, &amount, NULL)
            || !loy_rd_count(&ld, LOY_E_INVALID_EVENT, line, "qty", false, &qty, NULL)) {
            d->code = ld.code;
            memcpy(d->message, ld.message, sizeof d->message);
            return false;
        }
        if (!set_ok(d, loy_event_add_line(ev, sku, category, amount, qty)))
            return false;
    }
    return true;
}

static bool read_order(loy_rd *d, const loy_json *obj, loy_event *ev)
{
    int64_t savings = 0;
    bool has_savings;
    if (!loy_rd_count(d, LOY_E_INVALID_EVENT, obj, "savings", false, &savings, &has_savings))
        return false;
    if (has_savings && !set_ok(d, loy_event_set_savings(ev, savings)))
        return false;
    return read_lines(d, obj, ev, "order");
}

static bool read_return(loy_rd *d, const loy_json *obj, loy_event *ev)
{
    int64_t amount = 0;
    if (!loy_rd_count(d, LOY_E_INVALID_EVENT, obj, "amount", true, &amount, NULL))
        return false;
    const loy_json *orig = loy_json_get(obj, "original");
    if (!orig)
        return loy_rd_fail(d, LOY_E_INVALID_EVENT, "return: missing 'original'");
    if (orig->type != LOY_JSON_OBJECT)
        return loy_rd_fail(d, LOY_E_INVALID_EVENT,
                           "return: 'original' must be an object {\"id\", \"at\", \"amount\", \"points\"}");
    loy_rd od = {.where = "return.original"};
    const char *oid, *oat;
    int64_t oamount = 0, opoints = 0;
    if (!loy_rd_string(&od, LOY_E_INVALID_EVENT, orig, "id", true, true, &oid)
        || !loy_rd_string(&od, LOY_E_INVALID_EVENT, orig, "at", true, false, &oat)
        || !loy_rd_count(&od, LOY_E_INVALID_EVENT, orig, "amount", true, &oamount, NULL)
        || !loy_rd_count(&od, LOY_E_INVALID_EVENT, orig, "points", true, &opoints, NULL)) {
        d->code = od.code;
        memcpy(d->message, od.message, sizeof d->message);
        return false;
    }
    if (!set_ok(d, loy_event_set_amount(ev, amount))
        || !set_ok(d, loy_event_set_original(ev, oid, oat, oamount, opoints)))
        return false;
    return read_lines(d, obj, ev, "return");
}

static bool read_string_field(loy_rd *d, const loy_json *obj, const char *key, loy_event *ev,
                              int (*setter)(loy_event *, const char *))
{
    const char *value;
    if (!loy_rd_string(d, LOY_E_INVALID_EVENT, obj, key, true, false, &value))
        return false;
    return set_ok(d, setter(ev, value));
}

static bool read_redeem(loy_rd *d, const loy_json *obj, loy_event *ev)
{
    int64_t points = 0, order_amount = 0;
    if (!loy_rd_count(d, LOY_E_INVALID_EVENT, obj, "points", true, &points, NULL)
        || !loy_rd_count(d, LOY_E_INVALID_EVENT, obj, "order_amount", true, &order_amount, NULL))
        return false;
    return set_ok(d, loy_event_set_points(ev, points))
        && set_ok(d, loy_event_set_order_amount(ev, order_amount));
}

static bool read_profile(loy_rd *d, const loy_json *obj, loy_event *ev)
{
    const loy_json *birthday = loy_json_get(obj, "birthday");
    const loy_json *tags = loy_json_get(obj, "tags");
    if (!birthday && !tags)
        return loy_rd_fail(d, LOY_E_INVALID_EVENT,
                           "profile: needs 'birthday' (a date or null), 'tags' (a list of strings) or both");
    if (birthday) {
        if (birthday->type == LOY_JSON_NULL) {
            if (!set_ok(d, loy_event_set_birthday(ev, NULL)))
                return false;
        } else if (loy_json_is_text(birthday)) {
            if (!set_ok(d, loy_event_set_birthday(ev, birthday->str)))
                return false;
        } else {
            return loy_rd_fail(d, LOY_E_INVALID_EVENT,
                               "profile: 'birthday' must be a date \"YYYY-MM-DD\" or null");
        }
    }
    if (tags) {
        if (tags->type != LOY_JSON_ARRAY)
            return loy_rd_fail(d, LOY_E_INVALID_EVENT, "profile: 'tags' must be a list of strings");
        size_t i = 0;
        for (const loy_json *t = tags->first; t; t = t->next, i++)
            if (!loy_json_is_text(t) || t->len == 0)
                return loy_rd_fail(d, LOY_E_INVALID_EVENT,
                                   "profile.tags[%zu]: a tag must be a non-empty string", i);
        if (!set_ok(d, loy_event_clear_tags(ev)))
            return false;
        for (const loy_json *t = tags->first; t; t = t->next)
            if (!set_ok(d, loy_event_add_tag(ev, t->str)))
                return false;
    }
    return true;
}

int loy_wire_apply_event(loy_wire *w, const loy_policy *policy, loy_member *member,
                         const loy_json *root, loy_result *r)
{
    if (root->type != LOY_JSON_OBJECT)
        return loy_wire_error(r, NULL, LOY_E_INVALID_EVENT, "an event must be a JSON object");

    const loy_json *id_v = loy_json_get(root, "id");
    const char *id = loy_json_is_text(id_v) && id_v->len > 0 ? id_v->str : NULL;

    const loy_json *type_v = loy_json_get(root, "type");
    if (!type_v) {
        if (loy_json_get(root, "member"))
            return loy_wire_error(r, id, LOY_E_INVALID_EVENT,
                                  "a member object {\"member\": ...} may only be the first line");
        return loy_wire_error(r, id, LOY_E_INVALID_EVENT,
                              "missing 'type'; expected one of " TYPE_LIST);
    }
    if (type_v->type != LOY_JSON_STRING)
        return loy_wire_error(r, id, LOY_E_INVALID_EVENT,
                              "'type' must be a string, one of " TYPE_LIST);
    loy_event_type type = 0;
    const char *type_name = NULL;
    for (size_t i = 0; i < LOY_ARRAY_LEN(event_types); i++) {
        if (!type_v->nul && strcmp(event_types[i].name, type_v->str) == 0) {
            type = event_types[i].type;
            type_name = event_types[i].name;
        }
    }
    if (!type_name) {
        char message[256];
        snprintf(message, sizeof message, "unknown event type '%.64s'; expected one of " TYPE_LIST,
                 type_v->str);
        return loy_wire_error(r, id, LOY_E_INVALID_EVENT, message);
    }

    loy_rd d = {.where = type_name};
    const char *at, *channel, *store;
    if (!id_v) {
        loy_rd_fail(&d, LOY_E_INVALID_EVENT, "%s: missing 'id'", type_name);
        return fail(r, NULL, &d);
    }
    if (!id) {
        loy_rd_fail(&d, LOY_E_INVALID_EVENT, "%s: 'id' must be a non-empty string", type_name);
        return fail(r, NULL, &d);
    }
    const loy_json *at_v = loy_json_get(root, "at");
    if (!at_v) {
        loy_rd_fail(&d, LOY_E_INVALID_EVENT, "%s: missing 'at'", type_name);
        return fail(r, id, &d);
    }
    if (!loy_json_is_text(at_v)) {
        loy_rd_fail(&d, LOY_E_INVALID_EVENT, "%s: 'at' must be an RFC 3339 instant with an offset",
                    type_name);
        return fail(r, id, &d);
    }
    at = at_v->str;
    if (!loy_rd_string(&d, LOY_E_INVALID_EVENT, root, "channel", false, true, &channel)
        || !loy_rd_string(&d, LOY_E_INVALID_EVENT, root, "store", false, true, &store))
        return fail(r, id, &d);

    if (w->event && w->event_policy != policy) {
        loy_event_free(w->event);
        w->event = NULL;
    }
    if (!w->event) {
        int rc = loy_event_new(&w->event, policy);
        if (rc != LOY_OK)
            return loy_wire_error(r, id, rc, "out of memory");
        w->event_policy = policy;
    }
    loy_event *ev = w->event;
    int rc = loy_event_reset(ev, type, id, at);
    if (rc != LOY_OK)
        return loy_wire_error(r, id, rc, loy_strerror(rc));
    if ((channel && !set_ok(&d, loy_event_set_channel(ev, channel)))
        || (store && !set_ok(&d, loy_event_set_store(ev, store))))
        return fail(r, id, &d);

    bool ok = true;
    switch (type) {
    case LOY_EVENT_ORDER:
        ok = read_order(&d, root, ev);
        break;
    case LOY_EVENT_RETURN:
        ok = read_return(&d, root, ev);
        break;
    case LOY_EVENT_ACTION:
        ok = read_string_field(&d, root, "kind", ev, loy_event_set_kind);
        break;
    case LOY_EVENT_REDEEM:
        ok = read_redeem(&d, root, ev);
        break;
    case LOY_EVENT_USE_BENEFIT:
        ok = read_string_field(&d, root, "benefit", ev, loy_event_set_benefit);
        break;
    case LOY_EVENT_JOIN_PAID:
        ok = read_string_field(&d, root, "plan", ev, loy_event_set_plan);
        break;
    case LOY_EVENT_PROFILE:
        ok = read_profile(&d, root, ev);
        break;
    case LOY_EVENT_TICK:
        break;
    }
    if (!ok)
        return fail(r, id, &d);
    return loy_apply(policy, member, ev, r);
}

/* ------------------------------------------------------------- fast path */

/*
 * The common event line decoded straight from its bytes into the event,
 * without the DOM: one pass that checks the line as strictly as the reader
 * does and notes where the fields the event needs are.
 *
 * It only ever says "done" for a line the DOM path would take to loy_apply
 * with the same event: a well-formed object, strings without escapes,
 * counts that are plain digits, every field of the right type. Anything
 * else — any error, an escape, "-0", a long number, a query, even an
 * allocation failure — makes it give up before loy_apply, and the caller
 * runs the DOM path on the line, which gives every answer and message as
 * before (a fault injected here then meets the DOM path's own allocations,
 * so the call still ends in LOY_E_NOMEM or in the right answer). The event
 * it half filled is reset there.
 */

enum {
    K_TYPE, K_ID, K_AT, K_CHANNEL, K_STORE, K_QUERY, K_SAVINGS, K_LINES, K_AMOUNT, K_ORIGINAL,
    K_KIND, K_BENEFIT, K_PLAN, K_POINTS, K_ORDER_AMOUNT, K_BIRTHDAY, K_TAGS, K_MEMBER, K_MEMBER_ID,
    K_COUNT
};
enum { L_SKU, L_CATEGORY, L_AMOUNT, L_QTY, L_COUNT };
enum { O_ID, O_AT, O_AMOUNT, O_POINTS, O_COUNT };

enum { FV_NONE = 0, FV_STR, FV_NUM, FV_NULL, FV_BOOL, FV_ARRAY, FV_OBJECT };

/* A value seen: a string's text (no quotes), a number's text, or an array's
 * or object's whole span (brackets included). */
typedef struct fval {
    union {
        const char *s;              /* STR, ARRAY, OBJECT */
        int64_t num;                /* NUMBER with count_ok: its value */
    };
    uint32_t len;
    uint8_t kind;
    bool count_ok;                  /* NUMBER: plain digits, at most 18 */
} fval;

/* Lines are noted as they are read (the type may come after them); an
 * order with more lines than this goes the DOM way. */
#define FAST_LINES 64

typedef struct fdoc {
    uint32_t seen;                  /* bit k: top[k] holds the first value of its key */
    bool lines_bad;                 /* an element that is not an object, or too many */
    size_t line_count;
    fval top[K_COUNT];              /* only the slots in seen are written */
    fval orig[O_COUNT];             /* cleared when "original" is met */
    fval lines[FAST_LINES][L_COUNT];
} fdoc;

/* The value of a top-level key, or an empty one (FV_NONE) when the line
 * does not have it: a slot is only written when its key is met, so the
 * 400 bytes of slots need no clearing per line. */
static const fval f_absent;

static inline const fval *f_top_get(const fdoc *d, int k)
{
    return d->seen >> k & 1u ? &d->top[k] : &f_absent;
}

typedef const unsigned char uchar;

enum { CTX_LINE, CTX_ORIGINAL };

/* Keys are matched on the raw text just after the opening quote, closing
 * quote included: a key the event knows is plain ASCII, so it matches here
 * exactly when the reader would decode it to that key. Sets *adv to the
 * bytes to skip; -1 for any other key (scanned as a string then). */
#define KEY(lit, slot)                                                          \
    do {                                                                        \
        if (avail >= sizeof lit && memcmp(k, lit "\"", sizeof lit) == 0) {     \
            *adv = sizeof lit;                                                  \
            return (slot);                                                      \
        }                                                                       \
    } while (0)

static inline int top_key(const unsigned char *k, size_t avail, size_t *adv)
{
    if (!avail)
        return -1;
    switch (k[0]) {
    case 't':
        KEY("type", K_TYPE);
        KEY("tags", K_TAGS);
        break;
    case 'i':
        KEY("id", K_ID);
        break;
    case 'a':
        KEY("at", K_AT);
        KEY("amount", K_AMOUNT);
        break;
    case 'c':
        KEY("channel", K_CHANNEL);
        break;
    case 's':
        KEY("store", K_STORE);
        KEY("savings", K_SAVINGS);
        break;
    case 'q':
        KEY("query", K_QUERY);
        break;
    case 'l':
        KEY("lines", K_LINES);
        break;
    case 'o':
        KEY("original", K_ORIGINAL);
        KEY("order_amount", K_ORDER_AMOUNT);
        break;
    case 'k':
        KEY("kind", K_KIND);
        break;
    case 'b':
        KEY("benefit", K_BENEFIT);
        KEY("birthday", K_BIRTHDAY);
        break;
    case 'p':
        KEY("plan", K_PLAN);
        KEY("points", K_POINTS);
        break;
    case 'm':
        KEY("member", K_MEMBER);
        KEY("member_id", K_MEMBER_ID);
        break;
    default:
        break;
    }
    return -1;
}

static inline int sub_key(int ctx, const unsigned char *k, size_t avail, size_t *adv)
{
    if (!avail)
        return -1;
    if (ctx == CTX_LINE) {
        switch (k[0]) {
        case 's':
            KEY("sku", L_SKU);
            break;
        case 'c':
            KEY("category", L_CATEGORY);
            break;
        case 'a':
            KEY("amount", L_AMOUNT);
            break;
        case 'q':
            KEY("qty", L_QTY);
            break;
        default:
            break;
        }
        return -1;
    }
    switch (k[0]) {
    case 'i':
        KEY("id", O_ID);
        break;
    case 'a':
        KEY("at", O_AT);
        KEY("amount", O_AMOUNT);
        break;
    case 'p':
        KEY("points", O_POINTS);
        break;
    default:
        break;
    }
    return -1;
}

#undef KEY

static inline bool ws_byte(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Compact lines have no whitespace: one test then. */
#define SKIP_WS(p, end)                                         \
    while ((p) < (end) && *(p) <= ' ' && ws_byte(*(p)))         \
        (p)++

/* At the opening quote; returns the byte after the closing one, or NULL. A
 * backslash or a control character gives up (the reader decodes or refuses
 * them); other bytes must be valid UTF-8. */
static inline uchar *f_string(uchar *p, uchar *end, fval *v)
{
    uchar *start = ++p;
    for (;;) {
#if defined(__SSE2__)
        /* Sixteen bytes a step, where the line has them: the first byte
         * that is '"', '\\', or below 0x20 or above 0x7F (both below 0x20
         * as signed bytes). Most strings of a line end in the first. */
        while (end - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                                    _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                                       _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
            unsigned m = (unsigned)_mm_movemask_epi8(hit);
            if (m) {
                p += __builtin_ctz(m);
                goto stop;
            }
            p += 16;
        }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* Eight bytes a step: the first byte that is '"', '\\', below
         * 0x20 or above 0x7F. A borrow can only mark bytes after the first
         * such byte, never before it. */
        const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
        while (end - p >= 8) {
            uint64_t x;
            memcpy(&x, p, sizeof x);
            uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
            uint64_t m = (((q - ones) & ~q) | ((b - ones) & ~b) | (x - ones * 0x20) | x) & high;
            if (m) {
                p += __builtin_ctzll(m) >> 3;
                goto stop;
            }
            p += 8;
        }
#endif
        while (p < end && loy_json_plain[*p])
            p++;
#if defined(__SSE2__) || (defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    stop:
#endif
        if (p >= end)
            return NULL;
        if (*p == '"')
            break;
        if (*p < 0x80)
            return NULL;
        size_t n = loy_json_utf8_seq(p, end);
        if (!n)
            return NULL;
        p += n;
    }
    v->kind = FV_STR;
    v->s = (const char *)start;
    v->len = (uint32_t)(p - start);
    return p + 1;
}

static inline bool f_digit(unsigned c)
{
    return c - '0' < 10u;
}

/* The RFC grammar, as the reader checks it. */
static uchar *f_number(uchar *p, uchar *end, fval *v)
{
    uchar *s = p;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (p >= end || !f_digit(*p))
        return NULL;
    uchar *digits = p;
    uint64_t acc = 0;
    if (*p == '0') {
        p++;
        if (p < end && f_digit(*p))
            return NULL;
    } else {
        while (p < end && f_digit(*p))
            acc = acc * 10u + (uint64_t)(*p++ - '0');   /* wraps past 19 digits: unused then */
    }
    uchar *int_end = p;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !f_digit(*p))
            return NULL;
        while (p < end && f_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !f_digit(*p))
            return NULL;
        while (p < end && f_digit(*p))
            p++;
    }
    v->kind = FV_NUM;
    v->len = (uint32_t)(p - s);
    v->count_ok = !neg && p == int_end && int_end - digits <= 18;
    v->num = (int64_t)acc;
    return p;
}

static uchar *f_value(uchar *p, uchar *end, int depth, fval *v);

/* The key most lines have next, spelled as most writers spell it: lit is
 * the bytes from the end of the last value (or just after the '{') to the
 * next value, e.g. `, "id": `, and it is taken when they are all there and
 * a value starts right after them. Those bytes are exactly what f_next,
 * the key and f_colon would read, and to the same slot; any other spelling
 * goes the general way. */
#define F_EXPECT(p, end, lit)                                                                 \
    ((size_t)((end) - (p)) > sizeof lit - 1 && memcmp((p), lit, sizeof lit - 1) == 0      \
     && (p)[sizeof lit - 1] > ' ')

/* F_EXPECT of a key in the two spellings writers use, compact `,"key":`
 * (most libraries' default, and the bench's) and `, "key": `, without the
 * comma for the first key, moving p past it when one is there. */
#define F_KEY(p, end, key)                                                                    \
    (F_EXPECT(p, end, ",\"" key "\":")   ? ((p) += sizeof ",\"" key "\":" - 1, true)          \
     : F_EXPECT(p, end, ", \"" key "\": ") ? ((p) += sizeof ", \"" key "\": " - 1, true)      \
                                            : false)
#define F_FIRST_KEY(p, end, key)                                                              \
    (F_EXPECT(p, end, "\"" key "\":")   ? ((p) += sizeof "\"" key "\":" - 1, true)            \
     : F_EXPECT(p, end, "\"" key "\": ") ? ((p) += sizeof "\"" key "\": " - 1, true)          \
                                          : false)

/* After a key: the ':' and the whitespace around it. */
static inline uchar *f_colon(uchar *p, uchar *end)
{
    /* ":" or ": " before the value, as writers put it: one test each. */
    if (end - p > 2 && p[0] == ':') {
        if (p[1] > ' ')
            return p + 1;
        if (p[1] == ' ' && p[2] > ' ')
            return p + 2;
    }
    SKIP_WS(p, end);
    if (p >= end || *p != ':')
        return NULL;
    p++;
    SKIP_WS(p, end);
    return p;
}

/* After a member or an element: ',' (*more) or the closing bracket. */
static inline uchar *f_next(uchar *p, uchar *end, unsigned char close, bool *more)
{
    /* "," or ", " before the next one: the whitespace the caller skips
     * next is skipped here too. */
    if (end - p > 2 && p[0] == ',') {
        if (p[1] > ' ') {
            *more = true;
            return p + 1;
        }
        if (p[1] == ' ' && p[2] > ' ') {
            *more = true;
            return p + 2;
        }
    }
    SKIP_WS(p, end);
    if (p < end && *p == ',') {
        *more = true;
        return p + 1;
    }
    *more = false;
    return p < end && *p == close ? p + 1 : NULL;
}

/* Any array or object, checked and skipped (p on its bracket). */
static uchar *f_skip(uchar *p, uchar *end, int depth)
{
    if (++depth > LOY_JSON_MAX_DEPTH)
        return NULL;
    bool obj = *p == '{';
    unsigned char close = obj ? '}' : ']';
    p++;
    SKIP_WS(p, end);
    if (p < end && *p == close)
        return p + 1;
    for (bool more = true; more;) {
        fval v;
        SKIP_WS(p, end);
        if (obj) {
            if (p >= end || *p != '"' || !(p = f_string(p, end, &v)) || !(p = f_colon(p, end)))
                return NULL;
        }
        if (!(p = f_value(p, end, depth, &v)) || !(p = f_next(p, end, close, &more)))
            return NULL;
    }
    return p;
}

static bool f_literal(uchar **pp, uchar *end, const char *word, size_t n)
{
    if ((size_t)(end - *pp) < n || memcmp(*pp, word, n) != 0)
        return false;
    *pp += n;
    return true;
}

static uchar *f_value(uchar *p, uchar *end, int depth, fval *v)
{
    if (p >= end)
        return NULL;
    uchar *start = p;
    switch (*p) {
    case '"':
        return f_string(p, end, v);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return f_number(p, end, v);
    case 't':
        v->kind = FV_BOOL;
        return f_literal(&p, end, "true", 4) ? p : NULL;
    case 'f':
        v->kind = FV_BOOL;
        return f_literal(&p, end, "false", 5) ? p : NULL;
    case 'n':
        v->kind = FV_NULL;
        return f_literal(&p, end, "null", 4) ? p : NULL;
    case '[':
    case '{':
        if (!(p = f_skip(p, end, depth)))
            return NULL;
        v->kind = *start == '[' ? FV_ARRAY : FV_OBJECT;
        v->s = (const char *)start;
        v->len = (uint32_t)(p - start);
        return p;
    default:
        return NULL;
    }
}

/* A value; strings, the most common, and counts without a call. */
static inline __attribute__((always_inline)) uchar *f_any(uchar *p, uchar *end, int depth, fval *v)
{
    if (p < end && *p == '"')
        return f_string(p, end, v);
    /* 1 to 18 digits, not led by 0 and not followed by a fraction or an
     * exponent: what f_number makes of them, a count_ok number. Anything
     * longer or more goes to f_number from the start. */
    if (p < end && (unsigned)(*p - '1') < 9u) {
        uchar *s = p, *stop = end - p > 18 ? p + 18 : end;
        uint64_t acc = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* Up to 7 digits (amounts, counts) from one word: each byte less
         * '0' is a digit when it is at most 9 (the bound as in
         * loy_instant25, lib/date.h; a borrow or carry only marks bytes
         * after the first non-digit), and the n digits, moved to the top
         * of the word behind zeros, are summed pairwise in three
         * multiplies. 8 or more digits take the loop. */
        if (end - p >= 8) {
            uint64_t x;
            memcpy(&x, p, sizeof x);
            const uint64_t d = x - UINT64_C(0x3030303030303030);
            const uint64_t bad = (d | (d + UINT64_C(0x7676767676767676))) & UINT64_C(0x8080808080808080);
            if (bad) {
                const unsigned n = (unsigned)__builtin_ctzll(bad) >> 3;   /* 1..7: *p is a digit */
                uint64_t w = d << (64 - 8 * n);
                w = w * 10 + (w >> 8);
                w = ((w & UINT64_C(0x00FF00FF00FF00FF)) * ((UINT64_C(100) << 16) + 1)) >> 16;
                w = ((w & UINT64_C(0x0000FFFF0000FFFF)) * ((UINT64_C(10000) << 32) + 1)) >> 32;
                acc = w;
                p += n;
                stop = p;
            }
        }
#endif
        while (p < stop && f_digit(*p))
            acc = acc * 10u + (uint64_t)(*p++ - '0');
        if (p < end && (f_digit(*p) || *p == '.' || *p == 'e' || *p == 'E'))
            return f_number(s, end, v);
        v->kind = FV_NUM;
        v->len = (uint32_t)(p - s);
        v->count_ok = true;
        v->num = (int64_t)acc;
        return p;
    }
    return f_value(p, end, depth, v);
}

/* A line or the original order: an object whose keys go into slots (the
 * first of a repeated key kept, as loy_json_get does). p on the '{'. */
static uchar *f_object(uchar *p, uchar *end, int depth, int ctx, fval *slots)
{
    if (++depth > LOY_JSON_MAX_DEPTH)
        return NULL;
    p++;
    SKIP_WS(p, end);
    if (p < end && *p == '}')
        return p + 1;
    fval k, scratch;
    int slot;
    /* An order line's keys, in the order lines are usually written. */
    if (ctx == CTX_LINE && F_FIRST_KEY(p, end, "sku")) {
        slot = L_SKU;
        goto value;
    }
    for (bool more = true; more;) {
        size_t adv = 0;
        SKIP_WS(p, end);
        if (p >= end || *p != '"')
            return NULL;
        slot = sub_key(ctx, p + 1, (size_t)(end - p - 1), &adv);
        if (slot >= 0)
            p += 1 + adv;
        else if (!(p = f_string(p, end, &k)))
            return NULL;
        if (!(p = f_colon(p, end)))
            return NULL;
    value:
        if (!(p = f_any(p, end, depth, slot >= 0 && !slots[slot].kind ? &slots[slot] : &scratch)))
            return NULL;
        if (ctx == CTX_LINE) {
            if (slot == L_SKU && F_KEY(p, end, "category")) {
                slot = L_CATEGORY;
                goto value;
            }
            if (slot == L_CATEGORY && F_KEY(p, end, "amount")) {
                slot = L_AMOUNT;
                goto value;
            }
            if (slot == L_AMOUNT && F_KEY(p, end, "qty")) {
                slot = L_QTY;
                goto value;
            }
        }
        if (!(p = f_next(p, end, '}', &more)))
            return NULL;
    }
    return p;
}

/* The first "lines" array, each object element noted (p on the '['). */
static uchar *f_lines_scan(uchar *p, uchar *end, int depth, fdoc *d)
{
    if (++depth > LOY_JSON_MAX_DEPTH)
        return NULL;
    p++;
    SKIP_WS(p, end);
    if (p < end && *p == ']')
        return p + 1;
    for (bool more = true; more;) {
        SKIP_WS(p, end);
        if (p < end && *p == '{' && d->line_count < FAST_LINES) {
            fval *slots = d->lines[d->line_count++];
            memset(slots, 0, L_COUNT * sizeof *slots);
            p = f_object(p, end, depth, CTX_LINE, slots);
        } else {
            fval scratch;
            d->lines_bad = true;
            p = f_value(p, end, depth, &scratch);
        }
        if (!p || !(p = f_next(p, end, ']', &more)))
            return NULL;
    }
    return p;
}

/* The event or query object (p on the '{'). With no_member_keys, a
 * "member" or "member_id" key is given up on as soon as it is met. */
static uchar *f_top(uchar *p, uchar *end, fdoc *d, bool no_member_keys)
{
    const int depth = 1;
    /* The keys not simply noted: given up on, or read with their parts. */
    const uint32_t special = 1u << K_LINES | 1u << K_ORIGINAL
                             | (no_member_keys ? 1u << K_MEMBER | 1u << K_MEMBER_ID : 0u);
    p++;
    SKIP_WS(p, end);
    if (p < end && *p == '}')
        return p + 1;
    fval k, scratch;
    int slot;
    /* An event's keys, in the order events are usually written. */
    if (F_FIRST_KEY(p, end, "type")) {
        slot = K_TYPE;
        goto value;
    }
    for (bool more = true; more;) {
        size_t adv = 0;
        SKIP_WS(p, end);
        if (p >= end || *p != '"')
            return NULL;
        slot = top_key(p + 1, (size_t)(end - p - 1), &adv);
        if (slot >= 0)
            p += 1 + adv;
        else if (!(p = f_string(p, end, &k)))
            return NULL;
        if (!(p = f_colon(p, end)))
            return NULL;
    value:;
        /* Only the first value of a key counts (loy_json_get's). */
        uint32_t first = slot >= 0 ? 1u << slot & ~d->seen : 0u;
        d->seen |= first;
        if (!(first & special)) {
            p = f_any(p, end, depth, first ? &d->top[slot] : &scratch);
        } else if (slot == K_LINES && p < end && *p == '[') {
            uchar *start = p;
            if ((p = f_lines_scan(p, end, depth, d))) {
                d->top[slot].kind = FV_ARRAY;
                d->top[slot].s = (const char *)start;
                d->top[slot].len = (uint32_t)(p - start);
            }
        } else if (slot == K_ORIGINAL && p < end && *p == '{') {
            uchar *start = p;
            memset(d->orig, 0, sizeof d->orig);
            if ((p = f_object(p, end, depth, CTX_ORIGINAL, d->orig))) {
                d->top[slot].kind = FV_OBJECT;
                d->top[slot].s = (const char *)start;
                d->top[slot].len = (uint32_t)(p - start);
            }
        } else if (slot == K_LINES || slot == K_ORIGINAL) {
            p = f_any(p, end, depth, &d->top[slot]);
        } else {
            return NULL;
        }
        if (!p)
            return NULL;
        switch (slot) {
        case K_TYPE:
            if (F_KEY(p, end, "id")) {
                slot = K_ID;
                goto value;
            }
            break;
        case K_ID:
            if (F_KEY(p, end, "at")) {
                slot = K_AT;
                goto value;
            }
            break;
        case K_AT:
            if (F_KEY(p, end, "channel")) {
                slot = K_CHANNEL;
                goto value;
            }
            break;
        case K_CHANNEL:
            if (F_KEY(p, end, "lines")) {
                slot = K_LINES;
                goto value;
            }
            break;
        default:
            break;
        }
        if (!(p = f_next(p, end, '}', &more)))
            return NULL;
    }
    return p;
}

/* A count as loy_rd_count accepts it, when it is plain digits that surely
 * fit int64; anything else is left to the DOM path and its messages. */
static inline bool f_count(const fval *v, int64_t *out)
{
    if (v->kind != FV_NUM || !v->count_ok)
        return false;
    *out = v->num;
    return true;
}

/* An optional string that, when present, must be a non-empty string. */
static inline bool f_opt_text(const fval *v)
{
    return v->kind == FV_NONE || (v->kind == FV_STR && v->len > 0);
}

static inline bool f_req_text(const fval *v)
{
    return v->kind == FV_STR && v->len > 0;
}

static bool f_put_slow(loy_event *ev, loy_sbuf *b, const fval *v)
{
    return loy_sbuf_set(ev->alloc, b, v->kind == FV_STR ? v->s : NULL, v->len);
}

/* loy_sbuf_set, without the call when the buffer is already big enough:
 * inline, as it runs four times or more a line. A string of 1..15 bytes is
 * copied by loy_copy_short, whose high bits say whether it is ASCII; it
 * holds no NUL, as f_string gives up on any byte below 0x20, so an ASCII
 * one is plain as the setters mean it (lib/event.h) and step 1 does not
 * read it again. */
static inline __attribute__((always_inline)) bool f_put(loy_event *ev, loy_sbuf *b, const fval *v)
{
    if (v->kind == FV_STR && v->len < b->cap) {
        size_t len = v->len;
        uint8_t set = LOY_SBUF_GIVEN;
        if (len - 1 < 15) {
            if (!loy_copy_short(b->s, v->s, len))
                set = LOY_SBUF_PLAIN;
        } else {
            memcpy(b->s, v->s, len);
        }
        b->s[len] = '\0';
        b->len = len;
        b->set = set;
        return true;
    }
    if (v->kind != FV_STR) {
        /* loy_sbuf_set of NULL: absent (a line without "channel"). */
        b->set = false;
        b->len = 0;
        return true;
    }
    return f_put_slow(ev, b, v);
}

static bool f_lines(loy_event *ev, const fdoc *d)
{
    const fval *lines = f_top_get(d, K_LINES);
    if (lines->kind == FV_NONE)
        return true;
    if (lines->kind != FV_ARRAY || d->lines_bad)
        return false;
    for (size_t i = 0; i < d->line_count; i++) {
        const fval *l = d->lines[i];
        int64_t amount, qty = 1;
        if (!f_opt_text(&l[L_SKU]) || !f_opt_text(&l[L_CATEGORY]) || !f_count(&l[L_AMOUNT], &amount)
            || (l[L_QTY].kind && !f_count(&l[L_QTY], &qty)))
            return false;
        if (loy_event_add_line(ev, NULL, NULL, amount, qty) != LOY_OK)
            return false;
        loy_line *dst = &ev->lines[ev->line_count - 1];
        if ((l[L_SKU].kind && !f_put(ev, &dst->sku, &l[L_SKU]))
            || (l[L_CATEGORY].kind && !f_put(ev, &dst->category, &l[L_CATEGORY])))
            return false;
    }
    return true;
}

/* The elements of a "tags" array already checked: each must be a
 * non-empty string (with fill, they are added). */
static bool f_tags(loy_event *ev, const fval *tags, bool fill)
{
    uchar *p = (uchar *)tags->s + 1, *end = (uchar *)tags->s + tags->len;
    SKIP_WS(p, end);
    if (p < end && *p == ']')
        return true;
    for (bool more = true; more;) {
        fval t;
        SKIP_WS(p, end);
        if (p >= end || *p != '"' || !(p = f_string(p, end, &t)) || !t.len)
            return false;
        if (fill && (loy_event_add_tag(ev, "") != LOY_OK || !f_put(ev, &ev->tags[ev->tag_count - 1], &t)))
            return false;
        if (!(p = f_next(p, end, ']', &more)))
            return false;
    }
    return true;
}

static bool f_profile(loy_event *ev, const fdoc *d)
{
    const fval *birthday = f_top_get(d, K_BIRTHDAY), *tags = f_top_get(d, K_TAGS);
    if (!birthday->kind && !tags->kind)
        return false;
    if (birthday->kind) {
        if (birthday->kind != FV_NULL && birthday->kind != FV_STR)
            return false;
        if (loy_event_set_birthday(ev, NULL) != LOY_OK
            || (birthday->kind == FV_STR && !f_put(ev, &ev->birthday, birthday)))
            return false;
    }
    if (tags->kind) {
        if (tags->kind != FV_ARRAY || !f_tags(ev, tags, false) || loy_event_clear_tags(ev) != LOY_OK
            || !f_tags(ev, tags, true))
            return false;
    }
    return true;
}

/* The names of event_types[], matched on the raw text. */
static bool f_type(const fval *v, loy_event_type *type)
{
    if (v->kind != FV_STR)
        return false;
    for (size_t i = 0; i < LOY_ARRAY_LEN(event_types); i++)
        if (v->len == event_types[i].len && v->s[0] == event_types[i].name[0]
            && memcmp(v->s, event_types[i].name, v->len) == 0) {
            *type = event_types[i].type;
            return true;
        }
    return false;
}

/* A benefits query (a line with "query"), as apply_query in wire.c reads
 * it from the DOM: "query" is "benefits", "at" a string, "channel" and
 * "store" absent or non-empty strings. Its strings are copied, with their
 * NULs, into the wire arena, which holds the DOM of a line on the other
 * path and lives as long. A query the engine refuses without an answer
 * tree is given up on: the DOM path asks again and words the refusal. */
static bool f_query(loy_wire *w, const loy_policy *policy, const loy_member *member, const fdoc *d,
                    loy_result *r, int *rc)
{
    const fval *q = f_top_get(d, K_QUERY), *at = f_top_get(d, K_AT), *channel = f_top_get(d, K_CHANNEL),
               *store = f_top_get(d, K_STORE);
    if (q->kind != FV_STR || q->len != 8 || memcmp(q->s, "benefits", 8) != 0 || at->kind != FV_STR
        || !f_opt_text(channel) || !f_opt_text(store))
        return false;
    loy_arena_reset(&w->arena);
    const char *at_z = loy_arena_strndup(&w->arena, at->s, at->len);
    const char *channel_z = channel->kind ? loy_arena_strndup(&w->arena, channel->s, channel->len) : NULL;
    const char *store_z = store->kind ? loy_arena_strndup(&w->arena, store->s, store->len) : NULL;
    if (!at_z || (channel->kind && !channel_z) || (store->kind && !store_z))
        return false;
    int answer = loy_query_benefits(policy, member, at_z, channel_z, store_z, r);
    if (answer != LOY_OK && answer != LOY_E_NOMEM && !loy_result_root(r))
        return false;
    w->last_was_query = true;
    *rc = answer;
    return true;
}

bool loy_wire_fast_event(loy_wire *w, const loy_policy *policy, loy_member *member, const char *json,
                         size_t len, bool no_member_keys, loy_result *r, int *rc)
{
    if (len > UINT32_MAX)
        return false;
    fdoc d;
    d.seen = 0;
    d.line_count = 0;
    d.lines_bad = false;
    uchar *p = (uchar *)json, *end = p + len;
    SKIP_WS(p, end);
    if (p >= end || *p != '{' || !(p = f_top(p, end, &d, no_member_keys)))
        return false;
    SKIP_WS(p, end);
    loy_event_type type;
#define TOP(k) f_top_get(&d, (k))
    if (p != end)
        return false;
    if (TOP(K_QUERY)->kind != FV_NONE)
        return f_query(w, policy, member, &d, r, rc);
    if (!f_type(TOP(K_TYPE), &type) || !f_req_text(TOP(K_ID)) || TOP(K_AT)->kind != FV_STR
        || !f_opt_text(TOP(K_CHANNEL)) || !f_opt_text(TOP(K_STORE)))
        return false;
    w->last_was_query = false;

    if (w->event && w->event_policy != policy) {
        loy_event_free(w->event);
        w->event = NULL;
    }
    if (!w->event) {
        if (loy_event_new(&w->event, policy) != LOY_OK)
            return false;
        w->event_policy = policy;
    }
    loy_event *ev = w->event;
    if (loy_event_reset(ev, type, NULL, NULL) != LOY_OK || !f_put(ev, &ev->id, TOP(K_ID))
        || !f_put(ev, &ev->at, TOP(K_AT)) || !f_put(ev, &ev->channel, TOP(K_CHANNEL))
        || !f_put(ev, &ev->store, TOP(K_STORE)))
        return false;

    int64_t a, b;
    bool ok = false;
    switch (type) {
    case LOY_EVENT_ORDER:
        ok = (!TOP(K_SAVINGS)->kind || (f_count(TOP(K_SAVINGS), &a) && loy_event_set_savings(ev, a) == LOY_OK))
             && f_lines(ev, &d);
        break;
    case LOY_EVENT_RETURN: {
        const fval *o = d.orig;
        int64_t oa, op;
        ok = f_count(TOP(K_AMOUNT), &a) && TOP(K_ORIGINAL)->kind == FV_OBJECT && f_req_text(&o[O_ID])
             && o[O_AT].kind == FV_STR && f_count(&o[O_AMOUNT], &oa) && f_count(&o[O_POINTS], &op)
             && loy_event_set_amount(ev, a) == LOY_OK
             && loy_event_set_original(ev, NULL, NULL, oa, op) == LOY_OK && f_put(ev, &ev->orig_id, &o[O_ID])
             && f_put(ev, &ev->orig_at, &o[O_AT]) && f_lines(ev, &d);
        break;
    }
    case LOY_EVENT_ACTION:
        ok = TOP(K_KIND)->kind == FV_STR && f_put(ev, &ev->kind, TOP(K_KIND));
        break;
    case LOY_EVENT_REDEEM:
        ok = f_count(TOP(K_POINTS), &a) && f_count(TOP(K_ORDER_AMOUNT), &b)
             && loy_event_set_points(ev, a) == LOY_OK && loy_event_set_order_amount(ev, b) == LOY_OK;
        break;
    case LOY_EVENT_USE_BENEFIT:
        ok = TOP(K_BENEFIT)->kind == FV_STR && f_put(ev, &ev->benefit, TOP(K_BENEFIT));
        break;
    case LOY_EVENT_JOIN_PAID:
        ok = TOP(K_PLAN)->kind == FV_STR && f_put(ev, &ev->plan, TOP(K_PLAN));
        break;
    case LOY_EVENT_PROFILE:
        ok = f_profile(ev, &d);
        break;
    case LOY_EVENT_TICK:
        ok = true;
        break;
    }
#undef TOP
    if (!ok)
        return false;
    *rc = loy_apply(policy, member, ev, r);
    return true;
}
