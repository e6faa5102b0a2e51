"""Render-only views of the Model page."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.llm.train_log import TrainLog


def training_curve(log: TrainLog) -> go.Figure:
    """The built-in model's losses against training tokens, a dotted line where the data mix changed."""
    fig = px.line(pd.DataFrame(log.curve), x="tokens", y=log.losses, labels={"value": "loss", "tokens": "training tokens"})
    for tokens_at, name in log.phases:
        fig.add_vline(x=tokens_at, line_dash="dot", annotation_text=name)
    return fig
