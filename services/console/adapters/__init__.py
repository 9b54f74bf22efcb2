"""The services' public APIs as the console calls them: one module per service, each a port, its HTTP client and a fake."""
