"""Every Dstny Core User API path the adapter uses, in one table.

Sources (see ``shared/vendors/dstny.md``): ``seed`` = the User API Redoc text, ``public`` =
public scripts calling ``https://bc.dstny.se/api/...`` ([P1]-[P4]), ``inferred`` = the notes'
layout rule ("rule R") applied to the seed's parameter names. Inferred paths are unverified:
when the OpenAPI file from https://user-api.dstny.se is at hand, fix them here and nowhere else.

Placeholders: ``domain`` = organisation domain, ``user`` = bare user id, ``cid`` = contact id
with domain (``alice@example.org``) or an E.164 number, ``group`` = integer ACD group id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.http import Endpoint

ENDPOINTS: dict[str, Endpoint] = {
    # -- presence of the ticket's own user (User Information API) -------------------------
    "presence.self": Endpoint(
        "GET", "/api/userinfo/presence/{domain}/{user}", "inferred", "rule R; op + response: seed"
    ),
    "presence.self.activity": Endpoint(
        "PUT", "/api/userinfo/presence/{domain}/{user}/activity", "inferred", "rule R; query activity, available: seed"
    ),
    "presence.self.expires": Endpoint(
        "PUT", "/api/userinfo/presence/{domain}/{user}/activity/expires", "inferred", "rule R; query expires: seed"
    ),
    # -- presence of another user (Contacts Information V1 API) ---------------------------
    "contact.info": Endpoint("GET", "/api/contacts/info/v1/{domain}/{cid}", "inferred", "rule R; op + response: seed"),
    "contact.activity": Endpoint(
        "PUT", "/api/contacts/info/v1/{domain}/{cid}/presence/activity", "inferred", "rule R; params: seed"
    ),
    "contact.expires": Endpoint(
        "PUT", "/api/contacts/info/v1/{domain}/{cid}/presence/activity/expires", "inferred", "rule R; params: seed"
    ),
    # -- end-user configuration -----------------------------------------------------------
    "activities": Endpoint(
        "GET", "/api/configuration/{domain}/{user}/activities", "inferred", "rule R; response: seed"
    ),
    "answerplaces": Endpoint(
        "GET",
        "/api/configuration/{domain}/{user}/answerplaces",
        "inferred",
        "rule R; op 'Read mapping for the possible devices the user can set up calls from', query language, "
        "response {answerplace: [{id, name}]}: seed 004 ~8191-8210; {user} is the user call-back rings",
    ),
    # -- call forwarding (Diversion API) ---------------------------------------------------
    "diversion.active": Endpoint(
        "GET",
        "/api/diversion/{domain}/{user}/active",
        "inferred",
        "notes 5.1 rule R; op 'Retrieves a user's active diversion number', response {diversion-number}: "
        "seed 004 ~7849-7861",
    ),
    "diversion.active.set": Endpoint(
        "PUT",
        "/api/diversion/{domain}/{user}/active",
        "inferred",
        "notes 5.1 rule R; op 'Sets a user's active diversion number. Both POST and PUT can be used', query "
        "phoneNumber (required), activityScoped ('cleared after a change of presence activity'): seed 004 ~7862-7885",
    ),
    # -- calls ----------------------------------------------------------------------------
    "callback": Endpoint(
        "POST",
        "/api/calls/current/{domain}/{user}/{aptype}/{cid}",
        "seed",
        "seed example URL (004 ~1333); aptype 'should be a valid answerplace for the specified user' (~1350): "
        "from answerplaces; rings the user's answer place first",
        retry=False,
    ),
    # -- ACD / attendant groups -----------------------------------------------------------
    "acd.groups": Endpoint(
        "GET", "/api/user/acd-attendant-group/v1/{domain}/{user}", "public", "public:P1,P2,P4; fields: seed"
    ),
    # Agent login/logout has two forms; see AGENT_LOGIN below for which one is used.
    "acd.agent": Endpoint(
        "POST",
        "/api/acd-attendant-group/v1/{domain}/{group}/agents/{agent}",
        "inferred",
        "op 'To log in/log out an agent or attendant of an ACD/Attendant group' with domain (of the group's "
        "organisation), group, agent (with domain), action login|logout (required): seed 004 ~490-513, "
        "the current form; path: notes 5.3 rule R",
    ),
    "acd.agent.deprecated": Endpoint(
        "POST",
        "/api/user/acd-attendant-group/{domain}/{user}/{group}/{group_domain}/agents/{agent}",
        "public",
        "public:P1,P2,P4; query action=login|logout; the same op with domain, user, group, group-domain, "
        "agent, action: seed 004 ~514-541, 'DEPRECATED and will be removed in future releases'",
    ),
    "queuestats.user": Endpoint(
        "GET", "/api/queuestatistics/user/{domain}/{user}", "inferred", "rule R; needs the Supervisor licence: seed"
    ),
    # -- alerts: group call log (Distribution Group API) and Communication Log -------------
    "calllog": Endpoint(
        "GET",
        "/api/user/distribution-group/{domain}/{user}/calllog",
        "inferred",
        "notes 5.3; query itemType (repeatable), since, olderThan, limit + response: seed",
    ),
    "calllog.assign": Endpoint(
        "PUT",
        "/api/user/distribution-group/{domain}/{user}/calllog/{itemid}",
        "inferred",
        "notes 5.3; body {state: UNHANDLED|INPROGRESS|HANDLED, note} + response: seed",
    ),
    "commlog.list": Endpoint(
        "GET",
        "/api/commlog/{domain}/{user}",
        "inferred",
        "notes 5.4; query itemType, since, limit; items wrapped in '.TypeName' keys: seed",
    ),
    "commlog.groupinbox": Endpoint(
        "GET", "/api/commlog/{domain}/{user}/groupinbox", "inferred", "notes 5.4; '.GroupInboxVoiceMailDTO': seed"
    ),
    "commlog.mark": Endpoint(
        "PUT",
        "/api/commlog/{domain}/{user}/{item}",
        "inferred",
        "notes 5.4; query isSeen, isPlayed, updateCallItem (all required): seed",
    ),
    # -- contacts -------------------------------------------------------------------------
    "contacts.list": Endpoint(
        "GET", "/api/contacts/list/{domain}/{user}", "public", "public:P1; query, maxResults, response: seed"
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
