/*
 * Fuzz target: a stateful run. The input decodes into a member's setup and
 * a sequence of typed events built with the loy_event_* setters (and
 * benefit queries), applied one by one to one member; after each the
 * invariants of fuzz_common.h are checked, plus:
 *
 *   - a refused event leaves the state bytes exactly as they were;
 *   - the state bytes say everything: a twin member, re-loaded from the
 *     bytes before every event, answers every event with the same JSON and
 *     ends with the same bytes as the member that stayed in memory;
 *   - a query never changes the member, and answers as the general path
 *     (loy_query_benefits_copied) does;
 *   - when the input asks for it, the event is first tried with the k-th
 *     allocation failing: it must come back LOY_E_NOMEM (or succeed without
 *     needing that allocation) with the state bytes unchanged.
 *
 * Encoding (every read past the end gives 0, so any byte string decodes):
 *   byte 0   policy: 0 apparel, 1 apparel with negative_balance, 2 grocery
 *   byte 1   joining day offset from 2026-01-01 (0..255 days)
 *   byte 2   setup flags: 1 birthday, 2 tag "employee", 4 tag "vip-list",
 *            8 import a tier, 16 import a lot, 32 import a spend month,
 *            64 import orders + last order, 128 import a paid plan
 *   then the imports' operands, then events until the input ends:
 *   op byte  low 4 bits: 0-1 order, 2 return, 3 action, 4 redeem,
 *            5 use_benefit, 6 join_paid, 7 profile, 8 tick, 9 query,
 *            10-15 order; 0x10 reuse an earlier id; 0x20 unusual offset;
 *            0x40 inject an allocation failure; 0x80 channel and store
 *   time     one byte: how far the clock moves (mostly forward)
 *   operands as the type needs (see fuzz_events_build)
 */
#include "fuzz_common.h"
#include "engine/engine.h"

#include <stdbool.h>

/* ---------------------------------------------------------- byte reader */

typedef struct fz_reader {
    const uint8_t *p, *end;
} fz_reader;

static unsigned fz_u8(fz_reader *rd) { return rd->p < rd->end ? *rd->p++ : 0; }

static uint64_t fz_u64(fz_reader *rd, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | fz_u8(rd);
    return v;
}

/* An amount biased toward the values that break arithmetic. */
static int64_t fz_amount(fz_reader *rd)
{
    unsigned k = fz_u8(rd);
    switch (k & 7) {
    case 0: return (int64_t)fz_u8(rd) * 100;
    case 1: return (int64_t)fz_u64(rd, 2);
    case 2: return (int64_t)fz_u64(rd, 3) * 10;
    case 3: return (int64_t)fz_u64(rd, 8);                    /* anything, negatives included */
    case 4: return INT64_MAX - (int64_t)fz_u8(rd);
    case 5: return 0;
    case 6: return -(int64_t)fz_u8(rd) - 1;
    default: return (int64_t)fz_u8(rd) * 10000;
    }
}

/* ----------------------------------------------------------- allocation */

/* Fails the allocation once `countdown` more have succeeded (< 0: never). */
typedef struct fz_fail {
    long countdown;
} fz_fail;

static fz_fail fuzz_events_fail = {-1};

static bool fz_fail_now(fz_fail *f)
{
    if (f->countdown == 0) {
        f->countdown = -1;
        return true;
    }
    if (f->countdown > 0)
        f->countdown--;
    return false;
}

static void *fz_fail_malloc(void *ctx, size_t n) { return fz_fail_now(ctx) ? NULL : malloc(n); }
static void *fz_fail_realloc(void *ctx, void *p, size_t n) { return fz_fail_now(ctx) ? NULL : realloc(p, n); }
static void fz_fail_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

/* The three policies of this target, loaded with the failing allocator. */
static const loy_policy *fuzz_events_policy(unsigned which)
{
    static loy_policy *policies[3];
    static const int names[3] = {FZ_APPAREL, FZ_APPAREL_DEBT, FZ_GROCERY};
    if (!policies[which]) {
        loy_allocator a = {fz_fail_malloc, fz_fail_realloc, fz_fail_free, &fuzz_events_fail};
        policies[which] = fz_load_policy(names[which], &a);
    }
    return policies[which];
}

/* ---------------------------------------------------------------- clock */

typedef struct fz_clock {
    int64_t minutes;                /* since 2026-01-01T00:00 local */
} fz_clock;

