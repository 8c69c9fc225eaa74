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

-- Every delete from raw.prices_daily, one row per ticker and load: the incremental marts read it to
-- recompute a ticker (and its pairs) from its earliest deleted date and to drop the rows that went.
-- Rows deleted by hand are not recorded: rebuild the marts in full afterwards (rotation run --full-refresh).
CREATE TABLE IF NOT EXISTS raw.price_deletions (
    ticker       VARCHAR   NOT NULL,
    from_date    DATE      NOT NULL,   -- the earliest deleted date
    rows_deleted BIGINT    NOT NULL,
    reason       VARCHAR   NOT NULL,
    deleted_at   TIMESTAMP NOT NULL    -- the ingested_at of the load that deleted them
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

-- One row per upsert that changed raw.prices_daily, in order (seq): the load (ingest run) it belonged
-- to, the ingested_at it stamped on the rows it inserted or changed, and the dates it removed. An
-- upsert that changes nothing writes nothing here either. The row-level quality checks read it to
-- find the rows of the latest load. A load is a Dagster run of the ingest asset, else one backfill
-- or one upsert.
CREATE TABLE IF NOT EXISTS raw.price_loads (
    seq          BIGINT    NOT NULL,   -- 1, 2, ... in the order of writing
    load_id      VARCHAR   NOT NULL,
    ingested_at  TIMESTAMP NOT NULL,   -- the ingested_at of the rows this write inserted or changed
    rows_written BIGINT    NOT NULL,   -- rows inserted or changed
    removed      STRUCT(ticker VARCHAR, first_date DATE)[] NOT NULL  -- per ticker, the earliest date whose row it deleted
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
