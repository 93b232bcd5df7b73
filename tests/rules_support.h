/*
 * Helpers shared by the engine-rules tests (cond, gifts, benefits, paid,
 * lifecycle, scenarios): a policy + member + event + result "rig" driven
 * through the public API, and comparison of result nodes with hand-written
 * JSON as values (key order and whitespace free), as the vectors are
 * compared.
 *
 * Include after <cmocka.h> and its prerequisites.
 */
#ifndef RULES_SUPPORT_H
#define RULES_SUPPORT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loyalty.h"
#include "engine/engine.h"

/* ------------------------------------------------------- growing strings */

typedef struct sbuf_t {
    char *s;
    size_t len, cap;
} sbuf_t;

static inline void sb_putn(sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = realloc(b->s, cap);
        assert_non_null(b->s);
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static inline void sb_puts(sbuf_t *b, const char *s) { sb_putn(b, s, strlen(s)); }

static inline void sb_quote(sbuf_t *b, const char *s, size_t n)
{
    sb_puts(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            sb_putn(b, esc, 2);
        } else if (ch < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            sb_puts(b, esc);
        } else {
            sb_putn(b, (const char *)&ch, 1);
        }
    }
    sb_puts(b, "\"");
}

/* ------------------------------------------------ canonical text of a node */

typedef struct kv_t {
    char *key;
    char *val;
} kv_t;

static inline int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kv_t *)a)->key, ((const kv_t *)b)->key);
}

/* Objects as {"k":v,...} with keys sorted, no whitespace. */
static inline void sb_pairs(sbuf_t *b, kv_t *pairs, size_t n)
{
    qsort(pairs, n, sizeof *pairs, kv_cmp);
    sb_puts(b, "{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_puts(b, ",");
        sb_quote(b, pairs[i].key, strlen(pairs[i].key));
        sb_puts(b, ":");
        sb_puts(b, pairs[i].val);
        free(pairs[i].key);
        free(pairs[i].val);
    }
    sb_puts(b, "}");
    free(pairs);
}

static inline void canon_node(sbuf_t *b, const loy_node *n)
{
    char num[32];
    size_t len;
    switch (loy_node_type(n)) {
    case LOY_NODE_NULL:
        sb_puts(b, "null");
        break;
    case LOY_NODE_BOOL:
        sb_puts(b, loy_node_bool(n) ? "true" : "false");
        break;
    case LOY_NODE_INT:
        snprintf(num, sizeof num, "%lld", (long long)loy_node_int(n));
        sb_puts(b, num);
        break;
    case LOY_NODE_DECIMAL: {
        const char *s = loy_node_str(n, &len);
        sb_putn(b, s, len);
        break;
    }
    case LOY_NODE_STRING: {
        const char *s = loy_node_str(n, &len);
        sb_quote(b, s, len);
        break;
    }
    case LOY_NODE_LIST:
        sb_puts(b, "[");
        for (const loy_node *c = loy_node_first(n); c; c = loy_node_next(c)) {
            if (c != loy_node_first(n))
                sb_puts(b, ",");
            canon_node(b, c);
        }
        sb_puts(b, "]");
        break;
    case LOY_NODE_MAP: {
        size_t count = loy_node_count(n), i = 0;
        kv_t *pairs = calloc(count ? count : 1, sizeof *pairs);
        for (const loy_node *c = loy_node_first(n); c; c = loy_node_next(c), i++) {
            sbuf_t v = {0};
            canon_node(&v, c);
            pairs[i].key = strdup(loy_node_key(c));
            pairs[i].val = v.s ? v.s : strdup("");
        }
        sb_pairs(b, pairs, count);
        break;
    }
    }
}

static inline char *node_text(const loy_node *n)
{
    sbuf_t b = {0};
    if (!n)
        sb_puts(&b, "<absent>");
    else
        canon_node(&b, n);
    return b.s;
}

/* ------------------------------------------- canonical text of JSON text */

