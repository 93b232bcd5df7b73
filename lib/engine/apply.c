/*
 * loy_apply: one event through the steps of POLICY.md §10.1, and the
 * benefits query of §11.4.
 *
 * Steps 2-6 change the member in place, under an undo journal kept by the
 * result's scratch (loy_member_undo_begin: reused, so that a steady stream
 * of events stops allocating). A refusal at any step, or running out of
 * memory for the answer, rolls the journal back, so the caller's state is
 * exactly as it was; only an accepted event commits. A benefits query gets
 * a const member: when step 2 has work, it runs on a copy in the scratch
 * that borrows the member's strings (loy_member_borrow); otherwise it only
 * reads the member.
 */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <xxhash.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------ ctx helpers */

/* The refusal messages use only %s, %d, %u, %lld, %llu and %zu, without
 * flags or widths: written here directly, since vsnprintf costs some 850
 * instructions a message (`loyalty simulate` refuses one event in ten).
 * Anything else, a NULL string or a message that might not fit, goes to
 * vsnprintf, so the bytes are always its. */
static size_t put_uint(char *dst, unsigned long long v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    return n;
}

bool loy_format_simple(char *buf, size_t cap, const char *fmt, va_list ap, size_t *len)
{
    size_t n = 0;
    for (const char *f = fmt; *f; f++) {
        /* room for the longest conversion (a 20-digit number and its
         * sign) and the NUL */
        if (cap - n < 24)
            return false;
        if (*f != '%') {
            buf[n++] = *f;
            continue;
        }
        f++;
        unsigned long long u;
        bool neg = false;
        if (f[0] == 's') {
            const char *s = va_arg(ap, const char *);
            if (!s)
                return false;
            size_t l = strlen(s);
            if (l >= cap - n)
                return false;
            memcpy(buf + n, s, l);
            n += l;
            continue;
        } else if (f[0] == '%') {
            buf[n++] = '%';
            continue;
        } else if (f[0] == 'd') {
            int v = va_arg(ap, int);
            neg = v < 0;
            u = neg ? 0u - (unsigned long long)v : (unsigned long long)v;
        } else if (f[0] == 'u') {
            u = va_arg(ap, unsigned);
        } else if (f[0] == 'z' && f[1] == 'u') {
            u = va_arg(ap, size_t);
            f++;
        } else if (f[0] == 'l' && f[1] == 'l' && f[2] == 'd') {
            long long v = va_arg(ap, long long);
            neg = v < 0;
            u = neg ? 0u - (unsigned long long)v : (unsigned long long)v;
            f += 2;
        } else if (f[0] == 'l' && f[1] == 'l' && f[2] == 'u') {
            u = va_arg(ap, unsigned long long);
            f += 2;
        } else {
            return false;
        }
        if (neg)
            buf[n++] = '-';
        n += put_uint(buf + n, u);
    }
    buf[n] = '\0';
    *len = n;
    return true;
}

bool loy_refuse(loy_ctx *c, int code, const char *fmt, ...)
{
    /* The first refusal explains the event; later ones are its echoes. */
    if (c->code)
        return false;
    char buf[512];
    size_t len;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    if (!loy_format_simple(buf, sizeof buf, fmt, ap, &len))
        loy_vformat(buf, sizeof buf, fmt, again);
    va_end(again);
    va_end(ap);
    c->code = code;
    char *msg = loy_arena_strdup(&c->r->arena, buf);
    if (!msg)
        c->r->nomem = true;
    c->message = msg ? msg : "";
    return false;
}

/* Out of line, so that loy_trace itself, called at every rule whether or
 * not the caller traces, is only the test of c->trace. */
