/*
 * splitmix64 for the differential tests: the same stream on every machine,
 * so a failing seed can be replayed anywhere.
 */
#ifndef TEST_RNG_H
#define TEST_RNG_H

#include <stdint.h>

typedef struct rng {
    uint64_t s;
} rng;

static inline uint64_t next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline int pick(rng *r, int n) { return (int)(next(r) % (uint64_t)n); }

#endif
