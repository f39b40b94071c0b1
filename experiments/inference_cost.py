r"""Incremental inference cost of MOSAIC and the ad price that would pay for it.

MOSAIC generates M candidate replies and scores each with the n advertisers'
reward models and π_ref. A plain reply is one generation, and the
post-response auction adds one embedding pass to it. This experiment computes
the extra dollars per query of MOSAIC against both, over grids of M, n and the
reply length L, with the counts of `market.costs`:

- forward passes: MOSAIC M·(L + n + 1), plain L, post-response L + 1;
- token-forwards: MOSAIC M·L·(n + 2), plain L, post-response L + E, where E
  is the number of tokens the embedding pass reads.

Dollars follow from either count with `market.costs.dollars`: one unit costs
c/L, where c is the cost of a plain query (default $0.02, the default
scenario's value: the midpoint of a reported $0.01–0.03 per-query estimate).
With ``--price-basis reply`` (the default, as in the simulator) c is the cost
of a plain reply at every L, so under token-forwards MOSAIC's extra cost per
query, c·(M·(n + 2) − 1), does not depend on L. With ``--price-basis token``
c is the cost of a plain reply of the reference length (``--reply-tokens``,
default 300), so each unit costs the same at every L and longer replies cost
more.

Break-even CPM. Assume one ad impression per query. MOSAIC's extra compute
is then paid for when an impression fetches

    break-even CPM = 1000 × (extra dollars per query)

dollars per thousand impressions. Against the post-response auction, which
also sells an impression per query, it is the premium MOSAIC's impression must
fetch over the post-response one. If only a share s of replies carries an ad
(``--sponsored-share``, default 1) but every query pays for the candidates,
each sponsored reply must fetch 1000 × (extra dollars per query) / s. The
figures mark the reported ChatGPT ad prices of $60 CPM at launch and about
$25 CPM ten weeks later (trade press, as reported in 2026).

The experiment draws no random numbers. It accepts ``--seeds`` and ``--seed``
so that every experiment takes the same options, ignores them, and records
that in the summary.

Outputs in the output folder:

- ``costs.csv``: one row per M, n, L and accounting with units, dollars,
  extra dollars and break-even CPMs against both baselines;
- ``summary.json``: parameters, assumptions, the default setting's break-even
  CPM per accounting against $60 and $25, the largest M that each price pays
  for, and provenance;
- ``break_even_vs_m.png``: break-even CPM against M for a few n (log axes);
- ``break_even_heatmap.png``: break-even CPM over (M, L) at the default n.

Run it as ``market run inference_cost`` or ``python -m experiments.inference_cost``.
"""

import argparse
import logging
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from tqdm import tqdm

from experiments.options import add_output_arguments
from experiments.output import prepare_output, provenance, write_json
from market import costs
from market.scenario import AdvertisersConfig, EmbeddingConfig, PlatformConfig

__all__ = [
    "AD_PRICES",
    "DESCRIPTION",
    "FILES",
    "Settings",
    "add_arguments",
    "break_even_cpm",
    "cost_table",
    "execute",
    "main",
    "print_table",
    "run",
]

logger = logging.getLogger(__name__)

DESCRIPTION = "compute MOSAIC's extra inference cost per query and the break-even CPM over M, n and L"
FILES = ("costs.csv", "summary.json", "break_even_vs_m.png", "break_even_heatmap.png")
DEFAULT_OUT = "results/inference_cost"

# Defaults follow the simulator's default scenario, so that both report the same setting.
_PLATFORM = PlatformConfig()
DEFAULT_CANDIDATES = _PLATFORM.candidates
DEFAULT_REPLY_TOKENS = _PLATFORM.reply_tokens
DEFAULT_COST_PER_QUERY = _PLATFORM.cost_per_query
DEFAULT_EMBEDDING_TOKENS = _PLATFORM.embedding_tokens
DEFAULT_ADVERTISERS = AdvertisersConfig().brands_per_category
DEFAULT_DIMENSION = EmbeddingConfig().dimension

CANDIDATE_GRID = tuple(range(1, 101))
ADVERTISER_GRID = tuple(range(1, 21))
REPLY_TOKEN_GRID = (100, 200, 300, 500, 750, 1000, 1500, 2000)
QUICK_CANDIDATE_GRID = (1, 2, 5, 10, 20, 50, 100)
QUICK_ADVERTISER_GRID = (1, 5, 20)
QUICK_REPLY_TOKEN_GRID = (100, 300, 2000)
# The n drawn as separate lines in break_even_vs_m.png (those on the grid).
PLOTTED_ADVERTISERS = (1, 5, 20)

