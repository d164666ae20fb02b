"""ARS self-ordering, pure: the menu as data (`ars_menu.toml`) and one call's session.

A session is driven by what the caller does (keys, silence) and answers with commands
(`Say`, `Collect`, `PlaceOrder`, `ToAgent`, `Hangup`) that the inbound service carries out
through the telephony port and the order capture. It holds what the caller chose; the
products on air, their options with stock, and the caller's registered payment methods
come in an `Offer` read when the call arrives. The order itself is placed by the service
through the same capture path as an agent's; the session only says what to order.
"""

from __future__ import annotations

import dataclasses
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dialer.errors import DialerError

MENU_FILE = Path(__file__).parent / "ars_menu.toml"
AGENT, HANGUP = "agent", "hangup"
# the named actions a step may run, and the results each may give
ACTIONS: Mapping[str, frozenset[str]] = {
    "recognise": frozenset({"ok", "unknown"}),
    "choose_product": frozenset({"ok", "invalid"}),
    "choose_option": frozenset({"ok", "single", "invalid", "out_of_stock"}),
    "choose_quantity": frozenset({"ok", "invalid", "too_many", "out_of_stock"}),
    "choose_payment": frozenset({"card", "cod", "invalid", "no_card"}),
    "check_last_digits": frozenset({"ok", "mismatch"}),
    "confirm": frozenset({"yes", "no", "invalid"}),
    "yes_no": frozenset({"yes", "no", "invalid"}),
    "place_order": frozenset({"placed", "out_of_stock", "refused"}),
    "end": frozenset({"ok"}),
}
MAX_DIGITS = 8
# what a step's text may name in braces
FIELDS = frozenset({"greeting", "product_list", "product", "option_list", "option", "max_qty",
                    "qty", "payment_list", "payment", "total", "order_id"})
DEFAULT_MAX_QTY = 9  # one key: 1-9


class MenuError(DialerError):
    """The ARS menu is not valid."""


# -- the menu --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Step:
    name: str
    say: str
    action: str
    on: Mapping[str, str]
    digits: int = 0  # keys to collect before the action runs (0: none)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Menu:
    name: str
    start: str
    agent_key: str
    digits_agent_key: str
    timeout_s: float
    retries: int
    steps: Mapping[str, Step]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "start": self.start, "agent_key": self.agent_key,
            "digits_agent_key": self.digits_agent_key,
            "timeout_s": self.timeout_s, "retries": self.retries,
            "steps": {s.name: {"say": s.say, "action": s.action, "on": dict(s.on),
                               "collect": {"digits": s.digits} if s.digits else None}
                      for s in self.steps.values()},
        }  # fmt: skip


def parse_menu(raw: Mapping[str, Any]) -> Menu:
    """A menu from its TOML/JSON shape, checked: every step reachable only through known
    actions, every result of an action leads somewhere that exists."""
    try:
        steps_raw = raw["steps"]
        if not isinstance(steps_raw, Mapping) or not steps_raw:
            raise MenuError("steps: at least one step")
        steps: dict[str, Step] = {}
        for name, body in steps_raw.items():
            action = str(body["action"])
            if action not in ACTIONS:
                raise MenuError(f"steps.{name}.action: unknown action {action!r}")
            on = {str(k): str(v) for k, v in dict(body.get("on", {})).items()}
            unknown = set(on) - ACTIONS[action]
            if unknown:
                raise MenuError(f"steps.{name}.on: {action} never gives {sorted(unknown)}")
            digits = int(dict(body.get("collect") or {}).get("digits", 0))
            if not 0 <= digits <= MAX_DIGITS:
                raise MenuError(f"steps.{name}.collect.digits: 0 to {MAX_DIGITS}")
            say = str(body["say"])
            named = {f for _, f, _, _ in string.Formatter().parse(say) if f is not None}
            if named - FIELDS:
                raise MenuError(f"steps.{name}.say: unknown {sorted(named - FIELDS)}; "
                                f"use {', '.join(sorted(FIELDS))}")
            steps[str(name)] = Step(name=str(name), say=str(body["say"]), action=action,
                                    on=on, digits=digits)
        for step in steps.values():
            for result, target in step.on.items():
                if target not in steps and target not in (AGENT, HANGUP):
                    raise MenuError(f"steps.{step.name}.on.{result}: no step {target!r}")
        menu = Menu(name=str(raw.get("name", "ARS")), start=str(raw["start"]),
                    agent_key=str(raw.get("agent_key", "0")),
                    digits_agent_key=str(raw.get("digits_agent_key", "*")),
                    timeout_s=float(raw.get("timeout_s", 6.0)),
                    retries=int(raw.get("retries", 2)), steps=steps)
    except (KeyError, TypeError, ValueError) as exc:
        raise MenuError(str(exc)) from exc
    if menu.start not in steps:
        raise MenuError(f"start: no step {menu.start!r}")
    for key in (menu.agent_key, menu.digits_agent_key):
        if len(key) != 1 or key not in "0123456789*#":
            raise MenuError("agent_key, digits_agent_key: one key each")
    if not 1.0 <= menu.timeout_s <= 60.0 or not 0 <= menu.retries <= 5:
        raise MenuError("timeout_s 1-60 and retries 0-5")
    return menu


