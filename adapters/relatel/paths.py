"""Every Relatel REST API v2 path the adapter uses, in one table, each row with its evidence.

Paths are relative to the configured ``base_url`` (``https://app.relatel.dk/api/v2``). Relatel's
documents are the seeds ``shared/seeds/000_1e86c17c83c34bee.txt`` ("000", the v2.1.2 Redoc page
rendered with every URL path stripped: it prints the operations' parameters, bodies and example
answers) and ``001_402af6a5f276d404.txt`` ("001", the contacts page, which prints its paths).

Each row's note reads ``<operation>; path: <evidence>[; remarks]``:

* ``<operation>`` is ``000 ~<first>-<last> '<words of it>'`` (or ``001 ...``), the block of the
  document that is this operation, or ``no seed operation`` when neither document has it;
* the tag says where the *path* comes from. ``seed``: the operation's own text prints it, and the
  evidence is that line (``001 ~49 'GET /api/v2/contacts'``); only the contacts page does.
  ``public``: the evidence names the public sources that print it, by their keys in
  ``shared/vendors/relatel.md`` (FF-DOCS, GO-FF, CHROME, OMNI, ZALYE, JENSEN, ELTA, DESKBOX), each of
  which the notes' endpoint table lists for that path. ``inferred``: nothing prints it; the evidence
  says what it is inferred from.

``tests/unit/adapters/test_relatel_seed_contract.py`` checks every row against the quoted documents
and notes (``tests/fixtures/relatel/``). When the OpenAPI file from https://dev.relatel.dk/oas is at
hand, check the paths here and nowhere else (an operator can override one in the YAML meanwhile).

Placeholders: ``id``, the name 000 gives each operation's path parameter ("id required | integer
Employee ID", "Employee group ID", "Reception ID", "The ID of the voicemail").
"""

from __future__ import annotations

from adapters.http import Endpoint

