// Command go-service is a small HTTP service over libloyalty: members are
// created from member objects, events are applied to their stored state
// bytes, and benefits are queried. State lives in memory (see record).
//
//	go run . -policy ../data/apparel.yaml -addr 127.0.0.1:8080
//	curl -d '{"member": {"id": "M-1", "joined": "2026-01-01"}}' localhost:8080/members
//	curl -d '{"type": "action", "id": "A-1", "at": "2026-05-01T10:00:00+08:00", "kind": "signup"}' \
//	     localhost:8080/members/M-1/events
//	curl 'localhost:8080/members/M-1/benefits?at=2026-05-01T10:00:00%2B08:00&channel=pos'
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	loyalty "github.com/libloyalty/loyalty-go"
)

func main() {
	policyFile := flag.String("policy", "../data/apparel.yaml", "the YAML policy")
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	policy, err := loyalty.LoadPolicyFile(*policyFile)
	if err != nil {
		log.Fatal(err)
	}
	defer policy.Close()
	log.Printf("policy %s (%s), listening on %s", *policyFile, policy.Fingerprint(), *addr)
	srv := &http.Server{
		Addr:              *addr,
		Handler:           NewServer(policy).Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
