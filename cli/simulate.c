/*
 * `loyalty simulate POLICY HISTORY.jsonl [--compare OTHER_POLICY] [--json] [--jobs N]`
 * (POLICY.md §12): replays many members' histories and reports what the
 * program does with them — members per tier and stage, points issued,
 * returned, redeemed, expired and outstanding (the liability, also in
 * money at the redemption rate), gifts by kind and tier, and the share of
 * members each benefit is open to at the end. With --compare the same
 * history runs under both policies and the report shows them side by side.
 *
 * HISTORY is JSON lines (docs/wire.md): a member line {"member": {...}}
 * starts a member; the event and query lines after it, up to the next
 * member line, are that member's. A member's lines must be contiguous; an
 * event may carry "member_id", which must then name the current member (a
 * check that the history is grouped). The file is streamed and one member
 * is held at a time, so memory does not grow with the history.
 *
 * A member line a policy refuses is counted, with its events skipped, under
 * that policy; a line that is not JSON stops the run (exit 2, no report).
 *
 * --jobs N replays members on N threads (feed_jobs); the report and the
 * error of a bad line are the same bytes whatever N is.
 */
#include "cli.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire/json.h"
#include "wire/wire.h"

enum { SRC_ORDER, SRC_ACTION, SRC_UPGRADE, SRC_BIRTHDAY, SRC_SURPRISE, SRC_SPEND, SRC_COUNT };
static const char *const source_names[SRC_COUNT] = {"order", "action", "upgrade", "birthday", "surprise", "spend"};

enum { GIFT_UPGRADE, GIFT_BIRTHDAY, GIFT_SURPRISE, GIFT_SPEND, GIFT_COUNT };
static const char *const gift_names[GIFT_COUNT] = {"upgrade", "birthday", "surprise", "spend"};

#define CODE_SLOTS 64   /* refusals by -code; LOY_E_* are small negatives */

/* With --jobs, a worker does not add into its int64 totals: saturation
 * makes the order of the additions matter, so it writes them down, and the
 * reader replays them into the run's totals in the order of the file. */
typedef struct add_entry {
    size_t offset;                  /* of the int64 total in sim_run */
    int64_t v;
} add_entry;

typedef struct add_log {
    add_entry *e;
    size_t n, cap;
    bool nomem;
} add_log;

/* One policy's run over the history and what it counted. */
typedef struct sim_run {
    const char *path;
    loy_policy *p;
    loy_member *m;
    loy_result *r;
    size_t tiers, stages, benefits;
    const char **tier_ids, **stage_ids; /* loy_policy_id of each, kept for tier_index */

    bool member_ok;                 /* the current member line was accepted */
    char *last_at;                  /* the "at" of the member's last accepted event */
    size_t last_cap;
    bool has_last;

    uint64_t members, members_refused, events, events_refused, queries;
    uint64_t refusals[CODE_SLOTS];
    int64_t imported;               /* available points of members as imported */
    int64_t issued[SRC_COUNT];
    int64_t returned, redeemed, expired;
    int64_t available, pending;     /* at the end, summed over members */
    uint64_t *tier_count;           /* [tiers] */
    uint64_t *stage_count;          /* [stages + 1]: the last slot is "no stage" */
    uint64_t *gift_count;           /* [GIFT_COUNT][tiers + 1]: the last column is an unknown tier */
    int64_t gift_credit;            /* reward credit, money */
    uint64_t *benefit_open;         /* [benefits] */
    uint64_t benefits_queried;
    uint64_t upgrades, downgrades;
    uint64_t paid_started, paid_extended, paid_ended;
    int64_t paid_refunds;
    bool overflow;                  /* a total left int64 (saturated) */
    add_log *log;                   /* with --jobs: where a worker's additions go */
    bool shared_policy;             /* a worker's: the policy is the reader's */
} sim_run;

typedef struct sim {
    const char *history;
    bool json;
    sim_run runs[2];
    int run_count;
    uint64_t lines, member_lines;
    char current_id[256];           /* the current member's id, for "member_id" */
    bool have_member;
    loy_arena arena;                /* for the lines the simulator itself reads */
    uint64_t replayed;              /* with --jobs: event and query lines of the batches folded */
    bool progress_after;            /* with --jobs: the last progress line waits for the workers */
    char *error;                    /* a worker's: the message it would have printed */
    bool capture;                   /* keep the message in error instead of printing it */
} sim;

static inline void add(sim_run *s, int64_t *total, int64_t v)
{
    if (s->log) {
        add_log *l = s->log;
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 1024;
            add_entry *grown = realloc(l->e, cap * sizeof *grown);
            if (!grown) {
                l->nomem = true;
                return;
            }
            l->e = grown;
            l->cap = cap;
        }
        l->e[l->n++] = (add_entry){(size_t)((char *)total - (char *)s), v};
        return;
    }
    if (__builtin_add_overflow(*total, v, total)) {
        *total = v > 0 ? INT64_MAX : INT64_MIN;
        s->overflow = true;
    }
}

/* The result's keys and most of its names are the engine's string
 * literals, which the static link merges with the same literals here: the
 * pointer test settles most compares, the first two bytes most of the
 * others ("event" and "effects"), and strcmp remains the answer. */
static inline bool same(const char *a, const char *b)
{
    return a == b || (a[0] == b[0] && (a[0] == '\0' || (a[1] == b[1] && strcmp(a, b) == 0)));
}

static size_t tier_index(const sim_run *s, const char *id)
{
    for (size_t i = 0; id && i < s->tiers; i++)
        if (same(s->tier_ids[i], id))
            return i;
    return s->tiers;
}

static size_t stage_index(const sim_run *s, const char *id)
{
    for (size_t i = 0; id && i < s->stages; i++)
        if (same(s->stage_ids[i], id))
            return i;
    return s->stages;
}

/* The answer is read through its nodes (lib/result.h) rather than the
 * loy_node_* calls: a call for each step of the walk cost about 300
 * instructions an event. Each reader answers as its loy_node_* twin. */
static inline const loy_node *n_first(const loy_node *n)
{
    return n && (n->kind == LOY_NODE_LIST || n->kind == LOY_NODE_MAP) ? n->first : NULL;
}

static inline const loy_node *n_get(const loy_node *n, const char *key)
{
    if (!n || n->kind != LOY_NODE_MAP)
        return NULL;
    for (const loy_node *c = n->first; c; c = c->next)
        if (c->key && same(c->key, key))
            return c;
    return NULL;
}

static inline int64_t n_int(const loy_node *n)
{
    return n && n->kind == LOY_NODE_INT ? n->i : 0;
}

static inline bool n_bool(const loy_node *n)
{
    return n && n->kind == LOY_NODE_BOOL && n->b;
}

/* loy_node_str's text, or "": a borrowed string is already text (its
 * length, which the report does not need, stays for a later reader to
 * measure); a date or a month is formatted on first read. */
static inline const char *node_text(const loy_node *n)
{
    if (!n || (n->kind != LOY_NODE_STRING && n->kind != LOY_NODE_DECIMAL))
        return "";
    if (n->lazy != LOY_LAZY_NONE && n->lazy != LOY_LAZY_LEN)
        rn_finish((loy_node *)n);
    return n->str ? n->str : "";
}

/* ------------------------------------------------------------- one run */

/* A run under the policy at path; with shared, a worker's run under the
 * reader's policy (a policy is immutable and shared by threads). */
