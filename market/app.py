"""Interactive dashboard of the market model on Mesa's SolaraViz.

Start it from the repository root with the ``viz`` extra installed::

    SOLARA_TELEMETRY_MIXPANEL_ENABLE=false .venv/bin/solara run market/app.py

The sidebar sets each platform's auction, τ, τ policy, M and π_gen, the
users' switching elasticity and multi-homing share, the number of users, the
competitor-negative weight κ and the seed. Reset rebuilds the model from these
controls through `scenario_from_controls`. Every other key keeps its default
from `market.scenario`. The plots and the table read the model's
`MarketModel.timeseries` after each round and hold no simulation logic.

The charts are matplotlib images drawn on the server. Solara's Altair widget
(solara 1.64) loads Vega from a CDN at run time, which an offline machine
cannot reach.
"""

import html
import logging
import math

import numpy as np
import solara
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from mesa.visualization import SolaraViz

from market.model import MarketModel
from market.scenario import default_scenario

__all__ = ["DashboardModel", "model_params", "page", "scenario_from_controls"]

logger = logging.getLogger(__name__)

# At 2,000 users one round, model and charts together, took about 0.6 s of CPU time on the 2-core
# development machine. The users slider goes to 20,000.
DEFAULT_USERS = 2_000
MAX_USERS = 20_000

DEFAULTS = default_scenario()
PLATFORMS = {platform.name: platform for platform in DEFAULTS.platforms}
# Platform keys the dashboard sets. The control for key K of platform P is named "P_K".
PLATFORM_KEYS = ("auction", "tau", "tau_policy", "candidates", "generator")
AUCTIONS = ("mosaic", "embedding", "keyword", "none")
TAU_POLICIES = ("fixed", "revenue_greedy", "retention_target", "two_sided")
GENERATORS = ("context", "reference")

OUTSIDE = "outside"
OUTSIDE_COLOUR = "0.55"
FIGURE_SIZE = (5.6, 3.0)
FIGURE_DPI = 80


def scenario_from_controls(
    *, users, elasticity, multihoming_share, competitor_weight, seed, **platform_controls
):
    """Return the default scenario with the dashboard's control values applied.

    ``platform_controls`` contains one ``NAME_KEY`` value for every default
    platform NAME and every key in `PLATFORM_KEYS`, e.g. ``mosaic_tau=0.05``.
    ``seed`` may be text from the seed field. Raises `ValueError` for a seed
    that is not a whole number, `TypeError` for a missing or unknown control,
    and `market.scenario.ScenarioError` for a value out of range.
    """
    overrides = {
        "seed": parse_seed(seed),
        "users.count": int(users),
        "users.elasticity": float(elasticity),
        "users.multihoming_share": float(multihoming_share),
        "advertisers.competitor_weight": float(competitor_weight),
    }
    remaining = dict(platform_controls)
    for name in PLATFORMS:
        for key in PLATFORM_KEYS:
            control = f"{name}_{key}"
            if control not in remaining:
                raise TypeError(
                    f"missing dashboard control {control!r}. Pass one NAME_KEY value for every platform and key"
                )
            overrides[f"platforms.{name}.{key}"] = remaining.pop(control)
    if remaining:
        raise TypeError(f"unknown dashboard controls: {sorted(remaining)}. Expected NAME_KEY with NAME in "
                        f"{list(PLATFORMS)} and KEY in {list(PLATFORM_KEYS)}")
    return DEFAULTS.with_overrides(overrides)


def parse_seed(seed):
    """Return the seed as an int, accepting text such as ``" 42 "`` from the seed field."""
    try:
        value = int(str(seed).strip())
    except ValueError:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}. Type digits only.") from None
    if value < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {value}")
    return value


def _platform_default(name, key):
    return getattr(PLATFORMS[name], key)


