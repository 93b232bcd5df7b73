/*
 * The compiled policy: what the loader (lib/policy/) makes of a YAML file and
 * what the engine (lib/engine/) reads. Immutable once built; every pointer
 * points into the policy's own arena, so a policy is freed in one go.
 *
 * Units: money is int64 minor units of the policy's currency; a "fix" is a
 * decimal with 4 fraction digits scaled by 10^4 (1.5 -> 15000); points,
 * counts, days and months are plain integers. Tiers, plans, stages,
 * benefits, actions and gifts are referred to by their index in the arrays
 * below (policy order); ids are NUL-terminated UTF-8.
 */
#ifndef LOY_POLICY_H
#define LOY_POLICY_H

#include "core.h"
#include "date.h"

typedef int64_t loy_fix;
#define LOY_FIX_ONE 10000

/* f > 0 as digits / 10^decimals, the trailing zeros of its four decimals
 * dropped (1.1 = 11 / 10, 2 = 2 / 1): a stack of factors then multiplies
 * small numbers over 10^(the sum of the decimals), where the factors as
 * written would sit over 10^(4 x the multiplier count). */
static inline uint64_t loy_fix_reduced(loy_fix f, uint32_t *decimals)
{
    uint64_t m = (uint64_t)f;
    uint32_t d = 4;
    while (d > 0 && m % 10 == 0) {
        m /= 10;
        d--;
    }
    *decimals = d;
    return m;
}

/* A list of ids as written (exclusions, tags, channels...). */
typedef struct loy_strs {
    const char **items;
    uint32_t count;
} loy_strs;

LOY_INTERNAL bool loy_strs_has(const loy_strs *set, const char *s);

/* ------------------------------------------------------------- conditions */

typedef enum loy_cond_op {
    /* groups */
    LOY_C_MAP = 0,        /* a `when` map: holds when every kid holds; kids are its entries */
    LOY_C_ALL,            /* all: [MAP...] */
    LOY_C_ANY,            /* any: [MAP...]; empty never holds */
    LOY_C_NOT,            /* not: MAP; kids[0] is the map */
    /* predicates (POLICY.md §9) */
    LOY_C_TIER,                       /* ints: tier indices */
    LOY_C_TIER_AT_LEAST,              /* n: tier index */
    LOY_C_TIER_BELOW,                 /* n: tier index */
    LOY_C_POINTS_AT_LEAST,            /* n: points */
    LOY_C_PAID,                       /* word: LOY_PAID_*; ints: plan indices for LOY_PAID_PLANS */
    LOY_C_MEMBER_DAYS_AT_LEAST,       /* n */
    LOY_C_ORDERS_AT_LEAST,            /* n */
    LOY_C_ORDERS_IN_MONTHS,           /* n: months M, n2: at_least N */
    LOY_C_SPEND_IN_WINDOW_AT_LEAST,   /* n: money */
    LOY_C_DAYS_SINCE_LAST_ORDER_AT_LEAST, /* n */
    LOY_C_LIFECYCLE,                  /* ints: stage indices */
    LOY_C_TAGS,                       /* strs */
    LOY_C_WEEKDAY,                    /* ints: 0 = mon .. 6 = sun */
    LOY_C_DAY_OF_MONTH,               /* ints: 1..31 */
    LOY_C_MONTH,                      /* ints: 1..12 */
    LOY_C_DATE_BETWEEN,               /* ints[0..1]: loy_day from, to */
    LOY_C_TIME_BETWEEN,               /* ints[0..1]: minutes since midnight from, to */
    LOY_C_BIRTHDAY,                   /* word: LOY_BDAY_* */
    LOY_C_CHANNEL,                    /* strs */
    LOY_C_STORE,                      /* strs */
    LOY_C_ORDER_AT_LEAST,             /* n: money */
    LOY_C_CATEGORY,                   /* strs; line predicate */
    LOY_C_SKU                         /* strs; line predicate */
} loy_cond_op;

enum { LOY_PAID_ACTIVE = 1, LOY_PAID_NONE = 2, LOY_PAID_PLANS = 3 };
enum { LOY_BDAY_DAY = 1, LOY_BDAY_MONTH = 2, LOY_BDAY_WINDOW = 3 };

