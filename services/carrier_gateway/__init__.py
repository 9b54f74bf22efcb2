"""Carrier gateway: court mail booked with EMS and followed to its return receipt."""
