"""The data market end to end on anvil: registrations (one camera-attested), an exact duplicate rejected, a
partial copy challenged and slashed, a licence bought and delivered by the seller's agent running as a separate
process, the buyer's file equal byte for byte to the original; a seller who delivers a wrong key and one whose
package is not the registered data both lose the dispute; the vault holds the fees; a model trained on licensed
data cites it, wins a real iris bounty (ezkl proof, on-chain verifier), and the dataset's owner gets the royalty.

The test starts anvil as `./dev node` does (chain id 1337), drives the chain through the SDK (what the CLI calls)
and starts `ape run data deliver-agent` as its own process against the same node, with the deployment manifest
the test wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import time
from pathlib import Path

import pytest
from ape import networks
from eth_hash.auto import keccak

from apiary.data import attest, exchange, merkle
from apiary.deploy.deploy import deploy_core
from apiary.deploy.governance import LocalProposalRunner, Proposal, call
from apiary.deploy.market import deploy_market
from apiary.paths import PROJECT_ROOT
from apiary.sdk import data as sdk
from apiary.sdk.devnode import advance
from apiary.sdk.errors import ApiaryCliError
from apiary.sdk.manifest import load_manifest, write_manifest

from tests.integration.test_readme_market_flow import anvil_node

ONE = 10**18
HOUR, DAY = 3600, 24 * 3600


def _rows(path: Path, values, header="day,region,units"):
    path.write_text(header + "\n" + "".join(f"{v},r{v % 5},{v * 7 % 101}\n" for v in values))
    return path


def _fake_package(real: Path, fake: Path, out: Path) -> tuple[exchange.Package, bytes]:
    """A package of `fake`'s rows that publishes `real`'s leaves: it passes a buyer's checks before paying."""
    pkg, key = exchange.build_package(fake, out)
    leaves = merkle.commit_file(real).leaves.tobytes()
    data = bytearray(out.read_bytes())
    (size,) = struct.unpack(">I", data[8:12])
    start = 12 + size
    data[start : start + len(leaves)] = leaves
    out.write_bytes(bytes(data))
    return exchange.read_package(out), key


@pytest.mark.anvil
def test_data_market__end_to_end_on_anvil(project, accounts, local_config, tmp_path):
    deployer, alice, bob, carol, whale, attacker = (accounts[i] for i in (0, 2, 3, 4, 5, 6))
    deployments, state = tmp_path / "deployments", tmp_path / "state"
    with anvil_node() as uri:
        _story(project, accounts, local_config, tmp_path, uri, deployer, alice, bob, carol, whale, attacker,
               deployments, state)


