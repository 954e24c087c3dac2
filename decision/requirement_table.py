"""What each requirement means, in one table: :data:`REQUIREMENTS`, one :class:`Requirement` row per field.

A row gives a requirement's dotted path (``performance.max_latency_ms``), its type and unit, its
comparison (:class:`Comparison`: at least, at most, the same text, contains the text, ...), the graph
property it constrains (and the query variable that holds it), the CLI option that states it, and
what a model must record for it to be checked. Everything else is derived from the rows:

* :mod:`decision.requirements` — the pydantic fields (description, bounds), ``PREFERRABLE_FIELDS``;
* :mod:`decision.retrieval` — the triple pattern and the SPARQL condition of each constraint
  (:meth:`Requirement.sparql_condition`) and the value bound into it (:meth:`Requirement.parameter`);
* :mod:`decision.checks` — the Python check of a candidate (:meth:`Requirement.check`);
* :mod:`decision.applicability` — what a candidate must record (``needs``, ``how``);
* ``dlom recommend`` — its options (``option``, ``help``) and the paths they set;
* the web UI's wizard — which fields each step asks, their kind, bounds, unit and 'rank only'
  (:meth:`Requirement.to_dict`, served as ``/ui/js/requirement-table.js`` by :mod:`api.ui`).

Text is compared one way on both sides: :func:`normalized_text` (lower case, surrounding blanks
removed) in Python and :func:`sparql_normalized_text`, the same in SPARQL; names of networks by
:func:`normalized_name` / :func:`sparql_normalized_name` ('ResNet-50' = 'resnet50'). The SPARQL text
here is constant: a user's value only ever enters a query as a bound term (``?p_<var>``).

Standard library only: ``dlom`` builds its options from this table when any command starts.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# The blanks normalisation removes: the same characters in the Python pattern and the SPARQL one.
_BLANKS = " \t\n\r"
_EDGE_BLANKS = re.compile(f"^[{_BLANKS}]+|[{_BLANKS}]+$")
_NAME_NOISE = re.compile(f"[-_{_BLANKS}]")
# the same classes written as SPARQL string literals (\t, \n, \r reach the regular expression escaped)
_SPARQL_EDGE_BLANKS = '"^[ \\\\t\\\\n\\\\r]+|[ \\\\t\\\\n\\\\r]+$"'
_SPARQL_NAME_NOISE = '"[-_ \\\\t\\\\n\\\\r]"'


def normalized_text(text: str) -> str:
    """How text requirements compare: lower case, without surrounding blanks (' Medical ' = 'medical')."""
    return _EDGE_BLANKS.sub("", text.lower())


def normalized_name(text: str) -> str:
    """How network names compare: lower case without '-', '_' or blanks ('ResNet-50' = 'resnet50')."""
    return _NAME_NOISE.sub("", text.lower())


def sparql_normalized_text(expression: str) -> str:
    """:func:`normalized_text` of a SPARQL expression (constant text in, constant text out)."""
    return f"REPLACE(LCASE(STR({expression})), {_SPARQL_EDGE_BLANKS}, \"\")"


def sparql_normalized_name(expression: str) -> str:
    """:func:`normalized_name` of a SPARQL expression."""
    return f"REPLACE(LCASE(STR({expression})), {_SPARQL_NAME_NOISE}, \"\")"


class Comparison(Enum):
    """How a candidate's value is compared with the required one."""

    MIN = "min"  # at least the required number
    MAX = "max"  # at most the required number
    EQUALS_TEXT = "equals-text"  # the same text (normalized_text)
    CONTAINS_TEXT = "contains-text"  # contains the required text (normalized_text); any of several values
    EQUALS_NAME = "equals-name"  # the same name (normalized_name)
    REQUIRED_FLAG = "required-flag"  # True: the candidate's flag must be true; False: no constraint
    CONTAINS_ANY = "contains-any"  # one of the candidate's texts contains one of the required texts
    SCOPE = "scope"  # shapes the search, constrains no attribute (never in Requirements.stated())


