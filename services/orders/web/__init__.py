"""orders' HTTP surface besides health and metrics: the staff JSON API and the dashboard."""
