"""Gas per model-market call, on the embedded chain: `ape run bench_market` (also run by `./dev bench`).

Writes reports/market-gas.md. "Excluding the verifier" uses a mock verifier (its own ~2.5k gas included);
"including it" submits real digits-mlp16-n64 proofs (cached under build/demo/ by the demo or the tests).
The "before" column is the committed snapshot docs/market-gas.md, read back so a change shows its effect.
"""

from __future__ import annotations

import re

import click
from ape import accounts, chain, project
from eth_utils import keccak
from ape.cli import ConnectedProviderCommand

from apiary.demo import bounty_demo
from apiary.deploy.config import PROFILES, DeployConfig
from apiary.deploy.deploy import deploy_core
from apiary.deploy.market import deploy_market, register_circuit_by_governance
from apiary.paths import PROJECT_ROOT
from apiary.sdk.market import register_model, wait_until_final
from apiary.zk import evm, pipeline, testdata

DAY = 24 * 3600


@click.command(cls=ConnectedProviderCommand)
def cli(ecosystem, network):
    a = accounts.test_accounts
    deployer, alice, bob, sponsor = a[0], a[1], a[2], a[3]
    base = PROFILES["local"]
    core = deploy_core(project, deployer, DeployConfig(base.governance, base.fees, holders=((alice.address, 1), (bob.address, 1))))
    market = deploy_market(project, deployer, core)
    rows: list[tuple[str, int, int]] = []

    def gas(label, receipt):
        rows.append((label, receipt.gas_used, calldata_floor(receipt.transaction.data)))
        return receipt

    mock = project.MockHalo2Verifier.deploy(sender=deployer)
    register_circuit_by_governance(core, market, "mock-n64", mock.address, b"\0" * 32, 64, alice, [alice, bob])
    mock_id = market.verifiers.circuitId("mock-n64")
    scenario = bounty_demo.prepare([alice, bob], log=lambda m: click.echo(m, err=True))
    real = evm.deploy_with_ape(scenario.circuit, deployer)
    register_circuit_by_governance(core, market, bounty_demo.CIRCUIT, real.address, scenario.circuit.manifest_sha256,
                                   64, alice, [alice, bob])
    real_id = market.verifiers.circuitId(bounty_demo.CIRCUIT)

    usd = project.MockERC20.deploy("USD", "USD", sender=sponsor)
    usd.mint(sponsor, 10**30, sender=sponsor)
    usd.approve(market.bounties, 2**256 - 1, sender=sponsor)

    # Weight commitments are unique across circuits: the mock-circuit model gets its own weights point, and its
    # "proofs" are the real ones with that point swapped in (the mock verifier accepts any bytes).
    mock_point = keccak(b"mock weights") * 2
    mock_commitment = keccak(mock_point)
    seal = market.models.seal(alice.address, mock_id, mock_commitment, b"\x01" * 32)
    gas("ModelRegistry.commit", market.models.commit(seal, sender=alice))
    gas("ModelRegistry.register", market.models.register(mock_id, mock_commitment, b"\x01" * 32, "ipfs://m", sender=alice))
    alice_real = register_model(market.models, alice, real_id, scenario.contestants[0].commitment)
    alice_mock = 1
    wait_until_final(market.models, alice_mock)

    now = chain.pending_timestamp
    chunks = scenario.chunk_commitments
    data = scenario.test_data
    gas(f"createOpen (2 chunks, {len(data):,} B of test data)",
        market.bounties.createOpen((usd, 10**21, mock_id, chunks, data, 100, 0, now + 7 * DAY), sender=sponsor))
    commitment = pipeline.test_set_commitment(chunks, testdata.data_hash(data), b"\x02" * 32)
    gas("createSealed", market.bounties.createSealed((usd, 10**21, real_id, commitment, 2, 100, 0, now + DAY, now + 2 * DAY, now + 3 * DAY), sender=sponsor))
    gas("commitModel", market.bounties.commitModel(1, alice_real, sender=alice))
    chain.mine(1, timestamp=now + DAY + 1)
    gas(f"reveal (2 chunks, {len(data):,} B of test data)", market.bounties.reveal(1, chunks, b"\x02" * 32, data, sender=sponsor))

    p0, p1 = scenario.contestants[0].proofs
    m0, m1 = (p.proof[:128] + mock_point + p.proof[192:] for p in (p0, p1))
    gas("submitChunk, mock verifier (first chunk)", market.bounties.submitChunk(0, alice_mock, 0, m0, p0.instances, sender=bob))
    gas("submitChunk, mock verifier (last chunk: win + fee + credit)", market.bounties.submitChunk(0, alice_mock, 1, m1, p1.instances, sender=bob))
    gas("submitChunk, real verifier (digits-mlp16-n64)", market.bounties.submitChunk(1, alice_real, 0, p0.proof, p0.instances, sender=bob))
    gas("submitChunk, real verifier (last chunk, takes the lead)", market.bounties.submitChunk(1, alice_real, 1, p1.proof, p1.instances, sender=bob))
    chain.mine(1, timestamp=now + 3 * DAY + 1)
    gas("finalize (sealed, pays winner)", market.bounties.finalize(1, sender=sponsor))
    gas("withdraw", market.bounties.withdraw(usd, sender=alice))
    gas("flushFees (fees of both bounties to the vault)", market.bounties.flushFees(usd, sender=bob))

    _token_rows(deployer, a, gas)

    before = _snapshot(PROJECT_ROOT / "docs" / "market-gas.md")
    out = PROJECT_ROOT / "reports" / "market-gas.md"
    out.parent.mkdir(exist_ok=True)
    lines = ["# Model market — gas per call (py-evm, whole transaction)", "",
             "The calldata floor is EIP-7623's least a transaction with this calldata pays (21,000 + 10 per token; "
             "a zero byte is one token, any other byte four); goals are issue 22's, with a plain ERC20 as the "
             "payment token.", "",
             "| call | gas | calldata floor | goal | before (docs/market-gas.md) |", "|---|---|---|---|---|"]
    lines += [f"| {label} | {g:,} | {floor:,} | {_goal(label)} | {before.get(_key(label), '-')} |"
              for label, g, floor in rows]
    out.write_text("\n".join(lines) + "\n")
    click.echo(out.read_text())


