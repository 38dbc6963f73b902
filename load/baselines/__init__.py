"""The conventional baseline the benchmark measures Tessera against (issue 6).

A synchronous HTTP booking service as the seed's original design would build it: one
request reserves inventory with a conditional UPDATE in PostgreSQL, authorizes and
captures the payment through the same simulated gateway (behind the same
ResilientGateway), and answers the final status.
"""