_TEXT_COMPARISONS = (Comparison.EQUALS_TEXT, Comparison.CONTAINS_TEXT, Comparison.EQUALS_NAME,
                     Comparison.CONTAINS_ANY)

ADD_DATA = ("add it to the records with `dlom import records` or `dlom import tags` (docs/record-format.md), "
            "or a validated SPARQL update")
ADD_PRICES = ("add prices via `dlom import records` (device_price, total_cost, cost_per_device) or "
              "`dlom import tags` (Price, Total_Cost, Cost_per_Device), or a validated SPARQL update of "
              "dlom:priceUsd / dlom:totalCostUsd")
_MEASURE = "measure it (`dlom bench run`) or import measurements"


@dataclass(frozen=True)
class Requirement:
    """One requirement field and everything its semantics need.

    ``var`` is the query variable the constraint tests, holding ``predicate`` of ``node`` (the query's
    ?m model, ?dln network, ?dev device, ?cloud configuration or ?perf performance record); ``column``
    is the variable compared when it differs (the budget compares the projected cost). Rows whose
    check needs more than one triple (device types, framework) give their SPARQL ``pattern`` instead:
    a constant FILTER expression over ``?p_<var>``. ``attribute`` is where the Python check finds the
    candidate's value on :class:`decision.retrieval.Candidate`; for a performance property, the mean of
    that metric over the candidate's records.
    """

    path: str
    type: Any  # the Python type of a stated value: float, int, str, bool or list[str]
    comparison: Comparison
    description: str
    unit: str = ""
    node: str | None = None
    predicate: str | None = None
    var: str | None = None
    column: str | None = None
    pattern: str | None = None
    attribute: str | None = None
    reported: str | None = None  # the Candidate attribute an explanation shows instead (device names)
    option: str | None = None  # the dlom recommend option; None: no option
    help: str = ""
    bounds: dict[str, Any] = field(default_factory=dict)  # pydantic Field bounds (ge, gt, min_length, ...)
    default: Any = None
    needs: str = "a value"  # what a candidate must record for the requirement to be checked
    how: str = ADD_DATA  # how to add that data

    @property
    def section(self) -> str:
        return self.path.split(".")[0]

    @property
    def name(self) -> str:
        return self.path.split(".")[1]

    @property
    def tested(self) -> str | None:
        """The query variable whose value the SPARQL condition tests (NaN/None: unknown)."""
        return self.column or self.var

    @property
    def triple(self) -> str | None:
        """The triple pattern binding ``var`` (None for a row with its own ``pattern``)."""
        if self.predicate is None:
            return None
        return f"?{self.node} {self.predicate} ?{self.var} ."

    @property
    def constrains(self) -> bool:
        """True for a constraint on an attribute (False for the scope fields)."""
        return self.comparison is not Comparison.SCOPE

    @property
    def is_column(self) -> bool:
        """True when the candidate query fetches the tested value as a column."""
        return self.constrains and self.var is not None and self.pattern is None

    def to_dict(self) -> dict[str, Any]:
        """The row as plain data for clients (the web UI's wizard builds its fields from these)."""
        kind = {str: "text", float: "number", int: "integer", bool: "flag"}.get(self.type, "texts")
        out: dict[str, Any] = {"field": self.path, "section": self.section, "name": self.name, "type": kind,
                               "unit": self.unit.strip(), "comparison": self.comparison.value,
                               "description": self.description, "preferrable": self.constrains}
        for bound, key in (("ge", "minimum"), ("gt", "exclusive_minimum"), ("le", "maximum"),
                           ("max_length", "max_length")):
            if bound in self.bounds:
                out[key] = self.bounds[bound]
        return out

    def states_constraint(self, value: Any) -> bool:
        """Whether a stated ``value`` constrains anything ('shielded execution: not required' does not)."""
        return self.constrains and not (self.comparison is Comparison.REQUIRED_FLAG and value is False)

    def sparql_condition(self) -> str:
        """The constant SPARQL condition over the bound parameter ``?p_<var>``."""
        if self.pattern is not None:
            return self.pattern
        return _SEMANTICS[self.comparison][0](f"?{self.tested}", f"?p_{self.var}")

    def parameter(self, value: Any) -> Any:
        """The plain value bound as ``?p_<var>`` (text normalized the way the query compares it); for
        :attr:`Comparison.CONTAINS_ANY`, the list of values (bound as VALUES rows)."""
        c = self.comparison
        if c is Comparison.EQUALS_NAME:
            return normalized_name(str(value))
        if c is Comparison.CONTAINS_ANY:
            return [normalized_text(str(v)) for v in value]
        if c in _TEXT_COMPARISONS:
            return normalized_text(str(value))
        if c is Comparison.REQUIRED_FLAG:
            return bool(value)
        return value

    def matches(self, actual: Any, required: Any) -> bool | None:
        """Whether a known ``actual`` value meets ``required`` (None: ``actual`` is unknown). A text
        row's ``actual`` may be several texts (a model's frameworks, its devices' descriptions): one
        meeting it is enough."""
        if actual is None or (isinstance(actual, list | tuple | set | frozenset) and not actual):
            return None
        test = _SEMANTICS[self.comparison][1]
        want = self.parameter(required)
        if self.comparison not in _TEXT_COMPARISONS:
            return test(actual, want)
        return any(test(t, want) for t in ([actual] if isinstance(actual, str) else actual))

    def matches_column(self, values: Any, required: Any) -> Any:
        """:meth:`matches` over a numeric column at once (a numpy array, NaN unknown): a boolean array,
        False where the value is unknown. Only for MIN, MAX and REQUIRED_FLAG rows; text rows test each
        distinct text with :meth:`matches`."""
        vector = _VECTOR.get(self.comparison)
        if vector is None:
            raise ValueError(f"{self.path}: a {self.comparison.value} requirement has no numeric column test")
        return vector(values, self.parameter(required))

    def check(self, actual: Any, required: Any) -> tuple[str, float | None]:
        """('met' | 'missed' | 'unknown', margin): for a numeric limit the margin is how far inside the
        limit ``actual`` is, in the requirement's unit (positive = inside)."""
        ok = self.matches(actual, required)
        if ok is None:
            return "unknown", None
        margin = None
        if self.comparison is Comparison.MIN:
            margin = float(actual) - float(required)
        elif self.comparison is Comparison.MAX:
            margin = float(required) - float(actual)
        return ("met" if ok else "missed"), margin


