"""Demo data: deterministic, realistic, and loaded through the real import path."""

import hashlib

import pandas as pd

from territory import demo, store
from territory.data import quality
from territory.plans import plan


def _digest(files: demo.DemoFiles) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in (files.accounts, files.reps,
                                                                  files.opportunities, files.revenue)]


def test_same_seed_same_files(tmp_path):
    a = demo.generate(tmp_path / "a", n_accounts=1500, seed=4)
    b = demo.generate(tmp_path / "b", n_accounts=1500, seed=4)
    c = demo.generate(tmp_path / "c", n_accounts=1500, seed=5)
    assert _digest(a) == _digest(b)
    assert _digest(a)[0] != _digest(c)[0]


def test_demo_files_look_like_crm_exports(tmp_path):
    files = demo.generate(tmp_path, n_accounts=3000, seed=1)
    acc = pd.read_csv(files.accounts, dtype=str)
    assert list(acc.columns[:4]) == ["Id", "Name", "Type", "BillingStreet"]
    assert acc["Id"].is_unique and acc["Industry"].nunique() == 10
    zip_only = acc["BillingLatitude"].isna()
    assert 0.03 < zip_only.mean() < 0.1
    assert (acc.loc[zip_only, "BillingPostalCode"].str.len() < 5).any(), "some ZIPs lost their leading zero"
    assert set(demo.TRICKY_NAMES) <= set(acc["Name"])
    reps = pd.read_csv(files.reps)
    assert len(reps) == 30 and reps["Id"].is_unique
    revenue = pd.read_csv(files.revenue)
    assert revenue.groupby("AccountId").size().eq(demo.HISTORY_MONTHS).all() and demo.HISTORY_MONTHS >= 36
    # density follows population: the largest metro holds far more accounts than a median city
    by_state = acc["BillingState"].value_counts()
    assert by_state.index[0] in {"CA", "TX", "NY", "FL"}


def test_load_demo_builds_a_baseline_covering_every_account(demo_db):
    con = store.connect(demo_db)
    s = quality.summary(con)
    assert s["accounts"] == 2000 and s["reps"] == 30 and s["geocode_zip"] > 0
    sid = plan.active_scenario(con)
    terr = plan.territory_summary(con, sid)
    assert terr["accounts"].sum() == 2000  # every account's cell is assigned
    assert len(terr) == con.execute("SELECT count(DISTINCT owner_id) FROM accounts").fetchall()[0][0]
    owned = con.execute("SELECT count(*) FROM accounts a JOIN cell_assignments ca ON ca.scenario_id = ? "
                        "AND ca.territory_id = a.owner_id AND ca.cell = (a.cell & ?::UBIGINT) | ?::UBIGINT",
                        [sid, *__import__("territory.grid").grid.parent_masks(5)]).fetchall()[0][0]
    assert owned / 2000 > 0.9  # the baseline mostly keeps each account with its current owner
    con.close()