# Reported ChatGPT ad prices in dollars per thousand impressions (trade press, as reported in 2026).
AD_PRICES = {"launch": 60.0, "ten_weeks_later": 25.0}
BASELINES = ("plain", "post_response")
BASELINE_LABELS = {"plain": "a plain reply", "post_response": "the post-response auction"}
ACCOUNTING_LABELS = {"forward_passes": "forward passes", "token_forwards": "token-forwards"}


@dataclass(frozen=True)
class Settings:
    """Grids and prices of one run, with money in dollars and lengths in tokens."""

    candidate_grid: tuple
    advertiser_grid: tuple
    reply_token_grid: tuple
    candidates: int
    advertisers: int
    reply_tokens: int
    embedding_tokens: int
    dimension: int
    cost_per_query: float
    sponsored_share: float
    price_basis: str
    quick: bool

    def plain_query_cost(self, reply_tokens):
        """Return the c to pass to `costs.dollars` at reply length L, under the chosen price basis."""
        if self.price_basis == "token":
            return self.cost_per_query * reply_tokens / self.reply_tokens
        return self.cost_per_query


def break_even_cpm(extra_dollars_per_query, sponsored_share=1.0):
    """Return the CPM that pays for ``extra_dollars_per_query`` when a share ``sponsored_share`` of replies has an ad."""
    return 1000.0 * np.asarray(extra_dollars_per_query, dtype=float) / sponsored_share


def cost_table(candidates, advertisers, reply_tokens, settings):
    """Return one row per (M, n) pair and accounting at reply length L, with units, dollars and break-even CPMs.

    Parameters
    ----------
    candidates, advertisers : array_like of int, shape (K,)
        M and n of each row, paired element by element.
    reply_tokens : int
        L.
    settings : Settings
    """
    candidates = np.asarray(candidates)
    advertisers = np.asarray(advertisers)
    n_rows = candidates.size
    query_cost = settings.plain_query_cost(reply_tokens)
    # mosaic_cost is elementwise in M and n, so one call prices every (M, n) pair.
    mosaic = costs.mosaic_cost(advertisers, candidates, reply_tokens)
    baselines = {
        "plain": costs.plain_cost(n_rows, reply_tokens),
        "post_response": costs.post_response_cost(advertisers, reply_tokens, settings.embedding_tokens,
                                                  settings.dimension),
    }
    frames = []
    for accounting in costs.ACCOUNTINGS:
        mosaic_dollars = costs.dollars(mosaic, accounting, query_cost, reply_tokens)
        frame = pd.DataFrame({
            "candidates": candidates,
            "advertisers": advertisers,
            "reply_tokens": reply_tokens,
            "accounting": accounting,
            "mosaic_units": getattr(mosaic, accounting),
            "mosaic_dollars": mosaic_dollars,
        })
        for name, baseline in baselines.items():
            baseline_dollars = costs.dollars(baseline, accounting, query_cost, reply_tokens)
            extra = mosaic_dollars - baseline_dollars
            frame[f"{name}_units"] = getattr(baseline, accounting)
            frame[f"{name}_dollars"] = baseline_dollars
            frame[f"extra_dollars_vs_{name}"] = extra
            frame[f"cost_multiple_vs_{name}"] = mosaic_dollars / baseline_dollars
            frame[f"break_even_cpm_vs_{name}"] = break_even_cpm(extra)
            frame[f"break_even_cpm_per_sponsored_reply_vs_{name}"] = break_even_cpm(extra, settings.sponsored_share)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def run(settings, out, overwrite=False, progress=True, ignored_seeds=None):
    """Compute the cost grid, write the four result files to ``out`` and return the summary."""
    out = prepare_output(out, FILES, overwrite)
    logger.info("inference_cost: %d M × %d n × %d L, c = $%g, s = %g, %s price basis -> %s",
                len(settings.candidate_grid), len(settings.advertiser_grid), len(settings.reply_token_grid),
                settings.cost_per_query, settings.sponsored_share, settings.price_basis, out)
    started = time.perf_counter()

    grid_candidates, grid_advertisers = (axis.ravel() for axis in np.meshgrid(
        settings.candidate_grid, settings.advertiser_grid, indexing="ij"))
    frames = []
    for reply_tokens in tqdm(settings.reply_token_grid, desc="reply lengths", unit="L", disable=not progress,
                             file=sys.stderr):
        frames.append(cost_table(grid_candidates, grid_advertisers, reply_tokens, settings))
    table = pd.concat(frames, ignore_index=True)
    table.to_csv(out / "costs.csv", index=False)

    summary = summarise(table, settings, ignored_seeds, time.perf_counter() - started)
    write_json(out / "summary.json", summary)
    plot_break_even_vs_m(table, settings, out / "break_even_vs_m.png")
    plot_heatmap(table, settings, out / "break_even_heatmap.png")
    return summary