typedef struct loy_cond loy_cond;
struct loy_cond {
    loy_cond_op op;
    const char *key;     /* the predicate's name as written ("tier_at_least", "all"...); NULL for a MAP */
    bool as_list;        /* the value was written as a list: reasons echo it as one */
    bool has_line_pred;  /* this node or a kid uses category/sku */
    int word;            /* LOY_PAID_* or LOY_BDAY_* */
    uint32_t count;      /* number of kids, ints or strs */
    loy_cond *kids;      /* groups */
    int32_t *ints;
    const char **strs;
    int32_t *ids;        /* CATEGORY, SKU: the interned id of each of strs */
    int64_t n;
    int64_t n2;
};

/* ------------------------------------------------------- interned strings */

/*
 * Every category and sku the policy names (in conditions and exclusion
 * lists) gets a small id at load (lib/policy/intern.c), so the
 * engine resolves an event's strings once and then compares integers. A
 * string the policy does not name resolves to -1, which no list holds:
 * exactly how it compared before. Keys are C strings (up to the first NUL),
 * as strcmp saw them.
 */
enum {
    LOY_IN_PTS_CAT = 1u << 0,   /* in points.earn.exclude.categories */
    LOY_IN_PTS_SKU = 1u << 1,   /* in points.earn.exclude.skus */
    LOY_IN_TIER_CAT = 1u << 2,  /* in tiers.exclude.categories */
    LOY_IN_TIER_SKU = 1u << 3   /* in tiers.exclude.skus */
};

typedef struct loy_intern_slot {
    uint64_t w0, w1;                /* the first 16 bytes, zero padded (loy_str_key) */
    const char *s;                  /* NULL: empty slot */
    uint32_t len;
    int32_t id;
} loy_intern_slot;

typedef struct loy_interned {
    loy_intern_slot *slots;         /* open addressing, mask + 1 slots (a power of 2) */
    uint32_t mask;
    uint32_t count;                 /* ids 0..count-1 */
    uint64_t named_bits;            /* bit loy_intern_bit(k) clear: no id has key k (loy_intern_find) */
    uint8_t *flags;                 /* per id: LOY_IN_* */
    bool any_category;              /* some category is named: lines' categories are worth a lookup */
    bool any_sku;                   /* likewise skus */
} loy_interned;

static inline uint32_t loy_intern_slot_of(const loy_interned *t, const loy_str_key *k)
{
    uint64_t h = (k->w0 ^ (k->w1 * UINT64_C(0xC2B2AE3D27D4EB4F)) ^ k->len) * UINT64_C(0x9E3779B97F4A7C15);
    return (uint32_t)(h >> 32) & t->mask;
}

/* The probe proper: the id of the string of key k, -1 when no slot holds it. */
static inline int32_t loy_intern_probe(const loy_interned *t, const char *s, const loy_str_key *k)
{
    for (uint32_t i = loy_intern_slot_of(t, k);; i = (i + 1) & t->mask) {
        const loy_intern_slot *sl = &t->slots[i];
        if (!sl->s)
            return -1;
        if (sl->w0 == k->w0 && sl->w1 == k->w1 && sl->len == k->len &&
            (k->len <= 16 || memcmp(sl->s + 16, s + 16, k->len - 16) == 0))
            return sl->id;
    }
}

/* Most strings an event brings are not named by the policy (in the bench,
 * 1,924 of 2,676 line categories), and their probe hashes the key only to
 * meet an empty slot. One bit per (first byte + length) mod 64, set at load
 * for each id's key, rules most of them out first with no hash; an empty
 * table has no bit set. */
static inline unsigned loy_intern_bit(const loy_str_key *k)
{
    return (unsigned)(k->w0 + k->len) & 63;
}

/* The id of the string of key k (-1: not named by the policy). */
static inline int32_t loy_intern_find(const loy_interned *t, const char *s, const loy_str_key *k)
{
    if (!((t->named_bits >> loy_intern_bit(k)) & 1))
        return -1;
    return loy_intern_probe(t, s, k);
}

/* The id of an event's string s[0..len) (s[len] == 0), keyed like strcmp;
 * *plain: the bytes are ASCII without NUL (so valid UTF-8). */
static inline __attribute__((always_inline)) int32_t loy_intern_lookup(const loy_interned *t, const char *s, size_t len, bool *plain)
{
    loy_str_key k;
    *plain = loy_str_key_of(s, len, &k);
    if (!*plain) {
        size_t n = strlen(s);       /* strcmp stops at a NUL */
        if (n != len)
            loy_str_key_of(s, n, &k);
    }
    return loy_intern_find(t, s, &k);
}

/* ----------------------------------------------------------------- limits */

