package main

import (
	"encoding/json"
	"net/http"
	"strings"
)

type api struct{ store *store }

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
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

func (a *api) collection(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var in taskInput
		_ = json.NewDecoder(r.Body).Decode(&in)
		writeJSON(w, http.StatusCreated, a.store.add(in.Title, in.Due))
		return
	}
	writeJSON(w, http.StatusOK, a.store.all())
}

func (a *api) item(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/tasks/")
	task, _ := a.store.get(id)
	writeJSON(w, http.StatusOK, task)
}
