"""Compute market from the command line: `ape run compute <command> --network … --account …`.

    ape run compute propose-inference --circuit iris-logreg-n8       # deploy its inference verifier, propose both calls
    ape run compute propose-inference --circuit digits-mlp16-n64 --slots 16   # its batch circuit: 16 jobs per proof
    ape run compute stake --amount 2000 ; ape run compute unstake --amount 500 ; ape run compute complete-unstake
    ape run compute provider-agent --model 1=model.onnx [--lie]       # a provider: takes jobs, proves, answers
    ape run compute watchdog --model 1=model.onnx                      # re-executes results, challenges wrong ones
    ape run compute post --model-id 1 --input x.csv --price 2 --collateral 20 --mode optimistic --hours 1 [--quiet]
    ape run compute wait --job 1 --timeout 300                         # the outputs, checked, and the cost
    ape run compute challenge --job 1 ; ape run compute settle --job 1
    ape run compute reveal --job 1                                     # the requester's audit seed, after the window
    ape run compute show --job 1 ; ape run compute provider [--address 0x…]
    ape run compute withdraw --token ApiaryToken

Inputs are CSV (one row; a header is skipped), .json (a list) or .npy files at the circuit's input scale; a job
names its input by commitment and its file by URI (file://…, the absolute path by default). Agents keep their
state under build/compute/<deployment key>/.
"""

from __future__ import annotations

import click
from ape.cli import account_option

from apiary import paths
from apiary.sdk import compute as sdk
from apiary.sdk.cli import ADDRESS, CallerPathType, ConnectedCommand, caller_path, echo_warning
from apiary.sdk.errors import ApiaryCliError
from apiary.sdk.manifest import load_manifest

quiet_option = click.option("--quiet", is_flag=True, help="Print only the resulting id (for scripts).")
models_option = click.option("--model", "models", multiple=True, required=True, metavar="ID=FILE",
                             help="A registered model this agent serves: its id and its file (repeatable).")


def _ctx(ecosystem, network, provider):
    manifest = load_manifest(ecosystem.name, network.name, provider.name, provider.chain_id,
                             directory=paths.DEPLOYMENTS_DIR)
    return manifest, sdk.ComputeClient.from_manifest(manifest), manifest.state_dir("compute", root=paths.STATE_DIR)


def _say(quiet: bool):
    return (lambda _m: None) if quiet else (lambda m: click.echo(f"  {m}"))


def _price_policy(client: sdk.ComputeClient, specs: tuple[str, ...]) -> tuple[dict[str, int], str]:
    """`TOKEN=AMOUNT` pairs → ({token address: least price in base units}, the policy in words)."""
    from apiary.sdk.amounts import AmountError

    prices, words = {}, []
    for text in specs or ("ApiaryToken=",):
        name, sep, amount = text.partition("=")
        if not sep or not name.strip():
            raise ApiaryCliError(f"--min-price {text!r}: write TOKEN=AMOUNT, e.g. --min-price ApiaryToken=0.5")
        try:
            token = client.token(name.strip())
        except ApiaryCliError as exc:
            raise ApiaryCliError(f"--min-price {text!r}: {str(exc).replace('--token ', '')}") from None
        try:
            least = max(token.parse(amount.strip()), 1) if amount.strip() else 1
        except AmountError as exc:
            raise ApiaryCliError(f"--min-price {text!r}: {exc}") from None
        if token.address in prices:
            raise ApiaryCliError(f"--min-price {text!r}: {token.address} has a minimum already")
        prices[token.address] = least
        words.append(f"{token.symbol} jobs paying " + ("more than nothing" if least == 1 else f"at least {token.format(least)}"))
    return prices, "; ".join(words)


def _served(client: sdk.ComputeClient, specs: tuple[str, ...]) -> dict:
    """`ID=FILE` pairs → {model id: (inference circuit, integer network)}, each checked against the registry."""
    from apiary.zk import inference, pipeline, tasks

    served = {}
    for text in specs:
        head, sep, tail = text.partition("=")
        if not sep or not head.strip().isdigit():
            raise ApiaryCliError(f"--model {text!r}: write MODEL_ID=FILE, e.g. --model 1=model.onnx")
        model_id, path = int(head), caller_path(tail)
        if not path.is_file():
            raise ApiaryCliError(f"--model {text!r}: no such file {path}")
        ic = client.inference_circuit(model_id)
        net = tasks.load_model(ic.spec, path).integer
        _cid, commitment, _ = client.models.commitmentOf(model_id)
        if pipeline.model_commitment(ic.evaluation, net) != bytes(commitment):
            raise ApiaryCliError(f"{path} is not model #{model_id} (its weights commit elsewhere)")
        inference.ensure_keys(ic)
        served[model_id] = (ic, net)
    return served


