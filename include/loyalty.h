/**
 * @file loyalty.h
 * @brief libloyalty — loyalty-program rules from a YAML policy.
 *
 * One header is the whole public API. See POLICY.md (the contract) for what
 * each rule means; this header says how a C caller drives it.
 *
 * @par LIFE CYCLE
 * @verbatim
 *   loy_policy_load_file()  -> loy_policy   (immutable, shared)
 *   loy_member_new()        -> loy_member   (one member's state, a value)
 *   loy_event_new()         -> loy_event    (an event, built with setters)
 *   loy_result_new()        -> loy_result   (effects of one decision, reusable)
 *   loy_apply(policy, member, event, result)
 *   loy_member_to_bytes()   -> store the state with the effects
 * @endverbatim
 *
 * @par THREAD SAFETY
 *   A loy_policy is immutable once loaded: any number of threads may use one
 *   policy at the same time, with no locking. A loy_member, loy_event,
 *   loy_result and loy_diag belong to one thread at a time: the library
 *   never locks them, and two threads must not use one of them at once. The
 *   library has no global state and needs no global initialisation; it does
 *   no I/O except in loy_policy_load_file(), reads no clock and no
 *   environment.
 *
 * @par ERRORS
 *   Functions that can fail return 0 (LOY_OK) or a negative LOY_E_* code.
 *   loy_strerror() gives a fixed sentence for a code and loy_error_name() its
 *   name ("LOY_E_DUPLICATE"). Detail lives with the handle that failed:
 *   loy_diag for a policy that did not load, loy_member_error() for a
 *   member call, the result (code, message, reasons) for a refused event.
 *   There is no thread-local "last error".
 *
 * @par OWNERSHIP
 *   Strings passed in are copied. A pointer returned by a getter is borrowed
 *   from the handle it came from and stays valid until that handle changes
 *   or is freed, as each function says. Every loy_x_free(NULL) does nothing.
 *   Members, events and results made under a policy borrow it: free them
 *   before the policy.
 *
 * @par DATES AND INSTANTS
 *   Dates are "YYYY-MM-DD" strings; instants are RFC 3339 strings with an
 *   offset ("2026-11-11T20:15:00+08:00"). Money is int64 minor units.
 */
#ifndef LOYALTY_H
/** Include guard. */
#define LOYALTY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks the exported functions (visibility "default"; dllexport when building a Windows DLL). */
#if defined(_WIN32) && defined(LOY_BUILDING_DLL)
#  define LOY_API __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define LOY_API __attribute__((visibility("default")))
#else
#  define LOY_API
#endif

/* ---------------------------------------------------------------- version */

/** Major version of the header: a change breaks the ABI (never within SONAME libloyalty.so.1). */
#define LOY_VERSION_MAJOR 1
/** Minor version of the header: additions only. */
#define LOY_VERSION_MINOR 0
/** Patch version of the header: fixes only. */
#define LOY_VERSION_PATCH 0
/** The header's version as text. */
#define LOY_VERSION_STRING "1.0.0"
/** MAJOR*10000 + MINOR*100 + PATCH */
#define LOY_VERSION_NUMBER (LOY_VERSION_MAJOR * 10000 + LOY_VERSION_MINOR * 100 + LOY_VERSION_PATCH)

/** The version of the library actually linked, as "1.0.0": compare with the macros. */
LOY_API const char *loy_version(void);
/** The version of the library actually linked, as LOY_VERSION_NUMBER computes it. */
LOY_API int loy_version_number(void);

/* ----------------------------------------------------------------- errors */

