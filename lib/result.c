/* The result handle and its node tree (see result.h). */
#include "result.h"

#include <stdarg.h>
#include <stdio.h>

#include "member.h"
#include "policy.h"

/* Returned when the arena is exhausted, so builders never hand out NULL.
 * It is never linked into a tree (rn_put/rn_push skip it). */
loy_node loy_nomem_node;
#define nomem_node loy_nomem_node

#define LOY_NOINLINE __attribute__((noinline))

int loy_result_new(loy_result **out, const loy_policy *policy)
{
    if (!out || !policy)
        return LOY_E_INVALID_ARG;
    *out = NULL;
    loy_result *r = loy_calloc(&policy->alloc, 1, sizeof *r);
    if (!r)
        return LOY_E_NOMEM;
    r->policy = policy;
    r->alloc = &policy->alloc;
    loy_arena_init(&r->arena, r->alloc);
    r->message = "";
    *out = r;
    return LOY_OK;
}

void loy_result_free(loy_result *r)
{
    if (!r)
        return;
    loy_member_free(r->scratch);
    loy_member_free(r->json_member);
    loy_wire_free(r);
    loy_arena_release(&r->arena);
    loy_free(r->alloc, r->json);
    loy_free(r->alloc, r->state);
    loy_free(r->alloc, r);
}

void loy_result_set_options(loy_result *r, unsigned options)
{
    if (r)
        r->options = options;
}

void loy_result_begin_general(loy_result *r)
{
    loy_arena_reset(&r->arena);
    loy_result_clear_answer(r);
}

int loy_result_set_code(loy_result *r, int code, const char *message)
{
    r->code = code;
    if (!message) {
        r->message = "";
    } else {
        char *m = loy_arena_strdup(&r->arena, message);
        if (!m)
            r->nomem = true;
        r->message = m ? m : "";
    }
    return code;
}

int loy_result_set_codef(loy_result *r, int code, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    loy_vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return loy_result_set_code(r, code, buf);
}

int loy_result_code(const loy_result *r)
{
    return r ? r->code : LOY_E_INVALID_ARG;
}

const char *loy_result_message(const loy_result *r)
{
    return r && r->message ? r->message : "";
}

const loy_node *loy_result_root(const loy_result *r)
{
    return r ? r->root : NULL;
}

/* --------------------------------------------------------------- builders */

/*
 * A decision builds dozens of nodes, so each builder is a leaf function (or
 * inline, result.h) on its common path: the node comes from the head chunk
 * of the arena, and only when that is full does a separate, out-of-line
 * function (*_slow) take the general road (a new chunk, or NOMEM).
 *
 * Nodes set only what every reader may look at whatever the kind (kind,
 * lazy, key, next) and their kind's value fields (result.h).
 */

#define room rn_room   /* result.h */
#define take rn_take

/* `count` nodes by the general road; NULL (and nomem set) when the arena
 * cannot grow. */
static LOY_NOINLINE loy_node *take_slow(loy_result *r, size_t count)
{
    loy_node *n = loy_arena_alloc(&r->arena, count * sizeof(loy_node));
    if (!n) {
        r->nomem = true;
        memset(&nomem_node, 0, sizeof nomem_node);
    }
    return n;
}

static inline void init(loy_node *n, uint8_t kind, uint8_t lazy, const char *key)
{
    n->kind = kind;
    n->lazy = lazy;
    n->key = key;
    n->next = NULL;
}

static inline void init_container(loy_node *n, uint8_t kind)
{
    init(n, kind, LOY_LAZY_NONE, NULL);
    n->count = 0;
    n->first = n->last = NULL;
}

/* Links a fresh node (never the nomem node) as the last child. */
static inline void link_last(loy_node *parent, loy_node *child)
{
    if (parent != &nomem_node)
        rn_link(parent, child);
}