typedef enum loy_limit_kind { LOY_LIMIT_NONE = 0, LOY_LIMIT_ONCE = 1, LOY_LIMIT_PER = 2 } loy_limit_kind;
typedef enum loy_period { LOY_PER_DAY = 0, LOY_PER_WEEK = 1, LOY_PER_MONTH = 2, LOY_PER_YEAR = 3 } loy_period;

typedef struct loy_limit {
    loy_limit_kind kind;
    loy_period per;       /* LOY_LIMIT_PER */
    int64_t count;        /* LOY_LIMIT_PER, >= 1 */
} loy_limit;

/* ------------------------------------------------------------------ tiers */

typedef enum loy_qualify { LOY_Q_SPEND = 0, LOY_Q_ORDERS, LOY_Q_POINTS_EARNED, LOY_Q_GROWTH } loy_qualify;
typedef enum loy_window_kind { LOY_W_LIFETIME = 0, LOY_W_MONTHS, LOY_W_CALENDAR_YEAR } loy_window_kind;
typedef enum loy_review_kind { LOY_R_NEVER = 0, LOY_R_ANNIVERSARY, LOY_R_CALENDAR_YEAR } loy_review_kind;
typedef enum loy_downgrade { LOY_DOWN_ONE_LEVEL = 0, LOY_DOWN_TO_QUALIFIED } loy_downgrade;

typedef struct loy_tier {
    const char *id;
    const char *name;     /* NULL when not given */
    int64_t at;           /* 0 for the entry tier; money for spend, else a count */
    int64_t keep;         /* default `at` */
} loy_tier;

typedef struct loy_tiers {
    loy_qualify qualify_on;
    loy_window_kind window;
    int32_t window_months;          /* LOY_W_MONTHS: 1..60 */
    loy_strs exclude_categories;    /* never qualifying spend */
    loy_strs exclude_skus;
    loy_review_kind review;
    loy_downgrade downgrade;
    int32_t min_hold_months;        /* 0..1200 */
    loy_tier *levels;               /* ascending; levels[0] is the entry tier */
    uint32_t count;
} loy_tiers;

typedef struct loy_growth_action { const char *kind; int64_t growth; } loy_growth_action;

typedef struct loy_growth {
    bool present;
    bool has_per_spend;
    int64_t per_spend_amount;       /* money > 0 */
    int64_t per_spend_growth;       /* integer */
    int64_t per_order;
    loy_growth_action *actions;     /* policy order */
    uint32_t action_count;
} loy_growth;

/* ----------------------------------------------------------------- points */

typedef enum loy_stacking { LOY_STACK_MULTIPLY = 0, LOY_STACK_ADD, LOY_STACK_MAX } loy_stacking;
typedef enum loy_expiry_kind { LOY_EXPIRY_NONE = 0, LOY_EXPIRY_AFTER_MONTHS, LOY_EXPIRY_END_OF_YEAR_PLUS } loy_expiry_kind;

typedef struct loy_multiplier {
    const char *id;
    const loy_cond *when;           /* NULL: always */
    bool by_tier;
    loy_fix factor;                 /* !by_tier; > 0 */
    loy_fix *tier_factor;           /* by_tier: per tier index, 0 = tier not listed */
} loy_multiplier;

typedef struct loy_action {
    const char *kind;
    int64_t points;
    loy_limit limit;
} loy_action;

typedef struct loy_points {
    bool has_earn;
    int64_t rate_amount;            /* money > 0 */
    int64_t rate_points;            /* integer >= 0 */
    loy_round rounding;             /* default floor */
    bool round_per_line;            /* rounding_scope: line */
    loy_strs exclude_categories;    /* not points-eligible */
    loy_strs exclude_skus;
    int64_t min_order;              /* money, default 0 */
    loy_multiplier *multipliers;
    uint32_t multiplier_count;
    loy_stacking stacking;
    int64_t cap_per_order;          /* -1: none */
    int64_t cap_per_day;            /* -1: none */

    loy_action *actions;            /* policy order */
    uint32_t action_count;

    int32_t pending_days;           /* 0..3650 */
    loy_expiry_kind expiry;
    int32_t expiry_n;               /* after_months 0..1200 or end_of_year_plus 0..100 */

    bool has_redeem;
    int64_t redeem_points;          /* rate.points >= 1 */
    int64_t redeem_amount;          /* rate.amount, money > 0 */
    int64_t redeem_min_points;      /* default 0 */
    int64_t redeem_step;            /* default 1 */
    loy_fix redeem_max_share;       /* default 1.0 (LOY_FIX_ONE) */

    bool negative_balance;
} loy_points;

/* ------------------------------------------------------------------ gifts */