/** Return codes. Values are pinned forever: new codes are only ever added. */
typedef enum loy_error {
    LOY_OK = 0,                       /**< success */
    LOY_E_NOMEM = -1,                 /**< an allocation failed; nothing changed */
    LOY_E_INVALID_ARG = -2,           /**< API misuse: NULL handle, bad enum value */
    LOY_E_IO = -3,                    /**< a file could not be read */
    LOY_E_POLICY = -4,                /**< the policy did not load: see loy_diag */
    LOY_E_INVALID_EVENT = -10,        /**< an event is malformed or lacks a field (POLICY.md §11.5) */
    LOY_E_OVERFLOW = -11,             /**< a number outside int64, a total leaving int64, a date past 9999-12-31 */
    LOY_E_DUPLICATE = -12,            /**< the event's id is remembered by the state: applied before */
    LOY_E_OUT_OF_ORDER = -13,         /**< the event is earlier than the last accepted one */
    LOY_E_INVALID_MEMBER = -14,       /**< a member object or import call refused */
    LOY_E_UNKNOWN_TIER = -15,         /**< the member names a tier the policy lacks */
    LOY_E_UNKNOWN_PLAN = -16,         /**< a join or the member names a plan the policy lacks */
    LOY_E_UNKNOWN_BENEFIT = -17,      /**< a use names a benefit the policy lacks */
    LOY_E_PLAN_CONFLICT = -18,        /**< a join for another plan while one runs */
    LOY_E_REDEEM_DISABLED = -19,      /**< a redemption under a policy without points.redeem */
    LOY_E_INSUFFICIENT_POINTS = -20,  /**< a redemption above the available points */
    LOY_E_BELOW_MIN_POINTS = -21,     /**< a redemption below points.redeem.min_points */
    LOY_E_NOT_STEP_MULTIPLE = -22,    /**< a redemption not a multiple of points.redeem.step */
    LOY_E_OVER_ORDER_SHARE = -23,     /**< a redemption worth more than max_order_share of the order */
    LOY_E_BENEFIT_NOT_OPEN = -24,     /**< a benefit use refused: its conditions do not hold (reasons in the result) */
    LOY_E_BENEFIT_LIMIT_REACHED = -25,/**< a benefit use refused only by its limit */
    LOY_E_INVALID_QUERY = -26,        /**< a query that is not benefits or lacks a valid at */
    LOY_E_STATE_TRUNCATED = -27,      /**< state bytes cut short */
    LOY_E_STATE_CHECKSUM = -28,       /**< state bytes that fail their checksum */
    LOY_E_STATE_VERSION = -29,        /**< state bytes of an unknown version */
    LOY_E_STATE_POLICY = -30,         /**< state bytes naming a tier, running plan or stage the policy lacks */
    LOY_E_JSON = -31                  /**< a JSON text is malformed */
} loy_error;

/** A fixed English sentence for a code; never NULL. */
LOY_API const char *loy_strerror(int code);
/** The code's name, e.g. "LOY_E_DUPLICATE"; "LOY_OK" for 0; never NULL. */
LOY_API const char *loy_error_name(int code);

/* -------------------------------------------------------------- allocator */

/**
 * Optional custom allocation for everything made under one policy: the
 * policy itself and every member, event and result created with it. The
 * struct is copied. Any NULL function pointer means the C library's.
 * malloc_fn/realloc_fn may return NULL: the call then fails with
 * LOY_E_NOMEM and leaves every handle as it was.
 */
typedef struct loy_allocator {
    void *(*malloc_fn)(void *ctx, size_t size);               /**< like malloc; ctx is the struct's ctx */
    void *(*realloc_fn)(void *ctx, void *ptr, size_t size);   /**< like realloc */
    void (*free_fn)(void *ctx, void *ptr);                    /**< like free; never called with NULL */
    void *ctx;                                                /**< passed to the three functions as is */
} loy_allocator;

/* ---------------------------------------------------------------- handles */

/** A loaded policy: immutable, shared by threads. */
typedef struct loy_policy loy_policy;   /* immutable, shared by threads */
/** The load errors of a policy. */
typedef struct loy_diag loy_diag;       /* load errors of a policy */
/** One member's state. */
typedef struct loy_member loy_member;   /* one member's state */
/** One event, reusable. */
typedef struct loy_event loy_event;     /* one event, reusable */
/** One decision's answer, reusable. */
typedef struct loy_result loy_result;   /* one decision's answer, reusable */
/** A read-only node of a result. */
typedef struct loy_node loy_node;       /* a read-only node of a result */

/* ---------------------------------------------------------------- policy */

