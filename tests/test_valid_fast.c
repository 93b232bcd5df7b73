/*
 * Step 1 reads an event's short strings (up to 16 bytes) as two masked
 * words of their padded buffers (lib/event.h, LOY_SBUF_MIN;
 * lib/engine/validate.c): the line's sku and category, with their interned
 * ids, and the event's id, channel and store. Every other string takes the
 * general tests. Here loy_validate_event is compared with those tests as
 * they were before (copied below, on the library's general functions) for
 * strings of every length around 8 and 16 bytes, the policy's own names and
 * their neighbours, NULs, high bytes and UTF-8 anywhere in them, in every
 * line position, in buffers freshly made and in buffers that held longer
 * strings first: same verdict, same message, same ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "loyalty.h"
#include "engine/engine.h"
#include "event.h"
#include "wire/wire.h"
#include "rules_support.h"
#include "support/one_tier.h"

#define AT "2026-11-11T20:15:00+08:00"

/* Names of 1..17 bytes around the word edges, and one that is not ASCII. */
#define NAMES "[c, coats, gift_car, gift_card, abcdefghijklmno, abcdefghijklmnop, abcdefghijklmnopq, " \
              "\"\\u5916\\u5957\"]"

static const char policy_lookup[] =
    ONE_TIER_POLICY("Fast")
    "    exclude: {categories: " NAMES ", skus: " NAMES "}\n";

static const char policy_plain[] =
    ONE_TIER_POLICY("Fast");

/* ------------------------------------------- the tests as they were */

static bool ref_str_ok(const loy_sbuf *b)
{
    return !b->set || (b->len > 0 && loy_utf8_valid(b->s, b->len));
}

static bool ref_str_ok_id(const loy_interned *t, const loy_sbuf *b, int32_t *id)
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

typedef struct verdict {
    bool ok;
    char message[160];
    loy_line_ids ids[4];
} verdict;

static bool ref_check_str(verdict *v, const char *where, const char *field, const loy_sbuf *b, bool required)
{
    if (!b->set ? !required : ref_str_ok(b))
        return true;
    if (!b->set)
        snprintf(v->message, sizeof v->message, "%s: missing '%s'", where, field);
    else
        snprintf(v->message, sizeof v->message, "%s: '%s' must be a non-empty string", where, field);
    return false;
}

/* An order's step 1 as before, for the fields these tests change. */
static verdict ref_validate(const loy_policy *p, const loy_event *ev)
{
    verdict v;
    memset(&v, 0, sizeof v);
    if (!ref_check_str(&v, "order", "id", &ev->id, true) ||
        !ref_check_str(&v, "order", "channel", &ev->channel, false) ||
        !ref_check_str(&v, "order", "store", &ev->store, false))
        return v;
    const loy_interned *t = &p->interned;
    for (size_t i = 0; i < ev->line_count; i++) {
        const loy_line *l = &ev->lines[i];
        loy_line_ids id = {-1, -1};
        bool sku_ok = t->any_sku ? ref_str_ok_id(t, &l->sku, &id.sku) : ref_str_ok(&l->sku);
        bool cat_ok = t->any_category ? ref_str_ok_id(t, &l->category, &id.category) : ref_str_ok(&l->category);
        if (l->amount >= 0 && l->qty >= 0 && sku_ok && cat_ok) {
            v.ids[i] = id;
            continue;
        }
        char where[64];
        snprintf(where, sizeof where, "order.lines[%zu]", i);
        if (l->amount < 0)
            snprintf(v.message, sizeof v.message, "%s: 'amount' must be >= 0", where);
        else if (l->qty < 0)
            snprintf(v.message, sizeof v.message, "%s: 'qty' must be >= 0", where);
        else if (ref_check_str(&v, where, "sku", &l->sku, false))
            ref_check_str(&v, where, "category", &l->category, false);
        return v;
    }
    v.ok = true;
    return v;
}

/* ------------------------------------------------------- candidates */

typedef struct cand {
    char s[48];
    size_t len;
    bool set;
} cand;

