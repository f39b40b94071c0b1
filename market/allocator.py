"""Keep freed heap memory in the process between the passes of a round.

A round allocates and frees many temporary arrays of 0.1 to 100 MB. By
default glibc's malloc gives large freed blocks back to the operating
system at once, so the next array of the same size has to be faulted in
again page by page. On a virtual machine a page fault is expensive: on the
2-core machine of ``docs/performance.md`` the default allocator took about
twice as long over a block of MOSAIC auctions. `keep_freed_memory` raises
glibc's thresholds (``mallopt``) so that freed blocks up to
``KEPT_BYTES`` stay in the heap for reuse.

Importing `market` calls it once. Set ``MARKET_KEEP_FREED_MEMORY=0`` to
leave the allocator as it is; on a C library other than glibc it does
nothing.
"""

import ctypes
import os
import platform

__all__ = ["keep_freed_memory", "requested"]

SWITCH_VARIABLE = "MARKET_KEEP_FREED_MEMORY"

# mallopt parameters from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

# Blocks up to 32 MiB (glibc's largest mmap threshold) come from the heap, freed memory up to 512 MiB
# stays there, and the heap grows by 64 MiB at a time.
MMAP_THRESHOLD_BYTES = 32 * 2**20
KEPT_BYTES = 512 * 2**20
TOP_PAD_BYTES = 64 * 2**20


def requested():
    """Return whether ``MARKET_KEEP_FREED_MEMORY`` requests keeping freed memory (unset means yes).

    Raises
    ------
    ValueError
        If the variable is set to anything but 0 or 1.
    """
    setting = os.environ.get(SWITCH_VARIABLE, "1")
    if setting not in ("0", "1"):
        raise ValueError(
            f"{SWITCH_VARIABLE}={setting!r} must be 0 (leave malloc as it is) or 1 (keep freed memory, the default)"
        )
    return setting == "1"


def keep_freed_memory():
    """Set glibc's malloc thresholds for reuse of freed memory; return whether they were set.

    Raises
    ------
    ValueError
        If ``MARKET_KEEP_FREED_MEMORY`` is set to anything but 0 or 1.
    """
    if not requested() or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL("libc.so.6")
    settings = ((M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES), (M_TRIM_THRESHOLD, KEPT_BYTES), (M_TOP_PAD, TOP_PAD_BYTES))
    return all(libc.mallopt(parameter, value) == 1 for parameter, value in settings)
