"""One workspace as one explicit context: its settings (kept in the store, set up from Slack), the config they
make together with the YAML file, and the adapters, identities and key scope built from it.

* :mod:`bot.workspaces.settings` — what an admin sets up in Slack for a workspace, sealed in the store;
* :mod:`bot.workspaces.effective` — that, layered under the YAML file: the config the workspace runs with.
"""
