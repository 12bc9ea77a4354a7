"""Every Multisender API path the adapter uses, in one table, each with its evidence.

Paths are relative to the configured ``base_url`` (``https://api.multisender.net/v1/``: the host is
the API doc's own URL [public:apidoc, ``http://api.multisender.net/apidoc``]; the ``/v1`` prefix is
inferred from the seed's one literal request path, ``/vi/accounts?access_token=…`` (002 ~26), a typo
for ``/v1/accounts``). The seed is ``shared/seeds/002_dc1da26ac487815e.txt`` ("002"), a text render of
that page with its headings and most paths stripped; the notes are ``shared/vendors/multisender.md``.
Tags (the note starts with the operation's own line in 002, ``002 ~N``):

* ``seed``: the operation's own text in 002 prints the path, in its "Used in the URL like: …" hint;
  the method follows 002's REST rule (~1-9: create = POST, read = GET, update = PUT, delete = DELETE);
* ``inferred``: 002 prints the operation (its headers, body and answer) but no path for it; the path
  is the resource URL another operation's hint prints, or its collection, by that same rule.

No Postman collection, OpenAPI file or SDK could be found (the notes), so no row is ``public``.
``tests/unit/adapters/test_multisender_contract.py`` checks every tag against the quoted operation.
Placeholders: ``rsvp_call_id`` = the vendor's ``rsvpCallId`` (a string).
"""

from __future__ import annotations

from adapters.http import Endpoint

ENDPOINTS: dict[str, Endpoint] = {
    # -- RSVP calls (IVR campaigns counting accepts) -------------------------------------------------
    "rsvp_calls": Endpoint(
        "GET",
        "/rsvp_calls",
        "inferred",
        "002 ~320-324: the list operation ('HTTP 200 OK', a bare JSON array of RSVP calls) prints no path; "
        "'/rsvp_calls' is the collection of the resource URL '/rsvp_calls/1' that the update (~361) and "
        "delete (~386) hints print, read with GET (~4-5 'Resource can be retrieved by GETting its URL')",
    ),
    "rsvp_call": Endpoint(
        "GET",
        "/rsvp_calls/{rsvp_call_id}",
        "inferred",
        "002 ~325-329: the read-one operation ('HTTP 200 OK', one RSVP call object with state, "
        "receiverWebhookUrl, stateWebhookUrl, meta, receivers, stats) prints no path and no id parameter; "
        "'/rsvp_calls/1' is the resource URL printed by the update (~361) and delete (~386) hints, "
        "read with GET by 002's rule (~4-5)",
    ),
    "rsvp_call.update": Endpoint(
        "PUT",
        "/rsvp_calls/{rsvp_call_id}",
        "seed",
        "002 ~361: 'rsvpCallId | string | Yes | Id of the RSVP call. Used in the URL like: /rsvp_calls/1' "
        "in the update operation (~356-380: 'Updatable values: active, halt', 'HTTP 200 OK' + the object); "
        "PUT by 002's rule (~6-7 'Use http PUT method to update the resource'). A full replacement: "
        "endTime, activeFrom, activeTo, activeWeekdays, voiceFiles, actionButtons and acceptsWanted are "
        "'Yes'; the table has no receivers row",
    ),
    # -- click-to-call (escalation lists) ------------------------------------------------------------
    "click_to_calls": Endpoint(
        "GET",
        "/click_to_calls",
        "inferred",
        "002 ~243-247: the list operation ('HTTP 200 OK', a bare JSON array of click-to-calls) prints no "
        "path; '/click_to_calls' is the collection of '/click_to_calls/1', which only the delete hint "
        "(~278) prints. 002 has no update operation for click-to-call, so webhook URLs are set at creation",
    ),
}
