package loyalty_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	loyalty "github.com/libloyalty/loyalty-go"
)

func asError(err error, target **loyalty.Error) bool { return errors.As(err, target) }

const day = "2026-05-01T10:00:00+08:00"

func newMember(t *testing.T, p *loyalty.Policy, id, joined string) *loyalty.Member {
	t.Helper()
	m, err := loyalty.NewMember(p, id, joined)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameJSON compares a value with expected JSON text as JSON values.
func sameJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	if !reflect.DeepEqual(canonical(normalise(got)), canonical(parseJSON(t, []byte(want)))) {
		t.Errorf("%s:\n got %s\nwant %s", what, mustJSON(t, got), want)
	}
}

// normalise turns typed slices of the binding into []any for canonical.
func normalise(v any) any {
	switch x := v.(type) {
	case []loyalty.Effect:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = map[string]any(e)
		}
		return out
	default:
		return v
	}
}

// POLICY.md §11.6 with the typed API.
func TestSpecExampleTyped(t *testing.T) {
	p := loadPolicy(t, "policies/apparel.yaml")
	m := newMember(t, p, "M-0001", "2025-03-02")
	if err := m.SetBirthday("1990-11-20"); err != nil {
		t.Fatal(err)
	}
	if err := m.AddTag("employee"); err != nil {
		t.Fatal(err)
	}
	r, err := m.Apply(loyalty.Order{ID: "O-1", At: at("2026-11-11T20:15:00+08:00"), Channel: "pos",
		Store: "GZ-001", Lines: []loyalty.Line{{SKU: "COAT-1", Category: "coats", Amount: 129900, Qty: 1}}})
	if err != nil || !r.OK() || r.Event != "O-1" {
		t.Fatalf("apply: %v %+v", err, r)
	}
	sameJSON(t, "effects", r.Effects, `[
	 {"type": "points", "delta": 3897, "source": "order", "pending_until": "2026-11-18",
	  "expires": "2027-11-30", "rules": ["birthday_month", "new_season"]},
	 {"type": "tier_changed", "from": "member", "to": "silver", "reason": "upgrade"},
	 {"type": "gift", "gift": "upgrade", "tier": "silver", "reward": {"points": 200}},
	 {"type": "points", "delta": 200, "source": "upgrade", "expires": "2027-11-30"},
	 {"type": "gift", "gift": "birthday", "tier": "member", "year": 2026, "reward": {"coupons": ["BDAY-20"]}},
	 {"type": "stage_changed", "from": "registered", "to": "first"}]`)
	if r.Effects[0].Type() != "points" || r.Effects[0].Int("delta") != 3897 || r.Effects[1].String("to") != "silver" {
		t.Errorf("effect accessors: %v", r.Effects[0])
	}
	want := loyalty.Summary{Tier: "silver", Available: 200, Pending: 3897, Stage: "first"}
	if *r.Member != want {
		t.Errorf("summary %+v, want %+v", *r.Member, want)
	}
	if m.Tier() != "silver" || m.TierSince() != "2026-11-11" || m.Stage() != "first" ||
		m.PointsAvailable() != 200 || m.PointsPending() != 3897 || m.ID() != "M-0001" {
		t.Errorf("getters: %s %s %s %d %d", m.Tier(), m.TierSince(), m.Stage(), m.PointsAvailable(), m.PointsPending())
	}
	lots := m.Lots()
	if len(lots) != 2 {
		t.Fatalf("lots %+v", lots)
	}
	for _, l := range lots {
		ok := (l == loyalty.Lot{Points: 200, Expires: "2027-11-30"}) ||
			(l == loyalty.Lot{Points: 3897, Expires: "2027-11-30", PendingUntil: "2026-11-18"})
		if !ok {
			t.Errorf("lot %+v", l)
		}
	}

	q, err := m.Benefits(at("2026-11-11T20:16:00+08:00"), "pos", "")
	if err != nil {
		t.Fatal(err)
	}
	if q.Query != "benefits" || q.At != "2026-11-11T20:16:00+08:00" || len(q.Benefits) != 7 {
		t.Fatalf("query %+v", q)
	}
	if b := q.Benefits[0]; b.ID != "member-price" || !b.Open || b.Value != loyalty.Decimal("0.95") {
		t.Errorf("member-price %+v", b)
	}
	if b := q.Benefits[4]; b.ID != "designer-salon" || b.Open || b.Value != nil {
		t.Errorf("designer-salon %+v", b)
	}
	sameJSON(t, "designer-salon reasons", q.Benefits[4].Reasons,
		`[{"tier_at_least": "platinum"}, {"points_at_least": 1000}]`)
	sameJSON(t, "query", q.Data, `{"query": "benefits", "at": "2026-11-11T20:16:00+08:00", "benefits": [
	 {"id": "member-price", "kind": "purchase", "open": true, "value": 0.95},
	 {"id": "free-shipping", "kind": "service", "open": false, "reasons": [{"tier_at_least": "gold"}]},
	 {"id": "alteration", "kind": "service", "open": false, "reasons": [{"tier_at_least": "gold"}]},
	 {"id": "stylist", "kind": "service", "open": false, "reasons": [{"tier_at_least": "platinum"}]},
	 {"id": "designer-salon", "kind": "activity", "open": false,
	  "reasons": [{"tier_at_least": "platinum"}, {"points_at_least": 1000}]},
	 {"id": "preview-launch", "kind": "product", "open": false,
	  "reasons": [{"any": [{"tier_at_least": "gold"}, {"tags": ["vip-list"]}]}]},
	 {"id": "staff-discount", "kind": "purchase", "open": true}],
	 "member": {"tier": "silver", "points": {"available": 200, "pending": 3897}, "stage": "first"}}`)
	js, err := q.JSON()
	if err != nil || !strings.Contains(string(js), `"value":0.95`) {
		t.Errorf("JSON keeps the exact decimal: %s %v", js, err)
	}
}

