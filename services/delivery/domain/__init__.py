"""Delivery's rules: the law of service, the plan per recipient and the state machine that runs it (pure, `now` passed in)."""