@click.group()
def cli():
    """Compute market: staked providers sell inference of registered models, settled by proof or optimistically."""


# ---------------------------------------------------------------- governance


@cli.command("propose-inference", cls=ConnectedCommand, deploys=True)
@account_option()
@click.option("--circuit", required=True, help="The evaluation circuit (built-in id or folder) whose twin to enable.")
@click.option("--verifier", type=ADDRESS, default=None, help="A deployed inference verifier (default: deploy one).")
@click.option("--slots", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Propose the batch circuit of this many inputs (built with `apiary zk build-inference --slots`) "
                   "instead; the single circuit must be enabled first.")
@quiet_option
def propose_inference(ecosystem, network, provider, account, circuit, verifier, slots, quiet):
    """Deploy a circuit's inference verifier and propose registering it and enabling it in the ComputeMarket."""
    import ape

    from apiary.deploy import governance as gov
    from apiary.deploy.market import MarketDeployment, inference_proposal
    from apiary.sdk.market import circuit_id
    from apiary.sdk.tx import deploy
    from apiary.zk import evm, inference

    manifest, client, _ = _ctx(ecosystem, network, provider)
    ic = inference.open_inference(circuit, slots)
    inference.check_inference_statement(ic)
    echo_warning(manifest.check_verifiers_srs(ic.circuit_id, [verifier] if verifier else [],
                                              ic.path("vk.bin").read_bytes()), quiet)
    if client.verifiers.isRegistered(circuit_id(ic.circuit_id)):
        raise ApiaryCliError(f"{ic.circuit_id} is registered already: nothing to propose")
    if slots > 1 and not int.from_bytes(bytes(client.compute.inferenceCircuitOf(circuit_id(ic.evaluation.circuit_id)))):
        raise ApiaryCliError(f"{ic.evaluation.circuit_id} has no inference circuit enabled yet: propose and enact its "
                             f"single twin first (propose-inference --circuit {circuit}), then the batch")
    abi = None  # a verifier given with --verifier: its ABI is whatever it is
    if verifier is None:
        compiled = evm.compile_verifier(ic.path("Verifier.sol"), ic.build)
        name = "Halo2Verifier_" + ic.circuit_id.replace("-", "_").replace(".", "_")
        container = ape.contracts.ContractContainer(compiled.contract_type(name))
        verifier = str(deploy(container, ic.path("vk.bin").read_bytes(), sender=account).address)
        abi = container.contract_type.abi
        if not quiet:
            click.echo(f"inference verifier of {ic.evaluation.circuit_id} deployed at {verifier}")
    manifest.add_circuit(ic.circuit_id, verifier, ic.manifest_sha256.hex(), abi=abi,
                         folder=None if ic.evaluation.committed else str(ic.evaluation.root))
    market = MarketDeployment(client.verifiers, client.models, None, compute=client.compute)
    proposal = inference_proposal(market, ic, verifier)
    proposal_id = gov.propose(manifest.contract("ApiaryGovernor"), proposal, account,
                              manifest.state_dir("proposals", root=paths.STATE_DIR))
    click.echo(proposal_id if quiet else f"proposal {gov.short_id(proposal_id)}: {proposal.description}")


# ---------------------------------------------------------------- providers


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--amount", required=True, help="Whole tokens of the stake token (exact decimals).")
def stake(ecosystem, network, provider, account, amount):
    """Stake the governance token to take jobs (approves what is missing first)."""
    from apiary.sdk.amounts import Token
    from apiary.sdk.data import _approve
    from apiary.sdk.tx import send

    _, client, _ = _ctx(ecosystem, network, provider)
    t = Token.at(str(client.compute.stakeToken()))
    value = t.parse(amount)
    _approve(t.address, account, client.compute.address, value, _say(False))
    send(client.compute.stake, value, sender=account)
    p = client.compute.providerOf(account.address)
    click.echo(f"staked {t.format(value)}: stake {t.format(int(p.stake))}, free {t.format(int(client.compute.freeStake(account.address)))}")


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--amount", required=True)
def unstake(ecosystem, network, provider, account, amount):
    """Start unbonding free stake (still slashable until it leaves; backs no new job)."""
    from apiary.sdk.amounts import Token, format_time
    from apiary.sdk.tx import send

    _, client, _ = _ctx(ecosystem, network, provider)
    t = Token.at(str(client.compute.stakeToken()))
    send(client.compute.requestUnstake, t.parse(amount), sender=account)
    p = client.compute.providerOf(account.address)
    click.echo(f"unbonding {t.format(int(p.unbonding))} until {format_time(int(p.unbondingEnds))}; then: "
               "ape run compute complete-unstake")