static bool run_open(sim_run *s, const char *path, loy_policy *shared)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    s->shared_policy = shared != NULL;
    s->p = shared ? shared : loy_cli_load_policy(path);
    if (!s->p)
        return false;
    s->tiers = loy_policy_count(s->p, LOY_KIND_TIER);
    s->stages = loy_policy_count(s->p, LOY_KIND_STAGE);
    s->benefits = loy_policy_count(s->p, LOY_KIND_BENEFIT);
    s->tier_count = calloc(s->tiers + 1, sizeof *s->tier_count);
    s->stage_count = calloc(s->stages + 1, sizeof *s->stage_count);
    s->gift_count = calloc(GIFT_COUNT * (s->tiers + 1), sizeof *s->gift_count);
    s->benefit_open = calloc(s->benefits + 1, sizeof *s->benefit_open);
    s->tier_ids = calloc(s->tiers + 1, sizeof *s->tier_ids);
    s->stage_ids = calloc(s->stages + 1, sizeof *s->stage_ids);
    if (!s->tier_count || !s->stage_count || !s->gift_count || !s->benefit_open || !s->tier_ids
        || !s->stage_ids || loy_member_create(&s->m, s->p) != LOY_OK || loy_result_new(&s->r, s->p) != LOY_OK) {
        fputs("loyalty simulate: out of memory\n", stderr);
        return false;
    }
    for (size_t i = 0; i < s->tiers; i++)
        s->tier_ids[i] = loy_policy_id(s->p, LOY_KIND_TIER, i);
    for (size_t i = 0; i < s->stages; i++)
        s->stage_ids[i] = loy_policy_id(s->p, LOY_KIND_STAGE, i);
    return true;
}

static void run_close(sim_run *s)
{
    loy_result_free(s->r);
    loy_member_free(s->m);
    if (!s->shared_policy)
        loy_policy_free(s->p);
    free(s->tier_count);
    free(s->stage_count);
    free(s->gift_count);
    free(s->benefit_open);
    free(s->tier_ids);
    free(s->stage_ids);
    free(s->last_at);
}

/* The member's end: where it stands, and the benefits open to it at its
 * last event's instant (a member without an accepted event is not asked). */
static void finish_member(sim_run *s)
{
    if (!s->member_ok)
        return;
    s->member_ok = false;
    s->tier_count[tier_index(s, loy_member_tier(s->m))]++;
    s->stage_count[stage_index(s, loy_member_stage(s->m))]++;
    add(s, &s->available, loy_member_points_available(s->m));
    add(s, &s->pending, loy_member_points_pending(s->m));
    if (!s->has_last)
        return;
    s->has_last = false;
    if (loy_query_benefits(s->p, s->m, s->last_at, NULL, NULL, s->r) != LOY_OK)
        return;
    s->benefits_queried++;
    const loy_node *list = n_get(s->r->root, "benefits");
    size_t i = 0;
    for (const loy_node *b = n_first(list); b && i < s->benefits; b = b->next, i++)
        if (n_bool(n_get(b, "open")))
            s->benefit_open[i]++;
}

/* The member line, already parsed by feed_line to know it is one:
 * loy_member_init_json of the same bytes. */
static void start_member(sim_run *s, const loy_json *root)
{
    int rc = loy_wire_member_init_parsed(s->m, root, s->r);
    s->has_last = false;
    if (rc != LOY_OK) {
        s->members_refused++;
        s->member_ok = false;
        return;
    }
    s->members++;
    s->member_ok = true;
    add(s, &s->imported, loy_member_points_available(s->m));
}

/* The effects the report counts, by their "type". */
enum { T_OTHER, T_POINTS, T_GIFT, T_TIER_CHANGED, T_PAID_STARTED, T_PAID_ENDED };

/* Effects the report skips, as the engine names them: being the same
 * literals, their pointers settle the most common skips without a compare
 * ("points_released" would otherwise be compared with "points"). */
static const char *const skipped_types[] = {"points_released", "stage_changed"};

static inline int type_code(const char *type)
{
    if (type == skipped_types[0] || type == skipped_types[1])
        return T_OTHER;
    switch (type[0]) {
    case 'p':
        return same(type, "points") ? T_POINTS
             : same(type, "paid_started") ? T_PAID_STARTED
             : same(type, "paid_ended") ? T_PAID_ENDED : T_OTHER;
    case 'g':
        return same(type, "gift") ? T_GIFT : T_OTHER;
    case 't':
        return same(type, "tier_changed") ? T_TIER_CHANGED : T_OTHER;
    default:
        return T_OTHER;
    }
}

/* The one of source_names[] that source may be (its first two letters
 * match), or -1. */
static int source_index(const char *source)
{
    switch (source[0]) {
    case 'o':
        return source[1] == 'r' ? SRC_ORDER : -1;
    case 'a':
        return source[1] == 'c' ? SRC_ACTION : -1;
    case 'u':
        return source[1] == 'p' ? SRC_UPGRADE : -1;
    case 'b':
        return source[1] == 'i' ? SRC_BIRTHDAY : -1;
    case 's':
        return source[1] == 'u' ? SRC_SURPRISE : source[1] == 'p' ? SRC_SPEND : -1;
    default:
        return -1;
    }
}

/* The fields of one effect that the report reads, in one pass over it. */
typedef struct effect {
    const char *type, *source, *gift, *tier, *from, *to;
    const loy_node *delta, *reward, *refund;
    bool extended;
} effect;

static void read_effect(const loy_node *e, effect *f, bool points)
{
    memset(f, 0, sizeof *f);
    for (const loy_node *c = n_first(e); c; c = c->next) {
        /* A points effect is counted by its delta and source alone. */
        if (points && f->delta && f->source)
            break;
        const char *k = c->key;
        switch (k[0]) {
        case 't':
            if (same(k, "type"))
                f->type = node_text(c);
            else if (same(k, "tier"))
                f->tier = node_text(c);
            else if (same(k, "to"))
                f->to = node_text(c);
            break;
        case 'd':
            if (same(k, "delta"))
                f->delta = c;
            break;
        case 's':
            if (same(k, "source"))
                f->source = node_text(c);
            break;
        case 'g':
            if (same(k, "gift"))
                f->gift = node_text(c);
            break;
        case 'f':
            if (same(k, "from"))
                f->from = node_text(c);
            break;
        case 'r':
            if (same(k, "reward"))
                f->reward = c;
            else if (same(k, "refund"))
                f->refund = c;
            break;
        case 'e':
            if (same(k, "extended"))
                f->extended = n_bool(c);
            break;
        default:
            break;
        }
    }
}

/* The engine's literals for a points effect's keys (merged with these). */
static const char *const key_delta = "delta", *const key_source = "source";

