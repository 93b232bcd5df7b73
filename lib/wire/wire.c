/*
 * The JSON entry points of the public API (POLICY.md §11): event and query
 * lines, the one-call state form, and a result as a JSON line.
 */
#include "wire.h"

#include "event.h"

#include <stdarg.h>
#include <stdio.h>

/* ---------------------------------------------------------------- context */

loy_wire *loy_wire_get(loy_result *r)
{
    if (r->wire)
        return r->wire;
    loy_wire *w = loy_calloc(r->alloc, 1, sizeof *w);
    if (!w)
        return NULL;
    w->alloc = r->alloc;
    loy_arena_init(&w->arena, r->alloc);
    r->wire = w;
    return w;
}

void loy_wire_free(loy_result *r)
{
    if (!r || !r->wire)
        return;
    loy_wire *w = r->wire;
    loy_event_free(w->event);
    loy_member_free(w->import_scratch);
    loy_arena_release(&w->arena);
    loy_free(w->alloc, w);
    r->wire = NULL;
}

/* --------------------------------------------------------------- readers */

bool loy_rd_fail(loy_rd *d, int code, const char *fmt, ...)
{
    if (d->code)
        return false;
    d->code = code;
    va_list ap;
    va_start(ap, fmt);
    loy_vformat(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
    return false;
}

const char *loy_rd_where(const loy_rd *d, char *buf, size_t size)
{
    if (!d->list)
        return d->where;
    snprintf(buf, size, "%s.%s[%zu]", d->where, d->list, d->index);
    return buf;
}

#define WHERE(d) loy_rd_where((d), where_buf, sizeof where_buf)

bool loy_rd_string(loy_rd *d, int code, const loy_json *obj, const char *key, bool required,
                   bool nonempty, const char **out)
{
    char where_buf[96];
    *out = NULL;
    const loy_json *v = loy_json_get(obj, key);
    if (!v) {
        if (required)
            return loy_rd_fail(d, code, "%s: missing '%s'", WHERE(d), key);
        return true;
    }
    if (v->type != LOY_JSON_STRING || (nonempty && v->len == 0))
        return loy_rd_fail(d, code, "%s: '%s' must be a %sstring", WHERE(d), key,
                           nonempty ? "non-empty " : "");
    if (v->nul)
        return loy_rd_fail(d, code, "%s: '%s' must not contain U+0000", WHERE(d), key);
    *out = v->str;
    return true;
}

bool loy_rd_count_value(loy_rd *d, int code, const loy_json *v, const char *name, int64_t *out)
{
    char where_buf[96];
    if (v->type != LOY_JSON_NUMBER)
        return loy_rd_fail(d, code, "%s: '%s' must be an integer", WHERE(d), name);
    int64_t value = 0;
    loy_json_int_status st = loy_json_int(v, &value);
    if (st == LOY_JSON_INT_NOT_INTEGER)
        return loy_rd_fail(d, code, "%s: '%s' must be an integer", WHERE(d), name);
    /* A negative number is refused as negative even when it is also outside
     * int64: the sign is the mistake a caller fixes first. */
    if (loy_json_negative(v))
        return loy_rd_fail(d, code, "%s: '%s' must be >= 0", WHERE(d), name);
    if (st == LOY_JSON_INT_RANGE)
        return loy_rd_fail(d, LOY_E_OVERFLOW, "%s: '%s' does not fit int64", WHERE(d), name);
    *out = value;
    return true;
}

bool loy_rd_count(loy_rd *d, int code, const loy_json *obj, const char *key, bool required,
                  int64_t *out, bool *present)
{
    char where_buf[96];
    if (present)
        *present = false;
    const loy_json *v = loy_json_get(obj, key);
    if (!v) {
        if (required)
            return loy_rd_fail(d, code, "%s: missing '%s'", WHERE(d), key);
        return true;
    }
    if (!loy_rd_count_value(d, code, v, key, out))
        return false;
    if (present)
        *present = true;
    return true;
}

/* Optimal string alignment distance, capped: only "is it within 2". */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *loy_wire_suggest(const char *word, const char *const *words, size_t count)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < count; i++) {
        size_t dist = edit_distance(word, words[i]);
        if (dist < best_d) {
            best_d = dist;
            best = words[i];
        }
    }
    return best;
}

/* ---------------------------------------------------------- error objects */

static void put_fingerprint(loy_result *r, loy_node *root)
{
    if (!(r->options & LOY_RESULT_FINGERPRINT))
        return;
    char hex[17];
    loy_policy_fingerprint_hex(r->policy, hex);
    rn_put(root, "policy", rn_strdup(r, hex, 16));
}

