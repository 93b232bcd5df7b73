/*
 * Threads (loyalty.h, THREAD SAFETY): one loaded policy is shared by any
 * number of threads with no locking, while each thread owns its members,
 * events and results. Eight threads replay the golden years and the
 * conformance vectors under the three shared reference policies, each with
 * its own member and result, several times over, through the JSON entry
 * points and through the typed setters; each thread's output (the JSON of
 * every result, the state bytes at the end) must equal a single-threaded
 * run's byte for byte.
 *
 * Built into `make test` (ASan+UBSan) like every suite, and by `make tsan`
 * with -fsanitize=thread, where any data race on the shared policy fails
 * the run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loyalty.h"

#define THREADS 8
#define ROUNDS 3

/* ------------------------------------------------------------- helpers */

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void text_put(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *bigger = realloc(t->s, cap);
        if (!bigger)
            abort();
        t->s = bigger;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void text_puts(text *t, const char *s) { text_put(t, s, strlen(s)); }

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    text t = {0};
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        text_put(&t, buf, n);
    fclose(f);
    if (!t.s)
        text_put(&t, "", 0);
    *len = t.len;
    return t.s;
}

/* ------------------------------------------------------------ workloads */

enum { P_APPAREL = 0, P_GROCERY, P_MINIMAL, P_COUNT };
static const char *const policy_names[P_COUNT] = {"apparel", "grocery", "minimal"};

typedef struct workload {
    int policy;
    char *lines;                    /* the replay input: member line, then events and queries */
    size_t len;
} workload;

typedef struct shared {
    loy_policy *policies[P_COUNT];
    workload loads[16];
    size_t load_count;
    char *reference;                /* the single-threaded output */
    pthread_barrier_t start;
} shared;

static int policy_index(const char *name)
{
    for (int i = 0; i < P_COUNT; i++)
        if (strstr(name, policy_names[i]))
            return i;
    return -1;
}

static void add_workload(shared *s, const char *path, int policy)
{
    assert_true(s->load_count < sizeof s->loads / sizeof s->loads[0]);
    workload *w = &s->loads[s->load_count++];
    w->policy = policy;
    w->lines = read_file(path, &w->len);
    if (!w->lines)
        fail_msg("cannot read %s", path);
}

