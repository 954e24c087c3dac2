"""Training of the GNN ensemble and the trained predictor (save, load, predict).

Training is full-batch (the graph has hundreds of nodes), with masked losses: a model contributes to a
metric's loss only where that metric was measured. Targets are standardized with the *training* rows'
statistics. Each ensemble member starts from its own seed; the members' spread is the uncertainty.
"""
from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from decision.objectives import Objective, objective_matrix
from decision.scoring import overall_scores
from gnn.errors import EmptyGraphError, NoTrainedModelError
from gnn.export import METRICS, ExportedGraph, message_edges
from gnn.model import CandidateBatch, EdgeType, FeatureScaler, MemberNet, ModelConfig, model_batch, readout_tables
from gnn.prediction import Prediction, configuration_columns, mask_untrained  # torch-free; re-exported
from kg.progress import NoProgress, Progress

CODE_VERSION = "1.0"


def inject_labels(x_model: Tensor, y_std: Tensor, known: Tensor, input_rows: Tensor) -> Tensor:
    """The label trick (Shi et al., 2021, "Masked label prediction"): model-node features carrying the
    standardized measured targets of ``input_rows`` (and known-flags), so message passing can spread
    measured performance to DLNs, devices, techniques and frameworks. The rows a loss is computed on
    never see their own labels (training splits the rows each epoch), and held-out rows never do.

    ``x_model`` [M, 1 + 2k]; ``y_std``/``known`` [M, k] (zeros/False where unmeasured)."""
    k = y_std.shape[1]
    x = x_model.clone()
    sel = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    sel[input_rows] = True
    mask = known & sel[:, None]
    x[:, 1 : 1 + k] = torch.where(mask, y_std, torch.zeros_like(y_std))
    x[:, 1 + k : 1 + 2 * k] = mask.float()
    return x


def standardized_targets(graph: ExportedGraph, mean: np.ndarray, std: np.ndarray) -> tuple[Tensor, Tensor]:
    """All models' targets z-scored with the training statistics (0 where unmeasured) and the known-mask."""
    y = torch.tensor((graph.targets - mean) / std, dtype=torch.float32)
    known = ~torch.isnan(y)
    return torch.nan_to_num(y), known