func TestErrorsIs(t *testing.T) {
	p := loadPolicy(t, "policies/apparel.yaml")
	m := newMember(t, p, "M-1", "2026-01-01")
	if _, err := m.Apply(loyalty.Tick{ID: "T-1", At: at(day)}); err != nil {
		t.Fatal(err)
	}
	before, _ := m.Bytes()

	r, err := m.Apply(loyalty.Tick{ID: "T-1", At: at("2026-05-02T10:00:00+08:00")})
	if !errors.Is(err, loyalty.ErrDuplicate) || errors.Is(err, loyalty.ErrOutOfOrder) {
		t.Fatalf("duplicate: %v", err)
	}
	var e *loyalty.Error
	if !errors.As(err, &e) || int(e.Code) != -12 || e.Name != "LOY_E_DUPLICATE" {
		t.Fatalf("as: %#v", e)
	}
	if r == nil || r.Error == nil || r.Error.Code != loyalty.CodeDuplicate || len(r.Effects) != 0 || r.Member != nil {
		t.Fatalf("result of a refusal: %+v", r)
	}

	_, err = m.Apply(loyalty.Tick{ID: "T-0", At: at("2026-04-30T10:00:00+08:00")})
	if !errors.Is(err, loyalty.ErrOutOfOrder) {
		t.Fatalf("out of order: %v", err)
	}
	after, _ := m.Bytes()
	if !bytes.Equal(before, after) {
		t.Error("a refusal changed the state")
	}

	_, err = m.Apply(loyalty.UseBenefit{ID: "U-1", At: at(day), Benefit: "free-shipping"})
	if !errors.Is(err, loyalty.ErrBenefitNotOpen) || !errors.As(err, &e) {
		t.Fatalf("benefit: %v", err)
	}
	sameJSON(t, "reasons", e.Reasons, `[{"tier_at_least": "gold"}]`)
	if _, err = m.Apply(loyalty.Redeem{ID: "X-1", At: at(day), Points: 100, OrderAmount: 1000}); !errors.Is(err, loyalty.ErrInsufficientPoints) {
		t.Errorf("redeem: %v", err)
	}
	if _, err = m.Apply(loyalty.JoinPaid{ID: "P-1", At: at(day), Plan: "annual"}); !errors.Is(err, loyalty.ErrUnknownPlan) {
		t.Errorf("join: %v", err)
	}
	if _, err = m.Apply(loyalty.Profile{ID: "F-1", At: at(day)}); !errors.Is(err, loyalty.ErrInvalidEvent) {
		t.Errorf("empty profile: %v", err)
	}
	if _, err = m.ApplyJSON([]byte(`{"type": "tick", "id": `)); !errors.Is(err, loyalty.ErrJSON) {
		t.Errorf("malformed line: %v", err)
	}
	if _, err = m.ApplyJSON([]byte(`{"query": "members", "at": "` + day + `"}`)); !errors.Is(err, loyalty.ErrInvalidQuery) {
		t.Errorf("query: %v", err)
	}
	if _, err = m.Apply(loyalty.Tick{ID: "T\x00", At: at(day)}); !errors.Is(err, loyalty.ErrInvalidArg) {
		t.Errorf("NUL: %v", err)
	}
	// Every sentinel carries the library's own name for its code.
	for _, s := range []*loyalty.Error{loyalty.ErrNoMem, loyalty.ErrPolicy, loyalty.ErrDuplicate,
		loyalty.ErrStatePolicy, loyalty.ErrJSON, loyalty.ErrBenefitLimitReached} {
		if !strings.HasPrefix(s.Name, "LOY_E_") || s.Code.Name() != s.Name {
			t.Errorf("sentinel %#v", s)
		}
	}
	if loyalty.ErrOutOfOrder.Name != "LOY_E_OUT_OF_ORDER" {
		t.Error(loyalty.ErrOutOfOrder.Name)
	}
}

