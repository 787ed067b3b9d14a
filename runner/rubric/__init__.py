"""Rubric grading, the pure half: parse rubrics, classify and score gradings, build the
in-container grading script, and read grading results back from the state."""
