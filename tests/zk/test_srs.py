"""The reproducible development SRS: same bytes everywhere, valid for ezkl, and clearly insecure."""

from py_ecc.bn128 import G1, multiply

from apiary.zk import srs


def test_dev_srs__is_deterministic_and_sized():
    first = srs.build_dev_srs(6)
    assert first == srs.build_dev_srs(6)
    assert len(first) == srs.srs_size(6)
    assert first[:4] == (6).to_bytes(4, "little")


def test_dev_srs__second_power_is_tau_times_generator():
    data = srs.build_dev_srs(4)
    inv = pow(srs.MONTGOMERY, -1, srs.P)
    x = int.from_bytes(data[68:100], "little") * inv % srs.P
    y = int.from_bytes(data[100:132], "little") * inv % srs.P
    expected = multiply(G1, srs.dev_tau())
    assert (x, y) == (int(expected[0]), int(expected[1]))


def test_dev_srs__lagrange_basis_sums_to_generator():
    from py_ecc.bn128 import FQ, add

    k = 3
    data = srs.build_dev_srs(k)
    inv = pow(srs.MONTGOMERY, -1, srs.P)
    n = 1 << k
    total = None
    for j in range(n):
        off = 4 + n * 64 + 64 * j
        point = (FQ(int.from_bytes(data[off : off + 32], "little") * inv % srs.P),
                 FQ(int.from_bytes(data[off + 32 : off + 64], "little") * inv % srs.P))
        total = point if total is None else add(total, point)
    assert total == G1  # Σ L_j(τ) = 1


def test_dev_srs__file_name_says_insecure(tmp_path):
    path = srs.ensure_dev_srs(tmp_path, 3)
    assert path.name == "dev-insecure-k3.srs"
    assert srs.check_srs(path, 3) == 3


def test_made_with_dev_srs__read_from_the_key_not_the_file_name(tmp_path):
    """SECURITY: a verifier whose SRS has the development secret is recognised from its key (−[τ]₂ = −τ_dev·g2), so
    renaming the SRS file (the manifest then says kind "user") or moving it to another G2 base hides nothing; a key
    from another SRS is not flagged, and its [τ]₂ is shown for comparison with a ceremony's."""
    import ezkl

    from apiary.zk import pipeline

    from tests.zk.test_byo_task import apiary

    for committed in pipeline.VERIFIERS_DIR.glob("*/**/vk.bin"):
        assert srs.made_with_dev_srs(committed.read_bytes()), committed
    from py_ecc.bn128 import G2, multiply

    renamed, foreign, rebased = tmp_path / "ceremony-k11.srs", tmp_path / "foreign-k11.srs", tmp_path / "other-k11.srs"
    dev_srs = srs.build_dev_srs(11)
    renamed.write_bytes(dev_srs)
    ezkl.gen_srs(str(foreign), 11)
    # The development secret over another G2 base (H = 2·G2, [τ]₂ = τ·H): other key bytes, the same forgeable τ.
    base = multiply(G2, 2)
    rebased.write_bytes(dev_srs[:-256] + srs._g2_bytes(base) + srs._g2_bytes(multiply(base, srs.dev_tau())))
    for name, path, dev in (("renamed", renamed, True), ("foreign", foreign, False), ("rebased", rebased, True)):
        out = tmp_path / name
        apiary("zk", "build", "--dataset", "iris", "--arch", "logreg", "--samples", "8", "--srs", path, "--out-dir", out,
               cwd=tmp_path)
        circuit = pipeline.open_circuit(out / "iris-logreg-n8")
        assert circuit.manifest["srs"]["kind"] == "user"
        vk = circuit.path("vk.bin").read_bytes()
        assert srs.made_with_dev_srs(vk) is dev and srs.made_with_dev_srs(b"\x00" + vk) is dev  # as deployed: 0x00 ‖ vk
        assert srs.tau_g2_hex(vk) == srs.tau_g2_hex(b"\x00" + vk) and srs.tau_g2_hex(vk).count("0x") == 4
