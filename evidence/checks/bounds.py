"""Bounds on check parameters, declared in each check's parameter schema with `Annotated`.

    max_age_days: Days = 90                # 1 to 36,500
    ports: tuple[Port, ...] = (22, 3389)   # each 0 to 65535

The catalogue loader (catalog/params.py) enforces every bound it finds, so an impossible value
(a zero age, a port of 70000, 150 percent) is a configuration error naming file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated


@dataclass(frozen=True)
class Bounds:
    """Inclusive limits of an integer parameter, and why (shown in the error)."""

    minimum: int
    maximum: int
    why: str = ""

    def problem(self, value: int) -> str | None:
        if self.minimum <= value <= self.maximum:
            return None
        why = f" ({self.why})" if self.why else ""
        return f"expected {self.minimum} to {self.maximum}{why}, got {value}"


Days = Annotated[int, Bounds(1, 36_500, "days")]
Port = Annotated[int, Bounds(0, 65_535, "a TCP/UDP port")]
Percent = Annotated[int, Bounds(1, 100, "a percentage")]
Zones = Annotated[int, Bounds(1, 32, "availability zones")]
# IAM UpdateAccountPasswordPolicy accepts MinimumPasswordLength 6 to 128 and
# PasswordReusePrevention 1 to 24 (IAM API Reference, UpdateAccountPasswordPolicy): a requirement
# above those can never be met, one below 1 means nothing.
PasswordLength = Annotated[int, Bounds(1, 128, "IAM allows passwords of at most 128 characters")]
PasswordReuse = Annotated[int, Bounds(1, 24, "IAM remembers at most 24 passwords")]
