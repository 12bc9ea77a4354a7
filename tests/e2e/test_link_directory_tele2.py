"""Issue 11 point 8 on Tele2 (Mobili Stotele): no per-user OAuth and no emails in its directory, so people
pick themselves from the employee list; with approval off the pick links at once and ``/call`` rings the
picked employee's phone (the simulator records ``POST /dial`` with that ``contactID``).
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import RunningApp
from tests.e2e.test_link_directory import ADMIN, STRANGER, button, click_home, open_home, open_modal, picked, submit

pytestmark = pytest.mark.phonebot(default_vendor="tele2", secret_key=True)


def test_a_tele2_employee_picks_themselves_and_call_rings_their_phone(app: RunningApp) -> None:
    off = click_home(app, ADMIN, button(open_home(app, ADMIN)["blocks"], "Turn approval off"))
    assert "Approval is now *off*" in str(off["blocks"])

    _, url = app.command("/call", "+37061999999", user=STRANGER)
    offer = app.reply(url)
    link = button(offer["blocks"], "Link your phone account")
    assert "url" not in link and app.phones.tele2.dials == []
    modal = open_modal(app, STRANGER, link)
    assert "Tele2" in str(modal["blocks"]) or "Mobili" in str(modal["blocks"])
    ack, searched = submit(app, STRANGER, modal["id"], {"query": {"link_search": {"value": "Jonas"}}})
    assert ack["response_action"] == "update" and "Jonas Petrauskas" in str(searched["blocks"])
    _, done = submit(app, STRANGER, modal["id"], picked("102", "Jonas"))
    assert "Done: you are linked as *Jonas Petrauskas*" in str(done["blocks"]), done["blocks"]

    _, url = app.command("/call", "+37061999999", user=STRANGER)
    assert "Calling" in app.reply(url)["text"]
    assert [(dial.contact_id, dial.destination) for dial in app.phones.tele2.dials] == [(102, "+37061999999")]
