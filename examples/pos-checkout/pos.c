/*
 * pos-checkout: a point-of-sale checkout that keeps its members' loyalty
 * state in SQLite, next to a points ledger, and applies each order in one
 * transaction. See README.md beside this file for the pattern.
 *
 *   pos-checkout DB POLICY init
 *   pos-checkout DB POLICY enroll MEMBER JOINED
 *   pos-checkout DB POLICY order MEMBER ORDER_ID AT [--store STORE] SKU,CATEGORY,AMOUNT...
 *   pos-checkout DB POLICY show MEMBER
 *
 * AMOUNT is in minor units (fen). `order` prints the library's answer as one
 * line of JSON. A retried order that was already committed prints the answer
 * stored the first time (and says LOY_E_DUPLICATE on stderr): a till that
 * lost the reply and asks again gets the same reply, and nothing is paid twice.
 *
 * POS_CRASH_BEFORE_COMMIT=1 in the environment makes `order` die (_exit)
 * right before COMMIT, after every row is written: the test uses it to show
 * that a crash at the worst moment loses the whole order, and the retry pays
 * it exactly once.
 *
 * Exit status: 0 done (also a duplicate answered from the journal), 1 the
 * order was refused or something failed, 2 usage.
 *
 * Build: cc -std=c99 pos.c $(pkg-config --cflags --libs loyalty sqlite3) -o pos-checkout
 */
#define _POSIX_C_SOURCE 200809L
#include <loyalty.h>
#include <sqlite3.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS members ("
    "  id TEXT PRIMARY KEY,"
    "  state BLOB NOT NULL);"                 /* loy_member_to_bytes, nothing else */
    "CREATE TABLE IF NOT EXISTS events ("
    "  member_id TEXT NOT NULL REFERENCES members(id),"
    "  event_id TEXT NOT NULL,"
    "  at TEXT NOT NULL,"
    "  result TEXT NOT NULL,"                 /* the answer given, for retries */
    "  PRIMARY KEY (member_id, event_id));"
    "CREATE TABLE IF NOT EXISTS ledger ("
    "  member_id TEXT NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"                 /* the effect's place in the answer */
    "  type TEXT NOT NULL,"                   /* points, tier_changed, gift, ... */
    "  source TEXT,"                          /* points effects: order, upgrade, ... */
    "  delta INTEGER,"                        /* points effects: the points */
    "  effect TEXT NOT NULL,"                 /* the whole effect as JSON */
    "  PRIMARY KEY (member_id, event_id, seq),"
    "  FOREIGN KEY (member_id, event_id) REFERENCES events(member_id, event_id));";

typedef struct pos {
    sqlite3 *db;
    loy_policy *policy;
    loy_member *member;
    loy_event *event;
    loy_result *result;
} pos;

static int fail(const char *what, const char *detail)
{
    fprintf(stderr, "pos-checkout: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

static int db_fail(pos *p, const char *what)
{
    return fail(what, sqlite3_errmsg(p->db));
}

static int exec_sql(pos *p, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(p->db, sql, NULL, NULL, &err) == SQLITE_OK)
        return 0;
    fail(sql, err);
    sqlite3_free(err);
    return 1;
}

/* ------------------------------------------------------------ JSON out */

/* One effect as JSON, from the result's node tree (no JSON library needed). */
typedef struct buf {
    char *data;
    size_t len, cap;
    int nomem;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->nomem)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->nomem = 1;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void put_str(buf *b, const char *s, size_t n)
{
    put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(b, esc, 6);
        } else {
            put(b, (const char *)&s[i], 1);
        }
    }
    put(b, "\"", 1);
}

