"""Relatel (formerly Firmafon) REST API v2 adapter and its simulator.

``adapter.RelatelAdapter`` speaks the API with Bearer tokens; every path it uses lives in
``paths.ENDPOINTS``; ``simulator.RelatelSimulator`` serves the same subset for tests and
``--simulate``. The API is "me"-centric: ``/employee`` and ``/switch/dial`` act as the token's
owner, so dialling needs each user's own token.
"""