def compute_device() -> torch.device:
    """The GPU when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def high_score_labels(graph: ExportedGraph, rows: np.ndarray) -> np.ndarray:
    """1.0 where a measured model's Eq.-1 score (equal weights over the objectives; missing ones
    neutral) is in the top quartile of the measured models of the same DLN among ``rows``, 0.0
    otherwise, NaN where undefined (no measured latency, or fewer than 4 such models in the group)."""
    out = np.full(graph.count("model"), np.nan)
    rows = np.asarray(rows)
    by_dln: dict[int, list[int]] = {}
    for i in rows:
        if not np.isnan(graph.targets[i, 0]):
            by_dln.setdefault(int(graph.model_dln[i]), []).append(int(i))
    weights = np.full(len(Objective), 1.0 / len(Objective))
    for members in by_dln.values():
        if len(members) < 4:
            continue
        columns = configuration_columns(graph, graph.model_dln[members], graph.model_device[members],
                                        [len(graph.model_techniques[i]) for i in members], graph.targets[members])
        scores = overall_scores(objective_matrix(columns).values, weights)
        cut = np.quantile(scores, 0.75)
        for i, s in zip(members, scores):
            out[i] = 1.0 if s >= cut - 1e-12 else 0.0
    return out


@dataclass
class Ensemble:
    """A trained ensemble with the scalers it was trained with."""

    members: list[MemberNet]
    scaler: FeatureScaler
    target_mean: np.ndarray
    target_std: np.ndarray
    config: ModelConfig
    edge_types: list[EdgeType]
    losses: list[list[float]] = field(default_factory=list)
    trained_on: dict[str, object] = field(default_factory=dict)
    # Per metric: whether any training row measured it. A metric nobody measured is not predicted
    # (NaN), rather than invented from an untrained output.
    metric_trained: list[bool] = field(default_factory=lambda: [True] * len(METRICS))
    _version: str | None = None

    @property
    def version(self) -> str:
        """``dlom-gnn-<code version>-<hash of the weights>``: changes whenever the weights do."""
        if self._version is None:
            h = hashlib.sha256()
            for m in self.members:
                for k, v in sorted(m.state_dict().items()):
                    h.update(k.encode())
                    h.update(v.detach().cpu().numpy().tobytes())
            self._version = f"dlom-gnn-{CODE_VERSION}-{h.hexdigest()[:10]}"
        return self._version

    @torch.no_grad()
    def tables(self, graph: ExportedGraph, keep_models: np.ndarray | None = None) -> list[dict[str, Tensor]]:
        """Per member, the read-out embedding tables of ``graph`` (eval mode, CPU). The measured targets
        of the labeled models in ``keep_models`` (default: all) are the label-trick inputs."""
        x = self.scaler.transform(graph)
        edges = message_edges(graph, keep_models)
        y_std, known = standardized_targets(graph, self.target_mean, self.target_std)
        keep = np.ones(graph.count("model"), dtype=bool) if keep_models is None else np.asarray(keep_models, dtype=bool)
        x["model"] = inject_labels(x["model"], y_std, known, torch.as_tensor(np.flatnonzero(keep & graph.labeled)))
        out = []
        for m in self.members:
            m.eval()
            m.cpu()
            out.append({k: v.detach() for k, v in readout_tables(m.encoder(x, edges)).items()})
        return out

    @torch.no_grad()
    def raw_outputs(self, tables: list[dict[str, Tensor]], batch: CandidateBatch) -> Tensor:
        """Stacked member outputs [members, N, 4] in standardized units (torch eager scoring)."""
        outs = []
        means = batch.means()  # the same for every member
        for m, tab in zip(self.members, tables):
            m.eval()
            outs.append(m.head.from_tables(tab, batch.dln, batch.device, means))
        return torch.stack(outs)

    def summarize(self, outputs: Tensor | np.ndarray) -> Prediction:
        """Ensemble mean/std in natural units from stacked standardized outputs."""
        o = outputs.detach().cpu().numpy() if isinstance(outputs, Tensor) else np.asarray(outputs)
        k = len(METRICS)
        metrics = o[:, :, :k] * self.target_std + self.target_mean
        prob = 1.0 / (1.0 + np.exp(-o[:, :, k]))
        return mask_untrained(Prediction(mean=metrics.mean(0), std=metrics.std(0), high_score=prob.mean(0)),
                              self.metric_trained)

    def predict(self, graph: ExportedGraph, batch: CandidateBatch,
                tables: list[dict[str, Tensor]] | None = None) -> Prediction:
        """Predict the configurations in ``batch`` (row indices into ``graph``)."""
        return self.summarize(self.raw_outputs(tables if tables is not None else self.tables(graph), batch))

    # -- persistence ---------------------------------------------------------------------------
    def round_to_half(self) -> None:
        """Round every weight to float16 precision (kept as float32), e.g. before shipping a compact
        checkpoint; the version is recomputed because the weights changed."""
        with torch.no_grad():
            for m in self.members:
                for p in m.parameters():
                    p.copy_(p.half().float())
        self._version = None

    def save(self, path: Path, half: bool = False) -> Path:
        """Write the checkpoint (weights, scalers, config, version) to ``path``; ``half`` stores the
        weights as float16 (half the size; call :meth:`round_to_half` first so that the saved and the
        in-memory predictor agree exactly)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "format": "dlom-gnn-checkpoint/1",
            "version": self.version,
            "config": self.config.to_dict(),
            "edge_types": [list(et) for et in self.edge_types],
            "members": [{k: (v.half() if half and v.is_floating_point() else v) for k, v in m.state_dict().items()}
                        for m in self.members],
            "scaler": self.scaler.state(),
            "target_mean": torch.tensor(self.target_mean),
            "target_std": torch.tensor(self.target_std),
            "losses": self.losses,
            "trained_on": self.trained_on,
            "metric_trained": list(self.metric_trained),
        }
        buf = io.BytesIO()
        torch.save(state, buf)
        path.write_bytes(buf.getvalue())
        # A scorer beside a checkpoint is served as the checkpoint's without loading it (no torch, see
        # gnn.predict): one exported from other weights would answer for these, so it goes.
        meta = path.with_suffix(".json")
        if meta.is_file() and json.loads(meta.read_text()).get("predictor_version") != self.version:
            path.with_suffix(".onnx").unlink(missing_ok=True)
            meta.unlink()
        return path

    @classmethod
    def load(cls, path: Path) -> Ensemble:
        """Read a checkpoint written by :meth:`save`; a missing file raises :class:`NoTrainedModelError`."""
        path = Path(path)
        if not path.is_file():
            raise NoTrainedModelError(f"no trained GNN at {path}: run 'dlom gnn train' first")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # a truncated or foreign file: say which, not a pickle traceback
            raise NoTrainedModelError(f"{path} is not a DLOM GNN checkpoint ({type(e).__name__}: {e})") from None
        if not isinstance(state, dict) or state.get("format") != "dlom-gnn-checkpoint/1":
            raise NoTrainedModelError(f"{path} is not a DLOM GNN checkpoint")
        config = ModelConfig(**state["config"])
        edge_types = [tuple(et) for et in state["edge_types"]]
        members = []
        for sd in state["members"]:
            m = MemberNet(edge_types, config)
            try:
                m.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()})
            except RuntimeError:
                raise NoTrainedModelError(f"{path} was trained by an incompatible version of the DLOM GNN: "
                                          "run 'dlom gnn train' again") from None
            m.eval()
            members.append(m)
        scaler = FeatureScaler(state["scaler"]["mean"], state["scaler"]["std"])
        ens = cls(members, scaler, state["target_mean"].numpy(), state["target_std"].numpy(), config, edge_types,
                  state.get("losses", []), state.get("trained_on", {}),
                  list(state.get("metric_trained", [True] * len(METRICS))))
        ens._version = state["version"]
        return ens


