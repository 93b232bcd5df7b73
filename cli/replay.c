/*
 * `loyalty replay POLICY EVENTS.jsonl [--state-in FILE] [--state-out FILE]
 * [--trace]` (POLICY.md §12): one member's events, one JSON result per line.
 *
 * Every line is checked to be JSON before anything is printed, so a file
 * with a broken line prints nothing on stdout and names every broken line
 * as EVENTS:LINE:COL (column in code points, 1-based).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "wire/json.h"

typedef struct replay_opts {
    const char *policy_path;
    const char *events_path;
    const char *state_in;
    const char *state_out;
    bool trace;
} replay_opts;

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("loyalty replay: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nusage: loyalty replay POLICY EVENTS.jsonl [--state-in FILE] [--state-out FILE] [--trace]\n",
          stderr);
    return 2;
}

static int parse_args(int argc, char **argv, replay_opts *o)
{
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--trace") == 0) {
            o->trace = true;
        } else if (strcmp(a, "--state-in") == 0 || strcmp(a, "--state-out") == 0) {
            if (i + 1 >= argc)
                return usage_error("%s needs a FILE", a);
            if (a[8] == 'i')
                o->state_in = argv[++i];
            else
                o->state_out = argv[++i];
        } else if (a[0] == '-' && a[1] == '-' && a[2] == '\0') {
            /* "--": the rest are file names even if they start with '-'. */
            for (i++; i < argc; i++) {
                if (positional == 0)
                    o->policy_path = argv[i];
                else if (positional == 1)
                    o->events_path = argv[i];
                else
                    return usage_error("unexpected argument '%s'", argv[i]);
                positional++;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option '%s'", a);
        } else if (positional == 0) {
            o->policy_path = a;
            positional++;
        } else if (positional == 1) {
            o->events_path = a;
            positional++;
        } else {
            return usage_error("unexpected argument '%s'", a);
        }
    }
    if (positional < 2)
        return usage_error("%s", positional == 0 ? "missing POLICY and EVENTS.jsonl" : "missing EVENTS.jsonl");
    return 0;
}

/* One line of the file: [start, start+len), without its '\n'. */
typedef struct line_ref {
    const char *start;
    size_t len;
    unsigned number;            /* 1-based line number in the file */
} line_ref;

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* An error object of the wire's shape, for failures the library does not
 * answer with a result (state bytes that do not load). */
static void print_error_object(const char *code, const char *message)
{
    loy_buf b;
    loy_buf_init(&b, &loy_default_alloc);
    loy_buf_puts(&b, "{\"event\": null, \"error\": {\"code\": ");
    loy_json_write_string(&b, code, strlen(code));
    loy_buf_puts(&b, ", \"message\": ");
    loy_json_write_string(&b, message, strlen(message));
    loy_buf_puts(&b, "}}\n");
    if (!b.nomem)
        fwrite(b.data, 1, b.len, stdout);
    loy_buf_release(&b);
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return errno ? errno : EIO;
    size_t put = fwrite(data, 1, len, f);
    int err = (put != len || ferror(f)) ? (errno ? errno : EIO) : 0;
    if (fclose(f) != 0 && !err)
        err = errno ? errno : EIO;
    return err;
}

/* Split into non-blank lines and check each is JSON; prints every broken
 * line. Returns the number of broken lines, or -1 on NOMEM. */
static long check_lines(const char *path, const char *data, size_t len, line_ref **out,
                        size_t *count, bool *first_is_member)
{
    loy_arena arena;
    loy_arena_init(&arena, &loy_default_alloc);
    size_t cap = 0;
    line_ref *lines = NULL;
    long broken = 0;
    unsigned number = 0;
    *count = 0;
    *first_is_member = false;
    size_t pos = 0;
    /* A UTF-8 byte order mark is an editor's artefact, not part of line 1. */
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len) {
        const char *start = data + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        number++;
        if (blank(start, n))
            continue;
        loy_arena_reset(&arena);
        loy_json_error err;
        loy_json *root = loy_json_parse(&arena, start, n, number, &err);
        if (!root) {
            if (err.nomem) {
                broken = -1;
                break;
            }
            fprintf(stderr, "%s:%u:%u: %s\n", path, err.line, err.column, err.message);
            broken++;
            continue;
        }
        if (*count == 0)
            *first_is_member = root->type == LOY_JSON_OBJECT && loy_json_get(root, "member")
                               && !loy_json_get(root, "type") && !loy_json_get(root, "query");
        if (*count == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            line_ref *grown = realloc(lines, ncap * sizeof *lines);
            if (!grown) {
                broken = -1;
                break;
            }
            lines = grown;
            cap = ncap;
        }
        lines[(*count)++] = (line_ref){start, n, number};
    }
    loy_arena_release(&arena);
    *out = lines;
    return broken;
}

