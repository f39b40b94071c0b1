"""Ad mechanisms: MOSAIC inside generation, auctions after it (power diagram, keyword), and none.

gate_control contains a PID controller that tunes the power diagram's relevance gate toward a target ad rate.
"""

from market.mechanisms import ad_free, gate_control, keyword, mosaic, power_diagram

__all__ = ["ad_free", "gate_control", "keyword", "mosaic", "power_diagram"]
