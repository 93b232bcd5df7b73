/*
 * Shared by the replays of hand-worked expected lines (test_spec_rules.c,
 * test_vectors.c): their files and policies must be there, so a missing
 * one fails the case with its path, and the results are joined into one
 * JSON-lines text for loy_test_compare_lines. test_policy_load.c reads
 * its policy texts with read_or_fail too.
 *
 * Include after <cmocka.h>, "loyalty.h" and "support/wire_support.h".
 */
#ifndef REPLAY_SUPPORT_H
#define REPLAY_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline char *read_or_fail(const char *path, size_t *len)
{
    char *text = loy_test_read_file(path, len);
    if (!text)
        fail_msg("cannot read %s", path);
    return text;
}

static inline loy_policy *load_policy_or_fail(const char *path)
{
    loy_policy *policy = NULL;
    loy_diag *diag = NULL;
    int rc = loy_policy_load_file(&policy, path, &diag);
    if (rc != LOY_OK) {
        for (size_t i = 0; diag && i < loy_diag_count(diag); i++)
            fprintf(stderr, "%s:%u:%u: %s\n", path, loy_diag_line(diag, i), loy_diag_column(diag, i),
                    loy_diag_message(diag, i));
        loy_diag_free(diag);
        fail_msg("%s: the policy does not load (%s)", path, loy_error_name(rc));
    }
    loy_diag_free(diag);
    return policy;
}

/* One replay: its policy, its input split into lines (the member line
 * first), the expected text, and a new member and result on the policy. */
typedef struct replay {
    loy_policy *policy;
    char *input, *expected;
    size_t in_len, exp_len;
    const char **lines;
    size_t *lens, count;
    loy_member *member;
    loy_result *result;
} replay;

static inline replay replay_open(const char *policy, const char *input, const char *expected)
{
    replay c;
    c.policy = load_policy_or_fail(policy);
    c.input = read_or_fail(input, &c.in_len);
    c.expected = read_or_fail(expected, &c.exp_len);
    loy_test_split_lines(c.input, c.in_len, &c.lines, &c.lens, &c.count);
    assert_true(c.count >= 1);
    c.member = NULL;
    c.result = NULL;
    assert_int_equal(loy_member_create(&c.member, c.policy), LOY_OK);
    assert_int_equal(loy_result_new(&c.result, c.policy), LOY_OK);
    return c;
}

static inline void replay_close(replay *c)
{
    free(c->lines);
    free(c->lens);
    free(c->input);
    free(c->expected);
    loy_result_free(c->result);
    loy_member_free(c->member);
    loy_policy_free(c->policy);
}

/* s[0..n) and a newline onto *buf, which stays NUL-terminated. */
static inline void append(char **buf, size_t *used, size_t *cap, const char *s, size_t n)
{
    while (*used + n + 2 > *cap) {
        *cap *= 2;
        *buf = realloc(*buf, *cap);
        assert_non_null(*buf);
    }
    memcpy(*buf + *used, s, n);
    *used += n;
    (*buf)[(*used)++] = '\n';
    (*buf)[*used] = '\0';
}

#endif
