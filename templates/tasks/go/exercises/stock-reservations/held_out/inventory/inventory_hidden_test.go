package inventory

import (
	"errors"
	"sync"
	"testing"
)

func TestHiddenConcurrentReservationsNeverOversell(t *testing.T) {
	s := New(map[string]int{"SEAT": 50})
	var wg sync.WaitGroup
	var mu sync.Mutex
	held := 0
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Reserve("SEAT", 1); err == nil {
				mu.Lock()
				held++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	left, _ := s.Available("SEAT")
	if held != 50 || left != 0 {
		t.Fatalf("100 concurrent reservations against 50 units: %d held, %d left; want 50 held, 0 left", held, left)
	}
}

func TestHiddenInsufficientStockIsReported(t *testing.T) {
	s := New(map[string]int{"SEAT": 2})
	_, err := s.Reserve("SEAT", 3)
	if !errors.Is(err, ErrInsufficientStock) {
		t.Fatalf("err = %v, want ErrInsufficientStock", err)
	}
	if left, _ := s.Available("SEAT"); left != 2 {
		t.Fatalf("a refused reservation changed the stock to %d", left)
	}
}

func TestHiddenReleaseReturnsTheUnits(t *testing.T) {
	s := New(map[string]int{"SEAT": 10})
	hold, err := s.Reserve("SEAT", 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Release(hold.ID); err != nil {
		t.Fatalf("release: %v", err)
	}
	if left, _ := s.Available("SEAT"); left != 10 {
		t.Fatalf("after release %d left, want 10", left)
	}
	if err := s.Release(hold.ID); !errors.Is(err, ErrUnknownHold) {
		t.Fatalf("second release: err = %v, want ErrUnknownHold", err)
	}
	if left, _ := s.Available("SEAT"); left != 10 {
		t.Fatalf("a second release changed the stock to %d", left)
	}
}
