"""Console: the web front door of Songda and the delivery team's pages; it keeps users and sessions, never delivery data."""