/* {KEY: value, "error": {"code", "message"}}; value NULL means JSON null. */
static int error_object(loy_result *r, const char *key, loy_node *value, int code, const char *message)
{
    loy_node *root = rn_map(r);
    rn_put(root, key, value ? value : rn_null(r));
    loy_node *err = rn_put(root, "error", rn_map(r));
    rn_put_str(r, err, "code", loy_error_name(code));
    rn_put(err, "message", rn_strdup(r, message, strlen(message)));
    put_fingerprint(r, root);
    loy_result_set_code(r, code, message);
    if (r->nomem) {
        r->root = NULL;
        return loy_result_set_code(r, LOY_E_NOMEM, "out of memory");
    }
    r->root = root;
    return code;
}

int loy_wire_error(loy_result *r, const char *event_id, int code, const char *message)
{
    loy_result_begin(r);
    loy_node *id = event_id ? rn_strdup(r, event_id, strlen(event_id)) : NULL;
    return error_object(r, "event", id, code, message);
}

/* A parsed value as result nodes (to echo a query's "query" as sent). */
static loy_node *value_node(loy_result *r, const loy_json *v)
{
    switch ((loy_json_type)v->type) {
    case LOY_JSON_NULL:
        return rn_null(r);
    case LOY_JSON_BOOL:
        return rn_bool(r, v->b);
    case LOY_JSON_NUMBER: {
        int64_t i;
        if (loy_json_int(v, &i) == LOY_JSON_INT_OK)
            return rn_int(r, i);
        /* The text lives in the wire arena, which outlives this answer. */
        return rn_decimal(r, v->str);
    }
    case LOY_JSON_STRING:
        return rn_strdup(r, v->str, v->len);
    case LOY_JSON_ARRAY: {
        loy_node *list = rn_list(r);
        for (const loy_json *c = v->first; c; c = c->next)
            rn_push(list, value_node(r, c));
        return list;
    }
    case LOY_JSON_OBJECT: {
        loy_node *map = rn_map(r);
        for (const loy_json *c = v->first; c; c = c->next)
            rn_put(map, c->key, value_node(r, c));
        return map;
    }
    }
    return rn_null(r);
}

static int query_error(loy_result *r, const loy_json *query, const char *message)
{
    loy_result_begin(r);
    return error_object(r, "query", value_node(r, query), LOY_E_INVALID_QUERY, message);
}

/* ------------------------------------------------------------ the queries */

static int apply_query(const loy_policy *policy, const loy_member *member, const loy_json *root,
                       loy_result *r)
{
    const loy_json *q = loy_json_get(root, "query");
    if (!loy_json_is_text(q) || strcmp(q->str, "benefits") != 0)
        return query_error(r, q, "the only query is 'benefits'");
    loy_rd d = {.where = "query"};
    const char *at, *channel, *store;
    const loy_json *at_v = loy_json_get(root, "at");
    if (!at_v)
        return query_error(r, q, "missing 'at': a benefits query needs an RFC 3339 instant with an offset");
    if (!loy_json_is_text(at_v))
        return query_error(r, q, "'at' must be an RFC 3339 instant with an offset");
    at = at_v->str;
    if (!loy_rd_string(&d, LOY_E_INVALID_QUERY, root, "channel", false, true, &channel)
        || !loy_rd_string(&d, LOY_E_INVALID_QUERY, root, "store", false, true, &store))
        return query_error(r, q, d.message);
    int rc = loy_query_benefits(policy, member, at, channel, store, r);
    if (rc != LOY_OK && rc != LOY_E_NOMEM && !loy_result_root(r)) {
        /* The engine refused without an answer tree: give the §11.4 shape. */
        char message[256];
        snprintf(message, sizeof message, "%s", loy_result_message(r));
        return query_error(r, q, message[0] ? message : "'at' must be an RFC 3339 instant with an offset");
    }
    return rc;
}

/* ----------------------------------------------------------- entry points */

static int json_error(loy_result *r, const loy_json_error *err)
{
    if (err->nomem)
        return loy_wire_error(r, NULL, LOY_E_NOMEM, "out of memory");
    char message[256];
    snprintf(message, sizeof message, "malformed JSON at line %u, column %u: %s", err->line,
             err->column, err->message);
    return loy_wire_error(r, NULL, LOY_E_JSON, message);
}

/* Parse one line into the wire arena; NULL with the error answer in r. */
static const loy_json *parse_line(loy_wire *w, const char *json, size_t len, loy_result *r, int *rc)
{
    loy_arena_reset(&w->arena);
    loy_json_error err;
    const loy_json *root = loy_json_parse(&w->arena, json, len, 1, &err);
    if (!root)
        *rc = json_error(r, &err);
    return root;
}

static int apply_json_line(const loy_policy *policy, loy_member *member, const char *json, size_t len,
                           loy_result *result, bool fast)
{
    if (!result)
        return LOY_E_INVALID_ARG;
    if (!policy || !member || (!json && len))
        return loy_wire_error(result, NULL, LOY_E_INVALID_ARG, "loy_apply_json_line: a NULL argument");
    loy_wire *w = loy_wire_get(result);
    if (!w)
        return loy_wire_error(result, NULL, LOY_E_NOMEM, "out of memory");
    w->last_was_query = false;
    int rc = LOY_OK;
    if (fast && json && loy_wire_fast_event(w, policy, member, json, len, false, result, &rc))
        return rc;
    const loy_json *root = parse_line(w, json ? json : "", len, result, &rc);
    if (!root)
        return rc;
    if (root->type == LOY_JSON_OBJECT && loy_json_get(root, "query")) {
        w->last_was_query = true;
        return apply_query(policy, member, root, result);
    }
    return loy_wire_apply_event(w, policy, member, root, result);
}

