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