ENDPOINTS: dict[str, Endpoint] = {
    # -- the token's owner ("me"); there is no /employees/me ------------------------------
    "employee.me": Endpoint(
        "GET",
        "/employee",
        "public",
        "000 ~215-241 '{- \"employee\": {' (one employee, no parameter printed); path: public FF-DOCS 'GET /employee', "
        "GO-FF Authenticated(), OMNI /api/v2/employee.json, CHROME",
    ),
    "employee.me.update": Endpoint(
        "PUT",
        "/employee",
        "public",
        "000 ~242-271 'employee | object |' (an employee body, no id); path: public DESKBOX (PUT .../api/v2/employee/ "
        "with {employee: {do_not_disturb, dnd_timeout_at}}); not in FF-DOCS",
    ),
    # -- colleagues ----------------------------------------------------------------------
    "employees": Endpoint(
        "GET",
        "/employees",
        "public",
        "000 ~128-156 '{- \"employees\": ['; path: public FF-DOCS, GO-FF All(), ZALYE, JENSEN (live); no paging",
    ),
    "employee": Endpoint(
        "GET",
        "/employees/{id}",
        "public",
        "000 ~157-183 '{- \"employee\": {' (one employee, no parameter printed); path: public FF-DOCS, GO-FF GetById()",
    ),
    "employee.update": Endpoint(
        "PUT",
        "/employees/{id}",
        "public",
        "000 ~184-214 'id required | integer Employee ID'; path: public FF-DOCS (its param list), GO-FF Update(); "
        "others' DND and employee_group_ids need an admin (FF-DOCS)",
    ),
    # -- employee groups (hunt groups) ------------------------------------------------------
    "employee_groups": Endpoint(
        "GET",
        "/employee_groups",
        "public",
        "no seed operation (000 prints the group object, ~290-298, but no list of groups); path: public FF-DOCS; "
        "the list is wrapped in employee_groups (FF-DOCS)",
    ),
    # Membership. The 2014 per-user join/leave routes are tried first with the user's own token
    # (no read-modify-write, so no race); the v2.1.2 seed doesn't print them, and where they answer
    # 404/405 the adapter remembers that and uses the seed's admin update of the group instead.
    "employee_group.join": Endpoint(
        "POST",
        "/employee_groups/{id}/join",
        "public",
        "no seed operation (not in v2.1.2); path: public FF-DOCS (2014 only); acts as the token owner; "
        "a 404/405 falls back to employee_group.update",
    ),
    "employee_group.leave": Endpoint(
        "POST",
        "/employee_groups/{id}/leave",
        "public",
        "no seed operation (not in v2.1.2); path: public FF-DOCS (2014 only); acts as the token owner; "
        "a 404/405 falls back to employee_group.update",
    ),
    "employee_group.update": Endpoint(
        "PUT",
        "/employee_groups/{id}",
        "inferred",
        "000 ~299-311 'id required | integer Employee group ID'; path: inferred, the REST form of FF-DOCS "
        "'GET /employee_groups/:id' (printed by no source); employee_ids is writable as in the create body "
        "(000 ~283-289); the answer is unwrapped; admin token (membership of others, FF-DOCS)",
    ),
    # -- calls ----------------------------------------------------------------------------
    "calls": Endpoint(
        "GET",
        "/calls",
        "public",
        "000 ~596-627 '{- \"calls\": ['; path: public FF-DOCS, GO-FF, CHROME, ZALYE, JENSEN (live); "
        "filters (000 prints none): limit <= 100, status, ended_at_gt_or_eq for lost-call polling (ZALYE pollCalls), "
        "started_at_lt_or_eq paging back (JENSEN listCalls: newest first, the boundary item comes back); "
        "the live API ignores endpoint",
    ),
    "switch.dial": Endpoint(
        "POST",
        "/switch/dial",
        "public",
        "000 ~658-667 'CAUTION: When using this API'; path: public CHROME (shipped), ZALYE initiateCall(), DESKBOX; "
        "restrict_to Enum '' 'web_call' 'mobile' ('If present, only rings on that device'); "
        "rings the token owner first",
        retry=False,
    ),
    # -- voicemails ------------------------------------------------------------------------
    "voice_mails": Endpoint(
        "GET",
        "/voice_mails",
        "public",
        "000 ~368-394 'created_at_lt_or_eq | any'; path: public FF-DOCS, CHROME, JENSEN (live); "
        "newest first, limit <= 100 (FF-DOCS), no lower time bound",
    ),
    "voice_mail": Endpoint(
        "GET",
        "/voice_mails/{id}",
        "public",
        "000 ~395-413 '{- \"id\": 0,' (one voicemail, unwrapped, no parameter printed); path: public FF-DOCS "
        "'GET voice_mails/:id'; FF-DOCS wraps it in voice_mail; its endpoint names the mailbox, whose owner alone "
        "may fetch the sound",
    ),
    "voice_mail.update": Endpoint(
        "PUT",
        "/voice_mails/{id}",
        "public",
        "000 ~414-439 'id required | any The ID of the voicemail.'; path: public FF-DOCS (voice_mail[heard]); "
        "marks heard; the answer is unwrapped",
    ),
    "voice_mail.sound": Endpoint(
        "GET",
        "/voice_mails/{id}/sound",
        "public",
        "no seed operation; path: public JENSEN adapter + probe (live), audio/mpeg with Bearer auth; "
        "ELTA's /voicemails/{id}/download is contradicted by that live use; only the number's own user may fetch "
        "it (JENSEN src/lib/inbound/call-import/relatel.ts header)",
    ),
    # -- receptions and statistics ----------------------------------------------------------
    "receptions": Endpoint(
        "GET",
        "/receptions",
        "public",
        "no seed operation (000 has a reception's statistics, not the list); path: public FF-DOCS; Java v1 client",
    ),
    "reception.statistics": Endpoint(
        "GET",
        "/receptions/{id}/statistics",
        "public",
        "000 ~319-336 'id required | integer Reception ID'; path: public ELTA (a summary of the v2.1.2 page, "
        "the weakest public source); Contact Center+ plans",
    ),
    # -- contacts -------------------------------------------------------------------------
    "contacts": Endpoint(
        "GET",
        "/contacts",
        "seed",
        "001 ~34-64 'List all contacts in the authenticated company.'; path: 001 ~49 'GET /api/v2/contacts'; "
        "fields: 000 ~470-486; number, limit <= 100, id_gt_or_eq cursor",
    ),
}