int loy_apply_json_line(const loy_policy *policy, loy_member *member, const char *json, size_t len,
                        loy_result *result)
{
    return apply_json_line(policy, member, json, len, result, true);
}

int loy_wire_apply_line_dom(const loy_policy *policy, loy_member *member, const char *json, size_t len,
                            loy_result *result)
{
    return apply_json_line(policy, member, json, len, result, false);
}



/* r->state = bytes (which may be r->state itself). */
static bool keep_state(loy_result *r, const void *bytes, size_t len)
{
    if (bytes != r->state) {
        const uint8_t *src = bytes;
        bool inside = r->state && src >= r->state && src < r->state + r->state_cap;
        if (!inside && !LOY_GROW(r->alloc, r->state, r->state_cap, len))
            return false;
        if (len)
            memmove(r->state, src, len);
    }
    r->state_len = len;
    r->state_valid = true;
    return true;
}

int loy_apply_json(const loy_policy *policy, const void *state, size_t state_len, const char *json,
                   size_t len, loy_result *result)
{
    if (!result)
        return LOY_E_INVALID_ARG;
    if (!policy || (!state && state_len) || (!json && len))
        return loy_wire_error(result, NULL, LOY_E_INVALID_ARG, "loy_apply_json: a NULL argument");
    loy_wire *w = loy_wire_get(result);
    if (!w)
        return loy_wire_error(result, NULL, LOY_E_NOMEM, "out of memory");
    if (result->json_member && w->member_policy != policy) {
        loy_member_free(result->json_member);
        result->json_member = NULL;
    }
    if (!result->json_member) {
        int rc = loy_member_create(&result->json_member, policy);
        if (rc != LOY_OK)
            return loy_wire_error(result, NULL, rc, "out of memory");
        w->member_policy = policy;
    }
    loy_member *m = result->json_member;
    int rc = loy_member_load(m, state ? state : "", state_len);
    if (rc != LOY_OK) {
        const char *why = loy_member_error(m);
        loy_wire_error(result, NULL, rc, why && why[0] ? why : loy_strerror(rc));
        if (!keep_state(result, state, state_len))
            return loy_wire_error(result, NULL, LOY_E_NOMEM, "out of memory");
        return rc;
    }
    rc = loy_apply_json_line(policy, m, json, len, result);
    if (rc == LOY_OK && !w->last_was_query) {
        const void *bytes;
        size_t n;
        int src = loy_member_to_bytes(m, &bytes, &n);
        if (src != LOY_OK)
            return loy_wire_error(result, NULL, src, "the new state could not be written");
        if (!keep_state(result, bytes, n))
            return loy_wire_error(result, NULL, LOY_E_NOMEM, "out of memory");
    } else if (rc != LOY_E_NOMEM && rc != LOY_E_INVALID_ARG) {
        if (!keep_state(result, state, state_len))
            return loy_wire_error(result, NULL, LOY_E_NOMEM, "out of memory");
    }
    return rc;
}

const void *loy_result_state(const loy_result *result, size_t *len)
{
    if (!result || !result->state_valid) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = result->state_len;
    /* A valid empty state still needs a non-NULL pointer. */
    return result->state ? (const void *)result->state : (const void *)"";
}

const char *loy_result_json(loy_result *result, size_t *len)
{
    if (len)
        *len = 0;
    if (!result)
        return NULL;
    if (!result->json_valid) {
        loy_buf b = {.alloc = result->alloc, .data = result->json, .len = 0, .cap = result->json_cap};
        const loy_node *root = loy_result_root(result);
        if (root) {
            loy_json_write_node(&b, root);
        } else if (loy_result_code(result) == LOY_OK) {
            loy_buf_put(&b, "null", 4);
        } else {
            /* No tree (a NOMEM answer, or a result never used): still one
             * valid JSON line that says what happened. */
            int code = loy_result_code(result);
            const char *message = loy_result_message(result);
            loy_buf_puts(&b, "{\"event\": null, \"error\": {\"code\": ");
            loy_json_write_string(&b, loy_error_name(code), strlen(loy_error_name(code)));
            loy_buf_puts(&b, ", \"message\": ");
            loy_json_write_string(&b, message, strlen(message));
            loy_buf_puts(&b, "}}");
        }
        result->json = b.data;
        result->json_cap = b.cap;
        if (b.nomem)
            return NULL;
        result->json_len = b.len;
        result->json_valid = true;
    }
    if (len)
        *len = result->json_len;
    return result->json;
}
