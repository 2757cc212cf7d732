"""Data market benchmark: gas per call on the embedded chain, and the commitment tooling's hashing rate and peak
memory on a 1M-row file. `ape run bench_data [--rows N]` (also run by `./dev bench`); writes
reports/data-bench.md; the committed snapshot is docs/data-bench.md.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand
from eth_hash.auto import keccak

from apiary.data import attest, exchange, merkle
from apiary.data.bench import hashing_rate
from apiary.deploy.config import PROFILES, DeployConfig
from apiary.deploy.deploy import deploy_core
from apiary.deploy.governance import LocalProposalRunner, Proposal, call
from apiary.deploy.market import deploy_market
from apiary.paths import PROJECT_ROOT

DAY = 24 * 3600


def _csv(path: Path, values) -> Path:
    path.write_text("a,b\n" + "".join(f"{v},{v * 3}\n" for v in values))
    return path


@click.command(cls=ConnectedProviderCommand)
@click.option("--rows", type=click.IntRange(1000), default=1_000_000, show_default=True, help="Rows of the hashing test.")
def cli(ecosystem, network, rows):
    a = accounts.test_accounts
    deployer, alice, bob, carol = a[0], a[1], a[2], a[3]
    base = PROFILES["local"]
    core = deploy_core(project, deployer, DeployConfig(base.governance, base.fees, market=base.market,
                                                       holders=((alice.address, 1), (bob.address, 1), (carol.address, 1))))
    m = deploy_market(project, deployer, core)
    reg, mk, apy = m.datasets, m.data_market, core.token
    for who in (alice, bob, carol):
        apy.approve(reg, 2**256 - 1, sender=who)
        apy.approve(mk, 2**256 - 1, sender=who)
    out: list[tuple[str, int]] = []

    def gas(label, receipt):
        out.append((label, receipt.gas_used))
        return receipt

    work = Path(tempfile.mkdtemp(prefix="apiary-data-bench-"))
    camera_p256, camera_k1 = attest.new_device_key(attest.KeyType.P256), attest.new_device_key(attest.KeyType.SECP256K1)
    runner = LocalProposalRunner(core.governor, core.timelock)
    runner.run(alice, [alice, bob], Proposal([call(m.devices, "register", int(k.key_type), *k.public)
                                              for k in (camera_p256, camera_k1)], "Register two cameras"))

    def register(who, c, label=None, price=10**18):
        salt = os.urandom(32)
        r1 = reg.commit(reg.seal(who, c.root, salt), sender=who)
        r2 = reg.register((c.root, c.rows, c.schema_hash, "ipfs://d", apy.address, price), salt, sender=who)
        if label:
            gas("DatasetRegistry.commit (seal)", r1)
            gas(f"DatasetRegistry.register ({label})", r2)
        return int(reg.datasetIdOf(c.root))

    a_file = _csv(work / "a.csv", range(1000))
    a = merkle.commit_file(a_file)
    a_id = register(alice, a, "stake locked, token minted")
    digest = reg.attestationDigest(a.root, a.rows, a.schema_hash)
    gas("DatasetRegistry.attest (P-256, Solidity verifier: no RIP-7212 precompile here)",
        reg.attest(a_id, camera_p256.device_id, camera_p256.sign(digest), sender=bob))
    # The first attestation by an active device stands: the secp256k1 camera attests a dataset of its own.
    k1 = merkle.commit_file(_csv(work / "k1.csv", range(2000, 2100)))
    k1_id = register(alice, k1)
    k1_digest = reg.attestationDigest(k1.root, k1.rows, k1.schema_hash)
    gas("DatasetRegistry.attest (secp256k1)", reg.attest(k1_id, camera_k1.device_id, camera_k1.sign(k1_digest),
                                                         sender=bob))
    copy = merkle.commit_file(_csv(work / "copy.csv", range(900, 1100)))
    copy_id = register(bob, copy)
    shared = merkle.shared_rows(copy, a, int(reg.minDuplicateRows()))
    salt = os.urandom(32)
    gas("DatasetRegistry.commitChallenge", reg.commitChallenge(reg.challengeCommitment(carol, copy_id, a_id, shared, salt), sender=carol))
    gas(f"DatasetRegistry.challengeDuplicate ({len(shared)} rows, trees of {copy.rows} and {a.rows} rows)",
        reg.challengeDuplicate(copy_id, a_id, shared, [copy.proof(h) for h in shared], [a.proof(h) for h in shared], salt,
                               sender=carol))
    chain.mine(1, deltatime=int(reg.CLAIM_PERIOD()) + 1)
    gas("DatasetRegistry.claimChallengeReward (after the claim period)", reg.claimChallengeReward(copy_id, sender=carol))
    chain.mine(5)

    pkg, key = exchange.build_package(a_file, work / "a.apkg")
    gas("DataMarket.list (bond locked)", mk.list(a_id, pkg.cipher_root, keccak(key), 3600, DAY, "ipfs://p", sender=alice))

    def sale(honest=True):
        buyer_key = exchange.OneTimeKey.new()
        r = mk.buy(1, mk.listing(1).cipherRoot, apy, 10**18, *buyer_key.public, buyer_key.sign(mk.buyerKeyDigest(bob, 1, mk.listing(1).cipherRoot)), sender=bob)
        sale_id = int(next(iter(r.events.filter(mk.Purchased))).saleId)
        info = exchange.key_info(chain.chain_id, mk.address, sale_id)
        eph, enc = exchange.deliver_key(key if honest else os.urandom(32), buyer_key.public, info)
        return r, sale_id, buyer_key, eph, mk.deliver(sale_id, exchange.key_id(buyer_key.public), *eph, enc, sender=alice)

    r_buy, s1, k1, e1, r_deliver = sale()
    gas("DataMarket.buy", r_buy)
    gas("DataMarket.deliver", r_deliver)
    # past the dispute window and the dataset's duplicate challenges (no sale settles before them)
    chain.mine(1, timestamp=max(int(chain.blocks.head.timestamp) + DAY + 10, int(reg.releasableAt(a_id))))
    gas("DataMarket.settle", mk.settle(s1, sender=carol))
    # a wrong-key dispute inside the window of a fresh sale
    _, s3, k3, e3, _ = sale(honest=False)
    gas("DataMarket.dispute (wrong key: ECDH checked by ecrecover, HKDF by SHA-256)",
        mk.dispute(s3, exchange.evidence(pkg, k3, e3, None), sender=bob))
    gas("DataMarket.withdraw", mk.withdraw(apy, sender=alice))
    gas("DataMarket.flushFees", mk.flushFees(apy, sender=carol))

    # a bad package: one row of the file changed; the dispute decrypts that piece on chain
    b_real = _csv(work / "b.csv", range(5000, 6000))
    b = merkle.commit_file(b_real)
    b_id = register(carol, b)
    chain.mine(5)
    fake = _csv(work / "b-fake.csv", [v if v != 5500 else 1 for v in range(5000, 6000)])
    bad_pkg, bad_key = exchange.build_package(fake, work / "b.apkg")
    bad_pkg.leaves = [bytes(x) for x in b.leaves]
    mk.list(b_id, bad_pkg.cipher_root, keccak(bad_key), 3600, DAY, "ipfs://b", sender=carol)
    buyer_key = exchange.OneTimeKey.new()
    sale_id = int(next(iter(mk.buy(2, mk.listing(2).cipherRoot, apy, 10**18, *buyer_key.public, buyer_key.sign(mk.buyerKeyDigest(bob, 2, mk.listing(2).cipherRoot)), sender=bob).events.filter(mk.Purchased))).saleId)
    eph, enc = exchange.deliver_key(bad_key, buyer_key.public, exchange.key_info(chain.chain_id, mk.address, sale_id))
    mk.deliver(sale_id, exchange.key_id(buyer_key.public), *eph, enc, sender=carol)
    index = exchange.open_package(bad_pkg, bad_key).bad_index
    gas(f"DataMarket.dispute (bad package: piece of {bad_pkg.lengths[index]} B decrypted, trees of {b.rows} rows)",
        mk.dispute(sale_id, exchange.evidence(bad_pkg, buyer_key, eph, index), sender=bob))

    click.echo(f"hashing {rows:,} rows ...", err=True)
    seconds, peak, n, size = hashing_rate(rows, work)
    lines = ["# Data market — gas per call and commitment tooling", "",
             "Gas on py-evm (eth-tester), whole transaction. The P-256 attestation runs OpenZeppelin's Solidity "
             "verifier; on a chain with the RIP-7212 precompile it costs ~3.5k gas for the check.", "",
             "| call | gas |", "|---|---|"]
    lines += [f"| {label} | {g:,} |" for label, g in out]
    lines += ["", f"## Commitment tooling: {n:,} rows ({size / 1e6:,.1f} MB of CSV)", "",
              "| rows | seconds | rows per second | peak memory (MB, own process) |", "|---|---|---|---|",
              f"| {n:,} | {seconds:.1f} | {n / seconds:,.0f} | {peak:,} |"]
    report = PROJECT_ROOT / "reports" / "data-bench.md"
    report.parent.mkdir(exist_ok=True)
    report.write_text("\n".join(lines) + "\n")
    click.echo(report.read_text())
