import copy
import math
from typing import cast

import pytest

from app.scoring.engine import (
    Component,
    ComponentKind,
    ComponentSpec,
    IndexResult,
    JurisdictionScore,
    RawValue,
    ScoringError,
    TransformName,
    effective_weights,
    evaluate_scenario,
    score_index,
)

LICENSING = ComponentSpec(
    Component(kind="feature", key="licensing", weight=0.4, transform="enum_score"),
    higher_is_better=None,
    enum_scores={"full": 1.0, "partial": 0.5, "none": 0.0},
)
RETAIL = ComponentSpec(
    Component(kind="feature", key="retail_allowed", weight=0.2, transform="boolean"),
    higher_is_better=True,
    enum_scores=None,
)
TAX = ComponentSpec(
    Component(kind="metric", key="tax_pct", weight=0.4, transform="minmax"),
    higher_is_better=False,
    enum_scores=None,
)
SPECS = (LICENSING, RETAIL, TAX)

# Weights 0.4 / 0.2 / 0.4 already sum to 1. tax_pct is lower-is-better over 0..30,
# so 0 -> 1, 15 -> 0.5, 30 -> 0. Scores (100 * sum(w * n) / coverage):
#   HK  1, 1, 0.5            -> 40 + 20 + 20 = 80
#   SG  0.5, 0, 1            -> 20 +  0 + 40 = 60
#   AE  1, 1, 0              -> 40 + 20 +  0 = 60
#   CH  0, 0, 0              ->  0
#   BM  1, -, -  coverage .4 -> 100 * 0.4 * 1 / 0.4 = 100
#   BS, KY no data           -> None
RAW: dict[str, dict[str, RawValue | None]] = {
    "HK": {"licensing": "full", "retail_allowed": True, "tax_pct": 15},
    "SG": {"licensing": "partial", "retail_allowed": False, "tax_pct": 0},
    "AE": {"licensing": "full", "retail_allowed": True, "tax_pct": 30.0},
    "CH": {"licensing": "none", "retail_allowed": False, "tax_pct": 30},
    "BM": {"licensing": "full", "retail_allowed": None},
    "KY": {},
    "BS": {"retail_allowed": None},
}


def item(result: IndexResult, code: str) -> JurisdictionScore:
    return next(i for i in result.items if i.code == code)


def component(kind: str, key: str, weight: float) -> Component:
    transform: TransformName = "minmax"
    return Component(kind=cast(ComponentKind, kind), key=key, weight=weight, transform=transform)


class TestEffectiveWeights:
    COMPONENTS = (
        component("feature", "a", 0.5),
        component("feature", "b", 0.3),
        component("metric", "c", 0.2),
    )

    def test_defaults_are_renormalised_in_component_order(self) -> None:
        # 2 + 1 + 1 = 4 -> 0.5, 0.25, 0.25
        components = [component("metric", k, w) for k, w in (("z", 2), ("a", 1), ("m", 1))]
        weights = effective_weights(components, None)
        assert list(weights) == ["z", "a", "m"]
        assert weights == pytest.approx({"z": 0.5, "a": 0.25, "m": 0.25})

    def test_partial_override_keeps_other_defaults(self) -> None:
        # b: 0.3 -> 0.8; total 0.5 + 0.8 + 0.2 = 1.5 -> 1/3, 8/15, 2/15
        weights = effective_weights(self.COMPONENTS, {"b": 0.8})
        assert weights == pytest.approx({"a": 1 / 3, "b": 8 / 15, "c": 2 / 15})

    def test_override_to_zero_drops_the_component(self) -> None:
        # a: 0; total 0.3 + 0.2 = 0.5 -> 0, 0.6, 0.4
        weights = effective_weights(self.COMPONENTS, {"a": 0})
        assert weights == pytest.approx({"a": 0.0, "b": 0.6, "c": 0.4})

    def test_unknown_key_is_named_with_the_valid_keys(self) -> None:
        with pytest.raises(ScoringError, match=r"unknown.*: nope; valid: a, b, c"):
            effective_weights(self.COMPONENTS, {"nope": 1.0})

    @pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, True])
    def test_invalid_override_is_rejected(self, bad: float) -> None:
        with pytest.raises(ScoringError, match="weight of 'b'"):
            effective_weights(self.COMPONENTS, {"b": bad})

    def test_all_zero_is_rejected(self) -> None:
        with pytest.raises(ScoringError, match="sum to zero"):
            effective_weights(self.COMPONENTS, {"a": 0, "b": 0.0, "c": 0})

    def test_repeated_component_key_is_rejected(self) -> None:
        with pytest.raises(ScoringError, match="more than once: a"):
            effective_weights([component("feature", "a", 1), component("metric", "a", 1)])


