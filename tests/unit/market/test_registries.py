"""VerifierRegistry (governance-only) and ModelRegistry (commit–reveal registration, no duplicates)."""

import ape

from apiary.sdk.market import register_model

ZERO = "0x" + "00" * 20


def test_verifier_registry__governance_only(verifiers, attacker, mock_verifier, circuit):
    with ape.reverts(verifiers.OwnableUnauthorizedAccount, account=attacker.address):
        verifiers.register("evil", mock_verifier, b"\0" * 32, 8, 0, sender=attacker)
    with ape.reverts(verifiers.OwnableUnauthorizedAccount, account=attacker.address):
        verifiers.retire(circuit, sender=attacker)
    assert not verifiers.circuit(circuit).retired


def test_verifier_registry__rejects_bad_entries(verifiers, gov, mock_verifier, alice, circuit):
    with ape.reverts(verifiers.VerifierRegistryAlreadyRegistered, id=circuit):
        verifiers.register("mock-n8", mock_verifier, b"\0" * 32, 8, 0, sender=gov)
    with ape.reverts(verifiers.VerifierRegistryNotAContract, verifier=alice.address):
        verifiers.register("eoa", alice, b"\0" * 32, 8, 0, sender=gov)
    with ape.reverts(verifiers.VerifierRegistryZeroAddress):
        verifiers.register("zero", ZERO, b"\0" * 32, 8, 0, sender=gov)
    with ape.reverts(verifiers.VerifierRegistryZeroSamples):
        verifiers.register("nos", mock_verifier, b"\0" * 32, 0, 0, sender=gov)
    with ape.reverts(verifiers.VerifierRegistryUnknownCircuit, id=b"\x01" * 32):
        verifiers.circuit(b"\x01" * 32)


def test_verifier_registry__retire_once(verifiers, gov, circuit):
    verifiers.retire(circuit, sender=gov)
    with ape.reverts(verifiers.VerifierRegistryRetired, id=circuit):
        verifiers.retire(circuit, sender=gov)
    with ape.reverts(verifiers.VerifierRegistryRetired, id=circuit):
        verifiers.activeCircuit(circuit)


def test_model_registry__commit_reveal_mints_to_owner(models, alice, circuit):
    model_id = register_model(models, alice, circuit, b"\x07" * 32, "ipfs://m")
    assert models.ownerOf(model_id) == alice.address
    m = models.model(model_id)
    assert m.circuitId == circuit and m.commitment == b"\x07" * 32 and m.uri == "ipfs://m"
    assert models.tokenURI(model_id) == "ipfs://m"


def test_model_registry__reveal_without_commit__reverts(models, alice, circuit):
    with ape.reverts(models.SealUnknown):
        models.register(circuit, b"\x07" * 32, b"\x01" * 32, "", sender=alice)


def test_model_registry__reveal_in_commit_block__reverts(models, alice, circuit, chain):
    seal = models.seal(alice, circuit, b"\x07" * 32, b"\x01" * 32)
    chain.provider.auto_mine = False
    try:
        models.commit(seal, sender=alice, gas=200_000)
        models.register(circuit, b"\x07" * 32, b"\x01" * 32, "", sender=alice, gas=500_000)
        chain.mine()
    finally:
        chain.provider.auto_mine = True
    assert models.totalModels() == 0  # the same-block reveal failed (SealTooNew)


def test_model_registry__front_run_copy_of_reveal__fails(models, alice, attacker, circuit):
    seal = models.seal(alice, circuit, b"\x07" * 32, b"\x01" * 32)
    models.commit(seal, sender=alice)
    # The attacker copies Alice's reveal from the mempool: the seal binds Alice's address, so it is unknown.
    with ape.reverts(models.SealUnknown, seal=models.seal(attacker, circuit, b"\x07" * 32, b"\x01" * 32)):
        models.register(circuit, b"\x07" * 32, b"\x01" * 32, "", sender=attacker)
    models.register(circuit, b"\x07" * 32, b"\x01" * 32, "", sender=alice)
    assert models.ownerOf(1) == alice.address


def test_model_registry__attacker_with_own_late_seal_hits_duplicate(models, alice, attacker, circuit):
    register_model(models, alice, circuit, b"\x07" * 32)
    seal = models.seal(attacker, circuit, b"\x07" * 32, b"\x02" * 32)
    models.commit(seal, sender=attacker)
    with ape.reverts(models.ModelRegistryDuplicate, circuitId=circuit, commitment=b"\x07" * 32, existingId=1):
        models.register(circuit, b"\x07" * 32, b"\x02" * 32, "", sender=attacker)


