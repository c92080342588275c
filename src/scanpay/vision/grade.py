"""Print quality of a decoded QR code, in the manner of ISO/IEC 15415: :func:`grade`.

A merchant photographs the QR sticker at the till; :func:`grade` says whether
customers' phones will have an easy time with it. The parameters that one
image can show are measured on the module grid (sampled at the module centres
with an aperture of half a module) and compared with the grid a perfect print
would show, rebuilt by error-correcting the sampled one:

* symbol contrast (SC): light minus dark reflectance (grey level / 255);
* modulation (MOD): how far each module is from the global threshold, graded
  per codeword and weighed against the error correction left, as 15415 does
  (a module on the wrong side of the threshold counts as grade F); the value
  shown is the median module's modulation;
* fixed pattern damage (FPD): wrong modules in the finder patterns with their
  separators (0 = A ... 4+ = F) and in the timing patterns (share of modules);
  the value shown is the number of wrong fixed-pattern modules;
* unused error correction (UEC);
* axial non-uniformity (AN): X against Y module pitch, as the camera saw it;
* grid non-uniformity (GN): how far the finder and alignment pattern centres
  sit from where a perspective fit of all of them puts them, in modules (the
  photo's own perspective is taken out; what is left is a bent or stretched
  print).

The overall grade is the lowest. These are estimates: grey levels stand in for
calibrated reflectance, the light and camera are whatever the shop has, and a
verifier averages several scans. Take the photo square-on in even light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from scanpay.vision import _qr
from scanpay.vision._images import Image, ImageSource, as_u8, load_image, to_gray
from scanpay.vision._rectify import module_homography, sample_modules
from scanpay.vision.structured import infer_version
from scanpay.vision.symbols import Symbol

__all__ = ["GRADES", "Grade", "Parameter", "grade", "letter"]

GRADES = "FDCBA"
"""Letters by numeric grade 0..4."""


def letter(value: int) -> str:
    """The letter of a numeric grade (4 = A ... 0 = F)."""
    return GRADES[max(0, min(4, value))]


def _by_thresholds(
    value: float, thresholds: tuple[float, float, float, float], higher: bool
) -> int:
    """Numeric grade: ``thresholds`` are the A, B, C, D limits."""
    for grade_value, limit in zip((4, 3, 2, 1), thresholds, strict=True):
        if (value >= limit) if higher else (value <= limit):
            return grade_value
    return 0


@dataclass(frozen=True, slots=True)
class Parameter:
    """One measured parameter."""

    name: str
    value: float
    grade: int

    @property
    def letter(self) -> str:
        return letter(self.grade)


@dataclass(frozen=True, slots=True)
class Grade:
    """The grade report of one QR symbol."""

    overall: int
    parameters: tuple[Parameter, ...]
    version: int
    ec_level: str
    note: str = ""

    @property
    def letter(self) -> str:
        """The overall grade, A (best) to F."""
        return letter(self.overall)

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name`` (``SC``, ``MOD``, ``FPD``, ``UEC``, ``AN``, ``GN``)."""
        return next(p for p in self.parameters if p.name == name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "grade": self.letter,
            "version": self.version,
            "ec_level": self.ec_level,
            "parameters": {
                p.name: {"value": round(p.value, 3), "grade": p.letter} for p in self.parameters
            },
            "note": self.note,
        }


# --- locating the grid precisely ----------------------------------------------


def _template(modules: int, px: int, pattern: npt.NDArray[np.bool_]) -> Image:
    """A pattern (True = dark) with a one-module light border, ``px`` per module."""
    framed = np.pad(pattern, 1, constant_values=False)
    image = np.where(framed, 0, 255).astype(np.uint8)
    return as_u8(cv2.resize(image, None, fx=px, fy=px, interpolation=cv2.INTER_NEAREST))


_FINDER = np.array([[max(abs(r - 3), abs(c - 3)) != 2 for c in range(7)] for r in range(7)])
_ALIGN = np.array([[max(abs(r - 2), abs(c - 2)) != 1 for c in range(5)] for r in range(5)])


def _pattern_centres(version: int) -> list[tuple[float, float, str]]:
    """Module coordinates of the centres of the finder and alignment patterns."""
    size = _qr.size_for(version)
    out = [(3.5, 3.5, "finder"), (size - 3.5, 3.5, "finder"), (3.5, size - 3.5, "finder")]
    centres = _qr.alignment_positions(version)
    last = len(centres) - 1
    for a, row in enumerate(centres):
        for b, col in enumerate(centres):
            if (a, b) in ((0, 0), (0, last), (last, 0)):
                continue
            out.append((col + 0.5, row + 0.5, "alignment"))
    return out


