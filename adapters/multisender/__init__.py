"""Multisender (Finland) REST API v1 adapter: RSVP calls and click-to-call webhooks as channel notifications.

Multisender is an outbound SMS / e-mail / IVR campaign service, not a PBX (``shared/vendors/multisender.md``):
it has no presence, queues, call log or voicemail. ``adapter.MultisenderAdapter`` turns its RSVP-call and
click-to-call webhooks into notifications and, on request, points RSVP calls' webhooks at phonebot; every
path it uses lives in ``paths.ENDPOINTS``; ``wire`` holds pydantic models of the vendor's JSON, webhook
bodies included; ``webhooks`` maps callbacks to neutral events; ``simulator.MultisenderSimulator`` serves
the same subset for tests and ``--simulate`` and delivers webhooks formatted like the vendor's.
"""
