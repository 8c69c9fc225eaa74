select
    ticker::varchar as ticker,
    date::date as date,
    open::double as open,
    high::double as high,
    low::double as low,
    close::double as close,
    adj_close::double as adj_close,
    volume::bigint as volume,
    source::varchar as source,
    ingested_at::timestamp as ingested_at
from {{ source('raw', 'prices_daily') }}
qualify row_number() over (partition by ticker, date order by ingested_at desc) = 1