static void load_shared(shared *s)
{
    char path[4096];
    memset(s, 0, sizeof *s);
    for (int i = 0; i < P_COUNT; i++) {
        snprintf(path, sizeof path, "%s/policies/%s.yaml", LOY_SPEC_DIR, policy_names[i]);
        assert_int_equal(loy_policy_load_file(&s->policies[i], path, NULL), LOY_OK);
        snprintf(path, sizeof path, "%s/golden/%s.jsonl", LOY_TEST_DIR, policy_names[i]);
        add_workload(s, path, i);
    }
    snprintf(path, sizeof path, "%s/vectors/MANIFEST.tsv", LOY_SPEC_DIR);
    size_t len;
    char *manifest = read_file(path, &len);
    assert_non_null(manifest);
    char *save = NULL;
    for (char *line = strtok_r(manifest, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        snprintf(path, sizeof path, "%s/vectors/%s", LOY_SPEC_DIR, line);
        int policy = policy_index(tab + 1);
        assert_true(policy >= 0);
        add_workload(s, path, policy);
    }
    free(manifest);
    assert_true(s->load_count >= 3 + 9);
}

static void free_shared(shared *s)
{
    for (size_t i = 0; i < s->load_count; i++)
        free(s->loads[i].lines);
    for (int i = 0; i < P_COUNT; i++)
        loy_policy_free(s->policies[i]);
    free(s->reference);
}

static void put_state(text *out, loy_member *m)
{
    const void *bytes;
    size_t len;
    if (loy_member_to_bytes(m, &bytes, &len) != LOY_OK) {
        text_puts(out, "<to_bytes failed>\n");
        return;
    }
    char hex[3];
    for (size_t i = 0; i < len; i++) {
        snprintf(hex, sizeof hex, "%02x", ((const unsigned char *)bytes)[i]);
        text_put(out, hex, 2);
    }
    text_puts(out, "\n");
}

/* Replays one workload through the JSON entry points. */
static void run_json(const loy_policy *p, const workload *w, text *out)
{
    loy_member *m = NULL;
    loy_result *r = NULL;
    if (loy_member_create(&m, p) != LOY_OK || loy_result_new(&r, p) != LOY_OK)
        abort();
    loy_result_set_options(r, LOY_RESULT_TRACE | LOY_RESULT_FINGERPRINT);
    bool have_member = false;
    const char *end = w->lines + w->len;
    for (const char *line = w->lines; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
        if (n > 0) {
            int rc = have_member ? loy_apply_json_line(p, m, line, n, r) : loy_member_init_json(m, line, n, r);
            have_member = true;
            size_t jlen;
            const char *json = loy_result_json(r, &jlen);
            char code[32];
            snprintf(code, sizeof code, "%d ", rc);
            text_puts(out, code);
            text_put(out, json ? json : "<null>", json ? jlen : 6);
            text_puts(out, "\n");
        }
        line = nl ? nl + 1 : end;
    }
    put_state(out, m);
    char hex[17];
    loy_policy_fingerprint_hex(p, hex);
    text_puts(out, hex);
    text_puts(out, "\n");
    loy_result_free(r);
    loy_member_free(m);
}

/* A year of typed events built with the setters, with queries. */
static void run_typed(const loy_policy *p, text *out)
{
    loy_member *m = NULL;
    loy_event *e = NULL;
    loy_result *r = NULL;
    if (loy_member_new(&m, p, "M-THREAD", "2026-01-10") != LOY_OK || loy_event_new(&e, p) != LOY_OK ||
        loy_result_new(&r, p) != LOY_OK)
        abort();
    loy_member_set_birthday(m, "1990-03-15");
    loy_member_add_tag(m, "employee");
    char id[32], at[40];
    for (int month = 1; month <= 12; month++) {
        snprintf(at, sizeof at, "2026-%02d-18T15:00:00+08:00", month);
        snprintf(id, sizeof id, "O-%d", month);
        loy_event_reset(e, LOY_EVENT_ORDER, id, at);
        loy_event_set_channel(e, "mini_program");
        loy_event_add_line(e, "COAT-1", "coats", 50000 + month * 7919, 1);
        loy_event_add_line(e, "GC-100", "gift_card", 10000, 1);
        loy_apply(p, m, e, r);
        text_puts(out, loy_result_json(r, NULL));
        text_puts(out, "\n");

        snprintf(at, sizeof at, "2026-%02d-20T10:00:00+08:00", month);
        snprintf(id, sizeof id, "A-%d", month);
        loy_event_reset(e, LOY_EVENT_ACTION, id, at);
        loy_event_set_kind(e, month % 2 ? "review" : "check_in");
        loy_apply(p, m, e, r);
        text_puts(out, loy_result_json(r, NULL));
        text_puts(out, "\n");

        if (month % 3 == 0) {
            snprintf(id, sizeof id, "X-%d", month);
            loy_event_reset(e, LOY_EVENT_REDEEM, id, at);
            loy_event_set_points(e, 100);
            loy_event_set_order_amount(e, 100000);
            loy_apply(p, m, e, r);
            text_puts(out, loy_result_json(r, NULL));
            text_puts(out, "\n");

            snprintf(id, sizeof id, "R-%d", month);
            loy_event_reset(e, LOY_EVENT_RETURN, id, at);
            loy_event_set_amount(e, 20000);
            char orig_at[40];
            snprintf(orig_at, sizeof orig_at, "2026-%02d-18T15:00:00+08:00", month);
            snprintf(id, sizeof id, "O-%d", month);
            loy_event_set_original(e, id, orig_at, 60000 + month * 7919, 500);
            loy_apply(p, m, e, r);
            text_puts(out, loy_result_json(r, NULL));
            text_puts(out, "\n");
        }
        if (loy_policy_count(p, LOY_KIND_BENEFIT) > 0) {
            snprintf(id, sizeof id, "U-%d", month);
            loy_event_reset(e, LOY_EVENT_USE_BENEFIT, id, at);
            loy_event_set_benefit(e, loy_policy_id(p, LOY_KIND_BENEFIT, (size_t)month % loy_policy_count(p, LOY_KIND_BENEFIT)));
            loy_apply(p, m, e, r);
            text_puts(out, loy_result_json(r, NULL));
            text_puts(out, "\n");
        }
        if (month == 4 && loy_policy_count(p, LOY_KIND_PLAN) > 0) {
            loy_event_reset(e, LOY_EVENT_JOIN_PAID, "P-1", at);
            loy_event_set_plan(e, loy_policy_id(p, LOY_KIND_PLAN, 0));
            loy_apply(p, m, e, r);
            text_puts(out, loy_result_json(r, NULL));
            text_puts(out, "\n");
        }
        loy_query_benefits(p, m, at, "pos", "SH-001", r);
        text_puts(out, loy_result_json(r, NULL));
        text_puts(out, "\n");
    }
    loy_event_reset(e, LOY_EVENT_TICK, "T-END", "2028-02-01T00:00:00+08:00");
    loy_apply(p, m, e, r);
    text_puts(out, loy_result_json(r, NULL));
    text_puts(out, "\n");
    put_state(out, m);
    loy_result_free(r);
    loy_event_free(e);
    loy_member_free(m);
}

/* Everything one thread does, in a fixed order: every workload, the typed
 * year under each policy, and the policy's read-only getters. */
static void run_all(const shared *s, text *out)
{
    for (size_t i = 0; i < s->load_count; i++)
        run_json(s->policies[s->loads[i].policy], &s->loads[i], out);
    for (int i = 0; i < P_COUNT; i++) {
        const loy_policy *p = s->policies[i];
        run_typed(p, out);
        for (int kind = LOY_KIND_TIER; kind <= LOY_KIND_STAGE; kind++)
            for (size_t k = 0; k < loy_policy_count(p, (loy_kind)kind); k++) {
                const char *pid = loy_policy_id(p, (loy_kind)kind, k);
                const char *name = loy_policy_name(p, (loy_kind)kind, k);
                text_puts(out, pid ? pid : "?");
                text_puts(out, name ? name : "-");
                text_puts(out, " ");
            }
        text_puts(out, "\n");
    }
}

/* ------------------------------------------------------------- threads */

typedef struct worker {
    shared *s;
    int index;
    int mismatches;
    char first_diff[160];
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    pthread_barrier_wait(&w->s->start);
    for (int round = 0; round < ROUNDS; round++) {
        text out = {0};
        run_all(w->s, &out);
        if (!out.s || strcmp(out.s, w->s->reference) != 0) {
            if (!w->mismatches) {
                size_t at = 0;
                while (out.s && out.s[at] && out.s[at] == w->s->reference[at])
                    at++;
                snprintf(w->first_diff, sizeof w->first_diff, "round %d, byte %zu: %.100s", round, at,
                         out.s ? out.s + at : "(nothing)");
            }
            w->mismatches++;
        }
        free(out.s);
    }
    return NULL;
}

static void test_threads_share_one_policy(void **state)
{
    (void)state;
    shared s;
    load_shared(&s);
    text ref = {0};
    run_all(&s, &ref);
    s.reference = ref.s;
    /* The reference is real work, not an empty string that trivially matches. */
    assert_true(ref.len > 50000);
    assert_non_null(strstr(ref.s, "\"tier_changed\""));
    assert_non_null(strstr(ref.s, "LOY_E_INSUFFICIENT_POINTS"));

    assert_int_equal(pthread_barrier_init(&s.start, NULL, THREADS), 0);
    pthread_t threads[THREADS];
    worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker){.s = &s, .index = i};
        assert_int_equal(pthread_create(&threads[i], NULL, work, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&s.start);
    for (int i = 0; i < THREADS; i++) {
        if (workers[i].mismatches)
            fprintf(stderr, "thread %d: %d mismatching rounds; first at %s\n", i, workers[i].mismatches,
                    workers[i].first_diff);
        assert_int_equal(workers[i].mismatches, 0);
    }
    free_shared(&s);
}

/* Loading policies concurrently: the loader keeps nothing between calls. */
typedef struct loader {
    const char *yaml;
    size_t len;
    pthread_barrier_t *start;
    char hex[17];
    size_t tiers;
    int rc;
} loader;

static void *load_work(void *arg)
{
    loader *l = arg;
    pthread_barrier_wait(l->start);
    for (int i = 0; i < 20; i++) {
        loy_policy *p = NULL;
        loy_diag *diag = NULL;
        l->rc = loy_policy_load_buffer(&p, l->yaml, l->len, "apparel.yaml", &diag);
        loy_diag_free(diag);
        if (l->rc != LOY_OK)
            return NULL;
        loy_policy_fingerprint_hex(p, l->hex);
        l->tiers = loy_policy_count(p, LOY_KIND_TIER);
        loy_policy_free(p);
    }
    return NULL;
}

static void test_threads_load_policies(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/policies/apparel.yaml", LOY_SPEC_DIR);
    size_t len;
    char *yaml = read_file(path, &len);
    assert_non_null(yaml);
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, yaml, len, "apparel.yaml", NULL), LOY_OK);
    char want[17];
    loy_policy_fingerprint_hex(p, want);
    loy_policy_free(p);

    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    pthread_t threads[THREADS];
    loader loaders[THREADS];
    for (int i = 0; i < THREADS; i++) {
        loaders[i] = (loader){.yaml = yaml, .len = len, .start = &start};
        assert_int_equal(pthread_create(&threads[i], NULL, load_work, &loaders[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(loaders[i].rc, LOY_OK);
        assert_string_equal(loaders[i].hex, want);
        assert_int_equal(loaders[i].tiers, 4);
    }
    pthread_barrier_destroy(&start);
    free(yaml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_share_one_policy),
        cmocka_unit_test(test_threads_load_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