static void count_effects(sim_run *s, const loy_node *root)
{
    const loy_node *effects = n_get(root, "effects");
    const char *member_tier = NULL;
    effect f;
    for (const loy_node *e = n_first(effects); e; e = e->next) {
        /* The engine writes "type" first: an effect the report does not
         * count ("points_released", "stage_changed", ...) is not read. */
        const loy_node *first = n_first(e);
        const char *first_type = first && first->key && same(first->key, "type") ? node_text(first) : NULL;
        int first_code = first_type ? type_code(first_type) : T_OTHER;
        if (first_type && first_code == T_OTHER)
            continue;
        /* A points effect as the engine writes it, {"type", "delta",
         * "source", ...}, its keys the engine's literals: what read_effect
         * would note of it, without the walk. */
        const loy_node *second = first_code == T_POINTS ? first->next : NULL;
        if (second && second->key == key_delta && second->next && second->next->key == key_source) {
            memset(&f, 0, sizeof f);
            f.type = first_type;
            f.delta = second;
            f.source = node_text(second->next);
        } else {
            read_effect(e, &f, first_code == T_POINTS);
        }
        if (!f.type)
            continue;
        switch (f.type == first_type ? first_code : type_code(f.type)) {
        case T_POINTS: {
            int64_t delta = n_int(f.delta);
            const char *source = f.source ? f.source : "";
            switch (source[0]) {
            case 'r':
                if (same(source, "return"))
                    add(s, &s->returned, -delta);
                else if (same(source, "redeem"))
                    add(s, &s->redeemed, -delta);
                break;
            case 'e':
                if (same(source, "expiry"))
                    add(s, &s->expired, -delta);
                break;
            default: {
                /* One compare, not one per name: the names differ in
                 * their first two letters. */
                int k = source_index(source);
                if (k >= 0 && same(source, source_names[k]))
                    add(s, &s->issued[k], delta);
                break;
            }
            }
            break;
        }
        case T_GIFT: {
            int k = 0;
            while (k < GIFT_COUNT && (!f.gift || !same(f.gift, gift_names[k])))
                k++;
            if (k == GIFT_COUNT)
                continue;
            /* Upgrade and birthday gifts name their tier; the others go
             * with the tier the member has after the event. */
            const char *tier = f.tier;
            if (!tier) {
                if (!member_tier)
                    member_tier = node_text(n_get(n_get(root, "member"), "tier"));
                tier = member_tier;
            }
            s->gift_count[(size_t)k * (s->tiers + 1) + tier_index(s, tier)]++;
            const loy_node *credit = n_get(f.reward, "credit");
            if (credit)
                add(s, &s->gift_credit, n_int(credit));
            break;
        }
        case T_TIER_CHANGED:
            if (tier_index(s, f.to) > tier_index(s, f.from))
                s->upgrades++;
            else
                s->downgrades++;
            break;
        case T_PAID_STARTED:
            if (f.extended)
                s->paid_extended++;
            else
                s->paid_started++;
            break;
        case T_PAID_ENDED:
            s->paid_ended++;
            add(s, &s->paid_refunds, n_int(f.refund));
            break;
        default:
            break;
        }
    }
}

/* One event or query line of the current member. Returns LOY_E_JSON when
 * the line is not JSON (the caller stops), else LOY_OK. */
static int tally(sim_run *s, int rc);

static int apply_line(sim_run *s, const char *line, size_t len)
{
    if (!s->member_ok)
        return LOY_OK;
    int rc = loy_apply_json_line(s->p, s->m, line, len, s->r);
    if (rc == LOY_E_JSON)
        return rc;
    return tally(s, rc);
}

/* What the answer to a line applied to the current member counts for. */
static int tally(sim_run *s, int rc)
{
    /* Only a query's answer has "query" at its root: after an event line
     * the lookup is skipped. */
    if (loy_wire_was_query(s->r) && n_get(s->r->root, "query")) {
        s->queries++;
        return LOY_OK;
    }
    s->events++;
    if (rc != LOY_OK) {
        s->events_refused++;
        if (rc < 0 && -rc < CODE_SLOTS)
            s->refusals[-rc]++;
        return LOY_OK;
    }
    count_effects(s, s->r->root);
    /* The instant the event was applied at, kept for the member's final
     * benefits query (the line itself need not be read again). */
    size_t at_len;
    const char *at = loy_wire_event_at(s->r, &at_len);
    if (at_len + 1 > s->last_cap) {
        char *grown = realloc(s->last_at, at_len + 1);
        if (!grown)
            return LOY_E_NOMEM;
        s->last_at = grown;
        s->last_cap = at_len + 1;
    }
    memcpy(s->last_at, at ? at : "", at_len + 1);
    s->has_last = at != NULL;
    return LOY_OK;
}

/* ------------------------------------------------------------ the input */

/* A message that stops the run: printed, or kept for the reader when a
 * worker meets it (only the first bad line of the file is reported). */
static void fail(sim *sm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(sim *sm, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!sm->capture) {
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        return;
    }
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    free(sm->error);
    sm->error = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (sm->error)
        vsnprintf(sm->error, (size_t)n + 1, fmt, again);
    va_end(again);
}

static int input_error(sim *sm, uint64_t line, const char *what)
{
    fail(sm, "%s:%llu: %s\n", sm->history, (unsigned long long)line, what);
    return 2;
}

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

static bool contains(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    const char *p = s, *end = s + len;
    while ((size_t)(end - p) >= n) {
        const char *hit = memchr(p, word[0], (size_t)(end - p) - n + 1);
        if (!hit)
            return false;
        if (memcmp(hit, word, n) == 0)
            return true;
        p = hit + 1;
    }
    return false;
}

/* One line of the history. Returns 0, or 2 to stop. */
static int feed_line(sim *sm, const char *line, size_t len)
{
    sm->lines++;
    if (blank(line, len))
        return 0;
    /* The common line first: an event line the wire's fast path takes and
     * that has neither a "member" nor a "member_id" key, so the checks
     * below could not find anything in it. It is applied to the first run
     * straight away; the other run reads it as usual. */
    sim_run *first = &sm->runs[0];
    if (sm->have_member && first->member_ok) {
        bool handled;
        int rc = loy_wire_try_event_line(first->p, first->m, line, len, first->r, &handled);
        if (handled) {
            rc = tally(first, rc);
            for (int i = 1; rc == LOY_OK && i < sm->run_count; i++)
                rc = apply_line(&sm->runs[i], line, len);
            if (rc == LOY_E_NOMEM) {
                fail(sm, "loyalty simulate: out of memory\n");
                return 2;
            }
            return 0;
        }
    }
    /* Only a line that mentions "member" (or escapes a key) can be a member
     * line or carry member_id: the others go to the wire unparsed, so each
     * event line is read once. */
    bool is_member = false;
    const loy_json *root = NULL;
    if (contains(line, len, "member") || contains(line, len, "\\u")) {
        loy_arena_reset(&sm->arena);
        loy_json_error err;
        root = loy_json_parse(&sm->arena, line, len, 1, &err);
        if (!root) {
            fail(sm, "%s:%llu:%u: %s\n", sm->history, (unsigned long long)sm->lines, err.column, err.message);
            return 2;
        }
        is_member = root->type == LOY_JSON_OBJECT && loy_json_get(root, "member")
                    && !loy_json_get(root, "type") && !loy_json_get(root, "query");
        if (is_member) {
            const loy_json *m = loy_json_get(root, "member");
            const loy_json *id = loy_json_get(m, "id");
            /* snprintf "%s", without its cost: up to the first NUL, cut to fit. */
            const char *text = id && id->type == LOY_JSON_STRING ? id->str : "";
            size_t n = strnlen(text, sizeof sm->current_id - 1);
            memcpy(sm->current_id, text, n);
            sm->current_id[n] = '\0';
        } else {
            const loy_json *mid = loy_json_get(root, "member_id");
            if (mid && (mid->type != LOY_JSON_STRING || strcmp(mid->str, sm->current_id) != 0)) {
                fail(sm,
                     "%s:%llu: 'member_id' is not the current member's ('%s'): the history must be "
                     "grouped by member, each member line followed by its events\n",
                     sm->history, (unsigned long long)sm->lines, sm->current_id);
                return 2;
            }
        }
    }
    if (is_member) {
        sm->member_lines++;
        sm->have_member = true;
        for (int i = 0; i < sm->run_count; i++) {
            finish_member(&sm->runs[i]);
            start_member(&sm->runs[i], root);
        }
        return 0;
    }
    if (!sm->have_member)
        return input_error(sm, sm->lines, "an event before the first member line {\"member\": {...}}");
    for (int i = 0; i < sm->run_count; i++) {
        int rc = apply_line(&sm->runs[i], line, len);
        if (rc == LOY_E_JSON) {
            loy_arena_reset(&sm->arena);
            loy_json_error err;
            loy_json_parse(&sm->arena, line, len, 1, &err);
            fail(sm, "%s:%llu:%u: %s\n", sm->history, (unsigned long long)sm->lines, err.column, err.message);
            return 2;
        }
        if (rc == LOY_E_NOMEM) {
            fail(sm, "loyalty simulate: out of memory\n");
            return 2;
        }
    }
    return 0;
}

