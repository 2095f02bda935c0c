"""Upload throughput and memory benchmark: ``python -m bench.upload.run``."""