static cand cands[8192];
static size_t cand_count;

static void add_cand(const char *s, size_t len, bool set)
{
    assert_true(cand_count < sizeof cands / sizeof *cands && len < sizeof cands[0].s);
    cand *c = &cands[cand_count++];
    memcpy(c->s, s, len);
    c->s[len] = '\0';
    c->len = len;
    c->set = set;
}

static void make_cands(void)
{
    static const char *const names[] = {"c", "coats", "gift_car", "gift_card", "abcdefghijklmno",
                                        "abcdefghijklmnop", "abcdefghijklmnopq", "\xe5\xa4\x96\xe5\xa5\x97",
                                        "SKU-1", "pos", "SH-001"};
    /* bytes that are not plain, or sit on the edges of the word tests */
    static const unsigned char odd[] = {0x00, 0x01, 0x7f, 0x80, 0xbf, 0xc3, 0xed, 0xff, 'c' ^ 1, 'z'};
    char s[48];
    cand_count = 0;
    add_cand("", 0, false);
    add_cand("", 0, true);
    for (size_t n = 1; n <= 40; n++) {
        memset(s, 'a' + (int)(n % 26), n);
        add_cand(s, n, true);
        for (size_t k = 0; k < sizeof odd; k++)
            for (size_t pos = 0; pos < n; pos += (n > 20 ? 7 : 1)) {
                memset(s, 'a' + (int)(n % 26), n);
                s[pos] = (char)odd[k];
                add_cand(s, n, true);
            }
    }
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t n = strlen(names[i]);
        add_cand(names[i], n, true);
        add_cand(names[i], n - 1, true);               /* a prefix */
        memcpy(s, names[i], n);
        s[n] = 'x';
        add_cand(s, n + 1, true);                       /* a longer one */
        s[n] = '\0';
        memcpy(s + n + 1, "zz", 2);
        add_cand(s, n + 3, true);                       /* the name, a NUL and more: compares as the name */
        add_cand(s, n + 1, true);                       /* the name and a trailing NUL */
        for (size_t pos = 0; pos < n; pos++)
            for (size_t k = 0; k < sizeof odd; k++) {
                memcpy(s, names[i], n);
                s[pos] = (char)odd[k];
                add_cand(s, n, true);
            }
    }
    /* UTF-8 valid and not, two and three bytes, around the word edges */
    static const char *const utf8[] = {"\xc3\xa9", "\xc3\x28", "\xed\xa0\x80", "\xe5\xa4\x96", "\xf0\x9f\x98\x80",
                                       "\xc0\xaf", "\xf4\x90\x80\x80"};
    for (size_t u = 0; u < sizeof utf8 / sizeof *utf8; u++) {
        size_t un = strlen(utf8[u]);
        for (size_t pre = 0; pre <= 18; pre++) {
            memset(s, 'q', pre);
            memcpy(s + pre, utf8[u], un);
            add_cand(s, pre + un, true);
        }
    }
}

/* A slot set to a candidate: in a fresh buffer, or in one that first held a
 * longer string of high bytes, so what lies past the NUL is not zero. */
static void put(const loy_event *ev, loy_sbuf *b, const cand *c, bool dirty)
{
    static const char junk[] = "\xff\xfe\x80\x81\xff\xfe\x80\x81\xff\xfe\x80\x81\xff\xfe\x80\x81"
                               "\xff\xfe\x80\x81\xff\xfe\x80\x81\xff\xfe\x80\x81\xff\xfe\x80\x81"
                               "\xff\xfe\x80\x81\xff\xfe\x80\x81\xff\xfe\x80\x81\xff\xfe\x80\x81";
    if (dirty)
        assert_true(loy_sbuf_set(ev->alloc, b, junk, sizeof junk - 1));
    else
        loy_sbuf_free(ev->alloc, b);
    assert_true(loy_sbuf_set(ev->alloc, b, c->set ? c->s : NULL, c->len));
}

