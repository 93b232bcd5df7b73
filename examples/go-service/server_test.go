package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	loyalty "github.com/libloyalty/loyalty-go"
)

func newTestServer(t *testing.T) (*httptest.Server, *Server) {
	t.Helper()
	p, err := loyalty.LoadPolicyFile(filepath.Join("..", "data", "apparel.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(p)
	ts := httptest.NewServer(s.Handler()) // loopback only
	t.Cleanup(func() { ts.Close(); p.Close() })
	return ts, s
}

func call(t *testing.T, method, u, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: not JSON: %s", method, u, data)
	}
	return resp.StatusCode, out
}

func TestService(t *testing.T) {
	ts, s := newTestServer(t)
	member := `{"member": {"id": "M-0001", "joined": "2025-03-02", "birthday": "1990-11-20", "tags": ["employee"]}}`
	if code, out := call(t, "POST", ts.URL+"/members", member); code != http.StatusCreated || out["id"] != "M-0001" || out["stage"] != "registered" {
		t.Fatalf("create: %d %v", code, out)
	}
	if code, _ := call(t, "POST", ts.URL+"/members", member); code != http.StatusConflict {
		t.Errorf("create twice: %d", code)
	}
	if code, out := call(t, "POST", ts.URL+"/members", `{"member": {"id": "X", "joined": "2026-01-01", "tier": "diamond"}}`); code != http.StatusUnprocessableEntity || out["error"].(map[string]any)["code"] != "LOY_E_UNKNOWN_TIER" {
		t.Errorf("unknown tier: %d %v", code, out)
	}

	order := `{"type": "order", "id": "O-1", "at": "2026-11-11T20:15:00+08:00", "channel": "pos", "store": "GZ-001", "savings": 0, "lines": [{"sku": "COAT-1", "category": "coats", "amount": 129900, "qty": 1}]}`
	code, out := call(t, "POST", ts.URL+"/members/M-0001/events", order)
	if code != http.StatusOK {
		t.Fatalf("order: %d %v", code, out)
	}
	effects := out["effects"].([]any)
	first := effects[0].(map[string]any)
	// POLICY.md §11.6: 1299.00 × 2 × 1.5 = 3897 points, then silver.
	if len(effects) != 6 || first["delta"] != 3897.0 || effects[1].(map[string]any)["to"] != "silver" {
		t.Errorf("effects %v", effects)
	}
	if m := out["member"].(map[string]any); m["tier"] != "silver" || m["stage"] != "first" {
		t.Errorf("member %v", m)
	}

	// A retried request does not pay twice.
	code, out = call(t, "POST", ts.URL+"/members/M-0001/events", order)
	if code != http.StatusConflict || out["error"].(map[string]any)["code"] != "LOY_E_DUPLICATE" {
		t.Errorf("retry: %d %v", code, out)
	}
	if code, out = call(t, "POST", ts.URL+"/members/M-0001/events", `{"type": "tick"`); code != http.StatusBadRequest {
		t.Errorf("bad JSON: %d %v", code, out)
	}
	if code, out = call(t, "POST", ts.URL+"/members/M-0001/events", `{"type": "use_benefit", "id": "U-1", "at": "2026-11-11T20:20:00+08:00", "benefit": "free-shipping"}`); code != http.StatusUnprocessableEntity {
		t.Errorf("benefit not open: %d %v", code, out)
	}
	if code, _ = call(t, "POST", ts.URL+"/members/nobody/events", order); code != http.StatusNotFound {
		t.Errorf("unknown member: %d", code)
	}

	q := url.Values{"at": {"2026-11-11T20:16:00+08:00"}, "channel": {"pos"}}
	code, out = call(t, "GET", ts.URL+"/members/M-0001/benefits?"+q.Encode(), "")
	if code != http.StatusOK || out["at"] != "2026-11-11T20:16:00+08:00" {
		t.Fatalf("benefits: %d %v", code, out)
	}
	benefits := out["benefits"].([]any)
	b0 := benefits[0].(map[string]any)
	if len(benefits) != 7 || b0["id"] != "member-price" || b0["open"] != true || b0["value"] != 0.95 {
		t.Errorf("benefits %v", benefits)
	}
	if code, _ = call(t, "GET", ts.URL+"/members/M-0001/benefits", ""); code != http.StatusBadRequest {
		t.Errorf("no at: %d", code)
	}
	if code, _ = call(t, "GET", ts.URL+"/members/M-0001/benefits?at=yesterday", ""); code != http.StatusBadRequest {
		t.Errorf("bad at: %d", code)
	}

	// Only the accepted event was stored with the state.
	rec := s.members["M-0001"]
	if len(rec.results) != 1 {
		t.Errorf("stored results: %d", len(rec.results))
	}
	m, err := loyalty.MemberFromBytes(s.policy, rec.state)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Tier() != "silver" || m.PointsPending() != 3897 {
		t.Errorf("stored state: %s %d", m.Tier(), m.PointsPending())
	}
}

// Concurrent events on one member are applied one at a time: none is lost.
func TestServiceConcurrentEvents(t *testing.T) {
	ts, s := newTestServer(t)
	if code, _ := call(t, "POST", ts.URL+"/members", `{"member": {"id": "M-1", "joined": "2026-01-01"}}`); code != http.StatusCreated {
		t.Fatal(code)
	}
	const n = 16
	tick := func(i int) string {
		// One instant for all: ties keep arrival order, so every one is accepted.
		return fmt.Sprintf(`{"type": "tick", "id": "T-%d", "at": "2026-05-01T10:00:00+08:00"}`, i)
	}
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := http.Post(ts.URL+"/members/M-1/events", "application/json", strings.NewReader(tick(i)))
			if err == nil {
				codes[i] = resp.StatusCode
				resp.Body.Close()
			}
		}(i)
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("tick %d: %d", i, c)
		}
	}
	if got := len(s.members["M-1"].results); got != n {
		t.Errorf("%d results stored, want %d", got, n)
	}
	// The stored state remembers every id: no update was lost.
	for i := 0; i < n; i++ {
		if code, out := call(t, "POST", ts.URL+"/members/M-1/events", tick(i)); code != http.StatusConflict {
			t.Errorf("tick %d again: %d %v", i, code, out)
		}
	}
}
