"""Converters from other tools' data into taskform spec YAML (one module per source)."""
