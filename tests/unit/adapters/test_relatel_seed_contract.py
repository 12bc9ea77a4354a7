"""The Relatel operations phonebot's queue login, Listen links and dial options use, held to the seed.

The seed is ``shared/seeds/000_1e86c17c83c34bee.txt``, a rendering of the Relatel API 2.1.2 Redoc
page with the paths stripped out. Each contract below quotes it (file, operation, approximate line)
and is checked twice: against the requests :class:`RelatelAdapter` really sends (recorded by the
simulator) and against :class:`RelatelSimulator` answering the seed's own example requests, so
neither side can drift from the document unnoticed. Where the seed is silent (the paths, who may
change a group) the test says so. When ``shared/`` is checked out beside the repository, every
quote is also looked up in the seed itself.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from adapters.models import UserTokens, VendorIdentity
from adapters.relatel import wire
from adapters.relatel.adapter import RelatelAdapter, RelatelConfig
from adapters.relatel.paths import ENDPOINTS
from adapters.relatel.simulator import ADMIN_TOKEN, BOB_TOKEN, RelatelSimulator
from adapters.simulation import LoopbackServer, RecordedRequest

SEED = "000_1e86c17c83c34bee.txt"

# -- the seed, quoted ------------------------------------------------------------------------
#: 000 ~281-311, "Employee groups": the create body and answer, then the update (id + body) and answer.
GROUP_UPDATE = (
    "Employee groups are collections of employees that can be used to dial or transfer to multiple employees at once.",
    "id required | integer Employee group ID |",
    "employee_group | object |",
)
#: The group object both answers show (000 ~290-298 and ~303-311), unwrapped.
SEED_GROUP = {
    "id": 0,
    "name": "string",
    "live_presence": "available",
    "speed_dial": {"digit": "string"},
    "employee_ids": [0],
}
#: The create body (000 ~283-289): the fields a group is written with.
SEED_GROUP_FIELDS = frozenset({"name", "employee_ids"})

#: 000 ~658-667, the dial operation.
DIAL = (
    "CAUTION: When using this API, please be aware that an actual call will be made every time the endpoint is called.",
    "to_number | string The number you want to dial. Should be prepended with country code. |",
    'restrict_to | string Enum: "" "web_call" "mobile" Can be empty, "web_call", or "mobile". '
    "If present, only rings on that device. |",
    "cloak_reception_id | string (Optional) If present, the phone number associated with this reception is used as "
    "the from-number. See the Reception documentation. |",
)
DIAL_FIELDS = frozenset({"to_number", "restrict_to", "cloak_reception_id"})
RESTRICT_TO = ("", "web_call", "mobile")
SEED_DIAL_ANSWER = {"message": "Call initiated successfully"}

#: 000 ~395-413, one voicemail (the answer after the list's, unwrapped); ~414 starts the update.
SEED_VOICEMAIL = {
    "id": 0,
    "created_at": "2019-08-24T14:15:22Z",
    "heard": True,
    "duration": 0,
    "endpoint": "string",
    "from_number": "string",
    "from_contact": {
        "id": 0,
        "name": "string",
        "number": "string",
        "number_formatted": "string",
        "email": "string",
        "tags": ["string"],
        "flagged": True,
        "comments_count": 0,
    },
    "message": "string",
    "comment": "string",
}
VOICEMAIL_UPDATE = ("id required | any The ID of the voicemail. |",)


def _seed_text() -> str | None:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "seeds" / SEED
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    return None


def _flat(text: str) -> str:
    """The seed's JSON examples as compact text: the Redoc render's '- ' bullets and breaks removed."""
    return "".join(text.replace("- ", "").split())


def test_every_quote_is_in_the_seed() -> None:
    seed = _seed_text()
    if seed is None:
        pytest.skip("shared/seeds is not checked out beside the repository")
    for quote in (*GROUP_UPDATE, *DIAL, *VOICEMAIL_UPDATE):
        assert quote in seed, quote
    flat = _flat(seed)
    for example in (SEED_GROUP, SEED_DIAL_ANSWER):
        assert _flat(json.dumps(example, separators=(",", ":"))) in flat, example
    assert _flat(json.dumps(SEED_VOICEMAIL, separators=(",", ":"))[:-1]) in flat  # the voicemail, unwrapped
    assert "/join" not in seed and "/leave" not in seed  # the 2014 membership routes are not in 2.1.2


# -- the contracts -----------------------------------------------------------------------------
def check_group_update(method: str, path: str, body: Any) -> None:
    """PUT of one group by integer id, body ``{"employee_group": {...}}`` with the seed's group fields only."""
    assert method == "PUT"
    prefix, _, group_id = path.rpartition("/")
    assert prefix.endswith("/employee_groups") and group_id.isdigit()  # "id required | integer"
    assert isinstance(body, dict) and list(body) == ["employee_group"]
    fields = body["employee_group"]
    assert isinstance(fields, dict) and set(fields) <= SEED_GROUP_FIELDS
    ids = fields.get("employee_ids", [])
    assert isinstance(ids, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in ids)  # [0]


