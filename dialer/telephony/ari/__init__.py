"""The Asterisk driver (`telephony = "ari"`): `client` (REST and the events websocket),
`stasis` (reading events), `driver` (the port), `amd` (voice-activity AMD),
`recordings` (stored recordings)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialer.errors import TelephonyConfigError, TelephonyUnavailable
from dialer.telephony.ari.client import AriClient
from dialer.telephony.ari.driver import AriPort, AriSettings, dial_string
from dialer.telephony.speech import check_speech, listen_address

if TYPE_CHECKING:
    from config.settings import Settings

__all__ = ["AriClient", "AriPort", "AriSettings", "ari_settings", "dial_string", "probe"]


def ari_settings(settings: Settings) -> AriSettings:
    """The driver's settings from Telemart's (TELEMART_ARI_*)."""
    return AriSettings(
        url=settings.ari_url, user=settings.ari_user,
        password=settings.ari_password.get_secret_value(), app=settings.ari_app,
        dial_template=settings.ari_dial_template, agent_endpoint=settings.ari_agent_endpoint,
        caller_id=settings.ari_caller_id, trunk_lines=settings.ari_trunk_lines,
        amd_context=settings.ari_amd_context, sounds=settings.ari_sounds,
        rtp_host=settings.ari_rtp_host, rtp_port=settings.ari_rtp_port,
        speech_url=settings.ari_speech_url, speech_listen=settings.ari_speech_listen,
        speech_voice=settings.ari_speech_voice,
    )  # fmt: skip


async def probe(settings: Settings) -> None:
    """Reach ARI with the settings, REST and the events websocket, and go: a wrong URL,
    user or password (or speech without espeak-ng and sox) raises `TelephonyConfigError`
    saying which setting to look at."""
    ari = ari_settings(settings)
    if ari.speech_url:  # the ARS's words need the speech tools and an address to serve from
        listen_address(ari.speech_url, ari.speech_listen)
        await check_speech(ari.speech_voice)
    client = AriClient(url=ari.url, user=ari.user, password=ari.password, app=ari.app)
    try:
        await client.check()
        try:
            ws = await client.connect_events()
        except TelephonyUnavailable as exc:
            raise TelephonyConfigError(f"ARI events at {client.events_url}: {exc.detail}"
                                       ) from exc
        await ws.close()
    finally:
        await client.close()

