// Command receiver is a webhook receiver for trying the local stack: for
// each delivery it prints when it arrived, its webhook-id, its event type,
// which attempt of that delivery it is and whether its signature verified,
// then the body.
//
//	go run ./infra/cmd/receiver -addr 127.0.0.1:9000 -secret whsec_...
//
// Subscribe http://127.0.0.1:9000/ first (the answer holds the secret),
// then restart the receiver with -secret. -fail N answers 500 to the first
// N attempts of every delivery, to watch the retries arrive with the same
// webhook-id.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "where to listen")
	secret := flag.String("secret", "", "the subscription's whsec_ secret; without it signatures are not checked")
	fail := flag.Int("fail", 0, "answer 500 to the first N attempts of every delivery")
	quiet := flag.Bool("quiet", false, "print one line per delivery, without its body")
	flag.Parse()
	rc := &receiver{secret: *secret, fail: *fail, body: !*quiet, out: os.Stdout, now: time.Now}
	log.Printf("receiving on http://%s/", *addr)
	srv := &http.Server{Addr: *addr, Handler: rc, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
