select
    ticker::varchar as ticker,
    from_date::date as from_date,
    rows_deleted::bigint as rows_deleted,
    reason::varchar as reason,
    deleted_at::timestamp as deleted_at
from {{ source('raw', 'price_deletions') }}
