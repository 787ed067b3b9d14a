"""Assessment content: scenario keys, the prompt-stack table, templates, the task model, quality
gates and grading material. Pure logic used by the content kinds; no I/O beyond reading
templates."""
