"""PNG figures of the report cached under a key of everything that can change them.

The figures of the virtual experiments (:data:`neuroadapt.report.figures.FIGURES`)
and the model-structure diagram do not depend on the scenario being run, yet
drawing them was half of the report's time. A figure's key hashes its name,
the bytes of the report's drawing modules, the matplotlib version, the
resolution and the figure's data (every variable's values, dimensions, dtype
and attributes, and the dataset attributes), so a change to any of them draws
the figure again and nothing stale is ever served. The PNGs live beside the
calibration table (:func:`neuroadapt.cache.cache_dir`, folder ``figures``);
deleting them is always safe.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from neuroadapt.atomic import write_with
from neuroadapt.cache import cache_dir, cached

__all__ = ["DRAWING_MODULES", "cached_png", "dataset_digest", "drawing_key", "png_bytes"]

#: Modules whose code draws the cached figures (their bytes enter the key): the
#: experiment figures, the shared helpers they draw with, the diagrams and this module.
DRAWING_MODULES = ("figures.py", "plotting.py", "diagram.py", "figcache.py")


def png_bytes(fig: Figure, dpi: int = 96) -> bytes:
    """The figure rendered as PNG."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


@functools.lru_cache(maxsize=1)
def drawing_key() -> str:
    """Hash of the drawing modules, the model's structure tables' module and matplotlib."""
    import neuroadapt.model.system as system

    h = hashlib.sha256(matplotlib.__version__.encode())
    here = Path(__file__).parent
    for name in DRAWING_MODULES:
        h.update(name.encode())
        h.update((here / name).read_bytes())
    h.update(Path(system.__file__).read_bytes())  # MODULES, COUPLINGS, SIGNALLING_PATHWAY
    return h.hexdigest()


def _update(h: Any, da: xr.DataArray) -> None:
    h.update(repr((da.name, da.dims, str(da.dtype), sorted(da.attrs.items()))).encode())
    values = da.values
    if values.dtype.kind == "O":
        h.update(repr(values.tolist()).encode())
    else:
        h.update(np.ascontiguousarray(values).tobytes())


def dataset_digest(ds: xr.Dataset | None) -> str:
    """Hash of a dataset's values, dimensions, dtypes and attributes (``none`` for None)."""
    if ds is None:
        return "none"
    h = hashlib.sha256(repr(sorted(ds.attrs.items())).encode())
    for name in sorted(map(str, ds.variables)):
        _update(h, ds[name])
    return h.hexdigest()


def cached_png(
    name: str,
    draw: Callable[[], Figure],
    data: xr.Dataset | None = None,
    dpi: int = 96,
    directory: Path | None = None,
) -> str:
    """``data:image/png;base64,...`` of ``draw()``, reused when name, code and data are the same."""
    key = hashlib.sha256(
        f"{name}|{dpi}|{drawing_key()}|{dataset_digest(data)}".encode()
    ).hexdigest()[:24]
    path = (directory or cache_dir()) / "figures" / f"{name}-{key}.png"

    def load(p: Path) -> bytes:
        raw = p.read_bytes()
        if raw[:8] != b"\x89PNG\r\n\x1a\n":
            raise ValueError(f"{p} is not a PNG")
        return raw

    def save(p: Path, raw: bytes) -> None:
        write_with(p, lambda tmp: tmp.write_bytes(raw), suffix=".png")

    raw = cached(path, load, lambda: png_bytes(draw(), dpi), save)
    return "data:image/png;base64," + base64.b64encode(raw).decode("ascii")