static int run(const replay_opts *o, loy_policy *policy, const line_ref *lines, size_t count,
               bool first_is_member)
{
    loy_member *member = NULL;
    loy_result *result = NULL;
    int status = 2;
    if (loy_member_create(&member, policy) != LOY_OK || loy_result_new(&result, policy) != LOY_OK) {
        fputs("loyalty replay: out of memory\n", stderr);
        goto done;
    }
    if (o->trace)
        loy_result_set_options(result, LOY_RESULT_TRACE);

    size_t next = 0;
    if (o->state_in) {
        char *bytes;
        size_t n;
        int err = loy_cli_read_file(o->state_in, &bytes, &n);
        if (err) {
            fprintf(stderr, "loyalty replay: %s: %s\n", o->state_in, strerror(err));
            goto done;
        }
        int rc = loy_member_load(member, bytes, n);
        free(bytes);
        if (rc != LOY_OK) {
            const char *why = loy_member_error(member);
            print_error_object(loy_error_name(rc), why && why[0] ? why : loy_strerror(rc));
            fprintf(stderr, "loyalty replay: %s: %s\n", o->state_in, loy_strerror(rc));
            goto done;
        }
        if (count > 0 && first_is_member) {
            print_error_object("LOY_E_INVALID_MEMBER",
                               "a member object cannot be given with --state-in: the state bytes are the member");
            fprintf(stderr, "%s:%u: a member object cannot be given with --state-in\n", o->events_path,
                    lines[0].number);
            goto done;
        }
    } else {
        if (count == 0) {
            print_error_object("LOY_E_INVALID_MEMBER",
                               "no member object: the first line must be {\"member\": {...}}");
            fprintf(stderr, "%s: no member object on the first line\n", o->events_path);
            goto done;
        }
        int rc = loy_member_init_json(member, lines[0].start, lines[0].len, result);
        if (rc != LOY_OK) {
            size_t n;
            const char *json = loy_result_json(result, &n);
            if (json) {
                fwrite(json, 1, n, stdout);
                fputc('\n', stdout);
            }
            fprintf(stderr, "%s:%u: %s\n", o->events_path, lines[0].number, loy_result_message(result));
            goto done;
        }
        next = 1;
    }

    for (size_t i = next; i < count; i++) {
        loy_apply_json_line(policy, member, lines[i].start, lines[i].len, result);
        size_t n;
        const char *json = loy_result_json(result, &n);
        if (!json) {
            fputs("loyalty replay: out of memory\n", stderr);
            goto done;
        }
        fwrite(json, 1, n, stdout);
        fputc('\n', stdout);
    }

    if (o->state_out) {
        const void *bytes;
        size_t n;
        int rc = loy_member_to_bytes(member, &bytes, &n);
        if (rc != LOY_OK) {
            fprintf(stderr, "loyalty replay: the state could not be written: %s\n", loy_strerror(rc));
            goto done;
        }
        int err = write_file(o->state_out, bytes, n);
        if (err) {
            fprintf(stderr, "loyalty replay: %s: %s\n", o->state_out, strerror(err));
            goto done;
        }
    }
    status = 0;
done:
    loy_result_free(result);
    loy_member_free(member);
    return status;
}

int loy_cli_replay(int argc, char **argv)
{
    replay_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;

    loy_policy *policy = loy_cli_load_policy(o.policy_path);
    if (!policy)
        return 2;

    char *data = NULL;
    size_t len = 0;
    int err = loy_cli_read_file(o.events_path, &data, &len);
    if (err) {
        fprintf(stderr, "loyalty replay: %s: %s\n", o.events_path, strerror(err));
        loy_policy_free(policy);
        return 2;
    }

    line_ref *lines = NULL;
    size_t count = 0;
    bool first_is_member = false;
    long broken = check_lines(o.events_path, data, len, &lines, &count, &first_is_member);
    int status;
    if (broken < 0) {
        fputs("loyalty replay: out of memory\n", stderr);
        status = 2;
    } else if (broken > 0) {
        status = 2;
    } else {
        /* Static: stdio may use its buffer until the process exits. */
        static char out_buf[1 << 16];
        setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
        status = run(&o, policy, lines, count, first_is_member);
        if (fflush(stdout) != 0) {
            fprintf(stderr, "loyalty replay: writing the results failed: %s\n", strerror(errno));
            status = 2;
        }
    }
    free(lines);
    free(data);
    loy_policy_free(policy);
    return status;
}