static inline void skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
        (*p)++;
}

/* A JSON string's bytes, unescaped (only the escapes tests use). */
static inline char *parse_json_string(const char **p, size_t *outlen)
{
    sbuf_t b = {0};
    sb_puts(&b, "");
    assert_int_equal(**p, '"');
    (*p)++;
    while (**p && **p != '"') {
        if (**p == '\\') {
            (*p)++;
            char ch = **p == 'n' ? '\n' : **p;
            sb_putn(&b, &ch, 1);
        } else {
            sb_putn(&b, *p, 1);
        }
        (*p)++;
    }
    assert_int_equal(**p, '"');
    (*p)++;
    *outlen = b.len;
    return b.s;
}

static inline void canon_json(sbuf_t *b, const char **p)
{
    skip_ws(p);
    if (**p == '{') {
        (*p)++;
        size_t count = 0, cap = 8;
        kv_t *pairs = calloc(cap, sizeof *pairs);
        skip_ws(p);
        while (**p != '}') {
            size_t klen;
            char *key = parse_json_string(p, &klen);
            skip_ws(p);
            assert_int_equal(**p, ':');
            (*p)++;
            sbuf_t v = {0};
            canon_json(&v, p);
            if (count == cap) {
                cap *= 2;
                pairs = realloc(pairs, cap * sizeof *pairs);
            }
            pairs[count].key = key;
            pairs[count].val = v.s;
            count++;
            skip_ws(p);
            if (**p == ',')
                (*p)++;
            skip_ws(p);
        }
        (*p)++;
        sb_pairs(b, pairs, count);
    } else if (**p == '[') {
        (*p)++;
        sb_puts(b, "[");
        skip_ws(p);
        bool first = true;
        while (**p != ']') {
            if (!first)
                sb_puts(b, ",");
            first = false;
            canon_json(b, p);
            skip_ws(p);
            if (**p == ',')
                (*p)++;
            skip_ws(p);
        }
        (*p)++;
        sb_puts(b, "]");
    } else if (**p == '"') {
        size_t len;
        char *s = parse_json_string(p, &len);
        sb_quote(b, s, len);
        free(s);
    } else {
        const char *start = *p;
        while (**p && strchr(",]} \n\t\r", **p) == NULL)
            (*p)++;
        assert_true(*p > start);
        sb_putn(b, start, (size_t)(*p - start));
    }
}

static inline char *json_text(const char *json)
{
    sbuf_t b = {0};
    const char *p = json;
    canon_json(&b, &p);
    skip_ws(&p);
    assert_int_equal(*p, '\0');
    return b.s;
}

/* The node equals the JSON value written by hand. */
#define assert_node_json(node, json)                       \
    do {                                                   \
        char *got_ = node_text(node);                      \
        char *want_ = json_text(json);                     \
        assert_string_equal(got_, want_);                  \
        free(got_);                                        \
        free(want_);                                       \
    } while (0)

/* ------------------------------------------------------------------ rig */

typedef struct rig {
    loy_policy *p;
    loy_member *m;
    loy_event *e;
    loy_result *r;
    int code;                       /* of the last apply or query */
} rig;

static inline loy_policy *load_policy_text(const char *yaml)
{
    loy_policy *p = NULL;
    loy_diag *diag = NULL;
    int rc = loy_policy_load_buffer(&p, yaml, strlen(yaml), "test.yaml", &diag);
    if (rc != LOY_OK)
        for (size_t i = 0; i < loy_diag_count(diag); i++)
            fprintf(stderr, "test.yaml:%u:%u: %s\n", loy_diag_line(diag, i), loy_diag_column(diag, i),
                    loy_diag_message(diag, i));
    loy_diag_free(diag);
    assert_int_equal(rc, LOY_OK);
    return p;
}

