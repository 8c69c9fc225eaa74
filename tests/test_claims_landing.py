"""Claims files: every rejection case, landing into raw.claims, replacement, the example file, and
the printing of `rotation check`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from orchestration.config import PROJECT_ROOT
from orchestration.land.claims import land_claims_files, read_claims_file
from orchestration.serve.claim_checks import evidence_rows, print_explanation, print_verdicts, verdict_table

EXAMPLE = PROJECT_ROOT / "claims" / "examples" / "small_caps_january_2026.yml"
GOOD = """\
source: "Note of 2026-01-17"
as_of: 2026-01-16
claims:
  - id: r2k-5d
    text: "Russell 2000 +1.64 % in five days"
    kind: return
    ticker: ^RUT
    window: 5d
    value: 0.0164
    tolerance: 0.0005
  - id: streak
    kind: streak
    pair: russell2000_vs_sp500
    sessions: 9
    longest_since: 1990
    as_of: 2026-01-14
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def one_claim(**fields) -> str:
    """A file with one claim made of `fields` (None drops a field of the default return claim)."""
    claim = {"id": "c1", "kind": "return", "ticker": "^RUT", "window": "5d", "value": 0.01}
    claim.update(fields)
    lines = [f"    {k}: {json.dumps(v)}" for k, v in claim.items() if v is not None]
    return "as_of: 2026-01-16\nclaims:\n  - " + "\n".join(lines).lstrip() + "\n"


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"kind": "rumour"}, "kind", "unknown kind 'rumour'"),
    ({"ticker": "NOPE"}, "ticker", "ticker 'NOPE' is not in the universe"),
    ({"kind": "streak", "ticker": None, "window": None, "value": None, "pair": "a_vs_b", "sessions": 3},
     "pair", "pair 'a_vs_b' is not in the universe seed"),
    ({"window": "5w"}, "window", "window '5w' is not understood"),
    ({"value": "1.6 %"}, "value", "'1.6 %' is not a number"),
    ({"value": None}, "value", "a return claim needs `value`"),
    ({"kind": "relative_return", "ticker": None, "leader": "^RUT"}, "laggard", "a relative_return claim needs `laggard`"),
    ({"as_of": "2026-02-30"}, "as_of", "'2026-02-30' is not a date"),
    ({"comparison": "~"}, "comparison", "unknown comparison '~'"),
    ({"colour": "red"}, "colour", "`colour` is not a field of a return claim"),
])
def test_each_bad_claim_is_named_with_its_file_id_and_field(tmp_path, fields, field, words):
    path = write(tmp_path, "bad.yml", one_claim(**fields))
    frame, problems = read_claims_file(path)
    assert frame is None
    assert len(problems) == 1
    message = str(problems[0])
    assert (problems[0].claim_id, problems[0].field) == ("c1", field)
    assert message.startswith(f"{path}, claim c1, field {field}: {words}")


def test_a_duplicate_id_and_a_missing_as_of_are_rejected(tmp_path):
    text = "claims:\n" + "".join(
        f"  - {{id: c1, kind: return, ticker: ^RUT, window: 1d, value: {v}}}\n" for v in (0.01, 0.02))
    _, problems = read_claims_file(write(tmp_path, "dup.yml", text))
    assert [(p.claim_id, p.field) for p in problems] == [("c1", "as_of"), ("c1", "id"), ("c1", "as_of")]
    assert "used by an earlier claim" in str(problems[1])


def test_a_file_that_is_not_yaml_is_rejected(tmp_path):
    _, problems = read_claims_file(write(tmp_path, "broken.yml", "claims: [\n  - id: x\n"))
    assert len(problems) == 1 and "not a readable YAML file" in str(problems[0])


def test_a_good_file_lands_one_row_per_claim(con, tmp_path):
    path = write(tmp_path, "note.yml", GOOD)
    report = land_claims_files(con, [path], tmp_path / "quarantine")
    assert report.loaded == [str(path)] and report.claims_loaded == 2 and not report.problems
    rows = con.execute("SELECT claim_file, claim_id, source, as_of::VARCHAR, kind, ticker, window_spec, stated_value, "
                       "tolerance, comparison, pair_id, sessions, longest_since, claim_text, parameters, source_file "
                       "FROM raw.claims ORDER BY claim_id").fetchall()
    r2k, streak = rows[0], rows[1]
    assert r2k[:14] == ("note.yml", "r2k-5d", "Note of 2026-01-17", "2026-01-16", "return", "^RUT", "5d", 0.0164,
                        0.0005, "=", None, None, None, "Russell 2000 +1.64 % in five days")
    assert json.loads(r2k[14])["value"] == 0.0164
    assert r2k[15] == str(path)
    # the claim's own as_of wins over the file's; a streak's stated figure is its sessions
    assert streak[:14] == ("note.yml", "streak", "Note of 2026-01-17", "2026-01-14", "streak", None, None, 9.0,
                           None, "=", "russell2000_vs_sp500", 9, "1990", None)
    assert con.execute("SELECT file_name, kind, row_count FROM raw.landed_files").fetchall() == [("note.yml", "claims", 2)]


def test_a_file_checked_again_replaces_its_claims_and_the_same_content_is_skipped(con, tmp_path):
    path = write(tmp_path, "note.yml", GOOD)
    land_claims_files(con, [path], tmp_path / "q")
    again = land_claims_files(con, [path], tmp_path / "q")
    assert again.already_processed == [str(path)] and again.loaded == []
    path.write_text(GOOD.replace("0.0164", "0.02").split("  - id: streak")[0])
    land_claims_files(con, [path], tmp_path / "q")
    assert con.execute("SELECT claim_id, stated_value FROM raw.claims").fetchall() == [("r2k-5d", 0.02)]