def _locate_patterns(
    gray: Image, homography: npt.NDArray[np.float64], version: int
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Where the finder/alignment centres really are: (module xy, image xy) pairs.

    Each pattern is found by template matching in the code rectified with
    ``homography``, within two modules of where that homography puts it.
    """
    px = 8
    margin = 4  # room for a finder's template plus the two-module search
    size = _qr.size_for(version)
    side = (size + 2 * margin) * px
    to_rect = np.array([[px, 0, margin * px], [0, px, margin * px], [0, 0, 1]], dtype=np.float64)
    forward = to_rect @ np.linalg.inv(homography)
    rectified = cv2.warpPerspective(
        gray, forward, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    back = np.linalg.inv(forward)
    found: list[tuple[tuple[float, float], tuple[float, float]]] = []
    templates = {"finder": _template(7, px, _FINDER), "alignment": _template(5, px, _ALIGN)}
    for mx, my, kind in _pattern_centres(version):
        template = templates[kind]
        half = template.shape[0] / 2.0
        reach = 2 * px
        cx, cy = (mx + margin) * px, (my + margin) * px
        x0, y0 = int(cx - half - reach), int(cy - half - reach)
        x1, y1 = int(cx + half + reach), int(cy + half + reach)
        if x0 < 0 or y0 < 0 or x1 > side or y1 > side:
            continue
        window = rectified[y0:y1, x0:x1]
        scores = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
        _, best, _, at = cv2.minMaxLoc(scores)
        if best < 0.5:
            continue
        rx, ry = x0 + at[0] + half, y0 + at[1] + half
        point = cv2.perspectiveTransform(np.array([[[rx, ry]]], dtype=np.float64), back)[0, 0]
        found.append(((mx, my), (float(point[0]), float(point[1]))))
    return found


def _refine(
    gray: Image, symbol: Symbol, version: int
) -> tuple[npt.NDArray[np.float64], list[tuple[tuple[float, float], tuple[float, float]]]]:
    """A module-to-image homography fitted to the located patterns (or the corners)."""
    size = _qr.size_for(version)
    start = module_homography(symbol.points, size)
    found = _locate_patterns(gray, start, version)
    if len(found) >= 4:
        src = np.array([m for m, _ in found], dtype=np.float64)
        dst = np.array([p for _, p in found], dtype=np.float64)
        fitted, _ = cv2.findHomography(src, dst, 0)
        if fitted is not None:
            return np.asarray(fitted, dtype=np.float64), found
    if len(found) == 3:
        src3 = np.array([m for m, _ in found], dtype=np.float32)
        dst3 = np.array([p for _, p in found], dtype=np.float32)
        affine = cv2.getAffineTransform(src3, dst3)
        return np.vstack([affine, [0.0, 0.0, 1.0]]).astype(np.float64), found
    return start, found


# --- the parameters -----------------------------------------------------------


def _module_grades(
    samples: npt.NDArray[np.float32], ideal: npt.NDArray[np.bool_], threshold: float, span: float
) -> npt.NDArray[np.intp]:
    """15415 modulation grade of every module; wrong-side modules get F."""
    modulation = 2.0 * np.abs(samples - threshold) / max(span, 1e-6)
    grades = np.zeros(samples.shape, dtype=np.intp)
    for value, limit in ((1, 0.20), (2, 0.30), (3, 0.40), (4, 0.50)):
        grades[modulation >= limit] = value
    wrong = (samples < threshold) != ideal
    grades[wrong] = 0
    return grades


def _modulation_grade(module_grades: npt.NDArray[np.intp], decoded: _qr.Decoded) -> int:
    """15415 codeword modulation grade, weighed against the error correction.

    A codeword's grade is its worst module's. For each grade level, codewords
    below it are counted as lost; the level stands when the error correction
    left over still grades at least as well.
    """
    version, level = decoded.version, decoded.level
    rows, cols = _qr.placement(version)
    owner_block, owner_index = _qr.codeword_owner(version, level)
    structure = _qr.blocks(version, level)
    n_blocks = len(structure.data_lengths)
    longest = max(structure.data_lengths) + structure.ec_per_block
    codeword_grade = np.full((n_blocks, longest), 4, dtype=np.intp)
    bit_grades = module_grades[rows, cols]
    valid = owner_block >= 0
    np.minimum.at(codeword_grade, (owner_block[valid], owner_index[valid]), bit_grades[valid])
    capacity = structure.ec_per_block - _qr.misdecode_protection(version, level)
    best = 0
    for level_value in (4, 3, 2, 1):
        worst_uec = 1.0
        for b, length in enumerate(structure.data_lengths):
            total = length + structure.ec_per_block
            below = int(np.count_nonzero(codeword_grade[b, :total] < level_value))
            uec = 1.0 - below / capacity if capacity > 0 else 0.0
            worst_uec = min(worst_uec, uec)
        uec_grade = _by_thresholds(max(worst_uec, 0.0), (0.62, 0.50, 0.37, 0.25), True)
        best = max(best, min(level_value, uec_grade))
    return best


def _fixed_pattern_damage(
    matrix: npt.NDArray[np.bool_], ideal: npt.NDArray[np.bool_], version: int
) -> tuple[float, int]:
    """(wrong modules in all fixed patterns, grade) over the three finder+separator
    segments (0 wrong = A ... 4+ = F) and the two timing patterns (share wrong)."""
    size = _qr.size_for(version)
    wrong = matrix != ideal
    worst = 4
    total = 0
    for r0, c0 in ((0, 0), (0, size - 8), (size - 8, 0)):
        errors = int(np.count_nonzero(wrong[r0 : r0 + 8, c0 : c0 + 8]))
        worst = min(worst, 4 - min(errors, 4))
        total += errors
    for segment in (wrong[6, 8 : size - 8], wrong[8 : size - 8, 6]):
        errors = int(np.count_nonzero(segment))
        share = errors / max(segment.size, 1)
        worst = min(worst, _by_thresholds(share, (0.0, 0.07, 0.14, 0.20), False))
        total += errors
    return float(total), worst


def _axial_and_grid(
    found: list[tuple[tuple[float, float], tuple[float, float]]],
    homography: npt.NDArray[np.float64],
) -> tuple[float, float]:
    """(axial non-uniformity, grid non-uniformity in modules)."""
    if len(found) < 3:
        return 0.0, 0.0
    src = np.array([m for m, _ in found], dtype=np.float64)
    dst = np.array([p for _, p in found], dtype=np.float64)
    design = np.hstack([src, np.ones((src.shape[0], 1))])
    affine, *_ = np.linalg.lstsq(design, dst, rcond=None)
    x_pitch = float(np.linalg.norm(affine[0]))
    y_pitch = float(np.linalg.norm(affine[1]))
    axial = abs(x_pitch - y_pitch) / ((x_pitch + y_pitch) / 2.0)
    if len(found) < 5:
        # Four points fit any homography exactly: nothing left to measure.
        return axial, 0.0
    predicted = cv2.perspectiveTransform(src.reshape(-1, 1, 2), homography).reshape(-1, 2)
    pitch = (x_pitch + y_pitch) / 2.0
    grid = float(np.max(np.linalg.norm(predicted - dst, axis=1))) / max(pitch, 1e-6)
    return axial, grid


def grade(image: ImageSource, symbol: Symbol) -> Grade:
    """Grade the QR ``symbol`` found in ``image`` (see the module docstring).

    Raises ``ValueError`` for symbols that are not QR Model 2 or whose version
    is unknown (OpenCV's detectors do not report it).
    """
    gray = to_gray(load_image(image))
    if symbol.version is None:
        symbol = infer_version(gray, symbol)
    if symbol.version is None or not symbol.format.startswith("QR") or symbol.symbology_id == "]Q0":
        raise ValueError("grading needs a QR Model 2 symbol whose version can be read")
    version = symbol.version
    homography, found = _refine(gray, symbol, version)
    quiet = 2
    size = _qr.size_for(version)
    samples = sample_modules(gray, homography, size, quiet=quiet)
    rmax, rmin = float(samples.max()), float(samples.min())
    span = rmax - rmin
    threshold = (rmax + rmin) / 2.0
    inner = samples[quiet : quiet + size, quiet : quiet + size]
    matrix = inner < threshold
    decoded = _qr.decode_matrix(matrix, version)
    contrast = span / 255.0
    sc = Parameter("SC", contrast, _by_thresholds(contrast, (0.70, 0.55, 0.40, 0.20), True))
    axial, grid = _axial_and_grid(found, homography)
    an = Parameter("AN", axial, _by_thresholds(axial, (0.06, 0.08, 0.10, 0.12), False))
    gn = Parameter("GN", grid, _by_thresholds(grid, (0.38, 0.50, 0.63, 0.75), False))
    if decoded is None:
        failed = (
            sc,
            Parameter("MOD", 0.0, 0),
            Parameter("FPD", 0.0, 0),
            Parameter("UEC", 0.0, 0),
            an,
            gn,
        )
        return Grade(
            0,
            failed,
            version,
            symbol.ec_level or "?",
            "the sampled grid does not error-correct (damage, blur or a bent print)",
        )
    ideal = _qr.ideal_matrix(decoded)
    module_grades = _module_grades(inner, ideal, threshold, span)
    mod_grade = _modulation_grade(module_grades, decoded)
    # Reported value: the median module's modulation, 2|R - GT| / SC.
    mod_value = float(np.median(2.0 * np.abs(inner - threshold) / max(span, 1e-6)))
    fpd_value, fpd_grade = _fixed_pattern_damage(matrix, ideal, version)
    uec = decoded.unused_ec
    parameters = (
        sc,
        Parameter("MOD", mod_value, mod_grade),
        Parameter("FPD", fpd_value, fpd_grade),
        Parameter("UEC", uec, _by_thresholds(uec, (0.62, 0.50, 0.37, 0.25), True)),
        an,
        gn,
    )
    overall = min(p.grade for p in parameters)
    return Grade(overall, parameters, version, decoded.level)
