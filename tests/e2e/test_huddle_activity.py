"""Issue 12 point 5 over real HTTP: a Slack huddle sets the phone activity the workspace admin chose.

The admin saves the Set up "Slack status" modal (signed ``view_submission``) with a huddle activity; Alice,
with "Huddles put my phone on DND" on, joins a huddle (signed ``user_huddle_changed``) and the Dstny simulator
shows that activity (vendors/dstny.md §5.1 ``PUT .../presence/activity``), then what it showed before.
"""

from __future__ import annotations

import pytest

from handlers.setup.status_form import HUDDLE_BLOCK
from tests.e2e.conftest import RunningApp
from tests.e2e.test_setup_home import submit
from tests.e2e.test_slack_to_phone import huddle, switch_on
from tests.e2e.test_status_controls import ADMIN, installed, mapping_modal, statuses
from tests.e2e.test_status_sync import ALICE

__all__ = ["installed"]

pytestmark = pytest.mark.phonebot(oauth=True)


def test_a_huddle_sets_the_activity_the_admin_chose_and_a_bad_one_is_refused(installed: RunningApp) -> None:
    app = installed
    modal = mapping_modal(app, ADMIN)
    values = statuses("lunch :hamburger: Lunch")
    text = {"type": "plain_text_input"}
    bad = submit(app, modal, {**values, HUDDLE_BLOCK: {"value": {**text, "value": "available"}}}, ADMIN)
    assert bad["response_action"] == "errors" and "other than available" in bad["errors"][HUDDLE_BLOCK]
    saved = submit(app, modal, {**values, HUDDLE_BLOCK: {"value": {**text, "value": "meeting"}}}, ADMIN)
    assert saved["response_action"] == "update"

    switch_on(app, huddle_to_phone=True)
    alice = app.phones.dstny.presence_of("alice")
    huddle(app, ALICE, on=True)
    assert (alice.activity, alice.available, alice.expires) == ("meeting", False, None)
    huddle(app, ALICE, on=False)
    assert alice.activity == "available"
