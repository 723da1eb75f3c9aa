"""ingress: Twilio's WhatsApp webhooks in, verified and deduplicated, onto the inbound stream."""
