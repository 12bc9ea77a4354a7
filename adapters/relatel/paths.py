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
        "public",
        "path: FF-DOCS param list, GO-FF Update(); seed 000 ~184-186 prints the operation (id + employee body)"
        " but no path; others and employee_group_ids need admin",
    ),
    # -- employee groups (hunt groups) ------------------------------------------------------
    "employee_groups": Endpoint("GET", "/employee_groups", "public", "FF-DOCS; fields: seed"),
    # Membership. The 2014 per-user join/leave routes are tried first with the user's own token
    # (no read-modify-write, so no race); the v2.1.2 seed doesn't print them, and where they answer
    # 404/405 the adapter remembers that and uses the seed's admin update of the group instead.
    "employee_group.join": Endpoint(
        "POST",
        "/employee_groups/{id}/join",
        "public",
        "FF-DOCS 2014 only, acts as the token owner; NOT in the v2.1.2 seed: "
        "a 404/405 falls back to employee_group.update",
    ),
    "employee_group.leave": Endpoint(
        "POST",
        "/employee_groups/{id}/leave",
        "public",
        "FF-DOCS 2014 only, acts as the token owner; NOT in the v2.1.2 seed: "
        "a 404/405 falls back to employee_group.update",
    ),
    "employee_group.update": Endpoint(
        "PUT",
        "/employee_groups/{id}",
        "inferred",
        "operation: seed 000 ~299-311 ('id required | integer Employee group ID', body {employee_group: {}}, answer "
        "{id, name, live_presence, speed_dial, employee_ids} unwrapped); employee_ids as a writable field: the seed's "
        "create body (000 ~283-289); path: REST form of FF-DOCS 'GET /employee_groups/:id', not printed by the seed; "
        "admin token (membership of others, FF-DOCS)",
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
        "CHROME (shipped), ZALYE initiateCall(), DESKBOX; body + caution: seed 000 ~658-667 (to_number; "
        "restrict_to Enum '' 'web_call' 'mobile', 'If present, only rings on that device'); "
        "rings the token owner first",
        retry=False,
    ),
    # -- voicemails ------------------------------------------------------------------------
    "voice_mails": Endpoint(
        "GET",
        "/voice_mails",
        "public",
        "FF-DOCS, CHROME, JENSEN (live); params + fields: seed; newest first, limit <= 100, no lower time bound",
    ),
    "voice_mail": Endpoint(
        "GET",
        "/voice_mails/{id}",
        "public",
        "FF-DOCS 'GET voice_mails/:id'; answer: seed 000 ~395-413 (one voicemail, unwrapped; FF-DOCS wraps it); "
        "its `endpoint` names the mailbox, whose owner alone may fetch the sound",
    ),
    "voice_mail.update": Endpoint(
        "PUT",
        "/voice_mails/{id}",
        "public",
        "path: FF-DOCS voice_mail[heard]; seed 000 ~414-418 prints the operation (id + voice_mail body) but no"
        " path; marks heard",
    ),
    "voice_mail.sound": Endpoint(
        "GET",
        "/voice_mails/{id}/sound",
        "public",
        "JENSEN adapter + probe (live): audio/mpeg with Bearer auth; ELTA's /voicemails/{id}/download is contradicted; "
        "only the number's own user may fetch it (JENSEN src/lib/inbound/call-import/relatel.ts header)",
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