def _story(project, accounts, local_config, tmp_path, uri, deployer, alice, bob, carol, whale, attacker, deployments,
           state):
    with networks.parse_network_choice(f"ethereum:local:{uri}") as provider:
        # ---- deployment, as ./dev deploy does; the manifest names the node as the CLI sees it
        core = deploy_core(project, deployer, local_config)
        market = deploy_market(project, deployer, core)
        write_manifest("ethereum", "local", "node", provider.chain_id, deployer.address, 0,
                       {**core.contracts(), **market.contracts()}, {"profile": "local"}, directory=deployments)
        manifest = load_manifest("ethereum", "local", "node", provider.chain_id, directory=deployments)
        client = sdk.DataClient.from_manifest(manifest)
        apy = core.token
        for who in (alice, bob, carol, attacker):
            apy.transfer(who, 10_000 * ONE, sender=whale)

        # ---- governance registers a camera (P-256, as C2PA cameras sign)
        camera = attest.new_device_key(attest.KeyType.P256)
        runner = LocalProposalRunner(core.governor, core.timelock)
        runner.run(whale, [whale, alice], Proposal([call(client.devices, "register", int(camera.key_type), *camera.public)],
                                                   "Register a camera"))
        assert client.devices.isActive(camera.device_id)

        # ---- alice registers her data and has the camera attest it; whale registers other data
        a_file = _rows(tmp_path / "a.csv", range(120))
        a_id, fresh = sdk.register_dataset(client, alice, a_file, state, price="25", token="ApiaryToken")
        sdk.attest_dataset(client, alice, a_id, camera)
        assert fresh and client.datasets.isAttested(a_id)
        w_file = _rows(tmp_path / "w.csv", range(1000, 1060))
        w_id, _ = sdk.register_dataset(client, whale, w_file, state, price="10", token="ApiaryToken")

        # ---- an exact duplicate (same rows, other order and format) is rejected, nothing staked
        import pyarrow as pa
        import pyarrow.parquet as pq

        values = list(range(120))[::-1]
        pq.write_table(pa.table({"day": values, "region": [f"r{v % 5}" for v in values],
                                 "units": [v * 7 % 101 for v in values]}), tmp_path / "copy.parquet")
        nonce = bob.nonce
        with pytest.raises(ApiaryCliError, match=f"these rows are dataset #{a_id} already"):
            sdk.register_dataset(client, bob, tmp_path / "copy.parquet", state / "bob")
        assert bob.nonce == nonce and client.datasets.totalDatasets() == 2  # nothing sent

        # ---- a partial copy is challenged and slashed
        p_file = _rows(tmp_path / "partial.csv", range(100, 180))  # 20 of alice's rows
        p_id, _ = sdk.register_dataset(client, attacker, p_file, state / "attacker")
        stake = int(client.datasets.dataset(p_id).stake)
        shown = sdk.challenge_duplicate(client, carol, p_id, p_file, a_id, a_file, state / "carol")
        assert shown >= 4 and client.datasets.dataset(p_id).duplicate
        advance(blocks=1, seconds=int(client.datasets.CLAIM_PERIOD()) + 1)  # no earlier-committed challenge came
        assert sdk.claim_challenge_reward(client, bob, p_id) == [(carol.address, stake // 2)]
        assert int(client.datasets.owed(carol, apy)) == stake // 2
        assert int(client.datasets.feesPending(apy)) == stake - stake // 2

        # ---- alice lists; her delivery agent runs as a separate process
        advance(blocks=5)  # registrations final (seal window of the local profile)
        listing_a = sdk.list_dataset(client, alice, a_id, a_file, tmp_path / "a.apkg", state)
        env = {**os.environ, "APIARY_DEPLOYMENTS_DIR": str(deployments), "APIARY_STATE_DIR": str(tmp_path / "build")}
        key_dir = tmp_path / "build" / "data" / manifest.deployment_key
        key_dir.mkdir(parents=True)
        for record in state.glob("listing-key-*.json"):
            shutil.copy(record, key_dir / record.name)  # the agent reads the keys `list` stored
        agent = subprocess.Popen(
            [str(PROJECT_ROOT / ".venv" / "bin" / "ape"), "run", "data", "deliver-agent", "--network",
             f"ethereum:local:{uri}", "--account", "TEST::2", "--poll", "0.5"],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        try:
            sale_ok = sdk.buy_licence(client, bob, listing_a, tmp_path / "a.apkg", "25", state / "bob")
            try:
                fetched = sdk.fetch_licence(client, bob, sale_ok, tmp_path / "a.apkg", tmp_path / "bought.csv",
                                            state / "bob", wait=120)
            except ApiaryCliError:
                if agent.poll() is None:
                    os.killpg(agent.pid, signal.SIGTERM)
                pytest.fail("the agent did not deliver:\n" + agent.communicate(timeout=60)[0][-4000:])
            assert fetched.outcome == "ok" and (tmp_path / "bought.csv").read_bytes() == a_file.read_bytes()

            # ---- whale delivers a wrong key: carol proves it and is refunded, whale's bond is slashed
            listing_w = sdk.list_dataset(client, whale, w_id, w_file, tmp_path / "w.apkg", state / "whale")
            sale_w = sdk.buy_licence(client, carol, listing_w, tmp_path / "w.apkg", "10", state / "carol")
            s = client.market.sale(sale_w)
            info = exchange.key_info(provider.chain_id, client.market.address, sale_w)
            ephemeral, enc = exchange.deliver_key(b"\x13" * 32, (int(s.buyerKeyX), int(s.buyerKeyY)), info)
            client.market.deliver(sale_w, exchange.key_id((int(s.buyerKeyX), int(s.buyerKeyY))), *ephemeral, enc,
                                  sender=whale)
            result = sdk.fetch_licence(client, carol, sale_w, tmp_path / "w.apkg", tmp_path / "w-out.csv", state / "carol")
            assert result.outcome == "disputed: wrong key"
            bond = int(client.market.listing(listing_w).bond)
            assert int(client.market.owed(carol, apy)) == 10 * ONE + bond // 2

            # ---- attacker registers real data but packages other rows: bob proves piece i is not row i
            x_real = _rows(tmp_path / "x.csv", range(5000, 5040))
            x_fake = _rows(tmp_path / "x-fake.csv", [5000 + v if v != 17 else 9999 for v in range(40)])
            x_id, _ = sdk.register_dataset(client, attacker, x_real, state / "attacker", price="5", token="ApiaryToken")
            advance(blocks=5)
            pkg, key = _fake_package(x_real, x_fake, tmp_path / "x.apkg")
            apy.approve(client.market, 10**30, sender=attacker)
            listed = client.market.list(x_id, pkg.cipher_root, keccak(key), HOUR, DAY, "x.apkg", sender=attacker)
            listing_x = int(next(iter(listed.events.filter(client.market.Listed))).listingId)
            sale_x = sdk.buy_licence(client, bob, listing_x, tmp_path / "x.apkg", "5", state / "bob")
            sdk.deliver_sale(client, attacker, sale_x, key)
            result = sdk.fetch_licence(client, bob, sale_x, tmp_path / "x.apkg", tmp_path / "x-out.csv", state / "bob")
            assert result.outcome == "disputed: bad package" and client.market.listing(listing_x).fraud == 2

            # ---- after the dispute window, once alice's dataset can no longer be proven a copy, the agent settles
            # her sale; the vault gets the fees
            from ape import chain

            payable_in = int(client.datasets.releasableAt(a_id)) - int(chain.blocks.head.timestamp)
            advance(blocks=1, seconds=max(DAY, payable_in) + 60)
            deadline = time.monotonic() + 120
            while sdk.SALE_STATES[int(client.market.saleState(sale_ok))] != "settled" and time.monotonic() < deadline:
                time.sleep(0.5)
            assert sdk.SALE_STATES[int(client.market.saleState(sale_ok))] == "settled"
        finally:
            if agent.poll() is None:
                os.killpg(agent.pid, signal.SIGTERM)
            output, _ = agent.communicate(timeout=60)
        assert f"delivered sale #{sale_ok}" in output and f"settled sale #{sale_ok}" in output, output[-3000:]
        assert output.count(f"delivered sale #{sale_ok}") == 1
        status = subprocess.run(
            [str(PROJECT_ROOT / ".venv" / "bin" / "ape"), "run", "data", "deliver-agent", "--network",
             f"ethereum:local:{uri}", "--account", "TEST::2", "--status"],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert json.loads(status.stdout.strip().splitlines()[-1])["delivered"] == [sale_ok], status.stdout + status.stderr

        sale_fee = -(-25 * ONE * int(core.vault.feeBps()) // 10_000)
        market_fees, registry_fees = int(client.market.feesPending(apy)), int(client.datasets.feesPending(apy))
        # the vault's halves of two slashed bonds and of the slashed stake, and the fee of the settled sale
        assert market_fees == sale_fee + 2 * (bond - bond // 2) and registry_fees == stake - stake // 2
        before = int(core.vault.unallocated(apy))
        client.market.flushFees(apy, sender=bob)
        client.datasets.flushFees(apy, sender=bob)
        assert int(core.vault.unallocated(apy)) == before + market_fees + registry_fees
        for contract in (client.market, client.datasets):
            assert int(contract.escrowed(apy)) == int(contract.locked(apy)) + int(contract.totalOwed(apy)) + \
                int(contract.feesPending(apy)) + int(contract.burned(apy))

        # ---- bob, who licensed alice's data, trains on it, cites it, and wins a real iris bounty (ezkl proof,
        # on-chain verifier): alice receives the royalty through the settlement base
        _royalty(project, core, market, manifest, client, deployer, whale, alice, bob, a_id, tmp_path)


def _royalty(project, core, market, manifest, client, deployer, whale, alice, bob, a_id, tmp_path):
    from apiary.deploy.market import register_circuit_by_governance
    from apiary.sdk import bounties as bsdk
    from apiary.zk import evm, pipeline, tasks
    from apiary.zk import models as zk_models

    circuit = pipeline.open_circuit("iris-logreg-n8")
    verifier = evm.deploy_with_ape(circuit, deployer)
    register_circuit_by_governance(core, market, circuit.circuit_id, verifier.address, circuit.manifest_sha256, 8,
                                   whale, [whale, alice])
    zk_models.train(zk_models.load_dataset("iris"), "logreg", 120).save(tmp_path / "model.json")
    model = tasks.load_model(circuit.spec, tmp_path / "model.json").integer
    models = bsdk.Market.from_manifest(manifest)
    model_id, _ = bsdk.register_model(models, bob, circuit.circuit_id, pipeline.model_commitment(circuit, model), "",
                                      tmp_path / "bob-models")
    assert client.market.isLicensed(a_id, bob)
    client.provenance.cite(model_id, [a_id], sender=bob)
    bps = int(client.provenance.royaltyBps())
    assert bps > 0

    apy = models.token("ApiaryToken")
    reward = 1_000 * ONE
    chunks, test_data = bsdk.test_set_of(circuit, 1)
    bounty_id = bsdk.create_bounty(models, whale, bsdk.CreateTerms(circuit.circuit_id, apy, reward, 1, chunks, test_data))
    owed_before = int(models.bounties.owed(alice, apy.address))
    results = bsdk.prove_and_submit(models, bob, bounty_id, model_id, circuit, model, cache=tmp_path / "proofs")
    assert results and int(models.bounties.bounty(bounty_id).status) == 1  # paid at once: an open bounty, met
    part = reward * bps // 10_000  # the cited dataset's share, charged the fee like the winner's part
    assert int(models.bounties.owed(alice, apy.address)) - owed_before == part - int(core.vault.feeOn(part))
    assert int(models.bounties.owed(bob, apy.address)) == reward - part - int(core.vault.feeOn(reward - part))
    assert int(models.bounties.escrowed(apy.address)) == int(models.bounties.totalOwed(apy.address)) + \
        int(models.bounties.feesPending(apy.address))