static void progress(const sim *sm, bool done)
{
    const sim_run *s = &sm->runs[0];
    fprintf(stderr, "\rloyalty simulate: %llu lines, %llu members, %llu events%s",
            (unsigned long long)sm->lines, (unsigned long long)sm->member_lines,
            (unsigned long long)(s->events + s->queries + sm->replayed), done ? "\n" : "");
}

typedef int line_fn(void *ctx, const char *line, size_t len);

static int serial_line(void *ctx, const char *line, size_t len)
{
    return feed_line(ctx, line, len);
}

/* Stream the file in large blocks, handing each line to fn; only the
 * current line is held. */
static int feed_file(sim *sm, FILE *f, line_fn *fn, void *ctx)
{
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return 2;
    bool tty = isatty(STDERR_FILENO);
    uint64_t next_progress = 1000000;
    int status = 0;
    bool first_block = true;
    for (;;) {
        if (len == cap) {
            char *grown = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                fail(sm, "loyalty simulate: out of memory (a line is too long)\n");
                status = 2;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        if (got == 0 && ferror(f)) {
            fail(sm, "loyalty simulate: %s: %s\n", sm->history, strerror(errno));
            status = 2;
            break;
        }
        size_t start = 0;
        if (first_block && len + got >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
            start = 3;
        first_block = false;
        len += got;
        bool eof = got == 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', len - start);
            if (!nl) {
                if (eof && start < len) {
                    status = fn(ctx, buf + start, len - start);
                    start = len;
                }
                break;
            }
            status = fn(ctx, buf + start, (size_t)(nl - (buf + start)));
            start = (size_t)(nl - buf) + 1;
            if (status)
                break;
        }
        if (status)
            break;
        memmove(buf, buf + start, len - start);
        len -= start;
        if (tty && sm->lines >= next_progress) {
            progress(sm, false);
            next_progress = sm->lines + 1000000;
        }
        if (eof)
            break;
    }
    free(buf);
    if (tty && !sm->progress_after)
        progress(sm, true);
    return status;
}

/* ------------------------------------------------------------- --jobs */

/* With --jobs N the reader (this thread) cuts the history into batches of
 * whole lines, each starting at a member line, and N workers replay them,
 * each with its own member and result handles and its own totals under
 * the shared policies. A member whose lines outgrow BATCH_HARD goes on in
 * the next batch, which the same worker takes. Batches live in a ring of
 * slots, so memory stays bounded; the reader reuses a slot only after
 * folding in that batch's additions, so they are replayed in the order of
 * the file and saturate exactly as one thread would. */

enum { BATCH_TARGET = 64 << 10, BATCH_HARD = 1 << 20, SLOTS_PER_JOB = 4 };

typedef struct batch {
    char *text;                     /* whole lines, each ending in '\n' */
    size_t len, cap;
    uint64_t first_line;            /* the number of the line before its first */
    bool continues;                 /* its last member goes on in the next batch */
    bool done, failed, skipped;
    uint64_t replayed;              /* the first run's event and query lines */
    add_log log[2];                 /* each run's additions, in the order of the lines */
    char *error;                    /* the message of its first bad line (NULL: out of memory) */
} batch;

typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t ready, done;
    batch *slot;
    size_t slots;
    uint64_t filled;                /* batches handed out */
    uint64_t next;                  /* the next batch a worker takes */
    bool held;                      /* the next batch goes on a member a worker has begun */
    bool end;                       /* no more batches */
    bool failed;                    /* a batch met a bad line: no later one matters */
} pool;

typedef struct worker {
    pool *pool;
    sim sm;
    pthread_t thread;
} worker;

typedef struct reader {
    sim *sm;
    pool *pool;
    batch *cur;
    uint64_t merged;                /* batches folded into the reader's totals */
    bool failed;                    /* a folded batch met a bad line */
    char *error;                    /* its message */
} reader;

/* A worker's batch: the lines as one thread would feed them. */
static void run_batch(sim *sm, batch *b)
{
    for (int i = 0; i < sm->run_count; i++) {
        b->log[i].n = 0;
        b->log[i].nomem = false;
        sm->runs[i].log = &b->log[i];
    }
    free(b->error);
    b->error = NULL;
    sm->lines = b->first_line;
    uint64_t before = sm->runs[0].events + sm->runs[0].queries;
    int status = 0;
    const char *p = b->text, *end = b->text + b->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        status = feed_line(sm, p, (size_t)(nl - p));
        if (status)
            break;
        p = nl + 1;
    }
    /* The next batch starts with a member line, or there is none. */
    if (!status && !b->continues)
        for (int i = 0; i < sm->run_count; i++)
            finish_member(&sm->runs[i]);
    for (int i = 0; !status && i < sm->run_count; i++)
        if (b->log[i].nomem) {
            fail(sm, "loyalty simulate: out of memory\n");
            status = 2;
        }
    b->replayed = sm->runs[0].events + sm->runs[0].queries - before;
    b->failed = status != 0;
    b->error = sm->error;
    sm->error = NULL;
}

static void *work(void *arg)
{
    worker *w = arg;
    pool *pl = w->pool;
    bool mine = false;              /* this worker holds the next batch */
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        while (!(pl->next < pl->filled && (!pl->held || mine)) && !(pl->next >= pl->filled && pl->end))
            pthread_cond_wait(&pl->ready, &pl->mu);
        if (pl->next >= pl->filled)
            break;
        batch *b = &pl->slot[pl->next++ % pl->slots];
        bool was_held = pl->held;
        mine = pl->held = b->continues;
        if (was_held && !mine)
            pthread_cond_broadcast(&pl->ready);
        /* Batches are taken in order: a failure seen now is in an earlier
         * batch, and the report stops there. */
        b->skipped = pl->failed;
        pthread_mutex_unlock(&pl->mu);
        if (!b->skipped)
            run_batch(&w->sm, b);
        pthread_mutex_lock(&pl->mu);
        b->done = true;
        if (b->failed && !b->skipped)
            pl->failed = true;
        pthread_cond_broadcast(&pl->done);
    }
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