class DashboardModel(MarketModel):
    """`MarketModel` built from the dashboard's controls as keyword arguments.

    SolaraViz rebuilds the model on reset by calling the class with the
    controls' values, so every control is a keyword parameter here. The
    platform parameters are those of the three default platforms. The
    signature is explicit because SolaraViz (mesa 3.5) checks model_params
    against it, and given ``**kwargs`` it would also pass a Mesa Scenario as
    ``scenario=``, which `MarketModel` rejects.
    """

    def __init__(
        self,
        *,
        users=DEFAULT_USERS,
        elasticity=DEFAULTS.users.elasticity,
        multihoming_share=DEFAULTS.users.multihoming_share,
        competitor_weight=DEFAULTS.advertisers.competitor_weight,
        seed=DEFAULTS.seed,
        mosaic_auction=_platform_default("mosaic", "auction"),
        mosaic_tau=_platform_default("mosaic", "tau"),
        mosaic_tau_policy=_platform_default("mosaic", "tau_policy"),
        mosaic_candidates=_platform_default("mosaic", "candidates"),
        mosaic_generator=_platform_default("mosaic", "generator"),
        embedding_auction=_platform_default("embedding", "auction"),
        embedding_tau=_platform_default("embedding", "tau"),
        embedding_tau_policy=_platform_default("embedding", "tau_policy"),
        embedding_candidates=_platform_default("embedding", "candidates"),
        embedding_generator=_platform_default("embedding", "generator"),
        ad_free_auction=_platform_default("ad_free", "auction"),
        ad_free_tau=_platform_default("ad_free", "tau"),
        ad_free_tau_policy=_platform_default("ad_free", "tau_policy"),
        ad_free_candidates=_platform_default("ad_free", "candidates"),
        ad_free_generator=_platform_default("ad_free", "generator"),
    ):
        controls = {name: value for name, value in locals().items() if name not in ("self", "__class__")}
        scenario = scenario_from_controls(**controls)
        logger.info("building the dashboard model: %s", controls)
        super().__init__(scenario=scenario)
        self._table_round = None
        self._table = None

    def dashboard_table(self):
        """Return `timeseries` for the current round, computed once per round for all panels."""
        if self._table_round != self.round:
            self._table = self.timeseries()
            self._table_round = self.round
        return self._table


def _platform_params():
    params = {}
    for name in PLATFORMS:
        params[f"{name}_auction"] = {
            "type": "Select", "value": _platform_default(name, "auction"), "values": list(AUCTIONS),
            "label": f"{name}: auction",
        }
        params[f"{name}_tau"] = {
            "type": "SliderFloat", "value": _platform_default(name, "tau"), "min": 0.005, "max": 0.5, "step": 0.005,
            "label": f"{name}: τ ($, MOSAIC)",
        }
        params[f"{name}_tau_policy"] = {
            "type": "Select", "value": _platform_default(name, "tau_policy"), "values": list(TAU_POLICIES),
            "label": f"{name}: τ policy",
        }
        params[f"{name}_candidates"] = {
            "type": "SliderInt", "value": _platform_default(name, "candidates"), "min": 1, "max": 50, "step": 1,
            "label": f"{name}: M candidates (MOSAIC)",
        }
        params[f"{name}_generator"] = {
            "type": "Select", "value": _platform_default(name, "generator"), "values": list(GENERATORS),
            "label": f"{name}: π_gen (MOSAIC)",
        }
    return params


# Controls in SolaraViz's model_params format. The keys are DashboardModel's keyword parameters.
model_params = {
    "seed": {"type": "InputText", "value": str(DEFAULTS.seed), "label": "Seed"},
    "users": {
        "type": "SliderInt", "value": DEFAULT_USERS, "min": 500, "max": MAX_USERS, "step": 500,
        "label": "Users",
    },
    "elasticity": {
        "type": "SliderFloat", "value": DEFAULTS.users.elasticity, "min": 0.0, "max": 10.0, "step": 0.25,
        "label": "User switching elasticity η",
    },
    "multihoming_share": {
        "type": "SliderFloat", "value": DEFAULTS.users.multihoming_share, "min": 0.0, "max": 1.0, "step": 0.05,
        "label": "Multi-homing share",
    },
    "competitor_weight": {
        "type": "SliderFloat", "value": DEFAULTS.advertisers.competitor_weight, "min": 0.0, "max": 2.0,
        "step": 0.1, "label": "Competitor-negative weight κ",
    },
    **_platform_params(),
}


# Each panel takes the model and returns a Solara element. SolaraViz redraws the panels after every round.