static void put_node(buf *b, const loy_node *n)
{
    char num[32];
    size_t len = 0;
    const char *s;
    switch (loy_node_type(n)) {
    case LOY_NODE_NULL:
        put(b, "null", 4);
        break;
    case LOY_NODE_BOOL:
        put(b, loy_node_bool(n) ? "true" : "false", loy_node_bool(n) ? 4 : 5);
        break;
    case LOY_NODE_INT:
        snprintf(num, sizeof num, "%" PRId64, loy_node_int(n));
        put(b, num, strlen(num));
        break;
    case LOY_NODE_DECIMAL:
        s = loy_node_str(n, &len);
        put(b, s, len);
        break;
    case LOY_NODE_STRING:
        s = loy_node_str(n, &len);
        put_str(b, s, len);
        break;
    case LOY_NODE_LIST:
    case LOY_NODE_MAP: {
        int map = loy_node_type(n) == LOY_NODE_MAP;
        put(b, map ? "{" : "[", 1);
        for (const loy_node *k = loy_node_first(n); k; k = loy_node_next(k)) {
            if (k != loy_node_first(n))
                put(b, ",", 1);
            if (map) {
                put_str(b, loy_node_key(k), strlen(loy_node_key(k)));
                put(b, ":", 1);
            }
            put_node(b, k);
        }
        put(b, map ? "}" : "]", 1);
        break;
    }
    }
}

/* ------------------------------------------------------------ members */