/* Fold a finished batch into the reader's totals, in the order of the file. */
static void fold(reader *rd, batch *b)
{
    rd->merged++;
    if (rd->failed)
        return;
    if (b->skipped || b->failed) {
        rd->failed = true;
        rd->error = b->error;
        b->error = NULL;
        return;
    }
    rd->sm->replayed += b->replayed;
    for (int r = 0; r < rd->sm->run_count; r++) {
        sim_run *s = &rd->sm->runs[r];
        const add_log *l = &b->log[r];
        for (size_t i = 0; i < l->n; i++)
            add(s, (int64_t *)(void *)((char *)s + l->e[i].offset), l->e[i].v);
    }
}

/* Hand the current batch to the workers and take the next slot (folding
 * the batch it held). False when a worker has met a bad line. */
static bool hand_out(reader *rd)
{
    pool *pl = rd->pool;
    pthread_mutex_lock(&pl->mu);
    pl->filled++;
    pthread_cond_broadcast(&pl->ready);
    batch *b = &pl->slot[pl->filled % pl->slots];
    bool reuse = pl->filled >= pl->slots;
    while (reuse && !b->done)
        pthread_cond_wait(&pl->done, &pl->mu);
    bool failed = pl->failed;
    pthread_mutex_unlock(&pl->mu);
    if (reuse)
        fold(rd, b);
    b->len = 0;
    b->done = b->failed = b->skipped = b->continues = false;
    free(b->error);
    b->error = NULL;
    rd->cur = b;
    return !failed && !rd->failed;
}

/* A line the single-thread run takes for a member line: the same test on
 * the same parse (feed_line parses every line that could be one). */
static bool member_line(sim *sm, const char *line, size_t len)
{
    bool maybe = memchr(line, '\\', len) != NULL;
    for (const char *p = line, *end = line + len; !maybe && p < end;) {
        const char *m = memchr(p, 'm', (size_t)(end - p));
        if (!m)
            break;
        maybe = m > line && m[-1] == '"' && (size_t)(end - m) >= 7 && memcmp(m, "member\"", 7) == 0;
        p = m + 1;
    }
    if (!maybe)
        return false;
    loy_arena_reset(&sm->arena);
    loy_json_error err;
    const loy_json *root = loy_json_parse(&sm->arena, line, len, 1, &err);
    return root && root->type == LOY_JSON_OBJECT && loy_json_get(root, "member") && !loy_json_get(root, "type")
           && !loy_json_get(root, "query");
}

static int dispatch_line(void *ctx, const char *line, size_t len)
{
    reader *rd = ctx;
    sim *sm = rd->sm;
    sm->lines++;
    bool member = !blank(line, len) && member_line(sm, line, len);
    if (member)
        sm->member_lines++;
    batch *b = rd->cur;
    if (member ? b->len >= BATCH_TARGET : b->len >= BATCH_HARD) {
        b->continues = !member;
        if (!hand_out(rd))
            return 2;
        b = rd->cur;
        b->first_line = sm->lines - 1;
    }
    if (b->cap - b->len < len + 1) {
        size_t cap = b->cap ? b->cap : BATCH_TARGET * 2;
        while (cap - b->len < len + 1 && cap <= SIZE_MAX / 2)
            cap *= 2;
        char *grown = cap - b->len >= len + 1 ? realloc(b->text, cap) : NULL;
        if (!grown) {
            fail(sm, "loyalty simulate: out of memory (a line is too long)\n");
            return 2;
        }
        b->text = grown;
        b->cap = cap;
    }
    memcpy(b->text + b->len, line, len);
    b->text[b->len + len] = '\n';
    b->len += len + 1;
    return 0;
}

static void sum_run(sim_run *t, const sim_run *w)
{
    t->members += w->members;
    t->members_refused += w->members_refused;
    t->events += w->events;
    t->events_refused += w->events_refused;
    t->queries += w->queries;
    for (int c = 0; c < CODE_SLOTS; c++)
        t->refusals[c] += w->refusals[c];
    for (size_t i = 0; i <= t->tiers; i++)
        t->tier_count[i] += w->tier_count[i];
    for (size_t i = 0; i <= t->stages; i++)
        t->stage_count[i] += w->stage_count[i];
    for (size_t i = 0; i < GIFT_COUNT * (t->tiers + 1); i++)
        t->gift_count[i] += w->gift_count[i];
    for (size_t i = 0; i <= t->benefits; i++)
        t->benefit_open[i] += w->benefit_open[i];
    t->benefits_queried += w->benefits_queried;
    t->upgrades += w->upgrades;
    t->downgrades += w->downgrades;
    t->paid_started += w->paid_started;
    t->paid_extended += w->paid_extended;
    t->paid_ended += w->paid_ended;
}

/* feed_file with `jobs` workers; the totals end in sm->runs as if one
 * thread had fed every line (finish_member included). */
static int feed_jobs(sim *sm, FILE *f, int jobs)
{
    pool pl;
    memset(&pl, 0, sizeof pl);
    reader rd = {.sm = sm, .pool = &pl};
    worker *w = calloc((size_t)jobs, sizeof *w);
    pl.slots = (size_t)jobs * SLOTS_PER_JOB;
    pl.slot = calloc(pl.slots, sizeof *pl.slot);
    int started = 0, status = 2;
    if (!w || !pl.slot) {
        fputs("loyalty simulate: out of memory\n", stderr);
        free(w);
        free(pl.slot);
        return 2;
    }
    pthread_mutex_init(&pl.mu, NULL);
    pthread_cond_init(&pl.ready, NULL);
    pthread_cond_init(&pl.done, NULL);
    for (int i = 0; i < jobs; i++) {
        sim *ws = &w[i].sm;
        w[i].pool = &pl;
        ws->history = sm->history;
        ws->run_count = sm->run_count;
        ws->capture = true;
        loy_arena_init(&ws->arena, &loy_default_alloc);
    }
    bool ok = true;
    for (int i = 0; ok && i < jobs; i++) {
        sim *ws = &w[i].sm;
        for (int r = 0; ok && r < sm->run_count; r++)
            ok = run_open(&ws->runs[r], sm->runs[r].path, sm->runs[r].p);
    }
    for (int i = 0; ok && i < jobs; i++)
        if (pthread_create(&w[i].thread, NULL, work, &w[i]) == 0)
            started++;
    if (ok && started == 0) {
        fputs("loyalty simulate: cannot start a thread\n", stderr);
        ok = false;
    }
    if (ok) {
        rd.cur = &pl.slot[0];
        /* The reader's own failures (reading, memory) come after every
         * line it handed out: they are kept until those are replayed. */
        sm->capture = true;
        sm->progress_after = true;
        int read_status = feed_file(sm, f, dispatch_line, &rd);
        sm->capture = false;
        pthread_mutex_lock(&pl.mu);
        if (!rd.failed && rd.cur->len)
            pl.filled++;
        pl.end = true;
        pthread_cond_broadcast(&pl.ready);
        while (rd.merged < pl.filled && !rd.failed) {
            batch *b = &pl.slot[rd.merged % pl.slots];
            while (!b->done)
                pthread_cond_wait(&pl.done, &pl.mu);
            pthread_mutex_unlock(&pl.mu);
            fold(&rd, b);
            pthread_mutex_lock(&pl.mu);
        }
        pthread_mutex_unlock(&pl.mu);
        if (rd.failed) {
            fputs(rd.error ? rd.error : "loyalty simulate: out of memory\n", stderr);
        } else if (read_status) {
            if (sm->error)
                fputs(sm->error, stderr);
        } else {
            status = 0;
        }
        /* On a terminal, after the message as with one thread. */
        if (isatty(STDERR_FILENO))
            progress(sm, true);
    }
    /* Stop the workers (after a failure, batches may be left untaken). */
    pthread_mutex_lock(&pl.mu);
    pl.end = true;
    pl.next = pl.filled;
    pl.held = false;
    pthread_cond_broadcast(&pl.ready);
    pthread_mutex_unlock(&pl.mu);
    for (int i = 0; i < started; i++)
        pthread_join(w[i].thread, NULL);
    sm->replayed = 0;
    for (int i = 0; i < jobs; i++) {
        for (int r = 0; r < sm->run_count; r++) {
            if (status == 0)
                sum_run(&sm->runs[r], &w[i].sm.runs[r]);
            run_close(&w[i].sm.runs[r]);
        }
        free(w[i].sm.error);
        loy_arena_release(&w[i].sm.arena);
    }
    for (size_t i = 0; i < pl.slots; i++) {
        free(pl.slot[i].text);
        free(pl.slot[i].error);
        for (int r = 0; r < 2; r++)
            free(pl.slot[i].log[r].e);
    }
    free(rd.error);
    free(sm->error);
    sm->error = NULL;
    free(pl.slot);
    free(w);
    pthread_cond_destroy(&pl.ready);
    pthread_cond_destroy(&pl.done);
    pthread_mutex_destroy(&pl.mu);
    return status;
}

