// Package rates fetches exchange rates from the upstream rates API.
package rates

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrClientStatus: the upstream answered 4xx (an unknown pair, a bad request).
var ErrClientStatus = errors.New("upstream refused the request")

// Client calls GET {BaseURL}/rates/{pair} and reads {"rate": <number>}.
type Client struct {
	BaseURL     string
	HTTP        *http.Client
	MaxAttempts int           // attempts in total, 3 by default
	BaseDelay   time.Duration // the first backoff delay, 100ms by default
	// wait sleeps between attempts (tests replace it); it returns early with ctx.Err().
	wait func(ctx context.Context, d time.Duration) error
}

// New returns a client with the defaults.
func New(baseURL string) *Client {
	return &Client{BaseURL: baseURL, HTTP: &http.Client{Timeout: 5 * time.Second},
		MaxAttempts: 3, BaseDelay: 100 * time.Millisecond, wait: sleep}
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Rate returns the exchange rate of pair, like "EURUSD".
func (c *Client) Rate(ctx context.Context, pair string) (float64, error) {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		resp, err := c.HTTP.Get(c.BaseURL + "/rates/" + pair)
		if err != nil {
			lastErr = err
			continue
		}
		var body struct {
			Rate float64 `json:"rate"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && err == nil {
			return body.Rate, nil
		}
		lastErr = fmt.Errorf("upstream answered %d", resp.StatusCode)
	}
	return 0, lastErr
}