def test_model_registry__seal_cannot_be_refreshed_or_reused(models, alice, attacker, circuit):
    seal = models.seal(alice, circuit, b"\x07" * 32, b"\x01" * 32)
    models.commit(seal, sender=alice)
    with ape.reverts(models.SealExists, seal=seal):
        models.commit(seal, sender=attacker)


def test_model_registry__expired_seal__reverts(models, alice, circuit, chain):
    seal = models.seal(alice, circuit, b"\x07" * 32, b"\x01" * 32)
    models.commit(seal, sender=alice)
    chain.mine(models.sealWindow() + 1)
    with ape.reverts(models.SealExpired):
        models.register(circuit, b"\x07" * 32, b"\x01" * 32, "", sender=alice)


def test_model_registry__unknown_circuit_or_zero_commitment__reverts(models, verifiers, alice):
    seal = models.seal(alice, b"\x05" * 32, b"\x07" * 32, b"\x01" * 32)
    models.commit(seal, sender=alice)
    with ape.reverts(verifiers.VerifierRegistryUnknownCircuit, id=b"\x05" * 32):
        models.register(b"\x05" * 32, b"\x07" * 32, b"\x01" * 32, "", sender=alice)
    with ape.reverts(models.ModelRegistryZeroCommitment):
        models.register(b"\x05" * 32, b"\0" * 32, b"\x01" * 32, "", sender=alice)


def test_model_registry__unknown_model__reverts(models):
    with ape.reverts(models.ModelRegistryUnknownModel, id=9):
        models.model(9)
    with ape.reverts(models.ModelRegistryUnknownModel, id=0):
        models.commitmentOf(0)


def test_bounty__unknown_model__reverts(bounties, models, open_bounty, proofs, alice):
    bounty_id = open_bounty()
    p = proofs(0, "alice", 8)
    with ape.reverts(models.ModelRegistryUnknownModel, id=42):
        bounties.submitChunk(bounty_id, 42, 0, p.proof, p.instances, sender=alice)


def test_model_registry__commitment_seen_in_a_reveal_cannot_be_taken_for_a_sibling_circuit(
    project, models, verifiers, gov, deployer, alice, attacker, circuit
):
    sibling = project.MockHalo2Verifier.deploy(sender=deployer)
    verifiers.register("mock-n8-sibling", sibling, b"\x44" * 32, 8, 0, sender=gov)
    sibling_id = verifiers.circuitId("mock-n8-sibling")
    register_model(models, alice, circuit, b"\x07" * 32)
    seal = models.seal(attacker, sibling_id, b"\x07" * 32, b"\x03" * 32)
    models.commit(seal, sender=attacker)
    with ape.reverts(models.ModelRegistryDuplicate, circuitId=sibling_id, commitment=b"\x07" * 32, existingId=1):
        models.register(sibling_id, b"\x07" * 32, b"\x03" * 32, "", sender=attacker)
    assert models.modelIdOf(sibling_id, b"\x07" * 32) == 0
    assert models.modelIdOf(circuit, b"\x07" * 32) == 1


# ---------------------------------------------------------------- finding 4: the earliest seal wins


def _seal_and_commit(models, who, circuit, commitment, salt):
    models.commit(models.seal(who, circuit, commitment, salt), sender=who)


def test_finding4__delayed_reveal_still_wins_over_a_copy_that_landed_first(models, alice, attacker, circuit, chain):
    """Finding 4: Alice seals first, her reveal is delayed; the attacker reads the commitment from her pending
    reveal, seals and registers it first. Alice's reveal, landing later, takes the model over."""
    w, alice_salt, attacker_salt = b"\x07" * 32, b"\x01" * 32, b"\x02" * 32
    _seal_and_commit(models, alice, circuit, w, alice_salt)
    chain.mine(1)  # Alice's reveal waits in the mempool (the seal window is 4 blocks here)
    _seal_and_commit(models, attacker, circuit, w, attacker_salt)
    models.register(circuit, w, attacker_salt, "ipfs://stolen", sender=attacker)
    assert models.ownerOf(1) == attacker.address
    receipt = models.register(circuit, w, alice_salt, "ipfs://alice", sender=alice)
    assert models.ModelReclaimed(id=1, **{"from": attacker.address}, to=alice.address, sealNumber=1) in receipt.events
    assert models.ownerOf(1) == alice.address
    m = models.model(1)
    assert m.sealNumber == 1 and m.uri == "ipfs://alice" and models.totalModels() == 1
    assert models.balanceOf(attacker) == 0


