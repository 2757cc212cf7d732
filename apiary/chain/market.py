"""Compatibility re-export: use `apiary.sdk.market` (reads, registration) and `apiary.deploy.market`."""

from ..deploy.market import MarketDeployment, deploy_market, register_circuit_by_governance  # noqa: F401
from ..sdk.market import METRIC, circuit_id, describe, leaderboard, register_model  # noqa: F401
