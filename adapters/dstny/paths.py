"""Every Dstny Core User API path the adapter uses, in one table.

Each row names the operation it implements in the seed ``shared/seeds/004_a09f6f90fa3ebf72.txt``
("004", the User API Redoc text, which prints operations and parameters but only one path) by
its line range and first words, then says where the *path* comes from:

``seed``
    004's own text for that operation prints the path (only the call-back's example URLs do).
``public``
    a public script prints it: ``public:[P1]``..``[P4]`` of ``shared/vendors/dstny.md`` (its §4
    table of confirmed paths).
``inferred``
    the notes' layout rule ("rule R", dstny.md §4) applied to 004's parameter names. Unverified:
    when the OpenAPI file from https://user-api.dstny.se is at hand, fix them here and nowhere else.

Note format: ``004 ~<first>-<last> '<the operation's first words>'; path: <evidence>[; remarks]``.
``tests/unit/adapters/test_dstny_seed_contract.py`` checks every row's tag against the quoted
evidence (``tests/fixtures/dstny/``). Placeholders are 004's parameter names for the operation
(``userId`` where 004 says ``userId``, ``group-domain``), so an operator reading 004 can override
a path with the names it prints. ``domain`` = organisation domain, ``user``/``userId`` = bare
user id, ``cid`` = contact id with domain (``alice@example.org``) or an E.164 number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.http import Endpoint

RULE_R = "path: rule R (notes §4)"

ENDPOINTS: dict[str, Endpoint] = {
    # -- presence of the ticket's own user (User Information API) -------------------------
    "presence.self": Endpoint(
        "GET",
        "/api/userinfo/presence/{domain}/{user}",
        "inferred",
        f"004 ~8641-8666 'Get the presence state for the accessing user'; {RULE_R}",
    ),
    "presence.self.activity": Endpoint(
        "PUT",
        "/api/userinfo/presence/{domain}/{user}/activity",
        "inferred",
        f"004 ~8725-8744 'Set the activity of the user'; {RULE_R}; activity, available as query parameters",
    ),
    "presence.self.expires": Endpoint(
        "PUT",
        "/api/userinfo/presence/{domain}/{user}/activity/expires",
        "inferred",
        f"004 ~8745-8761 'Set a user's current activity's end-time'; {RULE_R}; expires as a query parameter",
    ),
    # -- presence of another user (Contacts Information V1 API) ---------------------------
    "contact.info": Endpoint(
        "GET",
        "/api/contacts/info/v1/{domain}/{cid}",
        "inferred",
        f"004 ~5900-5958 'Read information about a contact in an organization'; {RULE_R}",
    ),
    "contact.activity": Endpoint(
        "PUT",
        "/api/contacts/info/v1/{domain}/{cid}/presence/activity",
        "inferred",
        f"004 ~6246-6264 'Update the current presence activity of a directory contact'; {RULE_R}",
    ),
    "contact.expires": Endpoint(
        "PUT",
        "/api/contacts/info/v1/{domain}/{cid}/presence/activity/expires",
        "inferred",
        f"004 ~6265-6281 'Update the current activity expiration for a directory contact'; {RULE_R}",
    ),
    # -- end-user configuration -----------------------------------------------------------
    "activities": Endpoint(
        "GET",
        "/api/configuration/{domain}/{user}/activities",
        "inferred",
        f"004 ~8244-8280 'Read the presence activities available for the user'; {RULE_R}",
    ),
    "answerplaces": Endpoint(
        "GET",
        "/api/configuration/{domain}/{user}/answerplaces",
        "inferred",
        f"004 ~8191-8212 'Read mapping for the possible devices the user can set up calls from'; {RULE_R}; "
        "{user} is the user call-back rings",
    ),
    # -- call forwarding (Diversion API) ---------------------------------------------------
    "diversion.active": Endpoint(
        "GET",
        "/api/diversion/{domain}/{userId}/active",
        "inferred",
        f"004 ~7849-7861 'Retrieves a user's active diversion number'; {RULE_R}",
    ),
    "diversion.active.set": Endpoint(
        "PUT",
        "/api/diversion/{domain}/{userId}/active",
        "inferred",
        f"004 ~7862-7883 'Sets a user's active diversion number'; {RULE_R}; 'Both POST and PUT can be used'; "
        "phoneNumber, activityScoped as query parameters",
    ),
    # -- calls ----------------------------------------------------------------------------
    "callback": Endpoint(
        "POST",
        "/api/calls/current/{domain}/{user}/{aptype}/{cid}",
        "seed",
        "004 ~1330-1384 'Set up a call-back call to the contact with the specified ID'; path: seed, the example "
        "URLs (~1333-1335) 'POST http://bcs.mydomain.com/api/calls/current/foo.com/alice/mobile/%2B468123456789"
        "?role=PRIVATE'; aptype 'should be a valid answerplace for the specified user' (~1350): from answerplaces",
        retry=False,
    ),
    # -- ACD / attendant groups -----------------------------------------------------------
    "acd.groups": Endpoint(
        "GET",
        "/api/user/acd-attendant-group/v1/{domain}/{user}",
        "public",
        "004 ~301-436 'List all ACD/ACD Light/Attendant groups for a user'; path: public:[P1],[P2],[P4] "
        "(notes §4 #2); that it is this current operation and not the deprecated one (~166) is the notes' reading",
    ),
    # Agent login/logout has two forms; see AGENT_LOGIN below for which one is used.
    "acd.agent": Endpoint(
        "POST",
        "/api/acd-attendant-group/v1/{domain}/{group}/agents/{agent}",
        "inferred",
        f"004 ~490-513 'To log in/log out an agent or attendant of an ACD/Attendant group'; {RULE_R}; the current "
        "form: the domain of the group's organisation, group, agent with domain, action",
    ),
    "acd.agent.deprecated": Endpoint(
        "POST",
        "/api/user/acd-attendant-group/{domain}/{user}/{group}/{group-domain}/agents/{agent}",
        "public",
        "004 ~514-549 'To log in/log out an agent or attendant of an ACD/Attendant group'; path: public:[P1],[P2],"
        "[P4] (notes §4 #4, #5), with ?action=; 'DEPRECATED and will be removed in future releases'",
    ),
    "queuestats.user": Endpoint(
        "GET",
        "/api/queuestatistics/user/{domain}/{user}",
        "inferred",
        f"004 ~1087-1127 'Retrieve queue statistics for a user who is authorized to supervise specific groups'; "
        f"{RULE_R}; the Supervisor licence (~979-984)",
    ),
    # -- alerts: group call log (Distribution Group API) and Communication Log -------------
    "calllog": Endpoint(
        "GET",
        "/api/user/distribution-group/{domain}/{user}/calllog",
        "inferred",
        f"004 ~634-700 'Get call log items for all ACD/Attendant groups available for the user'; {RULE_R}",
    ),
    "calllog.assign": Endpoint(
        "PUT",
        "/api/user/distribution-group/{domain}/{user}/calllog/{itemid}",
        "inferred",
        f"004 ~923-978 'Assign a call in a group call log to a user'; {RULE_R};"
        " body {state, note} (example ~946-948)",
    ),
    "commlog.list": Endpoint(
        "GET",
        "/api/commlog/{domain}/{userId}",
        "inferred",
        f"004 ~1574-1658 'List communication log items for a user'; {RULE_R}",
    ),
    "commlog.groupinbox": Endpoint(
        "GET",
        "/api/commlog/{domain}/{userId}/groupinbox",
        "inferred",
        f"004 ~1726-1756 'Read group inbox messages'; {RULE_R}",
    ),
    "commlog.mark": Endpoint(
        "PUT",
        "/api/commlog/{domain}/{userId}/{itemId}",
        "inferred",
        f"004 ~1522-1551 'Mark a specific communication log item as seen and/or played'; {RULE_R}; isSeen, "
        "isPlayed, updateCallItem as query parameters",
    ),
    # -- contacts -------------------------------------------------------------------------
    "contacts.list": Endpoint(
        "GET",
        "/api/contacts/list/{domain}/{user}",
        "public",
        "004 ~4810-4872 'Get a list of matching contacts for a user'; path: public:[P1] (notes §4 #6); that it is "
        "this operation is the notes' reading (same answer shape)",
    ),
}


@dataclass
class FormMemo:
    """Which of an operation's path forms a Dstny installation answers, remembered per process.

    ``forms`` are endpoint names, the current form first. Until one has worked, a caller tries
    them in order, moving on only when a form is answered 404 or 405 (the installation lacks
    it); once one has worked, only that one is used, so a later 404 (an unknown group) is an
    answer, not a reason to try the deprecated form. Keyed by the installation's base URL.
    """

    forms: tuple[str, ...]
    _working: dict[str, str] = field(default_factory=dict)

    def candidates(self, installation: str) -> tuple[str, ...]:
        """The forms to try, in order, at ``installation``."""
        known = self._working.get(installation)
        return (known,) if known is not None else self.forms

    def working(self, installation: str) -> str | None:
        """The form that worked at ``installation`` in this process, if any yet."""
        return self._working.get(installation)

    def remember(self, installation: str, form: str) -> None:
        """``form`` worked at ``installation``."""
        self._working[installation] = form

    def forget(self) -> None:
        """Forget every installation (tests)."""
        self._working.clear()


#: Statuses that mean "this installation has no such path form": try the next form.
MISSING_FORM_STATUSES = frozenset({404, 405})

#: ACD agent login/logout: the current operation (seed 004 ~490-513) first, the deprecated
#: six-parameter form (004 ~514-541, still what public scripts use) only when the current one
#: is answered 404/405. ``AGENT_LOGIN.working(base_url)`` says which one this process uses.
AGENT_LOGIN = FormMemo(("acd.agent", "acd.agent.deprecated"))
