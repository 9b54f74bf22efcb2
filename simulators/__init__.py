"""Stand-ins for outside systems (EMS, Twilio, a mail server), run as real HTTP and SMTP servers."""
