/*
 * loyalty-bench: the figures of the performance issue, each next to its
 * target. `make bench` builds the library with -O2 -DNDEBUG (no sanitizers)
 * and runs this; `--json` prints the same figures as one JSON object.
 *
 * How a checkout decision is timed. Every case is a different member in a
 * different state with its own order (bench/cases.c). One member handle,
 * one event and one result are reused for every case, as a POS worker
 * would. Before each decision the member handle is reset to the case's
 * saved state (loy_member_copy from a pristine handle, the copy loy_apply
 * itself makes), so every decision is that member's first order and its
 * answer can be checked against the floor; the reset is timed on its own
 * and subtracted. A decision is building the order with the setters plus
 * loy_apply. The round trip starts from the state bytes instead
 * (loy_member_load), and ends with loy_member_to_bytes.
 *
 * Each figure is the median of --runs runs; a run goes over every case
 * (several times when the cases are few), so caches see as many members as
 * there are cases.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "member.h"

/* ---------------------------------------------------------- allocations */

typedef struct counting {
    size_t mallocs, reallocs, frees;
} counting;

static void *cnt_malloc(void *ctx, size_t n)
{
    ((counting *)ctx)->mallocs++;
    return malloc(n);
}

static void *cnt_realloc(void *ctx, void *p, size_t n)
{
    ((counting *)ctx)->reallocs++;
    return realloc(p, n);
}

static void cnt_free(void *ctx, void *p)
{
    ((counting *)ctx)->frees++;
    free(p);
}

static size_t cnt_allocs(const counting *c)
{
    return c->mallocs + c->reallocs;
}

/* ---------------------------------------------------------------- timing */

/*
 * The thread's CPU time, not the wall clock: the machine this runs on is
 * often shared (builds, fuzzers), and time spent descheduled is not the
 * library's. Cache pollution from neighbours still shows; the median of
 * several runs damps it.
 */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}


static void load_average(char *out, size_t len)
{
    size_t n = 0;
    char *text = NULL;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        text = malloc(64);
        if (text && fgets(text, 64, f))
            n = strlen(text);
        fclose(f);
    }
    if (n > 0) {
        /* the first three fields */
        char *p = text;
        for (int k = 0; k < 3 && p; k++)
            p = strchr(p + 1, ' ');
        if (p)
            *p = '\0';
        snprintf(out, len, "%s", text);
    } else {
        snprintf(out, len, "unknown");
    }
    free(text);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    if (buf)
        buf[n < cap ? n : cap - 1] = '\0';
    *len = n;
    return buf;
}

/* ------------------------------------------------------------- the bench */

typedef struct bench {
    const loy_policy *p;
    bench_cases cases;
    loy_member *work;           /* reset to each case's state */
    loy_event *ev;
    loy_result *res;
    fl_member fl_out;
    fl_decision fl_d;
    fl_benefits fl_b;
    size_t failures;            /* calls that did not return LOY_OK in a timed loop */
} bench;

typedef enum mode {
    M_RESTORE,          /* reset the member handle to the case's state */
    M_BUILD,            /* + build the order */
    M_APPLY,            /* + loy_apply */
    M_APPLY_QUERY,      /* + loy_query_benefits at the order's instant */
    M_FLOOR_RESET,      /* reset the floor's member to the case's state */
    M_FLOOR,            /* + the hard-coded checkout */
    M_FLOOR_BENEFITS,   /* + the hard-coded benefits */
    M_LOAD,             /* loy_member_load from the case's bytes */
    M_LOAD_SAVE,        /* + loy_member_to_bytes */
    M_ROUNDTRIP,        /* load, build, apply, to_bytes */
    M_JSON,             /* loy_apply_json: bytes + event JSON in, result + bytes out */
    M_COUNT
} mode;

static const char *const mode_names[M_COUNT] = {
    "restore", "restore+build", "restore+build+apply", "restore+build+apply+query", "floor reset",
    "floor reset+floor", "floor reset+floor+benefits", "load", "load+save", "roundtrip", "json"};

static inline void do_restore(bench *b, const bench_case *c)
{
    if (!loy_member_copy(b->work, c->pristine))
        b->failures++;
}

static inline void do_build(bench *b, const bench_case *c)
{
    if (bench_build_event(b->ev, c) != LOY_OK)
        b->failures++;
}

static inline void do_apply(bench *b)
{
    if (loy_apply(b->p, b->work, b->ev, b->res) != LOY_OK)
        b->failures++;
}

static inline void do_query(bench *b, const bench_case *c)
{
    if (loy_query_benefits(b->p, b->work, c->at, c->channel, c->store[0] ? c->store : NULL, b->res) != LOY_OK)
        b->failures++;
}

static inline void do_floor_reset(bench *b, const bench_case *c)
{
    b->fl_out = c->floor_in;
}

static inline void do_floor(bench *b, const bench_case *c)
{
    if (fl_checkout(&b->fl_out, &c->floor_order, &b->fl_d) != 0)
        b->failures++;
}

static inline void do_floor_benefits(bench *b, const bench_case *c)
{
    fl_benefits_open(&b->fl_out, c->channel, &b->fl_b);
}

static inline void do_load(bench *b, const bench_case *c)
{
    if (loy_member_load(b->work, c->bytes, c->bytes_len) != LOY_OK)
        b->failures++;
}

static inline void do_save(bench *b)
{
    const void *data;
    size_t len;
    if (loy_member_to_bytes(b->work, &data, &len) != LOY_OK)
        b->failures++;
}

static inline void do_json(bench *b, const bench_case *c)
{
    if (loy_apply_json(b->p, c->bytes, c->bytes_len, c->event_json, c->event_json_len, b->res) != LOY_OK)
        b->failures++;
}

static void run_case(bench *b, mode m, const bench_case *c)
{
    switch (m) {
    case M_RESTORE: do_restore(b, c); break;
    case M_BUILD: do_restore(b, c); do_build(b, c); break;
    case M_APPLY: do_restore(b, c); do_build(b, c); do_apply(b); break;
    case M_APPLY_QUERY: do_restore(b, c); do_build(b, c); do_apply(b); do_query(b, c); break;
    case M_FLOOR_RESET: do_floor_reset(b, c); break;
    case M_FLOOR: do_floor_reset(b, c); do_floor(b, c); break;
    case M_FLOOR_BENEFITS: do_floor_reset(b, c); do_floor(b, c); do_floor_benefits(b, c); break;
    case M_LOAD: do_load(b, c); break;
    case M_LOAD_SAVE: do_load(b, c); do_save(b); break;
    case M_ROUNDTRIP: do_load(b, c); do_build(b, c); do_apply(b); do_save(b); break;
    case M_JSON: do_json(b, c); break;
    case M_COUNT: break;
    }
}

