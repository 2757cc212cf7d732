"""`ape run market …` in process on the embedded chain: every failure is one line with nothing sent (nonce
unchanged), multi-step commands leave nothing dangling and resume, amounts are exact, proofs come from the chain.

The market is deployed like `ape run deploy` does, except that the VerifierRegistry is owned by `gov` (no
governance round trip) and registers the real `iris-logreg-n8` circuit with a mock verifier: test sets, chunk
commitments and proofs are real (iris proofs take about a second), only the pairing check is mocked.
"""

from __future__ import annotations

import importlib.util
import json
import re
from decimal import Decimal

import pytest
from click.testing import CliRunner

from apiary import paths
from apiary.sdk import bounties as sdk
from apiary.sdk.manifest import write_manifest
from apiary.zk import models as zk_models
from apiary.zk import pipeline, testdata

CIRCUIT = "iris-logreg-n8"
ONE = 10**18
HOUR, DAY = 3_600, 86_400


def _load_script():
    spec = importlib.util.spec_from_file_location("market_script", paths.PROJECT_ROOT / "scripts" / "market.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _load_script()


@pytest.fixture
def deployment(project, chain, deployer, gov, core, tmp_path, monkeypatch):
    verifier = project.MockHalo2Verifier.deploy(sender=deployer)
    verifiers = project.VerifierRegistry.deploy(gov, sender=deployer)
    verifiers.register(CIRCUIT, verifier, pipeline.open_circuit(CIRCUIT).manifest_sha256, 8, 0, sender=gov)
    models = project.ModelRegistry.deploy(verifiers, 4, sender=deployer)
    bounties = project.ModelBounties.deploy(verifiers, models, core.vault, "0x0000000000000000000000000000000000000000", sender=deployer)
    monkeypatch.setattr(paths, "DEPLOYMENTS_DIR", tmp_path / "deployments")
    monkeypatch.setattr(paths, "STATE_DIR", tmp_path / "build")
    contracts = {**core.contracts(), "VerifierRegistry": verifiers, "ModelRegistry": models, "ModelBounties": bounties,
                 "MockHalo2Verifier": verifier}
    manifest = write_manifest("ethereum", "local", "test", chain.provider.chain_id, deployer.address, core.start_block,
                              contracts, {"profile": "local"}, directory=tmp_path / "deployments")
    return manifest


@pytest.fixture
def market(deployment):
    return sdk.Market.from_manifest(deployment)


@pytest.fixture
def sponsor(whale):
    return whale  # TEST::5: holds 2M APY


@pytest.fixture
def owner(alice):
    return alice  # TEST::2


def _account(account, accounts) -> str:
    return f"TEST::{[a.address for a in accounts].index(account.address)}"


@pytest.fixture
def run(accounts, deployment):
    def invoke(*args, account=None):
        argv = [*args, "--network", "ethereum:local:test"]
        if account is not None:
            argv += ["--account", _account(account, accounts)]
        return CliRunner(mix_stderr=False).invoke(SCRIPT.cli, argv)

    return invoke


def ok(result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout


def one_line_error(result) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture
def model_file(tmp_path):
    model = zk_models.train(zk_models.load_dataset("iris"), "logreg", 120)
    path = tmp_path / "model.json"
    model.save(path)
    return path


SEALED = ("--token", "ApiaryToken", "--reward", "1000", "--threshold", "12", "--chunks", "2", "--sealed",
          "--commit-hours", "1", "--reveal-hours", "1", "--prove-days", "1", "--quiet")


@pytest.fixture
def registered(run, owner, model_file):
    return int(ok(run("register-model", "--circuit", CIRCUIT, "--model", str(model_file), "--quiet",
                      account=owner)).strip().splitlines()[-1])


@pytest.fixture
def sealed(run, sponsor):
    return int(ok(run("create", "--circuit", CIRCUIT, *SEALED, account=sponsor)).strip().splitlines()[-1])


# ---------------------------------------------------------------- failures: one line, nothing sent


def test_create__unregistered_circuit__one_line_nothing_sent(run, sponsor, deployment):
    nonce = sponsor.nonce
    line = one_line_error(run("create", "--circuit", "digits-logreg-n64", "--token", "ApiaryToken", "--reward", "1",
                              "--threshold", "10", account=sponsor))
    assert "circuit digits-logreg-n64 is not registered in the VerifierRegistry" in line
    assert sponsor.nonce == nonce


@pytest.mark.parametrize("option, message", [
    (("--commit-hours", "0"), "--commit-hours: the commit window of 0 s is shorter than the contract's minimum of 1 h"),
    (("--prove-days", "0"), "--prove-days: the prove window of 0 s is shorter than the contract's minimum of 1 d"),
    (("--threshold", "17"), "--threshold 17: circuit iris-logreg-n8 counts correct predictions, so the threshold "
                            "must be within 1..16"),
    (("--reward", "1e7"), "holds 2000000 APY, less than the reward of 10000000 APY"),
    (("--token", "NoSuchToken"), "--token 'NoSuchToken' is neither an address nor a contract of this deployment"),
])
def test_create__bad_terms__refused_before_anything_is_sent(run, sponsor, deployment, core, market, option, message):
    argv = list(SEALED)
    argv[argv.index(option[0]) + 1] = option[1]
    nonce = sponsor.nonce
    assert message in one_line_error(run("create", "--circuit", CIRCUIT, *argv, account=sponsor))
    assert sponsor.nonce == nonce and core.token.allowance(sponsor, market.bounties) == 0


def test_create__one_second_window__refused_by_the_sdk(market, sponsor):
    circuit = pipeline.open_circuit(CIRCUIT)
    chunks, data = sdk.test_set_of(circuit, 2)
    terms = sdk.CreateTerms(CIRCUIT, market.token("ApiaryToken"), ONE, 12, chunks, data, sealed=True, commit_seconds=1)
    nonce = sponsor.nonce
    with pytest.raises(sdk.ApiaryCliError, match="commit window of 1 s is shorter than the contract's minimum of 1 h"):
        sdk.create_bounty(market, sponsor, terms, None)
    assert sponsor.nonce == nonce


def test_create__would_revert_after_approve__allowance_set_back(project, market, deployer, sponsor, tmp_path):
    token = project.FalseReturnToken.deploy(sender=deployer)
    token.mint(sponsor, 100 * ONE, sender=deployer)
    token.approve(market.bounties, 3, sender=sponsor)  # an allowance the sponsor had before
    token.setFailing(True, sender=deployer)  # transferFrom returns false: only the creation's simulation can tell
    chunks, data = sdk.test_set_of(pipeline.open_circuit(CIRCUIT), 2)
    terms = sdk.CreateTerms(CIRCUIT, market.token(token.address), 10 * ONE, 12, chunks, data)
    with pytest.raises(sdk.ApiaryCliError, match=r"createOpen would revert, nothing was sent: .*"
                                                 r"SafeERC20FailedOperation.*\(allowance set back to "
                                                 r"0.000000000000000003 FALSE\)"):
        sdk.create_bounty(market, sponsor, terms, tmp_path)
    assert token.allowance(sponsor, market.bounties) == 3 and market.bounties.bountyCount() == 0


def test_commit__wrong_phase__one_line_nothing_sent(run, owner, registered, sealed, market):
    ok(run("advance", "--bounty", str(sealed), "--past", "commit"))
    nonce = owner.nonce
    line = one_line_error(run("commit", "--bounty", str(sealed), "--model-id", str(registered), account=owner))
    assert "commitModel would revert, nothing was sent" in line and "BountyWrongPhase" in line
    assert f"BountyWrongPhase(bountyId={sealed}, current=Reveal, required=Commit)" in line and owner.nonce == nonce


def test_withdraw__nothing_owed__one_line_nothing_sent(run, owner, deployment):
    nonce = owner.nonce
    line = one_line_error(run("withdraw", "--token", "ApiaryToken", account=owner))
    assert "ModelBounties owes" in line and "nothing to withdraw" in line and owner.nonce == nonce


def test_flush_fees__nothing_pending__one_line(run, owner, deployment):
    assert "no fees pending in APY" in one_line_error(run("flush-fees", "--token", "ApiaryToken", account=owner))


def test_any_command__manifest_of_another_chain__refused(run, owner, deployment):
    body = json.loads(deployment.path.read_text())
    body["chain_id"] = 5
    deployment.path.write_text(json.dumps(body))
    nonce = owner.nonce
    line = one_line_error(run("withdraw", "--token", "ApiaryToken", account=owner))
    assert "is for chain id 5 but the node is chain id" in line and owner.nonce == nonce


def test_show__unknown_bounty__one_line(run, deployment):
    assert "no bounty #7: none created yet" in one_line_error(run("show", "--bounty", "7"))


# ---------------------------------------------------------------- amounts, tokens, state


def test_create__exact_decimal_reward__secret_kept_before_and_linked_after(run, sponsor, deployment, market):
    args = list(SEALED)
    args[args.index("--reward") + 1] = "1000.5"
    bounty_id = int(ok(run("create", "--circuit", CIRCUIT, *args, account=sponsor)).strip())
    view = market.view(bounty_id)
    assert view.reward == 1000 * ONE + ONE // 2 and view.mode == sdk.Mode.SEALED
    secrets_dir = deployment.state_dir("bounties", root=paths.STATE_DIR)
    commitment = bytes(market.bounties.bounty(bounty_id).testSetCommitment)
    secret = sdk.load_secret(secrets_dir, commitment)
    link = json.loads((secrets_dir / f"bounty-{bounty_id}.json").read_text())
    assert link["secret"] == f"sealed-{commitment.hex()}.json"
    assert testdata.decode(secret.test_data)[0][0].shape == (8, 4)
    assert market.token("ApiaryToken").format(market.bounties.locked(view.token)) == "1000.5 APY"


def test_create__crash_before_sending__secret_already_on_disk(market, sponsor, tmp_path, monkeypatch):
    chunks, data = sdk.test_set_of(pipeline.open_circuit(CIRCUIT), 2)
    terms = sdk.CreateTerms(CIRCUIT, market.token("ApiaryToken"), ONE, 12, chunks, data, sealed=True,
                            commit_seconds=HOUR, reveal_seconds=HOUR, prove_seconds=DAY)
    real_send = sdk.send

    def crash_on_create(method, *args, **kwargs):
        if "createSealed" in repr(method):
            raise KeyboardInterrupt
        return real_send(method, *args, **kwargs)

    monkeypatch.setattr(sdk, "send", crash_on_create)
    with pytest.raises(KeyboardInterrupt):
        sdk.create_bounty(market, sponsor, terms, tmp_path)
    (saved,) = tmp_path.glob("sealed-*.json")
    assert json.loads(saved.read_text())["test_data"] == "0x" + data.hex()


def test_register_model__crash_after_seal__resumes_with_the_kept_salt(market, owner, model_file, tmp_path, monkeypatch,
                                                                       run, chain):
    commitment = pipeline.model_commitment(pipeline.open_circuit(CIRCUIT), zk_models.QuantisedModel.load(model_file))
    real_send = sdk.send

    def crash_on_register(method, *args, **kwargs):
        if "register" in repr(method) and "commit" not in repr(method):
            raise KeyboardInterrupt
        return real_send(method, *args, **kwargs)

    monkeypatch.setattr(sdk, "send", crash_on_register)
    state = tmp_path / "models"
    with pytest.raises(KeyboardInterrupt):
        sdk.register_model(market, owner, CIRCUIT, commitment, "", state)
    assert list(state.glob("seal-*.json"))
    monkeypatch.setattr(sdk, "send", real_send)
    lines = []
    model_id, fresh = sdk.register_model(market, owner, CIRCUIT, commitment, "", state, log=lines.append)
    assert fresh and any(line.startswith("resuming: seal committed in block") for line in lines)
    # final for the next transaction: its block is past contestableUntil
    assert market.models.contestableUntil(model_id) <= chain.blocks.height and not list(state.glob("seal-*.json"))
    seals = market.models.RegistrationCommitted.range(0, chain.blocks.height + 1)
    assert len(list(seals)) == 1
    nonce = owner.nonce
    again = ok(run("register-model", "--circuit", CIRCUIT, "--model", str(model_file), account=owner))
    assert f"model #{model_id} is registered to {owner.address} already" in again and owner.nonce == nonce


# ---------------------------------------------------------------- the sealed flow with real proofs


def test_sealed_flow__reveal_prove_submit_finalize_withdraw(run, sponsor, owner, registered, sealed, model_file):
    ok(run("commit", "--bounty", str(sealed), "--model-id", str(registered), account=owner))
    early = one_line_error(run("prove-and-submit", "--bounty", str(sealed), "--model-id", str(registered), "--model",
                               str(model_file), account=owner))
    assert f"bounty #{sealed} is in phase commit: proofs are accepted in phase prove" in early
    ok(run("advance", "--bounty", str(sealed), "--past", "commit"))
    assert "102 bytes of test data published on chain" in ok(run("reveal", "--bounty", str(sealed), account=sponsor))

    out = ok(run("prove-and-submit", "--bounty", str(sealed), "--model-id", str(registered), "--model", str(model_file),
                 "--circuit", CIRCUIT, account=owner))
    assert "chunk 0: score 7 verified on chain" in out and "chunk 1: score 8 verified on chain" in out
    rerun = ok(run("prove-and-submit", "--bounty", str(sealed), "--model-id", str(registered), "--model",
                   str(model_file), account=owner))
    assert rerun.count("proven on chain already, skipped") == 2 and "0 proof(s) submitted" in rerun

    ok(run("advance", "--bounty", str(sealed), "--past", "deadline"))
    assert "sealed, won, phase closed" in ok(run("finalize", "--bounty", str(sealed), account=sponsor))
    paid = ok(run("withdraw", "--token", "ApiaryToken", account=owner))
    assert re.search(r"withdrew 990 APY to 0x\w+: balance (\S+) APY → (\S+) APY", paid)
    before, after = (Decimal(x) for x in re.search(r"balance (\S+) APY → (\S+) APY", paid).groups())
    assert after - before == 990
    assert "flushed 10 APY of fees" in ok(run("flush-fees", "--token", "ApiaryToken", account=sponsor))
    shown = ok(run("show", "--bounty", str(sealed)))
    assert f"#1 model {registered} (owner {owner.address}): 2/2 chunks, score 15" in shown
    assert "next: payees withdraw" in shown
    assert ok(run("list")).strip() == (f"#{sealed} sealed closed/won iris-logreg-n8 ≥ 12 over 2 chunk(s), "
                                       f"reward 1000 APY, best model #{registered} (15)")


def test_prove__published_data_does_not_match_the_chunks__one_line(run, core, sponsor, owner, registered, market, chain,
                                                                   model_file):
    chunks, _data = sdk.test_set_of(pipeline.open_circuit(CIRCUIT), 2)
    other = zk_models.test_chunks(zk_models.load_dataset("iris"), 8, 3)[:2]  # other samples than the commitments
    core.token.approve(market.bounties, ONE, sender=sponsor)
    market.bounties.createOpen((core.token.address, ONE, sdk.circuit_id(CIRCUIT), chunks, testdata.encode(other), 12, 0,
                                chain.pending_timestamp + 2 * DAY), sender=sponsor)
    nonce = owner.nonce
    line = one_line_error(run("prove-and-submit", "--bounty", "0", "--model-id", str(registered), "--model",
                              str(model_file), account=owner))
    assert "the sponsor published test data that does not match chunk(s) 0, 1 of bounty #0's commitments" in line
    assert owner.nonce == nonce


# ---------------------------------------------------------------- your own task: files and circuit folders


def test_create__test_set_from_a_csv_relative_to_the_users_directory(run, sponsor, market, tmp_path, monkeypatch):
    from apiary.zk import tasks

    iris = zk_models.load_dataset("iris")
    rows = "".join(",".join(map(str, list(x) + [int(y)])) + "\n" for x, y in zip(iris.features[:20], iris.labels[:20]))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "test.csv").write_text("a,b,c,d,label\n" + rows)
    monkeypatch.setenv("APIARY_CALLER_DIR", str(tmp_path / "mine"))
    bounty = int(ok(run("create", "--circuit", CIRCUIT, "--data", "test.csv", *SEALED, account=sponsor)).split()[-1])
    circuit = pipeline.open_circuit(CIRCUIT)
    chunks = tasks.load_test_set(circuit.spec, tmp_path / "mine" / "test.csv", 2).chunks
    assert bounty >= 0
    kept = list((paths.STATE_DIR / "bounties").rglob("*.json"))
    bodies = [json.loads(p.read_text()) for p in kept if "chunks" in p.read_text()]
    assert any(body["chunks"] == ["0x" + pipeline.chunk_commitment(circuit, *c).hex() for c in chunks] for body in bodies)


def test_create__missing_data_file_is_a_usage_error(run, sponsor, tmp_path, monkeypatch):
    monkeypatch.setenv("APIARY_CALLER_DIR", str(tmp_path))
    result = run("create", "--circuit", CIRCUIT, "--data", "absent.csv", *SEALED, account=sponsor)
    assert result.exit_code == 2 and "absent.csv: no such file" in result.stderr


def test_circuit_folder__not_the_registered_manifest__refused(run, sponsor, tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(pipeline.open_circuit(CIRCUIT).root, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["tools"]["note"] = "rebuilt elsewhere"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("APIARY_CALLER_DIR", str(tmp_path))
    nonce = sponsor.nonce
    line = one_line_error(run("create", "--circuit", "copy", *SEALED, account=sponsor))
    assert f"circuit {CIRCUIT} is registered with manifest hash" in line and "use the registered circuit folder" in line
    assert sponsor.nonce == nonce


def test_register_model__onnx_and_json_of_one_model_register_one_commitment(run, owner, model_file, tmp_path):
    from apiary.zk import network, tasks

    model = zk_models.QuantisedModel.load(model_file)
    onnx_file = tmp_path / "model.onnx"
    onnx_file.write_bytes(network.to_onnx(model.to_network(), quantised=True).SerializeToString())
    circuit = pipeline.open_circuit(CIRCUIT)
    assert pipeline.model_commitment(circuit, tasks.load_model(circuit.spec, onnx_file).integer) == \
        pipeline.model_commitment(circuit, model)
    first = ok(run("register-model", "--circuit", CIRCUIT, "--model", str(onnx_file), "--quiet", account=owner))
    again = ok(run("register-model", "--circuit", CIRCUIT, "--model", str(model_file), account=owner))
    assert f"model #{first.split()[-1]} is registered to {owner.address} already" in again
