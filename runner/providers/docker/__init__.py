"""The Docker door. `engine.DockerEngine` is the only thing that talks to the Docker SDK; the
other modules build on it without it: `containers`, `images` and `volumes` (objects as
taskform resources: create-or-adopt, drift, removal of what carries an `Owner`'s labels),
`exec` and `script` (commands in running containers with deadlines), `params` (`docker run`
flags), `labels` (what marks an object as taskform's). Importing this package imports no SDK."""
