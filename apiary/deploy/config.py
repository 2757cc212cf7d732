"""Deployment parameters of the governance core, with named profiles for local chains, testnets and mainnet."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

TOKEN_DECIMALS = 18
ONE_TOKEN = 10**TOKEN_DECIMALS
GENESIS_SUPPLY = 10_000_000 * ONE_TOKEN


@dataclass(frozen=True)
class GovernanceParams:
    """Governor and timelock settings. Governor times are in blocks (the token's clock), the delay in seconds."""

    voting_delay: int
    voting_period: int
    proposal_threshold: int
    quorum_percent: int
    late_quorum_extension: int
    timelock_delay: int

    def as_governor_params(self) -> tuple[int, int, int, int, int]:
        return (
            self.voting_delay,
            self.voting_period,
            self.proposal_threshold,
            self.quorum_percent,
            self.late_quorum_extension,
        )


@dataclass(frozen=True)
class FeeParams:
    max_fee_bps: int  # immutable hard cap, fixed at deployment
    initial_fee_bps: int


@dataclass(frozen=True)
class MarketParams:
    # Blocks a model registration's seal stays revealable, and so contestable by an earlier seal; bounties only
    # accept a model after it (ModelRegistry.sealWindow, immutable, 4..50 400).
    seal_window: int = 7_200
    # Data market (DatasetRegistry, DataMarket, Provenance). Stakes and bonds are in the governance token.
    dataset_stake: int = 100 * ONE_TOKEN  # locked per registration, slashed for a proven duplicate
    max_dataset_stake: int = 1_000_000 * ONE_TOKEN  # immutable bound on what governance may ask
    challenge_window: int = 3 * 24 * 3600  # seconds a registration can be challenged (1 h .. 90 days)
    min_duplicate_rows: int = 4  # distinct shared rows that prove a duplicate (1 .. 32)
    listing_bond: int = 200 * ONE_TOKEN  # locked per listing, slashed for a proven bad delivery
    max_listing_bond: int = 1_000_000 * ONE_TOKEN
    royalty_bps: int = 500  # share of a bounty reward paid to the datasets a winning model cites
    max_royalty_bps: int = 2_000  # immutable cap (Provenance.maxRoyaltyBps)
    # Compute market (ComputeMarket): stakes, collateral and challenge bonds in the governance token; each value
    # governance may later change within bounds fixed in code (windows, shares) or below `compute_max_amount`.
    compute_min_stake: int = 1_000 * ONE_TOKEN  # a provider's stake before it may accept a job
    compute_min_collateral: int = 10 * ONE_TOKEN  # least collateral a job may ask a provider to lock
    challenge_bond: int = 5 * ONE_TOKEN  # a challenger's bond: at least a proof's cost plus verification gas
    unbonding_period: int = 7 * 24 * 3600  # 1 h .. 60 days
    compute_challenge_window: int = 3600  # 1 min .. 7 days after an optimistic result
    response_window: int = 3600  # 5 min .. 7 days to answer a challenge or an audit with a proof
    audit_bps: int = 500  # share of optimistic results that must be proven anyway (at most 50%)
    challenger_bps: int = 5_000  # of a slashed collateral (challenger + requester at most 90%)
    requester_bps: int = 3_000
    compute_max_amount: int = 10_000_000 * ONE_TOKEN  # immutable ceiling of the amounts above

    def compute_params(self) -> tuple:
        """IComputeMarket.Params, in field order."""
        return (self.compute_min_stake, self.compute_min_collateral, self.challenge_bond, self.unbonding_period,
                self.compute_challenge_window, self.response_window, self.audit_bps, self.challenger_bps,
                self.requester_bps)


@dataclass(frozen=True)
class DeployConfig:
    governance: GovernanceParams
    fees: FeeParams
    market: MarketParams = field(default_factory=MarketParams)
    # Share of the genesis supply kept by the timelock as the DAO treasury; the rest goes to `holders`.
    treasury_share_bps: int = 6_000
    genesis_supply: int = GENESIS_SUPPLY
    holders: tuple[tuple[str, int], ...] = field(default=())  # (address, weight) for the non-treasury part

    def as_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, DeployConfig] = {
    # Short periods so a whole proposal round trip takes seconds on anvil or the embedded chain.
    "local": DeployConfig(
        governance=GovernanceParams(
            voting_delay=1,
            voting_period=20,
            proposal_threshold=1_000 * ONE_TOKEN,
            quorum_percent=4,
            late_quorum_extension=5,
            timelock_delay=60,
        ),
        fees=FeeParams(max_fee_bps=1_000, initial_fee_bps=100),
        market=MarketParams(seal_window=4, challenge_window=3600, unbonding_period=3600, compute_challenge_window=120,
                            response_window=600),
    ),
    # About an hour of voting at 12 s blocks, a 10-minute timelock.
    "testnet": DeployConfig(
        governance=GovernanceParams(
            voting_delay=5,
            voting_period=300,
            proposal_threshold=1_000 * ONE_TOKEN,
            quorum_percent=4,
            late_quorum_extension=50,
            timelock_delay=600,
        ),
        fees=FeeParams(max_fee_bps=1_000, initial_fee_bps=100),
        market=MarketParams(seal_window=300),  # an hour of 12 s blocks
    ),
    # One day of delay, a week of voting, two days of late-quorum extension and a two-day timelock.
    "mainnet": DeployConfig(
        governance=GovernanceParams(
            voting_delay=7_200,
            voting_period=50_400,
            proposal_threshold=10_000 * ONE_TOKEN,
            quorum_percent=4,
            late_quorum_extension=14_400,
            timelock_delay=2 * 24 * 3600,
        ),
        fees=FeeParams(max_fee_bps=1_000, initial_fee_bps=100),
        market=MarketParams(seal_window=7_200),  # a day
    ),
}


def genesis_allocation(config: DeployConfig, treasury: str) -> tuple[list[str], list[int]]:
    """Split the fixed genesis supply: the treasury share to the timelock, the rest by weight to `holders`.

    Integer division leaves a remainder; it goes to the treasury so the total is exactly `genesis_supply`.
    """
    if not 0 <= config.treasury_share_bps <= 10_000:
        raise ValueError(f"treasury_share_bps must be within 0..10000, got {config.treasury_share_bps}")
    community = config.genesis_supply * (10_000 - config.treasury_share_bps) // 10_000
    weights = [weight for _, weight in config.holders]
    if community and not config.holders:
        raise ValueError("holders must be given when the treasury does not keep the whole supply")
    if any(weight <= 0 for weight in weights):
        raise ValueError("every holder weight must be positive")
    total_weight = sum(weights)
    amounts = [community * weight // total_weight for weight in weights] if total_weight else []
    recipients = [treasury] + [address for address, _ in config.holders]
    treasury_amount = config.genesis_supply - sum(amounts)
    return recipients, [treasury_amount, *amounts]
