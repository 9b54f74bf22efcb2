"""EMS simulator: China Post's open platform for court mail, with traces pushed on a scaled clock, for demos and tests."""
