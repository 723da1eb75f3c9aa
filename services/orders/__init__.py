"""The orders service: menu, conversation, orders on PostgreSQL."""