@dataclass
class _TrainingData:
    """What every member trains on, on the training device: the standardized targets of the training
    rows (``y`` with its ``mask`` of measured entries), their high-score labels (``link``), every
    model's standardized targets for the label trick (``y_all``, ``known_all``), the scaled node
    features ``x`` and the configuration ``batch`` of the training rows."""

    rows: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    y: Tensor
    mask: Tensor
    link: Tensor
    link_mask: Tensor
    y_all: Tensor
    known_all: Tensor
    rows_t: Tensor
    scaler: FeatureScaler
    x: dict[str, Tensor]
    batch: CandidateBatch


def _training_data(graph: ExportedGraph, rows: np.ndarray, device: torch.device) -> _TrainingData:
    """Standardize the targets of ``rows`` per metric (over the rows that measured it; a metric nobody
    measured keeps mean 0 / std 1) and move everything the members read to ``device``."""
    y_np = graph.targets[rows]
    mean, std = np.zeros(len(METRICS)), np.ones(len(METRICS))
    for k in range(len(METRICS)):
        col = y_np[:, k][~np.isnan(y_np[:, k])]
        if col.size:
            mean[k] = col.mean()
            std[k] = col.std() if col.std() > 1e-6 else 1.0
    y = torch.tensor((y_np - mean) / std, dtype=torch.float32)
    mask = ~torch.isnan(y)
    y_all, known_all = standardized_targets(graph, mean, std)
    link = torch.tensor(high_score_labels(graph, rows)[rows], dtype=torch.float32)
    link_mask = ~torch.isnan(link)
    scaler = FeatureScaler.fit(graph)
    batch = model_batch(graph, rows)
    return _TrainingData(
        rows=rows, mean=mean, std=std, y=torch.nan_to_num(y).to(device), mask=mask.to(device),
        link=torch.nan_to_num(link).to(device), link_mask=link_mask.to(device), y_all=y_all.to(device),
        known_all=known_all.to(device), rows_t=torch.as_tensor(rows, device=device), scaler=scaler,
        x={k: v.to(device) for k, v in scaler.transform(graph).items()},
        batch=batch.to(device, sparse_means=True))


def _edges_on(graph: ExportedGraph, keep: np.ndarray, device: torch.device) -> dict[EdgeType, Tensor]:
    return {k: v.to(device) for k, v in message_edges(graph, keep).items()}


