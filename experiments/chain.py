"""The full chain: the default market run long enough to settle, with each claim's metric.

The scenario's market (by default the built-in one: a MOSAIC platform, an
embedding-auction platform and an ad-free platform) runs for ``--rounds``
rounds over several seeds. The experiment plots shares, τ, revenue,
inference cost and participation per round, and ties each of the seven
claims about MOSAIC in a market to one measured quantity:

1. inference cost: the MOSAIC platform's inference cost divided by its ad
   revenue over the run (above 1: ads do not pay for the compute);
2. τ: whether the τ the platform ran met three floors. Retention is its
   membership share over the last quarter of the run divided by its round-0
   share (≥ 0.8; ``tau_region`` instead divides by a no-ads run, which the
   chain does not make). Participation must reach 0.5 and profit per round 0;
3. erratic output: mean entropy of MOSAIC's allocation over its candidates,
   in bits (0 would mean the same candidates always give the same reply);
4. attribution: the correlation across brands and rounds between each
   brand's mention lift and its payment, and the audit failure rate when
   audits are sampled (``audit_rate`` in the scenario);
5. incumbency: incumbents' share of MOSAIC's incremental value minus their
   share of the embedding auction's;
6. adversarial rewards: MOSAIC's clutter share (replies naming two rivals)
   minus the ad-free platform's organic clutter share;
7. user exit: the change in MOSAIC's membership share from round 0 to the
   end, minus the ad-free platform's change.

Each verdict says whether the effect appeared: its 95 % interval over seeds
lies beyond the threshold given next to it. The thresholds are stated in the
summary; they are judgments, and the metrics are there to be read directly.
"""

import sys

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.options import add_output_arguments, add_scenario_arguments, resolve_scenario
from experiments.output import prepare_output, provenance, write_json
from experiments.runs import confidence_interval, replicate_seeds
from market.model import MarketModel

__all__ = ["DESCRIPTION", "add_arguments", "execute", "print_table", "run"]

DESCRIPTION = "run the full default market to settlement and measure each of the seven claims"
FILES = ("timeseries.csv", "brands.csv", "effects.csv", "summary.json", "chain.png")
DEFAULT_OUT = "results/chain"
FULL = {"users": 10_000, "rounds": 150, "seeds": 3}
QUICK = {"users": 400, "rounds": 6, "seeds": 2}
FLOORS = {"retention": 0.8, "participation": 0.5, "profit": 0.0}


def run(scenario, out, seeds, overwrite=False, progress=True):
    """Run the market for every seed, measure the seven effects and write the results."""
    from tqdm import tqdm

    out = prepare_output(out, FILES, overwrite)
    roles = platform_roles(scenario)
    seed_list = replicate_seeds(scenario.seed, seeds)

    platform_frames, brand_frames, effects = [], [], []
    for replicate, seed in enumerate(tqdm(seed_list, desc="chain", unit="run", disable=not progress)):
        model = MarketModel(scenario=scenario.with_overrides({"seed": seed}))
        for _ in range(scenario.rounds):
            model.step()
        table = model.timeseries().assign(replicate=replicate, seed=seed)
        brands = model.brand_timeseries().assign(replicate=replicate, seed=seed)
        platform_frames.append(table)
        brand_frames.append(brands)
        effects.append({"replicate": replicate, "seed": seed, **measure_effects(table, brands, roles)})

    timeseries = pd.concat(platform_frames, ignore_index=True)
    brands = pd.concat(brand_frames, ignore_index=True)
    effects = pd.DataFrame(effects)
    timeseries.to_csv(out / "timeseries.csv", index=False)
    brands.to_csv(out / "brands.csv", index=False)
    effects.to_csv(out / "effects.csv", index=False)

    summary = {
        "rounds": scenario.rounds,
        "seeds": seed_list,
        "roles": roles,
        "floors": FLOORS,
        "effects": verdicts(effects),
        "provenance": provenance(),
        "scenario": scenario.to_dict(),
    }
    write_json(out / "summary.json", summary)
    plot_chain(timeseries, out / "chain.png")
    return summary