/* One pass over every case in one mode. */
static void pass(bench *b, mode m)
{
    for (size_t i = 0; i < b->cases.count; i++)
        run_case(b, m, &b->cases.items[i]);
}

/* ns per case: the median of `runs` runs of `passes` passes; *fastest, the
 * fastest run. The hosts this runs on change speed by up to 2x over a few
 * hundred ms (a pass-by-pass trace swings smoothly between 380 and 850 ns a
 * decision with the guest idle), so the median mixes fast and slow spells
 * and the fastest run is the machine's own speed. */
static double time_mode(bench *b, mode m, int runs, int passes, double *fastest)
{
    double v[64];
    if (runs > 64)
        runs = 64;
    pass(b, m);     /* warm: handles reach their largest size */
    for (int r = 0; r < runs; r++) {
        double t0 = now_ns();
        for (int k = 0; k < passes; k++)
            pass(b, m);
        v[r] = (now_ns() - t0) / ((double)passes * (double)b->cases.count);
    }
    double med = median(v, runs);   /* sorts */
    if (fastest)
        *fastest = v[0];
    return med;
}

/* Allocations per case of one pass, after a warming pass. */
static double allocs_mode(bench *b, counting *cnt, mode m)
{
    pass(b, m);
    size_t before = cnt_allocs(cnt);
    pass(b, m);
    return (double)(cnt_allocs(cnt) - before) / (double)b->cases.count;
}

/* ------------------------------------------------------------ callgrind */

/* Wrappers that callgrind can attribute: inclusive cost / calls is the
 * instructions of one step. noinline keeps them in the profile. */
#define CG(name, body)                                                         \
    __attribute__((noinline)) void cg_##name(bench *b, const bench_case *c);   \
    __attribute__((noinline)) void cg_##name(bench *b, const bench_case *c)    \
    {                                                                          \
        (void)c;                                                               \
        body;                                                                  \
        __asm__ volatile("" ::: "memory");                                     \
    }

CG(restore, do_restore(b, c))
CG(build, do_build(b, c))
CG(apply, do_apply(b))
CG(query, do_query(b, c))
CG(floor_reset, do_floor_reset(b, c))
CG(floor, do_floor(b, c))
CG(floor_benefits, do_floor_benefits(b, c))
CG(load, do_load(b, c))
CG(save, do_save(b))
CG(json, do_json(b, c))

static void callgrind_child(bench *b)
{
    for (int m = 0; m < M_COUNT; m++)
        pass(b, (mode)m);
    for (size_t i = 0; i < b->cases.count; i++) {
        const bench_case *c = &b->cases.items[i];
        cg_restore(b, c);
        cg_build(b, c);
        cg_apply(b, c);
        cg_query(b, c);
        cg_floor_reset(b, c);
        cg_floor(b, c);
        cg_floor_benefits(b, c);
        cg_load(b, c);
        do_build(b, c);
        do_apply(b);
        cg_save(b, c);
        cg_json(b, c);
    }
}

typedef struct ir_figures {
    bool ok;
    char note[160];
    double restore, build, apply, query, floor, floor_benefits, load, save, json;
} ir_figures;

static bool have_program(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

static void run_callgrind(const char *self, const char *spec, size_t cases, ir_figures *ir)
{
    memset(ir, 0, sizeof *ir);
    if (!have_program("valgrind") || !have_program("callgrind_annotate")) {
        snprintf(ir->note, sizeof ir->note, "skipped: valgrind is not installed");
        return;
    }
    char out[] = "/tmp/loyalty-bench-cg-XXXXXX";
    int fd = mkstemp(out);
    if (fd < 0) {
        snprintf(ir->note, sizeof ir->note, "skipped: no temporary file");
        return;
    }
    close(fd);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "valgrind --tool=callgrind --callgrind-out-file=%s '%s' --spec '%s' --cases %zu "
             "--callgrind-child >/dev/null 2>&1 && callgrind_annotate --inclusive=yes %s 2>/dev/null",
             out, self, spec, cases, out);
    FILE *f = popen(cmd, "r");
    if (!f) {
        snprintf(ir->note, sizeof ir->note, "skipped: cannot run valgrind");
        unlink(out);
        return;
    }
    struct { const char *name; double *v; } want[] = {
        {"cg_restore", &ir->restore}, {"cg_build", &ir->build}, {"cg_apply", &ir->apply},
        {"cg_query", &ir->query}, {"cg_floor_benefits", &ir->floor_benefits}, {"cg_floor", &ir->floor},
        {"cg_load", &ir->load}, {"cg_save", &ir->save}, {"cg_json", &ir->json}};
    char line[4096];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
            const char *at = strstr(line, want[k].name);
            size_t n = strlen(want[k].name);
            if (!at || (at[n] != ' ' && at[n] != '\'' && at[n] != '\n' && at[n] != '['))
                continue;
            if (at > line && at[-1] != ':' && at[-1] != ' ')
                continue;
            /* the leading count, with thousands separators */
            double v = 0;
            for (const char *s = line; *s && s < at; s++) {
                if (*s >= '0' && *s <= '9')
                    v = v * 10 + (*s - '0');
                else if (*s == ',')
                    continue;
                else if (v > 0)
                    break;
            }
            *want[k].v = v / (double)cases;
            found++;
            break;
        }
    }
    int status = pclose(f);
    unlink(out);
    if (status != 0 || found < 9) {
        snprintf(ir->note, sizeof ir->note, "skipped: callgrind gave no figures (status %d)", status);
        return;
    }
    ir->ok = true;
    snprintf(ir->note, sizeof ir->note, "callgrind, %zu cases, inclusive Ir per call", cases);
}

/* ----------------------------------------------------------- policy load */

typedef struct load_figure {
    const char *name;
    size_t bytes;
    double us;
    double allocs;
    bool ok;
} load_figure;

