/*
 * A result is a tree of nodes in an arena (lib/result.c): the decision in
 * exactly the shape of POLICY.md §11.3/§11.4. The engine builds it with the
 * rn_* helpers below; callers read it through loy_node_* and the wire layer
 * writes it as JSON.
 *
 * Building never fails visibly: when the arena cannot grow, the builders
 * return a shared dummy node and set result->nomem; the caller checks it
 * once at the end (loy_apply then reports LOY_E_NOMEM, state unchanged).
 * String values are borrowed (rn_str) — they must outlive the result, as
 * policy strings do — or copied into the arena (rn_strdup, rn_printf).
 * Dates and months keep their day number and are formatted on first read;
 * a borrowed string's length is measured on first read (see LOY_LAZY_*).
 *
 * Only these fields are set by every builder: kind, lazy, key, next, and
 * the value fields of the node's kind (b; i; str/len; first/last/count).
 * Readers look at the value fields of the node's kind only.
 */
#ifndef LOY_RESULT_H
#define LOY_RESULT_H

#include "core.h"
#include "date.h"

/* What a node leaves to its first read (node.lazy). A result belongs to one
 * thread at a time (include/loyalty.h), so a reader may finish the node
 * through its const pointer: the work needs no memory and cannot fail, so
 * a loy_apply that returned LOY_OK never fails later on read. A caller
 * that never reads the tree (a POS reading loy_member_points_*, `loyalty
 * simulate`) never pays for it. Read str/len only through loy_node_str, or
 * after rn_finish. */
enum {
    LOY_LAZY_NONE = 0,
    LOY_LAZY_LEN = 1,               /* rn_str, rn_policy_decimal: len = strlen(str) */
    LOY_LAZY_DATE = 2,              /* STRING: i is a loy_day; format into text */
    LOY_LAZY_MONTH = 3              /* STRING: i is a loy_month; format into text */
};

struct loy_node {
    uint8_t kind;                   /* loy_node_kind */
    uint8_t lazy;                   /* LOY_LAZY_* */
    bool b;
    uint8_t spare;                  /* 0: with kind, lazy and b one word to set */
    uint32_t count;                 /* children */
    const char *key;                /* in a map */
    const char *str;                /* STRING / DECIMAL */
    size_t len;
    union {
        struct {
            int64_t i;              /* INT; a lazy date's day or month */
            struct loy_node *first; /* LIST / MAP */
        };
        char text[16];              /* a lazy date or month, once read */
    };
    struct loy_node *last, *next;
};

typedef struct loy_member loy_member;

struct loy_result {
    const loy_policy *policy;
    const loy_alloc *alloc;
    loy_arena arena;
    unsigned options;               /* LOY_RESULT_* */
    int code;
    const char *message;            /* "" on success; in the arena */
    bool nomem;
    loy_node *root;
    loy_node *effects;              /* the "effects" list while applying */
    loy_node *trace;                /* the "trace" list, NULL unless LOY_RESULT_TRACE */

    loy_member *scratch;            /* working copy for loy_apply (lib/engine/apply.c) */
    loy_member *json_member;        /* member handle for loy_apply_json (lib/wire/) */

    char *json;                     /* loy_result_json output */
    size_t json_len, json_cap;
    bool json_valid;
    uint8_t *state;                 /* loy_apply_json: the new state bytes */
    size_t state_len, state_cap;
    bool state_valid;               /* state holds the last loy_apply_json's bytes (reset by begin) */
    void *wire;                     /* the wire layer's reusable context (lib/wire/), or NULL */
};

/* Frees r->wire (lib/wire/wire.c); called by loy_result_free. */
LOY_INTERNAL void loy_wire_free(loy_result *r);

/* Start a new answer: clears the arena and the tree. Inline, since every
 * decision and query starts here; loy_result_begin_general is the same with
 * the arena always reset by loy_arena_reset (tests/test_result_fast.c). */
