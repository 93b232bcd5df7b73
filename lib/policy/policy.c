/*
 * The policy's public entry points (include/loyalty.h): loading from a file
 * or a buffer, diagnostics, getters, freeing; and the internal index
 * lookups of lib/policy.h.
 *
 * A load reads the text into a temporary tree (load.c), builds the policy
 * into its own arena (build.c), then drops the tree. A policy loads whole or
 * not at all: on any error the arena is released and *out stays NULL.
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <xxhash.h>

/* ------------------------------------------------------------------ diag */

loy_diag *loy_diag_create(const loy_alloc *alloc, const char *file)
{
    loy_diag *d = loy_malloc(alloc, sizeof *d);
    if (!d)
        return NULL;
    memset(d, 0, sizeof *d);
    d->alloc = *alloc;
    loy_arena_init(&d->arena, &d->alloc);
    d->file = loy_arena_strdup(&d->arena, file ? file : "<memory>");
    if (!d->file) {
        loy_diag_free(d);
        return NULL;
    }
    return d;
}

bool loy_diag_add(loy_diag *d, unsigned line, unsigned col, const char *fmt, ...)
{
    if (d->truncated)
        return true;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    loy_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* An aliased node validated twice gives the same error twice: keep one. */
    for (size_t i = 0; i < d->count; i++)
        if (d->items[i].line == line && d->items[i].col == col && strcmp(d->items[i].message, msg) == 0)
            return true;
    if (!LOY_GROW(&d->alloc, d->items, d->cap, d->count + 1))
        return false;
    if (d->count == LOY_POLICY_MAX_ERRORS) {
        snprintf(msg, sizeof msg, "too many errors; only the first %u are reported", LOY_POLICY_MAX_ERRORS);
        d->truncated = true;
    }
    const char *text = msg;
    char *copy = loy_arena_strdup(&d->arena, text);
    if (!copy)
        return false;
    d->items[d->count++] = (loy_diag_entry){line, col, copy};
    return true;
}

void loy_diag_sort(loy_diag *d)
{
    size_t n = d->truncated ? d->count - 1 : d->count;
    /* a stable insertion sort by position (at most LOY_POLICY_MAX_ERRORS entries) */
    for (size_t i = 1; i < n; i++) {
        loy_diag_entry e = d->items[i];
        size_t j = i;
        while (j > 0 && (d->items[j - 1].line > e.line ||
                         (d->items[j - 1].line == e.line && d->items[j - 1].col > e.col))) {
            d->items[j] = d->items[j - 1];
            j--;
        }
        d->items[j] = e;
    }
}

size_t loy_diag_count(const loy_diag *d) { return d ? d->count : 0; }
const char *loy_diag_file(const loy_diag *d) { return d ? d->file : NULL; }

unsigned loy_diag_line(const loy_diag *d, size_t i) { return d && i < d->count ? d->items[i].line : 0; }
unsigned loy_diag_column(const loy_diag *d, size_t i) { return d && i < d->count ? d->items[i].col : 0; }
const char *loy_diag_message(const loy_diag *d, size_t i) { return d && i < d->count ? d->items[i].message : NULL; }

void loy_diag_free(loy_diag *d)
{
    if (!d)
        return;
    loy_alloc alloc = d->alloc;
    loy_arena_release(&d->arena);
    loy_free(&alloc, d->items);
    loy_free(&alloc, d);
}

/* ------------------------------------------------------------------ load */

/* The policy and its arena in one allocation. */
typedef struct policy_box {
    loy_policy policy;
    loy_arena arena;
} policy_box;

static void box_free(policy_box *box)
{
    loy_alloc alloc = box->policy.alloc;
    loy_arena_release(&box->arena);
    loy_free(&alloc, box);
}

