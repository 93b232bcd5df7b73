/*
 * The validator's private plumbing, shared by build.c (the sections of a
 * policy), cond.c (conditions, POLICY.md §9) and values.c (typed values read
 * from the tree of load.c). Nothing outside lib/policy/ includes it.
 *
 * Every pb_* function that reads a value reports what is wrong with it
 * (pb_err: `PATH: message` at the node, into the diag) and returns
 * false / NULL / -1, so a caller simply goes on with the next key; a failed
 * allocation sets builder.nomem and the build ends with LOY_E_NOMEM.
 */
#ifndef LOY_POLICY_BUILD_H
#define LOY_POLICY_BUILD_H

#include "internal.h"

typedef struct named {
    const char *id;
    uint32_t i;
} named;

typedef struct builder {
    loy_policy *p;
    loy_arena *pa;              /* the policy's arena */
    loy_arena *tmp;             /* scratch for this load */
    loy_diag *d;
    bool nomem;

    int32_t minor;              /* currency.minor_units */
    const char *money_unit;     /* "money in CNY" for messages */

    bool tiers_ok;              /* level ids read cleanly: tier references can be checked */
    const char **tier_ids;      /* by index, for suggestions */
    uint32_t tier_n;
    struct named *tier_sorted;  /* by id, for lookups (a policy may be large) */
    const char **plan_ids;
    uint32_t plan_n;
    struct named *plan_sorted;
    bool stages_ok;
    const char **stage_ids;
    uint32_t stage_n;
    struct named *stage_sorted;
    bool has_birthday;          /* gifts.birthday is written */
    int32_t orders_months;      /* largest orders_in_months M */
} builder;

/* YAML 1.1 type of a plain scalar (quoted scalars are ST_STR). */
typedef enum stype { ST_STR = 0, ST_NULL, ST_BOOL, ST_DATE, ST_INT, ST_FLOAT } stype;

static inline bool pb_is_digit(char c) { return c >= '0' && c <= '9'; }

/* A short description of a node for "got ...". */
#define DESC(n) pb_desc((n), (char[96]){0}, 96)
/* A NULL-terminated list of keys or words, for pb_need_all and friends. */
#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---------------------------------------------------------------- values.c */