static __attribute__((noinline, format(printf, 4, 0))) void trace_entry(loy_ctx *c, const char *rule, bool applied,
                                                                          const char *fmt, va_list ap)
{
    char buf[512];
    size_t n = loy_vformat(buf, sizeof buf, fmt, ap);
    loy_result *r = c->r;
    loy_node *entry = rn_push(c->trace, rn_map(r));
    rn_put_int(r, entry, "step", c->step);
    rn_put(entry, "rule", rn_strdup(r, rule, strlen(rule)));
    rn_put_bool(r, entry, "applied", applied);
    rn_put(entry, "why", rn_strdup(r, buf, n));
}

void loy_trace(loy_ctx *c, const char *rule, bool applied, const char *fmt, ...)
{
    if (!c->trace)
        return;
    va_list ap;
    va_start(ap, fmt);
    trace_entry(c, rule, applied, fmt, ap);
    va_end(ap);
}

loy_node *loy_effect(loy_ctx *c, const char *type)
{
    return rn_push_map_str(c->r, c->effects, "type", type);
}

/* {"tier", "points": {"available", "pending"}, "stage"}: six nodes in one
 * block `b`, since every answer carries it, chained directly (the shape is
 * fixed). The points are loy_points_totals', which the query has summed
 * already. */
static inline __attribute__((always_inline)) loy_node *summary_in(loy_node *b, const loy_member *m,
                                                                 int64_t available, int64_t pending)
{
    const loy_policy *p = m->policy;
    /* the maps' children are set below: rn_init, not rn_init_map */
    loy_node *s = rn_init(b, LOY_NODE_MAP, NULL);
    loy_node *tier = rn_init_str(b + 1, "tier", p->tiers.levels[m->tier].id);
    loy_node *points = rn_init(b + 2, LOY_NODE_MAP, "points");
    loy_node *avail = rn_init_int(b + 3, "available", available);
    loy_node *pend = rn_init_int(b + 4, "pending", pending);
    loy_node *stage = m->stage >= 0 && (uint32_t)m->stage < p->stage_count
                          ? rn_init_str(b + 5, "stage", p->stages[m->stage].id)
                          : rn_init(b + 5, LOY_NODE_NULL, "stage");
    s->first = tier;
    tier->next = points;
    points->next = stage;
    s->last = stage;
    s->count = 3;
    points->first = avail;
    avail->next = pend;
    points->last = pend;
    points->count = 2;
    return s;
}

/* Inline in loy_apply, which every event runs: no call of its own. */
static inline __attribute__((always_inline)) loy_node *member_summary(loy_result *r,
                                                                     const loy_member *m)
{
    loy_node *b = rn_block(r, 6);
    if (!b)
        return rn_map(r);   /* the nomem node: the answer is rebuilt */
    int64_t available, pending;
    loy_points_totals(m, &available, &pending);
    return summary_in(b, m, available, pending);
}

loy_node *loy_member_summary(loy_result *r, const loy_member *m)
{
    return member_summary(r, m);
}

/* ------------------------------------------------------------------ steps */

/* Step 2, for loy_apply and for the benefits query on its copy: inline in
 * both, since every event and every query runs its four calls. */
static inline __attribute__((always_inline)) bool loy_housekeeping(loy_ctx *c)
{
    c->step = 2;
    return loy_lots_release(c) && loy_lots_expire(c) && loy_paid_end(c) && !c->code &&
           (!loy_review_due(c->p, c->m, c->day) || loy_run_reviews(c));
}

/* The profile's tags replace the member's. Only tags below tag_count own
 * their buffer (member.h), so the count follows every buffer made. */