/* ----------------------------------------------------------- the report */

static void print_row(const sim *sm, const char *label, const bool has[2], const int64_t v[2])
{
    printf("%-34s", label);
    for (int i = 0; i < sm->run_count; i++) {
        if (has[i])
            printf(" %16lld", (long long)v[i]);
        else
            printf(" %16s", "-");
    }
    if (sm->run_count == 2) {
        if (has[0] && has[1]) {
            int64_t d;
            if (__builtin_sub_overflow(v[1], v[0], &d))
                printf(" %16s", "overflow");
            else if (d)
                printf(" %+16lld", (long long)d);
            else
                printf(" %16s", "0");
        } else {
            printf(" %16s", "");
        }
    }
    putchar('\n');
}

static void row_both(const sim *sm, const char *label, int64_t a, int64_t b)
{
    bool has[2] = {true, true};
    int64_t v[2] = {a, b};
    print_row(sm, label, has, v);
}

#define ROW(label, field) row_both(sm, label, (int64_t)sm->runs[0].field, \
                                   sm->run_count > 1 ? (int64_t)sm->runs[1].field : 0)

static int64_t total_issued(const sim_run *s)
{
    int64_t t = 0;
    for (int k = 0; k < SRC_COUNT; k++)
        if (__builtin_add_overflow(t, s->issued[k], &t))
            return INT64_MAX;
    return t;
}

static int64_t outstanding(const sim_run *s)
{
    int64_t t;
    if (__builtin_add_overflow(s->available, s->pending, &t))
        return INT64_MAX;
    return t;
}

/* Points at the redemption rate, in minor units (floor); false without redeem. */
static bool liability_money(const sim_run *s, int64_t *out)
{
    int64_t points, amount;
    if (loy_policy_redeem_rate(s->p, &points, &amount) != LOY_OK || points <= 0)
        return false;
    __int128 v = (__int128)outstanding(s) * amount;
    __int128 q = v / points;
    if (v % points != 0 && v < 0)
        q--;
    *out = q > INT64_MAX ? INT64_MAX : q < INT64_MIN ? INT64_MIN : (int64_t)q;
    return true;
}

/* "42.1%" of n/d, rounded half up, integer arithmetic only. */
static void share_text(uint64_t n, uint64_t d, char *out, size_t size)
{
    if (d == 0) {
        snprintf(out, size, "-");
        return;
    }
    unsigned long long tenths = (unsigned long long)((n * 2000u / d + 1u) / 2u);
    snprintf(out, size, "%llu.%llu%%", tenths / 10u, tenths % 10u);
}

/* Labels of the union of both runs' ids of a kind, in the first run's
 * order then the second's extra ones; index in each run or SIZE_MAX. */
typedef struct id_union {
    const char *id[512];
    size_t at[2][512];
    size_t n;
} id_union;

static void build_union(const sim *sm, loy_kind kind, id_union *u)
{
    u->n = 0;
    for (int r = 0; r < sm->run_count; r++) {
        const sim_run *s = &sm->runs[r];
        size_t count = loy_policy_count(s->p, kind);
        for (size_t i = 0; i < count; i++) {
            const char *id = loy_policy_id(s->p, kind, i);
            size_t j = 0;
            while (j < u->n && strcmp(u->id[j], id) != 0)
                j++;
            if (j == u->n) {
                if (u->n == 512)
                    continue;
                u->id[u->n] = id;
                u->at[0][u->n] = u->at[1][u->n] = SIZE_MAX;
                u->n++;
            }
            u->at[r][j] = i;
        }
    }
}

/* A row per tier or stage id of either run: its members at the end. */
static void print_members_per(const sim *sm, loy_kind kind)
{
    id_union u;
    build_union(sm, kind, &u);
    for (size_t j = 0; j < u.n; j++) {
        bool has[2];
        int64_t v[2];
        for (int r = 0; r < 2; r++) {
            has[r] = r < sm->run_count && u.at[r][j] != SIZE_MAX;
            const sim_run *s = &sm->runs[r];
            v[r] = has[r] ? (int64_t)(kind == LOY_KIND_TIER ? s->tier_count : s->stage_count)[u.at[r][j]] : 0;
        }
        char label[96];
        snprintf(label, sizeof label, "  %s", u.id[j]);
        print_row(sm, label, has, v);
    }
}

