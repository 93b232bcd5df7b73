/*
 * Test support for the wire and the `loyalty` program (tests/support/
 * wire_support.c, linked into every test program):
 *
 *   - comparing JSON texts as values, the way the conformance vectors are
 *     compared (spec/vectors/README.md): key order and whitespace free,
 *     numbers by value, a root "trace" ignored, error.message ignored;
 *   - comparing two JSON-lines outputs line by line with a readable diff;
 *   - running the `loyalty` program (LOY_CLI) and collecting its exit
 *     status, stdout and stderr;
 *   - reading whole files.
 */
#ifndef LOY_WIRE_SUPPORT_H
#define LOY_WIRE_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Compare two JSON texts as values. Returns true when equal. Otherwise
 * why[] says where ("$.effects[2].tier: expected \"gold\", got \"silver\"")
 * or which text does not parse.
 */
bool loy_test_json_equal(const char *expected, size_t expected_len, const char *got,
                         size_t got_len, char *why, size_t why_size);

/*
 * Compare two JSON-lines texts line by line (blank lines skipped) as
 * values. Prints every mismatch as "LABEL line N" with the expected and
 * the actual line and where they differ, and a missing or extra line.
 * Returns the number of mismatches.
 */
int loy_test_compare_lines(const char *label, const char *expected, size_t expected_len,
                           const char *got, size_t got_len);

/* The non-blank lines of a text (pointers into it), count in *count. Free
 * the arrays with free(). */
void loy_test_split_lines(const char *text, size_t len, const char ***lines, size_t **lens,
                          size_t *count);

/* A whole file, NUL-terminated, or NULL. Free with free(). */
char *loy_test_read_file(const char *path, size_t *len);
/* Write a file; false on failure. */
bool loy_test_write_file(const char *path, const void *data, size_t len);

/* A run of a program. */
typedef struct loy_test_run {
    int status;                 /* exit status; 128 + signal when killed */
    char *out;                  /* stdout, NUL-terminated */
    size_t out_len;
    char *err;                  /* stderr, NUL-terminated */
    size_t err_len;
} loy_test_run;

/* Run argv[0] (a path) with argv, stdin from /dev/null. false when it
 * could not be started. */
bool loy_test_spawn(const char *const *argv, loy_test_run *run);
void loy_test_run_free(loy_test_run *run);

/* A fresh private directory for a test's files (under TMPDIR or /tmp);
 * the returned path is static storage of the support (one per program). */
const char *loy_test_tmpdir(void);

#endif