typedef struct loy_reward {
    bool has_points;
    int64_t points;
    loy_strs coupons;
    bool has_coupons;
    loy_strs items;
    bool has_items;
    bool has_credit;
    int64_t credit;                 /* money */
} loy_reward;

typedef enum loy_bday_window { LOY_BW_MONTH = 0, LOY_BW_DAY, LOY_BW_AROUND } loy_bday_window;
typedef enum loy_feb29 { LOY_FEB29_FEB28 = 0, LOY_FEB29_MAR1 } loy_feb29;
typedef enum loy_spend_period { LOY_SP_ORDER = 0, LOY_SP_MONTH, LOY_SP_YEAR } loy_spend_period;

typedef struct loy_surprise {
    const char *id;
    const loy_cond *when;           /* NULL: always */
    int32_t sample;                 /* sample_percent in hundredths: 0..10000 */
    loy_reward reward;
    bool per_year;                  /* once: per_year (else lifetime) */
} loy_surprise;

typedef struct loy_spend_gift {
    const char *id;
    loy_spend_period period;
    int64_t at_least;               /* money */
    loy_reward reward;
} loy_spend_gift;

typedef struct loy_gifts {
    bool has_upgrade;
    const loy_reward **upgrade;     /* per tier index; NULL: no gift for that tier */
    bool upgrade_every_time;        /* once: every_time (else lifetime) */
    bool upgrade_highest;           /* skipped: highest (else each) */
    uint32_t upgrade_count;         /* by_tier entries */

    bool has_birthday;
    loy_bday_window bday_window;
    int32_t bday_before, bday_after; /* LOY_BW_AROUND */
    int32_t bday_min_member_days;
    loy_feb29 feb29;
    const loy_reward **birthday;    /* per tier index; NULL: no gift for that tier */
    uint32_t birthday_count;        /* by_tier entries */

    loy_surprise *surprise;
    uint32_t surprise_count;
    loy_spend_gift *spend;
    uint32_t spend_count;
} loy_gifts;

/* --------------------------------------------------------------- benefits */

typedef enum loy_value_kind { LOY_VAL_NONE = 0, LOY_VAL_NUMBER, LOY_VAL_STRING, LOY_VAL_BY_TIER } loy_value_kind;

typedef struct loy_value {
    loy_value_kind kind;
    const char *text;               /* NUMBER: normalised decimal text ("0.95", "1"); STRING: the string */
    struct loy_value *by_tier;      /* BY_TIER: per tier index, kind NONE when not listed */
} loy_value;

typedef struct loy_benefit {
    const char *id;
    const char *name;               /* NULL when not given */
    const char *kind;               /* purchase | service | activity | product | gift */
    const loy_cond *when;           /* NULL: open to every member */
    loy_limit limit;
    loy_value value;
} loy_benefit;

/* ------------------------------------------------------------ paid plans */

typedef struct loy_plan {
    const char *id;
    int64_t fee;                    /* money */
    int32_t months;                 /* 1..1200 */
    bool guarantee;
} loy_plan;

/* -------------------------------------------------------------- lifecycle */

typedef struct loy_stage {
    const char *id;
    const loy_cond *when;           /* NULL only for the last stage */
} loy_stage;

/* The stages' conditions compiled at load (lib/policy/stages.c): each
 * stage but the last is the conjunction of its `when` flattened into
 * tests, and the tests a stage usually asks (orders, days since the last
 * order, member days, orders in months, tier) read the member without the
 * general code. Anything else stays a condition for loy_cond_holds. The
 * stages' tests follow each other in one array, ended by a test that
 * always answers the last stage. */
enum {
    LOY_ST_ORDERS_AT_LEAST, LOY_ST_DAYS_SINCE_ORDER, LOY_ST_MEMBER_DAYS, LOY_ST_ORDERS_IN_MONTHS,
    LOY_ST_TIER_AT_LEAST, LOY_ST_TIER_BELOW, LOY_ST_COND,
    LOY_ST_STAGE                    /* holds: the stage is `stage` (no tests left) */
};

typedef struct loy_stage_test {
    int32_t kind;                   /* LOY_ST_* */
    int32_t stage;                  /* the stage whose test this is */
    uint32_t next;                  /* the next stage's first test: where a failed test goes */
    bool ends;                      /* the stage's last test: holding, it answers `stage` */
    int64_t n;                      /* the cond's n (months for ORDERS_IN_MONTHS) */
    int64_t n2;                     /* ORDERS_IN_MONTHS: at_least */
    const loy_cond *cond;           /* LOY_ST_COND */
} loy_stage_test;

