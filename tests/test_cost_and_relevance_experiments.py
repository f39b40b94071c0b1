"""The inference_cost and relevance_weight experiments: files, hand-computed costs and trends."""

import json

import numpy as np
import pandas as pd
import pytest

from experiments import inference_cost, relevance_weight
from market.cli import main


def run_quick(name, out, *extra):
    return main(["run", name, "--quick", "--no-progress", "--out", str(out), *extra])


@pytest.fixture(scope="module")
def cost_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("inference_cost")
    status = run_quick("inference_cost", out)
    return status, out, json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def relevance_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("relevance_weight")
    status = run_quick("relevance_weight", out)
    return status, out, json.loads((out / "summary.json").read_text())


def test_inference_cost_writes_all_files(cost_run):
    status, out, summary = cost_run
    assert status == 0
    for name in inference_cost.FILES:
        assert (out / name).stat().st_size > 0
    assert (out / "break_even_vs_m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    expected = {"experiment", "default_setting", "statements", "largest_candidates_paid_for", "ad_prices_usd_cpm",
                "assumptions", "seeds", "parameters", "wall_seconds", "units", "provenance"}
    assert expected <= set(summary)
    assert set(summary["default_setting"]["results"]) == {"forward_passes", "token_forwards"}


def test_inference_cost_default_break_even_by_hand(cost_run):
    _, _, summary = cost_run
    setting = summary["default_setting"]
    assert (setting["candidates"], setting["advertisers"], setting["reply_tokens"]) == (20, 5, 300)
    forward, token = setting["results"]["forward_passes"], setting["results"]["token_forwards"]

    # Forward passes: MOSAIC 20·(300 + 5 + 1) = 6,120, plain 300, so 5,820 extra passes at
    # $0.02/300 each = $0.388 per query, and 1000 × $0.388 = $388 CPM.
    assert forward["mosaic_units"] == 6120
    assert forward["plain"]["extra_dollars_per_query"] == pytest.approx(0.388, rel=1e-12)
    assert forward["plain"]["break_even_cpm_per_impression"] == pytest.approx(388.0, rel=1e-12)
    # Against the post-response auction (300 + 1 passes): 5,819 × $0.02/300 × 1000 = $387.933… CPM.
    assert forward["post_response"]["break_even_cpm_per_impression"] == pytest.approx(5819 * 0.02 / 300 * 1000)

    # Token-forwards: MOSAIC 20·300·(5 + 2) = 42,000, plain 300, so 41,700 extra at $0.02/300
    # = $2.78 per query, and $2,780 CPM.
    assert token["mosaic_units"] == 42000
    assert token["plain"]["extra_dollars_per_query"] == pytest.approx(2.78, rel=1e-12)
    assert token["plain"]["break_even_cpm_per_impression"] == pytest.approx(2780.0, rel=1e-12)
    # Against the post-response auction (300 + 64 token-forwards): 41,636 × $0.02/300 × 1000.
    assert token["post_response"]["break_even_cpm_per_impression"] == pytest.approx(41636 * 0.02 / 300 * 1000)


def test_inference_cost_default_above_reported_prices(cost_run):
    _, _, summary = cost_run
    for accounting in ("forward_passes", "token_forwards"):
        plain = summary["default_setting"]["results"][accounting]["plain"]
        assert plain["above_60_usd_cpm"] is True
        assert plain["above_25_usd_cpm"] is True


def test_inference_cost_largest_paid_m(cost_run):
    _, _, summary = cost_run
    paid = summary["largest_candidates_paid_for"]
    # Forward passes at n = 5, L = 300: CPM(M) = (306·M − 300)·0.02/300·1000, which is 20.8 at M = 2,
    # 41.2 at M = 3 and 61.6 at M = 4.
    assert paid["forward_passes"]["25_usd_cpm"]["plain"] == 2
    assert paid["forward_passes"]["60_usd_cpm"]["plain"] == 3
    # Token-forwards: already (2,100 − 300)·0.02/300·1000 = $120 CPM at M = 1.
    assert paid["token_forwards"]["60_usd_cpm"]["plain"] is None


