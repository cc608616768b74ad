"""Search finds territories, ZIPs, places and accounts, and says where to zoom."""

from __future__ import annotations

from territory.plans import plan, search
from tests.hostile import HOSTILE


def test_search_finds_a_territory_a_place_a_zip_and_an_account(demo_con):
    sid = plan.working_scenario(demo_con)
    territory = plan.territories(demo_con, sid)["name"].iloc[0]
    hit = search.search(demo_con, sid, territory[:6].lower())[0]
    assert hit.kind == "territory" and hit.territory_id and hit.bounds() is None
    boston = next(h for h in search.search(demo_con, sid, "Boston, MA") if h.kind == "place")
    assert boston.label == "Boston, MA" and abs(boston.lat - 42.36) < 0.1 and abs(boston.lng + 71.06) < 0.1
    (south, west), (north, east) = boston.bounds()
    assert south < boston.lat < north and west < boston.lng < east
    zip_hit = next(h for h in search.search(demo_con, sid, "2134") if h.kind == "zip")  # a ZIP that lost its 0
    assert zip_hit.label == "02134" and abs(zip_hit.lat - 42.35) < 0.1
    name, lat = demo_con.execute("SELECT name, lat FROM accounts WHERE lat IS NOT NULL ORDER BY potential DESC LIMIT 1"
                                 ).fetchall()[0]
    account = next(h for h in search.search(demo_con, sid, name) if h.kind == "account")
    assert account.label.startswith(name) and account.lat == lat


def test_search_text_is_data(demo_con):
    sid = plan.working_scenario(demo_con)
    for text in [*HOSTILE, "%%", "__", "' OR 1=1 --"]:
        hits = search.search(demo_con, sid, text)
        assert all(text.strip().lower() in h.label.lower() or h.kind in ("place", "zip") for h in hits if h.kind != "zip")
    assert search.search(demo_con, sid, "x") == []  # one letter: no list of everything
