package inventory

import "testing"

// Checks that hold before and after your change.

func TestReserveTakesStock(t *testing.T) {
	s := New(map[string]int{"A": 10})
	if _, err := s.Reserve("A", 3); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Available("A"); n != 7 {
		t.Fatalf("available = %d, want 7", n)
	}
}

func TestUnknownSKU(t *testing.T) {
	if _, err := New(nil).Reserve("nope", 1); err != ErrUnknownSKU {
		t.Fatalf("err = %v, want ErrUnknownSKU", err)
	}
}
