"""Knowledge distillation from a teacher into a narrower student of the same family.

The teacher is the model as the pipeline holds it (normally the trained baseline). The student is
the same network built at ``student_width`` × the channel widths, freshly initialised, and trained on
a mix of the temperature-softened teacher outputs (KL divergence × T², Hinton et al. 2015) and the
true labels; for an autoencoder the student matches the teacher's reconstruction and the input.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from bench.profile import profile_network
from bench.techniques.registry import Outcome, Param, PipelineState, Technique, register_technique
from bench.training import evaluate, torch_predict, train
from kg.namespaces import DLOM


def student_dln_name(network: str, width: float) -> str:
    """The name a distilled student's DLN is known by (its IRI is ``entity('dln', name)``)."""
    return f"{network}-student-width-{width:g}"


@register_technique
class KnowledgeDistillation(Technique):
    name = "distill"
    label = "Knowledge distillation"
    family = DLOM.KnowledgeDistillation
    tool = "PyTorch (KL-divergence distillation)"
    params = {
        "student_width": Param(float, default=0.5, minimum=0.0, maximum=1.0, min_exclusive=True, max_exclusive=True,
                               help="student channel widths as a fraction of the teacher's"),
        "temperature": Param(float, default=4.0, minimum=0.0, min_exclusive=True),
        "alpha": Param(float, default=0.7, minimum=0.0, maximum=1.0, help="weight of the teacher term"),
        "epochs": Param(int, default=3, minimum=1),
        "learning_rate": Param(float, default=3e-3, minimum=0.0, min_exclusive=True, maximum=1.0),
    }

    @classmethod
    def properties(cls, params: dict[str, Any], state: PipelineState | None):
        props = [(DLOM.temperature, params["temperature"])]
        if state is not None:
            props.append((DLOM.teacherDLN, state.network.dln_iri))
        return props

    @staticmethod
    def apply_torch(state: PipelineState, params: dict[str, Any]) -> Outcome:
        teacher = state.model.float().eval()
        width = (state.student_width or 1.0) * params["student_width"]
        torch.manual_seed(state.seed)
        student = state.network.build(width)
        t, a = params["temperature"], params["alpha"]
        anomaly = state.task.kind == "anomaly-detection"

        def loss(model, x, y):
            out = model(x)
            with torch.no_grad():
                target = teacher(x)
            if anomaly:
                return a * F.mse_loss(out, target) + (1 - a) * F.mse_loss(out, x.flatten(1))
            soft = F.kl_div(F.log_softmax(out / t, dim=1), F.softmax(target / t, dim=1), reduction="batchmean") * t * t
            return a * soft + (1 - a) * F.cross_entropy(out, y)

        train(student, state.task, params["epochs"], params["learning_rate"], seed=state.seed + 2000, loss_fn=loss)
        tp, sp = profile_network(teacher, state.network.input_shape), profile_network(student, state.network.input_shape)
        tq, sq = evaluate(torch_predict(teacher), state.task), evaluate(torch_predict(student), state.task)
        state.model, state.student_width, state.architecture_changed = student, width, True
        state.keep_zero.clear()
        return Outcome(
            {"teacher_parameters": tp.parameters, "student_parameters": sp.parameters, "teacher_macs": tp.macs,
             "student_macs": sp.macs, "teacher_quality": round(tq, 6), "student_quality": round(sq, 6),
             "student_width": width},
            [f"student at width {width:g}: parameters {tp.parameters} → {sp.parameters}, MACs {tp.macs} → {sp.macs}; "
             f"test quality teacher {tq:.4f}, student {sq:.4f}"])
