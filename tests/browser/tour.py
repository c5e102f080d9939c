"""Copy the README's tour pictures from the browser tests' screenshots, small and light.

    .venv/bin/python -m pytest tests/browser/test_lab_student.py \
        tests/browser/test_lab_instructor.py
    .venv/bin/python tests/browser/tour.py

reads ``build/tour/`` (written by the browser tests) and writes ``docs/tour/``: each
picture cropped as listed, scaled to at most 900 pixels wide, reduced to a 128-colour
palette and saved as an optimised PNG.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 900

# README picture -> (screenshot, crop box (left, top, right, bottom) or None)
PICTURES = {
    "chapter-control.png": ("student-chapter-04_output_units.png", None),
    "check-message.png": ("student-affine-wrong-check.png", None),
    "validate.png": ("student-validate.png", (130, 190, 1150, 710)),
    "assignment-list.png": ("student-feedback-fetched.png", (290, 60, 1240, 390)),
    "formgrader-manual-grade.png": ("instructor-formgrader-manual-grade.png",
                                    (290, 60, 1240, 870)),
    "feedback.png": ("student-feedback-verdict.png", (290, 90, 1240, 870)),
}


def shrink(src: Path, dest: Path, box: tuple[int, int, int, int] | None) -> None:
    img = Image.open(src).convert("RGB")
    if box:
        img = img.crop(box)
    if img.width > WIDTH:
        img = img.resize((WIDTH, round(img.height * WIDTH / img.width)), Image.LANCZOS)
    img.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(dest, optimize=True)


def main() -> int:
    shots, out = ROOT / "build" / "tour", ROOT / "docs" / "tour"
    out.mkdir(parents=True, exist_ok=True)
    missing = [s for s, _ in PICTURES.values() if not (shots / s).is_file()]
    if missing:
        print(f"run the browser tests first; missing in {shots}: {', '.join(missing)}")
        return 1
    for name, (shot, box) in PICTURES.items():
        shrink(shots / shot, out / name, box)
        print(f"docs/tour/{name}: {(out / name).stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
