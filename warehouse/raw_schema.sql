-- The raw layer: the only tables ingest writes. One natural key per table; loads upsert on it.
CREATE SCHEMA IF NOT EXISTS raw;

CREATE TABLE IF NOT EXISTS raw.prices_daily (
    ticker      VARCHAR   NOT NULL,
    date        DATE      NOT NULL,   -- exchange trading date (US/Eastern session)
    open        DOUBLE,
    high        DOUBLE,
    low         DOUBLE,
    close       DOUBLE    NOT NULL,
    adj_close   DOUBLE,               -- split- and dividend-adjusted close; null when the source has none
    volume      BIGINT,
    source      VARCHAR   NOT NULL,   -- yahoo | files | demo
    ingested_at TIMESTAMP NOT NULL,   -- when this row's current values were written
    PRIMARY KEY (ticker, date)
);

-- Bookkeeping of `rotation backfill`: the tickers whose history from start_date has been loaded,
-- so that an interrupted backfill resumes with the tickers still missing.
CREATE TABLE IF NOT EXISTS raw.price_backfill_progress (
    start_date  DATE      NOT NULL,
    ticker      VARCHAR   NOT NULL,
    rows_loaded BIGINT    NOT NULL,   -- rows Yahoo delivered for the ticker from start_date
    finished_at TIMESTAMP NOT NULL,
    PRIMARY KEY (start_date, ticker)
);

