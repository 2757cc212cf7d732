"""Camera-signed data: governance registers device keys (P-256 as ES256 cameras sign, and secp256k1); a
signature by an active registered device over a dataset's EIP-712 digest marks it attested."""

from __future__ import annotations

import ape
import pytest

from apiary.data import attest

from .conftest import table

P256, K1 = attest.KeyType.P256, attest.KeyType.SECP256K1


@pytest.fixture(params=[P256, K1], ids=["p256", "secp256k1"])
def camera(request, devices, gov):
    key = attest.new_device_key(request.param)
    devices.register(int(key.key_type), *key.public, sender=gov)
    return key


@pytest.fixture
def dataset(register, alice):
    c = table(range(8))
    return register(alice, c), c


def digest_for(registry, chain, c):
    return attest.attestation_digest(chain.chain_id, registry.address, c.root, c.rows, c.schema_hash)


def test_digest__python_matches_the_contract(registry, chain):
    c = table(range(3))
    assert registry.attestationDigest(c.root, c.rows, c.schema_hash) == digest_for(registry, chain, c)


def test_attest__registered_device__dataset_attested_until_retired(registry, devices, camera, dataset, chain, gov, bob):
    id_, c = dataset
    assert not registry.isAttested(id_)
    registry.attest(id_, camera.device_id, camera.sign(digest_for(registry, chain, c)), sender=bob)  # anyone submits
    assert registry.isAttested(id_) and registry.dataset(id_).device == camera.device_id
    devices.retire(camera.device_id, sender=gov)
    assert not registry.isAttested(id_)
    with ape.reverts(devices.DeviceRegistryAlreadyRegistered):  # a retired key cannot be revived
        devices.register(int(camera.key_type), *camera.public, sender=gov)


def test_attest__unregistered_device__rejected(registry, dataset, chain, bob):
    id_, c = dataset
    rogue = attest.new_device_key(P256)
    with ape.reverts(registry.DatasetRegistryBadAttestation, id=id_, deviceId=rogue.device_id):
        registry.attest(id_, rogue.device_id, rogue.sign(digest_for(registry, chain, c)), sender=bob)
    assert not registry.isAttested(id_)


def test_attest__forged_signature_for_a_registered_device__rejected(registry, camera, dataset, chain, attacker):
    id_, c = dataset
    forger = attest.new_device_key(camera.key_type)  # the attacker's own key, claiming the camera's id
    with ape.reverts(registry.DatasetRegistryBadAttestation):
        registry.attest(id_, camera.device_id, forger.sign(digest_for(registry, chain, c)), sender=attacker)
    good = bytearray(camera.sign(digest_for(registry, chain, c)))
    good[5] ^= 1
    with ape.reverts(registry.DatasetRegistryBadAttestation):
        registry.attest(id_, camera.device_id, bytes(good), sender=attacker)
    for junk in (b"", b"\x00" * 64, b"\x01" * 65, b"\x02" * 200):
        with ape.reverts(registry.DatasetRegistryBadAttestation):
            registry.attest(id_, camera.device_id, junk, sender=attacker)
    assert not registry.isAttested(id_)


def test_attest__signature_replayed_for_another_dataset_chain_or_registry__rejected(
        registry, camera, dataset, register, chain, bob, attacker):
    id_, c = dataset
    other = table(range(100, 108))
    other_id = register(bob, other)
    signature = camera.sign(digest_for(registry, chain, c))
    with ape.reverts(registry.DatasetRegistryBadAttestation):
        registry.attest(other_id, camera.device_id, signature, sender=attacker)
    for chain_id, address in ((chain.chain_id + 1, registry.address), (chain.chain_id, attacker.address)):
        elsewhere = camera.sign(attest.attestation_digest(chain_id, address, c.root, c.rows, c.schema_hash))
        with ape.reverts(registry.DatasetRegistryBadAttestation):
            registry.attest(id_, camera.device_id, elsewhere, sender=attacker)
    # a signature over the same root with another row count or schema is another statement
    lied = camera.sign(attest.attestation_digest(chain.chain_id, registry.address, c.root, c.rows + 1, c.schema_hash))
    with ape.reverts(registry.DatasetRegistryBadAttestation):
        registry.attest(id_, camera.device_id, lied, sender=attacker)
    assert not registry.isAttested(id_) and not registry.isAttested(other_id)


