package loyalty_test

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	loyalty "github.com/libloyalty/loyalty-go"
)

// history runs one member's year and returns every answer and its final state.
func history(p *loyalty.Policy, n int) ([]any, error) {
	m, err := loyalty.NewMember(p, fmt.Sprintf("M-%04d", n), "2025-03-02")
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if err := m.SetBirthday(fmt.Sprintf("1990-%02d-15", n%12+1)); err != nil {
		return nil, err
	}
	if n%3 == 0 {
		if err := m.AddTag("employee"); err != nil {
			return nil, err
		}
	}
	var out []any
	for k := 0; k < 12; k++ {
		when := at(fmt.Sprintf("2026-%02d-%02dT12:00:00+08:00", k+1, n%27+1))
		cat := "tops"
		if k%4 == 0 {
			cat = "coats"
		}
		events := []loyalty.Event{
			loyalty.Order{ID: fmt.Sprintf("O-%d", k), At: when, Channel: "pos",
				Lines: []loyalty.Line{{SKU: "SKU", Category: cat, Amount: int64(10000 * ((n+k)%17 + 1)), Qty: 1}}},
			loyalty.Action{ID: fmt.Sprintf("A-%d", k), At: when, Kind: "review"},
			loyalty.UseBenefit{ID: fmt.Sprintf("U-%d", k), At: when, Benefit: "alteration"},
			loyalty.Redeem{ID: fmt.Sprintf("X-%d", k), At: when, Points: 100, OrderAmount: 100000},
		}
		for _, ev := range events {
			r, _ := m.Apply(ev)
			out = append(out, r.Data)
		}
		r, _ := m.ApplyJSON([]byte(fmt.Sprintf(`{"type": "tick", "id": "T-%d", "at": "%s"}`, k, loyalty.Instant(when))))
		out = append(out, r.Data)
		q, err := m.Benefits(when, "app", "")
		if err != nil {
			return nil, err
		}
		out = append(out, q.Data)
	}
	state, err := m.Bytes()
	return append(out, state), err
}

// 64 goroutines share one policy, each with its own member; the answers are
// those of a sequential run.
func TestSharedPolicyGoroutines(t *testing.T) {
	p := loadPolicy(t, "policies/apparel.yaml")
	const n = 64
	want := make([][]any, n)
	for i := 0; i < n; i++ {
		h, err := history(p, i)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = h
	}
	got := make([][]any, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got[i], errs[i] = history(p, i)
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("goroutine %d answered differently from the sequential run", i)
		}
	}
	earned := 0
	for _, h := range want {
		for _, r := range h[:len(h)-1] {
			if m, ok := r.(map[string]any); ok {
				if effects, ok := m["effects"].([]any); ok && len(effects) > 0 {
					earned++
				}
			}
		}
	}
	if earned == 0 {
		t.Error("the histories did nothing")
	}
}

// The stateless form from many goroutines at once.
func TestApplyStateGoroutines(t *testing.T) {
	p := loadPolicy(t, "policies/apparel.yaml")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			m, err := loyalty.MemberFromJSON(p, []byte(fmt.Sprintf(`{"member": {"id": "M-%d", "joined": "2026-01-01"}}`, i)))
			if err != nil {
				errs <- err
				return
			}
			state, _ := m.Bytes()
			m.Close()
			for k := 0; k < 20; k++ {
				line := fmt.Sprintf(`{"type": "action", "id": "A-%d", "at": "2026-05-%02dT10:00:00+08:00", "kind": "review"}`, k, k+1)
				if _, state, err = p.ApplyState(state, []byte(line)); err != nil {
					errs <- err
					return
				}
			}
			back, err := loyalty.MemberFromBytes(p, state)
			if err != nil {
				errs <- err
				return
			}
			defer back.Close()
			// review: 10 points, at most 5 a month.
			if back.PointsAvailable() != 50 {
				errs <- fmt.Errorf("member %d has %d points, want 50", i, back.PointsAvailable())
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
