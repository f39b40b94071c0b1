"""Simulator of advertising markets around LLM chatbots."""

import warnings

from market.allocator import keep_freed_memory

__version__ = "0.1.0"

try:
    keep_freed_memory()
except ValueError as error:
    # The `market` command reports this as an error before it runs; a plain import only warns.
    warnings.warn(f"{error}; malloc is left as it is", stacklevel=2)
