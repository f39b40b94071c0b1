"""Chatbot platforms: each serves its queries through one ad mechanism.

A `Platform` is a Mesa agent that stores its configuration, the τ it
publishes and the τ it runs, its seed for keyed draws, and its last round's
accounts; its τ policy (`agents.tau_policies`) moves the published τ between
rounds. `Platform.serve` passes a batch of queries to the mechanism's
serving function in `market.serving`:

- ``mosaic``: MOSAIC inside generation (`market.serving.serve_mosaic`);
- ``embedding``: a plain reply, then placements sold by the power-diagram
  auction (`market.serving.sell_placement`); with ``ad_rate_target`` a PID
  loop (`market.mechanisms.gate_control`) moves the gate between rounds;
- ``keyword``: a plain reply, then one placement sold by a second-price
  auction on the query's category (`market.serving.sell_keyword_placement`);
- ``none``: a plain reply and no ad (`market.serving.serve_plain`).
"""

import mesa

from agents.tau_policies import make_policy
from market.mechanisms.gate_control import GateController
from market.serving import QuerySlots, sell_keyword_placement, sell_placement, serve_mosaic, serve_plain

__all__ = ["Platform"]

INITIAL_GATE = 0.5


class Platform(mesa.Agent):
    """A chatbot platform running one ad mechanism.

    Parameters
    ----------
    model : market.model.MarketModel
    config : market.scenario.PlatformConfig
    index : int
        Column of this platform in the model's arrays.
    seed : int
        Seed of the platform's keyed draws.
    """

    def __init__(self, model, config, index, seed):
        super().__init__(model)
        self.config = config
        self.index = int(index)
        self.seed = int(seed)
        self.tau = config.tau
        self.policy = make_policy(config)
        self.gate = config.gate
        self.gate_controller = None
        if config.ad_rate_target is not None:
            # 0.5 is a typical squared distance from an intent to a brand of its category.
            self.gate = INITIAL_GATE if config.gate is None else config.gate
            self.gate_controller = GateController(
                config.ad_rate_target, config.gate_kp, config.gate_ki, initial_gate=self.gate
            )
        self.accounts = {}

    @property
    def tau_actual(self):
        """The τ the platform runs: its configured tau_actual, else the τ it publishes."""
        return self.tau if self.config.tau_actual is None else self.config.tau_actual

    def adjust(self):
        """Set next round's τ (MOSAIC) or gate (embedding with a target ad rate) from this round's accounts."""
        if self.config.auction == "mosaic":
            self.tau = self.policy.update(self.accounts)
        if self.gate_controller is not None and self.accounts["queries"]:
            self.gate = self.gate_controller.update(self.accounts["sponsored_share"])

    @property
    def name(self):
        return self.config.name

    def serve(self, intents, category, relevances, eligible, world, weights, rng):
        """Serve a batch of queries and return their `market.serving.Service`.

        Parameters
        ----------
        intents : ndarray, shape (Q, d)
        category : ndarray of int, shape (Q,)
        relevances : ndarray, shape (Q, B)
            rel_i(x) of every brand for every query.
        eligible : ndarray of bool, shape (Q, B)
            Brands that enter each query's auction.
        world : market.world.World
        weights : market.scenario.UtilityConfig
        rng : numpy.random.Generator
        """
        slots = QuerySlots(world, category, relevances)
        if self.config.auction == "mosaic":
            return serve_mosaic(
                self.config, slots, intents, eligible, weights, self.tau, self.tau_actual, self.seed, rng
            )
        service = serve_plain(self.config, slots, weights, rng)
        if self.config.auction == "embedding":
            sell_placement(service, self.config, intents, relevances, eligible, world, weights, self.gate)
        elif self.config.auction == "keyword":
            sell_keyword_placement(service, self.config, category, relevances, eligible, world, weights)
        return service
