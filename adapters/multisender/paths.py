"""Every Multisender API path the adapter uses, in one table.

Paths are relative to the configured ``base_url`` (``https://api.multisender.net/v1/``: the host is
the API doc's own URL [public:apidoc, ``http://api.multisender.net/apidoc``]; the ``/v1`` prefix is
inferred from the seed's one literal request path, ``/vi/accounts?access_token=…``, a typo for
``/v1/accounts``). Sources, with keys from ``shared/vendors/multisender.md``:

* ``seed``: the path or its id form appears in a "Used in the URL like: …" hint of the seed
  (``shared/seeds/002_dc1da26ac487815e.txt``);
* ``inferred``: only the operation is in the seed; the path follows the doc's stated REST
  convention (create = POST to the collection, read = GET, update = PUT, delete = DELETE).

No Postman collection, OpenAPI file or SDK could be found, so nothing here is ``public`` beyond the host.
Placeholders: ``rsvp_call_id`` / ``click_to_call_id`` = the vendor's ids (strings).
"""

from __future__ import annotations

from adapters.http import Endpoint

ENDPOINTS: dict[str, Endpoint] = {
    # -- RSVP calls (IVR campaigns counting accepts) -------------------------------------------------
    "rsvp_calls": Endpoint(
        "GET",
        "/rsvp_calls",
        "inferred",
        "REST convention: the seed shows the list operation (bare JSON array of RSVP calls) but no path",
    ),
    "rsvp_call": Endpoint(
        "GET",
        "/rsvp_calls/{rsvp_call_id}",
        "seed",
        "seed hint '/rsvp_calls/1' (PUT/DELETE rows); GET by the REST convention. Object with state, "
        "receiverWebhookUrl, stateWebhookUrl, meta, receivers, stats",
    ),
    "rsvp_call.update": Endpoint(
        "PUT",
        "/rsvp_calls/{rsvp_call_id}",
        "seed",
        "seed hint '/rsvp_calls/1'; a full replacement: endTime, activeFrom, activeTo, activeWeekdays, "
        "voiceFiles, actionButtons and acceptsWanted are required; receivers cannot be sent; 200 + object",
    ),
    # -- click-to-call (escalation lists) ------------------------------------------------------------
    "click_to_calls": Endpoint(
        "GET",
        "/click_to_calls",
        "inferred",
        "REST convention: the seed shows the list operation (bare JSON array) but no path; the id form "
        "'/click_to_calls/1' is in the DELETE hint. No update operation exists, so webhook URLs are set at creation",
    ),
}