static void time_load(load_figure *f, const char *name, const char *data, size_t len, int runs)
{
    counting cnt = {0};
    loy_allocator a = {cnt_malloc, cnt_realloc, cnt_free, &cnt};
    double v[64];
    f->name = name;
    f->bytes = len;
    f->ok = true;
    if (runs > 64)
        runs = 64;
    for (int r = 0; r < runs; r++) {
        loy_policy *p = NULL;
        loy_diag *diag = NULL;
        size_t before = cnt_allocs(&cnt);
        double t0 = now_ns();
        int rc = loy_policy_load_buffer_ex(&p, data, len, name, &diag, &a);
        v[r] = (now_ns() - t0) / 1e3;
        f->allocs = (double)(cnt_allocs(&cnt) - before);
        if (rc != LOY_OK) {
            f->ok = false;
            for (size_t i = 0; i < loy_diag_count(diag) && i < 5; i++)
                fprintf(stderr, "%s:%u:%u: %s\n", name, loy_diag_line(diag, i), loy_diag_column(diag, i),
                        loy_diag_message(diag, i));
        }
        loy_diag_free(diag);
        loy_policy_free(p);
        if (!f->ok)
            break;
    }
    f->us = f->ok ? median(v, runs) : 0;
}

/* ------------------------------------------------------------ state size */

typedef struct size_figures {
    size_t new_member;
    size_t cases_min, cases_median, cases_p90, cases_max;
    size_t year_median, year_p90, year_max;          /* after a year, over 100 members */
    size_t year_events_median, year_events_max;
} size_figures;

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* A member's year through the JSON entry points; the state's size after it. */
static size_t year_size(const loy_policy *p, const char *text, size_t *accepted)
{
    loy_member *m = NULL;
    loy_result *r = NULL;
    size_t size = 0;
    *accepted = 0;
    if (loy_member_create(&m, p) != LOY_OK || loy_result_new(&r, p) != LOY_OK)
        goto done;
    const char *line = text;
    bool first = true;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (first) {
            if (loy_member_init_json(m, line, n, r) != LOY_OK) {
                fprintf(stderr, "bench: member line refused: %s\n", loy_result_json(r, NULL));
                goto done;
            }
            first = false;
        } else if (loy_apply_json_line(p, m, line, n, r) == LOY_OK) {
            (*accepted)++;
        }
        line += n + (end ? 1 : 0);
    }
    const void *data;
    if (loy_member_to_bytes(m, &data, &size) != LOY_OK)
        size = 0;
done:
    loy_result_free(r);
    loy_member_free(m);
    return size;
}

static void state_sizes(const loy_policy *p, const bench_cases *cases, size_figures *s)
{
    memset(s, 0, sizeof *s);
    loy_member *m = NULL;
    const void *data;
    if (loy_member_new(&m, p, "M-000001", "2026-01-01") == LOY_OK &&
        loy_member_to_bytes(m, &data, &s->new_member) != LOY_OK)
        s->new_member = 0;
    loy_member_free(m);

    size_t n = cases->count;
    size_t *v = malloc(n * sizeof *v);
    if (v && n) {
        for (size_t i = 0; i < n; i++)
            v[i] = cases->items[i].bytes_len;
        qsort(v, n, sizeof *v, cmp_size);
        s->cases_min = v[0];
        s->cases_median = v[n / 2];
        s->cases_p90 = v[n * 9 / 10];
        s->cases_max = v[n - 1];
    }
    free(v);

    /* A hundred members' years: the median is the typical member. */
    enum { YEARS = 100 };
    size_t sizes[YEARS], events[YEARS];
    for (int i = 0; i < YEARS; i++) {
        char id[16];
        size_t len, accepted;
        snprintf(id, sizeof id, "Y-%06d", i);
        char *year = bench_member_year(id, 1000 + (uint64_t)i, &len, &events[i]);
        sizes[i] = year_size(p, year, &accepted);
        free(year);
    }
    qsort(sizes, YEARS, sizeof sizes[0], cmp_size);
    qsort(events, YEARS, sizeof events[0], cmp_size);
    s->year_median = sizes[YEARS / 2];
    s->year_p90 = sizes[YEARS * 9 / 10];
    s->year_max = sizes[YEARS - 1];
    s->year_events_median = events[YEARS / 2];
    s->year_events_max = events[YEARS - 1];
}

/* -------------------------------------------------------------- simulate */

typedef struct sim_figure {
    bool ok;
    char note[200];
    size_t members, events;
    double seconds, events_per_s;   /* --jobs 1: CPU time */
    bool wall_ok;
    char wall_note[200];
    int jobs;                       /* online CPUs */
    double wall_seconds, wall_events_per_s;
} sim_figure;

/* One `loyalty simulate` of the history, its report in out. Returns the
 * exit status; *cpu and *wall are its user + system and elapsed seconds. */
/* The CPUs the bench was started on: main pins itself to one of them for
 * the per-core loops, and a child inherits that, so `simulate --jobs N`
 * gets the original set back for its run. */
static cpu_set_t started_cpus;
static bool have_started_cpus;

static int simulate_once(const char *loyalty, const char *policy_path, const char *history, int jobs,
                         const char *out, double *cpu, double *wall)
{
    cpu_set_t pinned;
    bool unpin = jobs > 1 && have_started_cpus && sched_getaffinity(0, sizeof pinned, &pinned) == 0;
    if (unpin)
        sched_setaffinity(0, sizeof started_cpus, &started_cpus);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' simulate '%s' '%s' --jobs %d >'%s' 2>/tmp/loyalty-bench-sim.err", loyalty,
             policy_path, history, jobs, out);
    /* A whole process: its user + system time (the children's rusage, as
     * for the loops, so neighbours on the machine do not count). */
    struct rusage r0, r1;
    getrusage(RUSAGE_CHILDREN, &r0);
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    int status = system(cmd);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    *wall = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;
    getrusage(RUSAGE_CHILDREN, &r1);
    *cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
           (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
    if (unpin)
        sched_setaffinity(0, sizeof pinned, &pinned);
    return status;
}

static bool same_file(const char *a, const char *b)
{
    size_t alen = 0, blen = 0;
    char *x = read_file(a, &alen), *y = read_file(b, &blen);
    bool same = x && y && alen == blen && memcmp(x, y, alen) == 0;
    free(x);
    free(y);
    return same;
}

/* The history simulated twice: on one thread, timed in CPU seconds (the
 * figure with the target: what the code costs), and with --jobs set to the
 * online CPUs, timed by the wall clock (what an operator waits), whose
 * report must be the same bytes. */