typedef struct loy_stage_plan {
    const loy_stage_test *tests;
} loy_stage_plan;

/* The surprise gifts' conditions compiled at load (lib/policy/gifts.c):
 * each `when` that is a conjunction is flattened into tests, and the ones
 * a surprise usually asks (tier, date range, month, orders, member days)
 * read the member and the event without the general code. Anything else
 * stays a condition for loy_cond_holds. Surprise i's tests are
 * tests[start[i]] up to tests[start[i + 1]]; none: it always holds. */
enum {
    LOY_GT_TIER_AT_LEAST, LOY_GT_TIER_BELOW, LOY_GT_DATE_BETWEEN, LOY_GT_MONTH,
    LOY_GT_ORDERS_AT_LEAST, LOY_GT_MEMBER_DAYS, LOY_GT_COND
};

typedef struct loy_gift_test {
    int32_t kind;                   /* LOY_GT_* */
    uint32_t months;                /* LOY_GT_MONTH: bit m for each month m (1..12) listed */
    int64_t a, b;                   /* the cond's n, or DATE_BETWEEN's first and last day */
    const loy_cond *cond;           /* LOY_GT_COND */
} loy_gift_test;

typedef struct loy_gift_plan {
    const loy_gift_test *tests;
    const uint32_t *start;          /* surprise_count + 1 entries */
    /* What every surprise needs, from its tier and date tests alone, so
     * that an event none can meet skips them all (lib/engine/gifts.c). */
    int32_t tier_min;               /* the lowest of the surprises' tier_at_least (0: one has none) */
    bool dated;                     /* each surprise has a date_between or month test */
    uint32_t months;                /* dated: bit m for each month m (1..12) in which one may hold */
} loy_gift_plan;

/* The parts of effects that the policy fixes, built at load
 * (lib/policy/gifts.c) as fixed maps, shared by every answer as result.h
 * says under "nodes fixed at load": a reward's fields, the whole of an
 * upgrade or surprise gift, which carry nothing of the event, and the end
 * of an upgrade's tier_changed. */
typedef struct loy_effect_nodes {
    loy_node *upgrade;              /* per tier with an upgrade gift: type, gift, reward, tier */
    loy_node *birthday;             /* per tier with a birthday gift: the reward's fields */
    loy_node *surprise;             /* per surprise: type, gift, reward, id */
    loy_node *spend;                /* per spend gift: the reward's fields */
    loy_node *upgraded_to;          /* per tier: tier_changed's last fields, to and reason "upgrade" */
    /* Whole effects per pair, for a policy of few tiers or stages (their
     * square is the memory): an answer takes one fresh map over them.
     * NULL: more than LOY_FIXED_PAIRS_MAX, the effect is built per event. */
    const loy_node *upgrade_pairs;  /* [from * tiers + to]: tier_changed's type, from, to, reason "upgrade" */
    const loy_node *stage_pairs;    /* [(from + 1) * stages + to]: stage_changed's type, from (null for -1), to */
    /* per spend gift of period order: its whole effect, type, gift,
     * reward, id (NULL: built per event, as the other periods') */
    const loy_node *spend_whole;
} loy_effect_nodes;

/* The most tiers (and stages) whose pairs are built at load. */
enum { LOY_FIXED_PAIRS_MAX = 16 };

/* The benefits compiled at load (lib/policy/benefits.c). Each `when` is
 * flattened into its entries as a closed benefit's reasons list them
 * (loy_cond_each_leaf): test j of a benefit is its `when`'s entry j.
 * Tests the tier settles (tier tests, and groups they settle, such as
 * `any` holding a tier test the tier passes) are settled per tier at
 * load; points are read from the member; anything else stays a condition
 * for loy_cond_holds.
 *
 * A benefit's entry in a query's answer is then settled by its outcome:
 * which tests failed (bit j for test j), whether its limit is reached
 * (bit `count`, for a benefit with a limit), and the member's tier. The
 * engine builds every entry at load (lib/engine/benefits.c,
 * loy_benefit_answers), and a query points at one:
 * answers[answers_at + outcome * tiers.count + tier] is an entry, a
 * fixed map (result.h, "nodes fixed at load"). The outcome here
 * counts only the tests asked per query and the limit, in that order of
 * bits. A benefit with too many of them has answers_at LOY_NO_ANSWERS
 * and builds its entry per query; a policy with a benefit of more than 64
 * tests has no plan.
 *
 * A query starts from its tier's row of `maps`: every benefit's entry
 * when no test fails and no limit is reached. Only the benefits of the
 * tier's `asks` have a test or a limit to look at, or no built entries:
 * asks_at[2t] up to asks_at[2t + 1] those with tests or no built
 * entries, then up to asks_at[2t + 2] those with only a limit.
 *
 * A tier whose asks all have built entries, and few enough tests and
 * limits among them, also has lists (loy_benefit_listed): for every
 * outcome of the tier (its asks' open tests, then their limits, one bit
 * each) the answer's whole list of entries, chained at load; a query
 * then only tests and points at one. */
