"""Linking people from Slack without OAuth: the find-yourself modal, approvals and the App Home's People section.

* :mod:`handlers.linking.modal` — the find-in-the-directory modal (a person, or an admin linking someone);
* :mod:`handlers.linking.home` — the App Home blocks (your link's buttons; for admins, People);
* :mod:`handlers.linking.listeners` — the Bolt listeners (``register_linking``).
"""