static void run_simulate(const char *loyalty, const char *policy_path, size_t members, sim_figure *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->wall_note, sizeof s->wall_note, "n/a");
    struct stat st;
    if (!loyalty || stat(loyalty, &st) != 0) {
        snprintf(s->note, sizeof s->note, "n/a (simulate not built)");
        return;
    }
    char path[] = "/tmp/loyalty-bench-history-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        snprintf(s->note, sizeof s->note, "n/a (no temporary file)");
        return;
    }
    for (size_t i = 0; i < members; i++) {
        char id[16];
        size_t len, events;
        snprintf(id, sizeof id, "H-%06zu", i);
        char *year = bench_member_year(id, 7000 + i, &len, &events);
        fwrite(year, 1, len, f);
        free(year);
        s->events += events;
    }
    fclose(f);
    s->members = members;
    const char *out1 = "/tmp/loyalty-bench-sim.1", *outn = "/tmp/loyalty-bench-sim.n";
    double t, wall;
    int status = simulate_once(loyalty, policy_path, path, 1, out1, &t, &wall);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    s->jobs = cpus < 1 ? 1 : cpus > 256 ? 256 : (int)cpus;
    /* The wall clock counts the neighbours on the machine too: the median
     * of three runs. */
    double tn[3] = {0}, walln[3] = {0};
    int status_n = -1;
    for (int i = 0; i < 3 && status == 0; i++) {
        status_n = simulate_once(loyalty, policy_path, path, s->jobs, outn, &tn[i], &walln[i]);
        if (status_n != 0)
            break;
        for (int j = i; j > 0 && walln[j] < walln[j - 1]; j--) {
            double x = walln[j], y = tn[j];
            walln[j] = walln[j - 1];
            tn[j] = tn[j - 1];
            walln[j - 1] = x;
            tn[j - 1] = y;
        }
    }
    unlink(path);
    if (status != 0) {
        size_t elen = 0;
        char *err = read_file("/tmp/loyalty-bench-sim.err", &elen);
        if (err && elen > 0 && err[elen - 1] == '\n')
            err[elen - 1] = '\0';
        snprintf(s->note, sizeof s->note, "n/a (simulate not built: `loyalty simulate` exits %d%s%.120s)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, err && *err ? ": " : "", err ? err : "");
        free(err);
        unlink("/tmp/loyalty-bench-sim.err");
        unlink(out1);
        return;
    }
    s->ok = true;
    s->seconds = t;
    s->events_per_s = (double)s->events / t;
    snprintf(s->note, sizeof s->note, "%zu members, %zu events, whole process, --jobs 1, CPU time %.2f s",
             members, s->events, t);
    if (status_n != 0)
        snprintf(s->wall_note, sizeof s->wall_note, "n/a (`loyalty simulate --jobs %d` exits %d)", s->jobs,
                 WIFEXITED(status_n) ? WEXITSTATUS(status_n) : -1);
    else if (!same_file(out1, outn))
        snprintf(s->wall_note, sizeof s->wall_note, "n/a (the report of --jobs %d differs from --jobs 1)", s->jobs);
    else {
        s->wall_ok = true;
        s->wall_seconds = walln[1];
        s->wall_events_per_s = (double)s->events / walln[1];
        snprintf(s->wall_note, sizeof s->wall_note,
                 "same history and report, --jobs %d (online CPUs), wall clock %.2f s (median of 3), CPU time %.2f s",
                 s->jobs, walln[1], tn[1]);
    }
    unlink("/tmp/loyalty-bench-sim.err");
    unlink(out1);
    unlink(outn);
}

/* ------------------------------------------------- a decision, large policy */

static double large_decision(const loy_policy *p, int runs, char *note, size_t note_len)
{
    loy_member *pristine = NULL, *work = NULL;
    loy_event *ev = NULL;
    loy_result *res = NULL;
    double v[64], out = 0;
    if (loy_member_new(&pristine, p, "L-000001", "2025-01-01") != LOY_OK ||
        loy_member_set_birthday(pristine, "1990-03-10") != LOY_OK ||
        loy_member_add_tag(pristine, "tag07") != LOY_OK ||
        loy_member_import_tier(pristine, "t05", "2025-11-01") != LOY_OK ||
        loy_member_import_month(pristine, LOY_METRIC_SPEND, "2026-01", 1500000) != LOY_OK ||
        loy_member_create(&work, p) != LOY_OK || loy_event_new(&ev, p) != LOY_OK ||
        loy_result_new(&res, p) != LOY_OK) {
        snprintf(note, note_len, "setup failed");
        goto done;
    }
    if (runs > 64)
        runs = 64;
    const int reps = 200;
    for (int r = 0; r < runs; r++) {
        double t0 = now_ns();
        for (int k = 0; k < reps; k++) {
            loy_member_copy(work, pristine);
            loy_event_reset(ev, LOY_EVENT_ORDER, "O-1", "2026-03-08T12:00:00+08:00");
            loy_event_set_channel(ev, "pos");
            loy_event_add_line(ev, "SKU-1", "coats", 159900, 1);
            loy_event_add_line(ev, "SKU-2", "c03", 29900, 1);
            loy_event_add_line(ev, "SKU-3", "tops", 19900, 1);
            if (loy_apply(p, work, ev, res) != LOY_OK) {
                snprintf(note, note_len, "refused: %s", loy_result_message(res));
                goto done;
            }
        }
        v[r] = (now_ns() - t0) / reps;
    }
    out = median(v, runs);
    snprintf(note, note_len, "restore+build+apply, 3 lines, %zu effects",
             loy_node_count(loy_node_get(loy_result_root(res), "effects")));
done:
    loy_result_free(res);
    loy_event_free(ev);
    loy_member_free(work);
    loy_member_free(pristine);
    return out;
}

/* ------------------------------------------------------------------ main */

typedef struct options {
    size_t cases;
    int runs;
    bool json;
    bool callgrind;
    bool callgrind_child;
    bool verbose;
    const char *spec;
    const char *loyalty;
    size_t sim_members;
    size_t cg_cases;
} options;

static void usage(void)
{
    fputs("usage: loyalty-bench [--spec DIR] [--loyalty PROGRAM] [--cases N] [--runs N]\n"
          "                     [--sim-members N] [--no-callgrind] [--json] [--verbose]\n",
          stderr);
}

static int parse_options(int argc, char **argv, options *o)
{
    o->cases = 4096;
    o->runs = 9;
    o->json = false;
    o->callgrind = true;
    o->callgrind_child = false;
    o->verbose = false;
    o->spec = "../shared/spec";
    o->loyalty = NULL;
    o->sim_members = 10000;
    o->cg_cases = 1000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--no-callgrind") == 0) {
            o->callgrind = false;
        } else if (strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "--callgrind-child") == 0) {
            o->callgrind_child = true;
        } else if (v && strcmp(a, "--spec") == 0) {
            o->spec = v;
            i++;
        } else if (v && strcmp(a, "--loyalty") == 0) {
            o->loyalty = v;
            i++;
        } else if (v && strcmp(a, "--cases") == 0) {
            o->cases = (size_t)strtoul(v, NULL, 10);
            i++;
        } else if (v && strcmp(a, "--runs") == 0) {
            o->runs = atoi(v);
            i++;
        } else if (v && strcmp(a, "--sim-members") == 0) {
            o->sim_members = (size_t)strtoul(v, NULL, 10);
            i++;
        } else {
            usage();
            return -1;
        }
    }
    if (o->cases == 0 || o->runs < 1) {
        usage();
        return -1;
    }
    return 0;
}