static void print_table(const sim *sm)
{
    const sim_run *a = &sm->runs[0];
    printf("loyalty simulate: %s, %llu lines, %llu member lines\n\n", sm->history,
           (unsigned long long)sm->lines, (unsigned long long)sm->member_lines);
    printf("%-34s", "");
    for (int i = 0; i < sm->run_count; i++) {
        const char *name = strrchr(sm->runs[i].path, '/');
        printf(" %16.16s", name ? name + 1 : sm->runs[i].path);
    }
    if (sm->run_count == 2)
        printf(" %16s", "difference");
    putchar('\n');

    ROW("members", members);
    ROW("  refused", members_refused);
    ROW("events", events);
    ROW("  refused", events_refused);
    ROW("queries", queries);

    printf("\nmembers per tier at the end\n");
    print_members_per(sm, LOY_KIND_TIER);

    printf("\nmembers per stage at the end\n");
    print_members_per(sm, LOY_KIND_STAGE);
    row_both(sm, "  (no stage)", (int64_t)a->stage_count[a->stages],
             sm->run_count > 1 ? (int64_t)sm->runs[1].stage_count[sm->runs[1].stages] : 0);

    printf("\npoints\n");
    ROW("  imported", imported);
    row_both(sm, "  issued", total_issued(a), sm->run_count > 1 ? total_issued(&sm->runs[1]) : 0);
    for (int k = 0; k < SRC_COUNT; k++) {
        char label[96];
        snprintf(label, sizeof label, "    %s", source_names[k]);
        row_both(sm, label, a->issued[k], sm->run_count > 1 ? sm->runs[1].issued[k] : 0);
    }
    ROW("  taken back by returns", returned);
    ROW("  redeemed", redeemed);
    ROW("  expired", expired);
    row_both(sm, "  outstanding (liability)", outstanding(a), sm->run_count > 1 ? outstanding(&sm->runs[1]) : 0);
    ROW("    available", available);
    ROW("    pending", pending);
    {
        bool has[2] = {false, false};
        int64_t v[2] = {0, 0};
        for (int r = 0; r < sm->run_count; r++)
            has[r] = liability_money(&sm->runs[r], &v[r]);
        print_row(sm, "  liability in money (minor units)", has, v);
    }

    printf("\ngifts by kind and tier\n");
    id_union u;
    build_union(sm, LOY_KIND_TIER, &u);
    for (int k = 0; k < GIFT_COUNT; k++) {
        for (size_t j = 0; j <= u.n; j++) {
            bool has[2] = {false, false};
            int64_t v[2] = {0, 0};
            bool any = false;
            for (int r = 0; r < sm->run_count; r++) {
                const sim_run *s = &sm->runs[r];
                size_t col = j < u.n ? u.at[r][j] : s->tiers;
                if (col == SIZE_MAX)
                    continue;
                has[r] = true;
                v[r] = (int64_t)s->gift_count[(size_t)k * (s->tiers + 1) + col];
                any = any || v[r];
            }
            if (!any)
                continue;
            char label[96];
            snprintf(label, sizeof label, "  %s, %s", gift_names[k], j < u.n ? u.id[j] : "(other tier)");
            print_row(sm, label, has, v);
        }
    }
    ROW("  reward credit (minor units)", gift_credit);

    printf("\ntier changes and paid plans\n");
    ROW("  upgrades", upgrades);
    ROW("  downgrades", downgrades);
    ROW("  plans started", paid_started);
    ROW("  plans extended", paid_extended);
    ROW("  plans ended", paid_ended);
    ROW("  refunds (minor units)", paid_refunds);

    printf("\nbenefits open at each member's last event");
    for (int r = 0; r < sm->run_count; r++)
        printf("%s%llu members asked", r ? ", " : " (", (unsigned long long)sm->runs[r].benefits_queried);
    printf(")\n");
    build_union(sm, LOY_KIND_BENEFIT, &u);
    for (size_t j = 0; j < u.n; j++) {
        printf("  %-32s", u.id[j]);
        for (int r = 0; r < sm->run_count; r++) {
            char text[32] = "-";
            if (u.at[r][j] != SIZE_MAX)
                share_text(sm->runs[r].benefit_open[u.at[r][j]], sm->runs[r].benefits_queried, text, sizeof text);
            printf(" %16s", text);
        }
        putchar('\n');
    }

    bool any_refusal = false;
    for (int r = 0; r < sm->run_count; r++)
        for (int c = 0; c < CODE_SLOTS; c++)
            any_refusal = any_refusal || sm->runs[r].refusals[c];
    if (any_refusal) {
        printf("\nrefused events by code\n");
        for (int c = 0; c < CODE_SLOTS; c++) {
            uint64_t x = sm->runs[0].refusals[c], y = sm->run_count > 1 ? sm->runs[1].refusals[c] : 0;
            if (!x && !y)
                continue;
            char label[96];
            snprintf(label, sizeof label, "  %s", loy_error_name(-c));
            row_both(sm, label, (int64_t)x, (int64_t)y);
        }
    }
    for (int r = 0; r < sm->run_count; r++)
        if (sm->runs[r].overflow)
            printf("\nwarning: a total under %s left int64 and was capped\n", sm->runs[r].path);
}

/* --------------------------------------------------------------- JSON */

static void jkey(loy_buf *b, const char *key)
{
    loy_json_write_string(b, key, strlen(key));
    loy_buf_put(b, ": ", 2);
}

static void jint(loy_buf *b, const char *key, int64_t v)
{
    jkey(b, key);
    loy_buf_int(b, v);
}

static void jstr(loy_buf *b, const char *key, const char *v)
{
    jkey(b, key);
    loy_json_write_string(b, v, strlen(v));
}

/* n/d with four decimals, rounded half up, as a JSON number. */
static void jshare(loy_buf *b, uint64_t n, uint64_t d)
{
    if (d == 0) {
        loy_buf_puts(b, "null");
        return;
    }
    unsigned long long x = (unsigned long long)((n * 20000u / d + 1u) / 2u);
    char text[32];
    snprintf(text, sizeof text, "%llu.%04llu", x / 10000u, x % 10000u);
    loy_buf_puts(b, text);
}