def platform_roles(scenario):
    """Name the first MOSAIC, embedding and ad-free platforms of the scenario."""
    roles = {}
    for auction, role in (("mosaic", "mosaic"), ("embedding", "post_response"), ("none", "ad_free")):
        names = [platform.name for platform in scenario.platforms if platform.auction == auction]
        roles[role] = names[0] if names else None
    if roles["mosaic"] is None:
        from market.scenario import ScenarioError

        raise ScenarioError("the chain experiment needs a platform with auction = \"mosaic\" in the scenario")
    return roles


def measure_effects(table, brands, roles):
    """Return the seven claims' metrics for one run."""
    played = table[table["round"] >= 1]
    mosaic = played[played["platform"] == roles["mosaic"]]
    final_round = table["round"].max()
    half = final_round / 2

    def share_change(name):
        if name is None:
            return 0.0
        rows = table[table["platform"] == name].set_index("round")["membership_share"]
        return float(rows.loc[final_round] - rows.loc[0])

    def incumbent_value_share(name):
        if name is None:
            return float("nan")
        rows = brands[brands["platform"] == name]
        total = rows["incremental_value"].sum()
        return float(rows.loc[rows["incumbent"], "incremental_value"].sum() / total) if total > 0 else float("nan")

    mosaic_brands = brands[brands["platform"] == roles["mosaic"]]
    influence = mosaic_brands[["mention_lift", "spend"]]
    correlation = (
        float(np.corrcoef(influence["mention_lift"], influence["spend"])[0, 1])
        if len(influence) > 2 and influence["spend"].std() > 0 and influence["mention_lift"].std() > 0
        else float("nan")
    )
    audits = mosaic["audits"].sum()
    ad_free = played[played["platform"] == roles["ad_free"]] if roles["ad_free"] else mosaic.iloc[0:0]
    late = mosaic[mosaic["round"] > half]

    return {
        "cost_to_ad_revenue": float(mosaic["inference_cost"].sum() / max(mosaic["ad_revenue"].sum(), 1e-12)),
        "retention": retention(table, roles["mosaic"]),
        "participation": float(late["participation"].mean()),
        "profit_per_round": float(mosaic["profit"].mean()),
        "allocation_entropy_bits": float(mosaic["mean_entropy"].mean()),
        "lift_payment_correlation": correlation,
        "audit_failure_rate": float(mosaic["audit_failures"].sum() / audits) if audits else float("nan"),
        "incumbent_share_gap": incumbent_value_share(roles["mosaic"]) - incumbent_value_share(roles["post_response"]),
        "clutter_gap": float(mosaic["clutter_share"].mean() - (ad_free["clutter_share"].mean() if len(ad_free) else 0.0)),
        "share_change_gap": share_change(roles["mosaic"]) - share_change(roles["ad_free"]),
    }


def retention(table, name):
    """Return the platform's mean membership share over the last quarter of rounds over its round-0 share."""
    rows = table[table["platform"] == name]
    final_round = rows["round"].max()
    start = float(rows.loc[rows["round"] == 0, "membership_share"].iloc[0])
    late = float(rows.loc[rows["round"] > 0.75 * final_round, "membership_share"].mean())
    return late / start if start > 0 else float("nan")


# Each claim: its metric, the direction in which the effect shows, and the threshold.
CLAIMS = (
    ("1 inference cost", "cost_to_ad_revenue", "above", 1.0, "inference cost exceeds ad revenue"),
    ("2 tau: retention", "retention", "below", FLOORS["retention"], "the platform keeps too little of its users"),
    ("2 tau: participation", "participation", "below", FLOORS["participation"], "participation under its floor"),
    ("2 tau: profit", "profit_per_round", "below", FLOORS["profit"], "the platform loses money"),
    ("3 erratic output", "allocation_entropy_bits", "above", 0.5,
     "the returned reply is left to chance (over half a bit of entropy)"),
    ("4 attribution", "lift_payment_correlation", "below", 0.5,
     "payments track measured influence weakly (correlation under 0.5)"),
    ("4 audits", "audit_failure_rate", "above", 0.0,
     "sampled audits find mismatches (n/a unless the scenario sets platforms.NAME.audit_rate)"),
    ("5 incumbency", "incumbent_share_gap", "above", 0.0,
     "incumbents take more of MOSAIC's incremental value than of the post-response auction's"),
    ("6 adversarial", "clutter_gap", "above", 0.0, "MOSAIC names rivals together more than plain replies"),
    ("7 user exit", "share_change_gap", "below", 0.0, "MOSAIC loses share relative to the ad-free platform"),
)


