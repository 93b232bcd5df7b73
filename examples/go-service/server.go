package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"

	loyalty "github.com/libloyalty/loyalty-go"
)

// record is what the service keeps per member: the state bytes and, stored
// with them, the results of the events that produced them. Here it lives in
// memory; a real deployment writes the state and the effects in one database
// transaction (SELECT ... FOR UPDATE the state, apply, UPDATE the state and
// INSERT the effects, COMMIT), so that a crash never keeps one without the
// other, and a retried request is answered LOY_E_DUPLICATE instead of paying
// twice.
type record struct {
	mu      sync.Mutex // one event at a time per member: read-modify-write of state
	state   []byte
	results []json.RawMessage
}

// Server is the HTTP front of one policy.
type Server struct {
	policy  *loyalty.Policy // shared by every request: goroutine-safe
	mu      sync.Mutex      // guards members (the map), not the records
	members map[string]*record
}

// NewServer serves members under a policy.
func NewServer(p *loyalty.Policy) *Server {
	return &Server{policy: p, members: map[string]*record{}}
}

// Handler routes:
//
//	POST /members                      a member object line → 201
//	POST /members/{id}/events          an event line → the result JSON
//	GET  /members/{id}/benefits?at=&channel=&store=  the benefits query
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /members", s.createMember)
	mux.HandleFunc("POST /members/{id}/events", s.applyEvent)
	mux.HandleFunc("GET /members/{id}/benefits", s.benefits)
	return mux
}

const maxBody = 1 << 20

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": err.Error()})
		return nil, false
	}
	return body, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// statusOf maps a refusal to an HTTP status: a retry or a late event is a
// conflict, a malformed request a bad request, a business refusal 422.
func statusOf(err error) int {
	switch {
	case errors.Is(err, loyalty.ErrDuplicate), errors.Is(err, loyalty.ErrOutOfOrder):
		return http.StatusConflict
	case errors.Is(err, loyalty.ErrJSON), errors.Is(err, loyalty.ErrInvalidEvent),
		errors.Is(err, loyalty.ErrOverflow), errors.Is(err, loyalty.ErrInvalidQuery),
		errors.Is(err, loyalty.ErrInvalidMember):
		return http.StatusBadRequest
	case errors.Is(err, loyalty.ErrNoMem), errors.Is(err, loyalty.ErrInvalidArg):
		return http.StatusInternalServerError
	default:
		return http.StatusUnprocessableEntity
	}
}

func (s *Server) createMember(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	m, err := loyalty.MemberFromJSON(s.policy, body)
	if err != nil {
		var e *loyalty.Error
		if errors.As(err, &e) {
			writeJSON(w, statusOf(err), map[string]any{"event": nil, "error": e})
		} else {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		}
		return
	}
	defer m.Close()
	state, err := m.Bytes()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	id := m.ID()
	s.mu.Lock()
	_, exists := s.members[id]
	if !exists {
		s.members[id] = &record{state: state}
	}
	s.mu.Unlock()
	if exists {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "member " + id + " exists"})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": id, "tier": m.Tier(), "stage": m.Stage(),
		"points": map[string]int64{"available": m.PointsAvailable(), "pending": m.PointsPending()},
	})
}

func (s *Server) record(w http.ResponseWriter, id string) *record {
	s.mu.Lock()
	rec := s.members[id]
	s.mu.Unlock()
	if rec == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no member " + id})
	}
	return rec
}

func (s *Server) applyEvent(w http.ResponseWriter, r *http.Request) {
	rec := s.record(w, r.PathValue("id"))
	if rec == nil {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	res, next, err := s.policy.ApplyState(rec.state, body)
	if res == nil {
		writeJSON(w, statusOf(err), map[string]string{"error": err.Error()})
		return
	}
	out, jerr := res.JSON()
	if jerr != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": jerr.Error()})
		return
	}
	if err != nil {
		writeRaw(w, statusOf(err), out) // refused: nothing is stored
		return
	}
	// The state and the effects that produced it are stored together.
	rec.state = next
	if res.Query == "" {
		rec.results = append(rec.results, out)
	}
	writeRaw(w, http.StatusOK, out)
}

func (s *Server) benefits(w http.ResponseWriter, r *http.Request) {
	rec := s.record(w, r.PathValue("id"))
	if rec == nil {
		return
	}
	q := r.URL.Query()
	if q.Get("at") == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "at (an RFC 3339 instant) is required"})
		return
	}
	query := map[string]string{"query": "benefits", "at": q.Get("at")}
	for _, k := range []string{"channel", "store"} {
		if v := q.Get(k); v != "" {
			query[k] = v
		}
	}
	line, _ := json.Marshal(query)
	rec.mu.Lock()
	state := rec.state
	rec.mu.Unlock()
	// A query never changes the state, so it runs outside the member's lock.
	res, _, err := s.policy.ApplyState(state, line)
	if res == nil {
		writeJSON(w, statusOf(err), map[string]string{"error": err.Error()})
		return
	}
	out, jerr := res.JSON()
	if jerr != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": jerr.Error()})
		return
	}
	status := http.StatusOK
	if err != nil {
		status = statusOf(err)
	}
	writeRaw(w, status, out)
}
