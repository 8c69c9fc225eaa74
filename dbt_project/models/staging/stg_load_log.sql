-- raw.load_log cast: what every upsert of a raw table inserted, changed and deleted, per load, table and
-- partition (the ticker, for raw.prices_daily).
select
    seq::bigint as seq,
    load_id::string as load_id,
    table_name::string as table_name,
    partition_value::string as partition_value,
    inserted::bigint as inserted,
    updated::bigint as updated,
    deleted::bigint as deleted,
    changed_from::date as changed_from,
    changed_to::date as changed_to,
    deleted_from::date as deleted_from,
    deleted_to::date as deleted_to,
    deleted_reason::string as deleted_reason,
    ingested_at::timestamp as ingested_at
from {{ source('raw', 'load_log') }}