def _token_rows(deployer, a, gas) -> None:
    """APY transfers beside OpenZeppelin anchors deployed here: an ERC20 transfer, an ERC20Votes transfer between
    holders who delegated to themselves, an ERC721 mint. Every transfer is between two accounts that already hold
    tokens, in a block of its own."""
    holder, other, third = a[4], a[5], a[6]
    plain = project.MockERC20.deploy("Plain", "P", sender=deployer)
    for h in (holder, other):
        plain.mint(h, 10**24, sender=deployer)
    gas("anchor: OpenZeppelin ERC20 transfer", plain.transfer(other, 10**18, sender=holder))
    votes = project.AnchorVotes.deploy([holder.address, other.address], 10**24, sender=deployer)
    for h in (holder, other):
        votes.invoke_transaction("delegate", h, sender=h)  # ape keeps `.delegate` for proxies
    chain.mine()
    gas("anchor: OpenZeppelin ERC20Votes transfer, both delegated", votes.transfer(other, 10**18, sender=holder))
    nft = project.AnchorNFT.deploy(sender=deployer)
    gas("anchor: OpenZeppelin ERC721 mint", nft.mint(holder, 1, sender=holder))

    # APY as deployed (a token of its own here, so that this account, its owner, can name a recorder that
    # announces a record block as the fee vault does when a distribution is made)
    apy = project.ApiaryToken.deploy([holder.address, other.address], [10**24, 10**24], sender=deployer)
    apy.setRecorder(third, sender=deployer)
    chain.mine()
    gas("APY transfer (no record block passed since either side's last change)",
        apy.transfer(other, 10**18, sender=holder))
    record = chain.blocks.height + 2
    apy.announceRecordBlock(record, sender=third)
    chain.mine(3)
    gas("APY transfer, first change of both sides after a record block (their balances recorded)",
        apy.transfer(other, 10**18, sender=holder))
    gas("APY transfer, the same two again (recorded already)", apy.transfer(other, 10**18, sender=holder))


GOALS = (  # issue 22, by the start of the call's label
    ("ModelRegistry.register", "≤ 140,000"),
    ("createOpen", "≤ 180,000 without the test data's calldata"),
    ("submitChunk, mock verifier", "≤ 60,000 without the verifier and the proof's calldata"),
    ("finalize", "≤ 60,000"),
    ("withdraw", "≤ 60,000"),
    ("flushFees", "≤ 60,000"),
    ("APY transfer", "≤ 80,000"),
)


def _goal(label: str) -> str:
    return next((goal for start, goal in GOALS if label.startswith(start)), "")


def calldata_floor(data: bytes) -> int:
    """EIP-7623's floor for a transaction's calldata: 21,000 + 10 per token (zero byte 1 token, other bytes 4)."""
    data = bytes(data or b"")
    zeros = data.count(0)
    return 21_000 + 10 * (zeros + 4 * (len(data) - zeros))


def _key(label: str) -> str:
    """A call's label without the measured sizes, so rows match across snapshots."""
    return re.sub(r", [\d,]+ B of test data", "", label)


def _snapshot(path) -> dict[str, str]:
    """Gas figures of the committed snapshot by call label (its first column), for the before/after column."""
    if not path.is_file():
        return {}
    rows = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) >= 2 and cells[1].replace(",", "").isdigit():
            rows[_key(cells[0])] = cells[1]
    return rows
