-- raw.prices_daily has a primary key on (ticker, date) and NOT NULL on ticker, date and close, so every
-- raw row is already the one current row of its ticker and date: no dedupe window here (each reader
-- would pay for it over the whole table).
select
    ticker::string as ticker,
    date::date as date,
    open::double as open,
    high::double as high,
    low::double as low,
    close::double as close,
    adj_close::double as adj_close,
    volume::bigint as volume,
    source::string as source,
    ingested_at::timestamp as ingested_at
from {{ source('raw', 'prices_daily') }}
