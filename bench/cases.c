/*
 * Realistic checkout cases under policies/apparel.yaml.
 *
 * Each case is one member, imported as a legacy system would hand it over
 * (tier, 12 months of spend and orders, lots, gift ledgers, birthday, tags),
 * sometimes with earlier orders applied through the library (one a week
 * ago, whose pending points release at this order; one or two earlier the
 * same day, which bring the member near the daily cap), and one order to
 * decide: 1-8 lines across the catalogue, gift cards and shipping
 * included, on any day of 2026 (member days 8/18/28 weighted up), on every
 * channel.
 */
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "member.h"

uint64_t bench_next(bench_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int64_t bench_range(bench_rng *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)(bench_next(r) % span);
}

int bench_chance(bench_rng *r, int pct)
{
    return (int)(bench_next(r) % 100) < pct;
}

/* ------------------------------------------------------------- catalogue */

typedef struct product {
    const char *category;
    int64_t lo, hi;             /* line amount, minor units */
    int weight;
} product;

static const product catalogue[] = {
    {"coats", 79900, 299900, 10},   {"tops", 9900, 59900, 22},     {"pants", 19900, 89900, 14},
    {"dresses", 29900, 129900, 10}, {"shoes", 39900, 159900, 8},   {"accessories", 1900, 29900, 14},
    {"gift_card", 10000, 100000, 4}, {"shipping", 1000, 2000, 15}, {NULL, 500, 19900, 3},
};

static const product *pick_product(bench_rng *r)
{
    int total = 0;
    for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++)
        total += catalogue[i].weight;
    int x = (int)bench_range(r, 0, total - 1);
    for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++) {
        if (x < catalogue[i].weight)
            return &catalogue[i];
        x -= catalogue[i].weight;
    }
    return &catalogue[0];
}

static const char *pick_channel(bench_rng *r)
{
    static const struct { const char *id; int weight; } channels[] = {
        {"pos", 40}, {"app", 20}, {"mini_program", 15}, {"tmall", 10}, {"douyin", 8}, {"web", 7}};
    int x = (int)bench_range(r, 0, 99);
    for (size_t i = 0; i < sizeof channels / sizeof channels[0]; i++) {
        if (x < channels[i].weight)
            return channels[i].id;
        x -= channels[i].weight;
    }
    return "pos";
}

static int pick_line_count(bench_rng *r)
{
    static const int weights[FL_MAX_LINES] = {30, 25, 16, 11, 7, 5, 3, 3};
    int x = (int)bench_range(r, 0, 99);
    for (int i = 0; i < FL_MAX_LINES; i++) {
        if (x < weights[i])
            return i + 1;
        x -= weights[i];
    }
    return 1;
}

/* ----------------------------------------------------------------- dates */

static void fmt_date(int32_t day, char out[11])
{
    int32_t y, m, d;
    fl_ymd(day, &y, &m, &d);
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u);
}

static void fmt_month(int32_t month, char out[8])
{
    snprintf(out, 8, "%04u-%02u", (unsigned)(month / 12) % 10000u, (unsigned)(month % 12 + 1) % 100u);
}

static void fmt_instant(int32_t day, int hh, int mm, int ss, char out[32])
{
    char d[11];
    fmt_date(day, d);
    snprintf(out, 32, "%sT%02u:%02u:%02u+08:00", d, (unsigned)hh % 100u, (unsigned)mm % 100u, (unsigned)ss % 100u);
}

static int32_t month_of(int32_t day)
{
    int32_t y, m, d;
    fl_ymd(day, &y, &m, &d);
    return y * 12 + m - 1;
}

