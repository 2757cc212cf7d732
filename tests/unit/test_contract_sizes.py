"""EIP-170: every deployable contract's runtime code fits 24,576 bytes, measured on chain."""

import pytest


EIP170_LIMIT = 24_576


def test_sizes__every_contract_fits_eip170(core, project, deployer, chain):
    sizes = {name: len(chain.provider.get_code(address)) for name, address in core.addresses().items()}
    for name, size in sizes.items():
        assert 0 < size <= EIP170_LIMIT, f"{name} runtime is {size} bytes"


@pytest.mark.parametrize("name", ["ApiaryToken", "ApiaryGovernor", "ApiaryTimelock", "FeeVault", "VerifierRegistry",
                                  "ModelRegistry", "ModelBounties", "DeviceRegistry", "DatasetRegistry",
                                  "DataMarket", "Provenance", "Halo2BatchVerifier"])
def test_sizes__compiled_runtime_fits_eip170(project, name):
    runtime = getattr(project, name).contract_type.runtime_bytecode.bytecode
    size = (len(runtime) - 2) // 2
    assert 0 < size <= EIP170_LIMIT, f"{name} runtime is {size} bytes"