LOY_INTERNAL void loy_result_begin_general(loy_result *r);
/* The answer's fields as a new answer has them, for both of those. */
static inline void loy_result_clear_answer(loy_result *r)
{
    r->code = LOY_OK;
    r->message = "";
    r->nomem = false;
    r->root = NULL;
    r->effects = NULL;
    r->trace = NULL;
    r->json_valid = false;
    r->state_valid = false;
}
static inline void loy_result_begin(loy_result *r)
{
    /* loy_arena_reset makes the first chunk the head; when it already is,
     * the head's data and size are the first's, and only `used` moves */
    if (r->arena.head == r->arena.first)
        r->arena.used = 0;
    else
        loy_arena_reset(&r->arena);
    loy_result_clear_answer(r);
}
/* Record the outcome; message is copied. Returns code. */
LOY_INTERNAL int loy_result_set_code(loy_result *r, int code, const char *message);
LOY_INTERNAL int loy_result_set_codef(loy_result *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

LOY_INTERNAL loy_node *rn_null(loy_result *r);
LOY_INTERNAL loy_node *rn_bool(loy_result *r, bool b);
LOY_INTERNAL loy_node *rn_int(loy_result *r, int64_t v);
LOY_INTERNAL loy_node *rn_strn(loy_result *r, const char *s, size_t len); /* borrowed */
LOY_INTERNAL loy_node *rn_strdup(loy_result *r, const char *s, size_t len);
LOY_INTERNAL loy_node *rn_decimal(loy_result *r, const char *text); /* borrowed */
/* A decimal borrowed from the policy (or a literal): as rn_str, its length
 * is measured on first read. */
LOY_INTERNAL loy_node *rn_policy_decimal(loy_result *r, const char *text);
LOY_INTERNAL loy_node *rn_date(loy_result *r, loy_day day);         /* "YYYY-MM-DD" */
LOY_INTERNAL loy_node *rn_month(loy_result *r, loy_month month);    /* "YYYY-MM" */
LOY_INTERNAL loy_node *rn_printf(loy_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* rn_map, rn_list, rn_str (borrowed), rn_push, rn_put, rn_put_str,
 * rn_put_int and rn_put_date are inline, below. */
LOY_INTERNAL void rn_put_bool(loy_result *r, loy_node *map, const char *key, bool b);

/* Does the work a builder left to the first read (n->lazy != LOY_LAZY_NONE):
 * needs no memory and cannot fail. For internal readers (the JSON writer). */
LOY_INTERNAL void rn_finish(loy_node *n);

/* A map holding one borrowed string, {key: s}, appended to `list` unless
 * list is NULL; both nodes in one take (an effect's {"type": ...}). */
LOY_INTERNAL loy_node *rn_push_map_str(loy_result *r, loy_node *list, const char *key,
                                       const char *s);

/* `count` fresh nodes side by side, for a builder that knows its shape
 * (the member summary); NULL, with nomem set, when the arena cannot grow.
 * Each node must be set with one rn_init_* before use; rn_link joins two
 * of them (never the nomem node). Inline, below. */
LOY_INTERNAL loy_node *rn_block_slow(loy_result *r, size_t count);

static inline loy_node *rn_init(loy_node *n, uint8_t kind, const char *key)
{
    /* b and spare too, though only a bool reads b: the compiler then sets
     * the four bytes with one store of a constant */
    n->kind = kind;
    n->lazy = LOY_LAZY_NONE;
    n->b = false;
    n->spare = 0;
    n->key = key;
    n->next = NULL;
    return n;
}

static inline loy_node *rn_init_map(loy_node *n, const char *key)
{
    rn_init(n, LOY_NODE_MAP, key);
    n->count = 0;
    n->first = n->last = NULL;
    return n;
}

static inline loy_node *rn_init_list(loy_node *n, const char *key)
{
    rn_init_map(n, key);
    n->kind = LOY_NODE_LIST;
    return n;
}

static inline loy_node *rn_init_bool(loy_node *n, const char *key, bool b)
{
    rn_init(n, LOY_NODE_BOOL, key);
    n->b = b;
    return n;
}

static inline loy_node *rn_init_str(loy_node *n, const char *key, const char *s)
{
    rn_init(n, LOY_NODE_STRING, key);
    n->lazy = LOY_LAZY_LEN;
    n->str = s;
    return n;
}

static inline loy_node *rn_init_int(loy_node *n, const char *key, int64_t v)
{
    rn_init(n, LOY_NODE_INT, key);
    n->i = v;
    return n;
}

/* A date, formatted "YYYY-MM-DD" on first read. */
static inline loy_node *rn_init_date(loy_node *n, const char *key, loy_day day)
{
    rn_init(n, LOY_NODE_STRING, key);
    n->lazy = LOY_LAZY_DATE;
    n->i = day;
    return n;
}

static inline void rn_link(loy_node *parent, loy_node *child)
{
    if (parent->last)
        parent->last->next = child;
    else
        parent->first = child;
    parent->last = child;
    parent->count++;
}

/* ------------------------------------------------- nodes fixed at load
 *
 * What only the policy decides in an answer (a gift's reward, an
 * upgrade's last fields, a benefit's entry for one outcome) is built once,
 * at load, into the policy's arena, and every answer on every thread
 * shares it without a lock. That is safe because nothing writes a fixed
 * node after load: it is finished (rn_fix), so a reader has no lazy work
 * to store into it, and an answer never links after it. A fixed part is a
 * map whose fields an answer takes under a fresh map of its own
 * (rn_init_over), or chains after fresh fields of its own; the fixed map
 * itself is never linked, and a fixed node's `next` stays as load left it.
 *
 * rn_fixed_begin makes r a result whose builders, the engine's included,
 * take their nodes from p's arena: the arena is r's until rn_fixed_end
 * gives it back, which is false when the arena could not grow. */
LOY_INTERNAL void rn_fixed_begin(loy_result *r, loy_policy *p);
LOY_INTERNAL bool rn_fixed_end(loy_result *r, loy_policy *p);
/* Finishes n and every node under it (not its siblings). */
LOY_INTERNAL void rn_fix(loy_node *n);

/* n as a fresh map `key` over the fields of the fixed map `fixed`. */
static inline loy_node *rn_init_over(loy_node *n, const char *key, const loy_node *fixed)
{
    rn_init(n, LOY_NODE_MAP, key);
    n->first = fixed->first;
    n->last = fixed->last;
    n->count = fixed->count;
    return n;
}

/* ------------------------------------------------- the builders inlined */

/* The builders the engine calls most, inline: on the common path a node is
 * a bump of the arena's head chunk and a few stores, with no call; the
 * general road (a new chunk, NOMEM) is out of line in result.c. */

/* Returned when the arena is exhausted, so builders never hand out NULL;
 * never linked into a tree. */
LOY_INTERNAL extern loy_node loy_nomem_node;

LOY_INTERNAL loy_node *rn_node_slow(loy_result *r, uint8_t kind);
LOY_INTERNAL loy_node *rn_str_slow(loy_result *r, const char *s);
LOY_INTERNAL void rn_put_str_slow(loy_result *r, loy_node *map, const char *key, const char *s);
LOY_INTERNAL void rn_put_int_slow(loy_result *r, loy_node *map, const char *key, int64_t v);
LOY_INTERNAL void rn_put_date_slow(loy_result *r, loy_node *map, const char *key, loy_day day);

/* Whether the head chunk has room for `count` nodes; then rn_take them. */
static inline bool rn_room(const loy_result *r, size_t count)
{
    return r->arena.head_size - r->arena.used >= count * sizeof(loy_node);
}

static inline loy_node *rn_take(loy_result *r, size_t count)
{
    loy_node *n = (loy_node *)(void *)(r->arena.head_data + r->arena.used);
    r->arena.used += count * sizeof(loy_node);   /* a multiple of 8 */
    return n;
}

static inline loy_node *rn_block(loy_result *r, size_t count)
{
    if (!rn_room(r, count))
        return rn_block_slow(r, count);
    return rn_take(r, count);
}

/* An effect {"type": type, ...} and `extra` more nodes in one block,
 * appended to `list` (unless NULL or the nomem node): block[0] is the map,
 * block[1] its type, block[2..] are the caller's to set with rn_init_* and
 * rn_link. NULL, with nomem set, when the arena cannot grow: the answer is
 * dropped then, so the caller may simply stop building it. */
static inline loy_node *rn_effect_block(loy_result *r, loy_node *list, const char *type,
                                        size_t extra)
{
    loy_node *b = rn_block(r, 2 + extra);
    if (!b)
        return NULL;
    loy_node *e = rn_init_map(b, NULL);
    loy_node *t = rn_init_str(b + 1, "type", type);
    e->count = 1;
    e->first = e->last = t;
    if (list && list != &loy_nomem_node)
        rn_link(list, e);
    return b;
}

/* Chains fresh node n to the node right after it, its next sibling in a
 * block laid out in order; returns n. Called on a node just set with
 * rn_init_*, the store replaces its next = NULL. */
static inline loy_node *rn_sib(loy_node *n)
{
    n->next = n + 1;
    return n;
}

/* rn_effect_block for a builder that lays out the whole effect: block[0]
 * is the map, block[1] its type (chained to block[2]), block[2..] the
 * caller's fields, set in order with rn_sib(rn_init_*(...)) but the last,
 * then closed with rn_effect_done. Nothing is linked until then, so the
 * stores stay plain stores into fresh nodes. NULL, with nomem set, when
 * the arena cannot grow. */
static inline loy_node *rn_effect_take(loy_result *r, const char *type, size_t extra)
{
    loy_node *b = rn_block(r, 2 + extra);
    if (!b)
        return NULL;
    rn_init(b, LOY_NODE_MAP, NULL);
    rn_sib(rn_init_str(b + 1, "type", type));
    return b;
}

/* Closes an effect from rn_effect_take: its `count` fields (the type
 * first) end at `last`; appends it to `list` unless that is NULL or the
 * nomem node. */
static inline void rn_effect_done(loy_node *list, loy_node *b, loy_node *last, size_t count)
{
    b->first = b + 1;
    b->last = last;
    b->count = (uint32_t)count;
    if (list && list != &loy_nomem_node)
        rn_link(list, b);
}

/* {"type": "points", "delta", "source", "expires" (unless LOY_DAY_NONE)},
 * appended to `list` (unless NULL): the points effect of a credit or an
 * expiry, in one block. Returns it, NULL when the arena could not grow. */
static inline loy_node *rn_push_points_effect(loy_result *r, loy_node *list, int64_t delta,
                                              const char *source, loy_day expires)
{
    bool dated = expires != LOY_DAY_NONE;
    loy_node *b = rn_effect_take(r, "points", dated ? 3 : 2);
    if (!b)
        return NULL;
    rn_sib(rn_init_int(b + 2, "delta", delta));
    loy_node *last = rn_init_str(b + 3, "source", source);
    if (dated) {
        rn_sib(last);
        last = rn_init_date(b + 4, "expires", expires);
    }
    rn_effect_done(list, b, last, dated ? 4 : 3);
    return b;
}

/* Links `count` siblings, first to last, already chained by their `next`
 * (the last one's NULL), to the end of `parent` at once: a builder that
 * makes several effects in a row chains them itself and links once. */
static inline void rn_link_run(loy_node *parent, loy_node *first, loy_node *last, uint32_t count)
{
    if (parent->last)
        parent->last->next = first;
    else
        parent->first = first;
    parent->last = last;
    parent->count += count;
}

/* Copies len bytes and a NUL to dst (an id: loy_copy_short's short case). */
static inline void rn_copy_text(char *dst, const char *s, size_t len)
{
    loy_copy_short(dst, s, len);
    dst[len] = '\0';
}

LOY_INTERNAL loy_node *rn_root3_slow(loy_result *r, const char *key1, const char *s, size_t len,
                                     const char *key2, loy_node *v2, const char *key3, loy_node *v3);

/* An answer's root {key1: s (copied, len bytes), key2: v2, key3: v3}: the
 * map, the string and its text in one take, chained directly. v2 and v3
 * are nodes of this result not yet in a tree (or the nomem node). */
static inline __attribute__((always_inline)) loy_node *rn_root3(loy_result *r, const char *key1, const char *s, size_t len,
                                 const char *key2, loy_node *v2, const char *key3, loy_node *v3)
{
    size_t size = 2 * sizeof(loy_node) + ((len + 8u) & ~(size_t)7u);
    /* with nomem set, v2 or v3 may be the nomem node: the general road */
    if (r->nomem || len > 4096 || r->arena.head_size - r->arena.used < size)
        return rn_root3_slow(r, key1, s, len, key2, v2, key3, v3);
    loy_node *root = (loy_node *)(void *)(r->arena.head_data + r->arena.used);
    r->arena.used += size;
    loy_node *str = root + 1;
    char *text = (char *)(root + 2);
    rn_copy_text(text, s, len);
    rn_init(root, LOY_NODE_MAP, NULL);
    rn_init(str, LOY_NODE_STRING, key1);
    str->str = text;
    str->len = len;
    str->next = v2;
    v2->key = key2;
    v2->next = v3;
    v3->key = key3;
    v3->next = NULL;
    root->first = str;
    root->last = v3;
    root->count = 3;
    return root;
}

static inline loy_node *rn_map(loy_result *r)
{
    if (!rn_room(r, 1))
        return rn_node_slow(r, LOY_NODE_MAP);
    return rn_init_map(rn_take(r, 1), NULL);
}

static inline loy_node *rn_list(loy_result *r)
{
    if (!rn_room(r, 1))
        return rn_node_slow(r, LOY_NODE_LIST);
    return rn_init_list(rn_take(r, 1), NULL);
}

/* Borrowed: the string outlives the result, so its length can wait. */
static inline loy_node *rn_str(loy_result *r, const char *s)
{
    if (!rn_room(r, 1))
        return rn_str_slow(r, s);
    return rn_init_str(rn_take(r, 1), NULL, s);
}

/* Append to a list / put into a map (key borrowed: use literals or policy
 * ids). Either side may be the nomem node; then nothing is linked. */
static inline loy_node *rn_push(loy_node *list, loy_node *value)
{
    if (list != &loy_nomem_node && value != &loy_nomem_node) {
        value->next = NULL;
        rn_link(list, value);
    }
    return value;
}

static inline loy_node *rn_put(loy_node *map, const char *key, loy_node *value)
{
    if (value != &loy_nomem_node)
        value->key = key;
    return rn_push(map, value);
}

/* Shorthands for rn_put(map, key, rn_X(r, ...)). */
static inline void rn_put_str(loy_result *r, loy_node *map, const char *key, const char *s)
{
    if (!rn_room(r, 1)) {
        rn_put_str_slow(r, map, key, s);
        return;
    }
    loy_node *n = rn_init_str(rn_take(r, 1), key, s);
    if (map != &loy_nomem_node)
        rn_link(map, n);
}

static inline void rn_put_int(loy_result *r, loy_node *map, const char *key, int64_t v)
{
    if (!rn_room(r, 1)) {
        rn_put_int_slow(r, map, key, v);
        return;
    }
    loy_node *n = rn_init_int(rn_take(r, 1), key, v);
    if (map != &loy_nomem_node)
        rn_link(map, n);
}

static inline void rn_put_date(loy_result *r, loy_node *map, const char *key, loy_day day)
{
    if (!rn_room(r, 1)) {
        rn_put_date_slow(r, map, key, day);
        return;
    }
    loy_node *n = rn_init_date(rn_take(r, 1), key, day);
    if (map != &loy_nomem_node)
        rn_link(map, n);
}

#endif
