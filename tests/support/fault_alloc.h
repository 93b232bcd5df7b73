/*
 * An allocator for loy_allocator that fails on demand: the k-th allocation
 * from arming (and, when sticky, every later one), counting live blocks so
 * that a test can tell a leak after each failure point.
 */
#ifndef FAULT_ALLOC_H
#define FAULT_ALLOC_H

#include <stdbool.h>
#include <stdlib.h>

typedef struct fault_alloc {
    long countdown;                 /* allocations left before the failure; < 0: never fail */
    bool sticky;                    /* once failing, fail every later allocation too */
    bool failing;
    long failures;                  /* allocations refused in this run */
    long live;                      /* blocks handed out and not yet freed */
} fault_alloc;

static inline bool fault_now(fault_alloc *f)
{
    if (f->failing) {
        f->failures++;
        return true;
    }
    if (f->countdown == 0) {
        f->failures++;
        f->countdown = -1;
        f->failing = f->sticky;
        return true;
    }
    if (f->countdown > 0)
        f->countdown--;
    return false;
}

static inline void *fault_malloc(void *ctx, size_t n)
{
    fault_alloc *f = ctx;
    if (fault_now(f))
        return NULL;
    void *p = malloc(n);
    if (p)
        f->live++;
    return p;
}

static inline void *fault_realloc(void *ctx, void *old, size_t n)
{
    fault_alloc *f = ctx;
    if (fault_now(f))
        return NULL;
    void *p = realloc(old, n);
    if (p && !old)
        f->live++;
    return p;
}

static inline void fault_free(void *ctx, void *p)
{
    fault_alloc *f = ctx;
    if (p) {
        f->live--;
        free(p);
    }
}

/* Fail at the k-th allocation from now. */
static inline void arm(fault_alloc *f, long k, bool sticky)
{
    f->countdown = k;
    f->sticky = sticky;
    f->failing = false;
    f->failures = 0;
}

static inline void disarm(fault_alloc *f)
{
    f->countdown = -1;
    f->failing = false;
}

#endif
