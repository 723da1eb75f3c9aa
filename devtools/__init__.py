"""Local development tooling: the environment `make run` and `make chat` use."""
