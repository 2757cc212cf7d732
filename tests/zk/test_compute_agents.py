"""Compute-market agents in process on the embedded chain, with the real iris circuits (evaluation and inference
verifiers registered through governance, real proofs): proof-mode jobs settle; an honest optimistic job settles
after its window; a provider configured to lie is challenged by the watchdog, cannot answer and is slashed; an
agent that crashed between accepting and submitting resumes without a second submission; a provider that
vanishes is slashed and the requester refunded; a sampled audit catches a liar with no watchdog running.

(On anvil with every agent its own process: the README compute-flow block and
tests/integration/test_compute_market_on_anvil.py.)
"""

from __future__ import annotations

import pytest

from apiary.agents.provider import ProviderAgent
from apiary.agents.watchdog import Watchdog
from apiary.deploy.governance import LocalProposalRunner, Proposal, call
from apiary.deploy.market import deploy_market, enable_inference_by_governance, register_inference_by_governance
from apiary.sdk import compute as sdk
from apiary.sdk.devnode import advance
from apiary.sdk.market import circuit_id, register_model
from apiary.zk import evm, inference, pipeline
from apiary.zk import models as zk_models

ONE = 10**18


def step(agent, ticks=1):
    """`Agent.run(max_ticks)` counts every tick the agent ever ran: run `ticks` more."""
    agent.run(max_ticks=agent.ticks + ticks)


@pytest.fixture
def stack(project, deployer, core, whale, alice, accounts, tmp_path, chain):
    start = int(chain.blocks.head.number)  # event scans start here, as a manifest's deployment block does
    market = deploy_market(project, deployer, core)
    ic = enable_inference_by_governance(core, market, deployer, "iris-logreg-n8", whale, [whale, alice])
    net = zk_models.train(zk_models.load_dataset("iris"), "logreg", 120).to_network()
    model_id = register_model(market.models, alice, circuit_id(ic.evaluation.circuit_id),
                              pipeline.model_commitment(ic.evaluation, net))
    client = sdk.ComputeClient(market.compute, market.models, market.verifiers, start,
                               {"ApiaryToken": core.token.address}, state_dir=tmp_path / "secrets")
    providers = [accounts[7], accounts[8], accounts[9]]
    for who in (*providers, accounts[6], alice):
        if who != alice:
            core.token.transfer(who, 10_000 * ONE, sender=whale)
        core.token.approve(market.compute, 2**256 - 1, sender=who)
    for p in providers:
        market.compute.stake(2_000 * ONE, sender=p)
    x = tmp_path / "x.csv"
    x.write_text("5.1,3.5,1.4,0.2\n")
    return core, market, client, ic, net, model_id, providers, x


@pytest.fixture
def batch_stack(stack, deployer, whale, alice):
    """`stack` with iris's batch circuit of 4 inputs deployed, registered and enabled through governance."""
    core, market = stack[0], stack[1]
    batch = inference.open_inference("iris-logreg-n8", 4)
    verifier = evm.deploy_with_ape(batch, deployer, name="Halo2Verifier_iris_logreg_n8_infer_x4")
    register_inference_by_governance(core, market, batch, verifier.address, whale, [whale, alice])
    return stack