func TestTypedEvents(t *testing.T) {
	p := loadPolicy(t, "policies/apparel.yaml")
	m := newMember(t, p, "M-1", "2026-01-01")
	r, err := m.Apply(loyalty.Order{ID: "O-1", At: at("2026-05-02T10:00:00+08:00"),
		Lines: []loyalty.Line{{SKU: "TEE-1", Category: "tops", Amount: 20000, Qty: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	// 200.00 at 1 point per 1.00, pending 7 days, last day 12 months after May.
	sameJSON(t, "order", r.Effects, `[
	 {"type": "points", "delta": 200, "source": "order", "pending_until": "2026-05-09", "expires": "2027-05-31", "rules": []},
	 {"type": "stage_changed", "from": "registered", "to": "first"}]`)
	// floor(200 × 10000 / 20000) = 100 from the order's pending points.
	r, err = m.Apply(loyalty.Return{ID: "R-1", At: at("2026-05-03T10:00:00+08:00"), Amount: 10000,
		Original: loyalty.OriginalOrder{ID: "O-1", At: at("2026-05-02T10:00:00+08:00"), Amount: 20000, Points: 200}})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "return", r.Effects, `[{"type": "points", "delta": -100, "source": "return", "order": "O-1"}]`)
	r, err = m.Apply(loyalty.Tick{ID: "T-1", At: at("2026-05-09T00:00:00+08:00")})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "release", r.Effects, `[{"type": "points_released", "points": 100, "order": "O-1"}]`)
	r, err = m.Apply(loyalty.Action{ID: "A-1", At: at("2026-05-10T10:00:00+08:00"), Kind: "signup"})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "signup", r.Effects, `[{"type": "points", "delta": 100, "source": "action", "kind": "signup", "expires": "2027-05-31"}]`)
	// 200 available: value = 200 minor units ≤ 0.3 × 1000.
	r, err = m.Apply(loyalty.Redeem{ID: "X-1", At: at("2026-05-10T11:00:00+08:00"), Points: 200, OrderAmount: 1000})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "redeem", r.Effects, `[{"type": "points", "delta": -200, "source": "redeem", "value": 200}]`)
	r, err = m.Apply(loyalty.Profile{ID: "F-1", At: at("2026-05-11T10:00:00+08:00"), Birthday: "1990-05-20", Tags: []string{"employee"}})
	if err != nil {
		t.Fatal(err)
	}
	// The birthday is set in step 3; step 5 gives the month window's gift.
	sameJSON(t, "birthday", r.Effects, `[{"type": "gift", "gift": "birthday", "tier": "member", "year": 2026, "reward": {"coupons": ["BDAY-20"]}}]`)
	r, err = m.Apply(loyalty.UseBenefit{ID: "U-1", At: at("2026-05-11T11:00:00+08:00"), Channel: "pos", Benefit: "staff-discount"})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "use", r.Effects, `[{"type": "benefit_used", "benefit": "staff-discount"}]`)

	g := loadPolicy(t, "policies/grocery.yaml")
	gm := newMember(t, g, "G-1", "2026-01-01")
	r, err = gm.Apply(loyalty.JoinPaid{ID: "P-1", At: at("2026-03-01T09:00:00+08:00"), Plan: "annual"})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "join", r.Effects, `[{"type": "paid_started", "plan": "annual", "from": "2026-03-01", "until": "2027-02-28"}]`)
	if _, err = gm.Apply(loyalty.JoinPaid{ID: "P-2", At: at("2026-03-02T09:00:00+08:00"), Plan: "monthly"}); !errors.Is(err, loyalty.ErrPlanConflict) {
		t.Errorf("conflict: %v", err)
	}
}

