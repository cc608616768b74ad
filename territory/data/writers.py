"""Write an import's rows to write (the relation ``Staging.good``) into the real tables (inside the
caller's transaction).

Rows replace earlier rows with the same key, so re-importing a fresh CRM export updates it.
Account facts (trailing-12-month revenue, open and weighted pipeline) are kept on the account
row and refreshed here, so that rolling a million accounts up to cells is a single scan.
"""

from __future__ import annotations

from territory import settings, store
from territory.store import Connection

REVENUE_12M_SQL = (
    "SELECT account_id, sum(revenue) AS revenue_12m FROM revenue_monthly "
    "WHERE month > (SELECT max(month) FROM revenue_monthly) - INTERVAL 12 MONTH GROUP BY 1"
)
PIPELINE_SQL = (
    "SELECT account_id, sum(amount) AS pipeline, "
    "sum(amount * coalesce(probability, 0) / 100) AS weighted_pipeline "
    "FROM opportunities WHERE NOT is_closed GROUP BY 1"
)


def _col(name: str, names: set[str]) -> str:
    return name if name in names else "NULL"


# an owner given by e-mail (as HubSpot's "Company owner" column has it) becomes the rep's id
_OWNER = ("coalesce((SELECT min(r.rep_id) FROM reps r WHERE r.email IS NOT NULL"
          " AND lower(r.email) = lower(trim(g.owner_id))), g.owner_id)")


def write_accounts(con: Connection, good: str, names: set[str], import_id: int, *, replace: bool = True) -> int:
    """Insert ``good`` as accounts; ``replace`` first deletes the accounts with the same ids."""
    spend = ", ".join("(?::VARCHAR, ?::DOUBLE)" for _ in settings.SPEND_PER_EMPLOYEE)
    spend_params = [x for kv in settings.SPEND_PER_EMPLOYEE.items() for x in kv]
    text = ["account_id", "name", "type", "street", "city", "state", "country", "industry",
            "annual_revenue", "employees", "owner_id", "owner_name", "rating"]
    potential = _col("potential", names)
    tier = _col("tier", names)
    has_emails = store.value(con, "SELECT count(*) FROM reps WHERE email IS NOT NULL") > 0
    owner = _OWNER if has_emails else "g.owner_id"  # the e-mail lookup only when it can match
    sql = f"""
        INSERT INTO accounts ({", ".join(text)}, postal_code, lat, lng, geocode, cell, tier,
                              potential, potential_derived, revenue_12m, pipeline,
                              weighted_pipeline, import_id)
        SELECT {", ".join(owner if c == "owner_id" and c in names else "g." + c if c in names else "NULL"
                          for c in text)},
               {"g.postal_code" if "postal_code" in names else "NULL"},
               g._lat, g._lng, g._precision, g.cell,
               CASE WHEN upper(trim({tier})) IN ('A', 'B', 'C') THEN upper(trim({tier}))
                    WHEN {_col("employees", names)} >= {settings.TIER_A_EMPLOYEES} THEN 'A'
                    WHEN {_col("employees", names)} >= {settings.TIER_B_EMPLOYEES} THEN 'B'
                    ELSE 'C' END,
               coalesce({potential},
                        CASE WHEN {_col("employees", names)} IS NOT NULL
                             THEN {_col("employees", names)} * coalesce(s.spend, ?::DOUBLE)
                             WHEN {_col("annual_revenue", names)} IS NOT NULL
                             THEN {_col("annual_revenue", names)} * ?::DOUBLE
                             ELSE ?::DOUBLE END),
               {potential} IS NULL,
               coalesce(r.revenue_12m, 0), coalesce(p.pipeline, 0), coalesce(p.weighted_pipeline, 0), ?
        FROM {good} g
        LEFT JOIN (VALUES {spend}) s(industry, spend) ON s.industry = {"g.industry" if "industry" in names else "NULL"}
        LEFT JOIN ({REVENUE_12M_SQL if has_rows(con, "revenue_monthly") else _NO_REVENUE}) r
               ON r.account_id = g.account_id
        LEFT JOIN ({PIPELINE_SQL if has_rows(con, "opportunities") else _NO_PIPELINE}) p
               ON p.account_id = g.account_id
    """
    if replace and has_rows(con, "accounts"):
        con.execute(f"DELETE FROM accounts WHERE account_id IN (SELECT account_id FROM {good})")
    params = [settings.DEFAULT_SPEND_PER_EMPLOYEE, settings.REVENUE_SHARE,
              settings.FALLBACK_POTENTIAL, import_id, *spend_params]  # in the order of the ?s
    return _inserted(con.execute(sql, params))


# a rep of the file that is already known (same id in its 15- or 18-character form, or a rep
# derived from account owners that were named by this rep's e-mail or name) keeps the known id
_KNOWN_REP = ("coalesce((SELECT min(r.rep_id) FROM reps r WHERE sf_key(r.rep_id) = sf_key(g.rep_id)"
              " OR (r.derived AND lower(r.rep_id) IN (lower(trim({email})), lower(trim({name}))))), g.rep_id)")


def write_reps(con: Connection, good: str, names: set[str], import_id: int) -> int:
    cols = ["rep_id", "name", "email", "home_zip", "home_city", "home_state", "skills",
            "capacity_hours", "quota", "region", "district"]
    known = _KNOWN_REP.format(email="g.email" if "email" in names else "NULL", name="g.name")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _reps AS SELECT {known} AS _id, g.* FROM {good} g")
    sql = (
        f"INSERT INTO reps ({', '.join(cols)}, home_lat, home_lng, derived, import_id) "
        f"SELECT _id, {', '.join(_col(c, names) for c in cols[1:])}, _lat, _lng, FALSE, ? FROM _reps"
    )
    con.execute("DELETE FROM reps WHERE rep_id IN (SELECT _id FROM _reps)")
    loaded = _inserted(con.execute(sql, [import_id]))
    con.execute("DROP TABLE _reps")
    link_owners(con, None)  # accounts imported before now find their reps
    return loaded