# Each comparison in SPARQL (over the tested variable x and the bound parameter p, both query-internal
# names) and in Python (over one known value and the parameter, normalized as Requirement.parameter
# does): the two sides of every requirement, next to each other.
_SEMANTICS: dict[Comparison, tuple[Callable[[str, str], str], Callable[[Any, Any], bool]]] = {
    Comparison.MIN: (lambda x, p: f"{x} >= {p}", lambda a, w: float(a) >= float(w)),
    Comparison.MAX: (lambda x, p: f"{x} <= {p}", lambda a, w: float(a) <= float(w)),
    Comparison.REQUIRED_FLAG: (lambda x, p: f"{x} = {p}", lambda a, w: bool(a) or not w),
    Comparison.EQUALS_TEXT: (lambda x, p: f"{sparql_normalized_text(x)} = {p}", lambda t, w: normalized_text(t) == w),
    Comparison.CONTAINS_TEXT: (lambda x, p: f"CONTAINS({sparql_normalized_text(x)}, {p})",
                               lambda t, w: w in normalized_text(t)),
    Comparison.EQUALS_NAME: (lambda x, p: f"{sparql_normalized_name(x)} = {p}", lambda t, w: normalized_name(t) == w),
    # several required texts: bound as VALUES rows of p, any one contained (the row's own pattern)
    Comparison.CONTAINS_ANY: (lambda x, p: f"CONTAINS({sparql_normalized_text(x)}, {p})",
                              lambda t, w: any(v in normalized_text(t) for v in w)),
}