def test_attest__high_s_p256_signature__rejected(registry, devices, gov, dataset, chain, attacker):
    """OpenZeppelin's P256 takes s in the lower half only; the flipped twin of a valid signature is refused."""
    key = attest.new_device_key(P256)
    devices.register(int(P256), *key.public, sender=gov)
    id_, c = dataset
    sig = key.sign(digest_for(registry, chain, c))
    high = sig[:32] + (attest.P256_ORDER - int.from_bytes(sig[32:], "big")).to_bytes(32, "big")
    with ape.reverts(registry.DatasetRegistryBadAttestation):
        registry.attest(id_, key.device_id, high, sender=attacker)
    registry.attest(id_, key.device_id, sig, sender=attacker)
    assert registry.isAttested(id_)


def test_devices__invalid_keys_and_non_governance__rejected(devices, gov, attacker):
    key = attest.new_device_key(P256)
    x, y = key.public
    with ape.reverts(devices.OwnableUnauthorizedAccount, account=attacker):
        devices.register(int(P256), x, y, sender=attacker)
    off_curve = (int.from_bytes(y, "big") ^ 1).to_bytes(32, "big")
    with ape.reverts(devices.DeviceRegistryInvalidKey):
        devices.register(int(P256), x, off_curve, sender=gov)
    with ape.reverts(devices.DeviceRegistryInvalidKey):
        devices.register(int(K1), b"\x00" * 32, b"\x00" * 32, sender=gov)
    with ape.reverts(devices.DeviceRegistryInvalidKey):
        devices.register(int(K1), b"\xff" * 32, b"\x00" * 32, sender=gov)
    with ape.reverts(devices.DeviceRegistryBadKeyType):
        devices.register(0, x, y, sender=gov)
    with ape.reverts(devices.DeviceRegistryNotActive):
        devices.retire(key.device_id, sender=gov)
    devices.register(int(P256), x, y, sender=gov)
    with ape.reverts(devices.OwnableUnauthorizedAccount):
        devices.retire(key.device_id, sender=attacker)


def test_device_key__saved_and_loaded__same_device(tmp_path):
    for kt in (P256, K1):
        key = attest.new_device_key(kt)
        path = tmp_path / f"{kt.name}.key"
        key.save(path)
        assert attest.load_device_key(path).device_id == key.device_id
        with pytest.raises(attest.DataError, match="never overwritten"):
            key.save(path)
    # second review I-3: created owner-only and exclusively; a planted symlink is not followed
    assert (path.stat().st_mode & 0o777) == 0o600
    (tmp_path / "target").write_text("")
    (tmp_path / "link.key").symlink_to(tmp_path / "target")
    with pytest.raises(attest.DataError, match="never overwritten"):
        attest.new_device_key(K1).save(tmp_path / "link.key")
    assert (tmp_path / "target").read_text() == ""
    (tmp_path / "junk.key").write_text("not a key")
    with pytest.raises(attest.DataError, match="not a PEM device key"):
        attest.load_device_key(tmp_path / "junk.key")


def test_attest__retired_device__rejected(registry, devices, camera, dataset, chain, gov, bob):
    id_, c = dataset
    signature = camera.sign(digest_for(registry, chain, c))
    devices.retire(camera.device_id, sender=gov)
    with ape.reverts(registry.DatasetRegistryBadAttestation, id=id_, deviceId=camera.device_id):
        registry.attest(id_, camera.device_id, signature, sender=bob)
    assert not registry.isAttested(id_)