class TestScoreIndex:
    def test_score_is_weighted_mean_of_normalized_values(self) -> None:
        hk = item(score_index(SPECS, RAW), "HK")
        assert hk.score == pytest.approx(80.0)
        assert hk.coverage == pytest.approx(1.0)
        assert [(c.key, c.kind, c.transform, c.raw) for c in hk.components] == [
            ("licensing", "feature", "enum_score", "full"),
            ("retail_allowed", "feature", "boolean", True),
            ("tax_pct", "metric", "minmax", 15),
        ]
        assert [c.weight for c in hk.components] == pytest.approx([0.4, 0.2, 0.4])
        assert [c.normalized for c in hk.components] == pytest.approx([1.0, 1.0, 0.5])
        assert [c.contribution for c in hk.components] == pytest.approx([40.0, 20.0, 20.0])

    def test_contributions_add_up_to_the_score(self) -> None:
        for scored in score_index(SPECS, RAW).items:
            if scored.score is not None:
                parts = [c.contribution for c in scored.components if c.contribution is not None]
                assert math.fsum(parts) == pytest.approx(scored.score)

    def test_items_ordered_by_rank_then_code_with_unscored_last(self) -> None:
        # BM 100, HK 80, AE = SG 60 (shared 3, then 5), CH 0; BS and KY have no data.
        result = score_index(SPECS, RAW)
        assert [(i.code, i.rank) for i in result.items] == [
            ("BM", 1),
            ("HK", 2),
            ("AE", 3),
            ("SG", 3),
            ("CH", 5),
            ("BS", None),
            ("KY", None),
        ]
        assert [i.score for i in result.items] == pytest.approx(
            [100.0, 80.0, 60.0, 60.0, 0.0, None, None]
        )

    def test_missing_data_lowers_coverage_not_the_score(self) -> None:
        # BM has only licensing (full, weight 0.4): 100 * 0.4 * 1 / 0.4 = 100 at coverage 0.4.
        bm = item(score_index(SPECS, RAW), "BM")
        assert bm.score == pytest.approx(100.0)
        assert bm.coverage == pytest.approx(0.4)
        assert [(c.raw, c.normalized) for c in bm.components] == [
            ("full", 1.0),
            (None, None),
            (None, None),
        ]
        assert [c.contribution for c in bm.components] == pytest.approx([100.0, None, None])

    def test_no_data_gives_no_score_and_no_rank(self) -> None:
        ky = item(score_index(SPECS, RAW), "KY")
        assert (ky.rank, ky.score, ky.coverage) == (None, None, 0.0)
        assert all(c.normalized is None and c.contribution is None for c in ky.components)

    def test_data_only_on_zero_weight_components_gives_no_score(self) -> None:
        # licensing weighted 0: BM's only data carries no weight, so coverage is 0.
        result = score_index(SPECS, RAW, weights={"licensing": 0})
        bm = item(result, "BM")
        assert (bm.rank, bm.score, bm.coverage) == (None, None, 0.0)

    def test_scores_equal_after_rounding_share_rank_and_sort_by_code(self) -> None:
        # Equal weights 1/3. HK: (0.1 + 0.2) / 3 * 100 = 10; AE: 0.3 / 3 * 100 = 10, which in
        # floats is 9.999999999999998. They still tie, so AE comes before HK.
        table = {"p": 0.1, "q": 0.2, "r": 0.3, "s": 0.9, "o": 0.0}
        specs = [
            ComponentSpec(Component("feature", key, 1.0, "enum_score"), None, table)
            for key in ("x", "y", "z")
        ]
        raw: dict[str, dict[str, RawValue | None]] = {
            "HK": {"x": "p", "y": "q", "z": "o"},
            "AE": {"x": "r", "y": "o", "z": "o"},
            "SG": {"x": "s", "y": "s", "z": "s"},
        }
        result = score_index(specs, raw)
        assert [(i.code, i.rank) for i in result.items] == [("SG", 1), ("AE", 2), ("HK", 2)]

    def test_input_order_does_not_change_the_result(self) -> None:
        backwards = dict(reversed(list(RAW.items())))
        assert score_index(SPECS, backwards) == score_index(SPECS, RAW)

    def test_minmax_bounds_come_from_the_compared_set(self) -> None:
        # Only HK (15) and AE (30): tax bounds 15..30, so HK's tax is 1 and AE's 0.
        # HK 40 + 20 + 40 = 100; AE 40 + 20 + 0 = 60.
        result = score_index(SPECS, {"HK": RAW["HK"], "AE": RAW["AE"]})
        assert [(i.code, i.rank) for i in result.items] == [("HK", 1), ("AE", 2)]
        assert [i.score for i in result.items] == pytest.approx([100.0, 60.0])

    def test_weight_overrides_are_applied_and_reported(self) -> None:
        # retail 0 -> licensing 0.5, tax 0.5. HK 50 + 25 = 75; SG 25 + 50 = 75; AE 50 + 0 = 50;
        # BM 100 (coverage 0.5); CH 0.
        result = score_index(SPECS, RAW, weights={"retail_allowed": 0})
        assert result.weights == pytest.approx(
            {"licensing": 0.5, "retail_allowed": 0.0, "tax_pct": 0.5}
        )
        assert [(i.code, i.rank) for i in result.items[:5]] == [
            ("BM", 1),
            ("HK", 2),
            ("SG", 2),
            ("AE", 4),
            ("CH", 5),
        ]
        assert [i.score for i in result.items[:5]] == pytest.approx([100.0, 75.0, 75.0, 50.0, 0.0])
        hk_retail = item(result, "HK").components[1]
        assert (hk_retail.normalized, hk_retail.contribution) == (1.0, 0.0)
        assert item(result, "BM").coverage == pytest.approx(0.5)

    def test_min_coverage_withholds_the_score_but_lists_the_item(self) -> None:
        # BM's coverage 0.4 < 0.5: no score, listed with the unscored by code; HK moves to 1.
        result = score_index(SPECS, RAW, min_coverage=0.5)
        assert [(i.code, i.rank) for i in result.items] == [
            ("HK", 1),
            ("AE", 2),
            ("SG", 2),
            ("CH", 4),
            ("BM", None),
            ("BS", None),
            ("KY", None),
        ]
        bm = item(result, "BM")
        assert bm.score is None
        assert bm.coverage == pytest.approx(0.4)
        assert [c.normalized for c in bm.components] == [1.0, None, None]
        assert [c.contribution for c in bm.components] == [None, None, None]

    def test_min_coverage_is_compared_after_rounding(self) -> None:
        # Equal weights 1/3 each: BM's coverage 0.33333333333... is below 0.3333333334 but
        # equal to it at 9 decimals (0.333333333), so a caller asking for "a third" keeps BM.
        weights = {"licensing": 1.0, "retail_allowed": 1.0, "tax_pct": 1.0}
        result = score_index(SPECS, RAW, weights=weights, min_coverage=0.3333333334)
        assert item(result, "BM").score == pytest.approx(100.0)

    @pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan])
    def test_min_coverage_outside_zero_to_one_is_rejected(self, bad: float) -> None:
        with pytest.raises(ScoringError, match="min_coverage"):
            score_index(SPECS, RAW, min_coverage=bad)

    def test_bool_for_a_numeric_component_is_rejected(self) -> None:
        raw = {**RAW, "SG": {**RAW["SG"], "tax_pct": True}}
        with pytest.raises(ScoringError, match=r"'tax_pct'.*needs a number.*True"):
            score_index(SPECS, raw)

    def test_unknown_enum_value_is_rejected(self) -> None:
        raw = {**RAW, "SG": {**RAW["SG"], "licensing": "pending"}}
        with pytest.raises(ScoringError, match=r"'licensing'.*'pending'"):
            score_index(SPECS, raw)

    def test_empty_compared_set_gives_no_items(self) -> None:
        result = score_index(SPECS, {})
        assert result.items == ()
        assert result.weights == pytest.approx(
            {"licensing": 0.4, "retail_allowed": 0.2, "tax_pct": 0.4}
        )


