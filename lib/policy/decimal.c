/* Exact decimals from policy text (POLICY.md §1); see decimal.h. */
#include "decimal.h"

#include <stdio.h>

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/*
 * Checks a run of digits from *i, with `_` allowed only unquoted and only
 * between two digits. Advances *i past the run and counts its digits.
 */
static loy_dec_status digit_run(const char *s, size_t len, size_t *i, bool quoted, size_t *ndigits)
{
    size_t n = 0;
    while (*i < len && (is_digit(s[*i]) || s[*i] == '_')) {
        if (s[*i] == '_') {
            if (quoted)
                return LOY_DEC_QUOTED_GROUPING;
            if (n == 0 || !is_digit(s[*i - 1]) || *i + 1 >= len || !is_digit(s[*i + 1]))
                return LOY_DEC_SYNTAX;
        } else {
            n++;
        }
        (*i)++;
    }
    *ndigits = n;
    return LOY_DEC_OK;
}

/* True when s looks like a number written with an exponent (1e3, 1.5E+2). */
static bool has_exponent(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    size_t digits = 0;
    while (i < len && (is_digit(s[i]) || s[i] == '_' || s[i] == '.')) {
        digits += is_digit(s[i]);
        i++;
    }
    if (digits == 0 || i >= len || (s[i] != 'e' && s[i] != 'E'))
        return false;
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i >= len)
        return false;
    for (; i < len; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

loy_dec_status loy_decimal_parse(const char *s, size_t len, bool quoted, int scale,
                                 int64_t *out, bool *has_point)
{
    if (has_point)
        *has_point = false;
    if (scale < 0 || scale > 18 || len == 0)
        return LOY_DEC_SYNTAX;
    if (has_exponent(s, len))
        return LOY_DEC_EXPONENT;
    if (s[0] == '-' || s[0] == '+') {
        /* A sign in front of what would otherwise be a number. */
        int64_t ignored;
        loy_dec_status st = len > 1 ? loy_decimal_parse(s + 1, len - 1, quoted, scale, &ignored, NULL)
                                    : LOY_DEC_SYNTAX;
        if (st == LOY_DEC_SYNTAX || st == LOY_DEC_QUOTED_GROUPING)
            return st;
        return s[0] == '-' ? LOY_DEC_NEGATIVE : LOY_DEC_SIGN;
    }
    if (s[0] == '.')
        return len > 1 && is_digit(s[1]) ? LOY_DEC_LEADING_DOT : LOY_DEC_SYNTAX;
    if (!is_digit(s[0]))
        return LOY_DEC_SYNTAX;

    size_t i = 0, ni = 0, nf = 0, frac_at = 0;
    loy_dec_status st = digit_run(s, len, &i, quoted, &ni);
    if (st != LOY_DEC_OK)
        return st;
    size_t int_end = i;
    bool point = false;
    if (i < len && s[i] == '.') {
        point = true;
        i++;
        frac_at = i;
        if (i >= len || !is_digit(s[i]))
            return LOY_DEC_SYNTAX;      /* "1." or "1._5" */
        st = digit_run(s, len, &i, quoted, &nf);
        if (st != LOY_DEC_OK)
            return st;
    }
    if (i != len)
        return LOY_DEC_SYNTAX;
    if (has_point)
        *has_point = point;
    if (!quoted && !point && ni > 1 && s[0] == '0')
        return LOY_DEC_LEADING_ZERO;

    /* Significant decimals: up to the last non-zero fraction digit. */
    size_t sig = 0, k = 0;
    if (point)
        for (size_t j = frac_at; j < len; j++)
            if (is_digit(s[j])) {
                k++;
                if (s[j] != '0')
                    sig = k;
            }
    if (sig > (size_t)scale)
        return LOY_DEC_DECIMALS;

    int64_t v = 0;
    for (size_t j = 0; j < int_end; j++)
        if (is_digit(s[j]) && (!loy_mul(v, 10, &v) || !loy_add(v, s[j] - '0', &v)))
            return LOY_DEC_OVERFLOW;
    size_t taken = 0, j = frac_at;
    for (int d = 0; d < scale; d++) {
        int64_t digit = 0;
        if (point && taken < sig) {
            while (!is_digit(s[j]))
                j++;
            digit = s[j++] - '0';
            taken++;
        }
        if (!loy_mul(v, 10, &v) || !loy_add(v, digit, &v))
            return LOY_DEC_OVERFLOW;
    }
    *out = v;
    return LOY_DEC_OK;
}

size_t loy_decimal_format(int64_t value, int scale, char *buf, size_t cap)
{
    uint64_t u = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    uint64_t pow = 1;
    for (int k = 0; k < scale; k++)
        pow *= 10;
    uint64_t ip = u / pow, fp = u % pow;
    char frac[24];
    int nf = 0;
    if (fp != 0) {
        nf = scale;
        for (int k = scale - 1; k >= 0; k--) {
            frac[k] = (char)('0' + fp % 10);
            fp /= 10;
        }
        while (nf > 0 && frac[nf - 1] == '0')
            nf--;
    }
    int n;
    if (nf > 0)
        n = snprintf(buf, cap, "%s%llu.%.*s", value < 0 ? "-" : "", (unsigned long long)ip, nf, frac);
    else
        n = snprintf(buf, cap, "%s%llu", value < 0 ? "-" : "", (unsigned long long)ip);
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
