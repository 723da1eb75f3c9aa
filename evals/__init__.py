"""Evaluations of the bot's understanding, run by `make eval` and `make eval-pizza`; not part
of the deployed package (services never import them)."""
