"""Stage 7: what people read: run reports (`run_report`: console, JSON, JUnit, OpenLineage)
and the dataset health report (`health`: HTML; `croissant`: Croissant 1.0 with RAI fields)."""
