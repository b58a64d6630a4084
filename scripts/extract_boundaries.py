"""Extract the country shapes of a world's map from Natural Earth 1:110m admin-0 (run once).

The package ships the result, ``influence_sim/data/boundaries/<world>.json``; this script is
how it was made, kept so that anyone can check or redo it. Natural Earth is in the public
domain; a copy of its 1:110m admin-0 countries is inside the geopandas 0.14.x wheel on PyPI::

    pip download --no-deps geopandas==0.14.4 -d /tmp/gpd
    pip install pyshp
    python scripts/extract_boundaries.py /tmp/gpd/geopandas-0.14.4-py3-none-any.whl

Which countries: every state and power of the world file, matched to Natural Earth by name
(the world's ``name``), and keyed in the output by the world's id (ISO 3166-1 alpha-2 codes
in the shipped world). Any other country whose outline reaches into the map's frame (the
states' extent, padded) is kept as unlabelled context so the map has no holes where Iran or
Afghanistan lie. Coordinates are rounded to 0.01 degree and rings thinned (Douglas-Peucker,
tolerance 0.05 degree), which keeps the file small (well under 200 KB) and the 1:110m
outlines recognisable.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHP = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
#: Where the frame of the map extends beyond the states' extent (share of the larger side).
PAD = 0.25
#: Douglas-Peucker tolerance in degrees, and rounding of coordinates.
TOLERANCE = 0.05
DIGITS = 2

Ring = list[tuple[float, float]]


def _perpendicular(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance of p from the segment a-b."""
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == dy == 0:
        return float(((x - x1) ** 2 + (y - y1) ** 2) ** 0.5)
    t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)))
    return float(((x - x1 - t * dx) ** 2 + (y - y1 - t * dy) ** 2) ** 0.5)


def simplify(ring: Ring, tolerance: float = TOLERANCE) -> Ring:
    """Douglas-Peucker thinning of a closed ring (first point kept, ring stays closed)."""
    if len(ring) < 5:
        return ring
    keep = [False] * len(ring)
    keep[0] = keep[-1] = True
    stack = [(0, len(ring) - 1)]
    while stack:
        i, j = stack.pop()
        far, k = 0.0, -1
        for m in range(i + 1, j):
            d = _perpendicular(ring[m], ring[i], ring[j])
            if d > far:
                far, k = d, m
        if k >= 0 and far > tolerance:
            keep[k] = True
            stack += [(i, k), (k, j)]
    out = [p for p, kept in zip(ring, keep, strict=True) if kept]
    return out if len(out) >= 4 else ring


def rings(shape) -> list[Ring]:  # type: ignore[no-untyped-def]
    """The rings of a pyshp polygon, as (lon, lat) lists."""
    starts = [*shape.parts, len(shape.points)]
    return [
        [(float(x), float(y)) for x, y in shape.points[a:b]] for a, b in itertools.pairwise(starts)
    ]


def compact(ring: Ring) -> list[list[float]]:
    """A thinned ring with rounded coordinates (repeated points dropped)."""
    out: list[list[float]] = []
    for x, y in simplify(ring):
        pt = [round(x, DIGITS), round(y, DIGITS)]
        if not out or pt != out[-1]:
            out.append(pt)
    if out[0] != out[-1]:
        out.append(out[0])
    return out


def bbox(rs: list[Ring]) -> tuple[float, float, float, float]:
    """(lon0, lat0, lon1, lat1) of rings."""
    xs = [x for r in rs for x, _ in r]
    ys = [y for r in rs for _, y in r]
    return min(xs), min(ys), max(xs), max(ys)


def read_shapes(wheel: Path) -> list[tuple[dict, list[Ring]]]:
    """Every country of the shapefile inside the wheel: its record and its rings."""
    import shapefile  # pyshp

    with zipfile.ZipFile(wheel) as z:
        files = {ext: io.BytesIO(z.read(f"{SHP}.{ext}")) for ext in ("shp", "shx", "dbf")}
        encoding = z.read(f"{SHP}.cpg").decode("ascii").strip() or "utf-8"
    reader = shapefile.Reader(**files, encoding=encoding)
    return [(sr.record.as_dict(), rings(sr.shape)) for sr in reader.iterShapeRecords()]


def extract(wheel: Path, world_file: Path) -> dict:
    """The boundary document for a world file."""
    world = tomllib.loads(world_file.read_text("utf-8"))
    actors = [("state", s) for s in world.get("states", [])]
    actors += [("power", p) for p in world.get("powers", [])]
    shapes = read_shapes(wheel)
    by_name = {rec["name"]: (rec, rs) for rec, rs in shapes}
    countries: dict[str, dict] = {}
    for role, a in actors:
        if a["name"] not in by_name:
            sys.exit(f"{a['name']} ({a['id']}): no Natural Earth country of that name")
        rec, rs = by_name[a["name"]]
        countries[a["id"]] = {
            "name": rec["name"],
            "iso_a3": rec["iso_a3"],
            "role": role,
            "rings": [compact(r) for r in rs],
        }
    states = [c for c in countries.values() if c["role"] == "state"]
    x0, y0, x1, y1 = bbox([r for c in states for r in c["rings"]])  # type: ignore[misc]
    pad = PAD * max(x1 - x0, y1 - y0)
    frame = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    taken = {c["iso_a3"] for c in countries.values()}
    context: dict[str, dict] = {}
    for rec, rs in shapes:
        if rec["iso_a3"] in taken:
            continue
        near = [
            r
            for r in rs
            if (b := bbox([r]))[0] < frame[2]
            and b[2] > frame[0]
            and b[1] < frame[3]
            and b[3] > frame[1]
        ]
        if near:
            context[rec["iso_a3"]] = {"name": rec["name"], "rings": [compact(r) for r in near]}
    return {
        "source": (
            "Natural Earth 1:110m Cultural Vectors, Admin 0 - Countries (public domain), "
            "as shipped in the geopandas 0.14.4 wheel (geopandas/datasets/naturalearth_lowres); "
            "extracted by scripts/extract_boundaries.py"
        ),
        "licence": "public domain (https://www.naturalearthdata.com/about/terms-of-use/)",
        "world": world["world"]["name"],
        "crs": "WGS 84 longitude/latitude, degrees",
        "simplified": f"Douglas-Peucker {TOLERANCE} degree; coordinates rounded to {DIGITS} dp",
        "frame": [round(v, DIGITS) for v in frame],
        "countries": countries,
        "context": dict(sorted(context.items())),
    }


def main(argv: list[str] | None = None) -> int:
    """Write the boundary file of a world; print its size."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("wheel", type=Path, help="the geopandas 0.14.x wheel (.whl)")
    ap.add_argument(
        "--world",
        type=Path,
        default=ROOT / "influence_sim/data/worlds/central_asia_2021.toml",
        help="world file whose states and powers to extract",
    )
    ap.add_argument("--out", type=Path, default=None, help="output JSON file")
    args = ap.parse_args(argv)
    doc = extract(args.wheel, args.world)
    out = args.out or ROOT / "influence_sim/data/boundaries" / f"{doc['world']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    out.write_text(text + "\n", "utf-8")
    every = [*doc["countries"].values(), *doc["context"].values()]
    n = sum(len(r) for c in every for r in c["rings"])
    print(
        f"wrote {out} ({len(text) / 1024:.0f} KB): {len(doc['countries'])} countries of the "
        f"world, {len(doc['context'])} context countries, {n} points"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