static bool replace_tags(loy_ctx *c)
{
    loy_member *m = c->m;
    const loy_event *ev = c->ev;
    size_t n = ev->tag_count;
    if (n > m->tag_cap) {
        /* tags and tag_caps share tag_cap: grow both before raising it. */
        size_t caps_cap = m->tag_cap;
        if (!loy_grow(m->alloc, (void **)&m->tag_caps, &caps_cap, n, sizeof(size_t)) ||
            !LOY_GROW(m->alloc, m->tags, m->tag_cap, n))
            return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    }
    for (size_t i = n; i < m->tag_count; i++) {
        loy_free(m->alloc, m->tags[i]);
        m->tags[i] = NULL;
        m->tag_caps[i] = 0;
    }
    if (m->tag_count > n)
        m->tag_count = n;
    /* Tags are a set: a repeated tag is kept once, where it first appears. */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const loy_sbuf *t = &ev->tags[i];
        bool seen = false;
        for (size_t j = 0; j < kept && !seen; j++)
            seen = strcmp(m->tags[j], t->s) == 0;
        if (seen)
            continue;
        if (kept >= m->tag_count) {
            m->tags[kept] = NULL;
            m->tag_caps[kept] = 0;
            m->tag_count = kept + 1;
        }
        if (!LOY_GROW(m->alloc, m->tags[kept], m->tag_caps[kept], t->len + 1))
            return loy_refuse(c, LOY_E_NOMEM, "out of memory");
        memcpy(m->tags[kept], t->s, t->len + 1);
        kept++;
    }
    for (size_t i = kept; i < m->tag_count; i++) {
        loy_free(m->alloc, m->tags[i]);
        m->tags[i] = NULL;
        m->tag_caps[i] = 0;
    }
    m->tag_count = kept;
    return true;
}

static bool step_profile(loy_ctx *c)
{
    const loy_event *ev = c->ev;
    if (ev->fields & LOY_F_BIRTHDAY) {
        loy_day birthday = LOY_DAY_NONE;
        if (ev->birthday.set && !loy_parse_date(ev->birthday.s, ev->birthday.len, &birthday))
            return loy_refuse(c, LOY_E_INVALID_EVENT, "profile: 'birthday' must be a date YYYY-MM-DD");
        loy_member_put_birthday(c->m, birthday);
        if (c->trace)
            loy_trace(c, "profile", true, "birthday %s", ev->birthday.set ? ev->birthday.s : "removed");
    }
    if (ev->fields & LOY_F_TAGS) {
        /* tags are rewritten in place, so the journal copies them first */
        if (!loy_member_undo_save_tags(c->m))
            return loy_refuse(c, LOY_E_NOMEM, "out of memory");
        if (!replace_tags(c))
            return false;
        if (c->trace)
            loy_trace(c, "profile", true, "%zu tags", ev->tag_count);
    }
    return true;
}

static bool step_business(loy_ctx *c)
{
    c->step = 3;
    switch (c->ev->type) {
    case LOY_EVENT_ORDER: return loy_step_order(c);
    case LOY_EVENT_RETURN: return loy_step_return(c);
    case LOY_EVENT_ACTION: return loy_step_action(c);
    case LOY_EVENT_REDEEM: return loy_step_redeem(c);
    case LOY_EVENT_USE_BENEFIT: return loy_step_use_benefit(c);
    case LOY_EVENT_JOIN_PAID: return loy_step_join_paid(c);
    case LOY_EVENT_PROFILE: return step_profile(c);
    case LOY_EVENT_TICK: return true;
    }
    return true;
}

static bool run_steps(loy_ctx *c)
{
    if (!loy_housekeeping(c) || c->code)
        return false;
    if (!step_business(c) || c->code)
        return false;
    c->step = 4;
    if (!loy_step_upgrade(c) || c->code)
        return false;
    c->step = 5;
    if (!loy_step_gifts(c) || c->code)
        return false;
    c->step = 6;
    return loy_step_lifecycle(c) && !c->code;
}

/* ----------------------------------------------------------------- result */

/* inline: every answer pays these two tests, which cost less than a call */
static inline void put_extras(loy_ctx *c, loy_node *root)
{
    loy_result *r = c->r;
    if (c->trace)
        rn_put(root, "trace", c->trace);
    if (r->options & LOY_RESULT_FINGERPRINT)
        rn_put(root, "policy", rn_printf(r, "%016llx", (unsigned long long)c->p->fingerprint));
}

