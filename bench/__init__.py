"""`make bench`: throughput, latency and memory of the real mesh on this machine (docs/performance.md)."""
