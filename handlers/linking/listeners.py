"""Wire directory linking into the Bolt app: the Link button, the find modal, the App Home's People buttons.

Each listener acks first; vendor searches, store writes and Slack calls come after
(:mod:`handlers.linking.find`, :mod:`handlers.linking.people`).
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.context import Services
from handlers.errors import PICK_SELF_ACTION
from handlers.linking.find import open_find, search_listener, submit_listener
from handlers.linking.home import LINK_SOMEONE_ACTION
from handlers.linking.modal import CALLBACK_ID, SEARCH_ACTION
from handlers.linking.people import PEOPLE_ACTIONS, people_listener


def register_linking(app: AsyncApp, services: Services) -> None:
    """Attach the Link button, the find modal's search and submission, and the People buttons."""
    app.action(PICK_SELF_ACTION)(open_find(services, mode="self"))
    app.action(LINK_SOMEONE_ACTION)(open_find(services, mode="admin"))
    app.action(SEARCH_ACTION)(search_listener(services))
    app.view(CALLBACK_ID)(submit_listener(services))
    for action_id, (work, admin_only) in PEOPLE_ACTIONS.items():
        app.action(action_id)(people_listener(services, work, admin_only=admin_only))
