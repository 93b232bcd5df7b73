/* The result handle and its node tree (see result.h). */
#include "result.h"

#include <stdarg.h>
#include <stdio.h>

#include "member.h"
#include "policy.h"

/* Returned when the arena is exhausted, so builders never hand out NULL.
 * It is never linked into a tree (rn_put/rn_push skip it). */
static loy_node nomem_node;

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

void loy_result_begin(loy_result *r)
{
    loy_arena_reset(&r->arena);
    r->code = LOY_OK;
    r->message = "";
    r->nomem = false;
    r->root = NULL;
    r->effects = NULL;
    r->trace = NULL;
    r->json_valid = false;
    r->state_valid = false;
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
    vsnprintf(buf, sizeof buf, fmt, ap);
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

static loy_node *node(loy_result *r, uint8_t kind)
{
    loy_node *n = loy_arena_take(&r->arena, sizeof *n);
    if (!n) {
        r->nomem = true;
        memset(&nomem_node, 0, sizeof nomem_node);
        return &nomem_node;
    }
    memset(n, 0, sizeof *n);
    n->kind = kind;
    return n;
}

loy_node *rn_map(loy_result *r) { return node(r, LOY_NODE_MAP); }
loy_node *rn_list(loy_result *r) { return node(r, LOY_NODE_LIST); }
loy_node *rn_null(loy_result *r) { return node(r, LOY_NODE_NULL); }

loy_node *rn_bool(loy_result *r, bool b)
{
    loy_node *n = node(r, LOY_NODE_BOOL);
    n->b = b;
    return n;
}

loy_node *rn_int(loy_result *r, int64_t v)
{
    loy_node *n = node(r, LOY_NODE_INT);
    n->i = v;
    return n;
}

loy_node *rn_strn(loy_result *r, const char *s, size_t len)
{
    loy_node *n = node(r, LOY_NODE_STRING);
    n->str = s;
    n->len = len;
    return n;
}

loy_node *rn_str(loy_result *r, const char *s)
{
    return rn_strn(r, s, strlen(s));
}

loy_node *rn_strdup(loy_result *r, const char *s, size_t len)
{
    char *copy = loy_arena_strndup(&r->arena, s, len);
    if (!copy) {
        r->nomem = true;
        return &nomem_node;
    }
    return rn_strn(r, copy, len);
}

loy_node *rn_decimal(loy_result *r, const char *text)
{
    loy_node *n = node(r, LOY_NODE_DECIMAL);
    n->str = text;
    n->len = strlen(text);
    return n;
}

loy_node *rn_date(loy_result *r, loy_day day)
{
    /* formatted straight into the arena: no copy */
    char *text = loy_arena_take(&r->arena, 11);
    if (!text) {
        r->nomem = true;
        return &nomem_node;
    }
    loy_format_date(day, text);
    return rn_strn(r, text, 10);
}

loy_node *rn_month(loy_result *r, loy_month month)
{
    char buf[8];
    loy_format_month(month, buf);
    return rn_strdup(r, buf, 7);
}

loy_node *rn_printf(loy_result *r, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    return rn_strdup(r, buf, (size_t)n);
}

static void append(loy_node *parent, loy_node *child)
{
    if (parent == &nomem_node || child == &nomem_node)
        return;
    child->next = NULL;
    if (parent->last)
        parent->last->next = child;
    else
        parent->first = child;
    parent->last = child;
    parent->count++;
}

loy_node *rn_push(loy_node *list, loy_node *value)
{
    append(list, value);
    return value;
}

loy_node *rn_put(loy_node *map, const char *key, loy_node *value)
{
    if (value != &nomem_node)
        value->key = key;
    append(map, value);
    return value;
}

void rn_put_str(loy_result *r, loy_node *map, const char *key, const char *s)
{
    rn_put(map, key, rn_str(r, s));
}

void rn_put_int(loy_result *r, loy_node *map, const char *key, int64_t v)
{
    rn_put(map, key, rn_int(r, v));
}

void rn_put_bool(loy_result *r, loy_node *map, const char *key, bool b)
{
    rn_put(map, key, rn_bool(r, b));
}

void rn_put_date(loy_result *r, loy_node *map, const char *key, loy_day day)
{
    rn_put(map, key, rn_date(r, day));
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

const char *loy_node_str(const loy_node *n, size_t *len)
{
    if (!n || (n->kind != LOY_NODE_STRING && n->kind != LOY_NODE_DECIMAL)) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = n->len;
    return n->str;
}
