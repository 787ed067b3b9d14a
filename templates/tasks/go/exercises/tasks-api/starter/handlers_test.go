package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Checks that hold before and after your change.

func TestHealth(t *testing.T) {
	rec := httptest.NewRecorder()
	(&api{store: newStore()}).routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
}

func TestCreateAndRead(t *testing.T) {
	handler := (&api{store: newStore()}).routes()
	rec := httptest.NewRecorder()
	body := `{"title": "Replace filter", "due": "2024-05-01T09:00:00Z"}`
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/tasks", strings.NewReader(body)))
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: status %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/tasks/1", nil))
	if !strings.Contains(rec.Body.String(), "Replace filter") {
		t.Fatalf("read: %s", rec.Body.String())
	}
}