def test_a_bad_file_is_quarantined_whole_and_the_others_still_land(con, tmp_path):
    landing = tmp_path / "landing"
    bad = write(landing, "a_bad.yml", GOOD.replace("^RUT", "^NOPE"))
    good = write(landing, "b_good.yml", GOOD)
    report = land_claims_files(con, [bad, good], tmp_path / "quarantine", owned_folder=landing)
    assert report.loaded == [str(good)]
    assert con.execute("SELECT DISTINCT claim_file FROM raw.claims").fetchall() == [("b_good.yml",)]
    assert not bad.exists()  # moved out of the landing folder
    (original, target), = report.quarantined
    reason = Path(target + ".reason.txt").read_text()
    assert "claim r2k-5d, field ticker: ticker '^NOPE' is not in the universe" in reason


def test_the_example_file_validates_with_its_16_claims():
    frame, problems = read_claims_file(EXAMPLE)
    assert problems == []
    assert len(frame) == 16 and frame["claim_id"].is_unique
    assert set(frame["as_of"].astype(str)) == {"2026-01-16"}
    by_id = frame.set_index("claim_id")
    assert by_id.at["ixic-ytd", "comparison"] == "<" and by_id.at["ixic-ytd", "stated_value"] == 0
    assert (by_id.at["r2k-vs-spx-14d", "window_spec"], by_id.at["r2k-vs-spx-14d", "stated_value"]) == ("14d", 0.04)
    assert (by_id.at["fwd-pe", "stated_value"], by_id.at["fwd-pe", "matches_high_of"]) == (22, 2021)


# --- printing ----------------------------------------------------------------------------------

CHECKS = pd.DataFrame({
    "claim_file": ["a.yml", "a.yml"],
    "claim_id": ["r2k-5d", "fwd-pe"],
    "kind": ["return", "forward_pe"],
    "stated_value": [0.0164, 22.0],
    "computed_value": [0.0158, None],
    "verdict": ["true", "uncheckable"],
    "explanation": ["+1.58 % from 2026-01-09 to 2026-01-16", "no forward P/E on 2026-01-16"],
    "holds_on": ["2026-01-16", None],
    "best_window": ["5d", None],
    "evidence": ['[{"ticker":"^RUT","date":"2026-01-09","close":100.0},{"ticker":"^RUT","date":"2026-01-16","close":101.58}]',
                 "[]"],
})


def test_the_verdict_table_has_the_interface_columns_in_order():
    table = verdict_table(CHECKS)
    assert list(table.columns) == ["claim_id", "kind", "stated", "computed", "verdict", "explanation", "holds_on",
                                   "best_window"]
    assert table.iloc[1].tolist() == ["fwd-pe", "forward_pe", 22.0, None, "uncheckable",
                                      "no forward P/E on 2026-01-16", None, None]


def test_verdicts_print_as_json_and_markdown(capsys):
    print_verdicts(CHECKS, "json")
    printed = json.loads(capsys.readouterr().out)
    assert [(r["claim_id"], r["verdict"], r["computed"]) for r in printed] == [("r2k-5d", "true", 0.0158),
                                                                            ("fwd-pe", "uncheckable", None)]
    print_verdicts(CHECKS, "markdown")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("|")[1].strip() == "claim_id" and len(lines) == 4
    assert "| fwd-pe" in lines[3] and "NULL" in lines[3]


def test_explain_prints_the_explanation_and_the_evidence_rows(capsys):
    assert evidence_rows(CHECKS, "r2k-5d")[["date", "close"]].values.tolist() == [["2026-01-09", 100.0],
                                                                                 ["2026-01-16", 101.58]]
    print_explanation(CHECKS, "r2k-5d", "csv")
    out = capsys.readouterr().out.splitlines()
    assert out == ["a.yml r2k-5d (return): true. +1.58 % from 2026-01-09 to 2026-01-16",
                   "ticker,date,close", "^RUT,2026-01-09,100.0", "^RUT,2026-01-16,101.58"]


# --- Dagster wiring ----------------------------------------------------------------------------


def test_the_sensor_requests_one_run_per_content_of_the_landing_folder(tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.defs.sensors import claims_landing_sensor

    monkeypatch.setenv("ROTATION_CLAIMS_LANDING", str(tmp_path))
    assert isinstance(claims_landing_sensor(dg.build_sensor_context()), dg.SkipReason)
    path = write(tmp_path, "note.yml", GOOD)
    first = claims_landing_sensor(dg.build_sensor_context())
    assert claims_landing_sensor(dg.build_sensor_context()).run_key == first.run_key
    path.write_text(GOOD.replace("0.0164", "0.02"))
    assert claims_landing_sensor(dg.build_sensor_context()).run_key != first.run_key


def test_claims_job_is_the_claims_asset_and_what_depends_on_it():
    from orchestration.definitions import load_definitions
    from orchestration.defs.schedules import WAREHOUSE_TAG

    job = load_definitions().resolve_job_def("claims_job")
    keys = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert {"raw/claims", "staging/stg_claims"} <= keys
    assert "raw/prices_daily" not in keys
    assert WAREHOUSE_TAG in job.tags