enum {
    LOY_BT_POINTS_AT_LEAST, LOY_BT_COND,
    /* a `tags`, `channel` or `store` predicate, or a `not` of one alone:
     * its test (`leaf`, negated with `negate`) read by the query itself */
    LOY_BT_TAGS, LOY_BT_CHANNEL, LOY_BT_STORE
};
#define LOY_NO_ANSWERS UINT32_MAX

typedef struct loy_benefit_test {
    int32_t kind;                   /* LOY_BT_* */
    uint32_t firsts;                /* TAGS, CHANNEL, STORE: bit (b & 31) for each first byte b of leaf's strings */
    int64_t n;                      /* POINTS_AT_LEAST: the cond's n */
    const loy_cond *cond;           /* the entry: its reason, and its test for LOY_BT_COND */
    const loy_cond *leaf;           /* TAGS, CHANNEL, STORE: the predicate */
    bool negate;                    /* the entry holds when `leaf` fails */
} loy_benefit_test;

typedef struct loy_planned_benefit {
    uint32_t first, count;          /* its tests: tests[first] up to tests[first + count] */
    uint64_t asked;                 /* bit j: test j is asked per query (some tier leaves it open) */
    bool limited;                   /* it has a limit */
    uint32_t answers_at;            /* its entries in answers */
} loy_planned_benefit;

typedef struct loy_benefit_ask {
    const loy_benefit_test *tests;  /* the benefit's: tests + first */
    const loy_node *const *entries; /* answers + answers_at + t, or NULL when none are built */
    uint64_t ask;                   /* the asked tests this tier leaves open, by test */
    uint32_t ask_bits;              /* the same tests' outcome bits */
    uint32_t limit_bit;             /* the limit's outcome bit; 0: no limit */
    uint32_t benefit;
} loy_benefit_ask;

/* A tier's lists: bit i of an outcome is tests[i] failing, bit
 * test_count + j the limit of benefit limits[j] reached; for each outcome
 * the benefit_count fixed maps of the answer's list, chained. */
typedef struct loy_benefit_listed {
    const loy_node *lists;          /* NULL: the tier has none (the query copies its row) */
    const loy_benefit_test *tests;  /* the open tests of its asks, in their order */
    const uint32_t *limits;         /* the limited benefits among its asks, in their order */
    uint32_t test_count, limit_count;
} loy_benefit_listed;

typedef struct loy_benefit_plan {
    const loy_benefit_test *tests;
    const loy_planned_benefit *benefits; /* benefit_count */
    const uint64_t *tier_failed;    /* [benefit * tiers.count + t]: the tests tier t settles failed */
    const loy_value *const *value;  /* [benefit * tiers.count + t]: the value tier t sees, or NULL */
    const loy_node *const *answers;
    const loy_node *maps;           /* [t * benefit_count + benefit], unlinked */
    const loy_benefit_ask *asks;
    const uint32_t *asks_at;        /* 2 tiers.count + 1 */
    const struct loy_benefit_listed *listed; /* [t] */
} loy_benefit_plan;

/* The value a member of `tier` sees (a benefit's value: its own, or by
 * tier the tier's, else the nearest below it that has one); NULL: none. */
LOY_INTERNAL const loy_value *loy_value_for_tier(const loy_value *v, int32_t tier);
/* Builds the entries of p->benefit_plan into `answers`, its maps, and
 * the tiers' `lists` (lib/engine/benefits.c, which lays entries out);
 * false on NOMEM. */
LOY_INTERNAL bool loy_benefit_answers(loy_policy *p, const loy_node **answers, const loy_node **maps,
                                      loy_benefit_listed *listed);

/* ------------------------------------------------ state ids (lib/policy/ids.c)
 * Added for the state writer (lib/state/save.c). Every id the state bytes
 * can name, numbered by string: equal ids of two kinds (a tier and a
 * benefit both "gold") share a number, so the writer finds an id's entry
 * in its string table by number, without comparing strings. */
