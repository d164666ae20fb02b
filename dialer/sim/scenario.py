"""Pacing scenario files (see scenarios/README in the shared docs) as frozen records."""

from __future__ import annotations

import dataclasses
import math
import random
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dialer.core.pacing.base import PacingSettings
from dialer.errors import ScenarioError

SCENARIO_DIR = Path(__file__).parent / "scenarios"
DEFAULT_SIGNAL_S = 2.0  # busy / failure signalled after this long unless the file says


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Dist:
    """A distribution of seconds: lognormal (mean/sd of the time itself), exponential,
    uniform, fixed, or a mixture of those (`parts`: weight and distribution, weights
    normalised to sum to 1)."""

    kind: str
    mean: float
    sd: float
    low: float = 0.0
    high: float = 0.0
    mu: float = 0.0  # lognormal: mean of the log
    sigma: float = 0.0  # lognormal: sd of the log
    parts: tuple[tuple[float, Dist], ...] = ()  # mixture: (cumulative weight, part)

    def sample(self, rng: random.Random) -> float:
        if self.kind == "lognormal":
            return rng.lognormvariate(self.mu, self.sigma)
        if self.kind == "exponential":
            return rng.expovariate(1.0 / self.mean)
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high)
        if self.kind == "mixture":
            u = rng.random()
            for upto, part in self.parts:
                if u < upto:
                    return part.sample(rng)
            return self.parts[-1][1].sample(rng)
        return self.mean

    @classmethod
    def mixture(cls, parts: Sequence[tuple[float, Dist]], where: str = "mixture") -> Dist:
        """Weights need not sum to 1; they are normalised. Mean and sd are the mixture's."""
        if not parts:
            raise ScenarioError(f"{where}: a mixture needs at least one part")
        total = sum(w for w, _ in parts)
        if any(w < 0 for w, _ in parts) or total <= 0:
            raise ScenarioError(f"{where}: mixture weights must be >= 0 with a positive sum")
        mean = sum(w * d.mean for w, d in parts) / total
        second = sum(w * (d.sd**2 + d.mean**2) for w, d in parts) / total
        cumulative, upto = [], 0.0
        for w, d in parts:
            upto += w / total
            cumulative.append((upto, d))
        return cls(kind="mixture", mean=mean, sd=math.sqrt(max(0.0, second - mean * mean)),
                   parts=tuple(cumulative))

    @classmethod
    def parse(cls, raw: Any, where: str) -> Dist:
        if isinstance(raw, int | float):
            return cls(kind="fixed", mean=float(raw), sd=0.0)
        if not isinstance(raw, Mapping) or "dist" not in raw:
            raise ScenarioError(f"{where}: expected {{ dist = ..., ... }}")
        kind = raw["dist"]
        try:
            if kind == "lognormal":
                mean, sd = float(raw["mean"]), float(raw["sd"])
                if mean <= 0 or sd < 0:
                    raise ScenarioError(f"{where}: lognormal needs mean > 0, sd >= 0")
                sigma2 = math.log1p((sd / mean) ** 2)
                return cls(kind=kind, mean=mean, sd=sd, mu=math.log(mean) - sigma2 / 2,
                           sigma=math.sqrt(sigma2))
            if kind == "exponential":
                mean = float(raw["mean"])
                if mean <= 0:
                    raise ScenarioError(f"{where}: exponential needs mean > 0")
                return cls(kind=kind, mean=mean, sd=mean)
            if kind == "uniform":
                low, high = float(raw["low"]), float(raw["high"])
                if high < low:
                    raise ScenarioError(f"{where}: uniform needs low <= high")
                return cls(kind=kind, mean=(low + high) / 2, sd=(high - low) / math.sqrt(12),
                           low=low, high=high)
            if kind == "fixed":
                return cls(kind=kind, mean=float(raw["value"]), sd=0.0)
            if kind == "mixture":
                raw_parts = raw["parts"]
                if not isinstance(raw_parts, list):
                    raise ScenarioError(f"{where}: parts = [{{ weight = W, dist = ... }}, ...]")
                parts = []
                for i, part in enumerate(raw_parts):
                    here = f"{where}.parts[{i}]"
                    if not isinstance(part, Mapping) or "weight" not in part:
                        raise ScenarioError(f"{here}: expected {{ weight = W, dist = ... }}")
                    inner = {k: v for k, v in part.items() if k != "weight"}
                    parts.append((float(part["weight"]), cls.parse(inner, here)))
                return cls.mixture(parts, where)
        except KeyError as exc:
            raise ScenarioError(f"{where}: {kind} needs {exc.args[0]!r}") from exc
        raise ScenarioError(f"{where}: unknown dist {kind!r}")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CalleeMix:
    live: float
    machine: float
    busy: float
    failed: float

    def __post_init__(self) -> None:
        parts = (self.live, self.machine, self.busy, self.failed)
        if min(parts) < 0 or sum(parts) > 1.0 + 1e-9:
            raise ScenarioError(f"callee mix must be probabilities summing to <= 1: {parts}")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    """At `at_s` the floor has `agents` logged in (paused agents count): agents log in, or
    the last to have logged in log out (a busy one after its call and wrap-up)."""

    at_s: float
    agents: int
    notice_s: float | None = None  # known this long ahead; None: from the shift's start


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Break:
    """`agents` agents pause for `for_s` (a busy one once its call and wrap-up are over),
    the first at `at_s`, the others spread evenly over `spread_s`; then they are back."""

    at_s: float
    agents: int
    for_s: float
    spread_s: float = 0.0
    notice_s: float | None = None  # known this long ahead; None: from the shift's start
    reason: str = "break"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Drift:
    at_s: float
    mix: CalleeMix


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Scenario:
    name: str
    description: str
    seed: int
    duration_s: float
    agents: int
    staffing_changes: tuple[Change, ...]
    breaks: tuple[Break, ...] = ()
    mix: CalleeMix
    drift: tuple[Drift, ...]
    answer_after: Dist
    busy_after: Dist
    failed_after: Dist
    talk: Dist
    wrap: Dist
    max_ring_s: float
    connect_window_s: float
    abandon_cap: float
    amd_s: float
    trunk_lines: int | None = None  # lines the carrier takes at once; None: no limit

    def pacing_settings(self) -> PacingSettings:
        return PacingSettings(abandon_cap=self.abandon_cap,
                              connect_window_s=self.connect_window_s,
                              max_ring_s=self.max_ring_s, amd_s=self.amd_s)

    def first_hours(self, hours: float | None) -> Scenario:
        """The shift cut to its first `hours` (None: whole); later staffing changes go."""
        if hours is None:
            return self
        duration_s = min(self.duration_s, hours * 3600.0)
        changes = tuple(c for c in self.staffing_changes if c.at_s < duration_s)
        return dataclasses.replace(self, duration_s=duration_s, staffing_changes=changes)

    @property
    def contacts_bound(self) -> float:
        """Contacts per agent-hour if agents never waited: 3600 / (E[talk] + E[wrap])."""
        return 3600.0 / (self.talk.mean + self.wrap.mean)