def load_menu(path: Path = MENU_FILE) -> Menu:
    return parse_menu(tomllib.loads(path.read_text(encoding="utf-8")))


# -- what the session knows of the call ------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Option:
    sku_id: int
    label: str  # "블랙 / 95"
    unit_price_krw: int
    available: int  # units in stock when the call came


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Product:
    product_id: int
    name: str
    options: tuple[Option, ...]
    max_qty: int = DEFAULT_MAX_QTY  # the per-customer limit, if lower


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RegisteredPayment:
    id: int
    kind: str  # card
    label: str  # "신한카드"
    last4: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Offer:
    customer_id: int | None  # None: the number is not a customer (or withheld)
    customer_name: str
    can_deliver: bool  # the customer has an address to deliver to
    products: tuple[Product, ...]  # on air now, in the schedule's order (key 1 = first)
    payments: tuple[RegisteredPayment, ...]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OrderIntent:
    """What to order: placed by the service through the order capture."""

    idempotency_key: str
    customer_id: int
    sku_id: int
    qty: int
    payment: str  # "card" (a registered card) or "cod"
    payment_id: int | None


# -- commands the session gives --------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Say:
    step: str
    text: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Collect:
    """Wait for keys; call `timeout()` if none comes within `timeout_s` of the prompt end."""

    digits: int
    timeout_s: float


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class PlaceOrder:
    intent: OrderIntent


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ToAgent:
    reason: str  # "key_0", "timeout", "unknown_caller", a step's result ...


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Hangup:
    pass


Command = Say | Collect | PlaceOrder | ToAgent | Hangup


def won(amount: int) -> str:
    return f"{amount:,}"