def check_group_answer(body: Any) -> None:
    """The seed's group object, unwrapped, with every field it shows."""
    assert isinstance(body, dict) and set(SEED_GROUP) <= set(body)
    assert isinstance(body["employee_ids"], list)


def check_dial(body: Any) -> None:
    """Only the seed's fields; ``to_number`` a string of digits with the country code; ``restrict_to`` in the enum."""
    assert isinstance(body, dict) and set(body) <= DIAL_FIELDS and "to_number" in body
    number = body["to_number"]
    assert isinstance(number, str) and number.isdigit() and not number.startswith("00")  # "string", country code
    assert body.get("restrict_to", "") in RESTRICT_TO


def check_voicemail_answer(body: Any) -> None:
    assert isinstance(body, dict) and set(SEED_VOICEMAIL) <= set(body)


def test_the_checks_refuse_what_the_seed_does_not_show() -> None:
    for bad in (
        {"employee_ids": [1]},  # not wrapped
        {"employee_group": {"employee_ids": ["1"]}},  # ids are integers
        {"employee_group": {"members": [1]}},  # not a field of the group
    ):
        with pytest.raises(AssertionError):
            check_group_update("PUT", "/api/v2/employee_groups/20", bad)
    for bad_dial in ({"to_number": "+4571999999"}, {"to_number": "4571999999", "restrict_to": "desk"}, {"number": "1"}):
        with pytest.raises(AssertionError):
            check_dial(bad_dial)


def test_the_adapter_reads_the_seeds_own_examples() -> None:
    group = wire.parse_group(wire.unwrap_one(SEED_GROUP, "employee_group"))
    assert (group.id, group.employee_ids) == ("0", ("0",))
    assert wire.text(wire.unwrap_one(SEED_VOICEMAIL, "voice_mail"), "endpoint") == "string"
    assert wire.text(wire.unwrap_one({"voice_mail": SEED_VOICEMAIL}, "voice_mail"), "endpoint") == "string"  # FF-DOCS


def test_the_endpoint_table_says_where_each_row_comes_from() -> None:
    update = ENDPOINTS["employee_group.update"]
    assert (update.method, update.path, update.source) == ("PUT", "/employee_groups/{id}", "inferred")
    assert "seed 000 ~299-311" in update.note  # the operation is the seed's; its path the seed never prints
    assert "restrict_to" in ENDPOINTS["switch.dial"].note and "000 ~658-667" in ENDPOINTS["switch.dial"].note
    assert "000 ~395-413" in ENDPOINTS["voice_mail"].note
    for legacy in ("employee_group.join", "employee_group.leave"):
        assert "NOT in the v2.1.2 seed" in ENDPOINTS[legacy].note


# -- side 1: what the adapter sends --------------------------------------------------------------
@pytest.fixture(scope="module")
def sim() -> RelatelSimulator:
    return RelatelSimulator()


@pytest.fixture(scope="module")
def server(sim: RelatelSimulator) -> Iterator[LoopbackServer]:
    with LoopbackServer(sim.build_app()) as running:
        yield running


@pytest.fixture
async def adapter(server: LoopbackServer, sim: RelatelSimulator) -> AsyncIterator[RelatelAdapter]:
    sim.reset()
    relatel = RelatelAdapter(RelatelConfig(base_url=server.url + "/api/v2", token=ADMIN_TOKEN))
    yield relatel
    await relatel.aclose()


def _sent(sim: RelatelSimulator, method: str, suffix: str) -> list[RecordedRequest]:
    return [r for r in sim.requests if r.method == method and r.path.endswith(suffix)]


