"""The heterogeneous GNN: a relational encoder of the knowledge graph and a configuration read-out.

Architecture (PyG idioms, pure PyTorch paths only — no torch-scatter/torch-sparse needed):

* per node type, a linear projection of the (standardized) attribute features to ``hidden``;
* ``layers`` rounds of :class:`torch_geometric.nn.HeteroConv` with one :class:`SAGEConv` per relation
  (and its reverse), summed over relations, with a residual connection, ReLU and dropout;
* the *configuration read-out*: a model node (a DLN with techniques on a device) is represented from its
  neighbours only — ``[h_dln, h_device, mean h_technique, mean h_framework, mean h_cloud]`` — one
  relational aggregation step written out so that a configuration that is not in the graph (a
  proposal, a held-out model, a device never measured) is embedded exactly like a stored one;
* an MLP head with 3 regression outputs (standardized ln latency, accuracy, ln energy) and one logit:
  the score of the link between the configuration and a high objective score (top quartile of the
  Eq.-1 score among the measured models of its DLN).

Uncertainty comes from a small deep ensemble (members differ in seed): the spread of the members'
predictions.
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor, nn

with warnings.catch_warnings():
    # torch-geometric calls torch.jit.script when imported, which this torch deprecates: a warning
    # about the two libraries, not about anything a user did, printed by every torch command otherwise.
    warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)
    from torch_geometric.nn import HeteroConv, SAGEConv

from gnn.export import FEATURE_DIMS, METRICS, NODE_TYPES, NUMERIC_COLUMNS, ExportedGraph
from gnn.prediction import multi_hot_rows

EdgeType = tuple[str, str, str]
N_OUTPUTS = len(METRICS) + 1  # the metrics and the high-score link logit
READOUT_PARTS = ("dln", "device", "technique", "framework", "cloud")
SET_PARTS = READOUT_PARTS[2:]  # read out as the mean over a set of nodes


@dataclass
class ModelConfig:
    """Hyper-parameters of one training run (saved with the checkpoint)."""

    hidden: int = 64
    layers: int = 2
    dropout: float = 0.1
    members: int = 5
    epochs: int = 300
    lr: float = 5e-3
    weight_decay: float = 1e-4
    link_weight: float = 0.2
    # Share of training devices whose models are hidden from message passing in each epoch, so the
    # network learns to predict for devices with no measured neighbours (cold start, held-out devices).
    cold_start_rate: float = 0.3
    # Share of training rows whose measured targets are message-passing inputs in an epoch (the label
    # trick); the loss is computed on the others. 0 disables the label trick.
    label_input_rate: float = 0.5
    # Share of training devices held out per member for early stopping (0 = train all epochs, keep the last).
    val_share: float = 0.0
    seed: int = 0

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass
class CandidateBatch:
    """Configurations to score, as row indices into the exported graph.

    ``techniques``/``frameworks``/``clouds`` are dense multi-hot matrices with one extra leading column
    (column ``j + 1`` is node ``j``; column 0 is never set) so that a table with no nodes still has a
    shape ONNX can carry.
    """

    dln: Tensor
    device: Tensor
    techniques: Tensor
    frameworks: Tensor
    clouds: Tensor
    sparse_means: tuple[Tensor, Tensor, Tensor] | None = None

    def __len__(self) -> int:
        return int(self.dln.shape[0])

    def subset(self, rows: np.ndarray | Tensor) -> CandidateBatch:
        rows = torch.as_tensor(rows, dtype=torch.long)
        return CandidateBatch(self.dln[rows], self.device[rows], self.techniques[rows], self.frameworks[rows],
                              self.clouds[rows])

    def means(self) -> tuple[Tensor, Tensor, Tensor]:
        """The technique, framework and cloud :func:`mean_operator` matrices of the batch."""
        if self.sparse_means is not None:
            return self.sparse_means
        return mean_operator(self.techniques), mean_operator(self.frameworks), mean_operator(self.clouds)

    def to(self, device: torch.device, sparse_means: bool = False) -> CandidateBatch:
        """The batch on ``device``; with ``sparse_means`` its mean operators are computed once, as sparse
        matrices (training passes over one batch hundreds of times, and most of each row is empty)."""
        moved = CandidateBatch(*(t.to(device) for t in (self.dln, self.device, self.techniques, self.frameworks, self.clouds)))
        if sparse_means:
            moved.sparse_means = tuple(m.to_sparse().coalesce() for m in moved.means())
        return moved


def multi_hot(sets: list[list[int]], width: int) -> Tensor:
    """Dense multi-hot rows (with the leading padding column, see :class:`CandidateBatch`)."""
    return torch.from_numpy(multi_hot_rows(sets, width))


def model_batch(graph: ExportedGraph, rows: np.ndarray | None = None) -> CandidateBatch:
    """The configurations of the graph's stored models (all, or ``rows``)."""
    idx = np.arange(graph.count("model")) if rows is None else np.asarray(rows)
    return CandidateBatch(
        dln=torch.as_tensor(graph.model_dln[idx], dtype=torch.long),
        device=torch.as_tensor(graph.model_device[idx], dtype=torch.long),
        techniques=multi_hot([graph.model_techniques[i] for i in idx], graph.count("technique")),
        frameworks=multi_hot([graph.model_frameworks[i] for i in idx], graph.count("framework")),
        clouds=multi_hot([graph.model_clouds[i] for i in idx], graph.count("cloud")),
    )


