package loyalty_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	loyalty "github.com/libloyalty/loyalty-go"
)

// specDir is ../shared/spec beside the checkout, or $LOYALTY_SPEC_DIR.
func specDir() string {
	if d := os.Getenv("LOYALTY_SPEC_DIR"); d != "" {
		return d
	}
	abs, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "spec"))
	return abs
}

func loadPolicy(t testing.TB, rel string) *loyalty.Policy {
	t.Helper()
	p, err := loyalty.LoadPolicyFile(filepath.Join(specDir(), rel))
	if err != nil {
		t.Fatalf("load %s: %v", rel, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// at parses an RFC 3339 instant, keeping its offset.
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			out = append(out, append([]byte(nil), sc.Bytes()...))
		}
	}
	return out
}

type vector struct{ file, policy string }

func manifest(t testing.TB) []vector {
	var out []vector
	for _, l := range readLines(t, filepath.Join(specDir(), "vectors", "MANIFEST.tsv")) {
		f := strings.Split(string(l), "\t")
		if len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			out = append(out, vector{f[0], f[1]})
		}
	}
	return out
}

func parseJSON(t testing.TB, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	return v
}

// canonical makes equal JSON values compare equal and nothing else: numbers
// by exact value, booleans apart from numbers, key order free; a "trace" is
// dropped and error.message blanked (its wording is free).
func canonical(v any) any {
	num := func(r *big.Rat, ok bool) any {
		if !ok {
			return fmt.Sprintf("badnum:%v", v)
		}
		return "num:" + r.RatString()
	}
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		return fmt.Sprintf("bool:%v", x)
	case string:
		return "str:" + x
	case int64:
		return num(big.NewRat(x, 1), true)
	case int:
		return num(big.NewRat(int64(x), 1), true)
	case json.Number:
		return num(new(big.Rat).SetString(string(x)))
	case loyalty.Decimal:
		return num(x.Rat())
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canonical(e)
		}
		return out
	case loyalty.Effect:
		return canonical(map[string]any(x))
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k == "trace" {
				continue
			}
			if m, ok := e.(map[string]any); ok && k == "error" {
				c := map[string]any{}
				for ek, ev := range m {
					if ek != "message" {
						c[ek] = ev
					}
				}
				e = c
			}
			out[k] = canonical(e)
		}
		return out
	default:
		return fmt.Sprintf("unexpected %T", v)
	}
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The comparison the vector tests rely on can fail.
func TestCanonicalDistinguishes(t *testing.T) {
	same := func(a any, b string) bool {
		return reflect.DeepEqual(canonical(a), canonical(parseJSON(t, []byte(b))))
	}
	cases := []struct {
		got  any
		want string
		eq   bool
	}{
		{map[string]any{"a": int64(1)}, `{"a": 1}`, true},
		{map[string]any{"a": int64(1)}, `{"a": 1.0}`, true},
		{map[string]any{"a": loyalty.Decimal("0.95")}, `{"a": 0.950}`, true},
		{map[string]any{"a": int64(1)}, `{"a": true}`, false},
		{map[string]any{"a": int64(1)}, `{"a": "1"}`, false},
		{map[string]any{"a": int64(1)}, `{"a": 2}`, false},
		{map[string]any{"a": int64(1)}, `{"a": 1, "b": null}`, false},
		{[]any{int64(1), int64(2)}, `[2, 1]`, false},
		{map[string]any{"e": map[string]any{"code": "X", "message": "m"}, "trace": int64(1)}, `{"e": {"code": "X", "message": "m"}}`, true},
		{map[string]any{"error": map[string]any{"code": "X", "message": "m"}}, `{"error": {"code": "X", "message": "other"}}`, true},
		{map[string]any{"error": map[string]any{"code": "X", "message": "m"}}, `{"error": {"code": "Y", "message": "m"}}`, false},
	}
	for i, c := range cases {
		if same(c.got, c.want) != c.eq {
			t.Errorf("case %d: %v vs %s: equal should be %v", i, c.got, c.want, c.eq)
		}
	}
}
