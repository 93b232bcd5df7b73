/*
 * The benchmark suite (`make bench`): shared declarations of its parts.
 *
 *   main.c    the harness: timing, allocation counting, callgrind, the table
 *   cases.c   realistic checkout cases under apparel.yaml, the floor's view
 *             of each member, and the check of every answer against it
 *   floor.c   the hard-coded checkout the library is measured against
 *   gen.c     generated inputs: a large policy, a member's year, a history
 *
 * The bench reads the library's internal member struct (lib/member.h) only
 * to fill the floor's flat member once per case, outside any timing.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "floor.h"
#include "loyalty.h"

/* A small deterministic generator (splitmix64), so every run sees the
 * same cases. */
typedef struct bench_rng { uint64_t s; } bench_rng;
uint64_t bench_next(bench_rng *r);
/* Uniform in [lo, hi]. */
int64_t bench_range(bench_rng *r, int64_t lo, int64_t hi);
/* true with probability pct/100. */
int bench_chance(bench_rng *r, int pct);

typedef struct bench_line {
    char sku[16];
    const char *category;       /* NULL: none */
    int64_t amount;
    int64_t qty;
} bench_line;

typedef struct bench_case {
    char member_id[16];
    char order_id[24];
    char at[32];
    const char *channel;
    char store[16];             /* "" none */
    int line_count;
    bench_line lines[FL_MAX_LINES];

    loy_member *pristine;       /* the member before the order */
    uint8_t *bytes;             /* its state bytes (malloc'd) */
    size_t bytes_len;
    char *event_json;           /* the order as a wire line (malloc'd) */
    size_t event_json_len;

    fl_member floor_in;         /* the floor's view of the member */
    fl_order floor_order;
    unsigned traits;            /* BENCH_T_*: what the case exercises */
} bench_case;

enum {
    BENCH_T_NEAR_THRESHOLD = 1u << 0,
    BENCH_T_NEAR_CAP = 1u << 1,
    BENCH_T_RELEASE = 1u << 2,
    BENCH_T_EXPIRED_LOT = 1u << 3,
    BENCH_T_BIRTHDAY_MONTH = 1u << 4,
    BENCH_T_MEMBER_DAY = 1u << 5,
    BENCH_T_NEW_MEMBER = 1u << 6,
    BENCH_T_DORMANT = 1u << 7
};

typedef struct bench_cases {
    bench_case *items;
    size_t count;
} bench_cases;

/* Make n cases under the apparel policy. Returns 0, or -1 with a message
 * on stderr. */
int bench_cases_make(bench_cases *out, const loy_policy *apparel, size_t n, uint64_t seed);
void bench_cases_free(bench_cases *cases);

/* Build the case's order into a reused event handle. */
int bench_build_event(loy_event *ev, const bench_case *c);

/*
 * Compare the library's answer for a case (the result of loy_apply) with
 * the floor's decision; with `benefits` also a benefits query's result
 * against the floor's benefits. 0 when equal; else -1 and a description in
 * why (size why_len).
 */
int bench_check_apply(const loy_result *r, const bench_case *c, const fl_decision *d, char *why,
                      size_t why_len);
int bench_check_benefits(const loy_result *r, const fl_benefits *b, char *why, size_t why_len);

/* Counters of a case set, for the report. */
void bench_cases_describe(const bench_cases *cases, char *out, size_t out_len);

/* gen.c: a large policy (YAML, malloc'd, NUL-terminated). */
char *bench_large_policy(int tiers, int multipliers, int benefits, size_t *len);
/* A member's year under apparel.yaml as wire lines: the member line then
 * events (malloc'd, '\n'-separated); *events counts the event lines. */
char *bench_member_year(const char *member_id, uint64_t seed, size_t *len, size_t *events);

#endif
