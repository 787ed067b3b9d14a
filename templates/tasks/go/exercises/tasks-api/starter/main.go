// The tasks API: a small to-do service on net/http.
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	addr := ":8080"
	if port := os.Getenv("PORT"); port != "" {
		addr = ":" + port
	}
	log.Printf("tasks API on %s", addr)
	log.Fatal(http.ListenAndServe(addr, (&api{store: newStore()}).routes()))
}
