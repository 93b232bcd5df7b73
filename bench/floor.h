/*
 * The floor: what a well-written checkout function hard-coded for
 * policies/apparel.yaml costs, with no policy, no result tree and no
 * generic machinery. It answers the same question as loy_apply on an order
 * under apparel.yaml — housekeeping (release, expiry), points with the same
 * multipliers, rounding and caps, upgrade and upgrade gifts, the birthday
 * gift, surprise gifts, the monthly spend gift, the lifecycle stage, the
 * member summary — and, as a second function, which benefits are open.
 *
 * Its member is a flat struct a caller could keep in a row; bench/cases.c
 * fills it from the library's state once, outside any timing, and checks
 * every answer against the library's result tree.
 *
 * What it leaves out, because no generated case needs it: tier reviews (the
 * generator keeps tier_since within the year, so no review is due), paid
 * plans (apparel has none), debt (negative_balance is false).
 */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

#include <stdbool.h>
#include <stdint.h>

#define FL_NONE INT32_MIN      /* no date */
#define FL_MAX_LOTS 12
#define FL_MAX_LINES 8
#define FL_MAX_SPEND_MARKS 6

enum { FL_TIER_MEMBER, FL_TIER_SILVER, FL_TIER_GOLD, FL_TIER_PLATINUM, FL_TIERS };
enum { FL_STAGE_DORMANT, FL_STAGE_LOYAL, FL_STAGE_REPEAT, FL_STAGE_FIRST, FL_STAGE_REGISTERED };
enum { FL_TAG_EMPLOYEE = 1, FL_TAG_VIP = 2 };
enum { FL_RULE_TIER_BONUS = 1, FL_RULE_MEMBER_DAY = 2, FL_RULE_BIRTHDAY = 4, FL_RULE_NEW_SEASON = 8 };
enum { FL_SURPRISE_CRAB = 1, FL_SURPRISE_FABRIC = 2 };

typedef struct fl_lot {
    int64_t points;
    int32_t expires;            /* last day; FL_NONE never */
    int32_t pending_until;      /* FL_NONE: available */
    uint32_t seq;               /* credit order */
    const char *order_id;       /* pending lots */
} fl_lot;

typedef struct fl_bucket {
    int32_t month;              /* y*12 + m-1; FL_NONE: empty slot */
    int64_t spend;
    int64_t orders;
} fl_bucket;

typedef struct fl_member {
    const char *id;
    int32_t joined;
    int32_t bday_month, bday_day;      /* 0: no birthday */
    unsigned tags;                     /* FL_TAG_* */
    int32_t tier;
    int32_t tier_since;
    int lot_count;
    fl_lot lots[FL_MAX_LOTS];
    uint32_t next_seq;
    fl_bucket months[12];              /* a ring keyed by month % 12 */
    int64_t orders;                    /* lifetime */
    int32_t last_order;                /* FL_NONE: none */
    unsigned upgrade_given;            /* bit per tier */
    uint64_t birthday_years;           /* bit (year - 2000) */
    uint64_t crab_years;               /* bit (year - 2000) */
    bool fabric_given;
    int spend_mark_count;
    int32_t spend_marks[FL_MAX_SPEND_MARKS];   /* monthly-credit months given */
    int32_t cap_day;
    int64_t day_points;
    int32_t stage;
} fl_member;

typedef struct fl_line {
    const char *category;       /* NULL: none */
    int64_t amount;
} fl_line;

typedef struct fl_order {
    const char *id;
    const char *at;             /* "YYYY-MM-DDTHH:MM:SS+08:00" */
    const char *channel;
    int line_count;
    fl_line lines[FL_MAX_LINES];
} fl_order;

typedef struct fl_decision {
    int release_count;
    struct { int64_t points; const char *order_id; } release[FL_MAX_LOTS];
    int expiry_count;
    struct { int64_t points; int32_t day; } expiry[FL_MAX_LOTS];
    int64_t order_points;       /* 0: no points effect */
    unsigned rules;             /* FL_RULE_* that applied */
    int32_t pending_until;
    int32_t expires;            /* of every credit of this event */
    int32_t tier_from, tier_to; /* equal: no change */
    unsigned upgrade_gifts;     /* bit per level given */
    bool birthday;
    int32_t birthday_tier, birthday_year;
    unsigned surprise;          /* FL_SURPRISE_* */
    bool spend_gift;
    int32_t spend_month;
    int32_t stage_from, stage_to;
    int32_t tier;
    int64_t available, pending;
    int32_t stage;
} fl_decision;

typedef struct fl_benefits {
    unsigned open;              /* bit per benefit, policy order */
    int32_t price_tier;         /* member-price value: tier whose value applies, -1 none */
} fl_benefits;

/* Day numbers since 1970-01-01 (proleptic Gregorian). */
int32_t fl_days(int32_t y, int32_t m, int32_t d);
void fl_ymd(int32_t day, int32_t *y, int32_t *m, int32_t *d);

/* Apply the order to m in place, as loy_apply does to its member. The
 * bench resets m from the case's state before each call and times that
 * reset apart, as it does the library's. Returns 0, or -1 when the order
 * is outside what the floor handles (m is then part-way changed). */
int fl_checkout(fl_member *m, const fl_order *order, fl_decision *d);
/* Which benefits are open to m at the order's instant (after the order). */
void fl_benefits_open(const fl_member *m, const char *channel, fl_benefits *b);

extern const char *const fl_tier_ids[FL_TIERS];
extern const char *const fl_stage_ids[5];
extern const char *const fl_rule_ids[4];
extern const char *const fl_benefit_ids[7];
extern const char *const fl_price_values[FL_TIERS];

#endif
