// Command receiver is a webhook receiver for trying the local stack: it
// verifies each delivery's signature with the subscription's secret and
// prints the event.
//
//	go run ./infra/cmd/receiver -addr 127.0.0.1:9000 -secret whsec_...
//
// Subscribe http://127.0.0.1:9000/ first (the answer holds the secret),
// then restart the receiver with -secret. -fail N answers 500 to the first
// N deliveries, to watch retries arrive.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"sync/atomic"

	"github.com/acme/helpdesk/events"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "where to listen")
	secret := flag.String("secret", "", "the subscription's whsec_ secret; without it signatures are not checked")
	fail := flag.Int64("fail", 0, "answer 500 to this many deliveries first")
	flag.Parse()
	var seen atomic.Int64
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		n := seen.Add(1)
		verdict := "signature not checked (no -secret)"
		if *secret != "" {
			if err := events.Verify(*secret, r.Header, body); err != nil {
				fmt.Printf("#%d REJECTED %s: %v\n", n, r.Header.Get(events.HeaderID), err)
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			verdict = "signature verified"
		}
		fmt.Printf("#%d %s (%s)\n%s\n", n, r.Header.Get(events.HeaderID), verdict, body)
		if n <= *fail {
			fmt.Printf("#%d answering 500 as asked (-fail %d)\n", n, *fail)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	log.Printf("receiving on http://%s/", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
