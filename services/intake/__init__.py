"""Intake: court notices in, validated, and published for delivery."""
