"""Find a pacing strategy by built-in name or by `module:Class` import path."""

from __future__ import annotations

import importlib

from dialer.core.pacing.adaptive import Adaptive
from dialer.core.pacing.base import PacingSettings, PacingStrategy
from dialer.core.pacing.predictive import Predictive
from dialer.core.pacing.simple import Preview, Progressive, Ratio
from dialer.errors import UnknownStrategy

BUILT_IN: dict[str, type[PacingStrategy]] = {
    cls.name: cls for cls in (Preview, Progressive, Ratio, Adaptive, Predictive)
}


def strategy_class(name: str) -> type[PacingStrategy]:
    if name in BUILT_IN:
        return BUILT_IN[name]
    module_name, sep, class_name = name.partition(":")
    if not sep or not module_name or not class_name:
        raise UnknownStrategy(f"{name!r} (built-in: {', '.join(BUILT_IN)}; or module:Class)")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownStrategy(f"{name!r}: {exc}") from exc
    found = getattr(module, class_name, None)
    if not (isinstance(found, type) and issubclass(found, PacingStrategy)):
        raise UnknownStrategy(f"{name!r} is not a PacingStrategy subclass")
    return found


def load_strategy(name: str, settings: PacingSettings) -> PacingStrategy:
    return strategy_class(name)(settings)
