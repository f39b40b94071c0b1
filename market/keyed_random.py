r"""Random numbers keyed by their inputs, so identical inputs give identical draws.

A key is the first 64 bits of SHA-256 over a seed and the bytes of one row of
each input array. Draws for a key come from the SplitMix64 output function
applied to (key, stream, counter):

.. math::

    z = \mathrm{mix}(k ⊕ \mathrm{mix}(s) + c·γ),\qquad u = \lfloor z / 2^{11} \rfloor · 2^{−53},

with γ = 0x9E3779B97F4A7C15 (Steele, Lea & Flood, "Fast splittable
pseudorandom number generators", OOPSLA 2014). Distinct streams s give
independent-looking draws for the same key, so candidates, helpfulness and
the final selection never share numbers. The draws are uniform on [0, 1) to
53 bits, so any expectation taken over them equals the one taken over a
numpy Generator's draws.
"""

import hashlib

import numpy as np

__all__ = ["derive_keys", "keyed_normals", "keyed_uniforms"]

GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)


def derive_keys(seed, *rows):
    """Return one uint64 key per row: SHA-256 over ``seed`` and that row of every array.

    Parameters
    ----------
    seed : int
        A non-negative seed (for example the platform's).
    *rows : array_like, each with Q rows
        Inputs the draws must depend on. Arrays are read as float64, so a
        value and its integer form give the same key.
    """
    if not rows:
        raise ValueError("derive_keys needs at least one array of inputs")
    n_rows = np.shape(rows[0])[0]
    columns = [np.asarray(array, dtype=np.float64).reshape(n_rows, -1) for array in rows]
    data = np.ascontiguousarray(np.concatenate(columns, axis=1))
    prefix = int(seed).to_bytes(16, "little", signed=False)
    keys = np.empty(n_rows, dtype=np.uint64)
    for index in range(n_rows):
        digest = hashlib.sha256(prefix + data[index].tobytes()).digest()
        keys[index] = np.frombuffer(digest[:8], dtype=np.uint64)[0]
    return keys


def keyed_uniforms(keys, shape, stream):
    """Return uniforms on [0, 1), shape (Q, *shape), determined by each key and the stream number."""
    keys = np.asarray(keys, dtype=np.uint64)
    shape = tuple(int(size) for size in np.atleast_1d(shape))
    counters = np.arange(int(np.prod(shape)), dtype=np.uint64).reshape(shape)
    with np.errstate(over="ignore"):
        stream_key = _mix(np.uint64(stream) * GOLDEN_GAMMA + GOLDEN_GAMMA)
        bits = _mix((keys.reshape((-1,) + (1,) * len(shape)) ^ stream_key) + counters * GOLDEN_GAMMA)
    return (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53


def keyed_normals(keys, shape, stream):
    """Return standard normal draws by the Box–Muller transform of two keyed uniform streams."""
    first = keyed_uniforms(keys, shape, 2 * stream)
    second = keyed_uniforms(keys, shape, 2 * stream + 1)
    radius = np.sqrt(-2.0 * np.log1p(-first))
    return radius * np.cos(2.0 * np.pi * second)


def _mix(z):
    """SplitMix64's output function on uint64 arrays (arithmetic wraps modulo 2^64)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * MIX_1
        z = (z ^ (z >> np.uint64(27))) * MIX_2
    return z ^ (z >> np.uint64(31))
