"""The dialer domain's exceptions: one root, each docstring is its message."""

from __future__ import annotations

from config.errors import doc_message


class DialerError(Exception):
    """The dialer refused or failed an operation."""

    # What the agent desktop looks up in its catalog to say it in the agent's language
    # (the message stays English, for logs and the API). A raise site may be more precise.
    code = "refused"

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        super().__init__(doc_message(type(self), detail))
        self.detail = detail
        if code is not None:
            self.code = code


class IllegalTransition(DialerError):
    """This state change is not allowed."""

    code = "illegal_transition"


class UnknownStrategy(DialerError):
    """No pacing strategy by that name or import path."""


class ScenarioError(DialerError):
    """The pacing scenario file is not valid."""


class ComplianceSettingsError(DialerError):
    """The campaign's compliance settings break a legal minimum."""


class CampaignNotFound(DialerError):
    """No such campaign."""


class CampaignNotReady(DialerError):
    """The campaign cannot start yet."""


class CampaignClosed(DialerError):
    """The campaign is stopped and can no longer change."""


class AgentNotLoggedIn(DialerError):
    """This agent is not on the live dialer."""

    code = "not_logged_in"


class NoSuchCall(DialerError):
    """This agent has no such call."""

    code = "no_such_call"


class TelephonyError(DialerError):
    """Telephony refused or failed the operation."""


class TelephonyUnavailable(TelephonyError):
    """The media server cannot be reached."""


class TelephonyConfigError(TelephonyError):
    """The telephony settings do not work."""