/* Reads the member's state bytes into p->member (inside the transaction). */
static int load_member(pos *p, const char *member_id)
{
    sqlite3_stmt *st = NULL;
    int rc = 1;
    if (sqlite3_prepare_v2(p->db, "SELECT state FROM members WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
        return db_fail(p, "select member");
    sqlite3_bind_text(st, 1, member_id, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        int err = loy_member_load(p->member, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        if (err == LOY_OK)
            rc = 0;
        else   /* LOY_E_STATE_*: never reset a member silently */
            fail(loy_error_name(err), loy_member_error(p->member));
    } else if (step == SQLITE_DONE) {
        fail("no such member", member_id);
    } else {
        db_fail(p, "select member");
    }
    sqlite3_finalize(st);
    return rc;
}

static int store_member(pos *p, const char *member_id, int insert)
{
    const void *bytes = NULL;
    size_t len = 0;
    int err = loy_member_to_bytes(p->member, &bytes, &len);
    if (err != LOY_OK)
        return fail("state bytes", loy_strerror(err));
    sqlite3_stmt *st = NULL;
    const char *sql = insert ? "INSERT INTO members (state, id) VALUES (?1, ?2)"
                             : "UPDATE members SET state = ?1 WHERE id = ?2";
    if (sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(p, "store member");
    sqlite3_bind_blob(st, 1, bytes, (int)len, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, member_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(p->db) == 1 ? 0 : db_fail(p, "store member");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------ commands */

static int cmd_enroll(pos *p, const char *member_id, const char *joined)
{
    int err = loy_member_init(p->member, member_id, joined);
    if (err != LOY_OK)
        return fail(loy_error_name(err), loy_member_error(p->member));
    if (exec_sql(p, "BEGIN IMMEDIATE"))
        return 1;
    if (store_member(p, member_id, 1)) {
        exec_sql(p, "ROLLBACK");
        return 1;
    }
    return exec_sql(p, "COMMIT");
}

/* The answer stored with an event already applied (a retried request). */
static int print_stored_answer(pos *p, const char *member_id, const char *event_id)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(p->db, "SELECT result FROM events WHERE member_id = ?1 AND event_id = ?2", -1, &st,
                           NULL) != SQLITE_OK)
        return db_fail(p, "select event");
    sqlite3_bind_text(st, 1, member_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, event_id, -1, SQLITE_TRANSIENT);
    int rc = 1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(stderr, "pos-checkout: %s: LOY_E_DUPLICATE, already applied; the stored answer follows\n", event_id);
        printf("%s\n", (const char *)sqlite3_column_text(st, 0));
        rc = 0;
    } else {
        fail("duplicate event without a stored answer", event_id);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Ledger rows: one per effect of the accepted event, in the answer's order. */
static int write_ledger(pos *p, const char *member_id, const char *event_id)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(p->db,
                           "INSERT INTO ledger (member_id, event_id, seq, type, source, delta, effect)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(p, "insert ledger");
    const loy_node *effects = loy_node_get(loy_result_root(p->result), "effects");
    int seq = 0, rc = 0;
    for (const loy_node *e = loy_node_first(effects); e && rc == 0; e = loy_node_next(e), seq++) {
        const char *type = loy_node_str(loy_node_get(e, "type"), NULL);
        const loy_node *delta = loy_node_get(e, "delta");
        buf json = {NULL, 0, 0, 0};
        put_node(&json, e);
        if (json.nomem) {
            free(json.data);
            rc = fail("out of memory", NULL);
            break;
        }
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, member_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, event_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, seq);
        sqlite3_bind_text(st, 4, type, -1, SQLITE_TRANSIENT);
        if (strcmp(type, "points") == 0) {
            sqlite3_bind_text(st, 5, loy_node_str(loy_node_get(e, "source"), NULL), -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 6, loy_node_int(delta));
        } else {
            sqlite3_bind_null(st, 5);
            sqlite3_bind_null(st, 6);
        }
        sqlite3_bind_text(st, 7, json.data, (int)json.len, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(p, "insert ledger");
        free(json.data);
    }
    sqlite3_finalize(st);
    return rc;
}

static int record_event(pos *p, const char *member_id, const char *event_id, const char *at, const char *answer)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(p->db, "INSERT INTO events (member_id, event_id, at, result) VALUES (?1, ?2, ?3, ?4)", -1,
                           &st, NULL) != SQLITE_OK)
        return db_fail(p, "insert event");
    sqlite3_bind_text(st, 1, member_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, event_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, answer, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step == SQLITE_DONE)
        return 0;
    /* The state remembers only its recent event ids (at least 256); the
     * journal's key catches a retry of an older one. */
    if (sqlite3_extended_errcode(p->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
        return 3;
    return db_fail(p, "insert event");
}

/* "SKU,CATEGORY,AMOUNT" -> a line (empty SKU or CATEGORY: none). */
static int add_line(pos *p, const char *spec)
{
    const char *c1 = strchr(spec, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    if (!c2)
        return fail("a line is SKU,CATEGORY,AMOUNT", spec);
    char *end = NULL;
    long long amount = strtoll(c2 + 1, &end, 10);
    if (end == c2 + 1 || *end != '\0')
        return fail("AMOUNT is an integer in minor units", spec);
    char sku[128], category[128];
    size_t ls = (size_t)(c1 - spec), lc = (size_t)(c2 - c1 - 1);
    if (ls >= sizeof sku || lc >= sizeof category)
        return fail("SKU or CATEGORY too long", spec);
    memcpy(sku, spec, ls);
    sku[ls] = '\0';
    memcpy(category, c1 + 1, lc);
    category[lc] = '\0';
    int err = loy_event_add_line(p->event, ls ? sku : NULL, lc ? category : NULL, (int64_t)amount, 1);
    return err == LOY_OK ? 0 : fail("line", loy_strerror(err));
}

static int cmd_order(pos *p, int argc, char **argv)
{
    /* argv: MEMBER ORDER_ID AT [--store STORE] LINE... */
    if (argc < 4)
        return 2;
    const char *member_id = argv[0], *order_id = argv[1], *at = argv[2];
    int i = 3;
    if (loy_event_reset(p->event, LOY_EVENT_ORDER, order_id, at) != LOY_OK ||
        loy_event_set_channel(p->event, "pos") != LOY_OK)
        return fail("event", "out of memory");
    if (i + 1 < argc && strcmp(argv[i], "--store") == 0) {
        if (loy_event_set_store(p->event, argv[i + 1]) != LOY_OK)
            return fail("event", "out of memory");
        i += 2;
    }
    for (; i < argc; i++)
        if (add_line(p, argv[i]))
            return 1;

    /* IMMEDIATE: take the write lock before reading the state, so two tills
     * serving the same member queue up instead of overwriting each other. */
    if (exec_sql(p, "BEGIN IMMEDIATE"))
        return 1;
    if (load_member(p, member_id)) {
        exec_sql(p, "ROLLBACK");
        return 1;
    }
    int err = loy_apply(p->policy, p->member, p->event, p->result);
    const char *answer = loy_result_json(p->result, NULL);
    if (err == LOY_E_DUPLICATE) {
        /* Applied and committed before: nothing to write, answer as then. */
        exec_sql(p, "ROLLBACK");
        return print_stored_answer(p, member_id, order_id);
    }
    if (err != LOY_OK) {
        /* Refused: the member is unchanged and nothing is stored. */
        exec_sql(p, "ROLLBACK");
        printf("%s\n", answer ? answer : "");
        return 1;
    }
    int rc = record_event(p, member_id, order_id, at, answer);
    if (rc == 3) {
        exec_sql(p, "ROLLBACK");
        return print_stored_answer(p, member_id, order_id);
    }
    if (rc == 0)
        rc = write_ledger(p, member_id, order_id);
    if (rc == 0)
        rc = store_member(p, member_id, 0);
    if (rc != 0) {
        exec_sql(p, "ROLLBACK");
        return 1;
    }
    if (getenv("POS_CRASH_BEFORE_COMMIT")) {
        fprintf(stderr, "pos-checkout: simulated crash before COMMIT\n");
        _exit(1);   /* no ROLLBACK, no close: as if the power went */
    }
    if (exec_sql(p, "COMMIT"))
        return 1;
    printf("%s\n", answer);
    return 0;
}

static int cmd_show(pos *p, const char *member_id)
{
    if (exec_sql(p, "BEGIN"))
        return 1;
    int rc = load_member(p, member_id);
    exec_sql(p, "COMMIT");
    if (rc)
        return 1;
    char since[11] = "";
    loy_member_tier_since(p->member, since);
    printf("%s tier=%s since=%s available=%" PRId64 " pending=%" PRId64 "\n", loy_member_id(p->member),
           loy_member_tier(p->member), since, loy_member_points_available(p->member),
           loy_member_points_pending(p->member));
    return 0;
}

static int usage(void)
{
    fputs("usage: pos-checkout DB POLICY init\n"
          "       pos-checkout DB POLICY enroll MEMBER JOINED\n"
          "       pos-checkout DB POLICY order MEMBER ORDER_ID AT [--store STORE] SKU,CATEGORY,AMOUNT...\n"
          "       pos-checkout DB POLICY show MEMBER\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    pos p = {NULL, NULL, NULL, NULL, NULL};
    loy_diag *diag = NULL;
    int rc = 1;
    if (loy_policy_load_file(&p.policy, argv[2], &diag) != LOY_OK) {
        for (size_t i = 0; i < loy_diag_count(diag); i++)
            fprintf(stderr, "%s:%u:%u: %s\n", argv[2], loy_diag_line(diag, i), loy_diag_column(diag, i),
                    loy_diag_message(diag, i));
        if (loy_diag_count(diag) == 0)
            fail("cannot load the policy", argv[2]);
        loy_diag_free(diag);
        return 1;
    }
    loy_diag_free(diag);
    if (loy_member_create(&p.member, p.policy) != LOY_OK || loy_event_new(&p.event, p.policy) != LOY_OK ||
        loy_result_new(&p.result, p.policy) != LOY_OK) {
        fail("out of memory", NULL);
        goto done;
    }
    if (sqlite3_open(argv[1], &p.db) != SQLITE_OK) {
        db_fail(&p, argv[1]);
        goto done;
    }
    /* WAL and FULL sync: a committed order survives a crash, an uncommitted
     * one leaves no trace. */
    sqlite3_busy_timeout(p.db, 5000);
    if (exec_sql(&p, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON"))
        goto done;

    const char *cmd = argv[3];
    if (strcmp(cmd, "init") == 0 && argc == 4)
        rc = exec_sql(&p, SCHEMA);
    else if (strcmp(cmd, "enroll") == 0 && argc == 6)
        rc = cmd_enroll(&p, argv[4], argv[5]);
    else if (strcmp(cmd, "order") == 0 && argc >= 7)
        rc = cmd_order(&p, argc - 4, argv + 4);
    else if (strcmp(cmd, "show") == 0 && argc == 5)
        rc = cmd_show(&p, argv[4]);
    else
        rc = 2;
    if (rc == 2)
        usage();
done:
    sqlite3_close(p.db);
    loy_result_free(p.result);
    loy_event_free(p.event);
    loy_member_free(p.member);
    loy_policy_free(p.policy);
    return rc;
}
