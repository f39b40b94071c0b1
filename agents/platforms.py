"""Chatbot platforms: each serves its queries through one ad mechanism.

A `Platform` is a Mesa agent that stores its configuration, the τ it
publishes and the τ it runs, its seed for keyed draws, and its last round's
accounts. `Platform.serve` passes a batch of queries to the mechanism's
serving function in `market.serving`:

- ``mosaic``: MOSAIC inside generation (`market.serving.serve_mosaic`);
- ``embedding``: a plain reply, then one placement sold by the power-diagram
  auction (`market.serving.sell_placement`);
- ``none``: a plain reply and no ad (`market.serving.serve_plain`).
"""

import mesa

from market.serving import QuerySlots, sell_placement, serve_mosaic, serve_plain

__all__ = ["Platform"]


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
        self.tau_actual = config.tau if config.tau_actual is None else config.tau_actual
        self.accounts = {}

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
            sell_placement(service, self.config, intents, relevances, eligible, world, weights)
        return service
