"""How requests spread over the web worker processes: ``python -m bench.workers.run``."""