@cli.command("complete-unstake", cls=ConnectedCommand)
@account_option()
def complete_unstake(ecosystem, network, provider, account):
    """After the unbonding period: credit the unbonded stake (then `withdraw`)."""
    from apiary.sdk.tx import send

    _, client, _ = _ctx(ecosystem, network, provider)
    send(client.compute.completeUnstake, sender=account)
    click.echo("unbonded stake credited; withdraw it with: ape run compute withdraw")


@cli.command("provider-agent", cls=ConnectedCommand)
@account_option()
@models_option
@click.option("--poll", type=click.FloatRange(min=0.1), default=2.0, show_default=True)
@click.option("--max-ticks", type=int, default=None, help="Stop after this many polls (tests).")
@click.option("--lie", is_flag=True, hidden=True, help="Post wrong outputs (demonstrates the watchdog and audits).")
@click.option("--min-price", "min_prices", multiple=True, metavar="TOKEN=AMOUNT",
              help="Take jobs paid in TOKEN (address or deployment contract name) paying at least AMOUNT whole tokens "
                   "(repeatable; jobs in other tokens are skipped). Default: ApiaryToken, any positive price.")
@click.option("--max-collateral-ratio", "collateral_ratio", type=click.FloatRange(min=0, min_open=True), default=100,
              show_default=True, help="Most whole stake tokens of collateral a job may ask per whole token it pays "
                                      "(after the fee), in any accepted token: a job paying 2 wei cannot lock the stake.")
@click.option("--max-requester-share", "requester_share", type=click.FloatRange(min=0, max=100, min_open=True),
              default=25, show_default=True, help="Most percent of the stake one requester's open jobs may keep locked.")
@click.option("--status", "show_status", is_flag=True, help="Print what the agent has done and exit.")
def provider_agent(ecosystem, network, provider, account, models, poll, max_ticks, lie, min_prices, collateral_ratio,
                   requester_share, show_status):
    """A provider's agent: takes jobs of the models it serves, proves or posts results, answers challenges."""
    import json

    from apiary.agents.provider import ProviderAgent

    _, client, state = _ctx(ecosystem, network, provider)
    state_path = state / f"provider-{account.address}.json"
    if show_status:
        agent = ProviderAgent(client, account, {}, state_path, log=click.echo)
        click.echo(json.dumps(agent.status()))
        return
    from fractions import Fraction

    from apiary.sdk.amounts import Token

    prices, policy = _price_policy(client, min_prices)
    stake = Token.at(str(client.compute.stakeToken()))
    ratio = Fraction(str(collateral_ratio))
    # whole stake tokens per whole payment token → stake base units per payment base unit
    per_price = {token: ratio * 10**stake.decimals / 10**Token.at(token).decimals for token in prices}
    agent = ProviderAgent(client, account, _served(client, models), state_path, poll_interval=poll, log=click.echo,
                          lie=lie, prices=prices, collateral_per_price=per_price,
                          requester_share=Fraction(str(requester_share)) / 100)
    click.echo(f"provider agent for {account.address}: models {sorted(agent.served)}, takes {policy}, asking at most "
               f"{collateral_ratio:g} {stake.symbol} of collateral per token paid and {requester_share:g}% of the "
               f"stake per requester, polling every {poll} s")
    agent.run(max_ticks=max_ticks)