def link_owners(con: Connection, import_id: int | None) -> None:
    """Tie the owners of the accounts of an import (``None``: all accounts) to reps.

    An owner that is a rep in another form (the 15- or 18-character Salesforce id, or the rep's
    e-mail) takes the rep's id; an owner that is no rep becomes one (``derived``: its id is the
    CRM's owner id, its name the file's owner name where it has one, its home the median location
    of its accounts; capacity and quota empty until a reps file gives them). The import's result
    counts them (``ingest._stats``)."""
    scope, params = ("import_id = ?", [import_id]) if import_id is not None else ("TRUE", [])
    con.execute(
        "UPDATE accounts SET owner_id = m.rep_id FROM ("
        f" SELECT o.owner_id, min(r.rep_id) AS rep_id FROM (SELECT DISTINCT owner_id FROM accounts WHERE {scope}"
        "  AND owner_id IS NOT NULL) o JOIN reps r ON sf_key(r.rep_id) = sf_key(o.owner_id)"
        "  OR (r.email IS NOT NULL AND lower(r.email) = lower(trim(o.owner_id)))"
        "  WHERE r.rep_id <> o.owner_id GROUP BY 1) m"
        f" WHERE accounts.owner_id = m.owner_id AND {scope}", params * 2)
    con.execute(
        "INSERT INTO reps (rep_id, name, home_lat, home_lng, derived, import_id)"
        " SELECT owner_id, coalesce(max(owner_name), owner_id), median(lat), median(lng), TRUE, max(import_id)"
        f" FROM accounts WHERE {scope} AND owner_id IS NOT NULL AND owner_id NOT IN (SELECT rep_id FROM reps)"
        " GROUP BY owner_id", params)


def write_opportunities(con: Connection, good: str, names: set[str], import_id: int) -> int:
    scale = 1.0
    if "probability" in names:
        top = store.value(con, f"SELECT max(probability) FROM {good}")
        scale = 100.0 if top is not None and top <= 1 else 1.0  # fractions 0..1 -> percent
    closed = "coalesce(is_closed, lower(stage) LIKE 'closed%')" if "is_closed" in names else "lower(stage) LIKE 'closed%'"
    won = "coalesce(is_won, lower(stage) LIKE 'closed won%')" if "is_won" in names else "lower(stage) LIKE 'closed won%'"
    cols = ["opportunity_id", "account_id", "name", "stage", "amount", "close_date", "owner_id"]
    sql = (
        f"INSERT INTO opportunities ({', '.join(cols)}, probability, is_closed, is_won, import_id) "
        f"SELECT {', '.join(_col(c, names) for c in cols)}, {_col('probability', names)} * ?, "
        f"{closed}, {won}, ? FROM {good}"
    )
    con.execute(f"DELETE FROM opportunities WHERE opportunity_id IN (SELECT opportunity_id FROM {good})")
    loaded = _inserted(con.execute(sql, [scale, import_id]))
    refresh_pipeline(con)
    return loaded


def write_revenue(con: Connection, good: str, names: set[str], import_id: int) -> int:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _months AS SELECT account_id, "
        "CAST(date_trunc('month', month) AS DATE) AS month, sum(revenue) AS revenue "
        f"FROM {good} GROUP BY 1, 2"
    )
    con.execute(
        "DELETE FROM revenue_monthly WHERE (account_id, month) IN (SELECT (account_id, month) FROM _months)"
    )
    con.execute("INSERT INTO revenue_monthly SELECT account_id, month, revenue, ? FROM _months", [import_id])
    con.execute("DROP TABLE _months")
    refresh_revenue(con)
    return store.value(con, f"SELECT count(*) FROM {good}")


def refresh_revenue(con: Connection) -> None:
    """Recompute every account's trailing-12-month revenue (the window ends at the last month)."""
    con.execute(
        f"UPDATE accounts SET revenue_12m = coalesce(r.revenue_12m, 0) FROM accounts a "
        f"LEFT JOIN ({REVENUE_12M_SQL}) r ON r.account_id = a.account_id "
        f"WHERE accounts.account_id = a.account_id AND accounts.revenue_12m <> coalesce(r.revenue_12m, 0)"
    )


def refresh_pipeline(con: Connection) -> None:
    con.execute(
        f"UPDATE accounts SET pipeline = coalesce(p.pipeline, 0), "
        f"weighted_pipeline = coalesce(p.weighted_pipeline, 0) FROM accounts a "
        f"LEFT JOIN ({PIPELINE_SQL}) p ON p.account_id = a.account_id "
        f"WHERE accounts.account_id = a.account_id AND (accounts.pipeline <> coalesce(p.pipeline, 0) "
        f"OR accounts.weighted_pipeline <> coalesce(p.weighted_pipeline, 0))"
    )


_NO_REVENUE = "SELECT NULL::VARCHAR AS account_id, 0.0 AS revenue_12m LIMIT 0"
_NO_PIPELINE = "SELECT NULL::VARCHAR AS account_id, 0.0 AS pipeline, 0.0 AS weighted_pipeline LIMIT 0"


def has_rows(con: Connection, table: str) -> bool:
    return bool(store.value(con, f"SELECT EXISTS (SELECT 1 FROM {table})"))


def _inserted(result) -> int:
    """Row count an INSERT reports."""
    return int(result.fetchall()[0][0])


WRITERS = {
    "accounts": write_accounts,
    "reps": write_reps,
    "opportunities": write_opportunities,
    "revenue": write_revenue,
}
