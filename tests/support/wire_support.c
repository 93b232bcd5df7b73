/* Test support for the wire and the CLI (see wire_support.h). */
#define _XOPEN_SOURCE 700   /* nftw, to clean the private directory up */
#include "wire_support.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "wire/json.h"

extern char **environ;

/* ------------------------------------------------------ numbers by value */

/* A JSON number as sign, significant digits and a power of ten. */
typedef struct num {
    bool negative;
    char digits[80];            /* no leading or trailing zeros; "" for zero */
    long long exp10;
    bool too_long;
} num;

static num normalise(const char *s, size_t len)
{
    num n = {0};
    size_t i = 0, nd = 0;
    char all[160];
    long long frac = 0;
    if (i < len && s[i] == '-') {
        n.negative = true;
        i++;
    }
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        if (nd < sizeof all)
            all[nd++] = s[i];
        else
            n.too_long = true;
    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (nd < sizeof all)
                all[nd++] = s[i];
            else
                n.too_long = true;
            frac++;
        }
    }
    long long e = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if (e < 1000000000LL)
                e = e * 10 + (s[i] - '0');
        if (eneg)
            e = -e;
    }
    size_t lead = 0;
    while (lead < nd && all[lead] == '0')
        lead++;
    size_t end = nd;
    long long exp10 = e - frac;
    while (end > lead && all[end - 1] == '0') {
        end--;
        exp10++;
    }
    size_t keep = end - lead;
    if (keep >= sizeof n.digits) {
        keep = sizeof n.digits - 1;
        n.too_long = true;
    }
    memcpy(n.digits, all + lead, keep);
    n.digits[keep] = '\0';
    n.exp10 = keep ? exp10 : 0;
    if (!keep)
        n.negative = false;
    return n;
}

static bool numbers_equal(const loy_json *a, const loy_json *b)
{
    num x = normalise(a->str, a->len), y = normalise(b->str, b->len);
    if (x.too_long || y.too_long)
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    return x.negative == y.negative && x.exp10 == y.exp10 && strcmp(x.digits, y.digits) == 0;
}

/* ------------------------------------------------------ values by value */

typedef struct cmp {
    char *why;
    size_t size;
    char path[512];
} cmp;

static void show(char *out, size_t size, const loy_json *v)
{
    loy_buf b;
    loy_buf_init(&b, &loy_default_alloc);
    loy_json_write_value(&b, v);
    if (b.nomem || !b.data)
        snprintf(out, size, "?");
    else if (b.len < size)
        snprintf(out, size, "%s", b.data);
    else
        snprintf(out, size, "%.*s...", (int)(size > 4 ? size - 4 : 0), b.data);
    loy_buf_release(&b);
}

static bool differ(cmp *c, const char *fmt, const loy_json *e, const loy_json *g)
{
    char es[200], gs[200];
    if (e)
        show(es, sizeof es, e);
    else
        snprintf(es, sizeof es, "(absent)");
    if (g)
        show(gs, sizeof gs, g);
    else
        snprintf(gs, sizeof gs, "(absent)");
    snprintf(c->why, c->size, "%s: %s: expected %s, got %s", c->path[0] ? c->path : "$", fmt, es, gs);
    return false;
}

/* Keys skipped by the comparison at this path: a root "trace" and the
 * message of an error (their wording and form are free). */
static bool ignored(const char *path, const char *key)
{
    if (strcmp(path, "$") == 0 && strcmp(key, "trace") == 0)
        return true;
    if (strcmp(path, "$.error") == 0 && strcmp(key, "message") == 0)
        return true;
    return false;
}

/* The first member with a key (first wins, as the wire reads). */
static const loy_json *member_of(const loy_json *obj, const char *key, size_t len)
{
    for (const loy_json *c = obj->first; c; c = c->next)
        if (c->key_len == len && memcmp(c->key, key, len) == 0)
            return c;
    return NULL;
}

static bool first_of_key(const loy_json *obj, const loy_json *m)
{
    return member_of(obj, m->key, m->key_len) == m;
}

static bool values_equal(cmp *c, const loy_json *e, const loy_json *g)
{
    size_t base = strlen(c->path);
    if (e->type != g->type)
        return differ(c, "different types", e, g);
    switch ((loy_json_type)e->type) {
    case LOY_JSON_NULL:
        return true;
    case LOY_JSON_BOOL:
        return e->b == g->b ? true : differ(c, "different booleans", e, g);
    case LOY_JSON_NUMBER:
        return numbers_equal(e, g) ? true : differ(c, "different numbers", e, g);
    case LOY_JSON_STRING:
        return e->len == g->len && memcmp(e->str, g->str, e->len) == 0
                   ? true
                   : differ(c, "different strings", e, g);
    case LOY_JSON_ARRAY: {
        if (e->count != g->count)
            return differ(c, "different lengths", e, g);
        size_t i = 0;
        for (const loy_json *x = e->first, *y = g->first; x && y; x = x->next, y = y->next, i++) {
            snprintf(c->path + base, sizeof c->path - base, "[%zu]", i);
            if (!values_equal(c, x, y))
                return false;
            c->path[base] = '\0';
        }
        return true;
    }
    case LOY_JSON_OBJECT: {
        char here[512];
        snprintf(here, sizeof here, "%s", base ? c->path : "$");
        for (const loy_json *x = e->first; x; x = x->next) {
            if (!first_of_key(e, x) || ignored(here, x->key))
                continue;
            const loy_json *y = member_of(g, x->key, x->key_len);
            snprintf(c->path + base, sizeof c->path - base, "%s.%s", base ? "" : "$", x->key);
            if (!y)
                return differ(c, "missing key", x, NULL);
            if (!values_equal(c, x, y))
                return false;
            c->path[base] = '\0';
        }
        for (const loy_json *y = g->first; y; y = y->next) {
            if (!first_of_key(g, y) || ignored(here, y->key))
                continue;
            if (!member_of(e, y->key, y->key_len)) {
                snprintf(c->path + base, sizeof c->path - base, "%s.%s", base ? "" : "$", y->key);
                return differ(c, "unexpected key", NULL, y);
            }
        }
        return true;
    }
    }
    return false;
}