def test_inference_cost_break_even_grows_with_m(cost_run):
    _, out, _ = cost_run
    table = pd.read_csv(out / "costs.csv")
    for column in ("break_even_cpm_vs_plain", "break_even_cpm_vs_post_response"):
        for key, rows in table.groupby(["accounting", "advertisers", "reply_tokens"]):
            values = rows.sort_values("candidates")[column].to_numpy()
            assert np.all(np.diff(values) > 0), (column, key)


def test_inference_cost_sponsored_share_divides(tmp_path):
    status = run_quick("inference_cost", tmp_path, "--sponsored-share", "0.25", "--seeds", "3")
    assert status == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    plain = summary["default_setting"]["results"]["forward_passes"]["plain"]
    assert plain["break_even_cpm_per_sponsored_reply"] == pytest.approx(4 * plain["break_even_cpm_per_impression"])
    assert summary["seeds"]["used"] is False
    assert summary["seeds"]["ignored"] == {"seeds": 3}


def test_inference_cost_rejects_invalid_share(capsys):
    with pytest.raises(SystemExit):
        main(["run", "inference_cost", "--sponsored-share", "0"])
    assert "must be a share in (0, 1]" in capsys.readouterr().err


def test_relevance_weight_writes_all_files(relevance_run):
    status, out, summary = relevance_run
    assert status == 0
    for name in relevance_weight.FILES:
        assert (out / name).stat().st_size > 0
    expected = {"experiment", "headline", "comparison_with_published", "lambda_sweep", "gate_sweep",
                "gate_equivalence", "definitions", "parameters", "seeds", "published", "provenance"}
    assert expected <= set(summary)
    assert len(summary["seeds"]["replicate_seeds"]) == relevance_weight.QUICK_REPLICATES
    assert summary["comparison_with_published"]


def test_relevance_weight_efficiency_rises_from_zero(relevance_run):
    _, _, summary = relevance_run
    headline = summary["headline"]
    strongest = max(relevance_weight.RELEVANCE_WEIGHTS)
    at_zero = headline["value_efficiency_at_lambda_0"]["mean"]
    at_strongest = headline[f"value_efficiency_at_strongest_lambda_{strongest:g}"]["mean"]
    assert at_strongest > at_zero
    assert headline["efficiency_gain_lambda_0_to_strongest"]["ci95"][0] > 0


def test_relevance_weight_strict_gate_leaves_queries(relevance_run):
    _, _, summary = relevance_run
    assert summary["headline"]["no_ad_share_strict_gate_at_lambda_3.91"]["mean"] > 0


def test_relevance_weight_lambda_one_is_efficient(relevance_run):
    # With truthful bids the λ = 1 score is log v_i(x), so no λ delivers more Gaussian value.
    _, out, _ = relevance_run
    table = pd.read_csv(out / "replicates.csv")
    table = table[table["value_model"] == "gaussian"]
    for (replicate, gate), rows in table.groupby(["replicate", "gate"]):
        at_one = rows.loc[np.isclose(rows["relevance_weight"], 1.0), "value_efficiency"].item()
        assert rows["value_efficiency"].max() <= at_one + 1e-9, (replicate, gate)


def test_relevance_weight_gates_agree(relevance_run):
    _, _, summary = relevance_run
    gaps = summary["gate_equivalence"]["max_abs_difference"]
    assert gaps
    for pair, gap in gaps.items():
        assert gap < 1e-12, pair


def test_relevance_weight_workers_do_not_change_results():
    seeds = np.random.SeedSequence(7).spawn(2)
    serial = pd.DataFrame(relevance_weight.run_replicates(seeds, 300, workers=1, progress=False))
    pooled = pd.DataFrame(relevance_weight.run_replicates(seeds, 300, workers=2, progress=False))
    keys = ["replicate", "gate", "relevance_weight", "value_model"]
    pd.testing.assert_frame_equal(serial.sort_values(keys, ignore_index=True), pooled.sort_values(keys, ignore_index=True))