func TestBytesRoundTrip(t *testing.T) {
	p := loadPolicy(t, "policies/apparel.yaml")
	m := newMember(t, p, "会员-😀", "2026-01-01")
	for _, ev := range []loyalty.Event{
		loyalty.Action{ID: "A-1", At: at(day), Kind: "signup"},
		loyalty.Order{ID: "订单-1", At: at("2026-05-08T10:00:00+08:00"), Channel: "app",
			Lines: []loyalty.Line{{SKU: "大衣", Category: "coats", Amount: 150000, Qty: 1}}},
	} {
		if _, err := m.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	data, err := m.Bytes()
	if err != nil || len(data) == 0 {
		t.Fatal(err)
	}
	back, err := loyalty.MemberFromBytes(p, data)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	again, _ := back.Bytes()
	if !bytes.Equal(data, again) {
		t.Error("bytes differ after a round trip")
	}
	if back.ID() != "会员-😀" || back.Tier() != m.Tier() || back.PointsPending() != m.PointsPending() ||
		!reflect.DeepEqual(back.Lots(), m.Lots()) || back.TierSince() != m.TierSince() {
		t.Errorf("round trip: %s %s %d", back.ID(), back.Tier(), back.PointsPending())
	}
	next := loyalty.Tick{ID: "T-1", At: at("2026-06-01T00:00:00+08:00")}
	r1, err1 := m.Apply(next)
	r2, err2 := back.Apply(next)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(r1.Data, r2.Data) {
		t.Errorf("the copies went apart: %v %v", err1, err2)
	}
	if _, err := back.Apply(loyalty.Action{ID: "A-1", At: at("2026-06-02T00:00:00+08:00"), Kind: "signup"}); !errors.Is(err, loyalty.ErrDuplicate) {
		t.Errorf("remembered ids survive the bytes: %v", err)
	}
	cp, err := m.Copy()
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	b1, _ := m.Bytes()
	b2, _ := cp.Bytes()
	if !bytes.Equal(b1, b2) {
		t.Error("copy")
	}

	if _, err := loyalty.MemberFromBytes(p, nil); !errors.Is(err, loyalty.ErrStateTruncated) {
		t.Errorf("empty: %v", err)
	}
	if _, err := loyalty.MemberFromBytes(p, data[:len(data)/2]); !errors.Is(err, loyalty.ErrStateTruncated) {
		t.Errorf("half: %v", err)
	}
	bad := append([]byte(nil), data...)
	bad[len(bad)/2] ^= 1
	var e *loyalty.Error
	if _, err := loyalty.MemberFromBytes(p, bad); !errors.As(err, &e) ||
		(e.Code != loyalty.CodeStateChecksum && e.Code != loyalty.CodeStateTruncated && e.Code != loyalty.CodeStateVersion) {
		t.Errorf("corrupt: %v", err)
	}
	silver, err := loyalty.MemberFromJSON(p, []byte(`{"member": {"id": "S", "joined": "2026-01-01", "tier": "silver"}}`))
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := silver.Bytes()
	silver.Close()
	minimal := loadPolicy(t, "policies/minimal.yaml")
	if _, err := loyalty.MemberFromBytes(minimal, sb); !errors.Is(err, loyalty.ErrStatePolicy) ||
		!strings.Contains(err.Error(), "silver") {
		t.Errorf("state under another policy: %v", err)
	}
}

func TestMemberObjects(t *testing.T) {
	p := loadPolicy(t, "policies/apparel.yaml")
	if _, err := loyalty.MemberFromJSON(p, []byte(`{"member": {"id": "M", "joined": "2026-01-01", "tier": "diamond"}}`)); !errors.Is(err, loyalty.ErrUnknownTier) {
		t.Errorf("tier: %v", err)
	}
	if _, err := loyalty.MemberFromJSON(p, []byte(`{"member": {"id": "M", "joined": "2026-01-01", "colour": "red"}}`)); !errors.Is(err, loyalty.ErrInvalidMember) {
		t.Errorf("field: %v", err)
	}
	m, err := loyalty.MemberFromJSON(p, []byte(`{"member": {"id": "M-\ud83d\ude00", "joined": "2026-01-01"}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.ID() != "M-😀" {
		t.Errorf("surrogate pair: %q", m.ID())
	}
	if _, err := loyalty.NewMember(p, "M", "2026-02-30"); err == nil {
		t.Error("a bad joining date was accepted")
	}

	legacy, err := loyalty.MemberFromJSON(p, []byte(`{"member": {"id": "M-9", "joined": "2024-01-01",
	  "tier": "gold", "tier_since": "2025-06-01",
	  "points": [{"points": 500, "expires": "2027-03-31"}, {"points": 300}],
	  "spend_by_month": {"2026-04": 120000}, "orders": 7, "last_order": "2026-04-30",
	  "gifts_given": {"upgrade": ["silver", "gold"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer legacy.Close()
	if legacy.Tier() != "gold" || legacy.TierSince() != "2025-06-01" || legacy.PointsAvailable() != 800 {
		t.Errorf("import: %s %s %d", legacy.Tier(), legacy.TierSince(), legacy.PointsAvailable())
	}
	// Soonest-expiring first, never-expiring last.
	if got := legacy.Lots(); !reflect.DeepEqual(got, []loyalty.Lot{{Points: 500, Expires: "2027-03-31"}, {Points: 300}}) {
		t.Errorf("lots %+v", got)
	}
	// 7 lifetime orders but none by month: not loyal; at least 2 orders: repeat.
	if legacy.Stage() != "repeat" {
		t.Errorf("stage %q", legacy.Stage())
	}
	if v, err := legacy.Metric("2026-04-30"); err != nil || v != 120000 {
		t.Errorf("metric %d %v", v, err)
	}
}

func TestPolicy(t *testing.T) {
	p := loadPolicy(t, "policies/apparel.yaml")
	if got := p.Tiers(); !reflect.DeepEqual(got, []loyalty.Entry{{"member", "会员"}, {"silver", "银卡"}, {"gold", "金卡"}, {"platinum", "铂金卡"}}) {
		t.Errorf("tiers %v", got)
	}
	if got := p.Stages(); len(got) != 5 || got[4].ID != "registered" {
		t.Errorf("stages %v", got)
	}
	if b := p.Benefits(); len(b) != 7 || b[1] != (loyalty.BenefitInfo{ID: "free-shipping", Name: "顺丰包邮", Kind: "service"}) {
		t.Errorf("benefits %v", b)
	}
	if got := p.Multipliers(); !reflect.DeepEqual(got, []string{"tier_bonus", "member_day", "birthday_month", "new_season"}) {
		t.Errorf("multipliers %v", got)
	}
	if got := p.Actions(); !reflect.DeepEqual(got, []string{"signup", "review", "share"}) {
		t.Errorf("actions %v", got)
	}
	if len(p.Gifts()) != 9 || len(p.Plans()) != 0 || p.Program() != "Acme Apparel" {
		t.Errorf("gifts %v plans %v", p.Gifts(), p.Plans())
	}
	if code, minor := p.Currency(); code != "CNY" || minor != 2 {
		t.Errorf("currency %s %d", code, minor)
	}
	if pts, amt, ok := p.RedeemRate(); !ok || pts != 100 || amt != 100 {
		t.Errorf("redeem %d %d %v", pts, amt, ok)
	}
	src, err := os.ReadFile(filepath.Join(specDir(), "policies", "apparel.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	same, err := loyalty.LoadPolicy(src)
	if err != nil {
		t.Fatal(err)
	}
	defer same.Close()
	if len(p.Fingerprint()) != 16 || same.Fingerprint() != p.Fingerprint() {
		t.Errorf("fingerprint %s %s", p.Fingerprint(), same.Fingerprint())
	}
	if s, n := loyalty.Version(); n/10000 != 1 || !strings.HasPrefix(s, "1.") {
		t.Errorf("version %s %d", s, n)
	}
}

func TestPolicyErrors(t *testing.T) {
	bad := []byte("loyalty_policy: 1\ntiers:\n  qualify_on: spend\n  windw: lifetime\n  levels:\n    - {id: member}\n")
	_, err := loyalty.LoadPolicyNamed(bad, "bad.yaml")
	var e *loyalty.Error
	if !errors.Is(err, loyalty.ErrPolicy) || !errors.As(err, &e) {
		t.Fatalf("load: %v", err)
	}
	// An unknown key is reported at the key.
	if len(e.Diagnostics) != 1 || e.Diagnostics[0].File != "bad.yaml" || e.Diagnostics[0].Line != 4 ||
		e.Diagnostics[0].Column != 3 || e.Diagnostics[0].Message == "" {
		t.Errorf("diagnostics %+v", e.Diagnostics)
	}
	if !strings.Contains(err.Error(), "bad.yaml:4:3: ") {
		t.Errorf("message %q", err.Error())
	}
	if _, err := loyalty.LoadPolicyFile(filepath.Join(t.TempDir(), "none.yaml")); !errors.Is(err, loyalty.ErrIO) {
		t.Errorf("missing file: %v", err)
	}
}

func TestCloseAndLifetime(t *testing.T) {
	p, err := loyalty.LoadPolicyFile(filepath.Join(specDir(), "policies", "apparel.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := loyalty.NewMember(p, "M-1", "2026-01-01")
	if err != nil {
		t.Fatal(err)
	}
	p.Close() // the member still pins the C policy
	runtime.GC()
	if _, err := m.Apply(loyalty.Action{ID: "A-1", At: at(day), Kind: "signup"}); err != nil {
		t.Fatal(err)
	}
	if m.PointsAvailable() != 100 {
		t.Error(m.PointsAvailable())
	}
	if _, err := loyalty.NewMember(p, "M-2", "2026-01-01"); !errors.Is(err, loyalty.ErrClosed) {
		t.Errorf("closed policy: %v", err)
	}
	if p.Tiers() != nil || p.Fingerprint() != "" {
		t.Error("a closed policy answered")
	}
	m.Close()
	m.Close()
	if _, err := m.Apply(loyalty.Tick{ID: "T", At: at(day)}); !errors.Is(err, loyalty.ErrClosed) {
		t.Errorf("closed member: %v", err)
	}
	if _, err := m.Bytes(); !errors.Is(err, loyalty.ErrClosed) || m.ID() != "" {
		t.Errorf("closed member bytes: %v", err)
	}

	// Members left to the finalizers free their handles and then the policy's.
	q, _ := loyalty.LoadPolicyFile(filepath.Join(specDir(), "policies", "minimal.yaml"))
	for i := 0; i < 100; i++ {
		if _, err := loyalty.NewMember(q, "M", "2026-01-01"); err != nil {
			t.Fatal(err)
		}
	}
	q = nil
	for i := 0; i < 5; i++ {
		runtime.GC()
	}
}

func TestTrace(t *testing.T) {
	p := loadPolicy(t, "policies/apparel.yaml")
	m := newMember(t, p, "M-1", "2026-01-01")
	m.SetTrace(true)
	r, err := m.Apply(loyalty.Action{ID: "A-1", At: at(day), Kind: "signup"})
	if err != nil || r.Trace == nil {
		t.Errorf("trace: %v %v", err, keys(r.Data))
	}
	m.SetTrace(false)
	r, _ = m.Apply(loyalty.Tick{ID: "T-1", At: at(day)})
	if r.Trace != nil {
		t.Error("trace without asking")
	}
}
