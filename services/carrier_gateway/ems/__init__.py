"""EMS open platform: its wire format, and how its traces map onto Songda's events."""