static void compare(const loy_policy *p, loy_result *r, const loy_event *ev, const char *what, const cand *cd)
{
    verdict want = ref_validate(p, ev);
    loy_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.r = r;
    c.ev = ev;
    bool id_ok;
    bool ok = loy_validate_event(&c, ev, &id_ok);
    const char *msg = ok ? "" : c.message;
    if (ok != want.ok || strcmp(msg, want.message) != 0)
        fail_msg("%s '%.*s' (%zu bytes, set %d): %d '%s', before %d '%s'", what, (int)cd->len, cd->s, cd->len,
                 cd->set, ok, msg, want.ok, want.message);
    if (ok)
        for (size_t i = 0; i < ev->line_count; i++) {
            assert_non_null(c.line_ids);
            if (c.line_ids[i].category != want.ids[i].category || c.line_ids[i].sku != want.ids[i].sku)
                fail_msg("%s '%.*s' (%zu bytes): line %zu ids %d/%d, before %d/%d", what, (int)cd->len, cd->s,
                         cd->len, i, (int)c.line_ids[i].category, (int)c.line_ids[i].sku,
                         (int)want.ids[i].category, (int)want.ids[i].sku);
        }
}

static void run_policy(const char *yaml, bool lookups)
{
    loy_policy *p = load_policy_text(yaml);
    assert_int_equal(p->interned.any_category, lookups);
    assert_int_equal(p->interned.any_sku, lookups);
    loy_result *r = NULL;
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    make_cands();
    loy_event *ev = NULL;
    assert_int_equal(loy_event_new(&ev, p), LOY_OK);
    for (size_t k = 0; k < cand_count; k++) {
        const cand *cd = &cands[k];
        for (int dirty = 0; dirty <= 1; dirty++) {
            /* in each of three lines, as sku and as category */
            for (size_t at = 0; at < 3; at++)
                for (int field = 0; field < 2; field++) {
                    assert_int_equal(loy_event_reset(ev, LOY_EVENT_ORDER, "O-1", AT), LOY_OK);
                    assert_int_equal(loy_event_add_line(ev, "SKU-1", "coats", 100, 1), LOY_OK);
                    assert_int_equal(loy_event_add_line(ev, "abcdefghijklmnopq", "gift_card", 200, 2), LOY_OK);
                    assert_int_equal(loy_event_add_line(ev, "c", NULL, 300, 3), LOY_OK);
                    loy_line *l = &ev->lines[at];
                    put(ev, field ? &l->category : &l->sku, cd, dirty);
                    compare(p, r, ev, field ? "category" : "sku", cd);
                    /* and after a line that is refused for its amount */
                    ev->lines[(at + 1) % 3].amount = -1;
                    compare(p, r, ev, field ? "category, amount refused" : "sku, amount refused", cd);
                    loy_arena_reset(&r->arena);
                }
            /* as the event's id, channel and store */
            for (int field = 0; field < 3; field++) {
                assert_int_equal(loy_event_reset(ev, LOY_EVENT_ORDER, "O-1", AT), LOY_OK);
                assert_int_equal(loy_event_set_channel(ev, "pos"), LOY_OK);
                assert_int_equal(loy_event_set_store(ev, "SH-001"), LOY_OK);
                assert_int_equal(loy_event_add_line(ev, "SKU-1", "coats", 100, 1), LOY_OK);
                put(ev, field == 0 ? &ev->id : field == 1 ? &ev->channel : &ev->store, cd, dirty);
                compare(p, r, ev, field == 0 ? "id" : field == 1 ? "channel" : "store", cd);
                loy_arena_reset(&r->arena);
            }
        }
    }
    loy_event_free(ev);
    loy_result_free(r);
    loy_policy_free(p);
}

/* What a setter's LOY_SBUF_PLAIN claims (lib/event.h), checked on the
 * buffer it wrote: 1..16 bytes, ASCII, no NUL. */
static void assert_claim_holds(const loy_sbuf *b)
{
    if (b->set != LOY_SBUF_PLAIN)
        return;
    assert_true(b->len >= 1 && b->len <= 16);
    for (size_t i = 0; i < b->len; i++)
        assert_true(b->s[i] > 0);
    assert_int_equal(b->s[b->len], 0);
}