/**
 * Load a policy from a YAML file or from memory. On success *out is the
 * caller's (free with loy_policy_free) and returns LOY_OK. On failure *out
 * is NULL and the code is LOY_E_POLICY (the text does not load),
 * LOY_E_IO (the file cannot be read) or LOY_E_NOMEM. When diag is not
 * NULL, *diag receives every error found (file, line, column, message) —
 * also on success, where it holds none; the caller frees it with
 * loy_diag_free. `name` names the buffer in diagnostics (NULL: "<memory>").
 * The fingerprint is XXH3-64 of the bytes exactly as given.
 */
LOY_API int loy_policy_load_file(loy_policy **out, const char *path, loy_diag **diag);
/** Load a policy from the len bytes at data (see loy_policy_load_file). */
LOY_API int loy_policy_load_buffer(loy_policy **out, const void *data, size_t len,
                                   const char *name, loy_diag **diag);
/** loy_policy_load_buffer with a custom allocator (NULL: the C library's). */
LOY_API int loy_policy_load_buffer_ex(loy_policy **out, const void *data, size_t len,
                                      const char *name, loy_diag **diag,
                                      const loy_allocator *alloc);
/** Free a policy (NULL: nothing). Free its members, events and results first. */
LOY_API void loy_policy_free(loy_policy *policy);

/* Load errors. Strings are borrowed from the diag until loy_diag_free. */
/** The number of load errors (0 for NULL). */
LOY_API size_t loy_diag_count(const loy_diag *diag);
/** The file name given to the load ("<memory>" or the buffer's name); borrowed. */
LOY_API const char *loy_diag_file(const loy_diag *diag);
LOY_API unsigned loy_diag_line(const loy_diag *diag, size_t i);    /**< Line of error i, 1-based (0: the error has no position). */
LOY_API unsigned loy_diag_column(const loy_diag *diag, size_t i);  /**< Column of error i, 1-based. */
/** The message of error i: what was expected, with "did you mean" where it helps; borrowed. */
LOY_API const char *loy_diag_message(const loy_diag *diag, size_t i);
/** Free the load errors (NULL: nothing). */
LOY_API void loy_diag_free(loy_diag *diag);

/** What a policy defines, for tools and bindings. */
typedef enum loy_kind {
    LOY_KIND_TIER = 1,        /**< levels, in ascending order */
    LOY_KIND_MULTIPLIER = 2,  /**< points.earn.multipliers, in policy order */
    LOY_KIND_ACTION = 3,      /**< points.actions kinds, in policy order */
    LOY_KIND_GIFT = 4,        /**< "upgrade:TIER", "birthday:TIER", "surprise:ID", "spend:ID" */
    LOY_KIND_BENEFIT = 5,     /**< benefits, in policy order */
    LOY_KIND_PLAN = 6,        /**< paid plans, in policy order */
    LOY_KIND_STAGE = 7        /**< lifecycle stages, in policy order */
} loy_kind;

/** Number of entries of a kind; 0 for an unknown kind. */
LOY_API size_t loy_policy_count(const loy_policy *policy, loy_kind kind);
/** Id of entry i of a kind; NULL when out of range. Borrowed from the policy. */
LOY_API const char *loy_policy_id(const loy_policy *policy, loy_kind kind, size_t i);
/** Display name of entry i of a kind; NULL when out of range or when the policy gives none. Borrowed. */
LOY_API const char *loy_policy_name(const loy_policy *policy, loy_kind kind, size_t i);
/** A benefit's kind word ("purchase", "service", ...); NULL when out of range. */
LOY_API const char *loy_policy_benefit_kind(const loy_policy *policy, size_t i);
/* `program` (NULL when absent), currency code (NULL when absent), minor units. */
/** The policy's `program` text; NULL when absent. Borrowed. */
LOY_API const char *loy_policy_program(const loy_policy *policy);
/** The policy's currency code; NULL when absent. Borrowed. */
LOY_API const char *loy_policy_currency(const loy_policy *policy);
/** The currency's minor units (decimals of money in the policy; default 2). */
LOY_API int loy_policy_minor_units(const loy_policy *policy);
/** The redemption rate: `points` buy `amount` minor units.
 * LOY_E_REDEEM_DISABLED when the policy has no points.redeem. */