/* {"event"|"query": ..., "error": {...}}: fills the result and returns the code. */
static int answer_error(loy_ctx *c, const char *head_key, loy_node *head)
{
    loy_result *r = c->r;
    loy_node *root = rn_map(r);
    rn_put(root, head_key, head);
    loy_node *err = rn_put(root, "error", rn_map(r));
    rn_put_str(r, err, "code", loy_error_name(c->code));
    /* borrowed: loy_refuse made it in this result's arena (or it is "") */
    rn_put(err, "message", rn_str(r, c->message));
    if (c->reasons)
        rn_put(err, "reasons", c->reasons);
    put_extras(c, root);
    r->root = root;
    return loy_result_set_code(r, c->code, c->message);
}

/* When the arena ran dry, start the answer over with the smallest one. */
static int answer_nomem(loy_result *r, const char *head_key, const char *id, size_t id_len)
{
    loy_result_begin(r);
    loy_node *root = rn_map(r);
    rn_put(root, head_key, id ? rn_strdup(r, id, id_len) : rn_null(r));
    loy_node *err = rn_put(root, "error", rn_map(r));
    rn_put_str(r, err, "code", loy_error_name(LOY_E_NOMEM));
    rn_put_str(r, err, "message", "out of memory");
    r->root = r->nomem ? NULL : root;
    loy_result_set_code(r, LOY_E_NOMEM, "out of memory");
    return LOY_E_NOMEM;
}

static int refuse_event(loy_ctx *c, bool id_ok)
{
    const loy_event *ev = c->ev;
    if (c->code == LOY_E_NOMEM || c->r->nomem)
        return answer_nomem(c->r, "event", id_ok ? ev->id.s : NULL, ev->id.len);
    loy_node *id = id_ok ? rn_strdup(c->r, ev->id.s, ev->id.len) : rn_null(c->r);
    int code = answer_error(c, "event", id);
    if (c->r->nomem)
        return answer_nomem(c->r, "event", id_ok ? ev->id.s : NULL, ev->id.len);
    return code;
}

static bool scratch_ready(loy_result *r, const loy_policy *p)
{
    return r->scratch || loy_member_create(&r->scratch, p) == LOY_OK;
}

/* Scans the whole ring (up to 256 hashes) on every event of a long
 * history, so four at a time: SSE2 has no 64-bit compare, and a lane is
 * equal when both its 32-bit halves are. */
static bool id_remembered(const loy_member *m, uint64_t hash)
{
    const uint64_t *r = m->recent;
    uint32_t n = m->recent_count, i = 0;
#ifdef __SSE2__
    const __m128i h = _mm_set1_epi64x((long long)hash);
    for (; i + 4 <= n; i += 4) {
        __m128i a = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(const void *)(r + i)), h);
        __m128i b = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(const void *)(r + i + 2)), h);
        a = _mm_and_si128(a, _mm_shuffle_epi32(a, 0xb1));
        b = _mm_and_si128(b, _mm_shuffle_epi32(b, 0xb1));
        if (_mm_movemask_epi8(_mm_or_si128(a, b)))
            return true;
    }
#endif
    for (; i < n; i++)
        if (r[i] == hash)
            return true;
    return false;
}

static void remember_id(loy_member *m, uint64_t hash)
{
    m->recent[m->recent_pos] = hash;
    m->recent_pos = (m->recent_pos + 1) % LOY_RECENT_IDS;
    if (m->recent_count < LOY_RECENT_IDS)
        m->recent_count++;
}

/* Zeroes a ctx as four memsets of at most 64 bytes: GCC makes one memset
 * of the whole a rep stos, whose start-up costs more than the
 * fifteen or so vector stores these become. */
