-- Sector returns by method. Method `etf`: each sector's Select Sector SPDR stands in for the sector.
with etf_proxies as (
    select ticker as proxy_ticker, proxy_for_sector as sector
    from {{ ref('universe_tickers') }}
    where proxy_for_sector is not null
),

etf_method as (
    select
        etf_proxies.sector,
        returns.date,
        'etf' as method,
        etf_proxies.proxy_ticker,
        returns.return_1d,
        returns.return_5d,
        returns.return_mtd,
        returns.return_ytd
    from etf_proxies
    inner join {{ ref('fct_returns_daily') }} as returns on returns.ticker = etf_proxies.proxy_ticker
)

select
    *,
    case when return_1d is not null then
        rank() over (partition by date, method, return_1d is null order by return_1d desc)
    end as rank_1d
from etf_method
