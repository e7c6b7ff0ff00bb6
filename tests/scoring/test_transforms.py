import math
from typing import cast

import pytest

from app.scoring.transforms import (
    Component,
    ComponentSpec,
    ScoringError,
    TransformName,
    normalize,
)

LICENSING_TABLE = {"full": 1.0, "partial": 0.5, "none": 0.0}


def make_spec(
    transform: str,
    *,
    higher_is_better: bool | None = True,
    enum_scores: dict[str, float] | None = None,
) -> ComponentSpec:
    # A plain str so tests can also pass a transform the type does not allow.
    component = Component("feature", "x", 1.0, cast(TransformName, transform))
    return ComponentSpec(component, higher_is_better, enum_scores)


class TestEnumScore:
    def test_values_take_their_table_score(self) -> None:
        spec = make_spec("enum_score", enum_scores=LICENSING_TABLE)
        result = normalize(spec, {"HK": "full", "SG": "partial", "AE": "none"})
        assert result == {"HK": 1.0, "SG": 0.5, "AE": 0.0}

    def test_direction_is_ignored(self) -> None:
        # The table already encodes direction: lower-is-better must not invert it again.
        spec = make_spec("enum_score", higher_is_better=False, enum_scores=LICENSING_TABLE)
        assert normalize(spec, {"HK": "full", "SG": "partial"}) == {"HK": 1.0, "SG": 0.5}

    def test_unknown_value_names_component_and_value(self) -> None:
        spec = make_spec("enum_score", enum_scores=LICENSING_TABLE)
        with pytest.raises(ScoringError, match=r"'x'.*'sandbox'"):
            normalize(spec, {"HK": "full", "SG": "sandbox"})

    def test_missing_table_raises(self) -> None:
        with pytest.raises(ScoringError, match="no enum score table"):
            normalize(make_spec("enum_score"), {"HK": "full"})


class TestBoolean:
    def test_true_is_one_false_is_zero(self) -> None:
        assert normalize(make_spec("boolean"), {"HK": True, "SG": False}) == {
            "HK": 1.0,
            "SG": 0.0,
        }

    def test_lower_is_better_inverts(self) -> None:
        spec = make_spec("boolean", higher_is_better=False)
        assert normalize(spec, {"HK": True, "SG": False}) == {"HK": 0.0, "SG": 1.0}

    def test_unknown_direction_counts_true_as_good(self) -> None:
        spec = make_spec("boolean", higher_is_better=None)
        assert normalize(spec, {"HK": True, "SG": False}) == {"HK": 1.0, "SG": 0.0}

    def test_number_is_not_a_boolean(self) -> None:
        with pytest.raises(ScoringError, match="true or false"):
            normalize(make_spec("boolean"), {"HK": 1})


class TestMinMax:
    def test_scales_between_smallest_and_largest(self) -> None:
        # min 10, max 40, span 30: 10 -> 0, 20 -> 10/30, 40 -> 1
        result = normalize(make_spec("minmax"), {"HK": 10, "SG": 20, "AE": 40.0})
        assert result == pytest.approx({"HK": 0.0, "SG": 1 / 3, "AE": 1.0})

    def test_lower_is_better_inverts(self) -> None:
        # 1 - (0, 1/3, 1)
        spec = make_spec("minmax", higher_is_better=False)
        result = normalize(spec, {"HK": 10, "SG": 20, "AE": 40})
        assert result == pytest.approx({"HK": 1.0, "SG": 2 / 3, "AE": 0.0})

    def test_unknown_direction_counts_more_as_better(self) -> None:
        spec = make_spec("minmax", higher_is_better=None)
        assert normalize(spec, {"HK": 10, "SG": 40}) == {"HK": 0.0, "SG": 1.0}

    def test_equal_values_all_score_one(self) -> None:
        spec = make_spec("minmax", higher_is_better=False)
        assert normalize(spec, {"HK": 5, "SG": 5.0}) == {"HK": 1.0, "SG": 1.0}

    def test_single_value_scores_one(self) -> None:
        assert normalize(make_spec("minmax"), {"HK": 3.5}) == {"HK": 1.0}

    def test_null_values_are_left_out_of_bounds_and_result(self) -> None:
        # Bounds are 10..20 from the two non-null values; SG gets no entry at all.
        result = normalize(make_spec("minmax"), {"HK": 10, "SG": None, "AE": 20})
        assert result == {"HK": 0.0, "AE": 1.0}

    def test_no_values_gives_empty_result(self) -> None:
        assert normalize(make_spec("minmax"), {"HK": None}) == {}

    def test_bool_is_not_a_number(self) -> None:
        with pytest.raises(ScoringError, match="needs a number"):
            normalize(make_spec("minmax"), {"HK": 10, "SG": True})

    def test_text_is_not_a_number(self) -> None:
        with pytest.raises(ScoringError, match=r"'x'.*'12'"):
            normalize(make_spec("minmax"), {"HK": "12"})

    @pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 10**400])
    def test_non_finite_is_rejected(self, value: float) -> None:
        with pytest.raises(ScoringError, match="finite"):
            normalize(make_spec("minmax"), {"HK": 1.0, "SG": value})


