"""Ad mechanisms: MOSAIC inside generation, the power diagram after it, and none."""

from market.mechanisms import ad_free, mosaic, power_diagram

__all__ = ["ad_free", "mosaic", "power_diagram"]
