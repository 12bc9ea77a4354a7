"""Which Slack workspaces phonebot is installed in, their tokens, and what happens when one leaves.

* :mod:`bot.installs.workspace` — the key of one installation (a workspace, or a whole Enterprise
  Grid org) and every store key scoped by it;
* :mod:`bot.installs.records` — Bolt's installation store and OAuth state store on phonebot's own
  store, tokens encrypted (:mod:`bot.secret_box`);
* :mod:`bot.installs.directory` — the installed workspaces one deployment serves: the one of
  ``SLACK_BOT_TOKEN``, or those installed through "Add to Slack";
* :mod:`bot.installs.authorize` — Bolt's per-request ``authorize``, the same for both;
* :mod:`bot.installs.oauth` — ``GET /slack/install`` and ``/slack/oauth_redirect``;
* :mod:`bot.installs.forget` — ``forget_workspace``: an uninstall or revoked token deletes it all;
* :mod:`bot.installs.scope_drift` — Slack answered ``missing_scope``: recorded per workspace, shown.
"""
