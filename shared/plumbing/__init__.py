"""Plumbing every service runs on: outbox, inbox, consumer, database, auth, clock, settings, the service runtime."""