def default_setting(settings):
    """Return, per accounting, the extra cost and break-even CPMs at the default (M, n, L)."""
    row_table = cost_table([settings.candidates], [settings.advertisers], settings.reply_tokens, settings)
    results = {}
    for _, row in row_table.iterrows():
        per_baseline = {}
        for name in BASELINES:
            per_impression = float(row[f"break_even_cpm_vs_{name}"])
            per_sponsored = float(row[f"break_even_cpm_per_sponsored_reply_vs_{name}"])
            per_baseline[name] = {
                "extra_dollars_per_query": float(row[f"extra_dollars_vs_{name}"]),
                "cost_multiple": float(row[f"cost_multiple_vs_{name}"]),
                "break_even_cpm_per_impression": per_impression,
                "break_even_cpm_per_sponsored_reply": per_sponsored,
                **{f"above_{price:g}_usd_cpm": per_sponsored > price for price in sorted(AD_PRICES.values(),
                                                                                         reverse=True)},
            }
        results[row["accounting"]] = {
            "mosaic_units": float(row["mosaic_units"]),
            "plain_units": float(row["plain_units"]),
            "post_response_units": float(row["post_response_units"]),
            **per_baseline,
        }
    return results


def largest_candidates_paid(settings, price, accounting, baseline="plain", max_candidates=1000):
    """Return the largest M in 1..max_candidates whose break-even CPM per sponsored reply is at most ``price``.

    Returns None when even M = 1 costs more, and ``max_candidates`` when no M up to it does.
    """
    candidates = np.arange(1, max_candidates + 1)
    rows = cost_table(candidates, np.full(candidates.size, settings.advertisers), settings.reply_tokens, settings)
    rows = rows[rows["accounting"] == accounting]
    paid = rows["candidates"][rows[f"break_even_cpm_per_sponsored_reply_vs_{baseline}"] <= price]
    return int(paid.max()) if not paid.empty else None


def summarise(table, settings, ignored_seeds, wall_seconds):
    """Return the summary: parameters, assumptions, the default setting against $60 and $25, and the paid-for M."""
    at_default = default_setting(settings)
    paid_for = {
        accounting: {
            f"{price:g}_usd_cpm": {baseline: largest_candidates_paid(settings, price, accounting, baseline)
                                   for baseline in BASELINES}
            for price in AD_PRICES.values()
        }
        for accounting in costs.ACCOUNTINGS
    }
    statements = []
    for accounting, figures in at_default.items():
        plain = figures["plain"]
        verdicts = " and ".join(
            f"{'above' if plain[f'above_{price:g}_usd_cpm'] else 'not above'} ${price:g}"
            for price in (AD_PRICES["launch"], AD_PRICES["ten_weeks_later"]))
        statements.append(
            f"{ACCOUNTING_LABELS[accounting]}: MOSAIC at M = {settings.candidates}, n = {settings.advertisers}, "
            f"L = {settings.reply_tokens} costs {plain['cost_multiple']:.1f} times a plain reply, "
            f"${plain['extra_dollars_per_query']:.4f} more per query, so an ad must fetch "
            f"${plain['break_even_cpm_per_sponsored_reply']:,.2f} CPM to pay for it ({verdicts}). "
            f"Against the post-response auction the premium is "
            f"${figures['post_response']['break_even_cpm_per_sponsored_reply']:,.2f} CPM."
        )
    return {
        "experiment": "inference_cost",
        "default_setting": {
            "candidates": settings.candidates,
            "advertisers": settings.advertisers,
            "reply_tokens": settings.reply_tokens,
            "results": at_default,
        },
        "statements": statements,
        "largest_candidates_paid_for": {
            "description": "largest M (searched over 1..1000) whose break-even CPM per sponsored reply is at most "
                           "the price, at the default n and L; null if even M = 1 costs more",
            **paid_for,
        },
        "ad_prices_usd_cpm": {**AD_PRICES, "source": "reported ChatGPT ad prices, trade press, as reported in 2026"},
        "assumptions": [
            "one ad impression per query, so the break-even CPM is 1000 × extra dollars per query",
            f"a share s = {settings.sponsored_share:g} of replies carries an ad and every query pays for the "
            "candidates, so the price per sponsored reply is the per-impression price divided by s",
            _price_basis_text(settings),
            f"the post-response auction reads E = {settings.embedding_tokens} tokens with an embedding model charged "
            "like the LLM per token-forward (market.costs), which overstates its cost",
            "the auction's own arithmetic (about 2·n·d flops) is left out of the dollar cost",
        ],
        "seeds": {
            "used": False,
            "ignored": ignored_seeds,
            "note": "the experiment is deterministic; --seeds and --seed are accepted so that every experiment "
                    "takes the same options, and ignored",
        },
        "parameters": {
            **{key: (list(value) if isinstance(value, tuple) else value) for key, value in asdict(settings).items()},
        },
        "wall_seconds": round(wall_seconds, 3),
        "units": {"money": "dollars", "cpm": "dollars per thousand impressions (or sponsored replies)",
                  "reply_tokens": "tokens"},
        "provenance": provenance(),
    }


