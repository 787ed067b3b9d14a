package rates

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Checks that hold before and after your change.

func TestRateReadsTheUpstream(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rates/EURUSD" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"rate": 1.08}`))
	}))
	defer upstream.Close()
	rate, err := New(upstream.URL).Rate(context.Background(), "EURUSD")
	if err != nil || rate != 1.08 {
		t.Fatalf("rate %v, err %v", rate, err)
	}
}