static void fz_format_instant(int64_t minutes, unsigned style, char out[64])
{
    static const char *const offsets[] = {"+08:00", "Z", "+14:00", "-12:00", "+05:45", "-00:30", "+23:59", "z"};
    static const char *const fractions[] = {"", ".5", ".123456", ".123456789012"};
    int64_t days = minutes >= 0 ? minutes / 1440 : -((-minutes + 1439) / 1440);
    int64_t in_day = minutes - days * 1440;
    loy_day base = loy_day_from_ymd(2026, 1, 1);
    loy_ymd ymd = loy_day_to_ymd((loy_day)((int64_t)base + days));
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", (int)ymd.y, (int)ymd.m, (int)ymd.d,
             (int)(in_day / 60), (int)(in_day % 60), (int)((style >> 3) % 60), fractions[(style >> 4) & 3],
             offsets[(style & 0x20) ? (style & 7) : 0]);
}

/* Moves the clock by one encoded step: mostly minutes to days forward,
 * sometimes back (out of order), sometimes months or decades ahead (dates
 * near 9999-12-31). */
static void fz_clock_step(fz_clock *c, unsigned step)
{
    if (step < 160)
        c->minutes += (int64_t)step * 47;
    else if (step < 220)
        c->minutes += (int64_t)(step - 159) * 1440;
    else if (step < 236)
        c->minutes -= (int64_t)(step - 219) * 61;
    else if (step < 252)
        c->minutes += (int64_t)(step - 235) * 31 * 1440;
    else if (step < 255)
        c->minutes += (int64_t)(step - 251) * 1000 * 366 * 1440;
    else
        c->minutes = (int64_t)(loy_day_from_ymd(9999, 12, 31) - loy_day_from_ymd(2026, 1, 1)) * 1440 + 1000;
    /* Past year 9999 every instant is refused; keep the clock where that
     * still means something (and where day numbers stay small). */
    int64_t far = (int64_t)(loy_day_from_ymd(9999, 12, 31) - loy_day_from_ymd(2026, 1, 1) + 400) * 1440;
    if (c->minutes > far)
        c->minutes = far;
}

/* ---------------------------------------------------------------- pools */

static const char *const fz_categories[] = {"coats", "gift_card", "shipping", "shoes", "bags", "deposit", NULL, ""};
static const char *const fz_skus[] = {"COAT-1", "GC-100", "BAG-PAPER", "S-1", NULL, "sku-\xe4\xb8\xad"};
static const char *const fz_kinds[] = {"signup", "review", "share", "check_in", "referral", "unknown", "", NULL};
static const char *const fz_plans[] = {"annual", "monthly", "lifetime", NULL};
static const char *const fz_channels[] = {"pos", "app", "mini_program", "tmall", "douyin"};
static const char *const fz_tags[] = {"employee", "vip-list", "x"};
#define FZ_POOL(pool, byte) ((pool)[(byte) % (sizeof(pool) / sizeof((pool)[0]))])

typedef struct fz_run {
    const loy_policy *p;
    loy_member *m;                  /* stays in memory */
    loy_member *twin;               /* re-loaded from bytes before every event */
    loy_event *e;
    loy_result *r, *twin_r;
    fz_clock clock;
    int seq;
    char ids[16][32];               /* recent ids, for duplicates */
    char orders[8][32];             /* recent order ids and instants, for returns */
    char order_at[8][64];
    int64_t order_amount[8];
} fz_run;

static void fz_date(fz_reader *rd, char out[16])
{
    unsigned v = fz_u8(rd);
    if (v == 255) {
        snprintf(out, 16, "0000-%02u-29", 1 + fz_u8(rd) % 12);
        return;
    }
    snprintf(out, 16, "%04u-%02u-%02u", 1960 + v % 80, 1 + fz_u8(rd) % 12, 1 + fz_u8(rd) % 31);
}

/* The member's setup: joining date, profile and legacy imports. Imports
 * may be refused; the refusal must leave the member as it was. */
