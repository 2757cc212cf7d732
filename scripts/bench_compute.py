"""Compute market load benchmark on anvil: jobs through the provider agent, jobs per agent-minute by mode, gas per
job by mode, the share of the agent's time spent proving; every job paid exactly once.

    ape run bench_compute --network ethereum:local:foundry [--optimistic 150] [--proof 40] [--digits 10]

(also run by `./dev bench`); writes reports/compute-bench.md; the committed snapshot is docs/compute-bench.md.
Phases: optimistic iris jobs (taken with their outputs; settled after the challenge window, audited ones proven),
proof-mode iris jobs, proof-mode digits-MLP jobs (2^17 rows: the evaluation circuit's domain), proven 16 at a time
with the batch circuit (submitProofBatch). Jobs name the provider, which takes each with its result. The requester posts
every job of a phase first; the agent's clock runs only while it works them.
"""

from __future__ import annotations

import platform
import tempfile
import time
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from apiary.agents.provider import ProviderAgent
from apiary.deploy.config import PROFILES, DeployConfig
from apiary.deploy.deploy import deploy_core
from apiary.deploy.market import deploy_market, enable_inference_by_governance
from apiary.paths import PROJECT_ROOT
from apiary.sdk import compute as sdk
from apiary.sdk.devnode import advance
from apiary.sdk.market import circuit_id, register_model
from apiary.zk import inference, pipeline
from apiary.zk import models as zk_models

ONE = 10**18


def _inputs(work: Path, dataset: str, n: int) -> list[Path]:
    data = zk_models.load_dataset(dataset)
    paths = []
    for i in range(n):
        row = data.features[i % len(data.features)]
        path = work / f"{dataset}-{i}.csv"
        path.write_text(",".join(str(int(v)) for v in row) + "\n")
        paths.append(path)
    return paths


def _gas_by_method(compute, first_block: int, last_block: int) -> dict[str, list[int]]:
    """Gas of every ComputeMarket transaction in the block range, by method name."""
    from ape import networks

    from eth_utils import function_abi_to_4byte_selector

    web3 = networks.provider.web3
    names = {function_abi_to_4byte_selector(abi.model_dump(mode="json", by_alias=True)): abi.name
             for abi in compute.contract_type.mutable_methods}
    out: dict[str, list[int]] = {}
    for number in range(first_block, last_block + 1):
        block = web3.eth.get_block(number, full_transactions=True)
        for tx in block.transactions:
            if tx["to"] != compute.address:
                continue
            name = names.get(bytes(tx["input"][:4]), "?")
            out.setdefault(name, []).append(int(web3.eth.get_transaction_receipt(tx["hash"])["gasUsed"]))
    return out


@click.command(cls=ConnectedProviderCommand)
@click.option("--optimistic", "n_opt", type=click.IntRange(0), default=150, show_default=True)
@click.option("--proof", "n_proof", type=click.IntRange(0), default=40, show_default=True)
@click.option("--digits", "n_digits", type=click.IntRange(0), default=32, show_default=True,
              help="Proof-mode jobs of the digits MLP (2^17 rows: about 20 s per proof on 2 cores).")
@click.option("--digits-slots", type=click.IntRange(1, 64), default=16, show_default=True,
              help="Inputs per digits proof (its batch circuit, verifiers/digits-mlp16-n64/inference-x<k>; 1: one "
                   "proof per job).")