LOY_API int loy_policy_redeem_rate(const loy_policy *policy, int64_t *points, int64_t *amount);
/** XXH3-64 (seed 0) of the source bytes. */
LOY_API uint64_t loy_policy_fingerprint(const loy_policy *policy);
/** The fingerprint as 16 lowercase hex digits + NUL. */
LOY_API void loy_policy_fingerprint_hex(const loy_policy *policy, char out[17]);

/* ---------------------------------------------------------------- members */

/**
 * A member's state. It is a value: load it from bytes, apply events, save
 * it back, in the same transaction as the effects.
 *
 * loy_member_create makes an empty handle (reusable for loading bytes);
 * loy_member_new makes a new member (id, joining date "YYYY-MM-DD").
 * When a call on a member fails, loy_member_error() says why until the next
 * call on it.
 */
LOY_API int loy_member_create(loy_member **out, const loy_policy *policy);
/** Make a new member with an id and a joining date "YYYY-MM-DD"; *out is the caller's (loy_member_free). */
LOY_API int loy_member_new(loy_member **out, const loy_policy *policy,
                           const char *id, const char *joined);
/** Re-initialise an existing handle as a new member. */
LOY_API int loy_member_init(loy_member *member, const char *id, const char *joined);
/** Free a member (NULL: nothing). */
LOY_API void loy_member_free(loy_member *member);
/** Why the last call on the member failed ("" after a success); borrowed until the next call. */
LOY_API const char *loy_member_error(const loy_member *member);

/**
 * @name Profile and legacy import
 * Profile and legacy import (POLICY.md §11.2). These calls are accepted only
 * before the member's first event (LOY_E_INVALID_MEMBER afterwards) and fail
 * with LOY_E_INVALID_MEMBER, LOY_E_UNKNOWN_TIER or LOY_E_UNKNOWN_PLAN
 * without changing the member. The starting lifecycle stage follows them.
 * @{
 */
LOY_API int loy_member_set_birthday(loy_member *member, const char *date);  /**< The birthday "YYYY-MM-DD"; NULL: none. */
/** Add a tag to the member's tags. */
LOY_API int loy_member_add_tag(loy_member *member, const char *tag);
/** The tier and the date "YYYY-MM-DD" it was reached (NULL: the joining date). */
LOY_API int loy_member_import_tier(loy_member *member, const char *tier, const char *since);
/** An available lot of points, its last day "YYYY-MM-DD" (NULL: never expires). */
LOY_API int loy_member_import_lot(loy_member *member, int64_t points, const char *expires);
/** The monthly figures a legacy system may import. */
typedef enum loy_metric {
    LOY_METRIC_SPEND = 0,          /**< qualifying spend, minor units */
    LOY_METRIC_ORDERS = 1,         /**< orders */
    LOY_METRIC_GROWTH = 2,         /**< growth value */
    LOY_METRIC_POINTS_EARNED = 3   /**< points earned */
} loy_metric;
/** One month's figure of a metric; month is "YYYY-MM". */
LOY_API int loy_member_import_month(loy_member *member, loy_metric metric,
                                    const char *month, int64_t value);
/** Lifetime orders (never less than the sum of imported monthly orders). */
LOY_API int loy_member_import_orders(loy_member *member, int64_t orders);
/** The last order's date "YYYY-MM-DD". */
LOY_API int loy_member_import_last_order(loy_member *member, const char *date);
/** A gift given; kind: "upgrade" | "birthday" | "surprise" | "spend"; entry as in §11.2. */
LOY_API int loy_member_import_gift(loy_member *member, const char *kind, const char *entry);
/** A running paid plan and its last day "YYYY-MM-DD". */
LOY_API int loy_member_import_paid(loy_member *member, const char *plan, const char *until);
/** @} */

