"""Tele2 Lithuania "Mobili Stotele" (and LMT Latvia "Zvanu pārvaldnieks") REST API v2 adapter.

Both carriers resell the SmartMEX virtual PBX with the same API (``shared/vendors/mobili-stotele.md``).
``adapter.Tele2Adapter`` speaks it with one company-wide API key; every path it uses lives in
``paths.ENDPOINTS``; ``wire`` holds pydantic models of the vendor's JSON, webhook payloads included;
``webhooks`` turns those payloads into neutral alert events and plans webhook subscriptions under the
vendor's 20-webhook limit; ``simulator.Tele2Simulator`` serves the same subset for tests and
``--simulate`` and can deliver webhooks like the vendor.
"""
