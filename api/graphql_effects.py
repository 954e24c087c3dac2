"""The GraphQL ``effects`` query: what ``GET /api/effects`` answers (:mod:`api.effects_routes`), with the
same arguments (``runtime``, ``formFactor``, ``precision``) and the same call of
:func:`decision.measured_effects.measured_effects`, as typed objects instead of JSON. The resolver only
translates; the pairing and the statistics are the library's.
"""
from __future__ import annotations

import dataclasses
import typing

import strawberry
from strawberry.types import Info

from decision import measured_effects as me


# The library's Distribution as a GraphQL type: its fields, read from the dataclass (not restated here).
Distribution = strawberry.type(
    dataclasses.make_dataclass("Distribution", list(typing.get_type_hints(me.Distribution).items())),
    description="A sample's n, median, quartiles (inclusive method) and extremes; null when n = 0.")


def _distribution(d: me.Distribution) -> Distribution:  # type: ignore[valid-type]
    return Distribution(**dataclasses.asdict(d))


@strawberry.type(description="The accuracy change of one metric, in its own unit and direction as published.")
class MetricEffect:
    metric: str = strawberry.field(description="The metric with its unit, e.g. 'top1 (%)'.")
    change: Distribution


@strawberry.type(description="The measured effect of one precision against float.")
class PrecisionEffect:
    precision: str
    latency_ratio: Distribution = strawberry.field(description="Quantized / float inference latency (< 1 is faster).")
    memory_ratio: Distribution = strawberry.field(description="Quantized / float upper end of the peak-memory range.")
    accuracy_change: Distribution = strawberry.field(description="Quantized - float on-device value of the metrics "
                                                                 "published in % (top-1: percentage points).")
    accuracy_change_by_metric: list[MetricEffect] = strawberry.field(
        description="Each metric apart, sorted by name (the object accuracy_change_by_metric of GET /api/effects).")

    @staticmethod
    def of(e: me.PrecisionEffect) -> PrecisionEffect:
        return PrecisionEffect(
            precision=e.precision, latency_ratio=_distribution(e.latency_ratio),
            memory_ratio=_distribution(e.memory_ratio), accuracy_change=_distribution(e.accuracy_change),
            accuracy_change_by_metric=[MetricEffect(metric=m, change=_distribution(d))
                                       for m, d in e.accuracy_change_by_metric.items()])


@strawberry.type(description="Per precision, the distributions over pairs with a float measurement that shares "
                             "`pairing` (GET /api/effects).")
class MeasuredEffects:
    baseline: str
    pairing: list[str]
    effects: list[PrecisionEffect]


@strawberry.type
class EffectsQuery:
    @strawberry.field(description="Measured effects of quantization precisions against float (what GET /api/effects "
                                  "answers): runtime (e.g. tflite), formFactor (the device's, e.g. IoT) and precision "
                                  "(e.g. [\"w8a8\"]) restrict the pairs and precisions.")
    async def effects(self, info: Info, runtime: str | None = None, form_factor: str | None = None,
                      precision: list[str] | None = None) -> MeasuredEffects:
        found = await info.context.run(me.measured_effects, info.context.store, runtime, form_factor, precision)
        return MeasuredEffects(baseline=me.FLOAT, pairing=list(me.PAIRING), effects=[PrecisionEffect.of(e) for e in found])
