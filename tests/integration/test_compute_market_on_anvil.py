"""The compute market's failure stories on anvil, every provider agent its own `ape run compute provider-agent`
process (the README's compute-flow block covers proof mode, the honest optimistic job and the watchdog):

* an agent killed (SIGKILL) while it holds a job, and restarted, finishes it without a second submission;
* a provider that took a job and vanished (no agent delivers) is slashed at the deadline by the requester's
  `ape run compute settle`, and the requester is refunded;
* with governance's audit rate at its maximum and no watchdog running, a provider agent configured to lie is
  audited and slashed (`settle` once its proof is overdue).

Deployment and governance run in the test through the SDK (what the CLI calls); agents and requester commands are
processes against the same node and the deployment manifest the test wrote.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from ape import networks

from apiary.deploy.deploy import deploy_core
from apiary.deploy.governance import LocalProposalRunner, Proposal, call
from apiary.deploy.market import deploy_market, enable_inference_by_governance
from apiary.paths import PROJECT_ROOT
from apiary.sdk import compute as sdk
from apiary.sdk.devnode import advance
from apiary.sdk.manifest import load_manifest, write_manifest
from apiary.sdk.market import circuit_id, register_model
from apiary.zk import pipeline, tasks

from tests.integration.test_readme_market_flow import anvil_node

ONE = 10**18
APE = str(PROJECT_ROOT / ".venv" / "bin" / "ape")


@pytest.mark.anvil
def test_compute_market__crash_vanish_audit__agents_as_processes_on_anvil(project, accounts, local_config, tmp_path):
    with anvil_node() as uri:
        _story(project, accounts, local_config, tmp_path, uri)


class _Agents:
    """Provider agents as processes, each writing to its own log file; every one is stopped at the end."""

    def __init__(self, uri: str, env: dict, model: str, logs: Path):
        self.uri, self.env, self.model, self.logs = uri, env, model, logs
        self.procs: list[tuple[subprocess.Popen, Path]] = []

    def start(self, index: int, *extra: str) -> subprocess.Popen:
        log = self.logs / f"agent-{index}-{len(self.procs)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [APE, "run", "compute", "provider-agent", "--model", self.model, "--network",
                 f"ethereum:local:{self.uri}", "--account", f"TEST::{index}", "--poll", "0.5", *extra],
                cwd=PROJECT_ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((proc, log))
        return proc

    def output(self, proc: subprocess.Popen) -> str:
        return next(log.read_text() for p, log in self.procs if p is proc)

    def kill(self, proc: subprocess.Popen, sig=signal.SIGKILL) -> str:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=60)
        return self.output(proc)

    def stop_all(self) -> str:
        return "\n".join(self.kill(p, signal.SIGTERM)[-3000:] for p, _ in self.procs)


def _cli(env: dict, uri: str, *args: str, account: int | None = None) -> subprocess.CompletedProcess:
    argv = [APE, "run", "compute", *args, "--network", f"ethereum:local:{uri}"]
    if account is not None:
        argv += ["--account", f"TEST::{account}"]
    return subprocess.run(argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)


def _wait(predicate, what: str, agents: _Agents, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}:\n{agents.stop_all()}")


def _story(project, accounts, local_config, tmp_path, uri):
    deployer, alice, whale = accounts[0], accounts[2], accounts[5]
    crashing, vanishing, liar = accounts[7], accounts[8], accounts[9]
    deployments = tmp_path / "deployments"
    env = {**os.environ, "APIARY_DEPLOYMENTS_DIR": str(deployments), "APIARY_STATE_DIR": str(tmp_path / "build")}
    model_file = tmp_path / "model.onnx"
    subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "apiary"), "zk", "train", "--dataset", "iris", "--arch",
                    "logreg", "--out", str(model_file)], check=True, capture_output=True, cwd=tmp_path, env=env)
    x = tmp_path / "x.csv"
    x.write_text("5.1,3.5,1.4,0.2\n")
    with networks.parse_network_choice(f"ethereum:local:{uri}") as provider:
        core = deploy_core(project, deployer, local_config)
        market = deploy_market(project, deployer, core)
        write_manifest("ethereum", "local", "node", provider.chain_id, deployer.address, 0,
                       {**core.contracts(), **market.contracts()}, {"profile": "local"}, directory=deployments)
        manifest = load_manifest("ethereum", "local", "node", provider.chain_id, directory=deployments)
        client = sdk.ComputeClient.from_manifest(manifest)
        client.state_dir = manifest.state_dir("compute", root=tmp_path / "build")  # where the CLI keeps audit seeds
        ic = enable_inference_by_governance(core, market, deployer, "iris-logreg-n8", whale, [whale, alice])
        net = tasks.load_model(ic.spec, model_file).integer
        model_id = register_model(market.models, alice, circuit_id(ic.evaluation.circuit_id),
                                  pipeline.model_commitment(ic.evaluation, net))
        c, apy = market.compute, core.token
        for who in (alice, crashing, vanishing, liar):
            if who != alice:
                apy.transfer(who, 5_000 * ONE, sender=whale)
            apy.approve(c, 2**256 - 1, sender=who)
        for who in (crashing, vanishing, liar):
            c.stake(2_000 * ONE, sender=who)
        agents = _Agents(uri, env, f"{model_id}={model_file}", tmp_path)
        window = int(c.params().challengeWindow)

        def post(mode: str, provider=None, hours: float = 1.0) -> int:
            return sdk.post_job(client, alice, ic, model_id, x, token="ApiaryToken", price="2", collateral="20",
                                hours=hours, mode=mode, provider=provider.address if provider else None)

        def status(job_id: int) -> str:
            return sdk.STATUS[int(c.job(job_id).status)]

        def results(job_id: int) -> int:
            return len(list(c.ResultPosted.range(0, int(provider.web3.eth.block_number) + 1,
                                                 search_topics={"jobId": job_id})))

        try:
            # ---- killed while holding a job, restarted: finishes it, one submission
            job = post("optimistic", crashing)
            first = agents.start(7)
            _wait(lambda: status(job) == "submitted", "the crashing agent's result", agents)
            out = agents.kill(first)  # SIGKILL: no clean shutdown, the job still open on chain
            assert f"job #{job} result posted" in out, out[-3000:]
            advance(blocks=2, seconds=window + 5)  # its challenge window passes while the agent is down
            assert sdk.reveal_audit(client, alice, job) is not None  # the requester's audit seed (audited: proven)
            restarted = agents.start(7)
            _wait(lambda: status(job) == "paid", "the restarted agent to finalize", agents)
            out = agents.kill(restarted, signal.SIGTERM)
            assert results(job) == 1, out[-3000:]
            assert f"job #{job} result posted" not in out, "the restarted agent submitted a second time"

            # ---- takes a job, then vanishes (no agent ever delivers): slashed at the deadline, requester refunded
            job = post("optimistic", hours=0.05)  # 3 minutes
            c.accept(job, sender=vanishing)  # what its agent did before the machine went away
            stake_before, owed_before = int(c.providerOf(vanishing).stake), int(c.owed(alice, apy))
            early = _cli(env, uri, "settle", "--job", str(job), account=2)
            assert early.returncode == 1 and "nothing is due" in early.stderr, early.stdout + early.stderr
            advance(blocks=1, seconds=200)  # past the deadline
            done = _cli(env, uri, "settle", "--job", str(job), account=2)
            assert done.returncode == 0 and f"job #{job} expired" in done.stdout, done.stdout + done.stderr
            assert status(job) == "slashed"
            assert int(c.providerOf(vanishing).stake) == stake_before - 20 * ONE
            assert int(c.owed(alice, apy)) >= owed_before + 2 * ONE  # the price back, plus its share of the slash

            # ---- audits at the maximum rate, no watchdog: the liar is audited, cannot prove, and is slashed
            params = list(c.params())
            params[6] = 5_000  # auditBps: the most the code allows
            LocalProposalRunner(core.governor, core.timelock).run(
                whale, [whale, alice], Proposal([call(c, "setParams", tuple(params))], "audit at the maximum rate"))
            liar_proc = agents.start(9, "--lie")

            audited = None
            for _ in range(24):  # each result audited with probability 1/2
                job = post("optimistic", liar)
                _wait(lambda j=job: status(j) == "submitted", "the liar's result", agents)
                advance(blocks=1, seconds=window + 1)  # the requester reveals its seed after the challenge window
                shown = _cli(env, uri, "reveal", "--job", str(job), account=2)
                assert shown.returncode == 0 and "audited" in shown.stdout, shown.stdout + shown.stderr
                if c.job(job).audited:
                    assert "not audited" not in shown.stdout
                    audited = job
                    break
            assert audited is not None, "24 results, none audited at a 50% rate"
            _wait(lambda: f"job #{audited} is audited and its posted outputs are not the model's" in agents.output(liar_proc),
                  "the liar to find that it cannot prove the audited result", agents)
            early = _cli(env, uri, "settle", "--job", str(audited), account=2)
            assert early.returncode == 1, early.stdout  # its proof is not overdue yet
            advance(blocks=1, seconds=int(c.params().responseWindow) + 5)
            done = _cli(env, uri, "settle", "--job", str(audited), account=2)
            assert done.returncode == 0, done.stdout + done.stderr
            assert status(audited) == "slashed"
            agents.kill(liar_proc, signal.SIGTERM)
        finally:
            agents.stop_all()