def test_agents__proof_optimistic_liar_crash_vanish_audit(stack, tmp_path, alice, carol, accounts, chain):
    core, market, client, ic, net, model_id, providers, x = stack
    c, apy = market.compute, core.token
    lines: list[str] = []

    def make(i, lie=False):
        return ProviderAgent(client, providers[i], {model_id: (ic, net)}, tmp_path / f"p{i}.json", poll_interval=0,
                             log=lines.append, lie=lie)

    honest, second, liar = make(0), make(1), make(2, lie=True)
    watchdog = Watchdog(client, carol, {model_id: (ic, net)}, tmp_path / "w.json", poll_interval=0, log=lines.append)

    def post(mode, provider, collateral="20"):
        return sdk.post_job(client, alice, ic, model_id, x, token="ApiaryToken", price="2", collateral=collateral,
                            hours=1, mode=mode, provider=provider.address)

    # proof mode: settles at once
    job = post("proof", providers[0])
    step(honest, 1)
    assert sdk.STATUS[int(c.job(job).status)] == "paid"
    assert sdk.outputs_of(client, job) == inference.outputs_of(net, inference.read_input(ic, x))

    # optimistic, honest: the watchdog agrees; after the window the requester reveals its audit seed, and the
    # provider is paid (a sampled audit is answered with a proof)
    job = post("optimistic", providers[1])
    step(second, 1)
    step(watchdog, 1)
    assert c.job(job).challenger == sdk.ZERO and sdk.STATUS[int(c.job(job).status)] == "submitted"
    advance(blocks=1, seconds=130)
    step(second, 1)
    assert sdk.STATUS[int(c.job(job).status)] == "submitted"  # waiting for the requester's seed
    assert sdk.reveal_audit(client, alice, job) is not None
    step(second, 3)
    assert sdk.STATUS[int(c.job(job).status)] == "paid", lines[-5:]

    # a liar: challenged by the watchdog (nobody knows the audit draw while challenges are open), cannot
    # answer, slashed
    job = post("optimistic", providers[2])
    step(liar, 1)
    step(watchdog, 1)
    assert c.job(job).challenger == carol.address, lines[5:]
    assert int(c.job(job).proofDue)
    step(liar, 1)
    assert any("no proof exists" in line for line in lines)
    advance(blocks=1, seconds=700)
    step(watchdog, 1)
    assert sdk.STATUS[int(c.job(job).status)] == "slashed"
    assert int(c.owed(alice, apy)) >= 2 * ONE  # refunded (plus the requester's share)

    # crash between accept and submit: the restarted agent submits once
    job = post("proof", providers[0])
    c.accept(job, sender=providers[0])  # what the crashed agent had done
    restarted = make(0)
    step(restarted, 2)
    assert sdk.STATUS[int(c.job(job).status)] == "paid"
    posted = list(c.ResultPosted.range(0, int(chain.blocks.head.number) + 1, search_topics={"jobId": job}))
    assert len(posted) == 1

    # a provider that accepts and vanishes: slashed at the deadline, requester refunded
    job = post("optimistic", providers[1])
    c.accept(job, sender=providers[1])
    advance(blocks=1, seconds=3_700)
    before = int(c.owed(alice, apy))
    assert sdk.settle_if_due(client, alice, job) == "expired"
    assert sdk.STATUS[int(c.job(job).status)] == "slashed" and int(c.owed(alice, apy)) > before

    # a sampled audit (governance raises the rate to 50%) catches the liar with no watchdog running
    params = list(c.params())
    params[6] = 5_000
    LocalProposalRunner(core.governor, core.timelock).run(
        accounts[5], [accounts[5], alice], Proposal([call(c, "setParams", tuple(params))], "audit half"))
    caught = None
    for _ in range(30):
        job = post("optimistic", providers[2])
        step(liar, 1)
        advance(blocks=2, seconds=130)
        sdk.reveal_audit(client, alice, job)  # the requester's seed, after the window
        step(liar, 1)  # finalizes, or finds its job audited
        if sdk.STATUS[int(c.job(job).status)] == "submitted" and c.job(job).audited:
            caught = job
            break
    assert caught, "no audit in 30 draws at 50%"
    advance(blocks=1, seconds=700)
    assert sdk.settle_if_due(client, alice, caught) == "slashed"
    status = liar.status()
    assert caught in status["submitted"] and status["prove_seconds"] == 0