# The numeric comparisons over whole columns (array operators, NaN compares false): the same tests as
# the Python side above, for the facet index (decision.facet_index) and the soft-requirement counts.
_VECTOR: dict[Comparison, Callable[[Any, Any], Any]] = {
    Comparison.MIN: lambda a, w: a >= float(w),
    Comparison.MAX: lambda a, w: a <= float(w),
    Comparison.REQUIRED_FLAG: lambda a, w: (a == 1.0) | (not w),
}


def device_description(label: str | None, board: str | None, processor: str | None,
                       accelerator: str | None) -> str:
    """A device's name, board, processor and accelerator as one text, as the device-types filter
    searches it (the SPARQL of ``project.device_types`` builds the same text)."""
    return " ".join(normalized_text(t or "") for t in (label, board, processor, accelerator))


DEVICE_DESCRIPTION: tuple[tuple[str, str], ...] = (("devLabel", "rdfs:label"), ("devBoard", "dlom:board"),
                                                     ("devCpu", "dlom:processor"), ("devAcc", "dlom:accelerator"))
"""The device's properties the device-types filter searches, in :func:`device_description`'s order
(its query variable, the property)."""
FRAMEWORK_PROPERTY = "dlom:usesFramework"
"""What links a model or its device to a framework (whose rdfs:label and dlom:frameworkFamily the framework filter
searches)."""

_DEVICE_TEXT = ", \" \", ".join(sparql_normalized_text(f'COALESCE(?{v}, "")') for v, _ in DEVICE_DESCRIPTION)
# %s: the VALUES rows of the wanted types (?p_type), bound by the retrieval
_DEVICE_TYPES = ("EXISTS { " + " ".join(f"OPTIONAL {{ ?dev {p} ?{v} }}" for v, p in DEVICE_DESCRIPTION) + " %s "
                 f"FILTER(CONTAINS(CONCAT({_DEVICE_TEXT}), ?p_type)) }}")
_FRAMEWORK = (f"EXISTS {{ {{ ?m {FRAMEWORK_PROPERTY} ?fw }} UNION {{ ?dev {FRAMEWORK_PROPERTY} ?fw }} "
              f"?fw rdfs:label|dlom:frameworkFamily ?fwLabel "
              f"FILTER(CONTAINS({sparql_normalized_text('?fwLabel')}, ?p_fw)) }}")
# a model recording no framework at all: its framework is unknown
ANY_FRAMEWORK = f"EXISTS {{ {{ ?m {FRAMEWORK_PROPERTY} ?fw0 }} UNION {{ ?dev {FRAMEWORK_PROPERTY} ?fw0 }} }}"

_TEXT = {"min_length": 1, "max_length": 200}