def _colours(names):
    """Return a fixed colour per platform name, grey for the outside option."""
    palette = [f"C{index}" for index in range(10)]
    colours = {name: palette[index % len(palette)] for index, name in enumerate(PLATFORMS)}
    colours[OUTSIDE] = OUTSIDE_COLOUR
    return {name: colours.get(name, "k") for name in names}


def _by_platform(table, column, names=None):
    """Return {platform: (rounds, values)} for one column in scenario order, without its NaN points.

    A platform whose column is NaN in every round (a flow at round 0, τ off MOSAIC) is left out.
    """
    names = list(PLATFORMS) + [OUTSIDE] if names is None else names
    series = {}
    for name in names:
        rows = table[table["platform"] == name]
        values = rows[column].to_numpy(dtype=float)
        known = ~np.isnan(values)
        if known.any():
            series[name] = (rows["round"].to_numpy()[known], values[known])
    return series


def _figure():
    # Fixed margins: matplotlib's constrained layout doubles the drawing time of these small charts.
    figure = Figure(figsize=FIGURE_SIZE, dpi=FIGURE_DPI)
    figure.subplots_adjust(left=0.13, right=0.97, bottom=0.16, top=0.86, wspace=0.45)
    return figure


def _plot(axes, rounds, values, last_round, **style):
    # A single point draws no line, so it gets a marker.
    axes.plot(rounds, values, marker="o" if len(rounds) == 1 else None, **style)
    axes.set_xlim(-0.3, max(last_round, 1) + 0.3)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    axes.set_xlabel("round")
    axes.grid(alpha=0.3)


def _line_figure(series, last_round, title, ylabel, log_scale=False, ylim=None):
    figure = _figure()
    axes = figure.subplots()
    colours = _colours(series)
    for name, (rounds, values) in series.items():
        _plot(axes, rounds, values, last_round, color=colours[name], label=name)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    if log_scale:
        axes.set_yscale("log")
    if ylim is not None:
        axes.set_ylim(*ylim)
    if series:
        figure.subplots_adjust(right=0.76)
        axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))
    return figure


def _latest(series, digits):
    """Return "name value, …" for the last point of each series."""
    return ", ".join(f"{name} {values[-1]:.{digits}f}" for name, (_, values) in series.items())


def _panel(model, figure, caption, css_class):
    with solara.Column(classes=[css_class], gap="0px") as panel:
        solara.FigureMatplotlib(figure, format="png", dependencies=[id(model), model.round])
        solara.Text(f"Round {model.round}: {caption}", classes=["panel-caption"])
    return panel


def share_panel(model):
    """Membership share of each platform and of the outside option by round."""
    series = _by_platform(model.dashboard_table(), "membership_share")
    figure = _line_figure(series, model.round, "User share (memberships)", "share of users", ylim=(0.0, 1.0))
    return _panel(model, figure, _latest(series, 3), "share-panel")


def economics_panel(model):
    """Ad revenue against inference cost per platform, one subplot each with its own scale."""
    table = model.dashboard_table()
    revenue = _by_platform(table, "ad_revenue", names=list(PLATFORMS))
    cost = _by_platform(table, "inference_cost", names=list(PLATFORMS))
    figure = _figure()
    axes_row = figure.subplots(1, len(PLATFORMS), squeeze=False)[0]
    colours = _colours(PLATFORMS)
    for axes, name in zip(axes_row, PLATFORMS):
        if name in revenue:
            _plot(axes, *revenue[name], model.round, color=colours[name])
            _plot(axes, *cost[name], model.round, color=colours[name], linestyle="--")
        axes.set_title(name, fontsize="medium")
    axes_row[0].set_ylabel("$ per round")
    figure.suptitle("Ad revenue (solid) vs inference cost (dashed)")
    captions = [
        f"{name} ${revenue[name][1][-1]:,.0f} vs ${cost[name][1][-1]:,.0f}" for name in PLATFORMS if name in revenue
    ]
    return _panel(model, figure, "; ".join(captions) or "no round played yet", "economics-panel")


def utility_panel(model):
    """Mean user utility of the replies served on each platform by round."""
    series = _by_platform(model.dashboard_table(), "mean_user_utility", names=list(PLATFORMS))
    figure = _line_figure(series, model.round, "Mean user utility per reply", "utility (sd of h = 1)")
    return _panel(model, figure, _latest(series, 3) or "no round played yet", "utility-panel")


