"""The sim carrier offers the same call controls and recordings as the ARI driver, so the
pages and the runtime work without Asterisk."""

from __future__ import annotations

import dataclasses
import wave
from pathlib import Path

import pytest

from dialer.errors import TelephonyError
from dialer.sim.scenario import CalleeMix, load_scenario
from dialer.telephony import events as ev
from dialer.telephony.port import MonitorMode, Originate
from dialer.telephony.sim import SimCarrier
from tests.integration.telephony.conftest import Recorder

ALL_LIVE = dataclasses.replace(load_scenario("steady-50"),
                               mix=CalleeMix(live=1.0, machine=0.0, busy=0.0, failed=0.0))


async def _sim(tmp_path: Path, sink: Recorder) -> SimCarrier:
    sim = SimCarrier(seed=3, time_scale=0.001, scenario=ALL_LIVE,
                     recordings_dir=tmp_path / "recordings")
    await sim.open(sink)
    for agent_id in (1, 2, 100):
        await sim.attach_agent(agent_id)
    return sim


async def _bridged(sim: SimCarrier, sink: Recorder, call_id: str, agent_id: int,
                   *, record: bool = False) -> None:
    await sim.originate(Originate(call_id=call_id, phone_e164="+821012345678",
                                  max_ring_s=30.0, record=record))
    await sink.wait(ev.Answered, call_id)
    await sim.bridge(call_id, agent_id=agent_id)


async def test_hold_mute_transfer_monitor(tmp_path: Path) -> None:
    sink = Recorder()
    sim = await _sim(tmp_path, sink)
    await _bridged(sim, sink, "tm-1-1", 1)
    await sim.hold("tm-1-1")
    assert sim.calls["tm-1-1"].held
    await sim.resume("tm-1-1")
    await sim.mute("tm-1-1", muted=True)
    assert sim.calls["tm-1-1"].muted
    await sim.transfer("tm-1-1", to_agent_id=2)
    assert sim.bridged["tm-1-1"] == 2
    assert not sim.calls["tm-1-1"].muted
    with pytest.raises(TelephonyError, match="no phone leg"):
        await sim.transfer("tm-1-1", to_agent_id=9)
    await sim.monitor(agent_id=2, supervisor_id=100, mode=MonitorMode.WHISPER)
    assert sim.monitors[100] == (2, MonitorMode.WHISPER)
    await sim.stop_monitor(100)
    assert 100 not in sim.monitors
    with pytest.raises(TelephonyError, match="connect your phone first"):
        await sim.monitor(agent_id=2, supervisor_id=101, mode=MonitorMode.LISTEN)
    await sim.hangup("tm-1-1")
    with pytest.raises(TelephonyError, match="not with an agent"):
        await sim.hold("tm-1-1")
    await sim.close()


async def test_a_recorded_call_leaves_a_file_named_by_the_call(tmp_path: Path) -> None:
    sink = Recorder()
    sim = await _sim(tmp_path, sink)
    await _bridged(sim, sink, "tm-4-77", 1, record=True)
    await _bridged(sim, sink, "tm-4-78", 1)
    await sim.hangup("tm-4-77")
    await sim.hangup("tm-4-78")
    done = await sink.wait(ev.RecordingDone, "tm-4-77")
    assert done.name == "tm-4-77"
    with wave.open(str(tmp_path / "recordings" / "tm-4-77.wav")) as w:
        assert w.getframerate() == 8000
    assert not (tmp_path / "recordings" / "tm-4-78.wav").exists()
    assert not sink.of(ev.RecordingDone, "tm-4-78")
    await sim.close()
