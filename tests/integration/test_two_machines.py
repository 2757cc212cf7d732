"""Two people, two machines (issue 21), played on one: an anvil with Sepolia's chain id (11155111) and the
testnet profile (the default), four "machines" — the DAO's deployer, a seller, a buyer who also hires compute,
a provider — each with its own working folders, its own ape data folder and its own keyfile account (no
`TEST::` account signs anything; the test only plays the faucet and the clock, through anvil's RPC). Files move
only over HTTP: each machine serves its own with `apiary serve --files DIR`, and the deployment manifest is
copied as a user would download it.

  * the seller lists a dataset whose package is a URL, and its unattended delivery agent delivers; the buyer
    buys (the package downloaded over HTTP and checked before paying), fetches and gets the file byte for byte;
  * the requester posts a job whose input is a URL, and the provider's unattended agent serves it;
  * a job whose input points at a private address, or at a 10 GB file, is refused in one line, nothing sent;
  * `data show`, `compute show` and `gov show` speak in tokens, names and dates.

Time is the testnet profile's: 300-block seal windows and voting periods, a 10-minute timelock — the test mines
blocks and moves the clock with anvil_mine and evm_increaseTime (`gov advance` refuses a chain that is not a
dev node, as it should).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from eth_account import Account as EthAccount

from apiary.paths import PROJECT_ROOT
from tests.integration.test_readme_market_flow import _port_open, anvil_node
from tests.ports import free_port

CHAIN_ID = 11155111
NETWORK = "ethereum:sepolia:node"
APE = str(PROJECT_ROOT / ".venv" / "bin" / "ape")
APIARY = str(PROJECT_ROOT / ".venv" / "bin" / "apiary")
CIRCUIT = "iris-logreg-n8"


def _rpc(url: str, method: str, params: list) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    assert "error" not in answer, answer
    return answer["result"]


@dataclass
class Machine:
    """One person's computer: folders, an ape data folder with its keyfile account and the testnet RPC."""

    name: str
    root: Path
    rpc: str
    address: str = ""
    env: dict = field(default_factory=dict)
    procs: list = field(default_factory=list)

    def __post_init__(self) -> None:
        data = self.root / "ape-data"
        (data / "accounts").mkdir(parents=True)
        self.files = self.root / "files"
        self.files.mkdir()
        # The README's testnet snippet: the RPC from an environment variable, in the user's own ape config. ape
        # knows Sepolia as a 15-second chain waiting for 2 confirmations, and polls every block_time / 2 seconds:
        # 7 s per transaction on this 1-second chain. The user tells ape what its chain is like: it polls each
        # second and waits for one confirmation (the waiting path is still taken, only shorter).
        (data / "ape-config.yaml").write_text(
            "node:\n  ethereum:\n    sepolia:\n      uri: $SEPOLIA_RPC_URL\n"
            "ethereum:\n  sepolia:\n    block_time: 2\n    required_confirmations: 1\n")
        passphrase = os.urandom(12).hex()
        keystore = EthAccount.encrypt(os.urandom(32), passphrase)  # a fresh key per run: nothing in the repo
        (data / "accounts" / f"{self.name}.json").write_text(json.dumps(keystore))
        self.address = "0x" + keystore["address"]
        self.env = {**os.environ, "APE_DATA_FOLDER": str(data), "SEPOLIA_RPC_URL": self.rpc,
                    "APIARY_DEPLOYMENTS_DIR": str(self.root / "deployments"),
                    "APIARY_STATE_DIR": str(self.root / "build"),
                    f"APE_ACCOUNTS_{self.name}_PASSPHRASE": passphrase,
                    # a LAN testnet: every host here is 127.0.0.1 (the default refuses private addresses)
                    "APIARY_ALLOW_PRIVATE_URLS": "1"}
        self.env.pop("APE_ACCOUNTS_PASSPHRASE", None)
        _rpc(self.rpc, "anvil_setBalance", [self.address, hex(10**20)])  # the faucet

    def argv(self, *args: str, signs: bool = True) -> list[str]:
        account = ["--account", self.name, "--unattended"] if signs else []
        return [APE, "run", *args, "--network", NETWORK, *account]

    def run(self, *args: str, ok: bool = True, env: dict | None = None, timeout: float = 300, signs: bool = True) -> str:
        done = subprocess.run(self.argv(*args, signs=signs), cwd=PROJECT_ROOT, env=env or self.env,
                              capture_output=True, text=True, timeout=timeout)
        if ok:
            assert done.returncode == 0, f"{self.name}: {' '.join(args)}\n{done.stdout}\n{done.stderr}"
            return done.stdout
        assert done.returncode != 0, f"{self.name}: {' '.join(args)} should have failed:\n{done.stdout}"
        return done.stderr

    def quiet(self, *args: str) -> int:
        return int(self.run(*args, "--quiet").strip().splitlines()[-1])

    def start(self, argv: list[str]) -> subprocess.Popen:
        log = open(self.root / f"proc-{len(self.procs)}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append((proc, log))
        return proc

    def serve(self) -> str:
        """`apiary serve --files DIR` on this machine: returns its base URL (printed by the command)."""
        port = free_port()
        self.start([APIARY, "serve", "--files", str(self.files), "--host", "127.0.0.1", "--port", str(port)])
        deadline = time.monotonic() + 30
        while not _port_open(port):
            assert time.monotonic() < deadline, f"{self.name}: apiary serve did not start"
            time.sleep(0.1)
        return f"http://127.0.0.1:{port}"

    def output(self, proc: subprocess.Popen) -> str:
        for p, log in self.procs:
            if p is proc:
                log.flush()
                return Path(log.name).read_text()
        return ""

    def stop(self) -> None:
        for proc, log in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            log.close()

    def nonce(self) -> int:
        return int(_rpc(self.rpc, "eth_getTransactionCount", [self.address, "latest"]), 16)


class _Huge(BaseHTTPRequestHandler):
    """A host that says its input is 10 GB and keeps sending."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Length", str(10 * 1024**3))
        self.end_headers()
        try:
            for _ in range(1 << 20):
                self.wfile.write(b"1," * 4096)
        except OSError:
            pass

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def sepolia_like():
    # Blocks every second, as on a testnet: ape waits for confirmations there, which an automining node never mines.
    with anvil_node(CHAIN_ID, "--block-time", "1") as uri:
        yield uri


@pytest.mark.anvil
def test_two_machines__keyfiles_http_files_unattended_agents_on_a_testnet(sepolia_like, tmp_path):
    rpc = sepolia_like

    def mine(blocks: int = 1, seconds: int = 0) -> None:
        if seconds:
            _rpc(rpc, "evm_increaseTime", [seconds])
        _rpc(rpc, "anvil_mine", [hex(blocks)])

    dao, seller, buyer, provider = (Machine(name, tmp_path / name, rpc)
                                    for name in ("dao", "seller", "buyer", "provider"))
    machines = (dao, seller, buyer, provider)
    huge = ThreadingHTTPServer(("127.0.0.1", free_port()), _Huge)
    threading.Thread(target=huge.serve_forever, daemon=True).start()

    def publish_manifest() -> None:
        """The DAO publishes its deployment manifest; everyone else downloads it (a copy here)."""
        for m in (seller, buyer, provider):
            shutil.copytree(dao.root / "deployments", m.root / "deployments", dirs_exist_ok=True)

    try:
        # ---- the DAO deploys with the testnet profile (the default) from its keyfile, and enables iris inference
        out = dao.run("deploy", "--yes")
        assert "testnet" in out, out
        publish_manifest()
        for m in (seller, buyer, provider):
            dao.run("data", "transfer", "--to", m.address, "--amount", "5000")
        dao.run("market", "deploy-verifier", "--circuit", CIRCUIT)
        circuit = dao.run("market", "propose-circuit", "--circuit", CIRCUIT, "--quiet").strip().splitlines()[-1]
        inference = dao.run("compute", "propose-inference", "--circuit", CIRCUIT, "--quiet").strip().splitlines()[-1]
        publish_manifest()  # it records the verifiers it deployed
        verified = dao.run("verify", signs=False)  # what to submit to a block explorer or Sourcify
        assert "contracts/compute/ComputeMarket.sol:ComputeMarket" in verified and "Standard-Json-Input" in verified
        assert f"verifier of {CIRCUIT} 0x" in verified and "Verifier.sol:Halo2Verifier" in verified, verified
        assert f"verifier of {CIRCUIT}.infer 0x" in verified and "not the deployed one" not in verified, verified
        mine(6)  # the testnet profile's voting delay: 5 blocks
        for proposal in (circuit, inference):
            dao.run("gov", "vote", "--proposal", proposal, "--support", "for")
        shown = dao.run("gov", "show", "--proposal", circuit, signs=False)
        assert re.search(r"\bActive\b", shown) and "APY" in shown, shown
        # the full proposal id is shown once, beside its short form; no amount is in wei
        assert not re.search(r"\d{19,}", re.sub(r"\(id \d+\)", "", shown)), f"an amount in wei:\n{shown}"
        mine(301)  # its voting period: 300 blocks
        for proposal in (circuit, inference):
            dao.run("gov", "queue", "--proposal", proposal)
        mine(1, 601)  # its timelock: 10 minutes
        for proposal in (circuit, inference):
            dao.run("gov", "execute", "--proposal", proposal)

        # ---- the seller: a dataset registered, then listed with its package at a URL of its own server
        seller_url = seller.serve()
        subprocess.run([APIARY, "zk", "example", "--dataset", "iris", "--out-dir", str(seller.root / "work")],
                       cwd=seller.root, env=seller.env, check=True, capture_output=True)
        rows = seller.root / "work" / "test.csv"
        dataset = seller.quiet("data", "register", "--data", str(rows), "--price", "25", "--token", "ApiaryToken")
        registered = seller.run("data", "show", "--dataset", str(dataset), signs=False)
        assert "APY" in registered and not re.search(r"\d{19,}", registered), registered
        mine(301)  # the registration is final after the testnet seal window
        listing = seller.quiet("data", "list", "--dataset", str(dataset), "--data", str(rows), "--package",
                               str(seller.files / "test.apkg"), "--uri", f"{seller_url}/test.apkg")
        agent = seller.start(seller.argv("data", "deliver-agent", "--poll", "1"))

        # ---- the buyer, on its own machine: buys (the package comes over HTTP), fetches, checks the file
        sale = buyer.quiet("data", "buy", "--listing", str(listing), "--max-price", "25")
        bought = buyer.root / "bought.csv"
        buyer.run("data", "fetch", "--sale", str(sale), "--out", str(bought), "--wait", "180")
        assert bought.read_bytes() == rows.read_bytes()
        assert "signing as 'seller'" in seller.output(agent) and "unlocked" in seller.output(agent)
        shown = buyer.run("data", "show", "--dataset", str(dataset), "--listing", str(listing), "--sale", str(sale),
                          signs=False)
        assert "25 APY" in shown and not re.search(r"\d{19,}", shown), shown

        # ---- compute: the buyer registers a model and hires the provider's unattended agent
        model_file = buyer.files / "model.onnx"
        subprocess.run([APIARY, "zk", "train", "--dataset", "iris", "--arch", "logreg", "--out", str(model_file)],
                       cwd=buyer.root, env=buyer.env, check=True, capture_output=True)
        model = buyer.quiet("market", "register-model", "--circuit", CIRCUIT, "--model", str(model_file))
        mine(301)  # final
        buyer_url = buyer.serve()
        provider_model = provider.root / "model.onnx"
        with urllib.request.urlopen(f"{buyer_url}/model.onnx", timeout=30) as response:  # the model, shared
            provider_model.write_bytes(response.read())
        provider.run("compute", "stake", "--amount", "2000")
        serving = provider.start(provider.argv("compute", "provider-agent", "--model", f"{model}={provider_model}",
                                               "--poll", "0.5"))
        x = buyer.files / "x.csv"
        x.write_text("5.1,3.5,1.4,0.2\n")
        post = ("compute", "post", "--model-id", str(model), "--input", str(x), "--price", "2", "--collateral", "20",
                "--mode", "proof", "--provider", provider.address)

        # bad inputs first: one line each, nothing sent
        nonce = buyer.nonce()
        strict = {k: v for k, v in buyer.env.items() if k != "APIARY_ALLOW_PRIVATE_URLS"}
        refused = buyer.run(*post, "--uri", "http://10.1.2.3/x.csv", ok=False, env=strict)
        assert "private" in refused and "Traceback" not in refused, refused
        refused = buyer.run(*post, "--uri", f"http://127.0.0.1:{huge.server_address[1]}/x.csv", ok=False)
        assert re.search(r"larger than|too large|more than", refused) and "Traceback" not in refused, refused
        assert buyer.nonce() == nonce, "a refused post sent something"

        job = buyer.quiet(*post, "--uri", f"{buyer_url}/x.csv")
        waited = buyer.run("compute", "wait", "--job", str(job), "--timeout", "240", "--input", str(x), "--model",
                           str(model_file))
        assert f"job #{job}: paid (proven)" in waited and "outputs match your own run" in waited, waited
        assert "signing as 'provider'" in provider.output(serving), provider.output(serving)
        shown = buyer.run("compute", "show", "--job", str(job), signs=False)
        assert "price 2 APY" in shown and "collateral 20 APY" in shown and not re.search(r"\d{19,}", shown), shown
    finally:
        huge.shutdown()
        for m in machines:
            m.stop()