class ArsSession:
    """One caller in the menu. Feed it `start()`, `key()`, `timeout()`, `order_result()`;
    each returns the commands to carry out, in order."""

    def __init__(self, menu: Menu, offer: Offer, *, call_id: str) -> None:
        self.menu, self.offer, self.call_id = menu, offer, call_id
        self.step: Step = menu.steps[menu.start]
        self.keys = ""
        self.repeats = 0
        self.product: Product | None = None
        self.option: Option | None = None
        self.qty = 0
        self.payment: RegisteredPayment | None = None
        self.cod = False
        self.order_id: int | None = None
        self.outcome: str | None = None  # "agent:<reason>", "order", "hangup"
        self.path: list[str] = []  # steps visited, for the ARS page and the tests

    # -- events ------------------------------------------------------------------------
    def start(self) -> list[Command]:
        return self._enter(self.menu.start)

    def key(self, digit: str) -> list[Command]:
        if self.outcome is not None:
            return []
        # a step that collects several keys (card digits) may start with 0: there the
        # caller reaches an agent with `digits_agent_key`
        agent_key = self.menu.agent_key if self.step.digits <= 1 else self.menu.digits_agent_key
        if digit == agent_key and not self.keys:
            return self._agent(f"key_{digit}")
        if not self.step.digits:
            return []  # a step that collects nothing ignores keys
        self.keys += digit
        if len(self.keys) < self.step.digits:
            return []
        keys, self.keys = self.keys, ""
        return self._act(keys)

    def timeout(self) -> list[Command]:
        if self.outcome is not None or not self.step.digits:
            return []
        self.keys = ""
        if self.repeats >= self.menu.retries:
            return self._agent("timeout")
        self.repeats += 1
        return self._say_and_collect()

    def order_result(self, *, placed: bool, order_id: int | None = None,
                     out_of_stock: bool = False) -> list[Command]:
        if placed:
            self.order_id = order_id
            return self._go("placed")
        return self._go("out_of_stock" if out_of_stock else "refused")

    # -- the menu's moves --------------------------------------------------------------
    def _enter(self, name: str) -> list[Command]:
        if name == AGENT:
            return self._agent(self.step.name)
        if name == HANGUP:
            self.outcome = self.outcome or "hangup"
            return [Hangup()]
        if self.step.name == name and self.path:  # the same step again: a wrong key
            self.repeats += 1
            if self.repeats > self.menu.retries:
                return self._agent(f"{name}:repeated")
        else:
            self.repeats = 0
        self.step = self.menu.steps[name]
        self.keys = ""
        self.path.append(name)
        if self.step.action == "choose_option" and self.product and len(
            self.product.options) == 1:
            return self._go(self._do_choose_option(""))  # nothing to choose
        if self.step.digits:
            return self._say_and_collect()
        commands: list[Command] = [Say(step=name, text=self._text())]
        return commands + self._act("")

    def _say_and_collect(self) -> list[Command]:
        return [Say(step=self.step.name, text=self._text()),
                Collect(digits=self.step.digits, timeout_s=self.menu.timeout_s)]

    def _go(self, result: str) -> list[Command]:
        target = self.step.on.get(result, AGENT)
        if target == AGENT:
            return self._agent(f"{self.step.name}:{result}")
        return self._enter(target)

    def _agent(self, reason: str) -> list[Command]:
        self.outcome = f"agent:{reason}"
        return [ToAgent(reason=reason)]

    def _act(self, keys: str) -> list[Command]:
        action = self.step.action
        if action == "place_order":
            if self.outcome is None and self.order_id is None:
                return [PlaceOrder(intent=self._intent())]
            return []
        result = getattr(self, f"_do_{action}")(keys)
        if action == "end":
            self.outcome = "order" if self.order_id is not None else "hangup"
        return self._go(result)

    # -- actions: keys -> result -------------------------------------------------------
    def _do_recognise(self, _keys: str) -> str:
        o = self.offer
        return "ok" if o.customer_id is not None and o.can_deliver and o.products else "unknown"

    def _do_choose_product(self, keys: str) -> str:
        index = int(keys) - 1 if keys.isdigit() else -1
        if not 0 <= index < len(self.offer.products):
            return "invalid"
        self.product = self.offer.products[index]
        self.option = None
        if len(self.product.options) == 1:
            self.option = self.product.options[0]
        return "ok"

    def _do_choose_option(self, keys: str) -> str:
        assert self.product is not None
        if len(self.product.options) == 1 and not keys:
            self.option = self.product.options[0]
            return "single" if self.option.available > 0 else "out_of_stock"
        index = int(keys) - 1 if keys.isdigit() else -1
        if not 0 <= index < len(self.product.options):
            return "invalid"
        self.option = self.product.options[index]
        return "ok" if self.option.available > 0 else "out_of_stock"

    def _do_choose_quantity(self, keys: str) -> str:
        assert self.product is not None
        assert self.option is not None
        qty = int(keys) if keys.isdigit() else 0
        if qty <= 0:
            return "invalid"
        if qty > self.product.max_qty:
            return "too_many"
        if qty > self.option.available:
            return "out_of_stock"
        self.qty = qty
        return "ok"

    def _do_choose_payment(self, keys: str) -> str:
        if keys == "1":
            if not self.offer.payments:
                return "no_card"
            self.cod = False
            return "card"
        if keys == "2":
            self.cod, self.payment = True, None
            return "cod"
        return "invalid"

    def _do_check_last_digits(self, keys: str) -> str:
        found = next((p for p in self.offer.payments if p.last4 == keys), None)
        if found is None:
            return "mismatch"
        self.payment = found
        return "ok"

    def _do_confirm(self, keys: str) -> str:
        return {"1": "yes", "2": "no"}.get(keys, "invalid")

    _do_yes_no = _do_confirm

    def _do_end(self, _keys: str) -> str:
        return "ok"

    # -- words -------------------------------------------------------------------------
    def _intent(self) -> OrderIntent:
        assert self.offer.customer_id is not None
        assert self.option is not None
        return OrderIntent(
            idempotency_key=f"ars:{self.call_id}", customer_id=self.offer.customer_id,
            sku_id=self.option.sku_id, qty=self.qty,
            payment="cod" if self.cod else "card",
            payment_id=None if self.cod or self.payment is None else self.payment.id,
        )  # fmt: skip

    @property
    def total_krw(self) -> int:
        return self.option.unit_price_krw * self.qty if self.option else 0

    def _text(self) -> str:
        o = self.offer
        fields = {
            "greeting": f"{o.customer_name} 고객님, 안녕하세요." if o.customer_name
            else "안녕하세요.",
            "product_list": " ".join(f"{i}번 {p.name}." for i, p in enumerate(o.products, 1)),
            "product": self.product.name if self.product else "",
            "option_list": " ".join(
                f"{i}번 {opt.label}{'(품절)' if opt.available <= 0 else ''}."
                for i, opt in enumerate(self.product.options if self.product else (), 1)),
            "option": self.option.label if self.option else "",
            "max_qty": str(self.product.max_qty if self.product else DEFAULT_MAX_QTY),
            "qty": str(self.qty),
            "payment_list": (f"등록하신 {o.payments[0].label}로 결제하시려면 1번, "
                             if o.payments else "") + "착불 현금 결제는 2번을 눌러 주세요.",
            "payment": "착불 현금 결제" if self.cod else (
                f"{self.payment.label} 끝자리 {self.payment.last4}" if self.payment else ""),
            "total": won(self.total_krw),
            "order_id": str(self.order_id or ""),
        }
        return self.step.say.format_map(fields)
