"""What only phonebot admins may do: one policy that every handler asks.

A phonebot admin is a Slack user listed by user id under ``admins:`` in the config (user
groups are not read: the list is the whole truth, checked without a Slack call). Everyone
acts on their own phone identity and on alerts nobody has claimed; only admins may:

* **resolve or release an alert someone else has claimed** (taken with *I'll take it*, or
  by calling back): the claimer may too, everyone else is told who has it;
* **see and replay the dead-letter list from Slack** (``/phonebot dead``, ``/phonebot replay``);
* **act on another person's queues** (``/queue status|login|logout @user [queue]``). "Any
  queue" means any queue of any linked person, as their phone system lists it for them:
  nobody, admin or not, can put an agent in a queue their phone system doesn't list for
  them (that is phone-system configuration).

Each check returns a :class:`Decision`; a refusal carries a kind sentence for the user that
names who can help.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.config import PhonebotConfig
from bot.mrkdwn import mention

#: At most this many admins are named in a refusal ("ask a phonebot admin: …").
NAMED_ADMINS = 3


@dataclass(frozen=True)
class Decision:
    """Whether an action is allowed; ``reason`` says kindly why not (safe mrkdwn)."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Decision(True)


class AdminPolicy:
    """Who the phonebot admins are, and the rules that depend on it."""

    def __init__(self, admins: Iterable[str], *, slack_admins: bool = False) -> None:
        self.admins: tuple[str, ...] = tuple(dict.fromkeys(admins))
        #: The admins are the workspace's Slack admins and owners (a workspace the file doesn't set up).
        self.slack_admins = slack_admins

    @classmethod
    def of_slack_admins(cls, requester: str | None) -> AdminPolicy:
        """A workspace whose phonebot admins are its Slack admins and owners; ``requester`` when they are one."""
        return cls((requester,) if requester else (), slack_admins=True)

    @classmethod
    def from_config(cls, config: PhonebotConfig) -> AdminPolicy:
        """The policy for the configured ``admins:``."""
        return cls(config.admins)

    def is_admin(self, user_id: str) -> bool:
        """Whether ``user_id`` is a phonebot admin."""
        return user_id in self.admins

    def change_claimed_alert(self, user_id: str, owner: str | None, *, verb: str) -> Decision:
        """May ``user_id`` ``verb`` (resolve, release) an alert ``owner`` has claimed (``None``: nobody)?"""
        if owner is None or owner == user_id or self.is_admin(user_id):
            return ALLOWED
        return Decision(
            False,
            f":lock: {mention(owner)} has this one, so only they or a phonebot admin can {verb} it. "
            f"Ask {mention(owner)}, or {self.someone_who_can()}.",
        )

    def replay_dead_letters(self, user_id: str) -> Decision:
        """May ``user_id`` see and replay the alerts Slack never accepted?"""
        if self.is_admin(user_id):
            return ALLOWED
        return Decision(
            False,
            ":lock: Only phonebot admins can see and replay alerts that Slack never accepted. "
            f"If alerts seem to be missing, tell {self.someone_who_can()}.",
        )

    def act_for(self, user_id: str, target: str) -> Decision:
        """May ``user_id`` act on ``target``'s phone identity (their queue logins)?"""
        if target == user_id or self.is_admin(user_id):
            return ALLOWED
        return Decision(
            False,
            f":lock: You can act only on your own queues; doing it for {mention(target)} takes a "
            f"phonebot admin. Ask {mention(target)}, or {self.someone_who_can()}.",
        )

    def someone_who_can(self) -> str:
        """``a phonebot admin (<@U1>, <@U2>)``, or what to do when there is none."""
        if self.slack_admins:
            return "a workspace admin (this workspace's Slack admins and owners are its phonebot admins)"
        if not self.admins:
            return "whoever runs phonebot (no phonebot admins are configured yet: they go under `admins:`)"
        named = ", ".join(mention(admin) for admin in self.admins[:NAMED_ADMINS])
        more = f" and {len(self.admins) - NAMED_ADMINS} more" if len(self.admins) > NAMED_ADMINS else ""
        return f"a phonebot admin ({named}{more})"
