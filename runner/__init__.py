"""taskform: versioned YAML specs in, running assessment-task infrastructure out."""

__version__ = "0.1.0"
