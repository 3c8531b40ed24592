"""The audit loop: samples of items for human review (`labelpact audit sample`)."""
