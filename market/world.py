"""The world a market lives in: intent space, categories, brands and rivalries.

Categories have unit-vector centroids μ_c in R^d. Each brand i belongs to one
category and has a centre c_i (a unit vector near μ_c), a reach σ_i, an
incumbency prior ρ_i (the probability that the reference LLM mentions it in a
reply to a query of its category), a value b_i in dollars per mention or
impression at full relevance, and a competitor-negative weight κ_i.

Rivalries are an undirected networkx graph on brand indices. Only edges inside
a category matter to replies, because a reply to a query of category c can
mention only that category's brands.
"""

from dataclasses import dataclass

import networkx as nx
import numpy as np

__all__ = ["World", "build_world", "rival_graph", "sample_near"]

KEYWORD_SAMPLES = 2000


@dataclass(frozen=True)
class World:
    """Fixed structure of the market, drawn once per run.

    Attributes
    ----------
    centroids : ndarray, shape (C, d)
        Unit-vector category centroids μ_c.
    brand_category : ndarray of int, shape (B,)
    centres : ndarray, shape (B, d)
        Brand centres c_i (unit vectors).
    reaches : ndarray, shape (B,)
        σ_i.
    priors : ndarray, shape (B,)
        ρ_i.
    values : ndarray, shape (B,)
        b_i in dollars per mention or impression at full relevance.
    competitor_weights : ndarray, shape (B,)
        κ_i.
    incumbent : ndarray of bool, shape (B,)
    category_brands : ndarray of int, shape (C, K)
        Brand indices of each category, in slot order.
    rivals : networkx.Graph
        Competitor graph on brand indices.
    rival_matrix : ndarray, shape (C, K, K)
        Adjacency of the rivals graph inside each category, by slot.
    category_relevance : ndarray, shape (B,)
        Mean relevance of each brand to intents of its own category, the
        basis of its truthful keyword bid (Monte Carlo over 2,000 intents).
    """

    centroids: np.ndarray
    brand_category: np.ndarray
    centres: np.ndarray
    reaches: np.ndarray
    priors: np.ndarray
    values: np.ndarray
    competitor_weights: np.ndarray
    incumbent: np.ndarray
    category_brands: np.ndarray
    rivals: nx.Graph
    rival_matrix: np.ndarray
    category_relevance: np.ndarray

    @property
    def n_brands(self):
        return self.brand_category.size

    @property
    def n_categories(self):
        return self.centroids.shape[0]

    @property
    def brands_per_category(self):
        return self.category_brands.shape[1]


def sample_near(points, spread, rng):
    """Draw unit vectors normalise(p + spread·z/√d), z ~ N(0, I_d), one per row of ``points``."""
    points = np.asarray(points, dtype=float)
    dimension = points.shape[-1]
    noisy = points + spread * rng.standard_normal(points.shape) / np.sqrt(dimension)
    return noisy / np.linalg.norm(noisy, axis=-1, keepdims=True)


def build_world(embedding, advertisers, rng):
    """Draw the categories and brands of a run from its scenario tables.

    Parameters
    ----------
    embedding : market.scenario.EmbeddingConfig
    advertisers : market.scenario.AdvertisersConfig
    rng : numpy.random.Generator
    """
    n_categories, per_category = embedding.categories, advertisers.brands_per_category
    n_brands = n_categories * per_category

    # Category centroids: isotropic directions, nearly orthogonal for d >= 8.
    centroids = rng.standard_normal((n_categories, embedding.dimension))
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)

    # Brands: K per category, the first few slots held by incumbents.
    category_brands = np.arange(n_brands).reshape(n_categories, per_category)
    brand_category = np.repeat(np.arange(n_categories), per_category)
    centres = sample_near(centroids[brand_category], embedding.brand_spread, rng)
    reaches = rng.uniform(advertisers.reach_min, advertisers.reach_max, n_brands)
    values = rng.uniform(advertisers.value_min, advertisers.value_max, n_brands)
    incumbents = rng.integers(advertisers.incumbents_min, advertisers.incumbents_max + 1, n_categories)
    incumbent = (np.arange(per_category)[None, :] < incumbents[:, None]).reshape(-1)
    priors = np.where(incumbent, advertisers.incumbent_prior, advertisers.entrant_prior)
    competitor_weights = np.full(n_brands, advertisers.competitor_weight)

    rivals = rival_graph(brand_category, advertisers.competitors)
    rival_matrix = np.stack(
        [nx.to_numpy_array(rivals, nodelist=list(brands)) for brands in category_brands]
    ) if n_brands else np.zeros((n_categories, per_category, per_category))

    # A keyword bidder sees only the category, so it values a match at its mean relevance there.
    intents = sample_near(np.repeat(centroids, KEYWORD_SAMPLES, axis=0), embedding.intent_spread, rng)
    distances = np.sum((intents.reshape(n_categories, KEYWORD_SAMPLES, 1, -1) - centres.reshape(
        n_categories, 1, per_category, -1)) ** 2, axis=-1)
    category_relevance = np.exp(-distances / reaches.reshape(n_categories, 1, per_category) ** 2).mean(axis=1)

    return World(
        centroids=centroids,
        brand_category=brand_category,
        centres=centres,
        reaches=reaches,
        priors=priors,
        values=values,
        competitor_weights=competitor_weights,
        incumbent=incumbent,
        category_brands=category_brands,
        rivals=rivals,
        rival_matrix=rival_matrix,
        category_relevance=category_relevance.reshape(-1),
    )


def rival_graph(brand_category, rule):
    """Return the competitor graph: ``"category"`` joins brands of one category, ``"none"`` joins none."""
    graph = nx.Graph()
    graph.add_nodes_from(range(brand_category.size))
    if rule == "category":
        for category in np.unique(brand_category):
            members = np.flatnonzero(brand_category == category).tolist()
            graph.add_edges_from(nx.complete_graph(members).edges)
    elif rule != "none":
        raise ValueError(f"competitors rule must be 'category' or 'none', got {rule!r}")
    return graph
