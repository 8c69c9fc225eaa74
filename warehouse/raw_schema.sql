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
