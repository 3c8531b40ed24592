"""The dashboard `labelpact report` writes: queries, trends, charts, the page."""