class FeatureScaler:
    """Per node type, per numeric column z-scoring with statistics fixed at training time (zero-variance
    columns are only centred; token-bag columns are left as they are), so prediction on a grown graph
    uses the training scale."""

    def __init__(self, mean: dict[str, Tensor], std: dict[str, Tensor]) -> None:
        self.mean, self.std = mean, std

    @classmethod
    def fit(cls, graph: ExportedGraph) -> FeatureScaler:
        mean, std = {}, {}
        for t in NODE_TYPES:
            x = graph.data[t].x
            if x.shape[0] == 0:
                mean[t], std[t] = torch.zeros(FEATURE_DIMS[t]), torch.ones(FEATURE_DIMS[t])
                continue
            numeric = torch.zeros(FEATURE_DIMS[t], dtype=torch.bool)
            numeric[: NUMERIC_COLUMNS[t]] = True
            s = x.std(0, unbiased=False)
            mean[t] = torch.where(numeric, x.mean(0), torch.zeros_like(s))
            std[t] = torch.where(numeric & (s > 1e-6), s, torch.ones_like(s))
        return cls(mean, std)

    def transform(self, graph: ExportedGraph) -> dict[str, Tensor]:
        return {t: (graph.data[t].x - self.mean[t]) / self.std[t] for t in NODE_TYPES}

    def state(self) -> dict[str, dict[str, Tensor]]:
        return {"mean": self.mean, "std": self.std}


class HeteroEncoder(nn.Module):
    """Projections per node type and ``layers`` HeteroConv(SAGEConv) rounds over ``edge_types``."""

    def __init__(self, edge_types: list[EdgeType], hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.edge_types = list(edge_types)
        self.project = nn.ModuleDict({t: nn.Linear(FEATURE_DIMS[t], hidden) for t in NODE_TYPES})
        self.convs = nn.ModuleList(
            HeteroConv({et: SAGEConv((hidden, hidden), hidden) for et in self.edge_types}, aggr="sum")
            for _ in range(layers))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: dict[str, Tensor], edges: dict[EdgeType, Tensor]) -> dict[str, Tensor]:
        """The jumping-knowledge state of every node of the read-out's types (:data:`READOUT_PARTS`).

        Model nodes only carry messages: the read-out never reads them, so the last round sends them
        none (those relations are a third of the work) and they get no output."""
        h = {t: torch.relu(self.project[t](x[t])) for t in NODE_TYPES}
        layers = [h]
        # HeteroConv skips relations without edges; node types it did not reach keep their state.
        present = {et: ei for et, ei in edges.items() if et in self.edge_types and ei.shape[1] > 0}
        for i, conv in enumerate(self.convs):
            last = i == len(self.convs) - 1
            used = {et: ei for et, ei in present.items() if not (last and et[2] == "model")}
            out = conv(h, used) if used else {}
            h = {t: self.dropout(torch.relu(h[t] + out[t])) if t in out else h[t] for t in NODE_TYPES}
            layers.append(h)
        # Jumping knowledge (concatenation of every layer's state): a node's own attributes reach the
        # read-out undiluted by its neighbourhood, which matters for devices never measured.
        return {t: torch.cat([hl[t] for hl in layers], dim=1) for t in READOUT_PARTS}