def test_finding4__later_seal_never_takes_over(models, alice, attacker, circuit):
    w = b"\x07" * 32
    _seal_and_commit(models, alice, circuit, w, b"\x01" * 32)
    _seal_and_commit(models, attacker, circuit, w, b"\x02" * 32)
    models.register(circuit, w, b"\x01" * 32, "", sender=alice)
    with ape.reverts(models.ModelRegistryDuplicate, circuitId=circuit, commitment=w, existingId=1):
        models.register(circuit, w, b"\x02" * 32, "", sender=attacker)
    assert models.ownerOf(1) == alice.address


def test_finding4__final_once_every_earlier_seal_expired(models, alice, attacker, circuit, chain):
    w = b"\x07" * 32
    _seal_and_commit(models, alice, circuit, w, b"\x01" * 32)  # an earlier seal that is never revealed in time
    _seal_and_commit(models, attacker, circuit, w, b"\x02" * 32)
    models.register(circuit, w, b"\x02" * 32, "", sender=attacker)
    until = models.contestableUntil(1)
    assert until == models.model(1).sealedAt + models.sealWindow()
    assert not models.isFinal(1)
    chain.mine(until - chain.blocks.height + 1)
    assert models.isFinal(1)
    with ape.reverts(models.SealExpired):
        models.register(circuit, w, b"\x01" * 32, "", sender=alice)
    assert models.ownerOf(1) == attacker.address


def test_model_registry__seal_numbers_order_seals_in_one_block(models, alice, bob, circuit, chain):
    chain.provider.auto_mine = False
    try:
        models.commit(models.seal(alice, circuit, b"\x07" * 32, b"\x01" * 32), sender=alice, gas=200_000)
        models.commit(models.seal(bob, circuit, b"\x07" * 32, b"\x02" * 32), sender=bob, gas=200_000)
        chain.mine()
    finally:
        chain.provider.auto_mine = True
    models.register(circuit, b"\x07" * 32, b"\x02" * 32, "", sender=bob)
    models.register(circuit, b"\x07" * 32, b"\x01" * 32, "", sender=alice)  # same block, earlier in it
    assert models.ownerOf(1) == alice.address


def test_model_registry__seal_window_bounds(project, verifiers, deployer):
    for bad in (3, 50_401):
        with ape.reverts():
            project.ModelRegistry.deploy(verifiers, bad, sender=deployer)


def test_model_registry__transfer_waits_until_final(models, alice, bob, circuit, chain):
    """A contestable token cannot be sold: its seller could take it back with an earlier seal of its own."""
    model_id = register_model(models, alice, circuit, b"\x07" * 32, wait_final=False)
    until = models.contestableUntil(model_id)
    with ape.reverts(models.ModelRegistryNotFinal, id=model_id, contestableUntil=until):
        models.transferFrom(alice, bob, model_id, sender=alice)
    chain.mine(until - chain.blocks.height)
    models.transferFrom(alice, bob, model_id, sender=alice)
    assert models.ownerOf(model_id) == bob.address


def test_model_registry__seller_cannot_take_a_sold_model_back(models, alice, bob, circuit, chain):
    w = b"\x07" * 32
    models.commit(models.seal(alice, circuit, w, b"\x01" * 32), sender=alice)  # an earlier seal kept back
    models.commit(models.seal(alice, circuit, w, b"\x02" * 32), sender=alice)
    models.register(circuit, w, b"\x02" * 32, "", sender=alice)
    with ape.reverts(models.ModelRegistryNotFinal):
        models.transferFrom(alice, bob, 1, sender=alice)  # cannot be sold while the earlier seal is revealable
    chain.mine(models.contestableUntil(1) - chain.blocks.height)
    with ape.reverts(models.SealExpired):
        models.register(circuit, w, b"\x01" * 32, "", sender=alice)
    models.transferFrom(alice, bob, 1, sender=alice)
    assert models.ownerOf(1) == bob.address