typedef struct figures {
    double t[M_COUNT];
    double fast[M_COUNT];       /* the fastest run of each mode */
    /* library / floor taken turn by turn (time_ratio): the lowest, the
     * median and the highest; checkout alone, and with the benefits query */
    double ratio[3], ratio_q[3];
    double allocs[M_COUNT];
    size_t mismatches, checked;
    char first_mismatch[400];
    ir_figures ir;
    load_figure loads[4];
    double large_decision_ns;
    char large_note[120];
    size_figures sizes;
    sim_figure sim;
    char describe[600];
    size_t failures;
    char load[64];
} figures;

/* One pass of mode m, in ns per case, after an untimed pass that brings
 * the mode's own data back into the caches the other mode of the turn
 * took: each side is timed as warm as it is when timed alone. */
static double pass_ns(bench *b, mode m)
{
    pass(b, m);
    double t0 = now_ns();
    pass(b, m);
    return (now_ns() - t0) / (double)b->cases.count;
}

/* library / floor, taken pass by pass: on a shared host the speed moves
 * by up to 2x within a second, so the library and the floor take turns,
 * one pass each (a few ms), and each turn gives its own ratio. Each side's
 * reset (the member back to the case's state) is timed in the same turn
 * and not counted. out: the lowest, the median and the highest of `turns`
 * ratios. */
static void time_ratio(bench *b, mode lib, mode floor, int turns, double out[3])
{
    static double ratio[4096];
    if (turns > 4096)
        turns = 4096;
    for (int i = 0; i < turns; i++) {
        double l = pass_ns(b, lib) - pass_ns(b, M_RESTORE);
        double f = pass_ns(b, floor) - pass_ns(b, M_FLOOR_RESET);
        ratio[i] = l / f;
    }
    out[1] = median(ratio, turns);  /* sorts */
    out[0] = ratio[0];
    out[2] = ratio[turns - 1];
}

/* Every case once: the library's answer against the floor's. */
static void check_all(bench *b, figures *f)
{
    char why[300];
    for (size_t i = 0; i < b->cases.count; i++) {
        const bench_case *c = &b->cases.items[i];
        do_restore(b, c);
        do_build(b, c);
        loy_apply(b->p, b->work, b->ev, b->res);
        do_floor_reset(b, c);
        fl_checkout(&b->fl_out, &c->floor_order, &b->fl_d);
        int bad = bench_check_apply(b->res, c, &b->fl_d, why, sizeof why);
        if (!bad) {
            do_query(b, c);
            fl_benefits_open(&b->fl_out, c->channel, &b->fl_b);
            bad = bench_check_benefits(b->res, &b->fl_b, why, sizeof why);
        }
        f->checked++;
        if (bad) {
            if (f->mismatches++ == 0)
                snprintf(f->first_mismatch, sizeof f->first_mismatch, "%s (order %s): %s", c->member_id,
                         c->order_id, why);
        }
    }
}

static const char *met(bool ok)
{
    return ok ? "met" : "MISSED";
}