def _section(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ScenarioError(f"[{key}] must be a table")
    return value


def _notice(raw: Mapping[str, Any]) -> float | None:
    value = raw.get("notice_s")
    if value is None:
        return None
    notice = float(value)
    if notice < 0:
        raise ScenarioError("notice_s must be >= 0")
    return notice


def _changes(staffing: Mapping[str, Any]) -> tuple[Change, ...]:
    changes = []
    for c in staffing.get("changes", []):
        change = Change(at_s=float(c["at_s"]), agents=int(c["agents"]), notice_s=_notice(c))
        if change.agents < 0 or change.at_s < 0:
            raise ScenarioError("staffing.changes: at_s and agents must be >= 0")
        changes.append(change)
    return tuple(sorted(changes, key=lambda c: c.at_s))


def _breaks(staffing: Mapping[str, Any]) -> tuple[Break, ...]:
    breaks = []
    for b in staffing.get("breaks", []):
        entry = Break(at_s=float(b["at_s"]), agents=int(b["agents"]), for_s=float(b["for_s"]),
                      spread_s=float(b.get("spread_s", 0.0)), notice_s=_notice(b),
                      reason=str(b.get("reason", "break")))
        if entry.at_s < 0 or entry.agents < 0 or entry.for_s <= 0 or entry.spread_s < 0:
            raise ScenarioError("staffing.breaks: at_s, agents, spread_s >= 0 and for_s > 0")
        breaks.append(entry)
    return tuple(sorted(breaks, key=lambda b: b.at_s))


def parse_scenario(raw: Mapping[str, Any]) -> Scenario:
    staffing, callee = _section(raw, "staffing"), _section(raw, "callee")
    agent, rules = _section(raw, "agent"), _section(raw, "rules")
    try:
        mix = CalleeMix(live=float(callee["live"]), machine=float(callee.get("machine", 0)),
                        busy=float(callee.get("busy", 0)), failed=float(callee.get("failed", 0)))
        drift: list[Drift] = []
        for step in callee.get("drift", []):
            fields = {k: float(step.get(k, getattr(mix if not drift else drift[-1].mix, k)))
                      for k in ("live", "machine", "busy", "failed")}
            drift.append(Drift(at_s=float(step["at_s"]), mix=CalleeMix(**fields)))
        trunk = rules.get("trunk_lines")
        scenario = Scenario(
            name=str(raw.get("name", "unnamed")),
            description=str(raw.get("description", "")),
            seed=int(raw.get("seed", 1)),
            duration_s=float(raw["duration_s"]),
            agents=int(staffing["agents"]),
            staffing_changes=_changes(staffing),
            breaks=_breaks(staffing),
            mix=mix,
            drift=tuple(sorted(drift, key=lambda d: d.at_s)),
            answer_after=Dist.parse(callee["answer_after_s"], "callee.answer_after_s"),
            busy_after=Dist.parse(callee.get("busy_after_s", DEFAULT_SIGNAL_S), "busy_after_s"),
            failed_after=Dist.parse(callee.get("failed_after_s", DEFAULT_SIGNAL_S),
                                    "failed_after_s"),
            talk=Dist.parse(agent["talk_s"], "agent.talk_s"),
            wrap=Dist.parse(agent.get("wrap_s", 0.0), "agent.wrap_s"),
            max_ring_s=float(rules.get("max_ring_s", 20.0)),
            connect_window_s=float(rules.get("connect_window_s", 2.0)),
            abandon_cap=float(rules.get("abandon_cap", 0.03)),
            amd_s=float(rules.get("amd_s", 3.0)),
            trunk_lines=None if trunk is None else int(trunk),
        )
    except KeyError as exc:
        raise ScenarioError(f"missing key {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise ScenarioError(str(exc)) from exc
    if scenario.max_ring_s < 15.0:
        raise ScenarioError(f"max_ring_s must be >= 15 (got {scenario.max_ring_s})")
    if scenario.duration_s <= 0 or scenario.agents < 0:
        raise ScenarioError("duration_s must be > 0 and agents >= 0")
    if scenario.trunk_lines is not None and scenario.trunk_lines < 1:
        raise ScenarioError("trunk_lines must be >= 1")
    return scenario


def resolve_scenario_path(name_or_path: str) -> Path:
    """A file path, or a bare name such as `steady-50` from the bundled scenarios."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = SCENARIO_DIR / (name_or_path if name_or_path.endswith(".toml")
                              else f"{name_or_path}.toml")
    if bundled.is_file():
        return bundled
    known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
    raise ScenarioError(f"no scenario {name_or_path!r} (bundled: {known})")


def load_scenario(name_or_path: str) -> Scenario:
    path = resolve_scenario_path(name_or_path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    return parse_scenario(raw)


def bundled_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
