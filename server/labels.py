"""Words for the codes the pages show: agent states, call outcomes, statuses, reasons.

Each label is English marked with N_ (the catalog holds its Korean). Templates call
`label("agent_state", code)`; page scripts read the same table, rendered once per page in
the page's language (`labels_json`), through `label(kind, code)` in `server/static/i18n.js`.
An unknown code shows as itself.
"""

from __future__ import annotations

import json
from functools import cache

from server.i18n import N_, current_language, gettext

LABELS: dict[str, dict[str, str]] = {
    "agent_state": {
        "offline": N_("Logged out"), "ready": N_("Ready"), "reserved": N_("Connecting"),
        "on_call": N_("On a call"), "wrap_up": N_("Wrap-up"), "paused": N_("Away"),
    },
    "pause_reason": {
        "break": N_("Break"), "lunch": N_("Lunch"), "training": N_("Training"),
        "meeting": N_("Meeting"), "technical": N_("Technical problem"),
        "disconnected": N_("Desktop disconnected"),
    },
    "outcome": {
        "queued": N_("Queued"), "dialing": N_("Dialing"), "ringing": N_("Ringing"),
        "answered_live": N_("Answered"), "answered_machine": N_("Answering machine"),
        "busy": N_("Busy"), "no_answer": N_("No answer"), "failed": N_("Failed"),
        "connected": N_("Connected"), "abandoned": N_("Abandoned"),
        "completed": N_("Completed"), "dropped": N_("Dropped"), "cancelled": N_("Cancelled"),
        "in_progress": N_("In progress"),
    },
    # The default dispositions (a campaign may name its own; those show as written).
    "disposition": {
        "sale": N_("Sale"), "no_sale": N_("No sale"), "callback": N_("Call back"),
        "no_answer": N_("No answer"), "busy": N_("Busy"), "do_not_call": N_("Do not call"),
        "wrong_number": N_("Wrong number"),
    },
    # Built-in pacing strategies (a custom one, "package.module:Class", shows as written).
    "pacing_strategy": {
        "preview": N_("Preview (agent dials)"), "progressive": N_("Progressive (one per agent)"),
        "ratio": N_("Fixed ratio"), "adaptive": N_("Adaptive"), "predictive": N_("Predictive"),
    },
    "campaign_status": {
        "draft": N_("Draft"), "running": N_("Running"), "paused": N_("Paused"),
        "stopped": N_("Stopped"),
    },
    "campaign_action": {
        "start": N_("Start"), "pause": N_("Pause"), "resume": N_("Resume"), "stop": N_("Stop"),
    },
    "order_status": {
        "placed": N_("Placed"), "paid": N_("Paid"), "preparing": N_("Preparing"),
        "shipped": N_("Shipped"), "delivered": N_("Delivered"), "cancelled": N_("Cancelled"),
        "expired": N_("Expired"),
    },
    "payment": {
        "cod": N_("Cash on delivery"), "virtual_account": N_("Virtual account"),
        "mobile": N_("Mobile payment"), "card": N_("Card"),
    },
    "shipment_status": {
        "pending": N_("Waiting for dispatch"), "info_received": N_("Label printed"),
        "in_transit": N_("In transit"), "out_for_delivery": N_("Out for delivery"),
        "attempt_fail": N_("Delivery failed"), "available_for_pickup": N_("At pickup point"),
        "delivered": N_("Delivered"), "exception": N_("Problem"),
        "returned_to_sender": N_("Returned to sender"), "expired": N_("Tracking expired"),
        "cancelled": N_("Cancelled"), "stale": N_("No news"),
    },
    "return_status": {
        "requested": N_("Requested"), "pickup_scheduled": N_("Pickup booked"),
        "in_transit": N_("On its way back"), "received": N_("Received"),
        "restocked": N_("Restocked"), "refunded": N_("Refunded"), "exchanged": N_("Exchanged"),
        "rejected": N_("Rejected"), "cancelled": N_("Cancelled"),
    },
    # What a button that moves a return to that status says.
    "return_action": {
        "pickup_scheduled": N_("Book pickup"), "in_transit": N_("Mark on its way"),
        "received": N_("Mark received"), "restocked": N_("Restock"),
        "refunded": N_("Refund"), "exchanged": N_("Send the exchange"),
        "rejected": N_("Reject"), "cancelled": N_("Cancel the return"),
    },
    "shipment_action": {
        "redelivery_date": N_("New delivery date agreed"), "address_fixed": N_("Address fixed"),
        "customer_called": N_("Customer called"),
    },
    # Inbound queues shipped by default (a queue someone adds shows under its own name).
    "inbound_queue": {"order-line": N_("Order line")},
    "inbound_queue_kind": {"order": N_("Orders"), "vip": N_("VIP"),
                           "service": N_("Customer service")},
    "inbound_callback_status": {"pending": N_("Waiting to be called"), "dialing": N_("Dialing")},
    "ars_outcome": {"order": N_("Ordered"), "hangup": N_("Ended without an order")},
    "ars_action": {
        "recognise": N_("Recognise the caller"), "choose_product": N_("Choose a product"),
        "choose_option": N_("Choose a size or colour"), "choose_quantity": N_("Choose a quantity"),
        "choose_payment": N_("Choose how to pay"),
        "check_last_digits": N_("Check the card's last digits"),
        "confirm": N_("Confirm the order"), "yes_no": N_("Yes or no"),
        "place_order": N_("Place the order"), "end": N_("End the call"),
    },
    "return_kind": {"return": N_("Return"), "exchange": N_("Exchange")},
    "refund_status": {
        "none": N_("—"), "not_applicable": N_("No refund"), "pending": N_("Refund due"),
        "refunded": N_("Refunded"),
    },
    "return_reason": {
        "changed_mind": N_("Changed their mind"),
        "not_as_advertised": N_("Not as advertised"), "defective": N_("Defective"),
        "wrong_item": N_("Wrong item sent"),
    },
    "exception_reason": {
        "attempt_fail": N_("Delivery attempt failed"), "exception": N_("Carrier reports a problem"),
        "stale": N_("No tracking news"), "returned_to_sender": N_("Returned to sender"),
        "expired": N_("Tracking expired"), "not_dispatched": N_("Not dispatched in time"),
    },
    "suppression": {
        "do_not_call": N_("On a do-not-call list"), "no_consent": N_("No marketing consent"),
        "night_window": N_("Night-only window, no night consent"),
        "invalid_phone": N_("Invalid phone"), "contacted_recently": N_("Contacted recently"),
        "other_active_campaign": N_("In another active campaign"),
        "already_in_campaign": N_("Already in this campaign"),
    },
    "role": {
        "agent": N_("Agent"), "supervisor": N_("Supervisor"), "marketer": N_("Marketer"),
        "logistics": N_("Logistics"), "admin": N_("Administrator"),
    },
    "gender": {"M": N_("Male"), "F": N_("Female"), "m": N_("Male"), "f": N_("Female")},
    "phone_type": {"mobile": N_("Mobile"), "landline": N_("Landline"), "voip": N_("Internet phone"),
                   "other": N_("Other"), "unknown": N_("Unknown line")},
    "consent_purpose": {"marketing": N_("Marketing"), "night_time": N_("Night-time calls")},
    "consent_channel": {"phone": N_("By phone"), "sms": N_("Text message"),
                        "email": N_("By email")},
    "dnc_list": {"national": N_("National do-not-call register"),
                 "financial": N_("Financial do-not-call register"),
                 "internal": N_("Our own do-not-call list")},
    "lead_status": {
        "new": N_("Not called yet"), "leased": N_("Being dialed"), "done": N_("Done"),
        "dnc": N_("Do not call"), "exhausted": N_("Attempts used up"),
    },
    "segment_kind": {"dynamic": N_("Dynamic"), "static": N_("Snapshot")},
    "monitor_mode": {"listen": N_("Listen"), "whisper": N_("Whisper"), "barge": N_("Barge in")},
    "journey_step": {
        "queued": N_("Queued"), "dialed": N_("Dialed"), "ringing": N_("Ringing"),
        "answered": N_("Answered"), "agent_connected": N_("Agent on line"),
        "pop_acked": N_("Screen shown"), "order_submitted": N_("Order sent"),
        "order_committed": N_("Order saved"), "transferred": N_("Transferred"),
        "ended": N_("Ended"),
    },
}  # fmt: skip


def label(kind: str, code: object) -> str:
    """The word for `code` in the current language; the code itself when unknown."""
    if code is None:
        return ""
    text = str(getattr(code, "value", code))
    found = LABELS.get(kind, {}).get(text)
    return gettext(found) if found else text


@cache
def _labels_json(lang: str) -> str:
    doc = {kind: {code: gettext(text) for code, text in table.items()}
           for kind, table in LABELS.items()}  # fmt: skip
    # A campaign's disposition labels are its own words; the defaults (English) are shown
    # in the page's language: label("disposition_label", d.label).
    doc["disposition_label"] = {text: gettext(text) for text in LABELS["disposition"].values()}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")


def disposition_label(text: str) -> str:
    """A campaign's disposition label: a default one in the current language."""
    return gettext(text) if text in LABELS["disposition"].values() else text


def labels_json() -> str:
    """Every table in the current language, for <script type="application/json">."""
    return _labels_json(current_language())
