"""A command that would revert sends nothing (nonce unchanged) and prints one line; --verbose adds the traceback."""

import click
import pytest
from click.testing import CliRunner

from apiary.sdk import cli as sdk_cli
from apiary.sdk.errors import ApiaryCliError
from apiary.sdk.tx import deploy, send, simulate


@pytest.fixture
def owned_vault(create_vault, token, gov):
    return create_vault(token, owner=gov)


def test_send__would_revert__nothing_broadcast(chain, owned_vault, attacker):
    nonce, height = attacker.nonce, chain.blocks.height
    with pytest.raises(ApiaryCliError) as info:
        send(owned_vault.setFeeBps, 5, sender=attacker)
    message = info.value.format_message()
    assert message.startswith("setFeeBps would revert, nothing was sent: FeeVault")
    assert f"OwnableUnauthorizedAccount(account={attacker.address})" in message and "\n" not in message
    assert attacker.nonce == nonce and chain.blocks.height == height


def test_send__ok__returns_receipt(owned_vault, gov):
    receipt = send(owned_vault.setFeeBps, 250, sender=gov)
    assert not receipt.failed and owned_vault.feeBps() == 250


def test_simulate__checks_the_value_too(owned_vault, gov):
    # FeeVault refuses ETH: the very same call with value reverts in simulation.
    with pytest.raises(ApiaryCliError, match="would"):
        simulate(owned_vault.setFeeBps, 250, sender=gov, value=1)


def test_deploy__constructor_would_revert__nothing_broadcast(project, deployer, token, gov):
    nonce = deployer.nonce
    with pytest.raises(ApiaryCliError, match="deploying FeeVault would revert, nothing was sent: .*FeeVaultCapAboveDenominator"):
        deploy(project.FeeVault, gov.address, token.address, 20_000, 100, sender=deployer)
    assert deployer.nonce == nonce
    assert deploy(project.FeeVault, gov.address, token.address, 1_000, 100, sender=deployer).maxFeeBps() == 1_000


def test_command__failure__one_line_exit_1__traceback_only_with_verbose(owned_vault, attacker):
    @click.command(cls=sdk_cli.Command)
    @click.option("--bps", type=int)
    def set_fee(bps):
        send(owned_vault.setFeeBps, bps, sender=attacker)

    nonce = attacker.nonce
    result = CliRunner(mix_stderr=False).invoke(set_fee, ["--bps", "5"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: setFeeBps would revert") and "OwnableUnauthorizedAccount" in lines[0]
    assert attacker.nonce == nonce

    verbose = CliRunner(mix_stderr=False).invoke(set_fee, ["--bps", "5", "--verbose"])
    assert verbose.exit_code == 1 and "Traceback" in verbose.stderr
    assert verbose.stderr.strip().splitlines()[-1] == lines[0]


def test_command__unexpected_exception__still_one_line():
    @click.command(cls=sdk_cli.Command)
    def broken():
        raise KeyError("manifest has no ModelBounties")

    result = CliRunner(mix_stderr=False).invoke(broken, [])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "ModelBounties" in result.stderr


def test_options__parse_and_reject():
    @click.command()
    @sdk_cli.bounty_option()
    @sdk_cli.token_option()
    @sdk_cli.amount_option("--reward")
    @sdk_cli.circuit_option()
    def cmd(bounty_id, token, reward, circuit):
        click.echo(f"{bounty_id} {token} {reward} {circuit}")

    ok = CliRunner().invoke(cmd, ["--bounty", "3", "--token", "0x" + "ab" * 20, "--reward", "1e9",
                                  "--circuit", "digits-mlp16-n64"])
    assert ok.output == "3 0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB 1e9 digits-mlp16-n64\n"
    bad = CliRunner().invoke(cmd, ["--bounty", "3", "--token", "0x12", "--reward", "1", "--circuit", "nope"])
    assert bad.exit_code == 2 and "not an address" in bad.output
    bad = CliRunner().invoke(cmd, ["--bounty", "3", "--token", "0x" + "ab" * 20, "--reward", "1", "--circuit", "nope"])
    assert "no circuit 'nope': neither a circuit folder" in bad.output and "digits-mlp16-n64" in bad.output