LOY_NOINLINE loy_node *rn_node_slow(loy_result *r, uint8_t kind)
{
    /* any kind: a container's fields are set too, a leaf's value by the caller */
    loy_node *n = take_slow(r, 1);
    if (!n)
        return &nomem_node;
    init_container(n, kind);
    return n;
}

/* The slow road of a builder that returns its node: rn_node_slow, then
 * the value (FILL, the same stores as the fast road). Each builder below
 * writes its fast road out (room, take, init, value) on purpose: it is the
 * per-node cost of every answer, kept to straight-line stores. */
#define SLOW(name, params, FILL)                                              \
    static LOY_NOINLINE loy_node *name params                                 \
    {                                                                         \
        loy_node *n = rn_node_slow(r, KIND);                                  \
        if (n != &nomem_node)                                                 \
            FILL;                                                             \
        return n;                                                             \
    }

loy_node *rn_null(loy_result *r)
{
    if (!room(r, 1))
        return rn_node_slow(r, LOY_NODE_NULL);
    loy_node *n = take(r, 1);
    init(n, LOY_NODE_NULL, LOY_LAZY_NONE, NULL);
    return n;
}

#define KIND LOY_NODE_BOOL
SLOW(bool_slow, (loy_result *r, bool b), n->b = b)
#undef KIND
loy_node *rn_bool(loy_result *r, bool b)
{
    if (!room(r, 1))
        return bool_slow(r, b);
    loy_node *n = take(r, 1);
    init(n, LOY_NODE_BOOL, LOY_LAZY_NONE, NULL);
    n->b = b;
    return n;
}

#define KIND LOY_NODE_INT
SLOW(int_slow, (loy_result *r, int64_t v), n->i = v)
#undef KIND
loy_node *rn_int(loy_result *r, int64_t v)
{
    if (!room(r, 1))
        return int_slow(r, v);
    loy_node *n = take(r, 1);
    init(n, LOY_NODE_INT, LOY_LAZY_NONE, NULL);
    n->i = v;
    return n;
}

#define KIND LOY_NODE_STRING
SLOW(strn_slow, (loy_result *r, const char *s, size_t len), (n->str = s, n->len = len))
SLOW(date_slow, (loy_result *r, loy_day day), (n->lazy = LOY_LAZY_DATE, n->i = day))
SLOW(month_slow, (loy_result *r, loy_month month), (n->lazy = LOY_LAZY_MONTH, n->i = month))
#undef KIND
#define KIND LOY_NODE_DECIMAL
SLOW(decimal_slow, (loy_result *r, const char *text), (n->str = text, n->len = strlen(text)))
#undef KIND

loy_node *rn_strn(loy_result *r, const char *s, size_t len)
{
    if (!room(r, 1))
        return strn_slow(r, s, len);
    loy_node *n = take(r, 1);
    init(n, LOY_NODE_STRING, LOY_LAZY_NONE, NULL);
    n->str = s;
    n->len = len;
    return n;
}

static LOY_NOINLINE loy_node *strdup_slow(loy_result *r, const char *s, size_t len)
{
    char *copy = loy_arena_strndup(&r->arena, s, len);
    if (!copy) {
        r->nomem = true;
        return &nomem_node;
    }
    return rn_strn(r, copy, len);
}

/* The node and its text in one take, the text right after the node. A
 * long text takes the general road, which also keeps the size sum small. */
loy_node *rn_strdup(loy_result *r, const char *s, size_t len)
{
    if (len > 4096)
        return strdup_slow(r, s, len);
    size_t size = sizeof(loy_node) + ((len + 8u) & ~(size_t)7u);
    if (r->arena.head_size - r->arena.used < size)
        return strdup_slow(r, s, len);
    loy_node *n = (loy_node *)(void *)(r->arena.head_data + r->arena.used);
    r->arena.used += size;
    char *text = (char *)(n + 1);
    memcpy(text, s, len);
    text[len] = '\0';
    init(n, LOY_NODE_STRING, LOY_LAZY_NONE, NULL);
    n->str = text;
    n->len = len;
    return n;
}

