"""Contracts between the services: events, envelope, value types, the report and the wire formats of outside systems."""