def test_watchdog__audits_unknown_while_challenges_are_open__every_lie_challenged_no_tick_fails(
        stack, tmp_path, alice, carol, accounts):
    """With audits at 50%, nobody can tell the audited results while challenges are open (the requester's seed
    comes out after the window): the watchdog challenges every lie — committed, then revealed a block later —
    every lie has a proof due, and no tick fails. The requester's reveal afterwards changes nothing for them."""
    core, market, client, ic, net, model_id, providers, x = stack
    c = market.compute
    params = list(c.params())
    params[6] = 5_000
    LocalProposalRunner(core.governor, core.timelock).run(
        accounts[5], [accounts[5], alice], Proposal([call(c, "setParams", tuple(params))], "audit half"))
    lines: list[str] = []
    liar = ProviderAgent(client, providers[2], {model_id: (ic, net)}, tmp_path / "p.json", poll_interval=0,
                         log=lines.append, lie=True)
    watchdog = Watchdog(client, carol, {model_id: (ic, net)}, tmp_path / "w.json", poll_interval=0, log=lines.append)
    jobs = []
    for _ in range(3):
        jobs.append(sdk.post_job(client, alice, ic, model_id, x, token="ApiaryToken", price="2", collateral="20",
                                 hours=1, mode="optimistic", provider=providers[2].address))
        step(liar, 1)
        step(watchdog, 1)
        j = c.job(jobs[-1])
        assert j.challenger == carol.address and int(j.proofDue) and any(bytes(j.auditSeedHash)), lines[-4:]
        assert not j.drawn
    advance(seconds=int(c.params().challengeWindow) + 1)
    for job in jobs:
        assert sdk.reveal_audit(client, alice, job) is not None  # drawn; the proof was due anyway
        assert c.job(job).challenger == carol.address
    assert not any("tick failed" in line or "(retrying)" in line for line in lines), lines
    assert not list(client.secrets().glob("challenge-*")), "a revealed challenge's salt is not kept"


def test_challenge__a_crash_between_commit_and_reveal__the_rerun_reveals_the_same_bond(stack, alice, carol):
    """The salt is written before the commitment is sent: a rerun finds the commitment on chain and reveals it,
    instead of locking a second bond behind a new one."""
    core, market, client, ic, net, model_id, providers, x = stack
    c = market.compute
    job = sdk.post_job(client, alice, ic, model_id, x, token="ApiaryToken", price="2", collateral="20", hours=1,
                       mode="optimistic", provider=providers[1].address)
    c.submitResult(job, [1, 2, 3], sender=providers[1])
    original = sdk.send

    def crash_after_commit(method, *args, sender, **kwargs):
        if method.abis[0].name == "challenge":  # committed; the process dies before the reveal is sent
            raise KeyboardInterrupt
        return original(method, *args, sender=sender, **kwargs)

    before = core.token.balanceOf(carol)
    sdk.send = crash_after_commit
    try:
        with pytest.raises(KeyboardInterrupt):
            sdk.challenge_job(client, carol, job)
    finally:
        sdk.send = original
    assert c.job(job).challenger == sdk.ZERO
    assert sdk.challenge_job(client, carol, job)
    bond = int(c.job(job).terms.challengeBond)
    assert c.job(job).challenger == carol.address and before - core.token.balanceOf(carol) == bond


