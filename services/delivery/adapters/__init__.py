"""Delivery's outside systems: one module each, with a port, the real adapter and a fake for tests."""