def participation_panel(model):
    """Share of brands taking part in each ad-selling platform's auction by round."""
    series = _by_platform(model.dashboard_table(), "participation", names=list(PLATFORMS))
    figure = _line_figure(series, model.round, "Advertiser participation", "share of brands", ylim=(0.0, 1.05))
    return _panel(model, figure, _latest(series, 2) or "no platform sells ads", "participation-panel")


def tau_panel(model):
    """τ of each MOSAIC platform by round (flat unless a τ policy moves it)."""
    series = _by_platform(model.dashboard_table(), "tau", names=list(PLATFORMS))
    figure = _line_figure(series, model.round, "τ of MOSAIC platforms", "τ ($, log scale)", log_scale=bool(series))
    return _panel(model, figure, _latest(series, 4) or "no platform runs MOSAIC", "tau-panel")


# Rows of the headline table: (timeseries column, label, format).
HEADLINES = (
    ("auction", "auction", "{}"),
    ("membership_share", "membership share", "{:.3f}"),
    ("query_share", "query share", "{:.3f}"),
    ("ad_revenue", "ad revenue ($)", "{:,.2f}"),
    ("subscription_revenue", "subscription revenue ($)", "{:,.2f}"),
    ("inference_cost", "inference cost ($)", "{:,.2f}"),
    ("profit", "profit ($)", "{:,.2f}"),
    ("mean_user_utility", "mean user utility", "{:.3f}"),
    ("participation", "advertiser participation", "{:.2f}"),
    ("tau", "τ ($)", "{:.4f}"),
    ("mean_kl", "mean KL (nats)", "{:.3f}"),
    ("sponsored_share", "sponsored share", "{:.3f}"),
)


def _format_cell(value, pattern):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return pattern.format(value)


def _settings_rows(model):
    """Return the MOSAIC settings of each platform in this run as (label, {platform: text}) rows."""
    configs = {platform.name: platform.config for platform in model.platforms}
    rows = []
    for key, label in (("tau_policy", "τ policy"), ("candidates", "M candidates"), ("generator", "π_gen")):
        rows.append((label, {
            name: str(getattr(config, key)) if config.auction == "mosaic" else "–" for name, config in configs.items()
        }))
    return rows


def _html_table(header, rows):
    """Return an HTML table of ``rows``, (label, {column: text}) pairs, with every text escaped."""
    cell = 'style="padding: 2px 10px; text-align: right"'
    head = "".join(f"<th {cell}>{html.escape(name)}</th>" for name in header)
    body = []
    for label, values in rows:
        cells = "".join(f"<td {cell}>{html.escape(values.get(name, '–'))}</td>" for name in header)
        body.append(f'<tr><th style="padding: 2px 10px; text-align: left">{html.escape(label)}</th>{cells}</tr>')
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def headline_panel(model):
    """Table of the current round's headline figures per platform and for the outside option."""
    table = model.dashboard_table()
    current = table[table["round"] == model.round].set_index("platform")
    names = [name for name in [*PLATFORMS, OUTSIDE] if name in current.index]
    rows = [
        (label, {name: _format_cell(current.at[name, column], pattern) for name in names})
        for column, label, pattern in HEADLINES
    ]
    rows.extend(_settings_rows(model))

    scenario = model.parameters
    settings = (
        f"{scenario.users.count:,} users, η {scenario.users.elasticity:g}, "
        f"multi-homing share {scenario.users.multihoming_share:g}, κ {scenario.advertisers.competitor_weight:g}, "
        f"seed {scenario.seed}"
    )
    with solara.Column(classes=["headline-panel"], gap="4px") as panel:
        title = f"Round {model.round}: headline figures (flows are empty at round 0)"
        solara.Text(title, style={"font-weight": "bold"})
        solara.HTML(tag="div", unsafe_innerHTML=_html_table(names, rows))
        solara.Text(f"This run: {settings}")
    return panel


page = SolaraViz(
    DashboardModel(),
    components=[share_panel, economics_panel, utility_panel, participation_panel, tau_panel, headline_panel],
    model_params=model_params,
    name="LLM ad market",
)