async def test_adapter_group_login_sends_the_seeds_update(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    bob = VendorIdentity(vendor="relatel", user_id="2", token=BOB_TOKEN)
    await adapter.queue_login(bob, "group:21", logged_in=True)
    await adapter.queue_login(bob, "group:20", logged_in=False)
    updates = [r for r in sim.requests if r.method == "PUT" and "/employee_groups/" in r.path]
    assert len(updates) == 2
    for request in updates:
        check_group_update(request.method, request.path, request.body)


async def test_adapter_dial_sends_the_seeds_body(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    for device in (None, "mobile", "web_call"):
        bob = VendorIdentity(vendor="relatel", user_id="2", token=BOB_TOKEN, dial_device=device)
        await adapter.dial(bob, "+45 71 99 99 99")
    dials = _sent(sim, "POST", "/switch/dial")
    assert len(dials) == 3
    for request in dials:
        check_dial(request.body)


async def test_adapter_reads_one_voicemail_before_its_sound(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    voicemail = sim.add_voicemail("4520000001", employee=2)
    await adapter.voicemail_audio(str(voicemail["id"]), owners=UserTokens(by_user={"2": SecretStr(BOB_TOKEN)}))
    [read] = _sent(sim, "GET", f"/voice_mails/{voicemail['id']}")
    assert read.body is None and not read.query


# -- side 2: the simulator answers the seed's requests as the seed shows ---------------------------
@pytest.fixture
async def http(server: LoopbackServer, sim: RelatelSimulator) -> AsyncIterator[httpx.AsyncClient]:
    sim.reset()
    async with httpx.AsyncClient(base_url=server.url + "/api/v2", timeout=5.0) as client:
        yield client


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


async def test_simulator_group_update_answers_the_seeds_group(http: httpx.AsyncClient, sim: RelatelSimulator) -> None:
    body = {"employee_group": {"name": "Support team", "employee_ids": [1, 3]}}
    check_group_update("PUT", "/api/v2/employee_groups/20", body)
    answer = await http.put("/employee_groups/20", json=body, headers=_as(ADMIN_TOKEN))
    assert answer.status_code == 200
    check_group_answer(answer.json())
    assert answer.json()["employee_ids"] == [1, 3] and sim.employee(3)["employee_group_ids"] == [21, 20]
    # The seed doesn't say who may; FF-DOCS: changing others' membership needs an admin.
    assert (await http.put("/employee_groups/20", json=body, headers=_as(BOB_TOKEN))).status_code == 403
    assert (
        await http.put("/employee_groups/20", json={"employee_ids": [1]}, headers=_as(ADMIN_TOKEN))
    ).status_code == 422


async def test_simulator_has_no_2014_membership_routes(http: httpx.AsyncClient) -> None:
    for action in ("join", "leave"):
        assert (await http.post(f"/employee_groups/20/{action}", headers=_as(BOB_TOKEN))).status_code == 404


async def test_simulator_dial_takes_the_seeds_body_and_enum(http: httpx.AsyncClient, sim: RelatelSimulator) -> None:
    for device in RESTRICT_TO:
        body = {"to_number": "4571999999", "restrict_to": device}
        check_dial(body)
        answer = await http.post("/switch/dial", json=body, headers=_as(BOB_TOKEN))
        assert answer.status_code == 200 and answer.json() == SEED_DIAL_ANSWER
    assert [d.restrict_to for d in sim.dials] == list(RESTRICT_TO)  # the simulator records the dial body
    refused = await http.post(
        "/switch/dial", json={"to_number": "4571999999", "restrict_to": "desk"}, headers=_as(BOB_TOKEN)
    )
    assert refused.status_code == 422 and len(sim.dials) == 3


async def test_simulator_one_voicemail_is_the_seeds_object(http: httpx.AsyncClient, sim: RelatelSimulator) -> None:
    voicemail = sim.add_voicemail("4520000001", employee=2)
    answer = await http.get(f"/voice_mails/{voicemail['id']}", headers=_as(ADMIN_TOKEN))
    assert answer.status_code == 200
    check_voicemail_answer(answer.json())
    assert answer.json()["endpoint"] == "Employee#2"
    # Only the mailbox's own user may fetch the sound (JENSEN relatel.ts; the seed is silent).
    sound = f"/voice_mails/{voicemail['id']}/sound"
    assert (await http.get(sound, headers=_as(ADMIN_TOKEN))).status_code == 403
    assert (await http.get(sound, headers=_as(BOB_TOKEN))).status_code == 200


SEED_PATH_WORDS = ("/employees/", "/voice_mails/", "employees/:id", "voice_mails/:id")


@pytest.mark.parametrize("operation", ["employee.update", "voice_mail.update"])
def test_rows_the_seed_prints_no_path_for_are_not_tagged_seed(operation: str) -> None:
    """Issue 10, point 9: 000 prints these operations (id + body) but never their paths."""
    from adapters.relatel.paths import ENDPOINTS

    seed = _seed_text()
    if seed is not None:
        assert not any(word in seed for word in SEED_PATH_WORDS)
    assert ENDPOINTS[operation].source != "seed"
    assert "no path" in ENDPOINTS[operation].note