@click.option("--out", type=click.Path(path_type=Path), default=PROJECT_ROOT / "reports" / "compute-bench.md")
def cli(ecosystem, network, n_opt, n_proof, n_digits, digits_slots, out):
    a = accounts.test_accounts
    deployer, alice, bob, provider = a[0], a[1], a[2], a[3]
    base = PROFILES["local"]
    core = deploy_core(project, deployer, DeployConfig(base.governance, base.fees, market=base.market,
                                                       holders=((alice.address, 1), (bob.address, 1), (provider.address, 1))))
    market = deploy_market(project, deployer, core)
    c, apy = market.compute, core.token
    start = int(chain.blocks.head.number)  # event scans start at the deployment, as a manifest's block says
    work = Path(tempfile.mkdtemp(prefix="apiary-compute-bench-"))
    client = sdk.ComputeClient(c, market.models, market.verifiers, start, {"ApiaryToken": apy.address})
    served = {}
    for name, dataset, arch, size, n, slots in (("iris-logreg-n8", "iris", "logreg", 120, n_opt + n_proof, 1),
                                                ("digits-mlp16-n64", "digits", "mlp", 1000, n_digits, digits_slots)):
        if not n:
            continue
        ic = enable_inference_by_governance(core, market, deployer, name, alice, [alice, bob], slots=slots)
        for each in [ic] + ([inference.open_inference(name, slots)] if slots > 1 else []):
            inference.ensure_keys(each)
        net = zk_models.train(zk_models.load_dataset(dataset), arch, size).to_network()
        model_id = register_model(market.models, alice, circuit_id(name), pipeline.model_commitment(ic.evaluation, net))
        served[name] = (model_id, ic, net, _inputs(work, dataset, n))
    for who in (alice, provider):
        apy.approve(c, 2**256 - 1, sender=who)
    c.stake(200_000 * ONE, sender=provider)
    lines: list[str] = []
    agent = ProviderAgent(client, provider, {m: (ic, net) for m, ic, net, _ in served.values()}, work / "agent.json",
                          poll_interval=0, log=lines.append)
    rows, checks = [], []
    price = 2 * ONE

    def phase(label: str, circuit: str, mode: str, jobs: list[Path]) -> None:
        if not jobs:
            return
        model_id, ic, _net, _ = served[circuit]
        first = int(chain.blocks.head.number) + 1
        # For the provider by name, as a requester who picked a provider does: it takes each job with its result
        ids = [sdk.post_job(client, alice, ic, model_id, path, token="ApiaryToken", price="2", collateral="20", hours=2,
                            mode=mode, provider=provider.address) for path in jobs]
        proving_before = float(agent.state["prove_seconds"])
        busy = 0.0  # the agent's own time: the bench's status polls between its ticks do not count
        while any(sdk.STATUS[int(c.job(j).status)] in ("open", "accepted") for j in ids):
            start = time.perf_counter()
            agent.run(max_ticks=agent.ticks + 1)
            busy += time.perf_counter() - start
        proving = float(agent.state["prove_seconds"]) - proving_before
        settle_s = 0.0
        if mode == "optimistic":
            advance(blocks=3, seconds=int(c.params().challengeWindow) + 10)
            for j in ids:  # the requester reveals each job's audit seed: the provider then finalizes or proves
                sdk.reveal_audit(client, alice, j)
            for _ in range(50):
                if all(sdk.STATUS[int(c.job(j).status)] == "paid" for j in ids):
                    break
                start = time.perf_counter()
                agent.run(max_ticks=agent.ticks + 1)
                settle_s += time.perf_counter() - start
                if any(int(c.job(j).proofDue) for j in ids):
                    advance(blocks=1)
            proving = float(agent.state["prove_seconds"]) - proving_before
        gas = _gas_by_method(c, first, int(chain.blocks.head.number))
        statuses = [sdk.STATUS[int(c.job(j).status)] for j in ids]
        posted = [len(list(c.ResultPosted.range(first, int(chain.blocks.head.number) + 1, search_topics={"jobId": j})))
                  for j in ids]
        checks.append((label, statuses.count("paid") == len(ids), posted == [1] * len(ids)))
        requester_calls = ("postJob", "revealAudit")
        per_job = {name: sum(v) / len(v) for name, v in gas.items() if name not in requester_calls}
        provider_gas = sum(sum(v) for name, v in gas.items() if name not in requester_calls) / len(ids)
        audited = sum(1 for j in ids if c.job(j).audited)
        rows.append((label, len(ids), busy, len(ids) / (busy / 60), proving / (busy + settle_s) if busy + settle_s else 0,
                     settle_s, audited, provider_gas, sum(gas.get("postJob", [0])) / len(ids), per_job))

    iris = served.get("iris-logreg-n8")
    if iris:
        phase("optimistic, iris logreg", "iris-logreg-n8", "optimistic", iris[3][:n_opt])
        phase("proof, iris logreg (2^11 rows)", "iris-logreg-n8", "proof", iris[3][n_opt:n_opt + n_proof])
    if "digits-mlp16-n64" in served:
        per = f"{digits_slots} per proof" if digits_slots > 1 else "one per proof"
        phase(f"proof, digits MLP (2^17 rows, {per})", "digits-mlp16-n64", "proof", served["digits-mlp16-n64"][3])

    total = sum(r[1] for r in rows)
    owed = int(c.owed(provider, apy))
    expected = total * (price - -(-price * int(core.vault.feeBps()) // 10_000))
    report = [
        "# Compute market — load benchmark",
        "",
        f"Machine: {platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}; "
        f"anvil via ape ({network.name}), one provider agent in process (ape, simulate-then-send transactions). "
        "Jobs per agent-minute: jobs over the agent's working time (the requester posts a phase's jobs first; the "
        "challenge window is excluded). Gas: mean per job of the provider's calls (accept, submitResult or "
        "submitProof or submitProofBatch, finalize; proveResult where audited; the requester's revealAudit is not counted).",
        "",
        "| phase | jobs | agent s | jobs / agent-min | proving share | settle after window s | audited | provider gas / job | postJob gas | per call |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, n, busy, rate, share, settle_s, audited, pgas, post_gas, per in rows:
        calls = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(per.items()))
        report.append(f"| {label} | {n} | {busy:.1f} | {rate:.1f} | {share:.0%} | {settle_s:.1f} | {audited} | "
                      f"{pgas:,.0f} | {post_gas:,.0f} | {calls} |")
    report += ["", f"Jobs: {total}; every job paid exactly once: "
               f"{all(ok and once for _, ok, once in checks)} (status paid, one ResultPosted each); the provider is owed "
               f"{owed / ONE:,.4f} APY = {total} × (2 APY − fee): {owed == expected}.", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(report) + "\n")
    click.echo("\n".join(report))
    if not all(ok and once for _, ok, once in checks) or owed != expected:
        raise click.ClickException("a job was lost or paid twice: see the report")
