/*
 * Writes the generated seed corpora of the fuzz targets (run by `make fuzz`
 * and `make fuzz-smoke` before the targets; nothing it writes is
 * committed):
 *
 *   fuzz_policy       the reference policies and tests/policies/invalid/
 *   fuzz_member_json  the member line of every golden replay and vector
 *   fuzz_event_json   every golden replay and vector, whole ("#g" first
 *                     for grocery.yaml), and each of their lines alone
 *   fuzz_state        the state bytes after every line of those replays
 *   fuzz_events       byte programs for the stateful target (a fixed
 *                     pseudo-random series; any bytes decode)
 *
 *   gen_seeds OUTDIR SPEC_DIR TEST_DIR
 */
#include "fuzz_common.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

static const char *out_dir;
static unsigned written;

static void write_seed(const char *target, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, target);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        FUZZ_CHECK(0, "mkdir %s", path);
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL, "cannot write %s", path);
    FUZZ_CHECK(len == 0 || fwrite(data, 1, len, f) == len, "short write %s", path);
    fclose(f);
    written++;
}

/* Which reference policy a replay runs under, as the fuzz_state control byte. */
static int policy_of(const char *policy_name)
{
    if (strstr(policy_name, "grocery"))
        return FZ_GROCERY;
    if (strstr(policy_name, "minimal"))
        return FZ_MINIMAL;
    return FZ_APPAREL;
}

static void replay_seeds(const char *label, const char *path, int which)
{
    size_t len = 0;
    char *text = fz_read_file(path, &len);
    FUZZ_CHECK(text != NULL, "cannot read %s", path);
    char name[512];

    /* The whole file for the event-line target. */
    if (which == FZ_GROCERY) {
        char *prefixed = malloc(len + 4);
        FUZZ_CHECK(prefixed != NULL, "oom");
        memcpy(prefixed, "#g\n", 3);
        memcpy(prefixed + 3, text, len);
        snprintf(name, sizeof name, "%s-all", label);
        write_seed("fuzz_event_json", name, prefixed, len + 3);
        free(prefixed);
    } else if (which == FZ_APPAREL) {
        snprintf(name, sizeof name, "%s-all", label);
        write_seed("fuzz_event_json", name, text, len);
    }

    const loy_policy *p = fz_policy(which);
    loy_member *m = NULL;
    loy_result *r = NULL;
    FUZZ_CHECK(loy_member_create(&m, p) == LOY_OK && loy_result_new(&r, p) == LOY_OK, "create");
    int line_no = 0;
    bool have_member = false;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        line_no++;
        if (n > 0) {
            if (!have_member) {
                snprintf(name, sizeof name, "%s-member", label);
                write_seed("fuzz_member_json", name, line, n);
                FUZZ_CHECK(loy_member_init_json(m, line, n, r) == LOY_OK, "%s: member line refused", path);
                have_member = true;
            } else {
                if (which == FZ_APPAREL) {
                    snprintf(name, sizeof name, "%s-line%03d", label, line_no);
                    write_seed("fuzz_event_json", name, line, n);
                }
                loy_apply_json_line(p, m, line, n, r);
            }
            const void *bytes = NULL;
            size_t blen = 0;
            FUZZ_CHECK(loy_member_to_bytes(m, &bytes, &blen) == LOY_OK, "to_bytes");
            uint8_t *seed = malloc(blen + 1);
            FUZZ_CHECK(seed != NULL, "oom");
            seed[0] = (uint8_t)(which | 4); /* reseal: mutations reach the payload */
            memcpy(seed + 1, bytes, blen);
            snprintf(name, sizeof name, "%s-state%03d", label, line_no);
            write_seed("fuzz_state", name, seed, blen + 1);
            free(seed);
        }
        line = nl ? nl + 1 : NULL;
    }
    loy_result_free(r);
    loy_member_free(m);
    free(text);
}

static void copy_seed(const char *target, const char *name, const char *path)
{
    size_t len = 0;
    char *text = fz_read_file(path, &len);
    FUZZ_CHECK(text != NULL, "cannot read %s", path);
    write_seed(target, name, text, len);
    free(text);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: gen_seeds OUTDIR SPEC_DIR TEST_DIR\n");
        return 2;
    }
    out_dir = argv[1];
    const char *spec = argv[2], *tests = argv[3];
    char path[4096], label[512];
    mkdir(out_dir, 0777);

    static const char *const refs[] = {"apparel", "grocery", "minimal"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/policies/%s.yaml", spec, refs[i]);
        snprintf(label, sizeof label, "ref-%s.yaml", refs[i]);
        copy_seed("fuzz_policy", label, path);
        snprintf(path, sizeof path, "%s/golden/%s.jsonl", tests, refs[i]);
        snprintf(label, sizeof label, "golden-%s", refs[i]);
        replay_seeds(label, path, policy_of(refs[i]));
    }

    snprintf(path, sizeof path, "%s/policies/invalid", tests);
    DIR *d = opendir(path);
    FUZZ_CHECK(d != NULL, "cannot open %s", path);
    for (struct dirent *ent; (ent = readdir(d)) != NULL;) {
        if (!ends_with(ent->d_name, ".yaml"))
            continue;
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", path, ent->d_name);
        snprintf(label, sizeof label, "invalid-%s", ent->d_name);
        copy_seed("fuzz_policy", label, file);
    }
    closedir(d);

    /* The vectors, under the policy MANIFEST.tsv names. */
    snprintf(path, sizeof path, "%s/vectors/MANIFEST.tsv", spec);
    size_t mlen = 0;
    char *manifest = fz_read_file(path, &mlen);
    FUZZ_CHECK(manifest != NULL, "cannot read %s", path);
    for (char *line = strtok(manifest, "\n"); line; line = strtok(NULL, "\n")) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        char file[4096];
        snprintf(file, sizeof file, "%s/vectors/%s", spec, line);
        snprintf(label, sizeof label, "vector-%.*s", (int)(strlen(line) - strlen(".jsonl")), line);
        replay_seeds(label, file, policy_of(tab + 1));
    }
    free(manifest);

    /* Byte programs for the stateful target: a fixed LCG series. */
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 48; i++) {
        uint8_t prog[512];
        size_t n = 16 + (size_t)(i * 10);
        for (size_t k = 0; k < n; k++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            prog[k] = (uint8_t)(x >> 56);
        }
        prog[0] = (uint8_t)(i % 3);
        snprintf(label, sizeof label, "program%02d", i);
        write_seed("fuzz_events", label, prog, n);
    }

    printf("gen_seeds: %u seeds in %s\n", written, out_dir);
    return 0;
}
