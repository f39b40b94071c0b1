"""Scenario files: defaults, round trips and validation messages."""

import pytest

from market.scenario import (
    ScenarioError,
    default_scenario,
    dump_scenario,
    load_scenario,
    scenario_from_dict,
)


def write(tmp_path, text):
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_round_trip(tmp_path):
    scenario = default_scenario()
    assert load_scenario(write(tmp_path, dump_scenario(scenario))) == scenario


def test_default_market_shape():
    scenario = default_scenario()
    assert [platform.auction for platform in scenario.platforms] == ["mosaic", "embedding", "none"]
    assert [platform.initial_share for platform in scenario.platforms] == [0.46, 0.28, 0.10]
    assert scenario.platforms[0].generator == "context"
    assert scenario.platforms[0].candidates == 20
    assert scenario.users.count == 10_000
    assert scenario.rounds == 100


def test_partial_file_keeps_defaults(tmp_path):
    scenario = load_scenario(write(tmp_path, "[users]\nelasticity = 5\n"))
    assert scenario.users.elasticity == 5.0
    assert scenario.users.count == default_scenario().users.count


def test_platform_tables_replace_defaults(tmp_path):
    text = '[[platforms]]\nname = "solo"\nauction = "mosaic"\ninitial_share = 0.5\n'
    scenario = load_scenario(write(tmp_path, text))
    assert [platform.name for platform in scenario.platforms] == ["solo"]


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("[users]\nelasticty = 2\n", ["users.elasticty", "allowed keys", "elasticity"]),
        ("[users]\nelasticity = -1\n", ["users.elasticity", "-1.0", "0.0 <= elasticity"]),
        ("[users]\ncount = 2.5\n", ["users.count", "int", "2.5"]),
        ("[users]\ncount = true\n", ["users.count", "int", "bool"]),
        ('[[platforms]]\nauction = "banner"\n', ["platforms[0].auction", "banner", "mosaic, embedding, keyword, none"]),
        ("rounds = -3\n", ["rounds", "-3"]),
        ("[advertisers]\nincumbents_min = 3\nincumbents_max = 2\n", ["incumbents_min", "incumbents_max"]),
        ('[[platforms]]\nname = "a"\ninitial_share = 0.7\n[[platforms]]\nname = "b"\ninitial_share = 0.7\n',
         ["sum to 1.400"]),
        ('[[platforms]]\nname = "a"\n[[platforms]]\nname = "a"\n', ["unique"]),
        ("[users]\nneighbours = 3\n", ["users.neighbours", "even"]),
        ("[users\n", ["invalid TOML", "line 1"]),
        ("users = 3\n", ["'users' must be a table"]),
    ],
)
def test_bad_file_names_the_key(tmp_path, text, fragments):
    with pytest.raises(ScenarioError) as error:
        load_scenario(write(tmp_path, text))
    for fragment in fragments:
        assert fragment in str(error.value)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "absent.toml")


def test_overrides_by_dotted_key():
    scenario = default_scenario().with_overrides({"users.count": 50, "platforms.mosaic.tau": 0.2})
    assert scenario.users.count == 50
    assert scenario.platforms[0].tau == 0.2
    assert scenario.platforms[1].tau == default_scenario().platforms[1].tau


def test_override_unknown_platform():
    with pytest.raises(ScenarioError, match="no platform named 'nope'"):
        default_scenario().with_overrides({"platforms.nope.tau": 1.0})


def test_override_validates_value():
    with pytest.raises(ScenarioError, match="platforms\\[0\\].tau"):
        default_scenario().with_overrides({"platforms.mosaic.tau": -1.0})


def test_gate_is_optional():
    data = default_scenario().to_dict()
    data["platforms"][1]["gate"] = 0.5
    assert scenario_from_dict(data).platforms[1].gate == 0.5
    assert "gate" not in default_scenario().to_dict()["platforms"][1]
