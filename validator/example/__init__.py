"""Example annotation data with injectable faults (`data`) and the end-to-end `demo`. Not part
of the runtime pipeline."""