static void print_table(const options *o, const figures *f)
{
    const double *t = f->t;
    double decision = t[M_APPLY] - t[M_RESTORE];
    double apply_only = t[M_APPLY] - t[M_BUILD];
    double checkout = t[M_APPLY_QUERY] - t[M_RESTORE];
    double floor = t[M_FLOOR] - t[M_FLOOR_RESET];
    double floor_checkout = t[M_FLOOR_BENEFITS] - t[M_FLOOR_RESET];
    double ratio = f->ratio[1], ratio_q = f->ratio_q[1];
    const double *fast = f->fast;
    double fast_decision = fast[M_APPLY] - fast[M_RESTORE];
    double fast_floor = fast[M_FLOOR] - fast[M_FLOOR_RESET];
    double fast_checkout = fast[M_APPLY_QUERY] - fast[M_RESTORE];
    double fast_floor_checkout = fast[M_FLOOR_BENEFITS] - fast[M_FLOOR_RESET];
    double dec_allocs = f->allocs[M_APPLY] - f->allocs[M_RESTORE];

    printf("libloyalty benchmark (bench/, -O2 -DNDEBUG, one core, thread CPU time; load average %s)\n",
           f->load);
    printf("cases: %s\n", f->describe);
    printf("check: %zu of %zu cases equal to the hard-coded floor%s%s\n\n", f->checked - f->mismatches,
           f->checked, f->mismatches ? "; first difference: " : "", f->mismatches ? f->first_mismatch : "");
    printf("%-52s %14s %14s  %s\n", "figure", "measured", "target", "");
    printf("%-52s %14s %14s  %s\n", "----------------------------------------------------", "--------------",
           "--------------", "------");
#define ROW(name, val, target, ok) printf("%-52s %14s %14s  %s\n", name, val, target, ok)
    char v[64];
    snprintf(v, sizeof v, "%.0f/s", 1e9 / decision);
    ROW("(a) decisions/s, reused handles (build + apply)", v, ">= 5,000,000/s", met(1e9 / decision >= 5e6));
    snprintf(v, sizeof v, "%.0f ns", decision);
    ROW("    ns/decision", v, "<= 200 ns", met(decision <= 200));
    snprintf(v, sizeof v, "%.0f ns", apply_only);
    ROW("    of which loy_apply", v, "", "");
    snprintf(v, sizeof v, "%.0f ns", t[M_BUILD] - t[M_RESTORE]);
    ROW("    of which building the event", v, "", "");
    snprintf(v, sizeof v, "%.0f ns", t[M_RESTORE]);
    ROW("    (reset from the saved copy, not counted)", v, "", "");
    snprintf(v, sizeof v, "%.0f/s", 1e9 / fast_decision);
    ROW("    fastest run: decisions/s", v, ">= 5,000,000/s", met(1e9 / fast_decision >= 5e6));
    snprintf(v, sizeof v, "%.0f ns", fast_decision);
    ROW("    fastest run: ns/decision", v, "", "");
    snprintf(v, sizeof v, "%.0f/s", 1e9 / floor);
    ROW("floor: hard-coded checkout/s", v, "ref. ~2e7/s", "");
    snprintf(v, sizeof v, "%.0f ns", floor);
    ROW("    ns/decision", v, "", "");
    snprintf(v, sizeof v, "%.0f ns", t[M_FLOOR_RESET]);
    ROW("    (reset of its member, not counted)", v, "", "");
    snprintf(v, sizeof v, "%.0f ns", fast_floor);
    ROW("    fastest run: ns/decision", v, "", "");
    snprintf(v, sizeof v, "%.1fx", ratio);
    ROW("    library / floor (median of turns)", v, "<= 3x", met(ratio <= 3.0));
    snprintf(v, sizeof v, "%.1f-%.1fx", f->ratio[0], f->ratio[2]);
    ROW("    (lowest-highest turn)", v, "", "");
    snprintf(v, sizeof v, "%.1fx", fast_decision / fast_floor);
    ROW("    (the two fastest runs, timed apart)", v, "", "");
    snprintf(v, sizeof v, "%.1fx", decision / floor);
    ROW("    (the two medians above, timed apart)", v, "", "");
    if (f->ir.ok) {
        snprintf(v, sizeof v, "%.2fx", (f->ir.build + f->ir.apply) / f->ir.floor);
        ROW("    (instructions, callgrind)", v, "", "");
    }
    snprintf(v, sizeof v, "%.0f ns", checkout);
    ROW("(a') checkout + benefits query (build+apply+query)", v, "", "");
    snprintf(v, sizeof v, "%.0f ns", floor_checkout);
    ROW("    floor checkout + benefits", v, "", "");
    snprintf(v, sizeof v, "%.1fx", ratio_q);
    ROW("    library / floor (median of turns)", v, "<= 3x", met(ratio_q <= 3.0));
    snprintf(v, sizeof v, "%.1f-%.1fx", f->ratio_q[0], f->ratio_q[2]);
    ROW("    (lowest-highest turn)", v, "", "");
    snprintf(v, sizeof v, "%.1fx", fast_checkout / fast_floor_checkout);
    ROW("    (the two fastest runs, timed apart)", v, "", "");
    snprintf(v, sizeof v, "%.1fx", checkout / floor_checkout);
    ROW("    (the two medians above, timed apart)", v, "", "");
    if (f->ir.ok) {
        snprintf(v, sizeof v, "%.2fx", (f->ir.build + f->ir.apply + f->ir.query) / (f->ir.floor + f->ir.floor_benefits));
        ROW("    (instructions, callgrind)", v, "", "");
    }
    snprintf(v, sizeof v, "%.0f/s", 1e9 / t[M_ROUNDTRIP]);
    ROW("(b) round trips/s (bytes -> apply -> bytes)", v, ">= 2,000,000/s", met(1e9 / t[M_ROUNDTRIP] >= 2e6));
    snprintf(v, sizeof v, "%.0f ns", t[M_ROUNDTRIP]);
    ROW("    ns/round trip", v, "<= 500 ns", met(t[M_ROUNDTRIP] <= 500));
    snprintf(v, sizeof v, "%.0f/s", 1e9 / fast[M_ROUNDTRIP]);
    ROW("    fastest run: round trips/s", v, ">= 2,000,000/s", met(1e9 / fast[M_ROUNDTRIP] >= 2e6));
    snprintf(v, sizeof v, "%.0f ns", t[M_LOAD]);
    ROW("    loy_member_load alone", v, "", "");
    snprintf(v, sizeof v, "%.0f ns", t[M_LOAD_SAVE] - t[M_LOAD]);
    ROW("    loy_member_to_bytes right after a load", v, "", "");
    snprintf(v, sizeof v, "%.0f ns", t[M_JSON]);
    ROW("(c) loy_apply_json (bytes + JSON in, JSON-ready out)", v, "", "");
    snprintf(v, sizeof v, "%.2f", dec_allocs);
    ROW("heap allocations per decision, steady state", v, "0", met(dec_allocs == 0));
    snprintf(v, sizeof v, "%.2f", f->allocs[M_APPLY_QUERY] - f->allocs[M_APPLY]);
    ROW("    per benefits query", v, "", "");
    snprintf(v, sizeof v, "%.2f", f->allocs[M_ROUNDTRIP]);
    ROW("    per round trip", v, "", "");
    snprintf(v, sizeof v, "%.2f", f->allocs[M_JSON]);
    ROW("    per loy_apply_json", v, "", "");
    if (f->ir.ok) {
        snprintf(v, sizeof v, "%.0f", f->ir.build + f->ir.apply);
        ROW("instructions per decision (build + apply)", v, "", "");
        snprintf(v, sizeof v, "%.0f", f->ir.apply);
        ROW("    loy_apply", v, "", "");
        snprintf(v, sizeof v, "%.0f", f->ir.build);
        ROW("    building the event", v, "", "");
        snprintf(v, sizeof v, "%.0f", f->ir.floor);
        ROW("    floor", v, "", "");
        snprintf(v, sizeof v, "%.0f", f->ir.query);
        ROW("    loy_query_benefits", v, "", "");
        snprintf(v, sizeof v, "%.0f", f->ir.load + f->ir.build + f->ir.apply + f->ir.save);
        ROW("    round trip", v, "", "");
        snprintf(v, sizeof v, "%.0f", f->ir.load);
        ROW("      loy_member_load", v, "", "");
        snprintf(v, sizeof v, "%.0f", f->ir.save);
        ROW("      loy_member_to_bytes", v, "", "");
        snprintf(v, sizeof v, "%.0f", f->ir.json);
        ROW("    loy_apply_json", v, "", "");
        printf("    (%s)\n", f->ir.note);
    } else {
        ROW("instructions per decision", f->ir.note, "", "");
    }
    for (int i = 0; i < 4; i++) {
        const load_figure *l = &f->loads[i];
        char name[80];
        snprintf(name, sizeof name, "policy load: %s (%zu bytes)", i == 3 ? "generated" : l->name, l->bytes);
        if (!l->ok) {
            ROW(name, "did not load", i == 0 ? "< 1 ms" : "", i == 0 ? met(false) : "");
            continue;
        }
        if (l->us >= 1000)
            snprintf(v, sizeof v, "%.2f ms", l->us / 1000);
        else
            snprintf(v, sizeof v, "%.0f us", l->us);
        ROW(name, v, i == 0 ? "< 1 ms" : "", i == 0 ? met(l->us < 1000) : "");
        if (i == 3)
            printf("    (20 tiers, 500 multipliers, 200 benefits; bench/gen.c)\n");
    }
    if (f->large_decision_ns > 0) {
        if (f->large_decision_ns >= 1e6)
            snprintf(v, sizeof v, "%.2f ms", f->large_decision_ns / 1e6);
        else
            snprintf(v, sizeof v, "%.0f ns", f->large_decision_ns);
        ROW("a decision under the large policy", v, "", "");
        printf("    (%s)\n", f->large_note);
    }
    snprintf(v, sizeof v, "%zu B", f->sizes.new_member);
    ROW("state: a new member", v, "", "");
    snprintf(v, sizeof v, "%zu/%zu/%zu B", f->sizes.cases_median, f->sizes.cases_p90, f->sizes.cases_max);
    ROW("state: the cases' members, median/p90/max", v, "<= 512 B", met(f->sizes.cases_median <= 512));
    snprintf(v, sizeof v, "%zu/%zu/%zu B", f->sizes.year_median, f->sizes.year_p90, f->sizes.year_max);
    char name[96];
    snprintf(name, sizeof name, "state: after a year, median/p90/max (%zu/%zu events)",
             f->sizes.year_events_median, f->sizes.year_events_max);
    ROW(name, v, "<= 512 B", met(f->sizes.year_median <= 512));
    if (f->sim.ok) {
        snprintf(v, sizeof v, "%.0f/s", f->sim.events_per_s);
        ROW("simulate events per CPU second, 1 thread", v, ">= 1,000,000/s", met(f->sim.events_per_s >= 1e6));
        printf("    (%s)\n", f->sim.note);
        snprintf(name, sizeof name, "simulate events per wall second, --jobs %d", f->sim.jobs);
        if (f->sim.wall_ok) {
            snprintf(v, sizeof v, "%.0f/s", f->sim.wall_events_per_s);
            ROW(name, v, ">= 1,000,000/s", met(f->sim.wall_events_per_s >= 1e6));
            printf("    (%s)\n", f->sim.wall_note);
        } else {
            ROW(name, "n/a", "", "");
            printf("    %s\n", f->sim.wall_note);
        }
    } else {
        ROW("simulate events per CPU second, 1 thread", "n/a", ">= 1,000,000/s", "");
        printf("    %s\n", f->sim.note);
    }
    if (f->failures)
        printf("\nwarning: %zu calls in timed loops did not return LOY_OK\n", f->failures);
    printf("\n%zu cases, median of %d runs; reproduce: make bench (BENCH_ARGS=\"--json\" for JSON)\n",
           o->cases, o->runs);
#undef ROW
}