static int days_in(int32_t month)
{
    int32_t y = month / 12, m = month % 12 + 1;
    return (int)(fl_days(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - fl_days(y, m, 1));
}

static int32_t month_day(int32_t month, int d)
{
    return fl_days(month / 12, month % 12 + 1, d);
}

/* -------------------------------------------------------------- building */

#define CHECK(call)                                                                          \
    do {                                                                                     \
        int rc_ = (call);                                                                    \
        if (rc_ != LOY_OK) {                                                                 \
            fprintf(stderr, "bench: %s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #call,        \
                    loy_error_name(rc_), member ? loy_member_error(member) : "");            \
            return -1;                                                                       \
        }                                                                                    \
    } while (0)

int bench_build_event(loy_event *ev, const bench_case *c)
{
    int rc = loy_event_reset(ev, LOY_EVENT_ORDER, c->order_id, c->at);
    if (rc == LOY_OK)
        rc = loy_event_set_channel(ev, c->channel);
    if (rc == LOY_OK && c->store[0])
        rc = loy_event_set_store(ev, c->store);
    for (int i = 0; rc == LOY_OK && i < c->line_count; i++)
        rc = loy_event_add_line(ev, c->lines[i].sku, c->lines[i].category, c->lines[i].amount,
                                c->lines[i].qty);
    return rc;
}

/* An earlier order of the member, applied through the library. */
static int prior_order(const loy_policy *p, loy_member *member, loy_event *ev, loy_result *res,
                       const char *id, int32_t day, int hh, int mm, const char *category,
                       int64_t amount, int lines)
{
    char at[32];
    fmt_instant(day, hh, mm, 0, at);
    CHECK(loy_event_reset(ev, LOY_EVENT_ORDER, id, at));
    CHECK(loy_event_set_channel(ev, "pos"));
    CHECK(loy_event_set_store(ev, "SH-001"));
    for (int i = 0; i < lines; i++)
        CHECK(loy_event_add_line(ev, "SKU-PRIOR", category, amount, 1));
    int rc = loy_apply(p, member, ev, res);
    if (rc != LOY_OK) {
        fprintf(stderr, "bench: prior order %s refused: %s %s\n", id, loy_error_name(rc),
                loy_result_message(res));
        return -1;
    }
    return 0;
}

static void json_append(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        while (ncap < *len + n + 1)
            ncap *= 2;
        *buf = realloc(*buf, ncap);
        if (!*buf) {
            perror("bench");
            exit(2);
        }
        *cap = ncap;
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
}

static void make_event_json(bench_case *c)
{
    char *buf = NULL, tmp[160];
    size_t len = 0, cap = 0;
    snprintf(tmp, sizeof tmp, "{\"type\":\"order\",\"id\":\"%s\",\"at\":\"%s\",\"channel\":\"%s\"",
             c->order_id, c->at, c->channel);
    json_append(&buf, &len, &cap, tmp);
    if (c->store[0]) {
        snprintf(tmp, sizeof tmp, ",\"store\":\"%s\"", c->store);
        json_append(&buf, &len, &cap, tmp);
    }
    json_append(&buf, &len, &cap, ",\"lines\":[");
    for (int i = 0; i < c->line_count; i++) {
        const bench_line *l = &c->lines[i];
        snprintf(tmp, sizeof tmp, "%s{\"sku\":\"%s\"", i ? "," : "", l->sku);
        json_append(&buf, &len, &cap, tmp);
        if (l->category) {
            snprintf(tmp, sizeof tmp, ",\"category\":\"%s\"", l->category);
            json_append(&buf, &len, &cap, tmp);
        }
        snprintf(tmp, sizeof tmp, ",\"amount\":%lld,\"qty\":%lld}", (long long)l->amount,
                 (long long)l->qty);
        json_append(&buf, &len, &cap, tmp);
    }
    json_append(&buf, &len, &cap, "]}");
    c->event_json = buf;
    c->event_json_len = len;
}

/* The floor's flat member, read from the library's state before the order. */
static int extract_floor(bench_case *c, const loy_member *m, int32_t order_day)
{
    fl_member *f = &c->floor_in;
    memset(f, 0, sizeof *f);
    f->id = c->member_id;
    f->joined = m->joined;
    if (m->birthday != LOY_DAY_NONE) {
        loy_ymd b = loy_day_to_ymd(m->birthday);
        f->bday_month = b.m;
        f->bday_day = b.d;
    }
    for (size_t i = 0; i < m->tag_count; i++) {
        if (strcmp(m->tags[i], "employee") == 0)
            f->tags |= FL_TAG_EMPLOYEE;
        else if (strcmp(m->tags[i], "vip-list") == 0)
            f->tags |= FL_TAG_VIP;
    }
    f->tier = m->tier;
    f->tier_since = m->tier_since;
    if (m->lot_count > FL_MAX_LOTS - 4 || m->debt != 0)
        return -1;
    for (size_t i = 0; i < m->lot_count; i++) {
        fl_lot *l = &f->lots[f->lot_count++];
        l->points = m->lots[i].points;
        l->expires = m->lots[i].expires == LOY_DAY_NONE ? FL_NONE : m->lots[i].expires;
        l->pending_until = m->lots[i].pending_until == LOY_DAY_NONE ? FL_NONE : m->lots[i].pending_until;
        l->seq = m->lots[i].seq;
        l->order_id = m->lots[i].order_id;
    }
    f->next_seq = m->next_seq;
    int32_t now = month_of(order_day);
    for (int i = 0; i < 12; i++)
        f->months[i].month = FL_NONE;
    for (size_t i = 0; i < m->month_count; i++) {
        const loy_month_bucket *b = &m->months[i];
        if (b->month > now - 12 && b->month <= now) {
            fl_bucket *s = &f->months[b->month % 12];
            s->month = b->month;
            s->spend = b->spend;
            s->orders = b->orders;
        }
    }
    f->orders = m->orders;
    f->last_order = m->last_order == LOY_DAY_NONE ? FL_NONE : m->last_order;
    for (int t = 0; t < FL_TIERS && (size_t)t < m->upgrade_given_cap; t++)
        if (m->upgrade_given[t])
            f->upgrade_given |= 1u << t;
    for (size_t i = 0; i < m->birthday_year_count; i++)
        if (m->birthday_years[i] >= 2000 && m->birthday_years[i] < 2064)
            f->birthday_years |= 1ull << (m->birthday_years[i] - 2000);
    for (size_t i = 0; i < m->surprise_given_count; i++) {
        const loy_gift_mark *g = &m->surprise_given[i];
        if (g->index == 0 && g->period >= 2000 && g->period < 2064)
            f->crab_years |= 1ull << (g->period - 2000);
        else if (g->index == 1)
            f->fabric_given = true;
    }
    for (size_t i = 0; i < m->spend_given_count; i++) {
        const loy_gift_mark *g = &m->spend_given[i];
        if (g->index == 0 && g->period > now - FL_MAX_SPEND_MARKS && f->spend_mark_count < FL_MAX_SPEND_MARKS)
            f->spend_marks[f->spend_mark_count++] = g->period;
    }
    f->cap_day = m->cap_day;
    f->day_points = m->day_points;
    f->stage = m->stage;

    /* The floor does no reviews: none may be due at the order. */
    if (m->tier > 0) {
        loy_ymd s = loy_day_to_ymd(m->tier_since);
        int32_t y = s.y + 1, d = s.d;
        int dim = days_in(y * 12 + s.m - 1);
        if (d > dim)
            d = dim;
        if (fl_days(y, s.m, d) <= order_day)
            return -1;
    }
    return 0;
}

static int make_case(bench_case *c, size_t index, const loy_policy *p, bench_rng *r,
                     loy_event *ev, loy_result *res)
{
    static const int64_t tier_at[FL_TIERS + 1] = {0, 100000, 300000, 500000, 1500000};
    loy_member *member = NULL;
    memset(c, 0, sizeof *c);
    snprintf(c->member_id, sizeof c->member_id, "M-%06u", (unsigned)(index % 1000000u));
    snprintf(c->order_id, sizeof c->order_id, "O-%06u-1", (unsigned)(index % 1000000u));

    /* The order's local date and time. */
    int32_t day = fl_days(2026, 1, 1) + (int32_t)bench_range(r, 0, 364);
    int32_t y, mo, dd;
    fl_ymd(day, &y, &mo, &dd);
    if (bench_chance(r, 20)) {
        static const int member_days[3] = {8, 18, 28};
        dd = member_days[bench_range(r, 0, 2)];
        day = fl_days(y, mo, dd);
    }
    if (dd == 8 || dd == 18 || dd == 28)
        c->traits |= BENCH_T_MEMBER_DAY;
    int hh = (int)bench_range(r, 9, 21);
    fmt_instant(day, hh, (int)bench_range(r, 0, 59), (int)bench_range(r, 0, 59), c->at);
    int32_t now = y * 12 + mo - 1;

    /* Who the member is. */
    bool new_member = bench_chance(r, 8);
    bool dormant = !new_member && bench_chance(r, 6);
    int32_t joined = new_member ? day - (int32_t)bench_range(r, 0, 60)
                                : day - (int32_t)bench_range(r, 420, 2500);
    char date[11], month[8], buf[64];
    fmt_date(joined, date);
    CHECK(loy_member_new(&member, p, c->member_id, date));
    c->pristine = member;
    if (bench_chance(r, 85)) {
        int32_t bm, bd;
        if (bench_chance(r, 1)) {
            bm = 2;
            bd = 29;
        } else {
            bm = bench_chance(r, 25) ? mo : (int32_t)bench_range(r, 1, 12);
            bd = (int32_t)bench_range(r, 1, 28);
        }
        int by = bm == 2 && bd == 29 ? 1964 + 4 * (int)bench_range(r, 0, 10) : (int)bench_range(r, 1960, 2004);
        snprintf(date, sizeof date, "%04d-%02d-%02d", by, (int)bm, (int)bd);
        CHECK(loy_member_set_birthday(member, date));
        if (bm == mo)
            c->traits |= BENCH_T_BIRTHDAY_MONTH;
    }
    if (bench_chance(r, 8))
        CHECK(loy_member_add_tag(member, "employee"));
    if (bench_chance(r, 8))
        CHECK(loy_member_add_tag(member, "vip-list"));

    if (new_member) {
        c->traits |= BENCH_T_NEW_MEMBER;
    } else if (dormant) {
        c->traits |= BENCH_T_DORMANT;
        int32_t last = day - (int32_t)bench_range(r, 370, 700);
        if (last < joined)
            last = joined;
        fmt_date(last, date);
        CHECK(loy_member_import_last_order(member, date));
        CHECK(loy_member_import_orders(member, bench_range(r, 1, 6)));
    } else {
        /* A tier and a 12-month spend that fits it, or sits just under the
         * next threshold so that this order upgrades. */
        int x = (int)bench_range(r, 0, 99);
        int tier = x < 40 ? 0 : x < 70 ? 1 : x < 90 ? 2 : 3;
        int64_t spend;
        if (tier < 3 && bench_chance(r, 30)) {
            spend = tier_at[tier + 1] - bench_range(r, 1000, 60000);
            c->traits |= BENCH_T_NEAR_THRESHOLD;
        } else if (tier > 0 && bench_chance(r, 10)) {
            spend = tier_at[tier] - bench_range(r, 1000, 80000);   /* slipping: review later */
        } else {
            spend = bench_range(r, tier_at[tier], tier_at[tier + 1] - 1);
        }
        if (spend < 0)
            spend = 0;
        if (tier > 0) {
            int32_t since = day - (int32_t)bench_range(r, 1, 330);
            if (since < joined)
                since = joined;
            fmt_date(since, date);
            CHECK(loy_member_import_tier(member, fl_tier_ids[tier], date));
            for (int t = 1; t <= tier; t++)
                if (bench_chance(r, 90))
                    CHECK(loy_member_import_gift(member, "upgrade", fl_tier_ids[t]));
        }
        /* Spread the spend over 1-6 earlier months of the window. */
        int months = (int)bench_range(r, 1, 6);
        int64_t left = spend, orders = 0;
        int32_t last_month = FL_NONE;
        for (int i = 0; i < months && left > 0; i++) {
            int32_t mth = now - (int32_t)bench_range(r, 1, 11);
            int64_t part = i == months - 1 ? left : bench_range(r, 0, left);
            if (part == 0)
                continue;
            fmt_month(mth, month);
            int64_t n = bench_range(r, 1, 3);
            /* Import sets a month's figure; a month drawn twice adds up here. */
            int64_t have_spend = 0, have_orders = 0;
            for (size_t k = 0; k < member->month_count; k++)
                if (member->months[k].month == mth) {
                    have_spend = member->months[k].spend;
                    have_orders = member->months[k].orders;
                }
            CHECK(loy_member_import_month(member, LOY_METRIC_SPEND, month, have_spend + part));
            CHECK(loy_member_import_month(member, LOY_METRIC_ORDERS, month, have_orders + n));
            orders += n;
            left -= part;
            if (last_month == FL_NONE || mth > last_month)
                last_month = mth;
        }
        /* This month so far: sometimes just under the monthly spend gift. */
        if (dd > 1 && bench_chance(r, 40)) {
            int64_t part = bench_chance(r, 35) ? 200000 - bench_range(r, 0, 60000) : bench_range(r, 5000, 120000);
            fmt_month(now, month);
            CHECK(loy_member_import_month(member, LOY_METRIC_SPEND, month, part));
            CHECK(loy_member_import_month(member, LOY_METRIC_ORDERS, month, 1));
            orders += 1;
            last_month = now;
            if (part >= 200000) {
                snprintf(buf, sizeof buf, "monthly-credit:%s", month);
                CHECK(loy_member_import_gift(member, "spend", buf));
            }
        }
        if (last_month != FL_NONE) {
            int maxd = last_month == now ? dd - 1 : days_in(last_month);
            int32_t last = month_day(last_month, (int)bench_range(r, 1, maxd));
            fmt_date(last < joined ? joined : last, date);
            CHECK(loy_member_import_last_order(member, date));
        }
        CHECK(loy_member_import_orders(member, orders + bench_range(r, 0, 15)));
        if (member->birthday != LOY_DAY_NONE) {
            int bm = loy_day_to_ymd(member->birthday).m;
            if ((bm < mo && bench_chance(r, 60)) || (bm == mo && bench_chance(r, 20))) {
                snprintf(buf, sizeof buf, "%d", (int)y);
                CHECK(loy_member_import_gift(member, "birthday", buf));
            }
        }
        if (tier == 3 && bench_chance(r, 20))
            CHECK(loy_member_import_gift(member, "surprise", "crab-season:2026"));
        if (bench_chance(r, 5))
            CHECK(loy_member_import_gift(member, "surprise", "new-fabric-trial"));

        /* Points from before, some never expiring, some already expired. */
        int lots = (int)bench_range(r, 0, 3);
        for (int i = 0; i < lots; i++) {
            int32_t last = month_day(now + (int32_t)bench_range(r, 0, 11), 1);
            last += days_in(month_of(last)) - 1;
            fmt_date(last, date);
            CHECK(loy_member_import_lot(member, bench_range(r, 50, 20000), bench_chance(r, 5) ? NULL : date));
        }
        if (bench_chance(r, 5)) {
            fmt_date(month_day(now, 1) - 1, date);
            CHECK(loy_member_import_lot(member, bench_range(r, 100, 3000), date));
            c->traits |= BENCH_T_EXPIRED_LOT;
        }
    }

    /* Earlier orders through the library. */
    if (bench_chance(r, 15)) {
        snprintf(buf, sizeof buf, "O-%06zu-0a", index);
        if (prior_order(p, member, ev, res, buf, day - (int32_t)bench_range(r, 7, 9), 12, 0, "tops",
                        bench_range(r, 9900, 59900), (int)bench_range(r, 1, 2)) != 0)
            return -1;
        c->traits |= BENCH_T_RELEASE;
    }
    if (hh > 9 && bench_chance(r, 10)) {
        snprintf(buf, sizeof buf, "O-%06zu-0b", index);
        if (prior_order(p, member, ev, res, buf, day, 8, 10, "coats", bench_range(r, 700000, 900000), 2) != 0)
            return -1;
        if (bench_chance(r, 50)) {
            snprintf(buf, sizeof buf, "O-%06zu-0c", index);
            if (prior_order(p, member, ev, res, buf, day, 8, 40, "shoes", bench_range(r, 100000, 800000), 1) != 0)
                return -1;
        }
        c->traits |= BENCH_T_NEAR_CAP;
    }

    /* The order to decide. */
    c->channel = pick_channel(r);
    if (strcmp(c->channel, "pos") == 0)
        snprintf(c->store, sizeof c->store, "SH-%03d", (int)bench_range(r, 1, 120));
    c->line_count = pick_line_count(r);
    for (int i = 0; i < c->line_count; i++) {
        const product *prod = pick_product(r);
        bench_line *l = &c->lines[i];
        snprintf(l->sku, sizeof l->sku, "SKU-%05d", (int)bench_range(r, 0, 99999));
        l->category = prod->category;
        l->qty = bench_range(r, 1, 3);
        l->amount = bench_range(r, prod->lo, prod->hi) / 100 * 100 * l->qty;
    }
    c->floor_order.id = c->order_id;
    c->floor_order.at = c->at;
    c->floor_order.channel = c->channel;
    c->floor_order.line_count = c->line_count;
    for (int i = 0; i < c->line_count; i++) {
        c->floor_order.lines[i].category = c->lines[i].category;
        c->floor_order.lines[i].amount = c->lines[i].amount;
    }
    make_event_json(c);

    const void *bytes;
    size_t len;
    CHECK(loy_member_to_bytes(member, &bytes, &len));
    c->bytes = malloc(len);
    if (!c->bytes)
        return -1;
    memcpy(c->bytes, bytes, len);
    c->bytes_len = len;
    if (extract_floor(c, member, day) != 0)
        return 1;   /* outside what the floor handles: draw again */
    return 0;
}

int bench_cases_make(bench_cases *out, const loy_policy *apparel, size_t n, uint64_t seed)
{
    out->items = calloc(n, sizeof *out->items);
    out->count = 0;
    if (!out->items)
        return -1;
    bench_rng r = {seed};
    loy_event *ev = NULL;
    loy_result *res = NULL;
    if (loy_event_new(&ev, apparel) != LOY_OK || loy_result_new(&res, apparel) != LOY_OK)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        bench_case *c = &out->items[i];
        rc = make_case(c, i, apparel, &r, ev, res);
        if (rc == 1) {
            loy_member_free(c->pristine);
            free(c->bytes);
            free(c->event_json);
            rc = 0;
            continue;
        }
        if (rc == 0) {
            i++;
            out->count = i;
        } else {
            out->count = i + 1;   /* so that free releases the half-made case */
        }
    }
    loy_result_free(res);
    loy_event_free(ev);
    return rc;
}

void bench_cases_free(bench_cases *cases)
{
    for (size_t i = 0; i < cases->count; i++) {
        loy_member_free(cases->items[i].pristine);
        free(cases->items[i].bytes);
        free(cases->items[i].event_json);
    }
    free(cases->items);
    cases->items = NULL;
    cases->count = 0;
}

void bench_cases_describe(const bench_cases *cases, char *out, size_t out_len)
{
    size_t tiers[FL_TIERS] = {0}, traits[8] = {0}, lines = 0, excluded = 0, tagged = 0;
    for (size_t i = 0; i < cases->count; i++) {
        const bench_case *c = &cases->items[i];
        tiers[c->floor_in.tier]++;
        for (int t = 0; t < 8; t++)
            if (c->traits & (1u << t))
                traits[t]++;
        lines += (size_t)c->line_count;
        for (int k = 0; k < c->line_count; k++)
            if (c->lines[k].category &&
                (strcmp(c->lines[k].category, "gift_card") == 0 || strcmp(c->lines[k].category, "shipping") == 0))
                excluded++;
        if (c->floor_in.tags)
            tagged++;
    }
    size_t n = cases->count ? cases->count : 1;
    snprintf(out, out_len,
             "%zu members (tiers %zu/%zu/%zu/%zu), %.1f lines/order (%zu gift_card or shipping), "
             "%zu near a threshold, %zu near the daily cap, %zu with a release due, %zu with an "
             "expired lot, %zu in their birthday month, %zu on a member day, %zu new, %zu dormant, "
             "%zu tagged",
             cases->count, tiers[0], tiers[1], tiers[2], tiers[3], (double)lines / (double)n, excluded,
             traits[0], traits[1], traits[2], traits[3], traits[4], traits[5], traits[6], traits[7], tagged);
}

/* ------------------------------------------------------------ comparison */

typedef struct checker {
    char *why;
    size_t why_len;
    bool failed;
} checker;

static bool fail(checker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(checker *k, const char *fmt, ...)
{
    if (!k->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(k->why, k->why_len, fmt, ap);
        va_end(ap);
    }
    k->failed = true;
    return false;
}

static bool want_str(checker *k, const loy_node *map, const char *key, const char *want)
{
    const char *got = loy_node_str(loy_node_get(map, key), NULL);
    if (!want && !got)
        return true;
    if (!want || !got || strcmp(got, want) != 0)
        return fail(k, "%s: got %s, want %s", key, got ? got : "(none)", want ? want : "(none)");
    return true;
}

static bool want_int(checker *k, const loy_node *map, const char *key, int64_t want)
{
    const loy_node *n = loy_node_get(map, key);
    if (!n || loy_node_type(n) != LOY_NODE_INT || loy_node_int(n) != want)
        return fail(k, "%s: got %lld, want %lld", key, (long long)loy_node_int(n), (long long)want);
    return true;
}

static bool want_date(checker *k, const loy_node *map, const char *key, int32_t day)
{
    char d[11];
    fmt_date(day, d);
    return want_str(k, map, key, d);
}

static const loy_node *next_effect(checker *k, const loy_node **cursor, const char *type)
{
    const loy_node *e = *cursor;
    if (!e) {
        fail(k, "missing effect %s", type);
        return NULL;
    }
    *cursor = loy_node_next(e);
    if (!want_str(k, e, "type", type))
        return NULL;
    return e;
}

static void want_points(checker *k, const loy_node **cursor, int64_t delta, const char *source,
                        int32_t expires)
{
    const loy_node *e = next_effect(k, cursor, "points");
    if (e && want_int(k, e, "delta", delta) && want_str(k, e, "source", source))
        want_date(k, e, "expires", expires);
}

int bench_check_apply(const loy_result *r, const bench_case *c, const fl_decision *d, char *why,
                      size_t why_len)
{
    static const int64_t upgrade_points[FL_TIERS] = {0, 200, 500, 0};
    static const int64_t birthday_points[FL_TIERS] = {0, 0, 300, 800};
    checker k = {why, why_len, false};
    const loy_node *root = loy_result_root(r);
    if (loy_result_code(r) != LOY_OK || !root) {
        fail(&k, "refused: %s %s", loy_error_name(loy_result_code(r)), loy_result_message(r));
        return -1;
    }
    want_str(&k, root, "event", c->order_id);
    const loy_node *cur = loy_node_first(loy_node_get(root, "effects"));
    for (int i = 0; i < d->release_count && !k.failed; i++) {
        const loy_node *e = next_effect(&k, &cur, "points_released");
        if (e && want_int(&k, e, "points", d->release[i].points))
            want_str(&k, e, "order", d->release[i].order_id);
    }
    for (int i = 0; i < d->expiry_count && !k.failed; i++) {
        const loy_node *e = next_effect(&k, &cur, "points");
        if (e && want_int(&k, e, "delta", -d->expiry[i].points) && want_str(&k, e, "source", "expiry"))
            want_date(&k, e, "expires", d->expiry[i].day);
    }
    if (d->order_points > 0 && !k.failed) {
        const loy_node *e = next_effect(&k, &cur, "points");
        if (e && want_int(&k, e, "delta", d->order_points) && want_str(&k, e, "source", "order") &&
            want_date(&k, e, "pending_until", d->pending_until) && want_date(&k, e, "expires", d->expires)) {
            const loy_node *rule = loy_node_first(loy_node_get(e, "rules"));
            for (int j = 0; j < 4 && !k.failed; j++) {
                if (!(d->rules & (1u << j)))
                    continue;
                const char *got = loy_node_str(rule, NULL);
                if (!got || strcmp(got, fl_rule_ids[j]) != 0)
                    fail(&k, "rules: want %s, got %s", fl_rule_ids[j], got ? got : "(end)");
                rule = loy_node_next(rule);
            }
            if (rule && !k.failed)
                fail(&k, "rules: unexpected %s", loy_node_str(rule, NULL));
        }
    }
    if (d->tier_to != d->tier_from && !k.failed) {
        const loy_node *e = next_effect(&k, &cur, "tier_changed");
        if (e && want_str(&k, e, "from", fl_tier_ids[d->tier_from]) && want_str(&k, e, "to", fl_tier_ids[d->tier_to]))
            want_str(&k, e, "reason", "upgrade");
        for (int t = d->tier_from + 1; t <= d->tier_to && !k.failed; t++) {
            if (!(d->upgrade_gifts & (1u << t)))
                continue;
            e = next_effect(&k, &cur, "gift");
            if (e && want_str(&k, e, "gift", "upgrade"))
                want_str(&k, e, "tier", fl_tier_ids[t]);
            if (upgrade_points[t] && !k.failed)
                want_points(&k, &cur, upgrade_points[t], "upgrade", d->expires);
        }
    }
    if (d->birthday && !k.failed) {
        const loy_node *e = next_effect(&k, &cur, "gift");
        if (e && want_str(&k, e, "gift", "birthday") && want_str(&k, e, "tier", fl_tier_ids[d->birthday_tier]))
            want_int(&k, e, "year", d->birthday_year);
        if (birthday_points[d->birthday_tier] && !k.failed)
            want_points(&k, &cur, birthday_points[d->birthday_tier], "birthday", d->expires);
    }
    if ((d->surprise & FL_SURPRISE_CRAB) && !k.failed) {
        const loy_node *e = next_effect(&k, &cur, "gift");
        if (e && want_str(&k, e, "gift", "surprise"))
            want_str(&k, e, "id", "crab-season");
    }
    if ((d->surprise & FL_SURPRISE_FABRIC) && !k.failed) {
        const loy_node *e = next_effect(&k, &cur, "gift");
        if (e && want_str(&k, e, "gift", "surprise"))
            want_str(&k, e, "id", "new-fabric-trial");
    }
    if (d->spend_gift && !k.failed) {
        const loy_node *e = next_effect(&k, &cur, "gift");
        char month[8];
        fmt_month(d->spend_month, month);
        if (e && want_str(&k, e, "gift", "spend") && want_str(&k, e, "id", "monthly-credit") &&
            want_str(&k, e, "period", month))
            want_int(&k, loy_node_get(e, "reward"), "credit", 5000);
    }
    if (d->stage_to != d->stage_from && !k.failed) {
        const loy_node *e = next_effect(&k, &cur, "stage_changed");
        if (e && want_str(&k, e, "from", d->stage_from >= 0 ? fl_stage_ids[d->stage_from] : NULL))
            want_str(&k, e, "to", fl_stage_ids[d->stage_to]);
    }
    if (cur && !k.failed)
        fail(&k, "unexpected effect %s", loy_node_str(loy_node_get(cur, "type"), NULL));
    const loy_node *member = loy_node_get(root, "member");
    if (!k.failed && want_str(&k, member, "tier", fl_tier_ids[d->tier])) {
        const loy_node *pts = loy_node_get(member, "points");
        if (want_int(&k, pts, "available", d->available) && want_int(&k, pts, "pending", d->pending))
            want_str(&k, member, "stage", fl_stage_ids[d->stage]);
    }
    return k.failed ? -1 : 0;
}

int bench_check_benefits(const loy_result *r, const fl_benefits *b, char *why, size_t why_len)
{
    checker k = {why, why_len, false};
    const loy_node *root = loy_result_root(r);
    if (loy_result_code(r) != LOY_OK || !root) {
        fail(&k, "query refused: %s %s", loy_error_name(loy_result_code(r)), loy_result_message(r));
        return -1;
    }
    const loy_node *list = loy_node_get(root, "benefits");
    if (loy_node_count(list) != 7)
        fail(&k, "benefits: want 7 entries, got %zu", loy_node_count(list));
    const loy_node *e = loy_node_first(list);
    for (int i = 0; i < 7 && e && !k.failed; i++, e = loy_node_next(e)) {
        if (!want_str(&k, e, "id", fl_benefit_ids[i]))
            break;
        bool open = (b->open >> i) & 1u;
        if (loy_node_bool(loy_node_get(e, "open")) != (int)open)
            fail(&k, "%s: open should be %s", fl_benefit_ids[i], open ? "true" : "false");
        if (i == 0) {
            const char *want = b->price_tier >= 0 ? fl_price_values[b->price_tier] : NULL;
            want_str(&k, e, "value", want);
        }
    }
    return k.failed ? -1 : 0;
}
