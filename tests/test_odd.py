"""docs/model.md, the ODD description, names every scenario parameter and only functions that exist."""

import dataclasses
import importlib
import re
from pathlib import Path

import pytest

from market.scenario import PlatformConfig, Scenario, default_scenario

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"
# A platform key is written `platforms.NAME.key` in the document, the form that --set takes.
PLATFORM_PREFIX = "platforms.NAME."
# Backticked dotted names rooted at the project's packages, e.g. `market.replies.relevance`.
CODE_REFERENCE = re.compile(r"`((?:market|agents)(?:\.\w+)+)`")


@pytest.fixture(scope="module")
def doc_text():
    return DOC.read_text(encoding="utf-8")


def leaf_keys(data, prefix=""):
    """Yield the dotted key of every leaf of ``Scenario.to_dict()``, with each platform key once."""
    for key, value in data.items():
        if isinstance(value, dict):
            yield from leaf_keys(value, f"{prefix}{key}.")
        elif key == "platforms" and not prefix:
            platform_keys = dict.fromkeys(name for platform in value for name in platform)
            yield from (f"{PLATFORM_PREFIX}{name}" for name in platform_keys)
        else:
            yield f"{prefix}{key}"


def field_keys(cls, prefix=""):
    """Yield the dotted key of every field of a scenario dataclass, optional fields included."""
    for spec in dataclasses.fields(cls):
        if dataclasses.is_dataclass(spec.type):
            yield from field_keys(spec.type, f"{prefix}{spec.name}.")
        elif spec.name == "platforms" and not prefix:
            yield from (f"{PLATFORM_PREFIX}{item.name}" for item in dataclasses.fields(PlatformConfig))
        else:
            yield f"{prefix}{spec.name}"


def resolves(dotted):
    """Return whether ``dotted`` names a module, or an attribute chain inside one."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


def test_default_keys_cover_platforms():
    keys = list(leaf_keys(default_scenario().to_dict()))

    assert "users.elasticity" in keys
    assert f"{PLATFORM_PREFIX}tau" in keys
    assert len(keys) == len(set(keys))


def test_odd_names_every_default_parameter(doc_text):
    keys = list(leaf_keys(default_scenario().to_dict()))

    missing = [key for key in keys if f"`{key}`" not in doc_text]

    assert missing == [], f"docs/model.md does not name these scenario keys in backticks: {missing}"


def test_odd_names_optional_parameters(doc_text):
    missing = [key for key in field_keys(Scenario) if f"`{key}`" not in doc_text]

    assert missing == [], f"docs/model.md does not name these scenario keys in backticks: {missing}"


def test_odd_cites_existing_functions(doc_text):
    references = sorted(set(CODE_REFERENCE.findall(doc_text)))

    unresolved = [reference for reference in references if not resolves(reference)]

    assert len(references) > 20
    assert unresolved == [], f"docs/model.md cites names that the code does not define: {unresolved}"