static inline loy_policy *load_policy_file(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/policies/%s", LOY_SPEC_DIR, name);
    loy_policy *p = NULL;
    loy_diag *diag = NULL;
    int rc = loy_policy_load_file(&p, path, &diag);
    if (rc != LOY_OK)
        for (size_t i = 0; i < loy_diag_count(diag); i++)
            fprintf(stderr, "%s:%u:%u: %s\n", path, loy_diag_line(diag, i), loy_diag_column(diag, i),
                    loy_diag_message(diag, i));
    loy_diag_free(diag);
    assert_int_equal(rc, LOY_OK);
    return p;
}

/* A rig around a loaded policy, with a new member and no trace: for the
 * tests that read only the member, where a trace would be wasted work. */
static inline void rig_open_untraced(rig *t, loy_policy *p, const char *member_id, const char *joined)
{
    memset(t, 0, sizeof *t);
    t->p = p;
    assert_int_equal(loy_member_new(&t->m, p, member_id, joined), LOY_OK);
    assert_int_equal(loy_event_new(&t->e, p), LOY_OK);
    assert_int_equal(loy_result_new(&t->r, p), LOY_OK);
}

/* A rig around a loaded policy, with a new member; imports follow with
 * loy_member_* on t->m before the first event. */
static inline void rig_open(rig *t, loy_policy *p, const char *member_id, const char *joined)
{
    rig_open_untraced(t, p, member_id, joined);
    loy_result_set_options(t->r, LOY_RESULT_TRACE);
}

static inline void rig_close(rig *t)
{
    loy_result_free(t->r);
    loy_event_free(t->e);
    loy_member_free(t->m);
    loy_policy_free(t->p);
    memset(t, 0, sizeof *t);
}

/* A zeroed engine context on p and m, for the tests that drive engine
 * internals directly; they set the day and cache fields they test. */
static inline loy_ctx ctx_on(const loy_policy *p, loy_member *m)
{
    loy_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.m = m;
    return c;
}

/* Start building an event. */
static inline void ev(rig *t, loy_event_type type, const char *id, const char *at)
{
    assert_int_equal(loy_event_reset(t->e, type, id, at), LOY_OK);
}

static inline void ev_line(rig *t, const char *sku, const char *category, int64_t amount)
{
    assert_int_equal(loy_event_add_line(t->e, sku, category, amount, 1), LOY_OK);
}

static inline int apply(rig *t)
{
    t->code = loy_apply(t->p, t->m, t->e, t->r);
    return t->code;
}

static inline const loy_node *root_get(rig *t, const char *key)
{
    return loy_node_get(loy_result_root(t->r), key);
}

/* Apply the event built and compare its effects with `effects_json`. */
#define expect_effects(t, effects_json)                                               \
    do {                                                                              \
        int rc_ = apply(t);                                                           \
        if (rc_ != LOY_OK)                                                            \
            fprintf(stderr, "refused: %s: %s\n", loy_error_name(rc_), loy_result_message((t)->r)); \
        assert_int_equal(rc_, LOY_OK);                                                \
        assert_node_json(root_get(t, "effects"), effects_json);                       \
    } while (0)

/* Apply the event built and expect it refused with `code`. */
#define expect_refused(t, code_)                                                      \
    do {                                                                              \
        assert_int_equal(apply(t), (code_));                                          \
    } while (0)

/* The reasons of a refused event (error.reasons). */
static inline const loy_node *refusal_reasons(rig *t)
{
    return loy_node_get(root_get(t, "error"), "reasons");
}

/* A tick: housekeeping, gifts and stage only. */
#define expect_tick(t, id, at, effects_json) \
    do {                                      \
        ev(t, LOY_EVENT_TICK, id, at);        \
        expect_effects(t, effects_json);      \
    } while (0)

static inline int query(rig *t, const char *at, const char *channel, const char *store)
{
    t->code = loy_query_benefits(t->p, t->m, at, channel, store, t->r);
    return t->code;
}