/* Measured now: the wire layer's decimals live in its arena, not the
 * policy (rare, so nothing to gain from waiting). */
loy_node *rn_decimal(loy_result *r, const char *text)
{
    if (!room(r, 1))
        return decimal_slow(r, text);
    loy_node *n = take(r, 1);
    init(n, LOY_NODE_DECIMAL, LOY_LAZY_NONE, NULL);
    n->str = text;
    n->len = strlen(text);
    return n;
}

#define KIND LOY_NODE_DECIMAL
SLOW(policy_decimal_slow, (loy_result *r, const char *text), (n->lazy = LOY_LAZY_LEN, n->str = text))
#undef KIND

loy_node *rn_policy_decimal(loy_result *r, const char *text)
{
    if (!room(r, 1))
        return policy_decimal_slow(r, text);
    loy_node *n = take(r, 1);
    init(n, LOY_NODE_DECIMAL, LOY_LAZY_LEN, NULL);
    n->str = text;
    return n;
}

loy_node *rn_date(loy_result *r, loy_day day)
{
    if (!room(r, 1))
        return date_slow(r, day);
    loy_node *n = take(r, 1);
    init(n, LOY_NODE_STRING, LOY_LAZY_DATE, NULL);
    n->i = day;
    return n;
}

loy_node *rn_month(loy_result *r, loy_month month)
{
    if (!room(r, 1))
        return month_slow(r, month);
    loy_node *n = take(r, 1);
    init(n, LOY_NODE_STRING, LOY_LAZY_MONTH, NULL);
    n->i = month;
    return n;
}

loy_node *rn_printf(loy_result *r, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    size_t n = loy_vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return rn_strdup(r, buf, n);
}

/* The general roads of the builders inlined in result.h. A rn_put_X does
 * rn_put(map, key, rn_X(...)) in one step; its slow road is that
 * composition itself. */
LOY_NOINLINE loy_node *rn_str_slow(loy_result *r, const char *s)
{
    loy_node *n = rn_node_slow(r, LOY_NODE_STRING);
    if (n != &nomem_node) {
        n->lazy = LOY_LAZY_LEN;
        n->str = s;
    }
    return n;
}

LOY_NOINLINE void rn_put_str_slow(loy_result *r, loy_node *map, const char *key, const char *s)
{
    rn_put(map, key, rn_str(r, s));
}

LOY_NOINLINE void rn_put_int_slow(loy_result *r, loy_node *map, const char *key, int64_t v)
{
    rn_put(map, key, rn_int(r, v));
}

static LOY_NOINLINE void put_bool_slow(loy_result *r, loy_node *map, const char *key, bool b)
{
    rn_put(map, key, rn_bool(r, b));
}

void rn_put_bool(loy_result *r, loy_node *map, const char *key, bool b)
{
    if (!room(r, 1)) {
        put_bool_slow(r, map, key, b);
        return;
    }
    loy_node *n = take(r, 1);
    init(n, LOY_NODE_BOOL, LOY_LAZY_NONE, key);
    n->b = b;
    link_last(map, n);
}

LOY_NOINLINE void rn_put_date_slow(loy_result *r, loy_node *map, const char *key, loy_day day)
{
    rn_put(map, key, rn_date(r, day));
}

static LOY_NOINLINE loy_node *push_map_str_slow(loy_result *r, loy_node *list, const char *key,
                                                const char *s)
{
    loy_node *map = rn_map(r);
    rn_put_str(r, map, key, s);
    if (list)
        rn_push(list, map);
    return map;
}

loy_node *rn_push_map_str(loy_result *r, loy_node *list, const char *key, const char *s)
{
    if (!room(r, 2))
        return push_map_str_slow(r, list, key, s);
    loy_node *map = take(r, 2);
    loy_node *str = rn_init_str(map + 1, key, s);
    rn_init(map, LOY_NODE_MAP, NULL);
    map->count = 1;
    map->first = map->last = str;
    if (list)
        link_last(list, map);
    return map;
}

