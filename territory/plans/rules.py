"""Territory rules: named accounts and overlays that assign accounts regardless of geography.

A plan's rules live with the plan (cloned with it). Precedence, everywhere the app decides
who owns an account (KPIs, Designer panel, optimizer, scenario compare, exports):

1. a **named-account** rule (the newest one for that account);
2. the first matching **overlay** (lowest ``priority``, then oldest): every condition it
   gives must hold (industry, tier, employees >= n, annual revenue >= n);
3. the territory of the account's cell on the map.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from territory import settings, store
from territory.errors import NotFoundError, ValidationError
from territory.plans import plan
from territory.store import Connection

# SQL for (account_id, territory_id, rule_id, assigned_by) of every account a plan's rules hold;
# binds the plan's id as $sid.
RULED_SQL = """
    SELECT account_id, arg_max(territory_id, rule_id) AS territory_id, max(rule_id) AS rule_id,
           'named' AS assigned_by
    FROM rules WHERE scenario_id = $sid AND account_id IS NOT NULL GROUP BY account_id
    UNION ALL
    SELECT a.account_id, arg_min(r.territory_id, r.priority * 1e12 + r.rule_id),
           arg_min(r.rule_id, r.priority * 1e12 + r.rule_id), 'overlay'
    FROM accounts a JOIN rules r ON r.scenario_id = $sid AND r.account_id IS NULL
      AND (r.industry IS NULL OR a.industry = r.industry)
      AND (r.tier IS NULL OR a.tier = r.tier)
      AND (r.min_employees IS NULL OR a.employees >= r.min_employees)
      AND (r.min_annual_revenue IS NULL OR a.annual_revenue >= r.min_annual_revenue)
    GROUP BY a.account_id
"""
# named rules win: keep one row per account, named before overlay
HELD_SQL = f"""
    SELECT DISTINCT ON (account_id) account_id, territory_id, rule_id, assigned_by
    FROM ({RULED_SQL}) ORDER BY account_id, assigned_by = 'overlay'
"""


def held_sql(sid: str) -> str:
    """:data:`HELD_SQL` with the plan's id bound as ``$<sid>`` (two plans in one query)."""
    return HELD_SQL.replace("$sid", f"${sid}")


@dataclass(frozen=True)
class Overlay:
    """Conditions of an overlay rule; the ones left ``None`` are not checked."""

    industry: str | None = None
    tier: str | None = None
    min_employees: float | None = None
    min_annual_revenue: float | None = None

    def describe(self) -> str:
        parts = []
        if self.industry:
            parts.append(f"industry = {self.industry}")
        if self.tier:
            parts.append(f"tier = {self.tier}")
        if self.min_employees is not None:
            parts.append(f"employees ≥ {self.min_employees:,.0f}")
        if self.min_annual_revenue is not None:
            parts.append(f"annual revenue ≥ {self.min_annual_revenue:,.0f}")
        return " and ".join(parts)


def add_named(con: Connection, scenario_id: int, account_id: str, territory_id: str, *,
              expected_version: int | None = None) -> int:
    """Assign one account to a territory whatever its location; returns the rule id."""
    given = (account_id or "").strip()
    with plan.change(con, scenario_id, expected_version):
        _check_territory(con, scenario_id, territory_id)
        found = store.value(con,   # the id as stored, also when given in its other Salesforce form (15/18)
            "SELECT min(account_id) FROM accounts WHERE account_id = $id OR (left(account_id, 15) = left($id, 15) "
            "AND sf_key(account_id) = sf_key($id))", {"id": given})
        if found is None:
            raise NotFoundError(f"there is no account with id {given!r}; copy the id from the Data page or the CRM")
        account_id = found
        return _insert(con, scenario_id, territory_id, account_id=account_id)


