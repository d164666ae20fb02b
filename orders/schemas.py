"""Catalog input as the API and `telemart catalog import` take it (validated at the edge)."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from orders import catalog


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ComponentIn(Strict):
    sku: int | str = Field(description="id or code of a plain SKU")
    qty: int = Field(gt=0, le=100)


class VariantIn(Strict):
    code: str = Field(min_length=1, max_length=64)
    size: str | None = Field(default=None, max_length=40)
    color: str | None = Field(default=None, max_length=40)
    price_krw: int | None = Field(default=None, ge=0)
    components: list[ComponentIn] = Field(default_factory=list, max_length=20)


class ProductIn(Strict):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=64)
    price_krw: int = Field(ge=0)
    broadcast_price_krw: int | None = Field(default=None, ge=0)
    broadcast_from: AwareDatetime | None = None
    broadcast_until: AwareDatetime | None = None
    per_customer_limit: int | None = Field(default=None, gt=0)
    variants: list[VariantIn] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _window(self) -> ProductIn:
        if (
            self.broadcast_from
            and self.broadcast_until
            and self.broadcast_until <= self.broadcast_from
        ):
            raise ValueError("broadcast_until must be after broadcast_from")
        return self

    def spec(self) -> catalog.ProductSpec:
        return catalog.ProductSpec(
            code=self.code,
            name=self.name,
            category=self.category,
            price_krw=self.price_krw,
            broadcast_price_krw=self.broadcast_price_krw,
            broadcast_from=self.broadcast_from,
            broadcast_until=self.broadcast_until,
            per_customer_limit=self.per_customer_limit,
            variants=tuple(
                catalog.VariantSpec(
                    code=v.code,
                    size=v.size,
                    color=v.color,
                    price_krw=v.price_krw,
                    components=tuple(
                        catalog.ComponentSpec(sku=c.sku, qty=c.qty) for c in v.components
                    ),
                )
                for v in self.variants
            ),
        )