_Static_assert(sizeof(loy_ctx) > 192 && sizeof(loy_ctx) <= 256, "ctx_clear's four pieces");
static inline void ctx_clear(loy_ctx *c)
{
    char *p = (char *)c;
    memset(p, 0, 64);
    memset(p + 64, 0, 64);
    memset(p + 128, 0, 64);
    memset(p + 192, 0, sizeof *c - 192);
}

int loy_apply(const loy_policy *policy, loy_member *member, const loy_event *event,
              loy_result *result)
{
    if (!policy || !member || !event || !result)
        return LOY_E_INVALID_ARG;
    loy_result_begin(result);
    if (member->policy != policy || result->policy != policy)
        return loy_result_set_code(result, LOY_E_INVALID_ARG,
                                   "the member and the result must be made under this policy");
    if (!member->initialised)
        return loy_result_set_code(result, LOY_E_INVALID_ARG,
                                   "the member has no id: make it with loy_member_new or load it");

    loy_ctx c;
    ctx_clear(&c);
    c.p = policy;
    c.ev = event;
    c.r = result;
    c.step = 1;
    c.stage_at_start = member->stage;
    if (result->options & LOY_RESULT_TRACE)
        result->trace = c.trace = rn_list(result);

    bool id_ok;
    if (!loy_validate_event(&c, event, &id_ok))
        return refuse_event(&c, id_ok);

    uint64_t hash = XXH3_64bits(event->id.s, event->id.len);
    if (id_remembered(member, hash)) {
        loy_refuse(&c, LOY_E_DUPLICATE, "event '%s' was already applied", event->id.s);
        return refuse_event(&c, true);
    }
    if (member->has_last_event && c.at.utc_us < member->last_event.utc_us) {
        loy_refuse(&c, LOY_E_OUT_OF_ORDER, "'at' %s is earlier than the last accepted event",
                   event->at.s);
        return refuse_event(&c, true);
    }

    if (!scratch_ready(result, policy) || !loy_member_undo_begin(member, result->scratch)) {
        loy_refuse(&c, LOY_E_NOMEM, "out of memory");
        return refuse_event(&c, true);
    }
    loy_member *m = member;
    c.m = m;
    result->effects = c.effects = rn_list(result);

    if (!run_steps(&c)) {
        loy_member_undo_rollback(m);
        if (!c.code)
            loy_refuse(&c, LOY_E_NOMEM, "out of memory");
        return refuse_event(&c, true);
    }

    /* The answer is built before the commit, so running out of memory for
     * it still leaves the member as it was. What follows it (the last
     * event, the pruned months) is not in the answer. */
    loy_node *summary = member_summary(result, m);
    loy_node *root = rn_root3(result, "event", event->id.s, event->id.len, "effects", c.effects,
                              "member", summary);
    put_extras(&c, root);
    if (result->nomem) {
        loy_member_undo_rollback(m);
        return answer_nomem(result, "event", event->id.s, event->id.len);
    }
    m->last_event = c.at;
    m->has_last_event = true;
    m->fresh = false;
    loy_buckets_prune(policy, m, loy_ctx_reachable_month(&c));
    loy_member_undo_commit(m);
    remember_id(m, hash);
    result->root = root;
    /* loy_result_begin left the code OK and the message empty, and only
     * the refusals above change them. */
    return LOY_OK;
}

/* Would step 2 change nothing on `m` on `day`? Each of loy_lots_release,
 * loy_lots_expire, loy_paid_end and loy_run_reviews first tests whether it
 * has work, and does nothing when it has none; these are those same
 * tests (engine.h; loy_release_due's walk over the lots written out
 * below), asked of the caller's member. When none has work, step 2 leaves
 * the member as it is, so the query reads the member itself instead of a
 * copy (some 350 instructions). A test that is unsure answers "work": the
 * copy then runs step 2, which settles it.
 *
 * The same walk sums the points for the summary and the benefits, as
 * loy_points_totals does for the usual state; any other state (a negative
 * lot, a sum past int64, a negative debt) takes loy_points_totals itself.
 * Returns whether step 2 is idle; the sums are set only then. */
