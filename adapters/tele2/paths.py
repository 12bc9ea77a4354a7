"""Every Mobili Stotele REST API v2 path the adapter uses, in one table, each row with its evidence.

Paths are relative to the configured ``base_url`` (``https://mobili-stotele.tele2.lt/api/v2/``;
LMT: ``https://zvanuparvaldnieks.lmt.lv/api/v2/``). Tele2's documents are the seed
``shared/seeds/003_8708be4dfefa65d5.txt`` ("003", the connector page: it prints each operation's
parameters and answer fields, and no path at all) and [S1], Tele2's own Swagger 2.0 file in
microsoft/PowerPlatformConnectors (``certified-connectors/Mobili Stotele``, copy in
``shared/vendors/specs/mobili-stotele/``). Source keys are those of ``shared/vendors/mobili-stotele.md``.

Each row's note reads ``<operation>; path: <evidence>[; remarks]``:

* ``<operation>`` is ``003 ~<first>-<last> '<title>'``, the block of 003 that is this operation,
  ``003 ten '<Event> webhook callback' blocks`` for the subscription (one block per event), or
  ``no seed operation`` when 003 has none;
* since 003 prints no path, no row is ``seed``. ``public``: the evidence is
  ``public S1 <operationId> '<METHOD> <path template>'``, the Swagger operation that prints it.
  ``inferred``: nothing prints it; the evidence says what it is inferred from.

``tests/unit/adapters/test_tele2_seed_contract.py`` checks every row against the quoted seed and
notes (``tests/fixtures/tele2/``) and against the Swagger; ``test_tele2_contract.py`` checks every
request the adapter sends against the Swagger.

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
        "003 ~92-123 'Dial'; path: public S1 Dial 'POST /dial'; body {destination: string, contactID: integer}, "
        "both required (003 and S1); data = {}. Rings the employee's device first (ring order inferred)",
        retry=False,
    ),
    # -- employees ("contacts") -----------------------------------------------------------------
    "contacts": Endpoint(
        "GET",
        "/trigger/contacts",
        "public",
        "003 ~1232-1333 'Get Contacts'; path: public S1 GetContacts 'GET /trigger/contacts'; S1 requires "
        "initial_contact_id, which 003 does not print (S1: default 0, 'Initial contact ID for querying only newly "
        "created employees.'); that 0 lists every employee is inferred from S2's polling policy (notes section 5); "
        "limit, offset; no name search; 404 'No items found' = empty (003 ~42)",
    ),
    # -- lost callers ---------------------------------------------------------------------------
    "lost_calls": Endpoint(
        "GET",
        "/lost_calls",
        "public",
        "003 ~448-519 'Get lost calls'; path: public S1 GetLostCalls 'GET /lost_calls'; limit, offset, "
        "destination, date_from, date_to; rows {contact_name, destination, attempts, callerid, last_contact}, "
        "no id; 404 'No items found' = none open (003 ~42)",
    ),
    # -- webhooks -------------------------------------------------------------------------------
    "webhooks": Endpoint(
        "GET",
        "/webhooks",
        "inferred",
        "no seed operation; path: inferred, by the notes (section 5, last row: 'they would complete the REST "
        "set') from the panel's list under 'API -> WEB HOOKS' (003 ~34); NOT in S1/S3. Response shape guessed. "
        "A 404/405 means the route is missing (what the documented API does), NOT 'no webhooks': phonebot "
        "then relies on the ids it recorded",
    ),
    "webhook.subscribe": Endpoint(
        "POST",
        "/webhooks/{event}",
        "public",
        "003 ten '<Event> webhook callback' blocks (the body each subscription delivers); path: public S1 "
        "<Event> 'POST /webhooks/<Event>' (ten operations, x-ms-trigger single); body {endpoint} required; "
        "data = string (that it is the new id is inferred, notes 6a); 403 'Webhook limit reached' past 20 "
        "(003 ~40)",
    ),
    "webhook.delete": Endpoint(
        "DELETE",
        "/webhooks/{webhook_id}",
        "public",
        "no seed operation; path: public S1 DeleteWebhookByID 'DELETE /webhooks/{webhook_id}' "
        "(x-ms-visibility internal: Power Automate users never see it); integer id",
    ),
}
