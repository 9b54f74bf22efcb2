"""The console's routes: signing in and out and the landing pages (people.py), the delivery team's pages (tasks.py)."""
