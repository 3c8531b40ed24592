"""Stage 6: turning a run into a verdict: `validate` (full or `incremental`), the
tamper-evident `ledger` that records it, and the training `gate` that reads it."""