/* The strings an event and its three lines are built from by the setters;
 * NULL is an absent one. */
typedef struct setter_strs {
    const char *id, *channel, *store;
    const char *sku[3], *category[3];
} setter_strs;

static void build_with_setters(loy_event *ev, const setter_strs *s)
{
    assert_int_equal(loy_event_reset(ev, LOY_EVENT_ORDER, s->id, AT), LOY_OK);
    assert_int_equal(loy_event_set_channel(ev, s->channel), LOY_OK);
    assert_int_equal(loy_event_set_store(ev, s->store), LOY_OK);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(loy_event_add_line(ev, s->sku[i], s->category[i], (int64_t)(i + 1) * 100, 1), LOY_OK);
    const loy_sbuf *bufs[] = {&ev->id, &ev->channel, &ev->store};
    for (size_t i = 0; i < 3; i++)
        assert_claim_holds(bufs[i]);
    for (size_t i = 0; i < 3; i++) {
        assert_claim_holds(&ev->lines[i].sku);
        assert_claim_holds(&ev->lines[i].category);
    }
}

/* A slot written by a producer that claims nothing (lib/event.h) into a
 * buffer with room: the bytes, a NUL, the length and `true`. */
static void put_claiming_nothing(loy_sbuf *b, const cand *c)
{
    assert_true(c->len < b->cap);
    memcpy(b->s, c->s, c->len);
    b->s[c->len] = '\0';
    b->len = c->len;
    b->set = true;
}

/*
 * The same candidates given to the setters, which copy them as C strings
 * (up to a NUL) and may claim them plain: loy_validate_event against the
 * tests as they were, in each of the nine places, into fresh buffers and
 * into buffers that held a longer string of high bytes. Then each written
 * over, claiming nothing, in a buffer the setters had claimed plain: the
 * claim must not outlive the bytes it was made for.
 */
static void run_setters(const char *yaml)
{
    loy_policy *p = load_policy_text(yaml);
    loy_result *r = NULL;
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    make_cands();
    loy_event *ev = NULL;
    assert_int_equal(loy_event_new(&ev, p), LOY_OK);
    static const char junk[] = "\xff\xfe\x80\x81\xff\xfe\x80\x81\xff\xfe\x80\x81\xff\xfe\x80\x81"
                               "\xff\xfe\x80\x81\xff\xfe\x80\x81\xff\xfe\x80\x81\xff\xfe\x80\x81"
                               "\xff\xfe\x80\x81\xff\xfe\x80\x81\xff\xfe\x80\x81\xff\xfe\x80\x81";
    const setter_strs dirty = {junk, junk, junk, {junk, junk, junk}, {junk, junk, junk}};
    for (size_t k = 0; k < cand_count; k++) {
        const cand *cd = &cands[k];
        for (int before = 0; before < 3; before++)
            for (size_t place = 0; place < 9; place++) {
                if (before == 0) {
                    loy_event_free(ev);
                    assert_int_equal(loy_event_new(&ev, p), LOY_OK);
                } else {
                    build_with_setters(ev, &dirty);
                }
                setter_strs strs = {"O-1", "pos", "SH-001", {"SKU-1", "abcdefghijklmno", "c"},
                                    {"coats", "gift_card", "gift_car"}};
                const size_t line = (place - 3) / 2;
                const char **slot = place == 0   ? &strs.id
                                    : place == 1 ? &strs.channel
                                    : place == 2 ? &strs.store
                                    : place % 2  ? &strs.sku[line]
                                                 : &strs.category[line];
                if (before < 2)
                    *slot = cd->set ? cd->s : NULL;
                build_with_setters(ev, &strs);
                loy_sbuf *buf = place == 0   ? &ev->id
                                : place == 1 ? &ev->channel
                                : place == 2 ? &ev->store
                                : place % 2  ? &ev->lines[line].sku
                                             : &ev->lines[line].category;
                if (before == 2) {
                    assert_int_equal(buf->set, LOY_SBUF_PLAIN);
                    if (cd->set)
                        put_claiming_nothing(buf, cd);
                    else
                        buf->set = false;
                }
                compare(p, r, ev, before == 2 ? "written over a plain one" : "through the setters", cd);
                loy_arena_reset(&r->arena);
            }
    }
    loy_event_free(ev);
    loy_result_free(r);
    loy_policy_free(p);
}

