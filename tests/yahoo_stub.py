"""A local stand-in for Yahoo's chart API (127.0.0.1 only, never the internet), used by the tests.

Every chart answer is hand-written in the shape of Yahoo's v8 chart API. yfinance also asks for a
cookie (`/`), a crumb (`/v1/test/getcrumb`) and, after a refused request, the consent page
(`/consent`); `stand_in_for_yahoo` serves those. Time stamps are those Yahoo uses for daily bars:
the session's opening time, 09:30 New York time (14:30 UTC in winter, 13:30 UTC in summer).

Note on request counts: after a 4xx/5xx answer yfinance re-sends the request once with a fresh
cookie before giving up, so one attempt of the source can be two chart requests on the server.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from pytest_httpserver import HTTPServer
from tenacity import wait_exponential_jitter

TINY_WAIT = wait_exponential_jitter(multiplier=0.01, max=0.05, exp_base=2, jitter=0.01)

# 09:30 New York time of the sessions used below, as Yahoo stamps daily bars.
JAN_02 = 1735828200  # 2025-01-02T14:30:00Z
JAN_03 = 1735914600  # 2025-01-03T14:30:00Z
JAN_06 = 1736173800  # 2025-01-06T14:30:00Z (Monday)
JAN_06_EVENING = 1736209800  # 2025-01-07T00:30:00Z = 2025-01-06 19:30 New York: already Jan 7 in UTC
JUN_06 = 1717680600  # 2024-06-06T13:30:00Z (summer time)
JUN_07 = 1717767000  # 2024-06-07T13:30:00Z
JUN_10 = 1718026200  # 2024-06-10T13:30:00Z, NVDA's 10-for-1 split
JUN_11 = 1718112600  # 2024-06-11T13:30:00Z, NVDA ex-dividend ($0.01)

# ^GSPC, 2025-01-02 .. 2025-01-06: (time stamp, open, high, low, close, adjclose, volume)
GSPC_BARS = [
    (JAN_02, 5903.26, 5935.09, 5829.53, 5868.55, 5868.55, 3621680000),
    (JAN_03, 5891.07, 5949.34, 5888.66, 5942.47, 5942.47, 3667340000),
    (JAN_06, 5982.81, 6021.04, 5960.01, 5975.38, 5975.38, 4940120000),
]
AAPL_BARS = [
    (JAN_02, 248.93, 249.10, 241.82, 243.85, 242.75, 55740700),
    (JAN_03, 243.36, 244.18, 241.89, 243.36, 242.26, 40244100),
    (JAN_06, 244.31, 247.33, 243.20, 245.00, 243.89, 45045600),
]
GSPC_RANGE = (date(2025, 1, 2), date(2025, 1, 6))


def chart(symbol: str, bars: list[tuple], instrument: str = "INDEX", events: dict | None = None) -> dict:
    """A v8 chart answer for daily bars; a bar may hold None values (a null bar)."""
    columns = [list(column) for column in zip(*bars)] if bars else [[] for _ in range(7)]
    stamps, opens, highs, lows, closes, adjcloses, volumes = columns
    last_close = next((c for c in reversed(closes) if c is not None), None)
    meta = {
        "currency": "USD",
        "symbol": symbol,
        "exchangeName": "SNP" if instrument == "INDEX" else "NMS",
        "fullExchangeName": "SNP" if instrument == "INDEX" else "NasdaqGS",
        "instrumentType": instrument,
        "firstTradeDate": -1325583000,
        "regularMarketTime": 1736197200,
        "hasPrePostMarketData": instrument != "INDEX",
        "gmtoffset": -18000,
        "timezone": "EST",
        "exchangeTimezoneName": "America/New_York",
        "regularMarketPrice": last_close,
        "chartPreviousClose": last_close,
        "priceHint": 2,
        "currentTradingPeriod": {
            "pre": {"timezone": "EST", "start": 1736154000, "end": 1736173800, "gmtoffset": -18000},
            "regular": {"timezone": "EST", "start": 1736173800, "end": 1736197200, "gmtoffset": -18000},
            "post": {"timezone": "EST", "start": 1736197200, "end": 1736211600, "gmtoffset": -18000},
        },
        "dataGranularity": "1d",
        "range": "",
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    result: dict = {"meta": meta}
    if bars:
        result["timestamp"] = stamps
    if events:
        result["events"] = events
    result["indicators"] = (
        {
            "quote": [{"open": opens, "high": highs, "low": lows, "close": closes, "volume": volumes}],
            "adjclose": [{"adjclose": adjcloses}],
        }
        if bars
        else {"quote": [{}], "adjclose": [{}]}  # what Yahoo sends for a range without bars
    )
    return {"chart": {"result": [result], "error": None}}


# Yahoo's answer (HTTP 404) for a symbol it does not know.
NOT_FOUND = {
    "chart": {"result": None, "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"}}
}


def chart_path(ticker: str) -> str:
    return f"/v8/finance/chart/{ticker}"


def chart_requests(server: HTTPServer, ticker: str) -> list[int]:
    """Statuses of the chart requests the server answered for `ticker`, in order."""
    return [response.status_code for request, response in server.log if request.path == chart_path(ticker)]


def serve(server: HTTPServer, ticker: str, answer: dict, status: int = 200) -> None:
    server.expect_request(chart_path(ticker)).respond_with_json(answer, status=status)


def serve_once(server: HTTPServer, ticker: str, body: str | bytes, status: int, content_type: str = "application/json"):
    server.expect_oneshot_request(chart_path(ticker)).respond_with_data(body, status=status, content_type=content_type)


def opening_stamp(session: date) -> int:
    """Yahoo's time stamp of a daily bar: 09:30 New York time of the session."""
    return int(datetime.combine(session, time(9, 30), ZoneInfo("America/New_York")).astimezone(UTC).timestamp())


def stand_in_for_yahoo(server: HTTPServer) -> None:
    """What yfinance asks for besides charts: a cookie, a crumb and (after a refusal) a consent page."""
    server.expect_request("/").respond_with_data("", headers={"Set-Cookie": "A3=d=local; Path=/; HttpOnly"})
    server.expect_request("/v1/test/getcrumb").respond_with_data("local-crumb", content_type="text/plain")
    server.expect_request("/consent").respond_with_data("<html><body>no consent form</body></html>",
                                                        content_type="text/html")
