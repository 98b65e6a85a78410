"""The architecture diagram of the evidence report, drawn from the live policy (zones, ports, airlocks)."""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from medvault.governance._evidence_isolation import Flow

_ZONE, _HOST, _OUT, _RED = "#e8f0f7", "#f6f6f6", "#fff6e0", "#b3261e"


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, colour: str) -> None:
    ax.add_patch(
        FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.01", facecolor=colour, edgecolor="#5b626b")
    )
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=7)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], label: str, colour: str) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, color=colour))
    ax.text(
        (start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.025, label, ha="center", fontsize=6, color=colour
    )


def architecture_svg(flows: list[Flow] | tuple[Flow, ...], zones: dict[str, str], airlocks: list[str]) -> str:
    """Clients -> ingress -> dmz -> vault, the airlocks, and the internet that nothing reaches."""
    fig = Figure(figsize=(7.5, 3.4))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    _box(ax, 0.01, 0.55, 0.17, 0.3, "hospital clients\n(allowed networks)", _OUT)
    _box(ax, 0.22, 0.05, 0.76, 0.9, "", _HOST)
    host = "host role: nftables table inet medvault (default drop), supervisor + monitor"
    ax.text(0.6, 0.9, host, ha="center", fontsize=7)
    _box(ax, 0.3, 0.5, 0.25, 0.3, f"zone dmz {zones.get('dmz', '')}\ngateway + workbench", _ZONE)
    _box(
        ax,
        0.7,
        0.5,
        0.25,
        0.3,
        f"zone vault {zones.get('vault', '')}\ninference engines\n(no route out)",
        _ZONE,
    )
    _box(ax, 0.3, 0.1, 0.25, 0.22, "airlocks:\n" + ("\n".join(airlocks) or "none"), _OUT)
    _box(ax, 0.7, 0.1, 0.25, 0.22, "internet / rest of the LAN", "#ffffff")
    _arrow(
        ax, (0.18, 0.7), (0.3, 0.7), flows[0].destination.split(" (")[0] if flows else "ingress", "#1f5f8b"
    )
    _arrow(ax, (0.55, 0.65), (0.7, 0.65), "engine ports", "#1f5f8b")
    if airlocks:
        _arrow(ax, (0.42, 0.5), (0.42, 0.32), "one IP:port each", "#1f5f8b")
    _arrow(ax, (0.82, 0.5), (0.82, 0.32), "rejected", _RED)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    return buffer.getvalue()
