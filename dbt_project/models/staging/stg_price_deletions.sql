-- depends_on: {{ source('raw', 'prices_daily') }}
-- raw.price_deletions is written by the prices ingest, in the same transaction as the deletes it records,
-- so it is read here under that asset (a dbt source of its own would need an asset of its own).
select
    ticker::varchar as ticker,
    from_date::date as from_date,
    rows_deleted::bigint as rows_deleted,
    reason::varchar as reason,
    deleted_at::timestamp as deleted_at
from raw.price_deletions
