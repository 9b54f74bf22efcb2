"""Twilio simulator: Twilio's Messages and Calls API with signed status callbacks, for demos and end-to-end tests."""
