"""Tele2 Lithuania "Mobili Stotele" (and LMT Latvia "Zvanu pārvaldnieks") REST API v2 adapter.

Both carriers resell the SmartMEX virtual PBX with the same API (``shared/vendors/mobili-stotele.md``).
``adapter.Tele2Adapter`` speaks it with one company-wide API key; every path it uses lives in
``paths.ENDPOINTS``; ``wire`` holds pydantic models of the vendor's JSON, webhook payloads included;
``webhooks`` turns those payloads into neutral alert events and plans webhook subscriptions under the
vendor's 20-webhook limit (by the ids phonebot recorded: the API cannot list them); ``lost_calls``
reconciles ``GET /lost_calls`` with the last poll, so lost calls made while phonebot was down arrive
once; ``simulator.Tele2Simulator`` serves the same subset for tests and ``--simulate`` and can
deliver webhooks like the vendor.
"""