static inline bool idle_totals(const loy_policy *p, const loy_member *m, loy_day day, int64_t *available,
                               int64_t *pending)
{
    if (loy_expiry_due(m, day) || loy_plan_end_due(m, day) || loy_review_due(p, m, day))
        return false;
    int64_t all = 0;
    uint64_t held = 0;   /* unsigned: summed before `plain` is known */
    bool plain = m->debt >= 0;
    for (const loy_lot *lot = m->lots, *end = m->lot_count ? lot + m->lot_count : lot; lot < end; lot++) {
        if (lot->pending_until != LOY_DAY_NONE) {
            if (lot->pending_until <= day)
                return false;   /* loy_release_due */
            held += (uint64_t)lot->points;
        }
        if (lot->points < 0 || !loy_add(all, lot->points, &all))
            plain = false;
    }
    if (!plain) {
        loy_points_totals(m, available, pending);
        return true;
    }
    *available = all - (int64_t)held - m->debt;
    *pending = (int64_t)held;
    return true;
}

/* The query's steps on c->m; step 2 only with `housekeeping`. `sums`, when
 * not NULL, holds c->m's loy_points_totals. Returns the answer's code. */
static int query_on(loy_ctx *c, bool housekeeping, const char *at, size_t at_len, const int64_t *sums)
{
    loy_result *result = c->r;
    c->stage_at_start = c->m->stage;
    if (housekeeping) {
        /* Housekeeping effects are what the query sees, not what it reports. */
        c->effects = rn_list(result);
        if (!loy_housekeeping(c) || c->code) {
            if (c->code == LOY_E_NOMEM || result->nomem)
                return answer_nomem(result, "query", "benefits", 8);
            return answer_error(c, "query", rn_str(result, "benefits"));
        }
    }
    c->step = 3;
    /* summed once for the summary and the benefits that ask */
    int64_t available, pending;
    if (sums) {
        available = sums[0];
        pending = sums[1];
    } else {
        loy_points_totals(c->m, &available, &pending);
    }
    /* The answer's own nodes in one take when the head chunk has room:
     * the list, the summary's six, the root, its "query" and "at", and
     * at's text; laid out as the takes below lay them. */
    size_t text = (at_len + 8u) & ~(size_t)7u, size = 10 * sizeof(loy_node) + text;
    if (!result->nomem && at_len <= 4096 && result->arena.head_size - result->arena.used >= size) {
        loy_node *b = (loy_node *)(void *)(result->arena.head_data + result->arena.used);
        result->arena.used += size;
        loy_node *list = rn_init_list(b, "benefits");
        if (!loy_benefits_list(c, list, available) || c->code || result->nomem) {
            if (!c->code || c->code == LOY_E_NOMEM || result->nomem)
                return answer_nomem(result, "query", "benefits", 8);
            return answer_error(c, "query", rn_str(result, "benefits"));
        }
        loy_node *root = rn_init(b + 1, LOY_NODE_MAP, NULL);
        loy_node *query = rn_init_str(b + 2, "query", "benefits");
        loy_node *when = rn_init(b + 3, LOY_NODE_STRING, "at");
        loy_node *summary = summary_in(b + 4, c->m, available, pending);
        char *copy = (char *)(b + 10);
        if (at_len == 25)
            memcpy(copy, at, 25);   /* the usual instant: three words and a byte, inline */
        else
            memcpy(copy, at, at_len);
        copy[at_len] = '\0';
        when->str = copy;
        when->len = at_len;
        root->first = query;
        query->next = when;
        when->next = list;
        list->next = summary;
        summary->key = "member";
        root->last = summary;
        root->count = 4;
        put_extras(c, root);
        result->root = root;
        if (result->nomem)
            return answer_nomem(result, "query", "benefits", 8);
        return LOY_OK;
    }
    loy_node *list = rn_list(result);
    if (!loy_benefits_list(c, list, available) || c->code) {
        if (!c->code || c->code == LOY_E_NOMEM || result->nomem)
            return answer_nomem(result, "query", "benefits", 8);
        return answer_error(c, "query", rn_str(result, "benefits"));
    }

    /* {"query", "at", "benefits", "member"}: loy_apply's one-take root
     * with the borrowed "query" put in front, two takes in all */
    loy_node *b = rn_block(result, 6);
    loy_node *summary = b ? summary_in(b, c->m, available, pending) : rn_map(result);
    loy_node *root = rn_root3(result, "at", at, at_len, "benefits", list, "member", summary);
    loy_node *query = rn_str(result, "benefits");
    if (!result->nomem) {
        query->key = "query";
        query->next = root->first;
        root->first = query;
        root->count++;
    }
    put_extras(c, root);
    result->root = root;
    if (result->nomem)
        return answer_nomem(result, "query", "benefits", 8);
    /* loy_result_begin left the code OK and the message empty, and only
     * the refusals above change them. */
    return LOY_OK;
}

