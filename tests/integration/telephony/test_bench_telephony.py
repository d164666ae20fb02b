"""`telemart bench telephony` runs end to end on the ARI fake and prints its JSON last."""

from __future__ import annotations

import json

import pytest

from cli.main import main


def test_bench_telephony_on_the_fake(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "telephony", "--rate", "10", "--duration", "1", "--talk-s", "0.2",
                 "--agents", "6", "--json"])
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0
    assert last["driver"] == "ari-fake"
    assert last["calls"] == last["placed"] == 10
    assert last["failed"] == 0
    assert set(last["answer_to_bridge_ms"]) == {"p50", "p99", "p999"}
    assert last["answer_to_bridge_ms"]["p50"] is not None
    assert last["baseline"]["calls"] == 10
