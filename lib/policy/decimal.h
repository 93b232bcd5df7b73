/*
 * Exact decimals of a policy file (POLICY.md §1), parsed from the scalar's
 * text with no floating point: `123`, `123.45`, quoted `"0.50"`, `_` digit
 * grouping only unquoted (`10_000`); no sign, no exponent, no leading `.`.
 * Decimals are counted without trailing zeros (`1.500` has one).
 */
#ifndef LOY_POLICY_DECIMAL_H
#define LOY_POLICY_DECIMAL_H

#include "../core.h"

typedef enum loy_dec_status {
    LOY_DEC_OK = 0,
    LOY_DEC_SYNTAX,           /* not a decimal number at all */
    LOY_DEC_NEGATIVE,         /* -5, -0.5 */
    LOY_DEC_SIGN,             /* +5 */
    LOY_DEC_EXPONENT,         /* 1e3, 1.5E+2 */
    LOY_DEC_LEADING_DOT,      /* .5 */
    LOY_DEC_QUOTED_GROUPING,  /* "1_000": `_` grouping is for unquoted numbers */
    LOY_DEC_LEADING_ZERO,     /* unquoted 010: YAML 1.1 reads it as octal */
    LOY_DEC_DECIMALS,         /* more significant decimals than the scale allows */
    LOY_DEC_OVERFLOW          /* the scaled value leaves int64 */
} loy_dec_status;

/*
 * Parse s[0..len) as a non-negative decimal and return its value times
 * 10^scale (scale 0..18) in *out. `quoted` says whether the scalar was
 * quoted (then `_` is refused, and leading zeros are allowed). *has_point
 * (may be NULL) tells whether a decimal point was written, so a caller that
 * wants an integer can refuse `1.0`.
 */
LOY_INTERNAL loy_dec_status loy_decimal_parse(const char *s, size_t len, bool quoted, int scale,
                                              int64_t *out, bool *has_point);

/*
 * Write value / 10^scale as the shortest exact decimal text ("0.95", "1",
 * "12.5") into buf (at least 24 bytes with scale <= 18). Returns the length.
 */
LOY_INTERNAL size_t loy_decimal_format(int64_t value, int scale, char *buf, size_t cap);

#endif
