/*
 * The policy loader's private plumbing, shared by the files of lib/policy/ only:
 *
 *   load.c      YAML text -> a tree of nodes with positions (libyaml events)
 *   build.c     the tree -> struct loy_policy (lib/policy.h), section by
 *               section, validating every rule of POLICY.md §2-§8 and
 *               reporting every error (build.h: the validator's plumbing)
 *   cond.c      conditions (`when`, §9) -> loy_cond trees
 *   values.c    typed values of the tree: ids, words, money, integers...
 *   decimal.c   exact decimals from scalar text
 *   policy.c    the public entry points, getters and diagnostics
 *
 * Nothing here evaluates a policy: that is lib/engine/.
 */
#ifndef LOY_POLICY_INTERNAL_H
#define LOY_POLICY_INTERNAL_H

#include "../policy.h"

/*
 * Bounds of what the loader accepts (also in docs/policy-limits.md). The
 * reference policies are about 5 KiB, 4 levels deep and 600 nodes, so each
 * bound is hundreds of times above any real program, and small enough that a
 * hostile file cannot exhaust memory or time:
 *   - the source is at most 4 MiB;
 *   - mappings and lists nest at most 64 deep (aliases expanded);
 *   - the document has at most 1,000,000 nodes once every alias is expanded
 *     (a "billion laughs" file stops here: aliases are shared, never copied,
 *     but the validator walks each use, so the expanded count is what costs);
 *   - at most 100 errors are reported, then a last line says more were cut.
 */
#define LOY_POLICY_MAX_BYTES ((size_t)4 << 20)
#define LOY_POLICY_MAX_DEPTH 64u
#define LOY_POLICY_MAX_NODES 1000000u
#define LOY_POLICY_MAX_ERRORS 100u

/* ------------------------------------------------------------- the tree */

typedef enum loy_yn_kind { LOY_YN_SCALAR = 0, LOY_YN_SEQ, LOY_YN_MAP } loy_yn_kind;

typedef struct loy_yn loy_yn;
struct loy_yn {
    loy_yn_kind kind;
    bool plain;          /* scalar written plain with no tag: typed as YAML 1.1 */
    bool done;           /* container closed (an alias may refer to it) */
    bool merge_key;      /* a plain `<<` key (already reported) */
    bool key_waiting;    /* map being read: a key waits for its value */
    uint32_t line, col;  /* 1-based start of the node */
    const char *text;    /* scalar: its value, NUL-terminated */
    size_t len;
    loy_yn **kids;       /* seq: items; map: kids[2i] key, kids[2i+1] value */
    uint32_t count;      /* seq: items; map: pairs */
    uint32_t cap;        /* slots allocated in kids */
    uint64_t weight;     /* nodes once aliases are expanded */
    uint32_t height;     /* nesting levels, 1 for a scalar */
};

static inline const loy_yn *loy_yn_key(const loy_yn *map, uint32_t i) { return map->kids[2 * i]; }
static inline const loy_yn *loy_yn_val(const loy_yn *map, uint32_t i) { return map->kids[2 * i + 1]; }

/* ---------------------------------------------------------- diagnostics */

typedef struct loy_diag_entry {
    unsigned line, col;  /* 1-based; 0 when the error has no position (I/O) */
    const char *message;
} loy_diag_entry;

struct loy_diag {
    loy_alloc alloc;
    loy_arena arena;     /* the file name and messages */
    const char *file;
    loy_diag_entry *items;
    size_t count, cap;
    bool truncated;      /* LOY_POLICY_MAX_ERRORS reached */
};

LOY_INTERNAL loy_diag *loy_diag_create(const loy_alloc *alloc, const char *file);
/* Adds an error unless an identical one is there. false on NOMEM. */
LOY_INTERNAL bool loy_diag_add(loy_diag *d, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Orders the errors by position (stable), the "too many" line last. */
LOY_INTERNAL void loy_diag_sort(loy_diag *d);

/* ------------------------------------------------------------- phases */

/*
 * Parse YAML text into a tree in `tmp`. Returns LOY_OK with *root set (NULL
 * for an empty document; d may already hold errors that did not stop the
 * reading, such as a merge key), LOY_E_POLICY when the text cannot be read
 * as one YAML document within the bounds (errors in d), LOY_E_NOMEM.
 */
LOY_INTERNAL int loy_yaml_parse(const char *data, size_t len, loy_arena *tmp, loy_diag *d,
                                loy_yn **root);

/*
 * Validate the tree and fill p (its arena already set up). Returns LOY_OK,
 * LOY_E_POLICY (errors in d) or LOY_E_NOMEM. On failure p holds garbage
 * that the caller frees with its arena.
 */
/* The leaves of a condition as one flat list, for the plans compiled at
 * load (stages.c, gifts.c): a map's and an `all`'s entries hold together
 * exactly when each of them holds, so they are flattened; any other
 * condition (`any`, `not`, a predicate) is one leaf. */
LOY_INTERNAL uint32_t loy_cond_leaf_count(const loy_cond *c);
LOY_INTERNAL void loy_cond_each_leaf(const loy_cond *c, void (*leaf)(const loy_cond *, void *), void *ctx);

LOY_INTERNAL int loy_policy_build(loy_policy *p, const loy_yn *root, loy_arena *tmp, loy_diag *d);

/* Optimal-string-alignment edit distance, capped: returns cap+1 when above. */
LOY_INTERNAL size_t loy_edit_distance(const char *a, const char *b, size_t cap);

#endif
