"""Self-service account links: which phone-system user a Slack user is, chosen by them or an admin.

* :mod:`bot.linking.links` — the links, one per Slack user per workspace, tokens sealed at rest.
"""