static void print_json(const options *o, const figures *f)
{
    const double *t = f->t;
    double decision = t[M_APPLY] - t[M_RESTORE];
    double floor = t[M_FLOOR] - t[M_FLOOR_RESET];
    printf("{\"cases\": %zu, \"runs\": %d, \"checked\": %zu, \"mismatches\": %zu, \"load_average\": \"%s\",\n",
           o->cases, o->runs, f->checked, f->mismatches, f->load);
    printf(" \"checkout\": {\"decisions_per_s\": %.0f, \"ns_per_decision\": %.1f, \"ns_apply\": %.1f, "
           "\"ns_build\": %.1f, \"ns_restore\": %.1f,\n", 1e9 / decision, decision, t[M_APPLY] - t[M_BUILD],
           t[M_BUILD] - t[M_RESTORE], t[M_RESTORE]);
    printf("   \"floor_ns\": %.1f, \"floor_per_s\": %.0f, \"ratio_to_floor\": %.2f, "
           "\"ratio_to_floor_range\": [%.2f, %.2f],\n", floor, 1e9 / floor, f->ratio[1],
           f->ratio[0], f->ratio[2]);
    printf("   \"with_query_ns\": %.1f, \"floor_with_benefits_ns\": %.1f, \"ratio_with_query\": %.2f, "
           "\"ratio_with_query_range\": [%.2f, %.2f]},\n",
           t[M_APPLY_QUERY] - t[M_RESTORE], t[M_FLOOR_BENEFITS] - t[M_FLOOR_RESET], f->ratio_q[1], f->ratio_q[0], f->ratio_q[2]);
    printf(" \"roundtrip\": {\"per_s\": %.0f, \"ns\": %.1f, \"ns_load\": %.1f, \"ns_save\": %.1f},\n",
           1e9 / t[M_ROUNDTRIP], t[M_ROUNDTRIP], t[M_LOAD], t[M_LOAD_SAVE] - t[M_LOAD]);
    const double *fast = f->fast;
    printf(" \"fastest_run\": {\"ns_per_decision\": %.1f, \"floor_ns\": %.1f, \"with_query_ns\": %.1f, "
           "\"floor_with_benefits_ns\": %.1f, \"roundtrip_ns\": %.1f},\n",
           fast[M_APPLY] - fast[M_RESTORE], fast[M_FLOOR] - fast[M_FLOOR_RESET], fast[M_APPLY_QUERY] - fast[M_RESTORE],
           fast[M_FLOOR_BENEFITS] - fast[M_FLOOR_RESET], fast[M_ROUNDTRIP]);
    printf(" \"apply_json_ns\": %.1f,\n", t[M_JSON]);
    printf(" \"allocations\": {\"per_decision\": %.3f, \"per_query\": %.3f, \"per_roundtrip\": %.3f, "
           "\"per_apply_json\": %.3f},\n", f->allocs[M_APPLY] - f->allocs[M_RESTORE],
           f->allocs[M_APPLY_QUERY] - f->allocs[M_APPLY], f->allocs[M_ROUNDTRIP], f->allocs[M_JSON]);
    if (f->ir.ok)
        printf(" \"instructions\": {\"decision\": %.0f, \"apply\": %.0f, \"build\": %.0f, \"floor\": %.0f, "
               "\"floor_benefits\": %.0f, \"query\": %.0f, \"roundtrip\": %.0f, \"load\": %.0f, \"save\": %.0f, "
               "\"apply_json\": %.0f},\n",
               f->ir.build + f->ir.apply, f->ir.apply, f->ir.build, f->ir.floor, f->ir.floor_benefits, f->ir.query,
               f->ir.load + f->ir.build + f->ir.apply + f->ir.save, f->ir.load, f->ir.save, f->ir.json);
    else
        printf(" \"instructions\": null, \"instructions_note\": \"%s\",\n", f->ir.note);
    printf(" \"policy_load_us\": {");
    for (int i = 0; i < 4; i++)
        printf("%s\"%s\": %s%.1f%s", i ? ", " : "", f->loads[i].name, f->loads[i].ok ? "" : "null /* ",
               f->loads[i].us, f->loads[i].ok ? "" : " */");
    printf("},\n \"large_policy_decision_ns\": %.1f,\n", f->large_decision_ns);
    printf(" \"state_bytes\": {\"new_member\": %zu, \"cases_median\": %zu, \"cases_p90\": %zu, "
           "\"cases_max\": %zu, \"year_median\": %zu, \"year_p90\": %zu, \"year_max\": %zu, "
           "\"year_events_median\": %zu, \"year_events_max\": %zu},\n",
           f->sizes.new_member, f->sizes.cases_median, f->sizes.cases_p90, f->sizes.cases_max,
           f->sizes.year_median, f->sizes.year_p90, f->sizes.year_max, f->sizes.year_events_median,
           f->sizes.year_events_max);
    if (f->sim.ok)
        printf(" \"simulate_events_per_s\": %.0f,\n", f->sim.events_per_s);
    else
        printf(" \"simulate_events_per_s\": null,\n");
    if (f->sim.wall_ok)
        printf(" \"simulate_jobs\": %d, \"simulate_wall_events_per_s\": %.0f}\n", f->sim.jobs,
               f->sim.wall_events_per_s);
    else
        printf(" \"simulate_jobs\": %d, \"simulate_wall_events_per_s\": null}\n", f->sim.jobs);
}

