"""Mail sink: an SMTP server for development that keeps what delivery sends and shows it on a web page."""
