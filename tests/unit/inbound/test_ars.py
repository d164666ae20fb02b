"""Every key path of the ARS menu: an order, 0 at any step, timeouts that repeat then
reach an agent, wrong keys, out of stock, cancel, an unknown caller; menus are checked."""

from __future__ import annotations

import pytest

from dialer.inbound.ars import (
    ArsSession,
    Collect,
    Command,
    Hangup,
    MenuError,
    Offer,
    Option,
    PlaceOrder,
    Product,
    RegisteredPayment,
    Say,
    ToAgent,
    load_menu,
    parse_menu,
)

MENU = load_menu()
CARD = RegisteredPayment(id=7, kind="card", label="신한카드", last4="1234")
PAD = Product(product_id=1, name="겨울 패딩", max_qty=3, options=(
    Option(sku_id=11, label="블랙 95", unit_price_krw=89_000, available=5),
    Option(sku_id=12, label="네이비 100", unit_price_krw=89_000, available=0)))
MAT = Product(product_id=2, name="전기요", options=(
    Option(sku_id=21, label="기본", unit_price_krw=49_900, available=2),))


def session(**kw: object) -> ArsSession:
    offer = Offer(**{"customer_id": 5, "customer_name": "김민지", "can_deliver": True,  # type: ignore[arg-type]
                     "products": (PAD, MAT), "payments": (CARD,), **kw})
    s = ArsSession(MENU, offer, call_id="c1")
    s.start()
    return s


def press(s: ArsSession, keys: str) -> list[Command]:
    out: list[Command] = []
    for k in keys:
        out += s.key(k)
    return out


def test_menu_is_korean_and_greets_by_name() -> None:
    s = ArsSession(MENU, session().offer, call_id="x")
    first = s.start()
    assert isinstance(first[0], Say)
    assert first[0].text.startswith("김민지 고객님")
    assert isinstance(first[-1], Collect)


def test_card_order_path() -> None:
    s = session()
    out = press(s, "1" "1" "2" "1" "1234" "1")
    assert isinstance(out[-1], PlaceOrder)
    assert (out[-1].intent.sku_id, out[-1].intent.qty, out[-1].intent.payment_id) == (11, 2, 7)
    assert out[-1].intent.idempotency_key == "ars:c1"
    done = s.order_result(placed=True, order_id=42)
    assert isinstance(done[-1], Hangup)
    assert s.outcome == "order"


def test_single_option_product_skips_the_option_step_and_cod() -> None:
    s = session()
    out = press(s, "2")
    assert s.step.name == "quantity"
    assert "1부터 9까지" in out[0].text  # type: ignore[union-attr]
    out = press(s, "2" "2")
    assert s.step.name == "total"
    assert "착불" in out[-2].text  # type: ignore[union-attr]
    assert "99,800원" in out[-2].text  # type: ignore[union-attr]
    out = press(s, "1")
    assert isinstance(out[-1], PlaceOrder)
    assert out[-1].intent.payment == "cod"


@pytest.mark.parametrize("keys", ["", "1", "11", "112", "1121", "11211234"])
def test_zero_reaches_an_agent_at_any_step(keys: str) -> None:
    s = session()
    press(s, keys)
    before = s.step.name
    out = s.key("*" if s.step.digits > 1 else "0")
    assert out == [ToAgent(reason=f"key_{'*' if s.step.digits > 1 else '0'}")], before
    assert s.outcome is not None
    assert s.outcome.startswith("agent:")


def test_timeout_repeats_then_reaches_an_agent() -> None:
    s = session()
    first = s.timeout()
    assert isinstance(first[0], Say)
    assert first[0].step == "product"
    assert isinstance(s.timeout()[0], Say)
    assert s.timeout() == [ToAgent(reason="timeout")]


def test_wrong_keys_repeat_then_reach_an_agent() -> None:
    s = session()
    press(s, "9")
    assert s.step.name == "product_again"
    assert press(s, "8") == [ToAgent(reason="product_again:invalid")]
    s = session()
    press(s, "117")
    assert s.step.name == "quantity_limit"
    assert isinstance(press(s, "7")[-1], ToAgent)  # over the per-customer limit twice


def test_out_of_stock_offers_another_option_or_an_agent() -> None:
    s = session()
    out = press(s, "12")
    assert s.step.name == "sold_out"
    assert "네이비 100은 품절" in out[-2].text  # type: ignore[union-attr]
    press(s, "1")
    assert s.step.name == "option"
    press(s, "2")
    assert press(s, "2") == [ToAgent(reason="sold_out:no")]
    s = session()
    press(s, "2" "3")  # three mats, two in stock
    assert s.step.name == "sold_out"


def test_card_digits_mismatch_then_agent_and_no_card() -> None:
    s = session()
    press(s, "1" "1" "1" "1")
    press(s, "9999")
    assert s.step.name == "card_digits_again"
    assert press(s, "0000") == [ToAgent(reason="card_digits_again:mismatch")]
    s = session(payments=())
    out = press(s, "1" "1" "1" "1")
    assert s.step.name == "payment"
    assert "등록하신" not in out[0].text  # type: ignore[union-attr]


def test_cancel_then_goodbye_and_refused_order() -> None:
    s = session()
    press(s, "1" "1" "1" "2" "2")
    assert s.step.name == "cancelled"
    out = press(s, "2")
    assert isinstance(out[-1], Hangup)
    assert s.outcome == "hangup"
    s = session()
    press(s, "1" "1" "1" "2" "1")
    assert s.order_result(placed=False) == [ToAgent(reason="placing:refused")]


def test_unknown_caller_goes_to_an_agent() -> None:
    s = ArsSession(MENU, Offer(customer_id=None, customer_name="", can_deliver=False,
                               products=(PAD,), payments=()), call_id="u")
    assert s.start()[-1] == ToAgent(reason="welcome:unknown")


def test_menus_are_checked() -> None:
    raw = MENU.as_json()
    raw["steps"]["product"]["on"]["ok"] = "missing"
    with pytest.raises(MenuError, match="missing"):
        parse_menu(raw)
    raw = MENU.as_json()
    raw["steps"]["product"]["action"] = "format_disk"
    with pytest.raises(MenuError, match="unknown action"):
        parse_menu(raw)
    raw = MENU.as_json()
    raw["steps"]["product"]["say"] = "{secret}"
    with pytest.raises(MenuError, match="secret"):
        parse_menu(raw)
    assert parse_menu(MENU.as_json()) == MENU