class TestLogMinMax:
    def test_scales_on_log_of_one_plus_value(self) -> None:
        # ln(1+0) = 0, ln(1+9) = ln 10, ln(1+99) = 2 ln 10 -> 0, 0.5, 1
        result = normalize(make_spec("log_minmax"), {"HK": 0, "SG": 9, "AE": 99})
        assert result == pytest.approx({"HK": 0.0, "SG": 0.5, "AE": 1.0})

    def test_lower_is_better_inverts(self) -> None:
        spec = make_spec("log_minmax", higher_is_better=False)
        result = normalize(spec, {"HK": 0, "SG": 9, "AE": 99})
        assert result == pytest.approx({"HK": 1.0, "SG": 0.5, "AE": 0.0})

    def test_equal_values_all_score_one(self) -> None:
        assert normalize(make_spec("log_minmax"), {"HK": 7, "SG": 7}) == {"HK": 1.0, "SG": 1.0}

    def test_negative_value_raises(self) -> None:
        with pytest.raises(ScoringError, match=r">= 0.*-1"):
            normalize(make_spec("log_minmax"), {"HK": 5, "SG": -1})


class TestRank:
    def test_ties_share_a_competition_rank(self) -> None:
        # 30, 20, 20, 10 rank 1, 2, 2, 4 of n = 4: 1 - (r - 1) / 3 -> 1, 2/3, 2/3, 0
        result = normalize(make_spec("rank"), {"HK": 30, "SG": 20, "AE": 20, "CH": 10})
        assert result == pytest.approx({"HK": 1.0, "SG": 2 / 3, "AE": 2 / 3, "CH": 0.0})

    def test_lower_is_better_ranks_smallest_first(self) -> None:
        # 10, 20, 30 rank 1, 2, 3 of n = 3 -> 1, 0.5, 0
        spec = make_spec("rank", higher_is_better=False)
        result = normalize(spec, {"HK": 30, "SG": 20, "AE": 10})
        assert result == pytest.approx({"HK": 0.0, "SG": 0.5, "AE": 1.0})

    def test_lower_is_better_ties_share_a_rank(self) -> None:
        # 10, 10, 30 with lower better rank 1, 1, 3 of n = 3 -> 1, 1, 0
        spec = make_spec("rank", higher_is_better=False)
        result = normalize(spec, {"HK": 10, "SG": 10.0, "AE": 30})
        assert result == {"HK": 1.0, "SG": 1.0, "AE": 0.0}

    def test_tie_at_the_top_is_shared(self) -> None:
        # 30, 30, 10 rank 1, 1, 3 of n = 3 -> 1, 1, 0
        result = normalize(make_spec("rank"), {"HK": 30, "SG": 30, "AE": 10})
        assert result == {"HK": 1.0, "SG": 1.0, "AE": 0.0}

    def test_single_value_scores_one(self) -> None:
        assert normalize(make_spec("rank"), {"HK": 42}) == {"HK": 1.0}

    def test_bool_is_not_a_number(self) -> None:
        with pytest.raises(ScoringError, match="needs a number"):
            normalize(make_spec("rank"), {"HK": False})


def test_unknown_transform_raises() -> None:
    with pytest.raises(ScoringError, match="unknown transform 'zscore'"):
        normalize(make_spec("zscore"), {"HK": 1})
