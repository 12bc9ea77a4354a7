"""The alerts pipeline: receive → authenticate → validate → deduplicate → durable queue → route → render → Slack."""