-- The load log: every upsert of a raw table that inserted, changed or deleted rows writes here, in the
-- same transaction, one row per table it wrote and, for a table with a partition (raw.prices_daily:
-- the ticker), one row per partition it touched. An upsert that changes nothing writes nothing. A load
-- is a Dagster run of an ingest asset (a backfill's per-ticker transactions are one load), else one
-- upsert. The incremental marts read it to find what changed since their last build (and what went),
-- the `where: latest_load` data tests and the quality checks to find the latest load.
-- Rows deleted by hand are not recorded: rebuild the marts in full afterwards (rotation run --full-refresh).
-- A warehouse from before this log kept raw.price_loads and raw.price_deletions: ensure_raw_schema
-- (orchestration/land/tables.py) moves them into this log once, then drops them.
CREATE TABLE IF NOT EXISTS raw.load_log (
    seq             BIGINT    NOT NULL,   -- 1, 2, ... one per upsert, in the order of writing
    load_id         VARCHAR   NOT NULL,
    table_name      VARCHAR   NOT NULL,   -- e.g. raw.prices_daily
    partition_value VARCHAR,              -- the ticker for raw.prices_daily; null for tables logged whole
    inserted        BIGINT    NOT NULL,   -- rows inserted
    updated         BIGINT    NOT NULL,   -- rows whose values changed
    deleted         BIGINT    NOT NULL,   -- rows deleted
    changed_from    DATE,                 -- the range of the table's date key inserted or changed
    changed_to      DATE,
    deleted_from    DATE,                 -- the range of the table's date key deleted
    deleted_to      DATE,
    deleted_reason  VARCHAR,              -- why rows were deleted (real data replacing the demo, a rewritten history)
    ingested_at     TIMESTAMP NOT NULL    -- the ingested_at stamped on the rows it inserted or changed
);

-- Valuations and guidance. Snapshots accumulate: a new as_of_date adds rows, nothing is overwritten.
CREATE TABLE IF NOT EXISTS raw.index_membership (
    index_name  VARCHAR   NOT NULL,   -- sp500 | russell2000
    ticker      VARCHAR   NOT NULL,   -- Yahoo symbol
    as_of_date  DATE      NOT NULL,   -- date of the holdings snapshot
    weight      DOUBLE,               -- weight in the index (fraction, 0.05 = 5 %)
    sector      VARCHAR,              -- Yahoo sector name
    source      VARCHAR   NOT NULL,   -- ishares | files | demo
    source_file VARCHAR,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (index_name, ticker, as_of_date)
);

CREATE TABLE IF NOT EXISTS raw.valuation_snapshots (
    ticker             VARCHAR   NOT NULL,
    as_of_date         DATE      NOT NULL,   -- exchange session the snapshot belongs to
    market_cap         DOUBLE,
    shares_outstanding DOUBLE,
    forward_eps        DOUBLE,               -- next fiscal year's consensus EPS
    trailing_eps       DOUBLE,
    forward_pe         DOUBLE,
    trailing_pe        DOUBLE,
    sector             VARCHAR,
    industry           VARCHAR,
    source             VARCHAR   NOT NULL,   -- yahoo | files | demo
    source_file        VARCHAR,
    ingested_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (ticker, as_of_date)
);

CREATE TABLE IF NOT EXISTS raw.index_valuation_history (
    index_name  VARCHAR   NOT NULL,
    as_of_date  DATE      NOT NULL,
    forward_pe  DOUBLE    NOT NULL,
    source      VARCHAR   NOT NULL,
    source_file VARCHAR,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (index_name, as_of_date)
);

CREATE TABLE IF NOT EXISTS raw.guidance_events (
    ticker               VARCHAR   NOT NULL,
    announced_date       DATE      NOT NULL,
    fiscal_quarter       VARCHAR   NOT NULL,   -- YYYYQn, the quarter the guidance is for
    eps_low              DOUBLE,               -- a single-value guidance has low = high, or one of them empty
    eps_high             DOUBLE,
    consensus_eps_before DOUBLE    NOT NULL,   -- mean EPS estimate the day before the guidance
    source               VARCHAR   NOT NULL,
    source_file          VARCHAR,
    ingested_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (ticker, announced_date, fiscal_quarter)
);

-- as_of_date may be unknown (a published figure without its date), so the key is enforced by the loader.
CREATE TABLE IF NOT EXISTS raw.guidance_counts (
    index_name     VARCHAR   NOT NULL,
    fiscal_quarter VARCHAR   NOT NULL,
    as_of_date     DATE,
    negative_count INTEGER   NOT NULL,
    positive_count INTEGER   NOT NULL,
    total_count    INTEGER   NOT NULL,
    source_url     VARCHAR,
    source         VARCHAR   NOT NULL,
    source_file    VARCHAR,
    ingested_at    TIMESTAMP NOT NULL
);

-- Every landed guidance file, by content hash, so each file is processed once.
CREATE TABLE IF NOT EXISTS raw.landed_files (
    content_sha256 VARCHAR   NOT NULL PRIMARY KEY,
    file_name      VARCHAR   NOT NULL,
    kind           VARCHAR,              -- guidance_events | guidance_counts
    status         VARCHAR   NOT NULL,   -- loaded | quarantined
    row_count      INTEGER   NOT NULL,
    detail         VARCHAR,
    processed_at   TIMESTAMP NOT NULL
);

-- Claims: the figures an article or note states, one row per claim of a claims file (YAML; the layout is
-- in the README). A file checked again replaces its claims. The claim's parameters have their own columns
-- (null where the kind has none); `parameters` keeps the claim as written, as JSON.
CREATE TABLE IF NOT EXISTS raw.claims (
    claim_file       VARCHAR   NOT NULL,  -- the file's name, e.g. small_caps_january_2026.yml
    claim_id         VARCHAR   NOT NULL,
    source           VARCHAR,             -- the file's free-text source, kept with every verdict
    as_of            DATE      NOT NULL,  -- the session the claim speaks of (the file's, unless the claim has its own)
    kind             VARCHAR   NOT NULL,  -- streak | return | relative_return | sector_return | sector_spread |
                                          -- cohort_return | forward_pe | guidance_count
    claim_text       VARCHAR,
    ticker           VARCHAR,
    leader           VARCHAR,
    laggard          VARCHAR,
    pair_id          VARCHAR,
    sector           VARCHAR,
    method           VARCHAR,             -- sector_return: etf | constituents
    cohort           VARCHAR,
    weighting        VARCHAR,             -- cohort_return: equal | cap
    universe         VARCHAR,             -- forward_pe
    index_name       VARCHAR,             -- guidance_count
    fiscal_quarter   VARCHAR,             -- guidance_count, YYYYQn
    window_spec      VARCHAR,             -- 1d | 5d | wtd | mtd | qtd | ytd | <N>d
    stated_value     DOUBLE,              -- returns as decimal fractions; a P/E as a multiple
    tolerance        DOUBLE,              -- null: the kind's documented default
    comparison       VARCHAR   NOT NULL,  -- = | > | < | >= | <=
    sessions         INTEGER,             -- streak
    longest_since    VARCHAR,             -- streak: a year (YYYY) or a date (YYYY-MM-DD)
    matches_high_of  INTEGER,             -- forward_pe: a year
    negative         INTEGER,             -- guidance_count
    total            INTEGER,             -- guidance_count
    lowest_since     VARCHAR,             -- guidance_count, YYYYQn
    parameters       VARCHAR   NOT NULL,  -- the claim as written, JSON
    content_sha256   VARCHAR   NOT NULL,  -- of the claims file
    source_file      VARCHAR,             -- the path it was read from
    ingested_at      TIMESTAMP NOT NULL
);
