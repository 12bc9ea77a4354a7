"""Dstny Core (formerly Telepo BCS) User API adapter and its simulator.

``adapter.DstnyAdapter`` speaks the User API with one API ticket (Bearer); every path it
uses lives in ``paths.ENDPOINTS``; ``simulator.DstnySimulator`` serves the same subset
for tests and ``--simulate``.
"""