/* The order line of the ten places' strings (NULL: the field left out). */
static size_t order_line(char *out, size_t cap, const char *const str[10])
{
    static const char *const keys[10] = {"id", "channel", "store", "sku", "category",
                                         "sku", "category", "sku", "category", "at"};
    size_t n = (size_t)snprintf(out, cap, "{\"type\":\"order\"");
    if (str[9])
        n += (size_t)snprintf(out + n, cap - n, ",\"at\":\"%s\"", str[9]);
    for (size_t place = 0; place < 9; place++) {
        if (place >= 3 && place % 2)
            n += (size_t)snprintf(out + n, cap - n, "%s{\"amount\":%zu00,\"qty\":1", place == 3 ? ",\"lines\":[" : ",",
                                  place);
        if (str[place])
            n += (size_t)snprintf(out + n, cap - n, ",\"%s\":\"%s\"", keys[place], str[place]);
        if (place >= 3 && !(place % 2))
            n += (size_t)snprintf(out + n, cap - n, "}");
    }
    n += (size_t)snprintf(out + n, cap - n, "]}");
    assert_true(n < cap);
    return n;
}

static bool plain_bytes(const cand *c)
{
    for (size_t i = 0; i < c->len; i++)
        if ((unsigned char)c->s[i] < 0x20 || (unsigned char)c->s[i] > 0x7f)
            return false;
    return c->len >= 1 && c->len <= 15;
}

/*
 * The same candidates in an order line read by the JSON reader's fast path
 * (lib/wire/event_json.c), which copies each string into the event and may
 * claim it plain: in each of the nine places and as the instant (whose
 * verdict is not compared: the tests as they were are of the nine), into
 * a fresh event, one whose
 * buffers the reader had claimed plain, and one whose buffers held longer
 * strings of high bytes. Every claim must hold; a string of 1..15 ASCII
 * bytes is claimed when its buffer has room (a fresh one grows, claiming
 * nothing, as with the setters); step 1 gives the verdict of the tests as
 * they were.
 * Candidates the fast path gives up on (a NUL, a control byte, bad UTF-8)
 * go to the DOM path and are not looked at here.
 */
static void run_reader(const char *yaml)
{
    loy_policy *p = load_policy_text(yaml);
    loy_result *r = NULL, *rw = NULL;
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    assert_int_equal(loy_result_new(&rw, p), LOY_OK);
    make_cands();
    static const char *const plain[10] = {"O-1", "pos", "SH-001", "SKU-1", "coats", "abcdefghijklmno",
                                          "gift_card", "c", "gift_car", AT};
    static const char high[] = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    static const char *const dirty[10] = {high, high, high, high, high, high, high, high, high, high};
    char line[1024];
    size_t taken = 0, claimed = 0;
    for (size_t k = 0; k < cand_count; k++) {
        const cand *cd = &cands[k];
        /* a member of a few orders, so that each apply stays as cheap */
        loy_member *m = NULL;
        assert_int_equal(loy_member_create(&m, p), LOY_OK);
        for (int before = 0; before < 3; before++)
            for (size_t place = 0; place < 10; place++) {
                if (!before) {
                    loy_result_free(rw);
                    assert_int_equal(loy_result_new(&rw, p), LOY_OK);
                }
                loy_wire *w = loy_wire_get(rw);
                assert_non_null(w);
                int rc;
                if (before) {
                    size_t n = order_line(line, sizeof line, before == 1 ? plain : dirty);
                    assert_true(loy_wire_fast_event(w, p, m, line, n, true, rw, &rc));
                }
                const char *str[10];
                memcpy(str, plain, sizeof str);
                str[place] = cd->set ? cd->s : NULL;
                size_t n = order_line(line, sizeof line, str);
                if (!loy_wire_fast_event(w, p, m, line, n, true, rw, &rc))
                    continue;
                const loy_event *ev = w->event;
                const loy_sbuf *bufs[10] = {&ev->id, &ev->channel, &ev->store};
                for (size_t i = 0; i < 3; i++) {
                    bufs[3 + 2 * i] = &ev->lines[i].sku;
                    bufs[4 + 2 * i] = &ev->lines[i].category;
                }
                bufs[9] = &ev->at;
                for (size_t i = 0; i < 10; i++)
                    assert_claim_holds(bufs[i]);
                if (before && cd->set && plain_bytes(cd)) {
                    assert_int_equal(bufs[place]->set, LOY_SBUF_PLAIN);
                    claimed++;
                }
                if (place < 9)
                    compare(p, r, ev, "from the JSON reader", cd);
                loy_arena_reset(&r->arena);
                taken++;
            }
        loy_member_free(m);
    }
    assert_true(taken > cand_count && claimed > 0);
    loy_result_free(rw);
    loy_result_free(r);
    loy_policy_free(p);
}