enum {
    LOY_SID_TIER, LOY_SID_PLAN, LOY_SID_STAGE, LOY_SID_ACTION, LOY_SID_BENEFIT,
    LOY_SID_SURPRISE, LOY_SID_SPEND, LOY_SID_KINDS
};

typedef struct loy_state_ids {
    uint32_t count;                 /* distinct strings; 0 (names NULL): not built */
    const char **names;             /* per number: the id */
    uint32_t *lens;                 /* and its length */
    uint32_t *of[LOY_SID_KINDS];    /* per kind, per index in the policy: the number */
    /* For the reader (lib/state/load.c): a string's number by one probe. */
    uint64_t *head;                 /* per number: its first 8 bytes, zero-padded */
    int32_t *index_of;              /* [number * LOY_SID_KINDS + kind]: the index, -1: none */
    uint32_t *slots;                /* open addressing on loy_state_id_hash: number + 1, 0: empty */
    uint32_t mask;                  /* slots - 1 */
} loy_state_ids;

/* The first 8 bytes of s (len bytes), zero-padded, little-endian order. */
static inline uint64_t loy_state_id_head(const char *s, size_t len)
{
    uint64_t w = 0;
    for (size_t i = 0; i < len && i < 8; i++)
        w |= (uint64_t)(unsigned char)s[i] << (8 * i);
    return w;
}

static inline uint32_t loy_state_id_hash(uint64_t head, size_t len)
{
    return (uint32_t)(((head ^ (uint64_t)len * UINT64_C(0xff51afd7ed558ccd)) * UINT64_C(0x9e3779b97f4a7c15)) >> 32);
}
/* ------------------------------------------------------ end of state ids */

/* ------------------------------------------- the order's points, compiled
 * What lib/engine/earn.c needs to settle an order's multipliers without
 * walking their conditions: built at load (lib/policy/order.c) for a policy
 * that earns, one per 64 multipliers (j below counts from the block's
 * first); g, den and scale only for one block with a 128-bit denominator. A
 * multiplier's `when` is read as the conjunction of its entries (maps and
 * `all` flattened); each entry the plan knows becomes a mask test, and any
 * other entry is kept as a condition to evaluate (rest, line_rest). Bit j of
 * every mask stands for multiplier j; a mask of a test a multiplier does not
 * have holds its bit. */
/* Up to this many multipliers the rules lists are fixed at load (2^n of them). */
enum { LOY_ORDER_RULES_MAX = 8 };

typedef struct loy_order_plan {
    uint64_t *tier_ok;              /* per tier: the tier predicates hold and a by_tier factor is > 0 */
    loy_fix *factor;                /* [tier * count + j]: multiplier j's factor in that tier */
    uint64_t *digits;               /* [tier * count + j]: that factor by loy_fix_reduced, */
    uint8_t *decimals;              /* settled at load */
    uint64_t day_of_month[32];      /* [1..31] */
    uint64_t month[13];             /* [1..12] */
    uint64_t weekday[7];            /* [0 = mon .. 6] */
    bool any_weekday;               /* some multiplier tests the weekday */
    uint64_t dated;                 /* multipliers with date_between: date_from[j]..date_to[j] */
    loy_day date_from[64], date_to[64];
    uint64_t timed;                 /* multipliers with time_between: time_from[j], time_to[j] (minutes) */
    int32_t time_from[64], time_to[64];
    uint64_t paid_active, paid_none; /* paid: active, paid: none */
    uint64_t timed_or_paid;         /* timed | paid_active | paid_none */
    uint64_t birthday_month;        /* birthday: month */
    uint64_t birthday_day;          /* birthday: day */
    uint64_t rest;                  /* multipliers with entries left to loy_cond_holds */
    uint64_t line_rest;             /* ... of those, entries that look at the line */
    const loy_cond **conds;         /* per multiplier j: conds[first[j]..first[j + 1]) */
    uint32_t *cond_class;           /* [k]: conds[k]'s class of equal tests, over all blocks */
    uint32_t *first;
    bool reads_order;               /* a leftover entry reads the order's spend (order_at_least) */
    uint64_t line_dep;              /* multipliers that look at the line */
    uint64_t *category_ok;          /* [id + 1] for interned ids -1..count-1 */
    uint64_t *sku_ok;
    /* [tier << count | mask]: the line factor G (see earn.c) of those
     * multipliers, as lo/hi halves. NULL when tiers x 2^count is too many,
     * or when a G an order can meet (every factor in it > 0) leaves 128
     * bits: G is then worked out per order. */
    uint64_t *g;
    /* the denominator of G's terms: points_den divided by what it shares
     * with every G of the table (points_den without a table) */
    uint64_t den_lo, den_hi;
    uint32_t count;                 /* the policy's multiplier count */
    uint32_t scale;                 /* count under multiply stacking, else 1 (earn.c) */
} loy_order_plan;

