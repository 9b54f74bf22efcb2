"""EMS, China Post's open platform: a pure mapper between Songda and EMS (`mapper.py`) and the port, client and fake that speak to it (`client.py`)."""
