"""Every Mobili Stotele REST API v2 path the adapter uses, in one table.

Paths are relative to the configured ``base_url`` (``https://mobili-stotele.tele2.lt/api/v2/``;
LMT: ``https://zvanuparvaldnieks.lmt.lv/api/v2/``). Sources (keys from
``shared/vendors/mobili-stotele.md``): ``public`` rows cite [S1], the vendor's own Swagger 2.0
file in microsoft/PowerPlatformConnectors (``certified-connectors/Mobili Stotele``, copy in
``shared/vendors/specs/mobili-stotele/``), with limits from the seed (``003_…``, the connector
page). ``tests/unit/adapters/test_tele2_contract.py`` checks every ``public`` row, and every
request the adapter sends, against that Swagger, and checks that ``inferred`` rows are *not* in it.

Placeholders: ``event`` = one of :data:`WEBHOOK_EVENTS`; ``webhook_id`` = integer webhook id.
"""

from __future__ import annotations

from adapters.http import Endpoint

#: The webhook events, spelled exactly as the Swagger's ``POST /webhooks/<Event>`` paths (sic "Transfered").
WEBHOOK_EVENTS: tuple[str, ...] = (
    "CallStarted",
    "CallConnected",
    "CallCompleted",
    "CallTransfered",
    "CallRecorded",
    "LostCallerAdded",
    "LostCallerUpdated",
    "LostCallerRemoved",
    "VoicemailCreated",
    "VoicemailDeleted",
)

ENDPOINTS: dict[str, Endpoint] = {
    # -- calls ----------------------------------------------------------------------------
    "dial": Endpoint(
        "POST",
        "/dial",
        "public",
        "S1 operationId Dial: body {destination: string, contactID: int}, both required; data = {}. "
        "Rings the employee's device first (ring order inferred)",
        retry=False,
    ),
    # -- employees ("contacts") -----------------------------------------------------------------
    "contacts": Endpoint(
        "GET",
        "/trigger/contacts",
        "public",
        "S1 GetContacts: initial_contact_id required (0 = from the start, per the S2 polling policy), "
        "limit, offset; no name search; 404 'No items found' = empty (seed)",
    ),
    # -- lost callers ---------------------------------------------------------------------------
    "lost_calls": Endpoint(
        "GET",
        "/lost_calls",
        "public",
        "S1 GetLostCalls / seed 'Get lost calls' (003 ~448-500): limit, offset, destination, date_from, "
        "date_to; data = [{contact_name, destination, attempts, callerid, last_contact}], no id; "
        "404 'No items found' = none open",
    ),
    # -- webhooks -------------------------------------------------------------------------------
    "webhooks": Endpoint(
        "GET",
        "/webhooks",
        "inferred",
        "NOT in S1/S3 nor the seed: the notes (section 5, last row) infer it; the panel lists webhooks "
        "under API -> WEB HOOKS. Response shape guessed. A 404/405 means the route is missing (what the "
        "documented API does), NOT 'no webhooks': phonebot then relies on the ids it recorded",
    ),
    "webhook.subscribe": Endpoint(
        "POST",
        "/webhooks/{event}",
        "public",
        "S1: one operation per event (x-ms-trigger single), body {endpoint} required; data = string "
        "(the new id: inferred); 403 'Webhook limit reached' past 20 (seed)",
    ),
    "webhook.delete": Endpoint(
        "DELETE", "/webhooks/{webhook_id}", "public", "S1 DeleteWebhookByID (internal visibility); integer id"
    ),
}
