"""A node as its process builds and runs it: the composition root (bootstrap.py), the node on the exchange
(exchange.py), its read models and timers, and `python -m ops.node.serve` that runs one."""