static void reader_with_lookups(void **state)
{
    (void)state;
    run_reader(policy_lookup);
}

static void reader_without_lookups(void **state)
{
    (void)state;
    run_reader(policy_plain);
}

static void setters_with_lookups(void **state)
{
    (void)state;
    run_setters(policy_lookup);
}

static void setters_without_lookups(void **state)
{
    (void)state;
    run_setters(policy_plain);
}

static void lines_with_lookups(void **state)
{
    (void)state;
    run_policy(policy_lookup, true);
}

static void lines_without_lookups(void **state)
{
    (void)state;
    run_policy(policy_plain, false);
}

/* The padding every set buffer has, and the bytes the setters' short
 * copies put in it, for every length across their 4-, 8-, 16- and (the
 * instant's) 32-byte cases, into buffers that held longer and shorter
 * strings before. */
static void buffers_are_padded(void **state)
{
    (void)state;
    loy_policy *p = load_policy_text(policy_plain);
    loy_event *ev = NULL;
    assert_int_equal(loy_event_new(&ev, p), LOY_OK);
    char s[80];
    for (size_t n = 0; n < sizeof s; n++)
        s[n] = (char)('!' + n % 90);
    for (size_t k = 0; k < 2 * sizeof s; k++) {
        size_t n = k < sizeof s ? k : 2 * sizeof s - 1 - k;   /* up, then down */
        /* the source exactly n + 1 bytes long, for ASan */
        char *src = malloc(n + 1);
        assert_non_null(src);
        memcpy(src, s, n);
        src[n] = '\0';
        assert_int_equal(loy_event_reset(ev, LOY_EVENT_ORDER, src, src), LOY_OK);
        assert_int_equal(loy_event_add_line(ev, src, src, 1, 1), LOY_OK);
        const loy_sbuf *bufs[] = {&ev->id, &ev->at, &ev->lines[0].sku, &ev->lines[0].category};
        for (size_t i = 0; i < LOY_ARRAY_LEN(bufs); i++) {
            assert_true(bufs[i]->set);
            assert_int_equal(bufs[i]->len, n);
            assert_true(bufs[i]->cap >= LOY_SBUF_MIN);
            assert_int_equal(bufs[i]->cap % 8, 0);
            assert_true(bufs[i]->cap >= ((n + 8) & ~(size_t)7));
            assert_memory_equal(bufs[i]->s, src, n + 1);
        }
        /* lib/event.c: an instant is never claimed plain, whatever its length */
        assert_int_equal(ev->at.set, LOY_SBUF_GIVEN);
        free(src);
    }
    loy_event_free(ev);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_with_lookups),
        cmocka_unit_test(lines_without_lookups),
        cmocka_unit_test(buffers_are_padded),
        cmocka_unit_test(setters_with_lookups),
        cmocka_unit_test(setters_without_lookups),
        cmocka_unit_test(reader_with_lookups),
        cmocka_unit_test(reader_without_lookups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
