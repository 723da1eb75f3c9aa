"""A local stand-in for Twilio's Messages API and a terminal WhatsApp simulator (dev and tests)."""
