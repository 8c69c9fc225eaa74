"""A warehouse's first run starts from the parse cache `make prepare` left beside the manifest."""

from types import SimpleNamespace

from orchestration.defs import dbt as dbt_defs


def test_the_project_parse_cache_is_copied_only_into_a_target_folder_without_one(tmp_path, monkeypatch):
    project_target = tmp_path / "dbt_project" / "target"
    project_target.mkdir(parents=True)
    (project_target / "partial_parse.msgpack").write_bytes(b"project cache")
    monkeypatch.setattr(dbt_defs, "dbt_project", SimpleNamespace(manifest_path=project_target / "manifest.json"))

    new_warehouse_target = tmp_path / "new.duckdb.dbt"
    dbt_defs.start_from_project_parse_cache(new_warehouse_target)
    assert (new_warehouse_target / "partial_parse.msgpack").read_bytes() == b"project cache"

    used_warehouse_target = tmp_path / "used.duckdb.dbt"
    used_warehouse_target.mkdir()
    (used_warehouse_target / "partial_parse.msgpack").write_bytes(b"its own cache")
    dbt_defs.start_from_project_parse_cache(used_warehouse_target)
    assert (used_warehouse_target / "partial_parse.msgpack").read_bytes() == b"its own cache"
