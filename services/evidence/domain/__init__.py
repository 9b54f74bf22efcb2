"""Evidence's pure rules: what a photo must show, what the log keeps of a message, what a report states."""
