"""The two bases the model modules share: a wire model that keeps unknown keys, and token counts."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _WireModel(BaseModel):
    """Base of the wire models: unknown keys are kept so a newer server still round-trips."""

    model_config = ConfigDict(extra="allow", frozen=False, populate_by_name=True)

    def _extras(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})


class _TokenCounts(BaseModel):
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    total_tokens: int = Field(default=-1)

    @model_validator(mode="after")
    def _default_total(self) -> Self:
        if self.total_tokens == -1:
            self.total_tokens = self.input_tokens + self.output_tokens
        if self.total_tokens < 0:
            raise ValueError("total_tokens must be >= 0")
        return self

    def __add__(self, other: _TokenCounts) -> Self:
        return type(self)(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )

    def to_wire(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
        }
