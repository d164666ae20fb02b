"""Errors of the logistics domain: stock, warehouses, shipments."""

from __future__ import annotations


class LogisticsError(Exception):
    """A logistics operation was refused."""

    field: str | None = None


class UnknownSku(LogisticsError):
    """No such SKU."""

    field = "sku"


class NotStockable(LogisticsError):
    """A set SKU has no stock of its own: stock its components."""

    field = "sku"


class UnknownWarehouse(LogisticsError):
    """No such warehouse."""

    field = "warehouse"


class InvalidQuantity(LogisticsError):
    """The quantity must be a positive whole number."""

    field = "qty"


class InsufficientStock(LogisticsError):
    """Not enough stock: on hand may not fall below zero or below what is reserved."""

    field = "qty"
