from pathlib import Path

import msgspec
import pytest

from search.errors import FieldError
from search.trends.models import TrendParams
from server.settings import Settings, env_name, load_settings, settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_in_code_and_readme() -> None:
    names = [f.name for f in msgspec.structs.fields(Settings)]
    table = settings_table()  # raises TypeError for a field without a description
    assert [variable for variable, _, _ in table] == [env_name(n) for n in names]
    assert all(help_text.strip() for _, _, help_text in table)
    readme = README.read_text(encoding="utf-8")
    missing = [env_name(n) for n in names if f"`{env_name(n)}" not in readme]
    assert missing == []


def test_environment_values_are_converted() -> None:
    s = load_settings({"TRENDSEARCH_PORT": "9000", "QDRANT_URL": "http://q:6333",
                       "TRENDSEARCH_HALF_LIFE_HOURS": "12.5"})
    assert (s.port, s.qdrant_url, s.half_life_hours) == (9000, "http://q:6333", 12.5)


@pytest.mark.parametrize(("env", "variable", "problem"), [
    ({"TRENDSEARCH_PORT": "99999"}, "TRENDSEARCH_PORT", "<= 65535"),
    ({"TRENDSEARCH_PROFILE": "gpt"}, "TRENDSEARCH_PROFILE", "Invalid enum value 'gpt'"),
    ({"TRENDSEARCH_RRF_K": "zero"}, "TRENDSEARCH_RRF_K", "Expected `int`"),
    ({"TRENDSEARCH_TRENDS": '{"growth_doublings": 9}'}, "TRENDSEARCH_TRENDS",
     "growth_doublings: Expected `int` <= 4"),
    ({"TRENDSEARCH_TRENDS": '{"min_voicez": 2}'}, "TRENDSEARCH_TRENDS",
     "Object contains unknown field `min_voicez`"),
    ({"TRENDSEARCH_TRENDS": "growth"}, "TRENDSEARCH_TRENDS", "expected a JSON object of trends knobs"),
])
def test_a_bad_variable_is_named(env: dict[str, str], variable: str, problem: str) -> None:
    with pytest.raises(FieldError) as info:
        load_settings(env)
    assert info.value.field == variable
    assert problem in info.value.problem


def test_the_embedded_layout_comes_from_its_settings() -> None:
    s = load_settings({"TRENDSEARCH_EDGE_HNSW_EF": "64", "TRENDSEARCH_EDGE_QUANTIZATION": "none",
                       "TRENDSEARCH_EDGE_INDEXING_THRESHOLD_KB": "0"})
    layout = s.edge_layout
    assert (layout.hnsw_ef, layout.quantization, layout.indexing_threshold_kb) == (64, "none", 0)
    with pytest.raises(FieldError) as info:
        load_settings({"TRENDSEARCH_EDGE_QUANTIZATION": "int4"})
    assert info.value.field == "TRENDSEARCH_EDGE_QUANTIZATION"


def test_trends_knobs_differ_from_the_shipped_ones_only_where_set() -> None:
    shipped = TrendParams()
    assert load_settings({}).trend_params == shipped
    s = load_settings({"TRENDSEARCH_TRENDS": '{"growth_doublings": 2, "min_voices": 1}'})
    assert (s.trend_params.growth_doublings, s.trend_params.min_voices) == (2, 1)
    assert s.trend_params.min_label_share == shipped.min_label_share