def readout_tables(h: dict[str, Tensor]) -> dict[str, Tensor]:
    """Embedding tables for the read-out; set-valued parts get a zero padding row 0."""
    out = {"dln": h["dln"], "device": h["device"]}
    for t in SET_PARTS:
        out[t] = torch.cat([torch.zeros((1, h[t].shape[1]), dtype=h[t].dtype), h[t]], dim=0)
    return out


def readout(tables: dict[str, Tensor], dln: Tensor, device: Tensor, techniques: Tensor, frameworks: Tensor,
            clouds: Tensor) -> Tensor:
    """The configuration embedding ``[h_dln, h_device, mean h_tech, mean h_fw, mean h_cloud]``: what the
    head reads, by definition. Training and scoring compute the head's first layer over it without
    building it (:func:`first_layer`); the tests check that the two agree."""
    parts = [tables["dln"][dln], tables["device"][device]]
    for mh, t in zip((techniques, frameworks, clouds), SET_PARTS):
        parts.append(mean_operator(mh) @ tables[t])
    return torch.cat(parts, dim=1)


def mean_operator(multi_hot_rows: Tensor) -> Tensor:
    """Row ``i`` averages the table rows set in multi-hot row ``i`` (all zeros for an empty set)."""
    return multi_hot_rows / multi_hot_rows.sum(dim=1, keepdim=True).clamp(min=1.0)


def project_parts(tables: dict[str, Tensor], first: Tensor) -> dict[str, Tensor]:
    """Each read-out part's table through its column block of the head's first layer (weight ``first``).

    The first head layer is linear in the concatenated read-out, and a mean of rows commutes with a
    linear map, so ``first · readout(...)`` equals :func:`first_layer` over these projections: the
    960-wide read-out of every configuration is never built. Training and the ONNX scorer both use it."""
    width = tables["dln"].shape[1]
    return {part: tables[part] @ first[:, j * width:(j + 1) * width].t() for j, part in enumerate(READOUT_PARTS)}


def first_layer(projected: dict[str, Tensor], bias: Tensor, dln: Tensor, device: Tensor,
                means: tuple[Tensor, Tensor, Tensor]) -> Tensor:
    """The head's first linear layer (before its activation) for configurations, from
    :func:`project_parts`; ``means`` are the technique, framework and cloud :func:`mean_operator`
    matrices (dense, or sparse COO in training, where the cloud column is almost always empty)."""
    h = projected["dln"][dln] + projected["device"][device] + bias
    for op, part in zip(means, SET_PARTS):
        h = h + (torch.sparse.mm(op, projected[part]) if op.is_sparse else op @ projected[part])
    return h


class ConfigurationHead(nn.Module):
    """MLP from a configuration embedding to the metric outputs and the high-score link logit."""

    def __init__(self, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(len(READOUT_PARTS) * hidden * (layers + 1), hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, N_OUTPUTS))

    def forward(self, z: Tensor) -> Tensor:
        return self.mlp(z)

    def from_tables(self, tables: dict[str, Tensor], dln: Tensor, device: Tensor,
                    means: tuple[Tensor, Tensor, Tensor]) -> Tensor:
        """``forward(readout(...))``, computed through :func:`first_layer` (same weights, same values)."""
        first = self.mlp[0]
        h = first_layer(project_parts(tables, first.weight), first.bias, dln, device, means)
        return self.mlp[1:](h)


class MemberNet(nn.Module):
    """One ensemble member: encoder + read-out + head."""

    def __init__(self, edge_types: list[EdgeType], config: ModelConfig) -> None:
        super().__init__()
        self.encoder = HeteroEncoder(edge_types, config.hidden, config.layers, config.dropout)
        self.head = ConfigurationHead(config.hidden, config.layers, config.dropout)

    def forward(self, x: dict[str, Tensor], edges: dict[EdgeType, Tensor], batch: CandidateBatch) -> Tensor:
        return self.head.from_tables(readout_tables(self.encoder(x, edges)), batch.dln, batch.device, batch.means())
