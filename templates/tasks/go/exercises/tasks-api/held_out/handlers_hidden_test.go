package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func do(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}

func errorFields(t *testing.T, rec *httptest.ResponseRecorder) map[string]string {
	t.Helper()
	var body struct {
		Errors map[string]string `json:"errors"`
	}
	if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		t.Fatalf("status %d, body %s; want 400 with an errors object", rec.Code, rec.Body.String())
	}
	return body.Errors
}

func TestHiddenInvalidTasksAreRejected(t *testing.T) {
	s := newStore()
	h := (&api{store: s}).routes()
	errs := errorFields(t, do(h, http.MethodPost, "/tasks", `{"title": "  ", "due": "next tuesday"}`))
	if _, ok := errs["title"]; !ok {
		t.Errorf("title not named: %v", errs)
	}
	if _, ok := errs["due"]; !ok {
		t.Errorf("due not named: %v", errs)
	}
	long := strings.Repeat("x", 101)
	errs = errorFields(t, do(h, http.MethodPost, "/tasks", `{"title": "`+long+`", "due": "2024-05-01T09:00:00Z"}`))
	if _, ok := errs["title"]; !ok || len(errs) != 1 {
		t.Errorf("101-character title: %v", errs)
	}
	errorFields(t, do(h, http.MethodPost, "/tasks", `{"title": `))
	if s.count() != 0 {
		t.Fatalf("%d invalid tasks were stored", s.count())
	}
}

func TestHiddenValidTaskIsCreated(t *testing.T) {
	rec := do((&api{store: newStore()}).routes(), http.MethodPost, "/tasks", `{"title": "Check pump", "due": "2024-06-01T08:30:00+02:00"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
}

func TestHiddenUnknownTaskIs404(t *testing.T) {
	rec := do((&api{store: newStore()}).routes(), http.MethodGet, "/tasks/42", "")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404", rec.Code)
	}
	var body map[string]string
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if body["error"] != "task 42 not found" {
		t.Fatalf("body %s", rec.Body.String())
	}
}

func TestHiddenUnsupportedMethodsAre405(t *testing.T) {
	h := (&api{store: newStore()}).routes()
	cases := []struct{ method, path, allow string }{
		{http.MethodDelete, "/tasks", "GET, POST"},
		{http.MethodPut, "/tasks", "GET, POST"},
		{http.MethodPut, "/tasks/1", "GET"},
		{http.MethodDelete, "/tasks/1", "GET"},
	}
	for _, c := range cases {
		rec := do(h, c.method, c.path, "")
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: status %d, Allow %q; want 405, %q", c.method, c.path, rec.Code, rec.Header().Get("Allow"), c.allow)
		}
	}
}
