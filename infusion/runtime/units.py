"""Numbers and durations as a reader writes them: ``12,600 h (525 days)``, ``1.2 s``; never
scientific notation."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


def significant(value: float, digits: int = 3) -> str:
    """``value`` rounded to ``digits`` significant digits, with thousands separators and no
    exponent: 12634 -> ``12,600``, 0.03721 -> ``0.0372``, 7.0 -> ``7.00``."""
    if value == 0 or not math.isfinite(value):
        return f"{value:.0f}"
    places = digits - 1 - math.floor(math.log10(abs(value)))
    rounded = float(  # halves up, as a reader rounds (round() takes them to the even)
        Decimal(float(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    )
    if rounded and math.floor(math.log10(abs(rounded))) > math.floor(math.log10(abs(value))):
        places -= 1  # 999.6 -> 1,000: one digit more before the point, one fewer after
    return f"{rounded:,.{max(0, places)}f}"


def duration(seconds: float, digits: int = 2) -> str:
    """Seconds in the largest unit that keeps the number at least 1 (s, min, h, days), to
    ``digits`` significant digits: ``0.43 s``, ``12 s``, ``3.5 min``, ``2.0 h``, ``530 days``."""
    for unit, size in (("days", DAY), ("h", HOUR), ("min", MINUTE)):
        if seconds >= size:
            return f"{significant(seconds / size, digits)} {unit}"
    return f"{significant(seconds, digits)} s"


def hours_text(hours: float) -> str:
    """Hours to 3 significant digits, with the same time in days from two days up and in
    minutes or seconds below an hour: ``12,600 h (525 days)``, ``0.370 h (22.2 min)``."""
    text = f"{significant(hours)} h"
    if hours >= 48 or 0 < hours < 1:
        text += f" ({duration(hours * HOUR, 3)})"
    return text