def verdicts(effects):
    """Return, per claim, the metric's mean and 95 % interval over seeds and whether the effect appeared."""
    results = []
    for claim, metric, direction, threshold, meaning in CLAIMS:
        mean, low, high = confidence_interval(effects[metric])
        if not np.isfinite(mean):
            appeared = None
        elif not np.isfinite(low):
            appeared = bool(mean > threshold) if direction == "above" else bool(mean < threshold)
        else:
            appeared = bool(low > threshold) if direction == "above" else bool(high < threshold)
        results.append({
            "claim": claim,
            "metric": metric,
            "mean": mean,
            "ci": [low, high],
            "effect_if": f"{direction} {threshold:g}",
            "meaning": meaning,
            "appeared": appeared,
        })
    return results


def plot_chain(timeseries, path):
    """Plot shares, τ, revenue against cost, and participation per round (mean over seeds)."""
    figure = Figure(figsize=(13, 8))
    axes = figure.subplots(2, 2, sharex=True).ravel()
    means = timeseries.groupby(["platform", "round"], sort=False).mean(numeric_only=True).reset_index()
    for name, rows in means.groupby("platform", sort=False):
        style = {"linestyle": "--", "color": "grey"} if name == "outside" else {}
        axes[0].plot(rows["round"], rows["membership_share"], label=name, **style)
        if name == "outside":
            continue
        if rows["tau"].notna().any():
            axes[1].plot(rows["round"], rows["tau"], label=name)
        line = axes[2].plot(rows["round"], rows["revenue"], label=f"{name}: revenue")
        axes[2].plot(rows["round"], rows["inference_cost"], linestyle=":", color=line[0].get_color(),
                     label=f"{name}: inference cost")
        if rows["participation"].notna().any():
            axes[3].plot(rows["round"], rows["participation"], label=name)
    axes[0].set(ylabel="share of users holding the platform", ylim=(0, 1), title="Membership shares")
    axes[1].set(ylabel="τ ($)", title="τ of MOSAIC platforms")
    axes[2].set_yscale("symlog", linthresh=1.0)
    axes[2].set(ylabel="dollars per round (symlog)", title="Revenue vs inference cost")
    axes[3].set(ylabel="share of brands in the auction", ylim=(0, 1.05), title="Advertiser participation")
    axes[2].set_ylim(bottom=0)
    for axis in axes:
        axis.set_xlabel("round (week)")
        axis.tick_params(labelbottom=True)
        axis.legend(fontsize=7)
    figure.suptitle("The full market, mean over seeds")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def print_table(summary, stream=None):
    """Print each claim's metric, interval and verdict."""
    stream = sys.stdout if stream is None else stream
    print(f"{'claim':<22}{'metric':<26}{'mean':>11}{'95% CI':>26}  {'effect if':<12}appeared", file=stream)
    for effect in summary["effects"]:
        low, high = effect["ci"]
        interval = "n/a" if low is None or not np.isfinite(low) else f"[{low:.3g}, {high:.3g}]"
        mean = "n/a" if effect["mean"] is None or not np.isfinite(effect["mean"]) else f"{effect['mean']:.4g}"
        verdict = {True: "yes", False: "no", None: "n/a"}[effect["appeared"]]
        print(f"{effect['claim']:<22}{effect['metric']:<26}{mean:>11}{interval:>26}  {effect['effect_if']:<12}{verdict}",
              file=stream)


def add_arguments(parser):
    """Add this experiment's command-line options to ``parser``."""
    add_scenario_arguments(parser)
    add_output_arguments(parser, DEFAULT_OUT)
    parser.add_argument("--seeds", type=int, help=f"replicates (default {FULL['seeds']})")


def execute(arguments):
    """Run the experiment with the command line's options and return its summary."""
    size = QUICK if arguments.quick else FULL
    defaults = {"rounds": size["rounds"]}
    if arguments.quick:
        defaults["users.count"] = size["users"]
    scenario = resolve_scenario(arguments, defaults)
    return run(scenario, arguments.out, seeds=arguments.seeds or size["seeds"], overwrite=arguments.overwrite,
               progress=not arguments.no_progress)


def main(argv=None):
    """Entry point of ``python -m experiments.chain``."""
    from market.cli import main as cli_main

    return cli_main(["run", "chain", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