LOY_NOINLINE loy_node *rn_root3_slow(loy_result *r, const char *key1, const char *s, size_t len,
                                     const char *key2, loy_node *v2, const char *key3, loy_node *v3)
{
    loy_node *root = rn_map(r);
    rn_put(root, key1, rn_strdup(r, s, len));
    rn_put(root, key2, v2);
    rn_put(root, key3, v3);
    return root;
}

loy_node *rn_block_slow(loy_result *r, size_t count)
{
    return take_slow(r, count);
}

/* ------------------------------------------------------------- public view */

loy_node_kind loy_node_type(const loy_node *n)
{
    return n ? (loy_node_kind)n->kind : LOY_NODE_NULL;
}

size_t loy_node_count(const loy_node *n)
{
    return n && (n->kind == LOY_NODE_LIST || n->kind == LOY_NODE_MAP) ? n->count : 0;
}

const loy_node *loy_node_first(const loy_node *n)
{
    return n && (n->kind == LOY_NODE_LIST || n->kind == LOY_NODE_MAP) ? n->first : NULL;
}

const loy_node *loy_node_next(const loy_node *n)
{
    return n ? n->next : NULL;
}

const loy_node *loy_node_at(const loy_node *n, size_t i)
{
    const loy_node *c = loy_node_first(n);
    while (c && i--)
        c = c->next;
    return c;
}

const char *loy_node_key(const loy_node *n)
{
    return n ? n->key : NULL;
}

const loy_node *loy_node_get(const loy_node *n, const char *key)
{
    if (!n || n->kind != LOY_NODE_MAP || !key)
        return NULL;
    for (const loy_node *c = n->first; c; c = c->next)
        if (c->key && strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

int64_t loy_node_int(const loy_node *n)
{
    return n && n->kind == LOY_NODE_INT ? n->i : 0;
}

int loy_node_bool(const loy_node *n)
{
    return n && n->kind == LOY_NODE_BOOL ? n->b : 0;
}

/* The work a builder left to the first read (result.h): no memory, no
 * failure. The node is in the result's arena (or is the static nomem
 * node, never lazy), so writing through the reader's const is sound. */
void rn_finish(loy_node *n)
{
    switch (n->lazy) {
    case LOY_LAZY_LEN:
        n->len = strlen(n->str);
        break;
    case LOY_LAZY_DATE: {
        char buf[11];
        loy_format_date((loy_day)n->i, buf);
        memcpy(n->text, buf, sizeof buf);
        n->str = n->text;
        n->len = 10;
        break;
    }
    case LOY_LAZY_MONTH: {
        char buf[8];
        loy_format_month((loy_month)n->i, buf);
        memcpy(n->text, buf, sizeof buf);
        n->str = n->text;
        n->len = 7;
        break;
    }
    }
    n->lazy = LOY_LAZY_NONE;
}

void rn_fix(loy_node *n)
{
    rn_finish(n);
    if (n->kind == LOY_NODE_MAP || n->kind == LOY_NODE_LIST)
        for (loy_node *k = n->first; k; k = k->next)
            rn_fix(k);
}

void rn_fixed_begin(loy_result *r, loy_policy *p)
{
    memset(r, 0, sizeof *r);
    r->policy = p;
    r->alloc = &p->alloc;
    r->arena = *p->arena;
}

bool rn_fixed_end(loy_result *r, loy_policy *p)
{
    *p->arena = r->arena;
    return !r->nomem;
}

const char *loy_node_str(const loy_node *n, size_t *len)
{
    if (!n || (n->kind != LOY_NODE_STRING && n->kind != LOY_NODE_DECIMAL)) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (n->lazy)
        rn_finish((loy_node *)n);
    if (len)
        *len = n->len;
    return n->str;
}