/* The entry of one benefit in the last query's list. */
static inline const loy_node *benefit_entry(rig *t, const char *id)
{
    const loy_node *list = root_get(t, "benefits");
    for (const loy_node *e = loy_node_first(list); e; e = loy_node_next(e)) {
        size_t len;
        const char *s = loy_node_str(loy_node_get(e, "id"), &len);
        if (s && strlen(id) == len && memcmp(s, id, len) == 0)
            return e;
    }
    return NULL;
}

/* Does the last result's trace hold an entry for `rule` whose "why"
 * contains `text`? */
static inline bool trace_has(rig *t, const char *rule, const char *text)
{
    const loy_node *trace = root_get(t, "trace");
    for (const loy_node *e = loy_node_first(trace); e; e = loy_node_next(e)) {
        const char *r = loy_node_str(loy_node_get(e, "rule"), NULL);
        const char *why = loy_node_str(loy_node_get(e, "why"), NULL);
        if (r && why && strncmp(r, rule, strlen(rule)) == 0 && strstr(why, text))
            return true;
    }
    return false;
}

/* The summary of the last result. */
#define expect_member(t, json) assert_node_json(root_get(t, "member"), json)

/* ------------------------------------------------------ fault injection */

/* An allocator that fails once `countdown` allocations have succeeded
 * (countdown < 0: never). */
typedef struct rs_failing_alloc {
    long countdown;
    long failures;
} rs_failing_alloc;

static inline bool rs_fail_now(rs_failing_alloc *f)
{
    if (f->countdown == 0) {
        f->failures++;
        return true;
    }
    if (f->countdown > 0)
        f->countdown--;
    return false;
}

static inline void *rs_fail_malloc(void *ctx, size_t n) { return rs_fail_now(ctx) ? NULL : malloc(n); }
static inline void *rs_fail_realloc(void *ctx, void *p, size_t n) { return rs_fail_now(ctx) ? NULL : realloc(p, n); }
static inline void rs_fail_free(void *ctx, void *p) { LOY_UNUSED(ctx); free(p); }

/* The member's state bytes, copied. */
static inline void *rs_state_copy(loy_member *m, size_t *len)
{
    const void *bytes;
    assert_int_equal(loy_member_to_bytes(m, &bytes, len), LOY_OK);
    void *copy = malloc(*len);
    memcpy(copy, bytes, *len);
    return copy;
}

/*
 * Apply one event built by `build` to a member prepared by `prepare` under
 * a policy whose allocator fails at the k-th allocation, for k = 0, 1, ...
 * until the event goes through: every failure must be LOY_E_NOMEM with the
 * member's state bytes unchanged.
 */
static inline void nomem_sweep(const char *yaml, void (*prepare)(rig *), void (*build)(rig *))
{
    rs_failing_alloc fa = {-1, 0};
    loy_allocator alloc = {rs_fail_malloc, rs_fail_realloc, rs_fail_free, &fa};
    bool done = false;
    for (long k = 0; k < 10000 && !done; k++) {
        fa.countdown = -1;
        loy_policy *p = NULL;
        assert_int_equal(loy_policy_load_buffer_ex(&p, yaml, strlen(yaml), "nomem.yaml", NULL, &alloc), LOY_OK);
        rig t;
        rig_open(&t, p, "M-0063", "2026-01-01");
        prepare(&t);
        build(&t);
        size_t before_len, after_len;
        void *before = rs_state_copy(t.m, &before_len);
        fa.countdown = k;
        int rc = apply(&t);
        fa.countdown = -1;
        if (rc == LOY_OK) {
            done = true;
        } else {
            assert_int_equal(rc, LOY_E_NOMEM);
            void *after = rs_state_copy(t.m, &after_len);
            assert_int_equal(after_len, before_len);
            assert_memory_equal(after, before, before_len);
            free(after);
        }
        free(before);
        rig_close(&t);
    }
    assert_true(done);
    assert_true(fa.failures > 0);
    if (getenv("RULES_VERBOSE"))
        fprintf(stderr, "nomem_sweep: %ld failing allocations, all refused cleanly\n", fa.failures);
}

#endif
