"""Contracts and plumbing shared by the Songda services."""
