-- EPS-guidance counts per index and fiscal quarter: each quarter's latest vintage, with the averages and
-- lowest-since over the other quarters' latest vintages (the current rows of fct_guidance_counts_asof,
-- where the rules are). as_of_date and basis say which vintage a row uses.
select
    index_name,
    fiscal_quarter,
    quarter_number,
    basis,
    as_of_date,
    available_date,
    negative_count,
    positive_count,
    total_count,
    negative_share,
    negative_avg_5y,
    negative_avg_10y,
    positive_avg_5y,
    positive_avg_10y,
    avg_5y_quarters,
    avg_10y_quarters,
    negative_lowest_since_quarter,
    negative_lowest_since_count,
    negative_tied_quarters
from {{ ref('fct_guidance_counts_asof') }}
where valid_to is null
