"""The database schema as an ordered list of migrations.

Never edit a migration that has shipped: append a new one. ``store.connect`` applies the
ones a database lacks, each in its own transaction, and records it in ``schema_version``,
so a file made by an older version of the app opens (and is upgraded) in a newer one.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, tuple[str, ...]]] = [
    (
        1,
        "accounts, reps, opportunities, revenue, plans, edit log, import log",
        (
            """CREATE TABLE accounts (
                account_id VARCHAR NOT NULL,
                name VARCHAR NOT NULL,
                type VARCHAR, street VARCHAR, city VARCHAR, state VARCHAR,
                postal_code VARCHAR, country VARCHAR,
                lat DOUBLE NOT NULL, lng DOUBLE NOT NULL,
                geocode VARCHAR NOT NULL,          -- 'exact' (from the file) or 'zip' (ZIP centroid)
                cell UBIGINT NOT NULL,             -- H3 cell at settings.FINE_RES
                industry VARCHAR, annual_revenue DOUBLE, employees DOUBLE,
                owner_id VARCHAR, rating VARCHAR,
                tier VARCHAR NOT NULL,
                potential DOUBLE NOT NULL,
                potential_derived BOOLEAN NOT NULL,
                revenue_12m DOUBLE NOT NULL DEFAULT 0,   -- refreshed from revenue_monthly
                pipeline DOUBLE NOT NULL DEFAULT 0,      -- open opportunities, refreshed
                weighted_pipeline DOUBLE NOT NULL DEFAULT 0,
                import_id BIGINT
            )""",
            """CREATE TABLE reps (
                rep_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, email VARCHAR,
                home_lat DOUBLE, home_lng DOUBLE, home_zip VARCHAR,
                home_city VARCHAR, home_state VARCHAR,
                skills VARCHAR, capacity_hours DOUBLE, quota DOUBLE,
                region VARCHAR, district VARCHAR, import_id BIGINT
            )""",
            """CREATE TABLE opportunities (
                opportunity_id VARCHAR PRIMARY KEY, account_id VARCHAR NOT NULL, name VARCHAR,
                stage VARCHAR NOT NULL, amount DOUBLE NOT NULL, probability DOUBLE,
                close_date DATE, owner_id VARCHAR,
                is_closed BOOLEAN NOT NULL, is_won BOOLEAN NOT NULL, import_id BIGINT
            )""",
            """CREATE TABLE revenue_monthly (
                account_id VARCHAR NOT NULL, month DATE NOT NULL, revenue DOUBLE NOT NULL,
                import_id BIGINT, PRIMARY KEY (account_id, month)
            )""",
            "CREATE SEQUENCE import_seq START 1",
            """CREATE TABLE import_log (
                import_id BIGINT PRIMARY KEY, dataset VARCHAR NOT NULL, source VARCHAR,
                started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
                rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT,
                policy VARCHAR, mapping VARCHAR
            )""",
            "CREATE SEQUENCE scenario_seq START 1",
            """CREATE TABLE scenarios (
                scenario_id BIGINT PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, notes VARCHAR,
                kind VARCHAR NOT NULL,          -- 'baseline' or 'working'
                is_active BOOLEAN NOT NULL DEFAULT FALSE,
                resolution INTEGER NOT NULL,
                parent_id BIGINT,
                version BIGINT NOT NULL DEFAULT 0,   -- bumped by every edit: optimistic locking
                created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
            """CREATE TABLE territories (
                scenario_id BIGINT NOT NULL, territory_id VARCHAR NOT NULL,
                name VARCHAR NOT NULL, color VARCHAR, rep_id VARCHAR,
                locked BOOLEAN NOT NULL DEFAULT FALSE,
                PRIMARY KEY (scenario_id, territory_id)
            )""",
            """CREATE TABLE cell_assignments (
                scenario_id BIGINT NOT NULL, cell UBIGINT NOT NULL,
                territory_id VARCHAR NOT NULL, locked BOOLEAN NOT NULL DEFAULT FALSE,
                PRIMARY KEY (scenario_id, cell)
            )""",
            "CREATE SEQUENCE edit_seq START 1",
            """CREATE TABLE edit_log (
                edit_id BIGINT PRIMARY KEY, scenario_id BIGINT NOT NULL,
                created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
                action VARCHAR NOT NULL,        -- 'paint', 'erase', 'rebalance', ...
                cells UBIGINT[] NOT NULL,
                before VARCHAR[] NOT NULL,      -- territory per cell before (NULL = unassigned)
                after VARCHAR[] NOT NULL,
                undone BOOLEAN NOT NULL DEFAULT FALSE
            )""",
        ),
    ),
    (
        2,
        "territory rules (named accounts, overlays) and the active-plan history",
        (
            "CREATE SEQUENCE rule_seq START 1",
            """CREATE TABLE rules (
                rule_id BIGINT PRIMARY KEY, scenario_id BIGINT NOT NULL,
                territory_id VARCHAR NOT NULL,
                account_id VARCHAR,              -- named-account rule (wins over overlays)
                industry VARCHAR,                -- overlay conditions: all given ones must hold
                tier VARCHAR,
                min_employees DOUBLE,
                min_annual_revenue DOUBLE,
                priority INTEGER NOT NULL DEFAULT 100,   -- overlays: lowest number first
                created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
            """CREATE TABLE promotions (
                scenario_id BIGINT NOT NULL, previous_id BIGINT,
                promoted_at TIMESTAMP NOT NULL DEFAULT current_timestamp
            )""",
        ),
    ),
    (
        3,
        "owners without a reps file (derived reps), owner names, Salesforce 15/18-character ids",
        (
            "ALTER TABLE reps ADD COLUMN derived BOOLEAN DEFAULT FALSE",  # made from account owners
            "ALTER TABLE accounts ADD COLUMN owner_name VARCHAR",
            # 'crm': a baseline rule that keeps an account with its CRM owner; 'user': made on the Rules page
            "ALTER TABLE rules ADD COLUMN origin VARCHAR DEFAULT 'user'",
            # a Salesforce id's 15-character form: an 18-character id whose last 3 characters are
            # its checksum (one per 5 characters: which of them are upper case) shortened, any other
            # text as it is; so 0055e000001AbCdAAK and 0055e000001AbCd are the same owner
            """CREATE OR REPLACE MACRO sf_key(id) AS CASE WHEN regexp_full_match(id, '[A-Za-z0-9]{18}')
                AND right(id, 3) = array_to_string([substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345',
                    (1 + list_sum([CASE WHEN substr(id, c * 5 + i + 1, 1) BETWEEN 'A' AND 'Z' THEN (1 << i) ELSE 0 END
                                   for i in range(5)]))::BIGINT, 1) for c in range(3)], '')
                THEN left(id, 15) ELSE id END""",
        ),
    ),
    (
        4,
        "deleting a territory is an undo step",
        (
            # for action 'delete territory': the territory and its rules as JSON, to put back on undo
            "ALTER TABLE edit_log ADD COLUMN territory VARCHAR",
        ),
    ),
    (
        5,
        "adaptive units: a plan's cells may be split down to its finest resolution",
        (
            # cells may be any resolution from `resolution` (the base) down to this one; a cell and
            # its descendants never both belong to a plan. Existing plans keep every cell as it is.
            "ALTER TABLE scenarios ADD COLUMN finest_resolution INTEGER",
            "UPDATE scenarios SET finest_resolution = least(resolution + 3, 9)",
        ),
    ),
    (
        6,
        "a plan's quota rule and the date its changes take effect",
        (
            # how the plan's territory quotas are set (kpis/quota.py); NULL method: the reps file's
            # quotas, each split over the rep's territories by potential (what every plan did before)
            "ALTER TABLE scenarios ADD COLUMN quota_method VARCHAR",
            "ALTER TABLE scenarios ADD COLUMN quota_total DOUBLE",  # the company number
            "ALTER TABLE scenarios ADD COLUMN quota_growth DOUBLE",  # history method: trailing 12 months x (1 + growth)
            "ALTER TABLE scenarios ADD COLUMN quota_blend DOUBLE",  # blend: weight of the potential share
            "ALTER TABLE scenarios ADD COLUMN effective_date DATE",  # accounts move (and quota pro rata) on this day
        ),
    ),
    (
        7,
        "the market layer: a market universe summed per cell and industry",
        (
            # one row per (cell at settings.MARKET_RES, industry) from `territory market import`
            # (territory/market/): replaced whole by each import, never edited
            """CREATE TABLE market_cells (
                cell UBIGINT NOT NULL, industry VARCHAR, establishments BIGINT NOT NULL,
                employees BIGINT NOT NULL, market_potential BIGINT NOT NULL, import_id BIGINT
            )""",
        ),
    ),
]

LATEST = MIGRATIONS[-1][0]
