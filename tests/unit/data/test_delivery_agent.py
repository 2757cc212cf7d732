"""The seller's delivery agent: delivers each sale once, survives restarts and a lost state file, settles after
the dispute window, ignores other sellers' sales, leaves the sales of a dataset proven a duplicate alone."""

from __future__ import annotations

from apiary.agents.delivery import DeliveryAgent
from apiary.data import merkle
from apiary.sdk import data as sdk

from .conftest import DAY, SEAL_WINDOW

PRICE = 10**18


def _seller_with_dataset(project, deployer, gov, vault, registry, usd, register, alice, tmp_path, rows, bond=0):
    """A DataMarket (listing bond `bond`) and alice's registered dataset of `rows` rows, priced PRICE in usd (not
    final yet: mine SEAL_WINDOW + 1 blocks to list it). Returns (market, client, csv, dataset id)."""
    market = project.DataMarket.deploy(gov, vault, registry, usd, bond, 10**24, sender=deployer)
    csv = tmp_path / "d.csv"
    csv.write_text("x\n" + "".join(f"{i}\n" for i in range(rows)))
    dataset_id = register(alice, merkle.commit_file(csv), price_token=usd.address, price=PRICE)
    return market, sdk.DataClient(registry, market, None), csv, dataset_id


def test_agent__delivers_once_across_restarts_and_settles(tmp_path, project, deployer, gov, vault, registry, usd,
                                                          register, chain, alice, bob, carol):
    market, client, csv, dataset_id = _seller_with_dataset(project, deployer, gov, vault, registry, usd, register,
                                                           alice, tmp_path, 30)
    chain.mine(SEAL_WINDOW + 1)
    keys = tmp_path / "keys"
    for who in (bob, carol):
        usd.approve(market, 2**256 - 1, sender=who)
    listing = sdk.list_dataset(client, alice, dataset_id, csv, tmp_path / "d.apkg", keys)
    sales = [sdk.buy_licence(client, who, listing, tmp_path / "d.apkg", "1", tmp_path / who.address) for who in (bob, carol)]

    log: list[str] = []
    state = tmp_path / "agent.json"
    DeliveryAgent(client, alice, keys, state, poll_interval=0, log=log.append).run(max_ticks=1)
    assert [sdk.SALE_STATES[int(market.saleState(s))] for s in sales] == ["delivered", "delivered"]
    nonce = alice.nonce
    DeliveryAgent(client, alice, keys, state, poll_interval=0, log=log.append).run(max_ticks=2)  # restart
    state.unlink()  # a lost state file: the chain says what was done
    again = DeliveryAgent(client, alice, keys, state, poll_interval=0, log=log.append)
    again.run(max_ticks=1)
    assert alice.nonce == nonce, "a delivery was sent twice"
    assert again.status()["delivered"] == sales
    for s, who in zip(sales, (bob, carol)):
        fetched = sdk.fetch_licence(client, who, s, tmp_path / "d.apkg", tmp_path / f"out-{s}.csv", tmp_path / who.address)
        assert fetched.outcome == "ok" and (tmp_path / f"out-{s}.csv").read_bytes() == csv.read_bytes()

    chain.mine(1, deltatime=DAY + 10)  # the agent reads the state at the head
    nonce = alice.nonce
    again.run(max_ticks=again.ticks + 2)  # settleable, but the dataset can still be proven a copy: it waits
    assert [sdk.SALE_STATES[int(market.saleState(s))] for s in sales] == ["settleable", "settleable"], log
    assert alice.nonce == nonce and sum(1 for line in log if "duplicate challenges close" in line) == 2, log
    chain.mine(1, timestamp=int(registry.releasableAt(dataset_id)))
    again.run(max_ticks=again.ticks + 1)
    assert [sdk.SALE_STATES[int(market.saleState(s))] for s in sales] == ["settled", "settled"], log
    assert again.state["open"] == []
    assert sum(1 for line in log if "delivered sale" in line) == 2
    assert market.totalSales() == 2 and market.totalListings() == 1  # counters: no scan, no call that reverts
    assert not any("revert" in line for line in log), log


