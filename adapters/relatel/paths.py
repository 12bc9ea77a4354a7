"""Every Relatel REST API v2 path the adapter uses, in one table.

Paths are relative to the configured ``base_url`` (``https://app.relatel.dk/api/v2``).
Sources (keys from ``shared/vendors/relatel.md``): ``seed`` = the v2.1.2 Redoc text
(``000_…``, fields and params) and the contacts page (``001_…``, with paths); ``public`` =
FF-DOCS (Firmafon's 2014 v2 docs), GO-FF, CHROME, DESKBOX, ZALYE, JENSEN, ELTA. The v2.1.2
page prints almost no paths, so most rows rebuild the path from public clients; when the
OpenAPI file from https://dev.relatel.dk/oas is at hand, check them here and nowhere else.

Placeholders: ``id`` = integer employee, employee-group or reception id.
"""

from __future__ import annotations

from adapters.http import Endpoint

ENDPOINTS: dict[str, Endpoint] = {
    # -- the token's owner ("me"); there is no /employees/me ------------------------------
    "employee.me": Endpoint(
        "GET", "/employee", "public", "FF-DOCS 'GET /employee', GO-FF Authenticated(), OMNI, CHROME; fields: seed"
    ),
    "employee.me.update": Endpoint(
        "PUT",
        "/employee",
        "public",
        "DESKBOX (body {employee: {do_not_disturb, dnd_timeout_at}}); fits the seed's id-less update; not in FF-DOCS",
    ),
    # -- colleagues ----------------------------------------------------------------------
    "employees": Endpoint(
        "GET", "/employees", "public", "FF-DOCS, GO-FF All(), ZALYE, JENSEN (live); response: seed; no paging"
    ),
    "employee": Endpoint("GET", "/employees/{id}", "public", "FF-DOCS, GO-FF GetById(); response: seed"),
    "employee.update": Endpoint(
        "PUT",
        "/employees/{id}",
        "seed",
        "seed (id + employee body); FF-DOCS param list, GO-FF Update(); others and employee_group_ids need admin",
    ),
    # -- employee groups (hunt groups) ------------------------------------------------------
    "employee_groups": Endpoint("GET", "/employee_groups", "public", "FF-DOCS; fields: seed"),
    "employee_group.join": Endpoint(
        "POST",
        "/employee_groups/{id}/join",
        "public",
        "FF-DOCS 2014 only, acts as the token owner; NOT in the v2.1.2 seed: MAY BE GONE",
    ),
    "employee_group.leave": Endpoint(
        "POST",
        "/employee_groups/{id}/leave",
        "public",
        "FF-DOCS 2014 only, acts as the token owner; NOT in the v2.1.2 seed: MAY BE GONE",
    ),
    # -- calls ----------------------------------------------------------------------------
    "calls": Endpoint(
        "GET",
        "/calls",
        "public",
        "FF-DOCS, GO-FF, ZALYE, JENSEN (live); response: seed; limit <= 100; live API ignores `endpoint`; "
        "lost-call polling: ended_at_gt_or_eq (ZALYE pollCalls), paging back with started_at_lt_or_eq "
        "(JENSEN listCalls: newest first, the boundary item comes back)",
    ),
    "switch.dial": Endpoint(
        "POST",
        "/switch/dial",
        "public",
        "CHROME (shipped), ZALYE initiateCall(), DESKBOX; body + caution: seed; rings the token owner first",
        retry=False,
    ),
    # -- voicemails ------------------------------------------------------------------------
    "voice_mails": Endpoint(
        "GET",
        "/voice_mails",
        "public",
        "FF-DOCS, CHROME, JENSEN (live); params + fields: seed; newest first, limit <= 100, no lower time bound",
    ),
    "voice_mail.update": Endpoint(
        "PUT",
        "/voice_mails/{id}",
        "seed",
        "seed (id + voice_mail body); FF-DOCS voice_mail[heard]; marks heard",
    ),
    "voice_mail.sound": Endpoint(
        "GET",
        "/voice_mails/{id}/sound",
        "public",
        "JENSEN adapter + probe (live): audio/mpeg with Bearer auth; ELTA's /voicemails/{id}/download is contradicted",
    ),
    # -- receptions and statistics ----------------------------------------------------------
    "receptions": Endpoint("GET", "/receptions", "public", "FF-DOCS; Java v1 client"),
    "reception.statistics": Endpoint(
        "GET",
        "/receptions/{id}/statistics",
        "public",
        "path: ELTA; params answer_target, from_time, to_time + response: seed; Contact Center+ plans",
    ),
    # -- contacts -------------------------------------------------------------------------
    "contacts": Endpoint(
        "GET", "/contacts", "seed", "seed 001 'GET /api/v2/contacts'; number, limit <= 100, id_gt_or_eq cursor"
    ),
}
