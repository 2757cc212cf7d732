"""Revert data decodes by every project ABI; any exception an ape call raises becomes one line with a hint."""

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from apiary.sdk.errors import ApiaryCliError, decode_revert, explain, selector_table

ACCOUNT = "0x" + "ab" * 20


def revert(signature: str, types: list[str], values: list) -> bytes:
    return keccak(text=signature)[:4] + encode(types, values)


@pytest.mark.parametrize("name", [
    "OwnableUnauthorizedAccount", "ERC20InsufficientAllowance", "SafeERC20FailedOperation",  # OpenZeppelin
    "FeeVaultFeeAboveCap", "BountyWrongPhase", "EvaluationProofInvalid",  # project
    "GovernorUnexpectedProposalState", "TimelockUnexpectedOperationState", "Error", "Panic",
])
def test_selector_table__has_project_library_and_builtin_errors(name):
    assert name in {sig.name for sig in selector_table().values()}


def test_decode__custom_error__named_arguments_checksummed():
    data = revert("ERC20InsufficientAllowance(address,uint256,uint256)", ["address", "uint256", "uint256"], [ACCOUNT, 5, 10])
    assert decode_revert(data) == f"ERC20InsufficientAllowance(spender={to_checksum_address(ACCOUNT)}, allowance=5, needed=10)"


def test_decode__bytes_arguments_as_hex():
    data = revert("AccessControlUnauthorizedAccount(address,bytes32)", ["address", "bytes32"], [ACCOUNT, b"\x01" * 32])
    assert decode_revert(data).endswith("neededRole=0x" + "01" * 32 + ")")


def test_decode__panic_and_error_string():
    assert decode_revert(revert("Panic(uint256)", ["uint256"], [0x11])) == "Panic(0x11: arithmetic overflow or underflow)"
    assert decode_revert(revert("Error(string)", ["string"], ["not enough"])) == 'Error("not enough")'


def test_decode__unknown_selector__shows_selector_and_bytes():
    assert decode_revert(bytes.fromhex("12345678") + b"\0" * 32).startswith("unknown error 0x12345678 (32 bytes")


def test_decode__empty__says_there_was_no_reason():
    assert "without a reason" in decode_revert(b"")


def test_decode__nested_revert_in_bytes_argument__decoded_too():
    inner = revert("OwnableUnauthorizedAccount(address)", ["address"], [ACCOUNT])
    # A wrapper error carrying the callee's revert data as `bytes` (OpenZeppelin Governor/Timelock style relays).
    from apiary.sdk import errors

    errors.register_abi([{"type": "error", "name": "CallFailed", "inputs": [
        {"name": "target", "type": "address"}, {"name": "reason", "type": "bytes"}]}])
    outer = revert("CallFailed(address,bytes)", ["address", "bytes"], [ACCOUNT, inner])
    assert decode_revert(outer) == (f"CallFailed(target={to_checksum_address(ACCOUNT)}, "
                                    f"reason=OwnableUnauthorizedAccount(account={to_checksum_address(ACCOUNT)}))")


def test_explain__token_revert_bubbled_through_the_vault__names_the_token_error(create_vault, token, usd, attacker):
    # depositFee pulls with SafeERC20, which relays the token's own revert data: the inner error is what shows.
    vault = create_vault(token)
    with pytest.raises(Exception) as info:
        vault.depositFee(usd, 100, sender=attacker)
    line = explain(info.value)
    assert f"ERC20InsufficientAllowance(spender={vault.address}, allowance=0, needed=100)" in line
    assert "approve the spender" in line


def test_explain__real_revert_on_chain__one_line_with_error_and_account(create_vault, token, attacker):
    vault = create_vault(token)
    with pytest.raises(Exception) as info:
        vault.setFeeBps(5, sender=attacker)
    line = explain(info.value)
    assert "\n" not in line
    assert f"OwnableUnauthorizedAccount(account={attacker.address})" in line
    assert "FeeVault" in line and "governance proposal" in line


def test_explain__raw_hex_contract_logic_error():
    from ape.exceptions import ContractLogicError

    data = revert("OwnableUnauthorizedAccount(address)", ["address"], [ACCOUNT])
    line = explain(ContractLogicError("0x" + data.hex()))
    assert f"OwnableUnauthorizedAccount(account={to_checksum_address(ACCOUNT)})" in line


def test_explain__web3_logic_error_with_data():
    from web3.exceptions import ContractLogicError

    data = revert("Panic(uint256)", ["uint256"], [0x12])
    assert "division or modulo by zero" in explain(ContractLogicError("execution reverted", data="0x" + data.hex()))


@pytest.mark.parametrize("exc_factory,expected", [
    (lambda: ConnectionRefusedError(111, "Connection refused"), "./dev node"),
    (lambda: __import__("ape_node.provider", fromlist=["x"]).NodeSoftwareNotInstalledError(), "./dev node"),
    (lambda: __import__("requests").exceptions.ConnectionError("HTTPConnectionPool: Max retries exceeded"), "./dev node"),
    (lambda: __import__("ape").exceptions.ProviderNotConnectedError(), "./dev node"),
    (lambda: ValueError({"code": -32000, "message": "insufficient funds for gas * price + value"}), "fund the account"),
    (lambda: ValueError("nonce too low: next nonce 5, tx nonce 4"), "nonce problem"),
    (lambda: __import__("ape").exceptions.ContractNotFoundError("0x" + "00" * 20, False, "local"), "check the address"),
    (lambda: ApiaryCliError("already said"), "already said"),
])
def test_explain__common_failures__one_line_with_what_to_do(exc_factory, expected):
    line = explain(exc_factory(), network="ethereum:local:node")
    assert expected in line and "\n" not in line
    assert "geth" not in line.lower()


def test_explain__node_down_on_a_public_network__names_the_rpc_url():
    line = explain(ConnectionRefusedError(111, "Connection refused"), network="ethereum:sepolia:node")
    assert "RPC URL of ethereum:sepolia:node" in line and "geth" not in line


def test_decode__proposal_states_by_name():
    expected = (1 << 4).to_bytes(32, "big")  # Succeeded
    data = revert("GovernorUnexpectedProposalState(uint256,uint8,bytes32)", ["uint256", "uint8", "bytes32"], [7, 1, expected])
    assert decode_revert(data) == "GovernorUnexpectedProposalState(proposalId=7, current=Active, expectedStates=Succeeded)"


def test_explain__anvil_custom_error_message__decoded():
    from ape.exceptions import ProviderError

    data = revert("OwnableUnauthorizedAccount(address)", ["address"], [ACCOUNT])
    exc = ProviderError(f"execution reverted: custom error 0x{data[:4].hex()}: {data[4:].hex()}")
    assert f"OwnableUnauthorizedAccount(account={to_checksum_address(ACCOUNT)})" in explain(exc)
