"""Evidence's outside systems, one module each: a port, the real adapter and a fake for tests."""