static int load(loy_policy **out, const void *data, size_t len, loy_diag *d, const loy_alloc *alloc)
{
    if (len > LOY_POLICY_MAX_BYTES) {
        if (!loy_diag_add(d, 1, 1, "the policy is larger than %zu bytes (4 MiB, the loader's bound)",
                          LOY_POLICY_MAX_BYTES))
            return LOY_E_NOMEM;
        return LOY_E_POLICY;
    }
    policy_box *box = loy_malloc(alloc, sizeof *box);
    if (!box)
        return LOY_E_NOMEM;
    memset(box, 0, sizeof *box);
    box->policy.alloc = *alloc;
    loy_arena_init(&box->arena, &box->policy.alloc);
    box->policy.arena = &box->arena;
    box->policy.fingerprint = XXH3_64bits(len ? data : "", len);

    loy_arena tmp;
    loy_arena_init(&tmp, alloc);
    loy_yn *root = NULL;
    int rc = loy_yaml_parse(data, len, &tmp, d, &root);
    if (rc == LOY_OK)
        rc = loy_policy_build(&box->policy, root, &tmp, d);
    loy_arena_release(&tmp);
    if (rc == LOY_OK && d->count > 0)
        rc = LOY_E_POLICY;
    if (rc != LOY_OK) {
        box_free(box);
        return rc;
    }
    *out = &box->policy;
    return LOY_OK;
}

int loy_policy_load_buffer_ex(loy_policy **out, const void *data, size_t len, const char *name,
                              loy_diag **diag, const loy_allocator *allocator)
{
    if (diag)
        *diag = NULL;
    if (!out)
        return LOY_E_INVALID_ARG;
    *out = NULL;
    if (!data && len > 0)
        return LOY_E_INVALID_ARG;
    loy_alloc alloc;
    loy_alloc_resolve(&alloc, allocator);
    loy_diag *d = loy_diag_create(&alloc, name);
    if (!d)
        return LOY_E_NOMEM;
    int rc = load(out, data, len, d, &alloc);
    if (rc == LOY_E_NOMEM) {
        /* nothing half-reported: the caller sees NOMEM and an empty diag */
        loy_diag_free(d);
        d = NULL;
    }
    if (d)
        loy_diag_sort(d);
    if (diag)
        *diag = d;
    else
        loy_diag_free(d);
    return rc;
}

int loy_policy_load_buffer(loy_policy **out, const void *data, size_t len, const char *name, loy_diag **diag)
{
    return loy_policy_load_buffer_ex(out, data, len, name, diag, NULL);
}

int loy_policy_load_file(loy_policy **out, const char *path, loy_diag **diag)
{
    if (diag)
        *diag = NULL;
    if (!out || !path)
        return LOY_E_INVALID_ARG;
    *out = NULL;
    const loy_alloc *alloc = &loy_default_alloc;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        if (diag) {
            loy_diag *d = loy_diag_create(alloc, path);
            if (!d)
                return LOY_E_NOMEM;
            if (!loy_diag_add(d, 0, 0, "cannot read: %s", strerror(e))) {
                loy_diag_free(d);
                return LOY_E_NOMEM;
            }
            *diag = d;
        }
        return LOY_E_IO;
    }
    /* Read at most one byte past the bound, so an oversized file is refused
     * without reading it all. */
    size_t cap = 64 * 1024, len = 0;
    char *buf = loy_malloc(alloc, cap);
    int rc = LOY_OK, io_errno = 0;
    while (buf) {
        if (len == cap) {
            size_t ncap = cap * 2 > LOY_POLICY_MAX_BYTES + 1 ? LOY_POLICY_MAX_BYTES + 1 : cap * 2;
            if (ncap == cap)
                break;
            char *nb = loy_realloc(alloc, buf, ncap);
            if (!nb) {
                loy_free(alloc, buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                io_errno = errno ? errno : EIO;
                rc = LOY_E_IO;
            }
            break;
        }
    }
    fclose(f);
    if (!buf)
        return LOY_E_NOMEM;
    if (rc == LOY_E_IO) {
        loy_free(alloc, buf);
        if (diag) {
            loy_diag *d = loy_diag_create(alloc, path);
            if (!d)
                return LOY_E_NOMEM;
            if (!loy_diag_add(d, 0, 0, "cannot read: %s", strerror(io_errno))) {
                loy_diag_free(d);
                return LOY_E_NOMEM;
            }
            *diag = d;
        }
        return LOY_E_IO;
    }
    rc = loy_policy_load_buffer_ex(out, buf, len, path, diag, NULL);
    loy_free(alloc, buf);
    return rc;
}

void loy_policy_free(loy_policy *policy)
{
    if (!policy)
        return;
    /* policy is the first member of its box */
    box_free((policy_box *)(void *)policy);
}

/* --------------------------------------------------------------- getters */