def test_agent__other_sellers_sales_and_missing_keys__left_alone(tmp_path, project, deployer, gov, vault, registry,
                                                                 usd, register, chain, alice, bob, carol):
    market, client, csv, dataset_id = _seller_with_dataset(project, deployer, gov, vault, registry, usd, register,
                                                           alice, tmp_path, 10)
    chain.mine(SEAL_WINDOW + 1)
    usd.approve(market, 2**256 - 1, sender=bob)
    listing = sdk.list_dataset(client, alice, dataset_id, csv, tmp_path / "d.apkg", tmp_path / "alice-keys")
    sale = sdk.buy_licence(client, bob, listing, tmp_path / "d.apkg", "1", tmp_path / "bob")
    log: list[str] = []
    DeliveryAgent(client, carol, tmp_path / "carol", tmp_path / "carol.json", poll_interval=0, log=log.append).run(1)
    DeliveryAgent(client, alice, tmp_path / "no-keys", tmp_path / "a.json", poll_interval=0, log=log.append).run(1)
    assert sdk.SALE_STATES[int(market.saleState(sale))] == "paid"
    assert any("no package key" in line for line in log)


def test_agent__dropped_delivery_resent__one_failing_sale_never_stops_the_others(tmp_path, project, deployer, gov, vault,
                                                                                registry, usd, register, chain, alice,
                                                                                bob, carol):
    """Second outside review L-2: a delivery marked sent but not on chain (dropped, or undone by a reorg) is sent
    again after `redeliver_blocks`; a sale the agent cannot serve (no key for its listing) is reported once and
    skipped while the other listing's sales are delivered."""
    market = project.DataMarket.deploy(gov, vault, registry, usd, 0, 10**24, sender=deployer)
    client = sdk.DataClient(registry, market, None)
    listings = []
    for name, n in (("a", 12), ("b", 14)):
        csv = tmp_path / f"{name}.csv"
        csv.write_text("x\n" + "".join(f"{name}{i}\n" for i in range(n)))
        dataset_id = register(alice, merkle.commit_file(csv), price_token=usd.address, price=PRICE)
        chain.mine(SEAL_WINDOW + 1)
        listings.append(sdk.list_dataset(client, alice, dataset_id, csv, tmp_path / f"{name}.apkg", tmp_path / f"keys-{name}"))
    for who in (bob, carol):
        usd.approve(market, 2**256 - 1, sender=who)
    lost = sdk.buy_licence(client, bob, listings[0], tmp_path / "a.apkg", "1", tmp_path / "bob")  # no key for listing a
    sale = sdk.buy_licence(client, carol, listings[1], tmp_path / "b.apkg", "1", tmp_path / "carol")

    log: list[str] = []
    state = tmp_path / "agent.json"
    agent = DeliveryAgent(client, alice, tmp_path / "keys-b", state, poll_interval=0, log=log.append, redeliver_blocks=3)
    agent.mark(f"deliver:{sale}")  # as if sent, then dropped: not on chain
    agent.state["sent_at"][str(sale)] = int(chain.blocks.head.number)
    agent.save()
    agent.run(max_ticks=agent.ticks + 2)
    assert sdk.SALE_STATES[int(market.saleState(sale))] == "paid"  # too soon to resend
    chain.mine(3)
    agent.run(max_ticks=agent.ticks + 2)
    assert sdk.SALE_STATES[int(market.saleState(sale))] == "delivered", log
    assert any("not on chain: resending" in line for line in log)
    assert sdk.SALE_STATES[int(market.saleState(lost))] == "paid"
    assert sum("no package key for listing" in line for line in log) == 1, log  # reported once, not every tick
    assert not any("tick failed" in line for line in log), log  # the failing sale never failed a tick


def test_agent__sale_of_a_dataset_proven_a_duplicate__closed_without_a_transaction(tmp_path, project, deployer, gov,
                                                                                   vault, registry, usd, register,
                                                                                   challenge, chain, alice, bob, carol):
    market = project.DataMarket.deploy(gov, vault, registry, usd, 0, 10**24, sender=deployer)
    client = sdk.DataClient(registry, market, None)
    original, copy = tmp_path / "original.csv", tmp_path / "copy.csv"
    original.write_text("x\n" + "".join(f"{i}\n" for i in range(20)))
    copy.write_text("x\n" + "".join(f"{i}\n" for i in range(8)) + "copied\n")
    earlier = register(alice, merkle.commit_file(original))
    later = register(bob, merkle.commit_file(copy), price_token=usd.address, price=PRICE)
    chain.mine(SEAL_WINDOW + 1)
    usd.approve(market, 2**256 - 1, sender=carol)
    listing = sdk.list_dataset(client, bob, later, copy, tmp_path / "c.apkg", tmp_path / "keys")
    sale = sdk.buy_licence(client, carol, listing, tmp_path / "c.apkg", "1", tmp_path / "carol")
    challenge(alice, later, earlier, merkle.commit_file(copy), merkle.commit_file(original))
    assert registry.isDuplicate(later)

    log: list[str] = []
    nonce = bob.nonce
    agent = DeliveryAgent(client, bob, tmp_path / "keys", tmp_path / "agent.json", poll_interval=0, log=log.append)
    agent.run(max_ticks=2)
    assert bob.nonce == nonce, "the agent sent a delivery the market refuses"
    assert agent.state["open"] == [] and sdk.SALE_STATES[int(market.saleState(sale))] == "paid"
    assert sum(f"sale #{sale} is refunded to its buyer" in line for line in log) == 1, log
    market.refund(sale, sender=carol)