def add_overlay(con: Connection, scenario_id: int, territory_id: str, overlay: Overlay, *, priority: int = 100,
                expected_version: int | None = None) -> int:
    """Assign every account matching ``overlay`` to a territory; returns the rule id."""
    if not overlay.describe():
        raise ValidationError("an overlay needs at least one condition (industry, tier, employees or annual revenue)")
    if overlay.tier and overlay.tier not in settings.TIERS:
        raise ValidationError(f"tier {overlay.tier!r} is not one of {', '.join(settings.TIERS)}")
    for label, value in (("employees", overlay.min_employees), ("annual revenue", overlay.min_annual_revenue)):
        if value is not None and value < 0:
            raise ValidationError(f"the minimum {label} must be 0 or more, not {value}")
    with plan.change(con, scenario_id, expected_version):
        _check_territory(con, scenario_id, territory_id)
        return _insert(con, scenario_id, territory_id, industry=overlay.industry or None, tier=overlay.tier or None,
                       min_employees=overlay.min_employees, min_annual_revenue=overlay.min_annual_revenue,
                       priority=int(priority))


def _insert(con: Connection, scenario_id: int, territory_id: str, **values) -> int:
    rule_id = store.value(con, "SELECT nextval('rule_seq')")
    columns = ["rule_id", "scenario_id", "territory_id", *values]  # names from this module only
    con.execute(f"INSERT INTO rules ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [rule_id, scenario_id, territory_id, *values.values()])
    return int(rule_id)


def delete(con: Connection, scenario_id: int, rule_id: int, *, expected_version: int | None = None) -> None:
    with plan.change(con, scenario_id, expected_version):
        if not store.value(con, "SELECT count(*) FROM rules WHERE scenario_id = ? AND rule_id = ?",
                           [scenario_id, rule_id]):
            raise NotFoundError(f"this plan has no rule {rule_id}")
        con.execute("DELETE FROM rules WHERE scenario_id = ? AND rule_id = ?", [scenario_id, rule_id])


def listing(con: Connection, scenario_id: int) -> pd.DataFrame:
    """The plan's rules in precedence order, with what each says and how many accounts it holds."""
    frame = con.execute(
        f"SELECT r.*, t.name AS territory, a.name AS account_name, coalesce(h.held, 0) AS accounts "
        f"FROM rules r LEFT JOIN territories t USING (scenario_id, territory_id) "
        f"LEFT JOIN accounts a ON a.account_id = r.account_id "
        f"LEFT JOIN (SELECT rule_id, count(*) AS held FROM ({HELD_SQL}) GROUP BY rule_id) h USING (rule_id) "
        f"WHERE r.scenario_id = $sid ORDER BY r.origin = 'crm', r.account_id IS NULL, r.priority, r.rule_id",
        {"sid": scenario_id},
    ).df()
    frame["rule"] = [
        f"account {acc} ({name})" if isinstance(acc, str) else
        Overlay(ind if isinstance(ind, str) else None, tier if isinstance(tier, str) else None,
                None if pd.isna(emp) else emp, None if pd.isna(rev) else rev).describe()
        for acc, name, ind, tier, emp, rev in zip(frame["account_id"], frame["account_name"], frame["industry"],
                                                  frame["tier"], frame["min_employees"], frame["min_annual_revenue"])
    ]
    frame["kind"] = ["kept with its CRM owner" if origin == "crm" else "named account" if isinstance(a, str) else "overlay"
                     for a, origin in zip(frame["account_id"], frame["origin"])]
    return frame


def has_rules(con: Connection, scenario_id: int) -> bool:
    """Whether a plan has rules (most have none: callers then skip the rule joins)."""
    return store.value(con, "SELECT count(*) FROM rules WHERE scenario_id = ?", [scenario_id]) > 0


def territories(con: Connection, scenario_id: int) -> set[str]:
    """The territories a plan's rules assign accounts to."""
    rows = con.execute("SELECT DISTINCT territory_id FROM rules WHERE scenario_id = ?", [scenario_id]).fetchall()
    return {r[0] for r in rows}


def held(con: Connection, scenario_id: int) -> pd.DataFrame:
    """account_id, territory_id, rule_id, assigned_by ('named' / 'overlay') of every ruled account."""
    return con.execute(HELD_SQL, {"sid": scenario_id}).df()


def _check_territory(con: Connection, scenario_id: int, territory_id: str) -> None:
    if not store.value(con, "SELECT count(*) FROM territories WHERE scenario_id = ? AND territory_id = ?",
                       [scenario_id, territory_id]):
        raise NotFoundError(f"this plan has no territory {territory_id!r}; create it first (Designer → Territories)")
