"""Index membership from iShares fund holdings (IVV for the S&P 500, IWM for the Russell 2000).

The holdings CSV iShares publishes is not a plain table: a preamble of fund facts (including
``Fund Holdings as of,"Nov 19, 2026"``) comes before the header line
``Ticker,Name,Sector,Asset Class,Market Value,Weight (%),...``, numbers carry thousands separators
inside quotes, '-' stands for an empty value, cash, futures and money-market lines sit among the
equities, and a disclaimer follows the table after a blank line. ``parse_holdings`` keeps the
equity lines and returns the contract shape: index_name, ticker (Yahoo symbol: ``BRK.B`` ->
``BRK-B``), as_of_date, weight (fraction), sector (Yahoo's name).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pandas as pd
from curl_cffi import CurlError
from curl_cffi import requests as curl_requests
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

SOURCE = "ishares"
BASE_URL = "https://www.ishares.com"
FUNDS = {
    "sp500": ("IVV", "/us/products/239726/ishares-core-sp-500-etf/1467271812596.ajax?fileType=csv&fileName=IVV_holdings&dataType=fund"),
    "russell2000": ("IWM", "/us/products/239710/ishares-russell-2000-etf/1467271812596.ajax?fileType=csv&fileName=IWM_holdings&dataType=fund"),
}
HEADER_START = "Ticker,Name,Sector,Asset Class"
EQUITY = "Equity"
# iShares (GICS) sector names -> Yahoo's.
SECTORS = {
    "Information Technology": "Technology",
    "Financials": "Financial Services",
    "Health Care": "Healthcare",
    "Consumer Discretionary": "Consumer Cyclical",
    "Consumer Staples": "Consumer Defensive",
    "Industrials": "Industrials",
    "Energy": "Energy",
    "Utilities": "Utilities",
    "Real Estate": "Real Estate",
    "Materials": "Basic Materials",
    "Communication": "Communication Services",
    "Communication Services": "Communication Services",
}


class HoldingsError(ValueError):
    pass


def yahoo_symbol(ticker: str) -> str:
    """iShares writes share classes with a dot (BRK.B, BF.B); Yahoo with a dash."""
    return ticker.strip().upper().replace(".", "-").replace("/", "-").replace(" ", "-")


def _as_of(preamble: list[str], origin: str) -> date:
    for line in preamble:
        cells = next(csv.reader([line]), [])
        if cells and cells[0].strip().lower() == "fund holdings as of" and len(cells) > 1:
            text = cells[1].strip()
            for layout in ("%b %d, %Y", "%m/%d/%Y", "%Y-%m-%d"):
                try:
                    return datetime.strptime(text, layout).date()
                except ValueError:
                    continue
            raise HoldingsError(f"{origin}: cannot read the holdings date {text!r}")
    raise HoldingsError(f"{origin}: no 'Fund Holdings as of' line before the header; is this an iShares holdings file?")


def _number(text: str) -> float | None:
    text = text.strip().replace(",", "")
    if text in ("", "-", "--"):
        return None
    return float(text)


def parse_holdings(text: str, index_name: str, origin: str) -> pd.DataFrame:
    lines = text.lstrip("\ufeff").splitlines()
    header_at = next((i for i, line in enumerate(lines) if line.strip().lstrip('"').startswith("Ticker")
                      and "Asset Class" in line), None)
    if header_at is None:
        raise HoldingsError(f"{origin}: no header line starting with {HEADER_START!r}; is this an iShares holdings file?")
    as_of = _as_of(lines[:header_at], origin)
    table = []
    for line in lines[header_at:]:
        if not line.strip() or line.strip().strip(",").strip('"') == "":
            break  # the disclaimer block follows the first blank line
        table.append(line)
    reader = csv.DictReader(io.StringIO("\n".join(table)))
    rows, skipped = [], 0
    for line_number, record in enumerate(reader, start=header_at + 2):
        asset_class = (record.get("Asset Class") or "").strip()
        ticker = (record.get("Ticker") or "").strip()
        if asset_class != EQUITY or ticker in ("", "-"):
            skipped += 1
            continue
        try:
            weight = _number(record.get("Weight (%)") or "")
        except ValueError as error:
            raise HoldingsError(f"{origin}, line {line_number} ({ticker}): weight {record.get('Weight (%)')!r} is not a number") from error
        sector = (record.get("Sector") or "").strip()
        rows.append((index_name, yahoo_symbol(ticker), as_of, None if weight is None else weight / 100,
                     SECTORS.get(sector, sector or None)))
    if not rows:
        raise HoldingsError(f"{origin}: no equity holdings in the file")
    frame = pd.DataFrame(rows, columns=["index_name", "ticker", "as_of_date", "weight", "sector"])
    # Two share lines of one company map to distinct symbols; an exact repeat is merged.
    return frame.groupby(["index_name", "ticker", "as_of_date"], as_index=False).agg(
        weight=("weight", lambda w: w.sum(min_count=1)), sector=("sector", "first")
    )


def download_holdings(index_name: str, base_url: str = BASE_URL, attempts: int = 4,
                      wait=wait_exponential_jitter(max=30), timeout: float = 60.0) -> pd.DataFrame:
    """Download and parse the holdings of the fund tracking `index_name`, retrying transient failures."""
    fund, path = FUNDS[index_name]
    url = base_url.rstrip("/") + path

    def fetch() -> str:
        response = curl_requests.get(url, timeout=timeout)
        if response.status_code == 429 or response.status_code >= 500:
            raise ConnectionError(f"{fund} holdings: HTTP {response.status_code}")
        if response.status_code != 200:
            raise HoldingsError(f"{fund} holdings: HTTP {response.status_code} from {url}")
        return response.text

    retrying = Retrying(stop=stop_after_attempt(attempts), wait=wait, reraise=True,
                        retry=retry_if_exception_type((ConnectionError, OSError, CurlError)))
    text = retrying(fetch)
    return parse_holdings(text, index_name, f"{fund} holdings ({url})")