/**
 * State bytes (POLICY.md §10): versioned, XXH3-checksummed, naming ids.
 * loy_member_to_bytes points *data at a buffer owned by the member, valid
 * until the next call on it. loy_member_load replaces the handle's state
 * with the bytes, read under the handle's policy (§10.2); on failure
 * (LOY_E_STATE_TRUNCATED, _CHECKSUM, _VERSION, _POLICY, LOY_E_NOMEM) the
 * handle is unchanged and loy_member_error() names the problem. A member
 * refused with LOY_E_STATE_POLICY is moved by importing it again
 * (loy_member_new + loy_member_import_*) from the caller's records.
 */
LOY_API int loy_member_to_bytes(loy_member *member, const void **data, size_t *len);
/** Replace the member's state with state bytes (see loy_member_to_bytes). */
LOY_API int loy_member_load(loy_member *member, const void *data, size_t len);

/* What a caller shows. Strings are borrowed from the member until its next
 * change. Dates are written into out as "YYYY-MM-DD" (11 bytes with NUL). */
/** The member's id; borrowed until the member's next change. */
LOY_API const char *loy_member_id(const loy_member *member);
/** The member's tier id; borrowed until the member's next change. */
LOY_API const char *loy_member_tier(const loy_member *member);
/** The date the tier was reached, written into out as "YYYY-MM-DD". */
LOY_API int loy_member_tier_since(const loy_member *member, char out[11]);
LOY_API const char *loy_member_stage(const loy_member *member);  /**< The lifecycle stage id; NULL: none. */
/** Available points (below 0 only with a debt, POLICY.md §4.2). */
LOY_API int64_t loy_member_points_available(const loy_member *member);
/** Points credited but still pending. */
LOY_API int64_t loy_member_points_pending(const loy_member *member);
/** The number of points lots, pending and available. */
LOY_API size_t loy_member_lot_count(const loy_member *member);
/** Lot i, soonest-expiring first. expires is "" for a lot that never expires;
 * pending_until is "" for an available lot. */
LOY_API int loy_member_lot(const loy_member *member, size_t i, int64_t *points,
                           char expires[11], char pending_until[11]);
/** The tier metric (POLICY.md §3.1) in the tier window as of a date. */
LOY_API int loy_member_metric(const loy_member *member, const char *as_of, int64_t *out);

/* ----------------------------------------------------------------- events */

/** The type of an event (POLICY.md §11.1). */
typedef enum loy_event_type {
    LOY_EVENT_ORDER = 1,          /**< a purchase: lines, savings */
    LOY_EVENT_RETURN = 2,         /**< a refund of (part of) an order */
    LOY_EVENT_ACTION = 3,         /**< signup, review, share, check-in... */
    LOY_EVENT_REDEEM = 4,         /**< points spent on an order */
    LOY_EVENT_USE_BENEFIT = 5,    /**< a benefit used */
    LOY_EVENT_JOIN_PAID = 6,      /**< a paid plan joined or extended */
    LOY_EVENT_PROFILE = 7,        /**< birthday or tags changed */
    LOY_EVENT_TICK = 8            /**< no business: lets time-driven rules run */
} loy_event_type;

/**
 * An event is built with setters and may be reused with loy_event_reset.
 * Setters copy their strings and return LOY_OK, LOY_E_NOMEM or
 * LOY_E_INVALID_ARG (NULL handle, a field the event type does not have).
 * Values are checked by loy_apply, which refuses an invalid event with its
 * reason (LOY_E_INVALID_EVENT, LOY_E_OVERFLOW) in the result.
 */
LOY_API int loy_event_new(loy_event **out, const loy_policy *policy);
/** Clear the event and start one of a type, with its id and instant (RFC 3339 with an offset). */
LOY_API int loy_event_reset(loy_event *event, loy_event_type type, const char *id,
                            const char *at);