size_t loy_policy_count(const loy_policy *p, loy_kind kind)
{
    if (!p)
        return 0;
    switch (kind) {
    case LOY_KIND_TIER:
        return p->tiers.count;
    case LOY_KIND_MULTIPLIER:
        return p->points.multiplier_count;
    case LOY_KIND_ACTION:
        return p->points.action_count;
    case LOY_KIND_GIFT:
        return p->gift_id_count;
    case LOY_KIND_BENEFIT:
        return p->benefit_count;
    case LOY_KIND_PLAN:
        return p->plan_count;
    case LOY_KIND_STAGE:
        return p->stage_count;
    }
    return 0;
}

const char *loy_policy_id(const loy_policy *p, loy_kind kind, size_t i)
{
    if (!p || i >= loy_policy_count(p, kind))
        return NULL;
    switch (kind) {
    case LOY_KIND_TIER:
        return p->tiers.levels[i].id;
    case LOY_KIND_MULTIPLIER:
        return p->points.multipliers[i].id;
    case LOY_KIND_ACTION:
        return p->points.actions[i].kind;
    case LOY_KIND_GIFT:
        return p->gift_ids[i];
    case LOY_KIND_BENEFIT:
        return p->benefits[i].id;
    case LOY_KIND_PLAN:
        return p->plans[i].id;
    case LOY_KIND_STAGE:
        return p->stages[i].id;
    }
    return NULL;
}

const char *loy_policy_name(const loy_policy *p, loy_kind kind, size_t i)
{
    if (!p || i >= loy_policy_count(p, kind))
        return NULL;
    if (kind == LOY_KIND_TIER)
        return p->tiers.levels[i].name;
    if (kind == LOY_KIND_BENEFIT)
        return p->benefits[i].name;
    return NULL;
}

const char *loy_policy_benefit_kind(const loy_policy *p, size_t i)
{
    return p && i < p->benefit_count ? p->benefits[i].kind : NULL;
}

const char *loy_policy_program(const loy_policy *p) { return p ? p->program : NULL; }
const char *loy_policy_currency(const loy_policy *p) { return p ? p->currency_code : NULL; }
int loy_policy_minor_units(const loy_policy *p) { return p ? p->minor_units : 0; }

int loy_policy_redeem_rate(const loy_policy *p, int64_t *points, int64_t *amount)
{
    if (!p)
        return LOY_E_INVALID_ARG;
    if (!p->points.has_redeem)
        return LOY_E_REDEEM_DISABLED;
    if (points)
        *points = p->points.redeem_points;
    if (amount)
        *amount = p->points.redeem_amount;
    return LOY_OK;
}

uint64_t loy_policy_fingerprint(const loy_policy *p) { return p ? p->fingerprint : 0; }

void loy_policy_fingerprint_hex(const loy_policy *p, char out[17])
{
    if (!out)
        return;
    snprintf(out, 17, "%016llx", (unsigned long long)(p ? p->fingerprint : 0));
}

/* ------------------------------------------------------- internal lookups */

bool loy_strs_has(const loy_strs *set, const char *s)
{
    if (!set || !s)
        return false;
    /* Lists are short and hit per line; the first byte settles most
     * mismatches without a call. */
    for (uint32_t i = 0; i < set->count; i++)
        if (set->items[i][0] == s[0] && strcmp(set->items[i], s) == 0)
            return true;
    return false;
}

#define FIND(arr, n, field)                                   \
    do {                                                      \
        if (!p || !id)                                        \
            return -1;                                        \
        for (uint32_t i = 0; i < (n); i++)                    \
            if (strcmp(p->arr[i].field, id) == 0)             \
                return (int)i;                                \
        return -1;                                            \
    } while (0)

int loy_policy_tier_index(const loy_policy *p, const char *id) { FIND(tiers.levels, p->tiers.count, id); }
int loy_policy_plan_index(const loy_policy *p, const char *id) { FIND(plans, p->plan_count, id); }
int loy_policy_stage_index(const loy_policy *p, const char *id) { FIND(stages, p->stage_count, id); }
int loy_policy_benefit_index(const loy_policy *p, const char *id) { FIND(benefits, p->benefit_count, id); }
int loy_policy_action_index(const loy_policy *p, const char *id) { FIND(points.actions, p->points.action_count, kind); }
int loy_policy_surprise_index(const loy_policy *p, const char *id) { FIND(gifts.surprise, p->gifts.surprise_count, id); }
int loy_policy_spend_index(const loy_policy *p, const char *id) { FIND(gifts.spend, p->gifts.spend_count, id); }