/* ----------------------------------------------------------------- policy */

typedef struct loy_arena loy_arena;

struct loy_policy {
    loy_alloc alloc;
    loy_arena *arena;               /* owns every pointer below */
    uint64_t fingerprint;

    const char *program;            /* NULL when absent */
    const char *currency_code;      /* NULL when absent */
    int32_t minor_units;            /* default 2 */

    loy_tiers tiers;
    loy_growth growth;
    loy_points points;
    loy_gifts gifts;

    loy_benefit *benefits;
    uint32_t benefit_count;
    loy_plan *plans;
    uint32_t plan_count;
    bool has_lifecycle;
    loy_stage *stages;
    uint32_t stage_count;

    /* derived at load time */
    int32_t months_kept;            /* how many calendar months a state keeps (see docs/state.md) */
    const char **gift_ids;          /* LOY_KIND_GIFT listing: "upgrade:silver", ... */
    uint32_t gift_id_count;
    loy_interned interned;          /* category and sku ids (above) */
    /* rate.amount x 10^(4 x scale) (scale: the multiplier count under
     * multiply stacking, else 1) when below 2^126, else 0; two halves, so
     * the struct needs no 16-byte alignment from a caller's allocator */
    uint64_t points_den_lo, points_den_hi;
    loy_state_ids state_ids;        /* for the state writer (below) */
    const loy_order_plan *order_plan; /* NULL: the order's points take the general path */
    /* the multipliers' masks, one plan per 64 (multipliers 64b..64b+63 in
     * order_blocks[b]), for the general path; order_plan is the first when
     * there is one */
    const loy_order_plan *order_blocks;
    uint32_t order_cond_classes;    /* distinct leftover tests of the blocks (cond_class) */
    /* [mask]: the points effect's finished "rules" list of the multipliers
     * in mask, fixed at load (lib/policy/order.c); NULL with more than
     * LOY_ORDER_RULES_MAX multipliers */
    const loy_node *order_rules;
    const loy_stage_plan *stage_plan; /* NULL: the stages take the general path */
    const loy_gift_plan *surprise_plan; /* NULL: the surprises take the general path */
    loy_effect_nodes effect_nodes;  /* built for every policy (lib/policy/gifts.c) */
    const loy_benefit_plan *benefit_plan; /* NULL: the benefits take the general path */
};

/* Builds p->interned and the conds' ids (lib/policy/intern.c); false on NOMEM. */
LOY_INTERNAL bool loy_policy_intern(loy_policy *p);
/* Builds p->order_plan when the policy allows one (lib/policy/order.c); false on NOMEM. */
LOY_INTERNAL bool loy_policy_order_plan(loy_policy *p);
/* Builds p->stage_plan when the policy has lifecycle stages (lib/policy/stages.c); false on NOMEM. */
LOY_INTERNAL bool loy_policy_stage_plan(loy_policy *p);
/* Builds p->surprise_plan when the policy has surprise gifts (lib/policy/gifts.c); false on NOMEM. */
LOY_INTERNAL bool loy_policy_surprise_plan(loy_policy *p);
/* Builds p->effect_nodes (lib/policy/gifts.c); false on NOMEM. */
LOY_INTERNAL bool loy_policy_effect_nodes(loy_policy *p);
/* Builds p->benefit_plan when the policy has benefits (lib/policy/benefits.c); false on NOMEM. */
LOY_INTERNAL bool loy_policy_benefit_plan(loy_policy *p);
/* Builds p->state_ids (lib/policy/ids.c); false on NOMEM. */
LOY_INTERNAL bool loy_policy_state_ids(loy_policy *p);

/* Index lookups by id; -1 when absent. */
LOY_INTERNAL int loy_policy_tier_index(const loy_policy *p, const char *id);
LOY_INTERNAL int loy_policy_plan_index(const loy_policy *p, const char *id);
LOY_INTERNAL int loy_policy_stage_index(const loy_policy *p, const char *id);
LOY_INTERNAL int loy_policy_benefit_index(const loy_policy *p, const char *id);
LOY_INTERNAL int loy_policy_action_index(const loy_policy *p, const char *kind);
LOY_INTERNAL int loy_policy_surprise_index(const loy_policy *p, const char *id);
LOY_INTERNAL int loy_policy_spend_index(const loy_policy *p, const char *id);

#endif
