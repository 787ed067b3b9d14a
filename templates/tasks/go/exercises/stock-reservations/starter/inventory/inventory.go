// Package inventory holds the stock of each SKU and the reservations (holds) against it.
package inventory

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

var (
	// ErrUnknownSKU: the store does not carry the SKU.
	ErrUnknownSKU = errors.New("unknown sku")
	// ErrInsufficientStock: fewer units are available than were asked for.
	ErrInsufficientStock = errors.New("insufficient stock")
	// ErrUnknownHold: no such hold (or it was released already).
	ErrUnknownHold = errors.New("unknown hold")
)

// Hold is a reservation of Quantity units of SKU.
type Hold struct {
	ID       string `json:"id"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Store keeps stock and holds in memory; latency stands for the database round trip.
type Store struct {
	mu      sync.Mutex
	stock   map[string]int
	holds   map[string]Hold
	nextID  int
	latency time.Duration
}

// New returns a store with the given stock per SKU.
func New(stock map[string]int) *Store {
	copied := make(map[string]int, len(stock))
	for sku, n := range stock {
		copied[sku] = n
	}
	return &Store{stock: copied, holds: map[string]Hold{}, latency: time.Millisecond}
}

// Available is the number of units of sku not held.
func (s *Store) Available(sku string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.stock[sku]
	if !ok {
		return 0, ErrUnknownSKU
	}
	return n, nil
}

// Reserve holds quantity units of sku.
func (s *Store) Reserve(sku string, quantity int) (Hold, error) {
	if quantity < 1 {
		return Hold{}, fmt.Errorf("quantity must be at least 1, got %d", quantity)
	}
	available, err := s.Available(sku)
	if err != nil {
		return Hold{}, err
	}
	if available < quantity {
		return Hold{}, fmt.Errorf("only %d left", available)
	}
	time.Sleep(s.latency) // writing the hold to the database
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stock[sku] = available - quantity
	s.nextID++
	hold := Hold{ID: fmt.Sprintf("h%d", s.nextID), SKU: sku, Quantity: quantity}
	s.holds[hold.ID] = hold
	return hold, nil
}

// Release gives the units of a hold back.
func (s *Store) Release(id string) error {
	return nil
}
