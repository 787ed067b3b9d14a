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

// Rate returns the exchange rate of pair, like "EURUSD". Connection errors and 5xx answers are
// retried with exponential backoff; 4xx answers and a done context end it at once.
func (c *Client) Rate(ctx context.Context, pair string) (float64, error) {
	var lastErr error
	delay := c.BaseDelay
	for attempt := 1; attempt <= c.MaxAttempts; attempt++ {
		if attempt > 1 {
			if err := c.wait(ctx, delay); err != nil {
				return 0, err
			}
			delay *= 2
		}
		rate, retry, err := c.once(ctx, pair)
		if err == nil {
			return rate, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if !retry {
			return 0, err
		}
		lastErr = err
	}
	return 0, fmt.Errorf("gave up after %d attempts: %w", c.MaxAttempts, lastErr)
}

func (c *Client) once(ctx context.Context, pair string) (rate float64, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/rates/"+pair, nil)
	if err != nil {
		return 0, false, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, true, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500:
		return 0, true, fmt.Errorf("upstream answered %d", resp.StatusCode)
	case resp.StatusCode >= 400:
		return 0, false, fmt.Errorf("%w: status %d", ErrClientStatus, resp.StatusCode)
	}
	var body struct {
		Rate float64 `json:"rate"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, false, fmt.Errorf("unreadable answer: %w", err)
	}
	return body.Rate, false, nil
}
