package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

type api struct{ store *store }

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func notAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
}

func (a *api) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/tasks", a.collection)
	mux.HandleFunc("/tasks/", a.item)
	return mux
}

type taskInput struct {
	Title string `json:"title"`
	Due   string `json:"due"`
}

func (in *taskInput) problems() map[string]string {
	errs := map[string]string{}
	title := strings.TrimSpace(in.Title)
	if n := utf8.RuneCountInString(title); n < 1 || n > 100 {
		errs["title"] = "must be 1 to 100 characters"
	}
	if _, err := time.Parse(time.RFC3339, in.Due); err != nil {
		errs["due"] = "must be an RFC 3339 date-time like 2024-05-01T09:00:00Z"
	}
	return errs
}

func (a *api) collection(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, a.store.all())
	case http.MethodPost:
		var in taskInput
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": map[string]string{"body": "must be a JSON object"}})
			return
		}
		if errs := in.problems(); len(errs) > 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": errs})
			return
		}
		writeJSON(w, http.StatusCreated, a.store.add(strings.TrimSpace(in.Title), in.Due))
	default:
		notAllowed(w, "GET, POST")
	}
}

func (a *api) item(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		notAllowed(w, "GET")
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/tasks/")
	task, ok := a.store.get(id)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("task %s not found", id)})
		return
	}
	writeJSON(w, http.StatusOK, task)
}
