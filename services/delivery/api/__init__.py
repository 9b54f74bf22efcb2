"""Delivery's routes, one module per surface: notices, the team's tasks, the e-delivery page, provider webhooks."""