/** Free an event (NULL: nothing). */
LOY_API void loy_event_free(loy_event *event);
/** The channel (pos, app, mini_program...), for conditions. */
LOY_API int loy_event_set_channel(loy_event *event, const char *channel);
/** The store, for conditions. */
LOY_API int loy_event_set_store(loy_event *event, const char *store);
/* order */
/** order: money saved through paid benefits, minor units (default 0). */
LOY_API int loy_event_set_savings(loy_event *event, int64_t savings);
/* order and return lines; sku and category may be NULL; qty is informational */
/** order and return: add a line; sku and category may be NULL; amount is the line total in minor units; qty is informational. */
LOY_API int loy_event_add_line(loy_event *event, const char *sku, const char *category,
                               int64_t amount, int64_t qty);
/* return */
/** return: the refunded amount, minor units. */
LOY_API int loy_event_set_amount(loy_event *event, int64_t amount);
/** return: the original order's id, instant, amount and the points it earned. */
LOY_API int loy_event_set_original(loy_event *event, const char *order_id, const char *at,
                                   int64_t amount, int64_t points);
/* action */
/** action: the kind (signup, review...). */
LOY_API int loy_event_set_kind(loy_event *event, const char *kind);
/* redeem */
/** redeem: the points to spend. */
LOY_API int loy_event_set_points(loy_event *event, int64_t points);
/** redeem: the amount of the order paid with them, minor units. */
LOY_API int loy_event_set_order_amount(loy_event *event, int64_t order_amount);
/* use_benefit */
/** use_benefit: the benefit's id. */
LOY_API int loy_event_set_benefit(loy_event *event, const char *benefit);
/* join_paid */
/** join_paid: the plan's id. */
LOY_API int loy_event_set_plan(loy_event *event, const char *plan);
/* profile: a date, or NULL to remove the birthday */
/** profile: the birthday "YYYY-MM-DD", or NULL to remove it. */
LOY_API int loy_event_set_birthday(loy_event *event, const char *date);
/* profile: replace the tags with the ones added after this call */
/** profile: replace the member's tags with the ones added after this call. */
LOY_API int loy_event_clear_tags(loy_event *event);
/** profile: a tag of the new set (after loy_event_clear_tags). */
LOY_API int loy_event_add_tag(loy_event *event, const char *tag);

/* ---------------------------------------------------------------- results */

/* Options of a result. */
#define LOY_RESULT_TRACE 1u        /**< add a "trace" of every rule considered */
#define LOY_RESULT_FINGERPRINT 2u  /**< add "policy": the policy's fingerprint */

/** Make a result, reusable for any number of calls; *out is the caller's (loy_result_free). */
LOY_API int loy_result_new(loy_result **out, const loy_policy *policy);
/** Free a result (NULL: nothing). */
LOY_API void loy_result_free(loy_result *result);
/** Set the options (LOY_RESULT_TRACE | LOY_RESULT_FINGERPRINT) for the next calls. */
LOY_API void loy_result_set_options(loy_result *result, unsigned options);

/**
 * Apply one event to a member (POLICY.md §10.1). Returns LOY_OK when the
 * event was accepted (the member changed), or the refusal's code, with the
 * member unchanged byte for byte. Either way the result holds the answer:
 * effects and member summary, or the error with its message and reasons.
 * LOY_E_NOMEM and LOY_E_INVALID_ARG also leave the member unchanged.
 */
LOY_API int loy_apply(const loy_policy *policy, loy_member *member,
                      const loy_event *event, loy_result *result);

/**
 * The benefits query (POLICY.md §11.4) at an instant, with optional channel
 * and store (NULL: none). It never changes the member. LOY_E_INVALID_QUERY
 * for a malformed instant.
 */
LOY_API int loy_query_benefits(const loy_policy *policy, const loy_member *member,
                               const char *at, const char *channel, const char *store,
                               loy_result *result);

/** The last call's code. */
LOY_API int loy_result_code(const loy_result *result);
/** The last call's message ("" on success). Borrowed. */
LOY_API const char *loy_result_message(const loy_result *result);

/**
 * @name Reading a result
 * The answer as a read-only tree of the exact shape of POLICY.md §11.3 and
 * §11.4 ({"event": ..., "effects": [...], "member": {...}} and so on), so a
 * caller reads effects without JSON and a binding turns them into its own
 * values. Nodes are borrowed from the result until its next use or free.
 * @{
 */
