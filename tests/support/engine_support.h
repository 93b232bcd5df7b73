/*
 * Helpers of the engine-core tests (points, tiers, apply), on top of the
 * rig of rules_support.h: state bytes snapshots (a refused event must leave
 * them identical), event builders, and readers of the member's lots.
 *
 * Include after <cmocka.h> and its prerequisites.
 */
#ifndef ENGINE_SUPPORT_H
#define ENGINE_SUPPORT_H

#include "rules_support.h"

/* ------------------------------------------------------------ state bytes */

typedef struct snapshot {
    uint8_t *bytes;
    size_t len;
} snapshot;

static inline snapshot snap_take(loy_member *m)
{
    const void *data = NULL;
    size_t len = 0;
    assert_int_equal(loy_member_to_bytes(m, &data, &len), LOY_OK);
    snapshot s;
    s.bytes = malloc(len ? len : 1);
    assert_non_null(s.bytes);
    memcpy(s.bytes, data, len);
    s.len = len;
    return s;
}

static inline void snap_expect_same(loy_member *m, snapshot *s)
{
    const void *data = NULL;
    size_t len = 0;
    assert_int_equal(loy_member_to_bytes(m, &data, &len), LOY_OK);
    assert_int_equal(len, s->len);
    assert_memory_equal(data, s->bytes, len);
    free(s->bytes);
    s->bytes = NULL;
}

/* Apply the event built; it must be refused with `code` and a message
 * containing `text` (NULL: any), and the state bytes must not move. */
#define expect_refused_same(t, code_, text_)                                                 \
    do {                                                                                     \
        snapshot snap_ = snap_take((t)->m);                                                  \
        int rc_ = apply(t);                                                                  \
        if (rc_ != (code_))                                                                  \
            fprintf(stderr, "got %s: %s\n", loy_error_name(rc_), loy_result_message((t)->r)); \
        assert_int_equal(rc_, (code_));                                                      \
        const char *want_text_ = (text_);                                                    \
        if (want_text_)                                                                      \
            assert_non_null(strstr(loy_result_message((t)->r), want_text_));                 \
        const loy_node *err_ = root_get(t, "error");                                         \
        assert_non_null(err_);                                                               \
        assert_string_equal(loy_node_str(loy_node_get(err_, "code"), NULL),                  \
                            loy_error_name(code_));                                          \
        snap_expect_same((t)->m, &snap_);                                                    \
    } while (0)

/* ----------------------------------------------------------------- events */

static inline void ev_order1(rig *t, const char *id, const char *at, const char *category, int64_t amount)
{
    ev(t, LOY_EVENT_ORDER, id, at);
    ev_line(t, "SKU", category, amount);
}

static inline void ev_action(rig *t, const char *id, const char *at, const char *kind)
{
    ev(t, LOY_EVENT_ACTION, id, at);
    assert_int_equal(loy_event_set_kind(t->e, kind), LOY_OK);
}

static inline void ev_redeem(rig *t, const char *id, const char *at, int64_t points, int64_t order_amount)
{
    ev(t, LOY_EVENT_REDEEM, id, at);
    assert_int_equal(loy_event_set_points(t->e, points), LOY_OK);
    assert_int_equal(loy_event_set_order_amount(t->e, order_amount), LOY_OK);
}

static inline void ev_return(rig *t, const char *id, const char *at, int64_t amount, const char *orig_id,
                      const char *orig_at, int64_t orig_amount, int64_t orig_points)
{
    ev(t, LOY_EVENT_RETURN, id, at);
    assert_int_equal(loy_event_set_amount(t->e, amount), LOY_OK);
    assert_int_equal(loy_event_set_original(t->e, orig_id, orig_at, orig_amount, orig_points), LOY_OK);
}

static inline void tick(rig *t, const char *id, const char *at)
{
    ev(t, LOY_EVENT_TICK, id, at);
    int rc = apply(t);
    if (rc != LOY_OK)
        fprintf(stderr, "tick refused: %s\n", loy_result_message(t->r));
    assert_int_equal(rc, LOY_OK);
}

/* ------------------------------------------------------------------ lots */

/* The member's lots as text: "POINTS@EXPIRES[/PENDING_UNTIL] ..." in the
 * member's order (soonest-expiring first; "never" for no last day). */
static inline char *lots_text(const loy_member *m)
{
    sbuf_t b = {0};
    sb_puts(&b, "");
    size_t n = loy_member_lot_count(m);
    for (size_t i = 0; i < n; i++) {
        int64_t points;
        char expires[11], until[11];
        assert_int_equal(loy_member_lot(m, i, &points, expires, until), LOY_OK);
        char buf[64];
        snprintf(buf, sizeof buf, "%s%lld@%s%s%s", i ? " " : "", (long long)points,
                 expires[0] ? expires : "never", until[0] ? "/" : "", until);
        sb_puts(&b, buf);
    }
    return b.s;
}

#define expect_lots(m, text)              \
    do {                                  \
        char *got_ = lots_text(m);        \
        assert_string_equal(got_, text);  \
        free(got_);                       \
    } while (0)

/* The tier metric as of a date, as loy_member_metric reports it. */
static inline int64_t metric_as_of(rig *t, const char *date)
{
    int64_t v = -1;
    assert_int_equal(loy_member_metric(t->m, date, &v), LOY_OK);
    return v;
}

/* A month's figure of one metric (internal view of the buckets). */
static inline int64_t month_figure(rig *t, int metric, const char *month)
{
    loy_month mon;
    assert_true(loy_parse_month(month, strlen(month), &mon));
    int64_t v = -1;
    assert_true(loy_metric_sum(t->m, metric, mon, mon, &v));
    return v;
}

/* ------------------------------------------------------------ policies */

/* A policy from a printf format, for tests that vary one figure of it. */
static inline loy_policy *load_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline loy_policy *load_fmt(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return load_policy_text(buf);
}

#endif
