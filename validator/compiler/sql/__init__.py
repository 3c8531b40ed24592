"""SQL rendering per dialect, built with sqlglot."""
