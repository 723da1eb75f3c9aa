"""The ordering conversation: understands a customer's message and decides the replies."""

from services.orders.conversation.engine import respond
from services.orders.conversation.turn import Inbound, Turn

__all__ = ["Inbound", "Turn", "respond"]