static void fuzz_events_setup(fz_run *t, fz_reader *rd)
{
    char joined[16], date[16], when[64];
    loy_ymd j = loy_day_to_ymd(loy_day_from_ymd(2026, 1, 1) + (loy_day)fz_u8(rd));
    snprintf(joined, sizeof joined, "%04d-%02d-%02d", (int)j.y, (int)j.m, (int)j.d);
    FUZZ_CHECK(loy_member_new(&t->m, t->p, "M-FUZZ", joined) == LOY_OK, "member_new");
    unsigned flags = fz_u8(rd);
    int rc;
#define FZ_IMPORT(call)                                                                       \
    do {                                                                                      \
        fz_bytes before_ = fz_state(t->m);                                                    \
        rc = (call);                                                                          \
        FUZZ_CHECK(rc == LOY_OK || rc == LOY_E_INVALID_MEMBER || rc == LOY_E_UNKNOWN_TIER ||  \
                       rc == LOY_E_UNKNOWN_PLAN || rc == LOY_E_OVERFLOW,                      \
                   "%s: %s", #call, loy_error_name(rc));                                      \
        if (rc != LOY_OK)                                                                     \
            fz_expect_state(t->m, &before_, "a refused import");                              \
        free(before_.data);                                                                   \
    } while (0)
    if (flags & 1) {
        fz_date(rd, date);
        FZ_IMPORT(loy_member_set_birthday(t->m, date));
    }
    if (flags & 2)
        FZ_IMPORT(loy_member_add_tag(t->m, "employee"));
    if (flags & 4)
        FZ_IMPORT(loy_member_add_tag(t->m, "vip-list"));
    if (flags & 8) {
        size_t n = loy_policy_count(t->p, LOY_KIND_TIER);
        unsigned k = fz_u8(rd);
        fz_date(rd, date);
        FZ_IMPORT(loy_member_import_tier(t->m, k % (n + 1) < n ? loy_policy_id(t->p, LOY_KIND_TIER, k % (n + 1)) : "nope",
                                         (k & 0x80) ? joined : date));
    }
    if (flags & 16) {
        int64_t points = fz_amount(rd);
        fz_date(rd, date);
        FZ_IMPORT(loy_member_import_lot(t->m, points, (fz_u8(rd) & 1) ? date : NULL));
    }
    if (flags & 32) {
        int64_t value = fz_amount(rd);
        unsigned mon = fz_u8(rd);
        snprintf(date, sizeof date, "%04u-%02u", 2024 + mon % 4, 1 + (mon >> 2) % 12);
        FZ_IMPORT(loy_member_import_month(t->m, (loy_metric)(fz_u8(rd) % 4), date, value));
    }
    if (flags & 64) {
        FZ_IMPORT(loy_member_import_orders(t->m, fz_amount(rd)));
        fz_date(rd, date);
        FZ_IMPORT(loy_member_import_last_order(t->m, date));
    }
    if (flags & 128) {
        unsigned k = fz_u8(rd);
        snprintf(date, sizeof date, "2026-%02u-%02u", 1 + k % 12, 1 + (k >> 4) % 28);
        FZ_IMPORT(loy_member_import_paid(t->m, FZ_POOL(fz_plans, k >> 2) ? FZ_POOL(fz_plans, k >> 2) : "annual", date));
        snprintf(when, sizeof when, "upgrade");
        FZ_IMPORT(loy_member_import_gift(t->m, when, "silver"));
    }
#undef FZ_IMPORT
    fz_check_member(t->p, t->m);
}

static const char *fz_new_id(fz_run *t, fz_reader *rd, unsigned op)
{
    char *slot = t->ids[t->seq % 16];
    if ((op & 0x10) && t->seq > 0) {
        /* An earlier id: a retry (duplicate) or a refused event's id. */
        static char reused[32];
        memcpy(reused, t->ids[fz_u8(rd) % 16], sizeof reused);
        if (reused[0])
            return reused;
    }
    snprintf(slot, 32, "E-%d", ++t->seq);
    return slot;
}

/* Build event number `op` into t->e; returns false for a query (no event). */
static bool fuzz_events_build(fz_run *t, fz_reader *rd, unsigned op, char at[64])
{
    unsigned kind = op & 15;
    if (kind == 9)
        return false;
    loy_event_type type = kind <= 1 || kind >= 10 ? LOY_EVENT_ORDER
                          : kind == 2             ? LOY_EVENT_RETURN
                          : kind == 3             ? LOY_EVENT_ACTION
                          : kind == 4             ? LOY_EVENT_REDEEM
                          : kind == 5             ? LOY_EVENT_USE_BENEFIT
                          : kind == 6             ? LOY_EVENT_JOIN_PAID
                          : kind == 7             ? LOY_EVENT_PROFILE
                                                  : LOY_EVENT_TICK;
    const char *id = fz_new_id(t, rd, op);
    FUZZ_CHECK(loy_event_reset(t->e, type, id, at) == LOY_OK, "event_reset");
    if (op & 0x80) {
        unsigned c = fz_u8(rd);
        loy_event_set_channel(t->e, FZ_POOL(fz_channels, c));
        if (c & 0x80)
            loy_event_set_store(t->e, "SH-001");
    }
    switch (type) {
    case LOY_EVENT_ORDER: {
        unsigned n = fz_u8(rd);
        unsigned lines = n % 6;
        if (n == 255)
            lines = 300;              /* a long order */
        int64_t total = 0;
        for (unsigned i = 0; i < lines; i++) {
            unsigned pick = fz_u8(rd);
            int64_t amount = fz_amount(rd);
            total += amount > 0 && amount < INT64_MAX / 1024 ? amount : 0;
            FUZZ_CHECK(loy_event_add_line(t->e, FZ_POOL(fz_skus, pick >> 3), FZ_POOL(fz_categories, pick), amount,
                                          (int64_t)(pick & 3)) == LOY_OK,
                       "add_line");
        }
        if (n & 0x40)
            loy_event_set_savings(t->e, fz_amount(rd));
        memcpy(t->orders[t->seq % 8], id, 32);
        memcpy(t->order_at[t->seq % 8], at, 64);
        t->order_amount[t->seq % 8] = total;
        break;
    }
    case LOY_EVENT_RETURN: {
        unsigned which = fz_u8(rd);
        const char *orig = t->orders[which % 8][0] ? t->orders[which % 8] : "O-NONE";
        const char *orig_at = t->order_at[which % 8][0] ? t->order_at[which % 8] : at;
        int64_t orig_amount = (which & 0x80) ? fz_amount(rd) : t->order_amount[which % 8];
        int64_t refunded = (which & 0x40) ? fz_amount(rd) : orig_amount / 2;
        loy_event_set_amount(t->e, refunded);
        loy_event_set_original(t->e, orig, orig_at, orig_amount, (which & 0x20) ? fz_amount(rd) : orig_amount / 100);
        if (which & 0x10)
            loy_event_add_line(t->e, "GC-100", FZ_POOL(fz_categories, which), refunded / 2, 1);
        break;
    }
    case LOY_EVENT_ACTION: {
        const char *k = FZ_POOL(fz_kinds, fz_u8(rd));
        if (k)
            loy_event_set_kind(t->e, k);
        break;
    }
    case LOY_EVENT_REDEEM: {
        unsigned k = fz_u8(rd);
        loy_event_set_points(t->e, (k & 1) ? fz_amount(rd) : (int64_t)(k >> 1) * 100);
        if (!(k & 0x80))
            loy_event_set_order_amount(t->e, fz_amount(rd));
        break;
    }
    case LOY_EVENT_USE_BENEFIT: {
        size_t n = loy_policy_count(t->p, LOY_KIND_BENEFIT);
        unsigned k = fz_u8(rd) % (unsigned)(n + 1);
        loy_event_set_benefit(t->e, k < n ? loy_policy_id(t->p, LOY_KIND_BENEFIT, k) : "no-such-benefit");
        break;
    }
    case LOY_EVENT_JOIN_PAID: {
        const char *plan = FZ_POOL(fz_plans, fz_u8(rd));
        if (plan)
            loy_event_set_plan(t->e, plan);
        break;
    }
    case LOY_EVENT_PROFILE: {
        unsigned k = fz_u8(rd);
        if (k & 1) {
            char date[16];
            fz_date(rd, date);
            loy_event_set_birthday(t->e, (k & 2) ? date : NULL);
        }
        if (k & 4) {
            loy_event_clear_tags(t->e);
            for (unsigned i = 0; i < (k >> 3) % 4; i++)
                loy_event_add_tag(t->e, FZ_POOL(fz_tags, fz_u8(rd)));
        }
        break;
    }
    default:
        break;
    }
    return true;
}

static void fuzz_events_query(fz_run *t, const char *at, unsigned op)
{
    fz_bytes before = fz_state(t->m);
    const char *channel = (op & 0x80) ? "pos" : NULL;
    int rc = loy_query_benefits(t->p, t->m, at, channel, NULL, t->r);
    FUZZ_CHECK(rc == LOY_OK || rc == LOY_E_INVALID_QUERY || rc == LOY_E_OVERFLOW, "query: %s",
               loy_error_name(rc));
    fz_check_result_json(t->r);
    fz_expect_state(t->m, &before, "a benefits query");
    /* The query reads the member itself when step 2 has nothing to do, and
     * answers from entries built at load: the general path (a copy, step 2
     * run on it, every benefit evaluated) must say the same bytes. */
    int copied_rc = loy_query_benefits_copied(t->p, t->m, at, channel, NULL, t->twin_r);
    FUZZ_CHECK(copied_rc == rc, "query %s, on a copy %s", loy_error_name(rc), loy_error_name(copied_rc));
    char *a = fz_result_text(t->r), *b = fz_result_text(t->twin_r);
    FUZZ_CHECK(strcmp(a, b) == 0, "the query and the query on a copy answer differently:\n  %s\n  %s", a, b);
    free(a);
    free(b);
    fz_expect_state(t->m, &before, "a benefits query on a copy");
    free(before.data);
}

static void fuzz_events_step(fz_run *t, fz_reader *rd)
{
    unsigned op = fz_u8(rd);
    fz_clock_step(&t->clock, fz_u8(rd));
    char at[64];
    fz_format_instant(t->clock.minutes, (op & 0x20) ? fz_u8(rd) | 0x20 : 0, at);
    if (!fuzz_events_build(t, rd, op, at)) {
        fuzz_events_query(t, at, op);
        return;
    }

    fz_bytes before = fz_state(t->m);
    /* The twin starts from the bytes alone. */
    int rc = loy_member_load(t->twin, before.data, before.len);
    FUZZ_CHECK(rc == LOY_OK, "twin load: %s: %s", loy_error_name(rc), loy_member_error(t->twin));

    int faulted_rc = LOY_E_NOMEM;
    if (op & 0x40) {
        fuzz_events_fail.countdown = (long)fz_u8(rd);
        rc = loy_apply(t->p, t->m, t->e, t->r);
        fuzz_events_fail.countdown = -1;
        fz_check_result_json(t->r);
        if (rc != LOY_OK) {
            fz_expect_state(t->m, &before, "an event refused or failing on NOMEM");
            faulted_rc = rc;
        } else {
            /* It needed fewer allocations than the countdown, or recovered:
             * the twin's answer is compared below. */
            goto compare;
        }
    }
    rc = loy_apply(t->p, t->m, t->e, t->r);
    FUZZ_CHECK(fz_is_known_code(rc) && rc != LOY_E_NOMEM && rc != LOY_E_JSON, "apply: code %d", rc);
    /* Under a failing allocation the call says LOY_E_NOMEM, or the refusal
     * the event gets anyway (found before or despite the failure). */
    FUZZ_CHECK(faulted_rc == LOY_E_NOMEM || faulted_rc == rc, "with an allocation failing apply said %s, without %s",
               loy_error_name(faulted_rc), loy_error_name(rc));
    fz_check_result_json(t->r);
    if (rc != LOY_OK)
        fz_expect_state(t->m, &before, "a refused event");

compare:;
    int twin_rc = loy_apply(t->p, t->twin, t->e, t->twin_r);
    FUZZ_CHECK(twin_rc == loy_result_code(t->r), "twin from bytes says %s, member says %s", loy_error_name(twin_rc),
               loy_error_name(loy_result_code(t->r)));
    char *a = fz_result_text(t->r), *b = fz_result_text(t->twin_r);
    FUZZ_CHECK(strcmp(a, b) == 0, "the member and its twin from bytes answer differently:\n  %s\n  %s", a, b);
    free(a);
    free(b);
    fz_check_member(t->p, t->m);
    fz_bytes mine = fz_state(t->m), theirs = fz_state(t->twin);
    FUZZ_CHECK(fz_same(&mine, &theirs), "the member and its twin end with different bytes");
    free(mine.data);
    free(theirs.data);
    free(before.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_reader rd = {data, data + size};
    fz_run t;
    memset(&t, 0, sizeof t);
    t.p = fuzz_events_policy(fz_u8(&rd) % 3);
    fuzz_events_setup(&t, &rd);
    FUZZ_CHECK(loy_member_create(&t.twin, t.p) == LOY_OK && loy_event_new(&t.e, t.p) == LOY_OK &&
                   loy_result_new(&t.r, t.p) == LOY_OK && loy_result_new(&t.twin_r, t.p) == LOY_OK,
               "handles");
    loy_result_set_options(t.r, LOY_RESULT_FINGERPRINT);
    loy_result_set_options(t.twin_r, LOY_RESULT_FINGERPRINT);
    int steps = 0;
    while (rd.p < rd.end && steps++ < 400)
        fuzz_events_step(&t, &rd);
    loy_result_free(t.twin_r);
    loy_result_free(t.r);
    loy_event_free(t.e);
    loy_member_free(t.twin);
    loy_member_free(t.m);
    return 0;
}