@cli.command(cls=ConnectedCommand)
@account_option()
@models_option
@click.option("--poll", type=click.FloatRange(min=0.1), default=2.0, show_default=True)
@click.option("--max-ticks", type=int, default=None)
@click.option("--status", "show_status", is_flag=True)
def watchdog(ecosystem, network, provider, account, models, poll, max_ticks, show_status):
    """Re-execute optimistic results of the models given and challenge the wrong ones (bond in the stake token)."""
    import json

    from apiary.agents.watchdog import Watchdog

    _, client, state = _ctx(ecosystem, network, provider)
    state_path = state / f"watchdog-{account.address}.json"
    served = {} if show_status else _served(client, models)
    agent = Watchdog(client, account, served, state_path, poll_interval=poll, log=click.echo)
    if show_status:
        click.echo(json.dumps(agent.status()))
        return
    click.echo(f"watchdog for {account.address}: models {sorted(served)}, polling every {poll} s")
    agent.run(max_ticks=max_ticks)


# ---------------------------------------------------------------- requesters


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--model-id", type=int, required=True)
@click.option("--input", "input_file", type=CallerPathType(), required=True, help="The input: .csv, .json or .npy.")
@click.option("--uri", default=None, help="The input's URL (https://, http://, ipfs://), checked before paying; on a dev chain the default is file://<absolute path>.")
@click.option("--token", default="ApiaryToken", show_default=True, help="Payment token (address or contract name).")
@click.option("--price", required=True, help="Payment in whole tokens.")
@click.option("--collateral", required=True, help="Stake the provider locks for the job, in whole stake tokens.")
@click.option("--mode", type=click.Choice(sorted(sdk.MODES)), default="optimistic", show_default=True)
@click.option("--hours", type=click.FloatRange(min=0.02), default=1.0, show_default=True, help="Time to the deadline.")
@click.option("--provider", "provider_address", type=ADDRESS, default=None, help="Only this provider may take it.")
@click.option("--circuit", "circuit", default=None, help="The model's circuit folder (imported circuits).")
@quiet_option
def post(ecosystem, network, provider, account, model_id, input_file, uri, token, price, collateral, mode, hours,
         provider_address, circuit, quiet):
    """Escrow a payment for one inference of a registered model."""
    manifest, client, _ = _ctx(ecosystem, network, provider)
    ic = client.inference_circuit(model_id, caller_path(circuit) if circuit else None)
    echo_warning(manifest.check_verifiers_srs(ic.circuit_id, sdk.job_verifiers(client, ic),
                                              ic.path("vk.bin").read_bytes()), quiet)
    job_id = sdk.post_job(client, account, ic, model_id, input_file, token=token, price=price, collateral=collateral,
                          hours=hours, mode=mode, provider=provider_address, uri=uri, log=_say(quiet))
    click.echo(job_id if quiet else f"job #{job_id} posted; wait for it: ape run compute wait --job {job_id}")


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--job", "job_id", type=int, required=True)
@click.option("--input", "input_file", type=CallerPathType(), default=None,
              help="Your input file: re-run the model locally and compare (needs --model).")
@click.option("--model", "model_file", type=CallerPathType(), default=None)
@click.option("--timeout", type=click.FloatRange(min=0), default=0.0,
              help="Seconds to wait; the command fails if the job has not got there by then (0: look once).")
@click.option("--until", type=click.Choice(list(sdk.UNTIL)), default="settled", show_default=True,
              help="What to wait for: a posted result, a proof due (challenged or audited; or settled), or the "
                   "settlement.")