def _price_basis_text(settings):
    """Return the price basis as a sentence, with how the extra cost per query then depends on L."""
    if settings.price_basis == "reply":
        return (f"a plain query costs c = ${settings.cost_per_query:g} at every L, and one unit of an accounting "
                "costs c/L. Against a plain reply, token-forwards then cost c·(M·(n + 2) − 1) extra per query at "
                "every L, and forward passes c·(M − 1) + c·M·(n + 1)/L, which falls with L")
    unit = settings.cost_per_query / settings.reply_tokens
    return (f"a plain reply of {settings.reply_tokens} tokens costs c = ${settings.cost_per_query:g}, so one unit "
            f"of an accounting costs ${unit:.3g} at every L, and the extra cost per query grows with L")


def _price_lines(axis):
    for (name, price), style in zip(AD_PRICES.items(), ("--", "-.")):
        label = "launch" if name == "launch" else "ten weeks later"
        axis.axhline(price, color="black", linestyle=style, linewidth=1,
                     label=f"reported ChatGPT ad price, {label}: ${price:g} CPM")


def _unit_label(settings):
    if settings.sponsored_share == 1.0:
        return "impressions"
    return f"sponsored replies, s = {settings.sponsored_share:g}"


def _share_label(settings):
    if settings.sponsored_share == 1.0:
        return "break-even CPM ($ per 1000 impressions, one per query)"
    return f"break-even CPM ($ per 1000 sponsored replies, s = {settings.sponsored_share:g})"