static void json_run(loy_buf *b, const sim *sm, const sim_run *s)
{
    char hex[17];
    loy_policy_fingerprint_hex(s->p, hex);
    loy_buf_putc(b, '{');
    jstr(b, "policy", s->path);
    loy_buf_puts(b, ", ");
    jstr(b, "fingerprint", hex);
    loy_buf_puts(b, ", ");
    jint(b, "members", (int64_t)s->members);
    loy_buf_puts(b, ", ");
    jint(b, "members_refused", (int64_t)s->members_refused);
    loy_buf_puts(b, ", ");
    jint(b, "events", (int64_t)s->events);
    loy_buf_puts(b, ", ");
    jint(b, "events_refused", (int64_t)s->events_refused);
    loy_buf_puts(b, ", ");
    jint(b, "queries", (int64_t)s->queries);

    loy_buf_puts(b, ", ");
    jkey(b, "tiers");
    loy_buf_putc(b, '{');
    for (size_t i = 0; i < s->tiers; i++) {
        if (i)
            loy_buf_puts(b, ", ");
        jint(b, loy_policy_id(s->p, LOY_KIND_TIER, i), (int64_t)s->tier_count[i]);
    }
    loy_buf_puts(b, "}, ");
    jkey(b, "stages");
    loy_buf_putc(b, '{');
    for (size_t i = 0; i < s->stages; i++) {
        if (i)
            loy_buf_puts(b, ", ");
        jint(b, loy_policy_id(s->p, LOY_KIND_STAGE, i), (int64_t)s->stage_count[i]);
    }
    loy_buf_puts(b, "}, ");
    jint(b, "no_stage", (int64_t)s->stage_count[s->stages]);

    loy_buf_puts(b, ", ");
    jkey(b, "points");
    loy_buf_putc(b, '{');
    jint(b, "imported", s->imported);
    loy_buf_puts(b, ", ");
    jint(b, "issued", total_issued(s));
    loy_buf_puts(b, ", ");
    jkey(b, "issued_by_source");
    loy_buf_putc(b, '{');
    for (int k = 0; k < SRC_COUNT; k++) {
        if (k)
            loy_buf_puts(b, ", ");
        jint(b, source_names[k], s->issued[k]);
    }
    loy_buf_puts(b, "}, ");
    jint(b, "returned", s->returned);
    loy_buf_puts(b, ", ");
    jint(b, "redeemed", s->redeemed);
    loy_buf_puts(b, ", ");
    jint(b, "expired", s->expired);
    loy_buf_puts(b, ", ");
    jint(b, "outstanding", outstanding(s));
    loy_buf_puts(b, ", ");
    jint(b, "available", s->available);
    loy_buf_puts(b, ", ");
    jint(b, "pending", s->pending);
    loy_buf_puts(b, "}, ");
    jkey(b, "liability");
    loy_buf_putc(b, '{');
    jint(b, "points", outstanding(s));
    loy_buf_puts(b, ", ");
    int64_t money;
    if (liability_money(s, &money))
        jint(b, "money", money);
    else {
        jkey(b, "money");
        loy_buf_puts(b, "null");
    }
    loy_buf_puts(b, "}, ");

    jkey(b, "gifts");
    loy_buf_putc(b, '{');
    for (int k = 0; k < GIFT_COUNT; k++) {
        if (k)
            loy_buf_puts(b, ", ");
        jkey(b, gift_names[k]);
        loy_buf_putc(b, '{');
        bool first = true;
        for (size_t i = 0; i <= s->tiers; i++) {
            uint64_t n = s->gift_count[(size_t)k * (s->tiers + 1) + i];
            if (i == s->tiers && !n)
                continue;
            if (!first)
                loy_buf_puts(b, ", ");
            first = false;
            jint(b, i < s->tiers ? loy_policy_id(s->p, LOY_KIND_TIER, i) : "(other)", (int64_t)n);
        }
        loy_buf_putc(b, '}');
    }
    loy_buf_puts(b, "}, ");
    jint(b, "gift_credit", s->gift_credit);
    loy_buf_puts(b, ", ");
    jkey(b, "tier_changes");
    loy_buf_putc(b, '{');
    jint(b, "upgrades", (int64_t)s->upgrades);
    loy_buf_puts(b, ", ");
    jint(b, "downgrades", (int64_t)s->downgrades);
    loy_buf_puts(b, "}, ");
    jkey(b, "paid");
    loy_buf_putc(b, '{');
    jint(b, "started", (int64_t)s->paid_started);
    loy_buf_puts(b, ", ");
    jint(b, "extended", (int64_t)s->paid_extended);
    loy_buf_puts(b, ", ");
    jint(b, "ended", (int64_t)s->paid_ended);
    loy_buf_puts(b, ", ");
    jint(b, "refunds", s->paid_refunds);
    loy_buf_puts(b, "}, ");

    jint(b, "benefits_queried", (int64_t)s->benefits_queried);
    loy_buf_puts(b, ", ");
    jkey(b, "benefits");
    loy_buf_putc(b, '{');
    for (size_t i = 0; i < s->benefits; i++) {
        if (i)
            loy_buf_puts(b, ", ");
        jkey(b, loy_policy_id(s->p, LOY_KIND_BENEFIT, i));
        loy_buf_putc(b, '{');
        jint(b, "open", (int64_t)s->benefit_open[i]);
        loy_buf_puts(b, ", ");
        jkey(b, "share");
        jshare(b, s->benefit_open[i], s->benefits_queried);
        loy_buf_putc(b, '}');
    }
    loy_buf_puts(b, "}, ");
    jkey(b, "refusals");
    loy_buf_putc(b, '{');
    bool first = true;
    for (int c = 0; c < CODE_SLOTS; c++) {
        if (!s->refusals[c])
            continue;
        if (!first)
            loy_buf_puts(b, ", ");
        first = false;
        jint(b, loy_error_name(-c), (int64_t)s->refusals[c]);
    }
    loy_buf_puts(b, "}, ");
    jkey(b, "overflow");
    loy_buf_puts(b, s->overflow ? "true" : "false");
    loy_buf_putc(b, '}');
    (void)sm;
}

static int print_json(const sim *sm)
{
    loy_buf b;
    loy_buf_init(&b, &loy_default_alloc);
    loy_buf_putc(&b, '{');
    jstr(&b, "history", sm->history);
    loy_buf_puts(&b, ", ");
    jint(&b, "lines", (int64_t)sm->lines);
    loy_buf_puts(&b, ", ");
    jint(&b, "member_lines", (int64_t)sm->member_lines);
    loy_buf_puts(&b, ", ");
    jkey(&b, "runs");
    loy_buf_putc(&b, '[');
    for (int r = 0; r < sm->run_count; r++) {
        if (r)
            loy_buf_puts(&b, ", ");
        json_run(&b, sm, &sm->runs[r]);
    }
    loy_buf_puts(&b, "]}\n");
    int status = 0;
    if (b.nomem) {
        fputs("loyalty simulate: out of memory\n", stderr);
        status = 2;
    } else {
        fwrite(b.data, 1, b.len, stdout);
    }
    loy_buf_release(&b);
    return status;
}

/* ----------------------------------------------------------------- main */

__attribute__((format(printf, 1, 2)))
static int usage(const char *fmt, ...)
{
    va_list ap;
    fputs("loyalty simulate: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nusage: loyalty simulate POLICY HISTORY.jsonl [--compare OTHER_POLICY] [--json] [--jobs N]\n", stderr);
    return 2;
}

enum { MAX_JOBS = 256 };

/* --jobs N: 1 to MAX_JOBS, or 0 for the number of online CPUs. */
static bool parse_jobs(const char *text, int *jobs)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || end == text || *end || n < 0 || n > MAX_JOBS || text[0] == '-' || text[0] == '+')
        return false;
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus < 1 ? 1 : cpus > MAX_JOBS ? MAX_JOBS : cpus;
    }
    *jobs = (int)n;
    return true;
}

int loy_cli_simulate(int argc, char **argv)
{
    const char *policy_path = NULL, *history = NULL, *other = NULL;
    bool json = false;
    int jobs = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--jobs") == 0) {
            if (i + 1 >= argc)
                return usage("--jobs needs a number");
            if (!parse_jobs(argv[++i], &jobs))
                return usage("--jobs takes a number from 0 (one per online CPU) to %d, not '%s'", MAX_JOBS, argv[i]);
        } else if (strcmp(a, "--compare") == 0) {
            if (i + 1 >= argc)
                return usage("--compare needs an OTHER_POLICY");
            other = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage("unknown option '%s'", a);
        } else if (!policy_path) {
            policy_path = a;
        } else if (!history) {
            history = a;
        } else {
            return usage("unexpected argument '%s'", a);
        }
    }
    if (!policy_path || !history)
        return usage("%s", !policy_path ? "missing POLICY and HISTORY.jsonl" : "missing HISTORY.jsonl");

    sim *sm = calloc(1, sizeof *sm);
    if (!sm) {
        fputs("loyalty simulate: out of memory\n", stderr);
        return 2;
    }
    sm->history = history;
    sm->json = json;
    loy_arena_init(&sm->arena, &loy_default_alloc);
    int status = 2;
    FILE *f = NULL;
    sm->run_count = 1;
    if (!run_open(&sm->runs[0], policy_path, NULL))
        goto done;
    if (other) {
        sm->run_count = 2;
        if (!run_open(&sm->runs[1], other, NULL))
            goto done;
    }
    f = fopen(history, "rb");
    if (!f) {
        fprintf(stderr, "loyalty simulate: %s: %s\n", history, strerror(errno));
        goto done;
    }
    status = jobs > 1 ? feed_jobs(sm, f, jobs) : feed_file(sm, f, serial_line, sm);
    if (status)
        goto done;
    for (int i = 0; i < sm->run_count; i++)
        finish_member(&sm->runs[i]);
    if (sm->json) {
        status = print_json(sm);
    } else {
        print_table(sm);
        status = 0;
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "loyalty simulate: writing the report failed: %s\n", strerror(errno));
        status = 2;
    }
done:
    if (f)
        fclose(f);
    for (int i = 0; i < sm->run_count; i++)
        run_close(&sm->runs[i]);
    loy_arena_release(&sm->arena);
    free(sm);
    return status;
}