/* loy_query_benefits; `may_read_member` false always copies the member,
 * the general path the reading one is tested against. */
static int query_benefits(const loy_policy *policy, const loy_member *member, const char *at,
                          const char *channel, const char *store, loy_result *result,
                          bool may_read_member)
{
    if (!policy || !member || !result)
        return LOY_E_INVALID_ARG;
    loy_result_begin(result);
    if (member->policy != policy || result->policy != policy)
        return loy_result_set_code(result, LOY_E_INVALID_ARG,
                                   "the member and the result must be made under this policy");
    if (!member->initialised)
        return loy_result_set_code(result, LOY_E_INVALID_ARG,
                                   "the member has no id: make it with loy_member_new or load it");

    loy_ctx c;
    ctx_clear(&c);
    c.p = policy;
    c.r = result;
    c.is_query = true;
    c.channel = channel;
    c.store = store;
    if (result->options & LOY_RESULT_TRACE)
        result->trace = c.trace = rn_list(result);
    size_t at_len = at ? strlen(at) : 0;
    if (!at || !loy_parse_instant_inline(at, at_len, &c.at)) {
        loy_refuse(&c, LOY_E_INVALID_QUERY, "'at' must be an RFC 3339 instant with an offset");
        int code = answer_error(&c, "query", rn_str(result, "benefits"));
        return result->nomem ? answer_nomem(result, "query", "benefits", 8) : code;
    }
    c.day = c.at.date;

    /* A query before the last event sees the state as it stands. */
    bool housekeeping = !(member->has_last_event && c.at.utc_us < member->last_event.utc_us);
    int64_t sums[2];
    bool copy = !may_read_member || (housekeeping && !idle_totals(policy, member, c.day, &sums[0], &sums[1]));
    if (copy) {
        if (!scratch_ready(result, policy) || !loy_member_borrow(result->scratch, member))
            return answer_nomem(result, "query", "benefits", 8);
        c.m = result->scratch;
    } else {
        /* Nothing on the way from here writes to c->m: the benefits,
         * their conditions and the summary only read it. */
        c.m = (loy_member *)(uintptr_t)member;
    }
    int code = query_on(&c, copy && housekeeping, at, at_len, !copy && housekeeping ? sums : NULL);
    if (copy)
        loy_member_unborrow(c.m);
    return code;
}

int loy_query_benefits(const loy_policy *policy, const loy_member *member, const char *at,
                       const char *channel, const char *store, loy_result *result)
{
    return query_benefits(policy, member, at, channel, store, result, true);
}

int loy_query_benefits_copied(const loy_policy *policy, const loy_member *member, const char *at,
                              const char *channel, const char *store, loy_result *result)
{
    return query_benefits(policy, member, at, channel, store, result, false);
}
