package loyalty_test

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	loyalty "github.com/libloyalty/loyalty-go"
)

// replay does what `loyalty replay` prints: nothing for an accepted member
// line, then one result per event or query line.
func replay(t *testing.T, p *loyalty.Policy, lines [][]byte) []any {
	m, err := loyalty.MemberFromJSON(p, lines[0])
	if err != nil {
		var e *loyalty.Error
		if !asError(err, &e) {
			t.Fatalf("member line: %v", err)
		}
		return []any{map[string]any{"event": nil, "error": map[string]any{"code": e.Name}}}
	}
	defer m.Close()
	var out []any
	for _, l := range lines[1:] {
		r, err := m.ApplyJSON(l)
		if r == nil {
			t.Fatalf("ApplyJSON(%s): %v", l, err)
		}
		if (err != nil) != (r.Error != nil) {
			t.Fatalf("err %v but result error %v", err, r.Error)
		}
		out = append(out, r.Data)
	}
	return out
}

func TestVectors(t *testing.T) {
	rows := manifest(t)
	if len(rows) != 9 {
		t.Fatalf("MANIFEST.tsv names %d vectors, want 9", len(rows))
	}
	for _, v := range rows {
		v := v
		t.Run(strings.TrimSuffix(v.file, ".jsonl"), func(t *testing.T) {
			p := loadPolicy(t, v.policy)
			dir := filepath.Join(specDir(), "vectors")
			lines := readLines(t, filepath.Join(dir, v.file))
			want := readLines(t, filepath.Join(dir, strings.Replace(v.file, ".jsonl", ".expected.jsonl", 1)))
			got := replay(t, p, lines)
			if len(got) != len(want) {
				t.Fatalf("%d results, want %d", len(got), len(want))
			}
			for i := range want {
				w := parseJSON(t, want[i])
				if !reflect.DeepEqual(canonical(got[i]), canonical(w)) {
					t.Errorf("result %d:\n got %s\nwant %s", i+1, show(got[i]), want[i])
				}
			}
		})
	}
}

// The same lines through the stateless one-call form give the same answers;
// a refused event or a query hands back the state unchanged.
func TestVectorsThroughState(t *testing.T) {
	for _, v := range manifest(t) {
		v := v
		t.Run(strings.TrimSuffix(v.file, ".jsonl"), func(t *testing.T) {
			p := loadPolicy(t, v.policy)
			dir := filepath.Join(specDir(), "vectors")
			lines := readLines(t, filepath.Join(dir, v.file))
			want := readLines(t, filepath.Join(dir, strings.Replace(v.file, ".jsonl", ".expected.jsonl", 1)))
			m, err := loyalty.MemberFromJSON(p, lines[0])
			if err != nil {
				t.Fatal(err)
			}
			state, err := m.Bytes()
			m.Close()
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range lines[1:] {
				r, next, err := p.ApplyState(state, l)
				if r == nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				if !reflect.DeepEqual(canonical(r.Data), canonical(parseJSON(t, want[i]))) {
					t.Errorf("result %d:\n got %s\nwant %s", i+1, show(r.Data), want[i])
				}
				if (err != nil || r.Query != "") && !bytes.Equal(next, state) {
					t.Errorf("line %d: refused or query changed the state", i+1)
				}
				state = next
			}
		})
	}
}