int main(int argc, char **argv)
{
    options o;
    if (parse_options(argc, argv, &o) != 0)
        return 2;

    /* One core: the figures are per core, and a migration mid-run is noise. */
    have_started_cpus = sched_getaffinity(0, sizeof started_cpus, &started_cpus) == 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    int cpu = sched_getcpu();
    CPU_SET((size_t)(cpu >= 0 ? cpu : 0), &set);
    sched_setaffinity(0, sizeof set, &set);

    char path[1024];
    size_t apparel_len;
    snprintf(path, sizeof path, "%s/policies/apparel.yaml", o.spec);
    char *apparel = read_file(path, &apparel_len);
    if (!apparel) {
        fprintf(stderr, "bench: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }
    counting cnt = {0};
    loy_allocator alloc = {cnt_malloc, cnt_realloc, cnt_free, &cnt};
    loy_policy *policy = NULL;
    if (loy_policy_load_buffer_ex(&policy, apparel, apparel_len, path, NULL, &alloc) != LOY_OK) {
        fprintf(stderr, "bench: %s does not load\n", path);
        return 2;
    }

    bench b;
    memset(&b, 0, sizeof b);
    b.p = policy;
    if (o.callgrind_child)
        o.cases = o.cases ? o.cases : 1000;
    if (bench_cases_make(&b.cases, policy, o.cases, 20260101) != 0) {
        fprintf(stderr, "bench: cannot make the cases\n");
        return 2;
    }
    if (loy_member_create(&b.work, policy) != LOY_OK || loy_event_new(&b.ev, policy) != LOY_OK ||
        loy_result_new(&b.res, policy) != LOY_OK) {
        fprintf(stderr, "bench: out of memory\n");
        return 2;
    }

    if (o.callgrind_child) {
        callgrind_child(&b);
        return 0;
    }

    static figures f;
    load_average(f.load, sizeof f.load);
    bench_cases_describe(&b.cases, f.describe, sizeof f.describe);
    check_all(&b, &f);

    /* Enough passes that a run lasts about 50 ms. */
    double probe = time_mode(&b, M_APPLY, 1, 1, NULL) * (double)b.cases.count;
    int passes = probe > 0 ? (int)(50e6 / probe) : 1;
    if (passes < 1)
        passes = 1;
    for (int m = 0; m < M_COUNT; m++) {
        f.t[m] = time_mode(&b, (mode)m, o.runs, passes, &f.fast[m]);
        if (o.verbose)
            fprintf(stderr, "  %-28s %8.1f ns\n", mode_names[m], f.t[m]);
    }
    /* about a second each, whatever the number of cases */
    int turns = (int)(1e9 / ((f.t[M_APPLY_QUERY] + f.t[M_RESTORE] + f.t[M_FLOOR_BENEFITS] + f.t[M_FLOOR_RESET]) *
                             (double)b.cases.count));
    if (turns < 11)
        turns = 11;
    time_ratio(&b, M_APPLY, M_FLOOR, turns, f.ratio);
    time_ratio(&b, M_APPLY_QUERY, M_FLOOR_BENEFITS, turns, f.ratio_q);
    for (int m = 0; m < M_COUNT; m++)
        f.allocs[m] = allocs_mode(&b, &cnt, (mode)m);
    f.failures = b.failures;

    if (o.callgrind)
        run_callgrind(argv[0], o.spec, o.cg_cases, &f.ir);
    else
        snprintf(f.ir.note, sizeof f.ir.note, "skipped (--no-callgrind)");

    static const char *const refs[3] = {"apparel.yaml", "grocery.yaml", "minimal.yaml"};
    for (int i = 0; i < 3; i++) {
        size_t len;
        snprintf(path, sizeof path, "%s/policies/%s", o.spec, refs[i]);
        char *text = read_file(path, &len);
        if (!text) {
            f.loads[i].name = refs[i];
            continue;
        }
        time_load(&f.loads[i], refs[i], text, len, 51);
        free(text);
    }
    size_t large_len;
    char *large = bench_large_policy(20, 500, 200, &large_len);
    time_load(&f.loads[3], "large", large, large_len, 11);
    if (f.loads[3].ok) {
        loy_policy *lp = NULL;
        if (loy_policy_load_buffer(&lp, large, large_len, "large", NULL) == LOY_OK)
            f.large_decision_ns = large_decision(lp, 5, f.large_note, sizeof f.large_note);
        loy_policy_free(lp);
    }
    free(large);

    state_sizes(policy, &b.cases, &f.sizes);
    snprintf(path, sizeof path, "%s/policies/apparel.yaml", o.spec);
    run_simulate(o.loyalty, path, o.sim_members, &f.sim);

    if (o.json)
        print_json(&o, &f);
    else
        print_table(&o, &f);

    loy_result_free(b.res);
    loy_event_free(b.ev);
    loy_member_free(b.work);
    bench_cases_free(&b.cases);
    loy_policy_free(policy);
    free(apparel);
    /* A difference from the floor, or a call that failed in a timed loop,
     * is a fault in the library or the bench: `make bench-smoke` fails. */
    return f.mismatches || f.failures ? 1 : 0;
}
