"""The Songda command line and the local stack: tooling that may import any service."""
