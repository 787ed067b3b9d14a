package rates

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// upstream answers with the given statuses in turn (the last one repeats), counting requests.
func upstream(statuses ...int) (*httptest.Server, *int32) {
	var calls int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(atomic.AddInt32(&calls, 1))
		status := statuses[len(statuses)-1]
		if n <= len(statuses) {
			status = statuses[n-1]
		}
		w.WriteHeader(status)
		if status == http.StatusOK {
			_, _ = w.Write([]byte(`{"rate": 1.25}`))
		}
	}))
	return server, &calls
}

// recording replaces the client's wait and records the delays asked for.
func recording(c *Client) *[]time.Duration {
	var delays []time.Duration
	c.wait = func(ctx context.Context, d time.Duration) error {
		delays = append(delays, d)
		return ctx.Err()
	}
	return &delays
}

func TestHiddenRetriesServerErrorsWithBackoff(t *testing.T) {
	server, calls := upstream(503, 502, 200)
	defer server.Close()
	c := New(server.URL)
	c.BaseDelay = 10 * time.Millisecond
	delays := recording(c)
	rate, err := c.Rate(context.Background(), "EURGBP")
	if err != nil || rate != 1.25 {
		t.Fatalf("rate %v, err %v; want 1.25 after two 5xx answers", rate, err)
	}
	if *calls != 3 {
		t.Fatalf("%d requests, want 3", *calls)
	}
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}
	if len(*delays) != 2 || (*delays)[0] != want[0] || (*delays)[1] != want[1] {
		t.Fatalf("backoff delays %v, want %v", *delays, want)
	}
}

func TestHiddenGivesUpAfterThreeAttempts(t *testing.T) {
	server, calls := upstream(503)
	defer server.Close()
	c := New(server.URL)
	recording(c)
	if _, err := c.Rate(context.Background(), "EURGBP"); err == nil {
		t.Fatal("no error after the upstream kept failing")
	}
	if *calls != 3 {
		t.Fatalf("%d requests, want 3", *calls)
	}
}

func TestHiddenClientErrorsAreNotRetried(t *testing.T) {
	server, calls := upstream(404)
	defer server.Close()
	c := New(server.URL)
	recording(c)
	_, err := c.Rate(context.Background(), "XXXYYY")
	if !errors.Is(err, ErrClientStatus) {
		t.Fatalf("err = %v, want one wrapping ErrClientStatus", err)
	}
	if *calls != 1 {
		t.Fatalf("%d requests for a 404, want 1", *calls)
	}
}

func TestHiddenCancellationStopsTheClient(t *testing.T) {
	server, calls := upstream(503)
	defer server.Close()
	c := New(server.URL)
	c.BaseDelay = time.Hour // only a cancellation can end the wait
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, err := c.Rate(ctx, "EURGBP")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Rate did not return within 2s of the cancellation")
	}
	if *calls != 1 {
		t.Fatalf("%d requests, want 1 (the cancellation came during the first backoff)", *calls)
	}
}