def _train_member(graph: ExportedGraph, data: _TrainingData, edge_types: list[EdgeType], config: ModelConfig,
                  member: int, base_keep: np.ndarray, device: torch.device, progress: Progress) -> tuple[MemberNet, list[float]]:
    """Train ensemble member ``member`` (its own seed and validation devices); its weights are those of
    the epoch with the lowest validation error. Answers the net (on the CPU) and its loss per epoch."""
    torch.manual_seed(config.seed * 1000 + member)
    net = MemberNet(edge_types, config).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    rng = np.random.default_rng(config.seed * 1000 + member)
    model_device = graph.model_device
    train_devices = np.unique(model_device[data.rows])
    # Early stopping on held-out *devices* (different ones per member): their models leave message
    # passing and the loss.
    val_devices = np.array([], dtype=train_devices.dtype)
    if config.val_share > 0 and train_devices.size >= 5:
        val_devices = rng.choice(train_devices, size=max(1, int(round(config.val_share * train_devices.size))), replace=False)
    val_pos_np = np.isin(model_device[data.rows], val_devices)
    val_pos = torch.as_tensor(val_pos_np, device=device)
    member_keep = base_keep & ~np.isin(model_device, val_devices)
    member_devices = np.setdiff1d(train_devices, val_devices)
    val_edges = _edges_on(graph, member_keep, device)

    def epoch_edges() -> dict[EdgeType, Tensor]:
        """Message-passing edges with a random share of the member's devices' models hidden (cold start)."""
        if config.cold_start_rate <= 0 or member_devices.size < 2:
            return _edges_on(graph, member_keep, device)
        hidden = rng.choice(member_devices, size=max(1, int(round(config.cold_start_rate * member_devices.size))), replace=False)
        return _edges_on(graph, member_keep & ~np.isin(model_device, hidden), device)

    def validation_loss(xe: dict[str, Tensor]) -> float:
        net.eval()
        with torch.no_grad():
            xe["model"] = inject_labels(data.x["model"], data.y_all, data.known_all, data.rows_t[~val_pos])
            vout = net(xe, val_edges, data.batch)
            vm = data.mask * val_pos.float()[:, None]
            return float((((vout[:, : len(METRICS)] - data.y) ** 2) * vm).sum() / vm.sum().clamp(min=1))

    history: list[float] = []
    best: tuple[float, dict[str, Tensor]] | None = None
    for epoch in range(config.epochs):
        net.train()
        opt.zero_grad()
        # Label trick: part of the training rows show their labels, the loss is on the others.
        shown = torch.as_tensor(rng.random(data.rows.size) < config.label_input_rate, device=device) & ~val_pos
        xe = dict(data.x)
        xe["model"] = inject_labels(data.x["model"], data.y_all, data.known_all, data.rows_t[shown])
        out = net(xe, epoch_edges(), data.batch)
        m = data.mask * (~shown & ~val_pos).float()[:, None]
        loss = ((out[:, : len(METRICS)] - data.y) ** 2 * m).sum() / m.sum().clamp(min=1)
        lm = data.link_mask & ~shown & ~val_pos
        if lm.any():
            bce = F.binary_cross_entropy_with_logits(out[:, len(METRICS)], data.link, reduction="none")
            loss = loss + config.link_weight * (bce * lm).sum() / lm.sum()
        loss.backward()
        opt.step()
        history.append(float(loss.detach()))
        if val_pos_np.any() and (epoch + 1) % 10 == 0:
            vloss = validation_loss(xe)
            if best is None or vloss < best[0]:
                best = (vloss, {kk: v.detach().clone() for kk, v in net.state_dict().items()})
        progress.advance()
    if best is not None:
        net.load_state_dict(best[1])
    net.eval()
    return net.cpu(), history


def train_ensemble(graph: ExportedGraph, train_rows: np.ndarray | None = None, config: ModelConfig | None = None,
                   keep_models: np.ndarray | None = None, progress: Progress = NoProgress(),
                   device: torch.device | None = None) -> Ensemble:
    """Train an ensemble on the measured targets of ``train_rows`` (default: every labeled model).

    ``keep_models`` (bool per model) limits which model nodes take part in message passing; evaluation
    passes False for held-out models so they cannot shape the embeddings they are tested with.
    Raises :class:`EmptyGraphError` when the training rows hold no measured target.
    """
    config = config or ModelConfig()
    device = device or compute_device()
    rows = np.flatnonzero(graph.labeled) if train_rows is None else np.asarray(train_rows, dtype=np.int64)
    y_np = graph.targets[rows]
    if rows.size == 0 or np.isnan(y_np).all():
        raise EmptyGraphError("no measured model to train on")
    data = _training_data(graph, rows, device)
    # A relation with no edges in the graph has nothing to learn from: it gets no convolution (which also
    # keeps the checkpoint small); at prediction time edges of unknown relations are ignored.
    edge_types = sorted(et for et in graph.data.edge_types if graph.data[et].edge_index.shape[1] > 0)
    base_keep = np.ones(graph.count("model"), dtype=bool) if keep_models is None else np.asarray(keep_models, dtype=bool)

    progress.start(config.members * config.epochs, f"training GNN ensemble ({config.members} × {config.epochs} epochs, {device.type})")
    started = time.perf_counter()
    trained = [_train_member(graph, data, edge_types, config, k, base_keep, device, progress) for k in range(config.members)]
    trained_on = {"models": int(rows.size), "seconds": round(time.perf_counter() - started, 2), "device": device.type,
                  "nodes": {t: graph.count(t) for t in graph.iris}}
    metric_trained = [bool((~np.isnan(y_np[:, k])).any()) for k in range(len(METRICS))]
    return Ensemble([net for net, _ in trained], data.scaler, data.mean, data.std, config, edge_types,
                    [history for _, history in trained], trained_on, metric_trained)