def plot_break_even_vs_m(table, settings, path):
    """Plot break-even CPM against M for a few n, one panel per accounting, at the default L (log axes)."""
    figure = Figure(figsize=(12, 5.4))
    axes = figure.subplots(1, 2, sharey=True)
    rows = table[table["reply_tokens"] == settings.reply_tokens]
    if rows.empty:
        rows = table[table["reply_tokens"] == min(settings.reply_token_grid, key=lambda L: abs(L - settings.reply_tokens))]
    reply_tokens = int(rows["reply_tokens"].iloc[0])
    advertisers = [n for n in PLOTTED_ADVERTISERS if n in settings.advertiser_grid] or [settings.advertiser_grid[0]]
    colours = ("tab:blue", "tab:orange", "tab:green", "tab:red")
    for axis, accounting in zip(axes, costs.ACCOUNTINGS):
        for colour, n in zip(colours, advertisers):
            selected = rows[(rows["accounting"] == accounting) & (rows["advertisers"] == n)].sort_values("candidates")
            axis.plot(selected["candidates"], selected["break_even_cpm_per_sponsored_reply_vs_plain"], color=colour,
                      label=f"n = {n}, against a plain reply")
            axis.plot(selected["candidates"], selected["break_even_cpm_per_sponsored_reply_vs_post_response"],
                      color=colour, linestyle=":", label=f"n = {n}, against the post-response auction")
        _price_lines(axis)
        axis.axvline(settings.candidates, color="grey", linestyle=":", linewidth=1,
                     label=f"default M = {settings.candidates}")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.grid(True, which="major", alpha=0.3)
        axis.set(xlabel="candidate replies per query M (log scale)",
                 title=f"{ACCOUNTING_LABELS[accounting]}: L = {reply_tokens} tokens, c = ${settings.cost_per_query:g}")
    axes[0].set_ylabel(f"{_share_label(settings)}, log scale")
    axes[0].legend(loc="upper left", fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def plot_heatmap(table, settings, path):
    """Plot break-even CPM over (M, L) at the default n, one panel per accounting, with $25 and $60 contours."""
    figure = Figure(figsize=(12, 5.0))
    axes = figure.subplots(1, 2)
    advertisers = settings.advertisers if settings.advertisers in settings.advertiser_grid else settings.advertiser_grid[0]
    rows = table[table["advertisers"] == advertisers]
    values = rows["break_even_cpm_per_sponsored_reply_vs_plain"]
    norm = LogNorm(vmin=max(values[values > 0].min(), 1e-3), vmax=values.max())
    for axis, accounting in zip(axes, costs.ACCOUNTINGS):
        grid = (rows[rows["accounting"] == accounting]
                .pivot(index="reply_tokens", columns="candidates", values="break_even_cpm_per_sponsored_reply_vs_plain")
                .sort_index().sort_index(axis=1))
        mesh = axis.pcolormesh(grid.columns, grid.index, grid.to_numpy(), norm=norm, cmap="viridis", shading="nearest")
        contours = axis.contour(grid.columns, grid.index, grid.to_numpy(), levels=sorted(AD_PRICES.values()),
                                colors="white", linestyles=("-.", "--"), linewidths=1.2)
        axis.clabel(contours, fmt=lambda price: f"${price:g}", fontsize=8)
        axis.plot([settings.candidates], [settings.reply_tokens], marker="*", color="red", markersize=12,
                  linestyle="none", label=f"default: M = {settings.candidates}, L = {settings.reply_tokens}")
        axis.set_xscale("log")
        axis.set(xlabel="candidate replies per query M (log scale)", ylabel="reply length L (tokens)",
                 title=f"{ACCOUNTING_LABELS[accounting]}, n = {advertisers}, against a plain reply")
        axis.legend(loc="upper right", fontsize=7)
        figure.colorbar(mesh, ax=axis, label=f"break-even CPM ($ per 1000 {_unit_label(settings)}, log scale)")
    # "\$" keeps matplotlib from reading the text between two dollar signs as mathtext.
    figure.suptitle(f"Break-even CPM over M and L; white contours at \\${AD_PRICES['ten_weeks_later']:g} and "
                    f"\\${AD_PRICES['launch']:g} CPM where the panel reaches them (price basis: {settings.price_basis})",
                    fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def print_table(summary, stream=None):
    """Print the default setting's extra cost and break-even CPM per accounting and baseline."""
    stream = sys.stdout if stream is None else stream
    setting = summary["default_setting"]
    share = summary["parameters"]["sponsored_share"]
    print(f"MOSAIC at M = {setting['candidates']}, n = {setting['advertisers']}, L = {setting['reply_tokens']}, "
          f"c = ${summary['parameters']['cost_per_query']:g} per plain query, sponsored share s = {share:g}",
          file=stream)
    header = (f"{'accounting':<16}{'against':<15}{'MOSAIC units':>14}{'extra $/query':>15}{'CPM/impr.':>12}"
              f"{'CPM/sponsored':>15}{'> $60':>7}{'> $25':>7}")
    print(header, file=stream)
    for accounting, figures in setting["results"].items():
        for name in BASELINES:
            result = figures[name]
            print(f"{ACCOUNTING_LABELS[accounting]:<16}{name.replace('_', '-'):<15}{figures['mosaic_units']:>14,.0f}"
                  f"{result['extra_dollars_per_query']:>15.4f}{result['break_even_cpm_per_impression']:>12,.2f}"
                  f"{result['break_even_cpm_per_sponsored_reply']:>15,.2f}"
                  f"{'yes' if result['above_60_usd_cpm'] else 'no':>7}{'yes' if result['above_25_usd_cpm'] else 'no':>7}",
                  file=stream)
    paid = summary["largest_candidates_paid_for"]
    for accounting in ACCOUNTING_LABELS:
        print(f"largest M paid for against a plain reply ({ACCOUNTING_LABELS[accounting]}): "
              f"{_m_text(paid[accounting]['60_usd_cpm']['plain'])} at $60 CPM, "
              f"{_m_text(paid[accounting]['25_usd_cpm']['plain'])} at $25 CPM", file=stream)
    if summary["seeds"]["ignored"]:
        print(f"note: {summary['seeds']['note']}", file=stream)
    print(f"wall time: {summary['wall_seconds']:.1f} s", file=stream)


def _m_text(value):
    return "none (even M = 1 costs more)" if value is None else f"M = {value}"


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def _non_negative_float(text):
    value = float(text)
    if not value >= 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _share(text):
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share in (0, 1], got {text}")
    return value


def add_arguments(parser):
    """Add this experiment's command-line options to ``parser``."""
    add_output_arguments(parser, DEFAULT_OUT)
    parser.add_argument("--cost-per-query", type=_non_negative_float, default=DEFAULT_COST_PER_QUERY, metavar="DOLLARS",
                        help=f"inference cost of one plain reply in dollars (default: {DEFAULT_COST_PER_QUERY:g})")
    parser.add_argument("--sponsored-share", type=_share, default=1.0, metavar="S",
                        help="share of replies that carry an ad, in (0, 1] (default: 1)")
    parser.add_argument("--price-basis", choices=("reply", "token"), default="reply",
                        help="'reply': the cost per query is the cost of a plain reply at every L; 'token': it is the "
                             "cost of a plain reply of --reply-tokens tokens, and each token costs the same at every L "
                             "(default: reply)")
    parser.add_argument("--candidates", type=_positive_int, default=DEFAULT_CANDIDATES, metavar="M",
                        help=f"M of the default setting the summary reports (default: {DEFAULT_CANDIDATES})")
    parser.add_argument("--advertisers", type=_positive_int, default=DEFAULT_ADVERTISERS, metavar="N",
                        help=f"n of the default setting (default: {DEFAULT_ADVERTISERS})")
    parser.add_argument("--reply-tokens", type=_positive_int, default=DEFAULT_REPLY_TOKENS, metavar="L",
                        help=f"reply length L in tokens of the default setting (default: {DEFAULT_REPLY_TOKENS})")
    parser.add_argument("--embedding-tokens", type=_positive_int, default=DEFAULT_EMBEDDING_TOKENS, metavar="E",
                        help=f"tokens the post-response embedding pass reads (default: {DEFAULT_EMBEDDING_TOKENS})")
    parser.add_argument("--seeds", type=_positive_int, default=None, metavar="N",
                        help="accepted for a uniform interface and ignored: the experiment draws no random numbers")
    parser.add_argument("--seed", type=int, default=None,
                        help="accepted for a uniform interface and ignored: the experiment draws no random numbers")


def execute(arguments):
    """Run the experiment with the command-line options and return its summary."""
    if arguments.quick:
        grids = (QUICK_CANDIDATE_GRID, QUICK_ADVERTISER_GRID, QUICK_REPLY_TOKEN_GRID)
    else:
        grids = (CANDIDATE_GRID, ADVERTISER_GRID, REPLY_TOKEN_GRID)
    settings = Settings(
        *grids,
        candidates=arguments.candidates,
        advertisers=arguments.advertisers,
        reply_tokens=arguments.reply_tokens,
        embedding_tokens=arguments.embedding_tokens,
        dimension=DEFAULT_DIMENSION,
        cost_per_query=arguments.cost_per_query,
        sponsored_share=arguments.sponsored_share,
        price_basis=arguments.price_basis,
        quick=arguments.quick,
    )
    ignored = {name: getattr(arguments, name) for name in ("seeds", "seed") if getattr(arguments, name) is not None}
    if ignored:
        logger.info("inference_cost draws no random numbers; ignoring %s",
                    ", ".join(f"--{name} {value}" for name, value in ignored.items()))
    return run(settings, arguments.out, overwrite=arguments.overwrite, progress=not arguments.no_progress,
               ignored_seeds=ignored or None)


def main(argv=None):
    """Entry point of ``python -m experiments.inference_cost``."""
    from market.cli import main as cli_main

    return cli_main(["run", "inference_cost", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
