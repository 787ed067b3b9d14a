"""Assessment content: scenario keys, the prompt-stack table, templates, the task model, quality
gates, grading material, and the work the content kinds delegate: generating through a
language model (`generate`, `scenarios`), writing task folders (`taskdir`), publishing to git
and GitHub (`publish`). It reaches models, git and GitHub only through the provider doors and
never imports kinds."""