def test_package_at_a_url__checked_before_listing__downloaded_by_the_buyer(tmp_path, project, deployer, gov, vault,
                                                                          registry, usd, register, chain, alice, bob):
    """Files that travel (issue 21): the seller lists the package's URL (served over HTTP), checked by downloading
    it first (a URL serving another package is refused, nothing sent); a buyer elsewhere gives no file: the
    package is downloaded from the listing's URL, checked against the chain, and used again to decrypt."""
    import threading

    import pytest

    from apiary.data import exchange
    from apiary.sdk.errors import ApiaryCliError
    from apiary.sdk.serve import make_server

    market, client, csv, dataset_id = _seller_with_dataset(project, deployer, gov, vault, registry, usd, register,
                                                           alice, tmp_path, 30)
    chain.mine(SEAL_WINDOW + 1)
    usd.approve(market, 2**256 - 1, sender=bob)
    public = tmp_path / "public"
    public.mkdir()
    pkg_path = public / "d.apkg"
    other = tmp_path / "other.csv"
    other.write_text("x\n1\n")
    exchange.build_package(other, public / "other.apkg")
    server = make_server(public, "127.0.0.1", 0, log=lambda _line: None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    keys = tmp_path / "keys"
    try:
        nonce = alice.nonce
        with pytest.raises(ApiaryCliError, match="serves another package than .* nothing sent"):
            sdk.list_dataset(client, alice, dataset_id, csv, pkg_path, keys, uri=f"{base}/other.apkg")
        assert alice.nonce == nonce
        listing = sdk.list_dataset(client, alice, dataset_id, csv, pkg_path, keys, uri=f"{base}/d.apkg")
        assert market.listing(listing).packageUri == f"{base}/d.apkg"
        buyer_dir = tmp_path / "buyer"
        sale = sdk.buy_licence(client, bob, listing, None, "1", buyer_dir)
        downloaded = list((buyer_dir / "packages").glob("listing-*.apkg"))
        assert len(downloaded) == 1 and downloaded[0].read_bytes() == pkg_path.read_bytes()
        DeliveryAgent(client, alice, keys, tmp_path / "agent.json", poll_interval=0, log=lambda _m: None).run(max_ticks=1)
        fetched = sdk.fetch_licence(client, bob, sale, None, tmp_path / "out.csv", buyer_dir)
        assert fetched.outcome == "ok" and (tmp_path / "out.csv").read_bytes() == csv.read_bytes()
    finally:
        server.shutdown()
        server.server_close()


def test_list__before_the_dataset_is_final__one_line_with_the_block_nothing_sent(tmp_path, project, deployer, gov,
                                                                                  vault, registry, usd, register,
                                                                                  alice, bob):
    """Two machines (issue 21): `data list` before the dataset is final sent the bond's approve, then failed.
    Now it says from which block the dataset can be listed, and sends nothing; so does a listing by another
    account than the owner."""
    import pytest

    from apiary.sdk.errors import ApiaryCliError

    market, client, csv, dataset_id = _seller_with_dataset(project, deployer, gov, vault, registry, usd, register,
                                                           alice, tmp_path, 12, bond=10**18)
    nonce = alice.nonce
    with pytest.raises(ApiaryCliError, match=rf"dataset #{dataset_id} becomes final at block \d+ .* nothing sent"):
        sdk.list_dataset(client, alice, dataset_id, csv, tmp_path / "d.apkg", tmp_path / "keys")
    with pytest.raises(ApiaryCliError, match=f"belongs to {alice.address}, not {bob.address}: nothing sent"):
        sdk.list_dataset(client, bob, dataset_id, csv, tmp_path / "d.apkg", tmp_path / "keys")
    assert alice.nonce == nonce and usd.allowance(alice, market) == 0