REQUIREMENTS: tuple[Requirement, ...] = (
    # Step 1 — the project (Fig. 7a)
    Requirement("project.business_focus", str, Comparison.EQUALS_TEXT,
                "Application area, e.g. 'Medical' (matched case-insensitively against dlom:applicationArea).",
                node="m", predicate="dlom:applicationArea", var="area", attribute="application_area",
                option="--business-focus", help="Application area, e.g. Medical.", bounds=_TEXT,
                needs="an application area (field)"),
    Requirement("project.purpose", str, Comparison.CONTAINS_TEXT,
                "The task, e.g. 'keyword spotting' (case-insensitive substring of dlom:purpose).",
                node="m", predicate="dlom:purpose", var="purpose", attribute="purpose", needs="a purpose",
                option="--purpose", help="Task, e.g. 'keyword spotting'.", bounds=_TEXT),
    Requirement("project.total_budget_usd", float, Comparison.MAX,
                "The most the deployment may cost in total, USD.", unit=" USD",
                node="m", predicate="dlom:totalCostUsd", var="cost", column="projCost", attribute="projected_cost_usd",
                option="--budget", help="Total budget, USD.", bounds={"ge": 0},
                needs="a price (a total cost, or a price of its device)", how=ADD_PRICES),
    Requirement("project.number_of_devices", int, Comparison.SCOPE,
                "How many IoT devices the deployment needs.", unit=" devices",
                option="--devices", help="Number of IoT devices.", bounds={"ge": 1}),
    Requirement("project.device_types", list[str], Comparison.CONTAINS_ANY,
                "Acceptable IoT device types, e.g. ['Raspberry Pi']; a model matches if its device's name, "
                "board, processor or accelerator contains one (case-insensitive).",
                node="dev", var="type", pattern=_DEVICE_TYPES, attribute="device_descriptions",
                reported="devices",
                option="--device-type", help="Acceptable device type (repeatable).",
                needs="a device name, board, processor or accelerator"),
    # Step 2 — the main DLN (Fig. 7b)
    Requirement("network.network", str, Comparison.EQUALS_NAME,
                "DLN name, e.g. 'ResNet-50' (case-insensitive; '-', '_' and spaces ignored).",
                node="dln", predicate="rdfs:label", var="dlnLabel", attribute="dln_label",
                option="--network", help="Main DLN, e.g. ResNet-50.", bounds=_TEXT, needs="a DLN name"),
    Requirement("network.training_dataset", str, Comparison.EQUALS_TEXT, "Training dataset (case-insensitive).",
                node="dln", predicate="dlom:trainingDataset", var="dataset", attribute="training_dataset",
                option="--dataset", help="Training dataset.", bounds=_TEXT, needs="a training dataset"),
    Requirement("network.min_layers", int, Comparison.MIN, "At least this many layers with weights.",
                unit=" layers", node="dln", predicate="dlom:numberOfLayers", var="layers", attribute="layers",
                option="--min-layers", help="Minimum number of layers.", bounds={"ge": 1},
                needs="a number of layers"),
    # Step 3 — the cloud server
    Requirement("cloud.server_hardware", str, Comparison.CONTAINS_TEXT, "Server hardware (case-insensitive substring).",
                node="cloud", predicate="dlom:serverHardware", var="hw", attribute="server_hardware",
                option="--server-hardware", help="Cloud server hardware.", bounds=_TEXT,
                needs="a cloud server's hardware"),
    Requirement("cloud.shielded_execution", bool, Comparison.REQUIRED_FLAG,
                "True: the model's cloud configuration must use shielded execution.",
                node="cloud", predicate="dlom:shieldedExecution", var="shielded", attribute="shielded_execution",
                option="--shielded/--no-shielded-required", help="Require shielded execution.",
                needs="whether its cloud uses shielded execution"),
    Requirement("cloud.max_monthly_cost_usd", float, Comparison.MAX, "Highest acceptable monthly cloud cost, USD.",
                unit=" USD", node="cloud", predicate="dlom:monthlyCostUsd", var="monthly", attribute="monthly_cost_usd",
                option="--max-monthly-cost", help="Max monthly cloud cost, USD.", bounds={"ge": 0},
                needs="a monthly cloud cost", how=ADD_PRICES),
    # Step 4 — the end-device specifications
    Requirement("device.min_memory_kb", float, Comparison.MIN, "Device memory of at least this many KB.",
                unit=" KB", node="dev", predicate="dlom:memoryKB", var="mem", attribute="memory_kb",
                option="--min-memory-kb", help="Minimum device memory, KB.", bounds={"gt": 0},
                needs="its device's memory"),
    Requirement("device.min_clock_mhz", float, Comparison.MIN, "Processor clock of at least this many MHz.",
                unit=" MHz", node="dev", predicate="dlom:clockFrequencyMHz", var="clock", attribute="clock_mhz",
                option="--min-clock-mhz", help="Minimum device clock, MHz.", bounds={"gt": 0},
                needs="its device's clock frequency"),
    Requirement("device.framework", str, Comparison.CONTAINS_TEXT,
                "Inference framework (case-insensitive substring of its name).",
                node="dev", var="fw", pattern=_FRAMEWORK, attribute="frameworks",
                option="--framework", help="Inference framework.", bounds=_TEXT, needs="an inference framework"),
    Requirement("device.form_factor", str, Comparison.EQUALS_TEXT,
                "Device form factor as its source files it, e.g. IoT, Phone, Auto, XR, Compute (case-insensitive).",
                node="dev", predicate="dlom:formFactor", var="formFactor", attribute="form_factors",
                option="--form-factor", help="Device form factor, e.g. IoT.", bounds=_TEXT,
                needs="its device's form factor"),
    Requirement("device.this_machine", bool, Comparison.SCOPE,
                "True: deploy on 'this machine' — only models measured on a dlom:BenchmarkHost (a machine DLOM "
                "itself measures on). False (the default): benchmark hosts are not IoT devices and their models "
                "are not offered.", default=False),
    # Step 5 — the minimum accepted performance (measured, not predicted)
    Requirement("performance.min_accuracy", float, Comparison.MIN, "Accuracy as a fraction in [0, 1].",
                node="perf", predicate="dlom:accuracy", var="acc", option="--min-accuracy",
                help="Minimum accuracy (0-1).", needs="a measured accuracy", how=_MEASURE),
    Requirement("performance.max_accuracy_loss_points", float, Comparison.MAX,
                "At most this many percentage points of accuracy (a metric published in %, e.g. top-1) lost "
                "against the unoptimized float network on the same samples (dlom:accuracyLossPoints): what the "
                "model's precision and runtime cost, measured on a device for the same network, precision, "
                "runtime and release — for AI Hub Models on the one device it publishes accuracy for.",
                unit=" points", node="m", predicate="dlom:accuracyLossPoints", var="accLoss",
                attribute="accuracy_loss_points",
                option="--max-accuracy-loss", help="Maximum accuracy lost against float, percentage points.",
                bounds={"ge": 0}, needs="a measured accuracy beside its float reference",
                how="import on-device accuracy with its float reference (`dlom import qai-hub-models`)"),
    Requirement("performance.max_latency_ms", float, Comparison.MAX, "Highest acceptable inference latency, ms.",
                unit=" ms", node="perf", predicate="dlom:inferenceLatencyMs", var="lat", option="--max-latency-ms",
                help="Maximum inference latency, ms.", bounds={"gt": 0}, needs="a measured latency", how=_MEASURE),
    Requirement("performance.max_energy_uj", float, Comparison.MAX, "Highest acceptable energy per inference, µJ.",
                unit=" uJ", node="perf", predicate="dlom:energyPerInferenceUj", var="energy",
                option="--max-energy-uj", help="Maximum energy per inference, uJ.", bounds={"gt": 0},
                needs="a measured energy per inference",
                how="measure it where the host exposes energy, or import measurements"),
    Requirement("performance.min_throughput_ips", float, Comparison.MIN, "Lowest acceptable throughput, inferences/s.",
                unit=" inferences/s", node="perf", predicate="dlom:throughputIps", var="tput",
                option="--min-throughput", help="Minimum throughput, inferences/s.", bounds={"gt": 0},
                needs="a measured throughput", how=_MEASURE),
    Requirement("performance.max_memory_mb", float, Comparison.MAX, "Highest acceptable runtime memory, MB.",
                unit=" MB", node="perf", predicate="dlom:memoryMb", var="memMb", option="--max-memory-mb",
                help="Maximum runtime memory, MB.", bounds={"gt": 0}, needs="a measured runtime memory", how=_MEASURE),
)

BY_PATH: dict[str, Requirement] = {r.path: r for r in REQUIREMENTS}
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(r.section for r in REQUIREMENTS))


def section_rows(section: str) -> Sequence[Requirement]:
    return [r for r in REQUIREMENTS if r.section == section]


def metric_name(row: Requirement) -> str | None:
    """The performance metric (an ontology property's local name) a performance row checks."""
    return row.predicate.split(":", 1)[1] if row.node == "perf" and row.predicate else None