/* Report "PATH: message" at a node (1:1 when NULL). */
LOY_INTERNAL void pb_err(builder *b, const loy_yn *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Zeroed memory in the policy's arena (kept) or the scratch arena (dropped after the load). */
LOY_INTERNAL void *pb_palloc(builder *b, size_t count, size_t size);
LOY_INTERNAL void *pb_talloc(builder *b, size_t count, size_t size);
/* A copy of s[0..len) in the policy's arena. */
LOY_INTERNAL const char *pb_pstr(builder *b, const char *s, size_t len);

/* path + "." + key, or key at the top level. */
LOY_INTERNAL const char *pb_sub(builder *b, const char *path, const char *key);

/* path + "[i]" */
LOY_INTERNAL const char *pb_idx(builder *b, const char *path, uint32_t i);

/* The YAML 1.1 type of a scalar (§2). */
LOY_INTERNAL stype pb_styp(const loy_yn *n);
/* 16, 2 or 60 for a plain YAML 1.1 number written in that base (0x1F, 0b101,
 * 1:30), which no decimal field reads; 0 otherwise. */
LOY_INTERNAL int pb_base(const loy_yn *n);

/* A short description of a node for "got ..." (into buf). */
LOY_INTERNAL const char *pb_desc(const loy_yn *n, char *buf, size_t cap);

/* Entries of a NULL-terminated list. */
LOY_INTERNAL size_t pb_count_words(const char *const *words);

/* "; did you mean 'X'?" or "". */
LOY_INTERNAL const char *pb_hint(builder *b, const char *word, const char *const *cands, size_t n);

/* "a, b or c" */
LOY_INTERNAL const char *pb_join_words(builder *b, const char *const *words, const char *last_sep);

/* The value / the key node of a key in a mapping; NULL when absent. */
LOY_INTERNAL const loy_yn *pb_mget(const loy_yn *m, const char *key);
LOY_INTERNAL const loy_yn *pb_mkey(const loy_yn *m, const char *key);

/* The node is a mapping / a list; else reported. */
LOY_INTERNAL bool pb_want_map(builder *b, const loy_yn *n, const char *path);
LOY_INTERNAL bool pb_want_seq(builder *b, const loy_yn *n, const char *path);
/* The key is in the mapping; else "missing required key", at the mapping. */
LOY_INTERNAL bool pb_need(builder *b, const loy_yn *m, const char *path, const char *key);

/* pb_need() for each key (every missing one reported); true when all are there. */
LOY_INTERNAL bool pb_need_all(builder *b, const loy_yn *m, const char *path, const char *const *keys);

/*
 * Report every repeated id among ids[0..n) (NULL entries skipped), at
 * nodes[i], naming the first occurrence. what: "key", "tier id"...
 */
LOY_INTERNAL void pb_report_dups(builder *b, const char **ids, const loy_yn *const *nodes, uint32_t n,
                                 const char *path, const char *what);

/*
 * Unknown keys (when `allowed` is not NULL) and repeated keys of a mapping,
 * reported at the key.
 */
LOY_INTERNAL void pb_check_keys(builder *b, const loy_yn *m, const char *path, const char *const *allowed);

/* Text that may not be empty or hold a NUL (ids); returns a policy copy. */
LOY_INTERNAL const char *pb_text_of(builder *b, const loy_yn *n, const char *path, bool allow_empty);

/* An id (§2): text, or an unquoted integer taken as its text. */
LOY_INTERNAL const char *pb_id(builder *b, const loy_yn *n, const char *path);

/* Free text (program, names). */
LOY_INTERNAL const char *pb_text(builder *b, const loy_yn *n, const char *path);

/* A word of a closed list; returns its index or -1 (reported). */
LOY_INTERNAL int pb_word(builder *b, const loy_yn *n, const char *path, const char *const *words);

/* A YAML 1.1 boolean (yes/no/on/off/true/false). */
LOY_INTERNAL bool pb_bool(builder *b, const loy_yn *n, const char *path, bool *out);

/* A decimal scaled by 10^scale. what: the expectation; unit: for "takes at most N decimals". */
LOY_INTERNAL bool pb_decimal(builder *b, const loy_yn *n, const char *path, int scale, const char *what,
                             const char *unit, int64_t *out);

/* Money in minor units (currency.minor_units decimals); positive: > 0. */
LOY_INTERNAL bool pb_money(builder *b, const loy_yn *n, const char *path, bool positive, int64_t *out);

/* A factor, share or benefit value: 4 decimals. unit: "a factor"... */
LOY_INTERNAL bool pb_fix(builder *b, const loy_yn *n, const char *path, const char *unit, int64_t *out);

/* A non-negative, unquoted integer in lo..hi. */
LOY_INTERNAL bool pb_int(builder *b, const loy_yn *n, const char *path, int64_t lo, int64_t hi, int64_t *out);

LOY_INTERNAL bool pb_int32(builder *b, const loy_yn *n, const char *path, int64_t lo, int64_t hi, int32_t *out);
/* YYYY-MM-DD, plain or quoted. */
LOY_INTERNAL bool pb_date(builder *b, const loy_yn *n, const char *path, loy_day *out);
/* HH:MM, plain or quoted, to minutes since midnight. */
LOY_INTERNAL bool pb_time(builder *b, const loy_yn *n, const char *path, int32_t *out);

/* One value or a list of them (§9). */
LOY_INTERNAL const loy_yn *const *pb_items_of(const loy_yn *const *one, uint32_t *count, bool *as_list);

/* An id or a list of ids into a loy_strs. */
LOY_INTERNAL bool pb_strs(builder *b, const loy_yn *n, const char *path, loy_strs *out, bool *as_list);

/* ids[0..n) sorted by (id, index), NULL ids left out; n entries allocated. */
LOY_INTERNAL named *pb_sort_ids(builder *b, const char *const *ids, uint32_t n);

/* A tier id -> index; -1 reported (or tiers unknown: -2, silent). */
LOY_INTERNAL int pb_tier_ref(builder *b, const loy_yn *n, const char *path);

/* A plan / stage id -> index; -1 reported (stages unknown: -2, silent). */
LOY_INTERNAL int pb_plan_ref(builder *b, const loy_yn *n, const char *path);
LOY_INTERNAL int pb_stage_ref(builder *b, const loy_yn *n, const char *path);

/* ------------------------------------------------------------------ cond.c */

/* The `when` of a rule; NULL when absent or wrong (reported). */
LOY_INTERNAL const loy_cond *pb_when(builder *b, const loy_yn *map, const char *path, bool line_ok, bool *ok);

#endif
