package main

import (
	"fmt"
	"sort"
	"sync"
)

// Task is one to-do item.
type Task struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Due   string `json:"due"`
}

// store keeps tasks in memory.
type store struct {
	mu     sync.Mutex
	tasks  map[string]Task
	nextID int
}

func newStore() *store { return &store{tasks: map[string]Task{}} }

func (s *store) add(title, due string) Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	task := Task{ID: fmt.Sprint(s.nextID), Title: title, Due: due}
	s.tasks[task.ID] = task
	return task
}

func (s *store) get(id string) (Task, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	task, ok := s.tasks[id]
	return task, ok
}

func (s *store) all() []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Task, 0, len(s.tasks))
	for _, task := range s.tasks {
		out = append(out, task)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *store) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tasks)
}