/** The type of a node. */
typedef enum loy_node_kind {
    LOY_NODE_NULL = 0,      /**< null */
    LOY_NODE_BOOL = 1,      /**< true or false */
    LOY_NODE_INT = 2,       /**< an int64 */
    LOY_NODE_DECIMAL = 3,   /**< an exact decimal, as text ("0.95") */
    LOY_NODE_STRING = 4,    /**< UTF-8 text */
    LOY_NODE_LIST = 5,      /**< a list of nodes */
    LOY_NODE_MAP = 6        /**< keys and nodes, in order */
} loy_node_kind;

/** The root of the answer ({"event": ..., "effects": [...], "member": {...}} or an error object). */
LOY_API const loy_node *loy_result_root(const loy_result *result);
/** The node's type. */
LOY_API loy_node_kind loy_node_type(const loy_node *node);
/* Children of a list or map, in order; for a map child, loy_node_key. */
/** The number of children of a list or map (0 otherwise). */
LOY_API size_t loy_node_count(const loy_node *node);
/** The first child of a list or map, or NULL. */
LOY_API const loy_node *loy_node_first(const loy_node *node);
/** The next sibling, or NULL after the last. */
LOY_API const loy_node *loy_node_next(const loy_node *node);
/** Child i of a list or map, or NULL. */
LOY_API const loy_node *loy_node_at(const loy_node *node, size_t i);
/** The key of a map's child (NULL otherwise). */
LOY_API const char *loy_node_key(const loy_node *node);
/** The child of a map with that key, or NULL. */
LOY_API const loy_node *loy_node_get(const loy_node *node, const char *key);
/* Scalars: an int (0 otherwise), a bool, and the text of a string or decimal
 * (NULL otherwise; len may be NULL). */
/** An int node's value (0 otherwise). */
LOY_API int64_t loy_node_int(const loy_node *node);
/** A bool node's value (0 otherwise). */
LOY_API int loy_node_bool(const loy_node *node);
/** The text of a string or decimal node (NULL otherwise); its length in *len (len may be NULL). */
LOY_API const char *loy_node_str(const loy_node *node, size_t *len);
/** @} */

/* ------------------------------------------------------------ JSON (wire) */

/**
 * @name JSON (wire format)
 * The wire format of POLICY.md §11, for FFI callers who prefer text.
 *
 * loy_member_init_json: read a member line {"member": {...}} into a member
 * handle (new member, with any legacy import fields). On refusal the result
 * holds the error object ({"event": null, "error": ...}).
 *
 * loy_apply_json_line: one event line or benefits query line against a
 * member handle; the result holds the answer (also for malformed JSON,
 * LOY_E_JSON, and events the wire cannot read, LOY_E_INVALID_EVENT).
 *
 * loy_apply_json: the one-call form: state bytes + event or query JSON in;
 * the result holds the answer and the new state bytes (loy_result_state:
 * the input bytes unchanged when the event was refused or was a query).
 *
 * loy_result_json: the result as one line of JSON (no newline), UTF-8 with
 * every string escaped; borrowed from the result until its next use.
 * @{
 */
/** Read a member line {"member": {...}} into a member handle. */
LOY_API int loy_member_init_json(loy_member *member, const char *json, size_t len,
                                 loy_result *result);
/** Apply one event line or benefits query line to a member handle. */
LOY_API int loy_apply_json_line(const loy_policy *policy, loy_member *member,
                                const char *json, size_t len, loy_result *result);
/** The one-call form: state bytes + one event or query line in, answer and new state bytes in the result. */
LOY_API int loy_apply_json(const loy_policy *policy, const void *state, size_t state_len,
                           const char *json, size_t len, loy_result *result);
/** The state bytes after loy_apply_json, borrowed from the result; their length in *len. */
LOY_API const void *loy_result_state(const loy_result *result, size_t *len);
/** The result as one line of JSON (no newline); its length in *len (len may be NULL). Borrowed. */
LOY_API const char *loy_result_json(loy_result *result, size_t *len);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* LOYALTY_H */