class TestEvaluateScenario:
    def test_improving_a_value_raises_score_and_rank(self) -> None:
        # SG retail False -> True: 20 + 20 + 40 = 80, tying HK at rank 2 (was 60, rank 3).
        result = evaluate_scenario(SPECS, RAW, code="SG", overrides={"retail_allowed": True})
        assert (result.baseline.rank, result.scenario.rank) == (3, 2)
        assert [result.baseline.score, result.scenario.score] == pytest.approx([60.0, 80.0])
        assert result.score_delta == pytest.approx(20.0)
        assert result.rank_delta == -1
        [(before, after)] = result.changed_components
        assert (before.key, before.raw, before.normalized) == ("retail_allowed", False, 0.0)
        assert (after.key, after.raw, after.normalized) == ("retail_allowed", True, 1.0)

    def test_worsening_a_value_lowers_score_and_rank(self) -> None:
        # HK licensing full -> none: 0 + 20 + 20 = 40; AE and SG (60) now share 2, HK is 4th.
        result = evaluate_scenario(SPECS, RAW, code="HK", overrides={"licensing": "none"})
        assert result.scenario.score == pytest.approx(40.0)
        assert result.score_delta == pytest.approx(-40.0)
        assert (result.baseline.rank, result.scenario.rank, result.rank_delta) == (2, 4, 2)

    def test_moving_a_bound_rescales_the_others(self) -> None:
        # HK tax 15 -> 60 widens the bounds to 0..60: HK 0, AE 30 -> 0.5, SG 1, CH 0.5.
        # HK 40 + 20 + 0 = 60; AE 40 + 20 + 20 = 80 (was 60); SG 60; CH 20; BM 100.
        # HK ties SG at rank 3 only because AE rose to 80 on the moved bound.
        result = evaluate_scenario(SPECS, RAW, code="HK", overrides={"tax_pct": 60})
        assert result.scenario.score == pytest.approx(60.0)
        assert (result.scenario.rank, result.rank_delta) == (3, 1)
        assert result.score_delta == pytest.approx(-20.0)
        [(before, after)] = result.changed_components
        assert (before.raw, before.normalized) == (15, 0.5)
        assert (after.raw, after.normalized) == (60, 0.0)

    def test_same_value_changes_nothing(self) -> None:
        result = evaluate_scenario(
            SPECS, RAW, code="HK", overrides={"licensing": "full", "tax_pct": 15}
        )
        assert result.score_delta == 0.0
        assert result.rank_delta == 0
        assert result.changed_components == ()
        assert result.scenario == result.baseline

    def test_override_to_none_removes_the_data(self) -> None:
        # HK without tax: coverage 0.6, score 100 * (0.4 + 0.2) / 0.6 = 100, tied with BM at 1.
        result = evaluate_scenario(SPECS, RAW, code="HK", overrides={"tax_pct": None})
        assert result.scenario.coverage == pytest.approx(0.6)
        assert result.scenario.score == pytest.approx(100.0)
        assert (result.scenario.rank, result.rank_delta) == (1, -1)
        [(before, after)] = result.changed_components
        assert (after.key, after.raw, after.normalized, after.contribution) == (
            "tax_pct",
            None,
            None,
            None,
        )
        assert before.normalized == 0.5

    def test_adding_data_to_an_unscored_jurisdiction_gives_no_delta(self) -> None:
        # KY had no score; with licensing partial it scores 50 but there is nothing to subtract.
        result = evaluate_scenario(SPECS, RAW, code="KY", overrides={"licensing": "partial"})
        assert result.scenario.score == pytest.approx(50.0)
        assert (result.score_delta, result.rank_delta) == (None, None)

    def test_weights_apply_to_baseline_and_scenario(self) -> None:
        # retail weighted 0: SG's retail change moves its normalized value but not its score (75).
        result = evaluate_scenario(
            SPECS,
            RAW,
            code="SG",
            overrides={"retail_allowed": True},
            weights={"retail_allowed": 0},
        )
        assert result.baseline.score == pytest.approx(75.0)
        assert result.score_delta == pytest.approx(0.0)
        assert len(result.changed_components) == 1

    def test_inputs_are_not_mutated(self) -> None:
        before = copy.deepcopy(RAW)
        evaluate_scenario(SPECS, RAW, code="BM", overrides={"tax_pct": 5, "licensing": None})
        assert before == RAW

    def test_unknown_code_is_rejected(self) -> None:
        with pytest.raises(ScoringError, match="'XX' is not in the compared set"):
            evaluate_scenario(SPECS, RAW, code="XX", overrides={"licensing": "full"})

    def test_unknown_component_key_is_rejected_with_valid_keys(self) -> None:
        with pytest.raises(
            ScoringError, match=r"talent_visa; valid: licensing, retail_allowed, tax_pct"
        ):
            evaluate_scenario(SPECS, RAW, code="HK", overrides={"talent_visa": True})

    def test_invalid_override_value_is_rejected(self) -> None:
        with pytest.raises(ScoringError, match=r"'tax_pct'.*needs a number"):
            evaluate_scenario(SPECS, RAW, code="HK", overrides={"tax_pct": "low"})
