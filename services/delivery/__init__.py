"""Delivery: the per-recipient delivery workflow, from registered notice to served."""
