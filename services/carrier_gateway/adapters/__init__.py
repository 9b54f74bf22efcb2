"""The carrier gateway's outside systems: EMS and evidence's intake, each with a port, the real adapter and a fake for tests."""
