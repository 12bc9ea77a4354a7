"""App Home **Set up** for workspace admins: phone systems, alert routes and queue thresholds from Slack.

``home_blocks`` builds the Home section, the ``*_form`` modules build and read the modals, ``probe``
tries a vendor with the settings typed in, ``changes`` are the edits of the stored settings, and
``listeners`` wires the clicks and submissions (``register_setup``). Every click and submission
re-checks that the user administers the workspace and that the view is this workspace's (``guard``).
"""
