"""The platform's services: ingress, orders, notifier."""
