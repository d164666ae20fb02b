"""The dialer domain's exceptions: one root, each docstring is its message."""

from __future__ import annotations

from config.errors import doc_message


class DialerError(Exception):
    """The dialer refused or failed an operation."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(doc_message(type(self), detail))
        self.detail = detail


class IllegalTransition(DialerError):
    """This state change is not allowed."""


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


class NoSuchCall(DialerError):
    """This agent has no such call."""


class TelephonyError(DialerError):
    """Telephony refused or failed the operation."""


class TelephonyUnavailable(TelephonyError):
    """The media server cannot be reached."""


class TelephonyConfigError(TelephonyError):
    """The telephony settings do not work."""
