-- Each universe's forward P/E per calendar year: its high and low (the later date on ties) and the
-- year's last figure. A year in progress holds the figures so far; observations says how many there are.
select
    universe,
    year(as_of_date)::integer as year,
    max(forward_pe) as high_forward_pe,
    {{ value_at_max('as_of_date', ['forward_pe', 'as_of_date']) }} as high_date,
    min(forward_pe) as low_forward_pe,
    {{ value_at_max('as_of_date', ['-forward_pe', 'as_of_date']) }} as low_date,
    {{ value_at_max('forward_pe', 'as_of_date') }} as last_forward_pe,
    max(as_of_date) as last_date,
    count(*) as observations
from {{ ref('fct_forward_pe') }}
group by universe, year(as_of_date)
