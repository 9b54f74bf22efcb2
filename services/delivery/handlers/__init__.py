"""Delivery's use cases, one per input: Kafka messages, HTTP requests and timer ticks, each in its one transaction."""