bool loy_test_json_equal(const char *expected, size_t expected_len, const char *got,
                         size_t got_len, char *why, size_t why_size)
{
    loy_arena arena;
    loy_arena_init(&arena, &loy_default_alloc);
    loy_json_error err;
    bool equal = false;
    const loy_json *e = loy_json_parse(&arena, expected, expected_len, 1, &err);
    if (!e) {
        snprintf(why, why_size, "the expected text is not JSON: %u:%u: %s", err.line, err.column, err.message);
        goto done;
    }
    const loy_json *g = loy_json_parse(&arena, got, got_len, 1, &err);
    if (!g) {
        snprintf(why, why_size, "the output is not JSON: %u:%u: %s", err.line, err.column, err.message);
        goto done;
    }
    cmp c = {.why = why, .size = why_size};
    c.path[0] = '\0';
    equal = values_equal(&c, e, g);
    if (equal && why_size)
        why[0] = '\0';
done:
    loy_arena_release(&arena);
    return equal;
}

/* ------------------------------------------------------------ JSON lines */

static bool is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

void loy_test_split_lines(const char *text, size_t len, const char ***lines, size_t **lens,
                          size_t *count)
{
    size_t cap = 16, n = 0;
    const char **ls = malloc(cap * sizeof *ls);
    size_t *ns = malloc(cap * sizeof *ns);
    size_t pos = 0;
    while (ls && ns && pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - start) : len - pos;
        pos += l + (nl ? 1 : 0);
        if (is_blank(start, l))
            continue;
        if (n == cap) {
            cap *= 2;
            const char **ls2 = realloc(ls, cap * sizeof *ls);
            size_t *ns2 = realloc(ns, cap * sizeof *ns);
            if (ls2)
                ls = ls2;
            if (ns2)
                ns = ns2;
            if (!ls2 || !ns2)
                break;
        }
        ls[n] = start;
        ns[n] = l;
        n++;
    }
    *lines = ls;
    *lens = ns;
    *count = n;
}

int loy_test_compare_lines(const char *label, const char *expected, size_t expected_len,
                           const char *got, size_t got_len)
{
    const char **el, **gl;
    size_t *en, *gn, ec, gc;
    loy_test_split_lines(expected, expected_len, &el, &en, &ec);
    loy_test_split_lines(got, got_len, &gl, &gn, &gc);
    int mismatches = 0;
    size_t n = ec > gc ? ec : gc;
    for (size_t i = 0; i < n; i++) {
        char why[600];
        if (i >= gc) {
            fprintf(stderr, "%s line %zu: missing from the output\n  expected: %.*s\n", label, i + 1,
                    (int)en[i], el[i]);
            mismatches++;
            continue;
        }
        if (i >= ec) {
            fprintf(stderr, "%s line %zu: an extra line in the output\n  got:      %.*s\n", label, i + 1,
                    (int)gn[i], gl[i]);
            mismatches++;
            continue;
        }
        if (!loy_test_json_equal(el[i], en[i], gl[i], gn[i], why, sizeof why)) {
            fprintf(stderr, "%s line %zu differs: %s\n  expected: %.*s\n  got:      %.*s\n", label, i + 1,
                    why, (int)en[i], el[i], (int)gn[i], gl[i]);
            mismatches++;
        }
    }
    free(el);
    free(en);
    free(gl);
    free(gn);
    return mismatches;
}

/* ----------------------------------------------------------------- files */

char *loy_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (cap - n < 2) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

bool loy_test_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* ------------------------------------------------------------- processes */

static char tmp_dir[PATH_MAX];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tmpdir(void)
{
    if (tmp_dir[0])
        nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *loy_test_tmpdir(void)
{
    if (tmp_dir[0])
        return tmp_dir;
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/loyalty-test-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(tmp_dir)) {
        tmp_dir[0] = '\0';
        return NULL;
    }
    atexit(remove_tmpdir);
    return tmp_dir;
}

bool loy_test_spawn(const char *const *argv, loy_test_run *run)
{
    memset(run, 0, sizeof *run);
    const char *dir = loy_test_tmpdir();
    if (!dir)
        return false;
    char out_path[PATH_MAX], err_path[PATH_MAX];
    snprintf(out_path, sizeof out_path, "%s/spawn.out", dir);
    snprintf(err_path, sizeof err_path, "%s/spawn.err", dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return false;
    int wstatus;
    while (waitpid(pid, &wstatus, 0) < 0)
        if (errno != EINTR)
            return false;
    run->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    run->out = loy_test_read_file(out_path, &run->out_len);
    run->err = loy_test_read_file(err_path, &run->err_len);
    unlink(out_path);
    unlink(err_path);
    return run->out && run->err;
}

void loy_test_run_free(loy_test_run *run)
{
    free(run->out);
    free(run->err);
    memset(run, 0, sizeof *run);
}
