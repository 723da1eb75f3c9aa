"""Fixtures of the stream tests: `both_redis` (both Redis versions the mesh runs on) is in
tests/conftest.py."""
