"""Messages the carrier gateway handles, by type: commands from delivery to book court mail."""

from shared.consumer import EventHandler
from shared.topics import CARRIER_GATEWAY_COMMANDS

TOPICS = (CARRIER_GATEWAY_COMMANDS,)
HANDLERS: dict[str, EventHandler] = {}