def wait(ecosystem, network, provider, account, job_id, input_file, model_file, timeout, until):
    """Wait for a job to settle (or to get a result, or a challenge); print its outputs, how they were settled,
    and what it cost."""
    from apiary.sdk.amounts import Token

    _, client, _ = _ctx(ecosystem, network, provider)
    # Your own job's audit seed (if posted from here) is revealed when its challenge window closes.
    status, outputs, reached = sdk.wait_result(client, job_id, timeout, until=until, revealer=account)
    if timeout and not reached:
        raise ApiaryCliError(f"job #{job_id} is not {'settled' if until == 'settled' else 'at ' + until} after "
                             f"{timeout:g} s: {sdk.describe(client, job_id)}")
    if until != "settled":
        click.echo(sdk.describe(client, job_id))
        return
    j = client.compute.job(job_id)
    t = Token.at(str(j.token))
    fee = -(-int(j.price) * int(j.terms.feeBps) // 10_000)
    how = {"paid": "proven" if int(j.mode) == 0 or int(j.proofDue) else "final after its challenge window",
           "slashed": "the provider failed: you are refunded (ape run compute withdraw)",
           "refunded": "refunded"}.get(status, "not settled yet")
    click.echo(f"job #{job_id}: {status} ({how}); outputs {outputs}")
    if status == "paid":
        click.echo(f"cost {t.format(int(j.price))} (of which the protocol fee {t.format(fee)})")
    if input_file is not None and model_file is not None and outputs is not None:
        from apiary.zk import inference, tasks

        ic = client.inference_circuit(int(j.modelId))
        mine = inference.outputs_of(tasks.load_model(ic.spec, model_file).integer, inference.read_input(ic, input_file))
        click.echo("outputs match your own run" if mine == outputs else f"outputs DIFFER from your own run: {mine}")


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--job", "job_id", type=int, required=True)
def challenge(ecosystem, network, provider, account, job_id):
    """Challenge an optimistic result: commits the bond behind a hash that hides the job, then reveals it a block
    later (a copy of the reveal lands nowhere); the provider must prove its result or is slashed."""
    _, client, _ = _ctx(ecosystem, network, provider)
    sdk.challenge_job(client, account, job_id, log=_say(False))
    click.echo(sdk.describe(client, job_id))


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--job", "job_id", type=int, required=True)
def reveal(ecosystem, network, provider, account, job_id):
    """Reveal your job's audit seed (kept on this machine when you posted it) once its challenge window has
    closed: the sampled audit is drawn, and an unaudited result can be paid at once (wait --job does it too)."""
    _, client, _ = _ctx(ecosystem, network, provider)
    j = client.compute.job(job_id)
    if sdk.audit_seed(client, j) is None:
        raise ApiaryCliError(f"job #{job_id} has no audit seed on this machine (posted elsewhere, or in proof mode)")
    opens, closes = sdk.reveal_window(j)
    if sdk.reveal_audit(client, account, job_id, log=_say(False)) is None:
        from apiary.sdk.amounts import format_time

        raise ApiaryCliError(f"job #{job_id}'s seed can be revealed from {format_time(opens)} to {format_time(closes)}: "
                             f"{sdk.describe(client, job_id)}")
    click.echo(sdk.describe(client, job_id))


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--job", "job_id", type=int, required=True)
def settle(ecosystem, network, provider, account, job_id):
    """Whatever settles the job now: finalize after the window, slash an unproven result, expire a late job."""
    _, client, _ = _ctx(ecosystem, network, provider)
    done = sdk.settle_if_due(client, account, job_id)
    if done is None:
        raise ApiaryCliError(f"nothing is due for job #{job_id} yet: {sdk.describe(client, job_id)}")
    click.echo(f"job #{job_id} {done}")


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--token", default="ApiaryToken", show_default=True)
def withdraw(ecosystem, network, provider, account, token):
    """Withdraw what the compute market owes you in a token (payments, refunds, slashed shares, bonds)."""
    from apiary.sdk.tx import send

    _, client, _ = _ctx(ecosystem, network, provider)
    t = client.token(token)
    owed = int(client.compute.owed(account.address, t.address))
    if not owed:
        raise ApiaryCliError(f"nothing to withdraw in {t.symbol} for {account.address}")
    send(client.compute.withdraw, t.address, sender=account)
    click.echo(f"withdrew {t.format(owed)} to {account.address}")


@cli.command(cls=ConnectedCommand)
@click.option("--job", "job_id", type=int, required=True)
def show(ecosystem, network, provider, job_id):
    """Show a job."""
    _, client, _ = _ctx(ecosystem, network, provider)
    click.echo(sdk.describe(client, job_id))


@cli.command("provider", cls=ConnectedCommand)
@click.option("--address", type=ADDRESS, required=True)
def provider_info(ecosystem, network, provider, address):
    """Show a provider's stake, locked collateral and unbonding."""
    from apiary.sdk.amounts import Token, format_time

    _, client, _ = _ctx(ecosystem, network, provider)
    t = Token.at(str(client.compute.stakeToken()))
    p = client.compute.providerOf(address)
    click.echo(f"provider {address}: stake {t.format(int(p.stake))}, locked {t.format(int(p.locked))}, unbonding "
               f"{t.format(int(p.unbonding))}{' until ' + format_time(int(p.unbondingEnds)) if int(p.unbonding) else ''}, "
               f"free {t.format(int(client.compute.freeStake(address)))}")