def test_agent__price_policy__jobs_paid_in_other_tokens_or_below_the_minimum_are_left_alone(
        stack, project, tmp_path, alice, deployer):
    """Griefing: anyone can post jobs naming a provider, paid in a token of their own or with (almost) nothing, to
    keep its agent spending gas, proofs and collateral. The agent takes only jobs its price policy accepts."""
    core, market, client, ic, net, model_id, providers, x = stack
    c = market.compute
    junk = project.MockERC20.deploy("Junk", "JNK", sender=deployer)
    junk.mint(alice, 1_000 * ONE, sender=deployer)
    junk.approve(c, 2**256 - 1, sender=alice)
    lines: list[str] = []
    agent = ProviderAgent(client, providers[0], {model_id: (ic, net)}, tmp_path / "p.json", poll_interval=0,
                          log=lines.append, prices={core.token.address: ONE})

    def post(token, price):
        return sdk.post_job(client, alice, ic, model_id, x, token=token, price=price, collateral="20", hours=1,
                            mode="optimistic", provider=providers[0].address)

    # the minimum is what reaches the provider: 1 token less the 1% fee is under it, 1.02 tokens is not
    in_junk, too_cheap, after_fee, paid = (post(junk.address, "500"), post("ApiaryToken", "0.5"),
                                           post("ApiaryToken", "1"), post("ApiaryToken", "1.02"))
    nonce = providers[0].nonce
    step(agent, 1)
    assert [sdk.STATUS[int(c.job(j).status)] for j in (in_junk, too_cheap, after_fee, paid)] == \
        ["open", "open", "open", "submitted"]
    assert providers[0].nonce == nonce + 1  # one transaction: accept-and-post of the paying job
    assert any(f"skipping job #{in_junk}: it pays in {junk.address}, a token this agent does not take" in line
               for line in lines), lines
    assert any(f"skipping job #{too_cheap}: it pays {ONE // 2 - ONE // 200} base units" in line for line in lines)
    assert any(f"skipping job #{after_fee}: it pays {ONE - ONE // 100} base units" in line for line in lines), lines
    assert agent.status()["skipped"] == [in_junk, too_cheap, after_fee]

    # a job whose collateral the free stake does not cover waits (not skipped for good) and is taken once it fits
    free = int(c.freeStake(providers[0].address))
    big = sdk.post_job(client, alice, ic, model_id, x, token="ApiaryToken", price="2", collateral=str(free // ONE + 1),
                       hours=1, mode="optimistic", provider=providers[0].address)
    stake = int(c.providerOf(providers[0].address).stake)
    never = sdk.post_job(client, alice, ic, model_id, x, token="ApiaryToken", price="2",
                         collateral=str(stake // ONE + 1), hours=1, mode="optimistic", provider=providers[0].address)
    step(agent, 2)
    assert sdk.STATUS[int(c.job(big).status)] == "open" and agent.status()["waiting"] == [big]
    assert sum(f"job #{big} waits" in line for line in lines) == 1  # told once
    assert any(f"skipping job #{never}: its collateral" in line and "exceeds the whole stake" in line for line in lines)
    core.token.approve(c, 2**256 - 1, sender=providers[0])
    c.stake(ONE, sender=providers[0])
    step(agent, 1)
    assert sdk.STATUS[int(c.job(big).status)] == "submitted" and agent.status()["waiting"] == []


def test_a_2_wei_job_locking_the_whole_stake__is_left_alone(stack, tmp_path, alice, carol):
    """Attack (issue 20, 6): a job paying 2 wei and asking 2,000 APY of collateral was taken, locking the
    provider's whole stake for a challenge window (and again every window) while real jobs waited. The agent's
    collateral policy bounds the collateral per unit of payment and the stake one requester may keep locked."""
    from fractions import Fraction

    core, market, client, ic, net, model_id, providers, x = stack
    c = market.compute
    lines: list[str] = []
    # as `ape run compute provider-agent` sets it by default: 100 APY of collateral per APY paid, 25% per requester
    agent = ProviderAgent(client, providers[0], {model_id: (ic, net)}, tmp_path / "p.json", poll_interval=0,
                          log=lines.append, prices={core.token.address: 1},
                          collateral_per_price={core.token.address: Fraction(100)}, requester_share=Fraction(1, 4))
    core.token.approve(c, 2**256 - 1, sender=carol)
    core.token.transfer(carol, 100 * ONE, sender=alice)

    def post(who, price, collateral):
        return sdk.post_job(client, who, ic, model_id, x, token="ApiaryToken", price=price, collateral=collateral,
                            hours=1, mode="optimistic", provider=providers[0].address)

    grief = post(alice, "0.000000000000000002", "2000")  # 2 wei for the whole stake
    greedy = post(alice, "1", "150")  # 0.99 APY after the fee: at most 99 APY of collateral
    fair = post(alice, "5", "400")  # 4.95 APY paid, 400 asked: fits, and 20% of the 2,000 staked
    crowding = post(alice, "5", "200")  # alice's jobs would then hold 600 of 2,000: over 25%
    other = post(carol, "5", "200")  # another requester: its own 25%
    step(agent, 1)
    assert [sdk.STATUS[int(c.job(j).status)] for j in (grief, greedy, fair, crowding, other)] == \
        ["open", "open", "submitted", "open", "submitted"]
    assert any(f"skipping job #{grief}: it asks {2000 * ONE} base units of collateral for 1 of" in line
               for line in lines), lines
    assert any(f"skipping job #{greedy}: it asks {150 * ONE}" in line for line in lines), lines
    assert any(f"skipping job #{crowding}: its requester {alice.address} would hold {600 * ONE}" in line
               for line in lines), lines
    assert int(c.freeStake(providers[0].address)) == 2_000 * ONE - 600 * ONE


def test_job_input_at_a_url__checked_before_paying__fetched_by_the_agent(stack, tmp_path, alice):
    """Files that travel (issue 21): the requester names the input by URL (here served by `apiary serve`'s server);
    the URL is fetched and compared with the local file before anything is sent, and the provider's agent
    fetches it over HTTP (a dev chain allows a host on this machine)."""
    import threading

    from apiary.sdk.errors import ApiaryCliError
    from apiary.sdk.serve import make_server

    core, market, client, ic, net, model_id, providers, x = stack
    public = tmp_path / "public"
    public.mkdir()
    (public / "x.csv").write_bytes(x.read_bytes())
    (public / "other.csv").write_text("6.3,3.3,6.0,2.5\n")
    server = make_server(public, "127.0.0.1", 0, log=lambda _line: None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        nonce = alice.nonce
        with pytest.raises(ApiaryCliError, match="does not serve the input in .* nothing sent"):
            sdk.post_job(client, alice, ic, model_id, x, token="ApiaryToken", price="2", collateral="20", hours=1,
                         mode="optimistic", uri=f"{base}/other.csv")
        with pytest.raises(ApiaryCliError, match="the server answered 404"):
            sdk.post_job(client, alice, ic, model_id, x, token="ApiaryToken", price="2", collateral="20", hours=1,
                         mode="optimistic", uri=f"{base}/missing.csv")
        assert alice.nonce == nonce
        job_id = sdk.post_job(client, alice, ic, model_id, x, token="ApiaryToken", price="2", collateral="20",
                              hours=1, mode="optimistic", uri=f"{base}/x.csv")
        assert sdk.job_uri(client, job_id) == f"{base}/x.csv"
        (tmp_path / "elsewhere").mkdir()
        agent = ProviderAgent(client, providers[0], {model_id: (ic, net)}, tmp_path / "p.json", poll_interval=0,
                              log=lambda _m: None, base_dir=tmp_path / "elsewhere")
        step(agent, 1)
        assert sdk.STATUS[int(market.compute.job(job_id).status)] == "submitted"
        assert sdk.outputs_of(client, job_id) == inference.outputs_of(net, inference.read_input(ic, x))
    finally:
        server.shutdown()
        server.server_close()


def test_agents__requester_tricks__provider_keeps_its_input_skips_unprovable_watchdog_never_challenges_blind(
        stack, tmp_path, alice, carol, chain):
    """Outside review of the compute market: a requester who swaps the input file after the result (then
    challenges) cannot make the proof impossible — the agent proves from the input it checked and kept; an input
    the circuit cannot prove is never taken; a watchdog given a file that does not match the commitment does not
    challenge (it would lose its bond to the provider's proof)."""
    core, market, client, ic, net, model_id, providers, x = stack
    c = market.compute
    lines: list[str] = []
    agent = ProviderAgent(client, providers[0], {model_id: (ic, net)}, tmp_path / "p.json", poll_interval=0,
                          log=lines.append)
    job = sdk.post_job(client, alice, ic, model_id, x, token="ApiaryToken", price="2", collateral="20", hours=1,
                       mode="optimistic", provider=providers[0].address)
    step(agent)
    assert sdk.STATUS[int(c.job(job).status)] == "submitted"
    x.write_text("7.0,3.0,6.0,2.0\n")  # the requester swaps the file, then challenges
    watchdog = Watchdog(client, carol, {model_id: (ic, net)}, tmp_path / "w.json", poll_interval=0, log=lines.append)
    step(watchdog)
    assert c.job(job).challenger == sdk.ZERO and any("not checked" in line for line in lines)  # no blind challenge
    assert sdk.challenge_job(client, alice, job)
    step(agent)
    assert sdk.STATUS[int(c.job(job).status)] == "paid", lines[-4:]  # proven from the kept input; bond taken

    big = tmp_path / "big.csv"
    big.write_text("79,79,79,79\n")  # within the input bound, but the weights below push values out of range
    from apiary.zk.network import MAX_ABS_VALUE

    import dataclasses

    import numpy as np

    huge = dataclasses.replace(net, layers=[dataclasses.replace(layer, params={k: np.full_like(v, MAX_ABS_VALUE)
                                                                               for k, v in layer.params.items()})
                                            for layer in net.layers])
    picky = ProviderAgent(client, providers[1], {model_id: (ic, huge)}, tmp_path / "p1.json", poll_interval=0,
                          log=lines.append)
    picky.state["next_job"] = int(c.totalJobs()) + 1
    job = sdk.post_job(client, alice, ic, model_id, big, token="ApiaryToken", price="2", collateral="20", hours=1,
                       mode="optimistic", provider=providers[1].address)
    step(picky)
    assert sdk.STATUS[int(c.job(job).status)] == "open" and any("circuit's range" in line for line in lines)


def test_agent__batch_circuit__proof_jobs_proven_k_at_a_time__crash_between_proof_and_batch(batch_stack, tmp_path,
                                                                                           alice, chain):
    """With the batch circuit enabled (iris, 4 slots), five proof-mode jobs naming the provider cost one batch proof
    of four and one single proof for the one left over; each is paid once. An agent that crashed with jobs queued proves them after
    restart; an open job is proven, accepted and submitted on its own (nothing locked before a proof exists)."""
    core, market, client, ic, net, model_id, providers, x = batch_stack
    c = market.compute
    lines: list[str] = []

    def agent():
        return ProviderAgent(client, providers[0], {model_id: (ic, net)}, tmp_path / "p.json", poll_interval=0,
                             log=lines.append)

    first = agent()
    assert first.batch[model_id].slots == 4
    inputs = []
    for i in range(5):
        path = tmp_path / f"x{i}.csv"
        path.write_text(f"5.{i},3.5,1.{i},0.2\n")
        inputs.append(path)
    jobs = [sdk.post_job(client, alice, ic, model_id, path, token="ApiaryToken", price="2", collateral="20", hours=1,
                         mode="proof", provider=providers[0].address) for path in inputs]
    open_job = sdk.post_job(client, alice, ic, model_id, inputs[0], token="ApiaryToken", price="2", collateral="20",
                            hours=1, mode="proof")  # open to all: proven, accepted and submitted on its own
    start = int(chain.blocks.head.number) + 1
    first._prove_queued = lambda: None  # crash after queueing, before proving
    step(first, 1)
    assert sorted(first.state["queued"]) == jobs and sdk.STATUS[int(c.job(open_job).status)] == "paid"
    assert first._reserved() == 5 * 20 * ONE  # the queued jobs' collateral counts as taken
    restarted = agent()
    step(restarted, 1)
    for job_id, path in zip([*jobs, open_job], [*inputs, inputs[0]]):
        assert sdk.STATUS[int(c.job(job_id).status)] == "paid", lines[-6:]
        assert sdk.outputs_of(client, job_id) == inference.outputs_of(net, inference.read_input(ic, path))
        assert len(list(c.ResultPosted.range(start, int(chain.blocks.head.number) + 1,
                                             search_topics={"jobId": job_id}))) == 1
    batches = [line for line in lines if "proven in one batch proof" in line]
    assert len(batches) == 1 and f"job #{jobs[4]} proven and paid" in "\n".join(lines), lines  # 4 + the one left
    assert restarted.state["queued"] == [] and restarted.status()["queued"] == []

    # the stake shrinks (unbonding, under the market's minimum) while jobs are queued: they wait instead of being
    # skipped for good (or failing to be accepted), and are proven in one batch once the stake is back
    more = [sdk.post_job(client, alice, ic, model_id, inputs[i], token="ApiaryToken", price="2", collateral="20",
                         hours=1, mode="proof", provider=providers[0].address) for i in range(2)]
    crashed = agent()
    crashed._prove_queued = lambda: None
    step(crashed, 1)
    assert sorted(crashed.state["queued"]) == more
    c.requestUnstake(int(c.freeStake(providers[0])) - 10 * ONE, sender=providers[0])
    again = agent()
    step(again, 1)
    assert again.status()["waiting"] == more and again.status()["queued"] == []
    assert [sdk.STATUS[int(c.job(j).status)] for j in more] == ["open", "open"]
    c.stake(1_000 * ONE, sender=providers[0])  # the market's minimum active stake, and room for the collateral
    step(again, 1)
    assert [sdk.STATUS[int(c.job(j).status)] for j in more] == ["paid", "paid"], lines[-6:]
    assert again.status()["waiting"] == [] and len([ln for ln in lines if "proven in one batch proof" in ln]) == 2
    assert not any("InsufficientStake" in ln for ln in lines), lines  # never tried to take what the stake lacked


def test_agent__batch_review__over_reserved_collateral_a_competitor_and_a_disabled_batch__never_stop_it(
        batch_stack, tmp_path, alice, whale, chain, accounts):
    """Second compute review: H-1, named jobs whose collateral together exceeds the free stake are not all queued
    (the rest wait until stake frees up), so the batch never reverts for stake; H-2, an open job a competitor accepted first is
    dropped, not submitted on; M-1, with the batch circuit disabled by governance the queue is proven one job at a
    time. The agent never stops."""
    core, market, client, ic, net, model_id, providers, x = batch_stack
    c = market.compute
    lines: list[str] = []
    me, rival = providers[0], providers[1]
    agent = ProviderAgent(client, me, {model_id: (ic, net)}, tmp_path / "p.json", poll_interval=0, log=lines.append)
    free = int(c.freeStake(me))
    big = [sdk.post_job(client, alice, ic, model_id, x, token="ApiaryToken", price="2",
                        collateral=str(free * 6 // 10 // ONE), hours=1, mode="proof", provider=me.address)
           for _ in range(2)]
    opened = sdk.post_job(client, alice, ic, model_id, x, token="ApiaryToken", price="2", collateral="20", hours=1,
                          mode="optimistic")
    agent.state["mine"].append(opened)  # recorded, then the agent crashed before its accept landed …
    c.accept(opened, sender=rival)  # … and a competitor took the job
    step(agent, 2)
    # the second waited (not queued: the batch would revert for stake) and was taken once the first was paid
    statuses = [sdk.STATUS[int(c.job(j).status)] for j in big]
    assert statuses == ["paid", "paid"], (statuses, lines[-6:])
    assert any(f"job #{big[1]} waits: its collateral" in line and "exceeds the free stake" in line for line in lines)
    assert not any("retrying" in line for line in lines), lines
    assert c.job(opened).provider == rival.address and opened not in agent.state["mine"]
    assert any(f"job #{opened} was taken by {rival.address}" in line for line in lines), lines

    # governance disables the batch circuit: the queue is proven one job at a time
    LocalProposalRunner(core.governor, core.timelock).run(
        whale, [whale, alice], Proposal([call(c, "setBatchCircuit", circuit_id(ic.evaluation.circuit_id), b"\0" * 32)],
                                        "no batches"))
    later = [sdk.post_job(client, alice, ic, model_id, x, token="ApiaryToken", price="2", collateral="20", hours=1,
                          mode="proof", provider=me.address) for _ in range(2)]
    step(agent, 2)
    assert [sdk.STATUS[int(c.job(j).status)] for j in later] == ["paid", "paid"], lines[-6:]
    assert not any("tick failed" in line for line in lines), lines
