/*
 * The wire layer (POLICY.md §11): JSON lines in, calls of the public API,
 * JSON lines out. It is a user of include/loyalty.h like any caller; the
 * only internals it touches are the result's own buffers (lib/result.h) to
 * keep what loy_result_json/loy_result_state return, the rn_* builders
 * for the error objects it produces itself, and the event's string buffers
 * (lib/event.h), which the fast path of event_json.c fills straight from
 * the line's bytes.
 *
 * Files: json.c (reader), write.c (writer), wire.c (entry points, queries,
 * error objects), event_json.c (event lines), member_json.c (member lines).
 */
#ifndef LOY_WIRE_WIRE_H
#define LOY_WIRE_WIRE_H

#include "core.h"
#include "event.h"
#include "result.h"
#include "json.h"

/* What a result keeps for the wire between calls, so a reused result stops
 * allocating: the DOM arena of the current line and one event handle. */
typedef struct loy_wire {
    const loy_alloc *alloc;
    loy_arena arena;
    loy_event *event;
    const loy_policy *event_policy;     /* the policy `event` was made under */
    const loy_policy *member_policy;    /* the policy r->json_member was made under */
    bool last_was_query;                /* loy_apply_json: keep the input bytes */
    loy_member *import_scratch;         /* loy_member_init_json's scratch handle, kept (or NULL) */
} loy_wire;

/* The result's wire context, created on first use (NULL on NOMEM). */
LOY_INTERNAL loy_wire *loy_wire_get(loy_result *r);

/*
 * Field readers with the messages of POLICY.md's vector 39: every failure
 * names where it happened ("order.lines[0]") and the field, and keeps the
 * first failure only.
 */
typedef struct loy_rd {
    const char *where;              /* "order", "return.original", "member" */
    const char *list;               /* with index: where.list[index], e.g. "order.lines[0]" */
    size_t index;                   /* (formatted only when a message needs it) */
    int code;                       /* 0 until a failure */
    char message[256];
} loy_rd;

/* The reader's place as text ("order.lines[0]"), written into buf. */
LOY_INTERNAL const char *loy_rd_where(const loy_rd *d, char *buf, size_t size);

LOY_INTERNAL bool loy_rd_fail(loy_rd *d, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A string field: absent is fine unless required (*out NULL then). A string
 * must not hold U+0000 (the C API takes NUL-terminated strings) and, when
 * nonempty is set, must not be "". */
LOY_INTERNAL bool loy_rd_string(loy_rd *d, int code, const loy_json *obj, const char *key,
                                bool required, bool nonempty, const char **out);
/* An integer field >= 0 (POLICY.md §1): fractions and exponents and
 * negatives are `code`, a value outside int64 is LOY_E_OVERFLOW. */
LOY_INTERNAL bool loy_rd_count(loy_rd *d, int code, const loy_json *obj, const char *key,
                               bool required, int64_t *out, bool *present);
/* The same for a value already in hand, named `name` in the message. */
LOY_INTERNAL bool loy_rd_count_value(loy_rd *d, int code, const loy_json *v, const char *name,
                                     int64_t *out);
/* The closest of `words` to `word` within two edits, or NULL (for "did you mean"). */
LOY_INTERNAL const char *loy_wire_suggest(const char *word, const char *const *words, size_t count);

/* A result {"event": ID|null, "error": {"code", "message"}} made by the wire. */
LOY_INTERNAL int loy_wire_error(loy_result *r, const char *event_id, int code, const char *message);

/* Read an event line's object and apply it (event_json.c). */
LOY_INTERNAL int loy_wire_apply_event(loy_wire *w, const loy_policy *policy, loy_member *member,
                                      const loy_json *root, loy_result *r);
/* The same for a common event line read straight from its bytes, without
 * the DOM (event_json.c), and for a benefits query line (then sets
 * w->last_was_query). False for any line it does not take to loy_apply or
 * loy_query_benefits: the caller then runs the DOM path, which answers
 * anew (a query the engine refused without an answer tree is one of
 * those, so r may hold that refusal). With no_member_keys, a line with a
 * top-level "member" or "member_id" key is one of those. */
LOY_INTERNAL bool loy_wire_fast_event(loy_wire *w, const loy_policy *policy, loy_member *member,
                                      const char *json, size_t len, bool no_member_keys, loy_result *r,
                                      int *rc);
/* For `loyalty simulate`: loy_apply_json_line when the line is an event
 * or query line the fast path takes and has neither a "member" nor a
 * "member_id" key (so it is neither a member line nor a line that names
 * its member). *handled false: nothing was done to the member, and the
 * line is to be given to loy_apply_json_line. */
static inline int loy_wire_try_event_line(const loy_policy *policy, loy_member *member, const char *json,
                                          size_t len, loy_result *result, bool *handled)
{
    /* Inline: simulate calls it for every line, and its frame cost more
     * than its work. */
    *handled = false;
    loy_wire *w = !result || !policy || !member || !json ? NULL
                  : result->wire                        ? (loy_wire *)result->wire
                                                        : loy_wire_get(result);
    if (!w)
        return LOY_OK;
    int rc = LOY_OK;
    if (!loy_wire_fast_event(w, policy, member, json, len, true, result, &rc))
        return LOY_OK;
    *handled = true;
    return rc;
}
/* loy_member_init_json of a line already parsed (by loy_json_parse, into
 * any arena that outlives the call): `loyalty simulate` parses a member
 * line to know it is one, and need not have it parsed again. */
LOY_INTERNAL int loy_wire_member_init_parsed(loy_member *member, const loy_json *root, loy_result *result);
/* loy_apply_json_line always through the DOM: the reference the fast path
 * is tested against. */
LOY_INTERNAL int loy_wire_apply_line_dom(const loy_policy *policy, loy_member *member, const char *json,
                                         size_t len, loy_result *result);
/* The last line given to r was a query (its answer has a "query" key);
 * false after an event line, whatever its answer. Inline: `loyalty
 * simulate` asks after every line. */
static inline bool loy_wire_was_query(const loy_result *r)
{
    const loy_wire *w = r ? r->wire : NULL;
    return w && w->last_was_query;
}
/* The "at" of the event line last applied through r (as loy_apply saw it),
 * or NULL; *len is its length (0 with NULL). Inline, as was_query. */
static inline const char *loy_wire_event_at(const loy_result *r, size_t *len)
{
    const loy_wire *w = r ? r->wire : NULL;
    bool set = w && w->event && w->event->at.set;
    *len = set ? w->event->at.len : 0;
    return set ? w->event->at.s : NULL;
}

#endif
