"""Rendering one award certificate (pure: no database, no web), as the download serves it.

Run by hand (not a test)::

    .venv/bin/python -m bench.certificate.run [--runs 20]

Renders a certificate with a short title and no signatory, one with a signatory and a
transparent PNG signature, and one with the longest texts the database allows (255 characters
of organisation name and title, which take the smaller type). Prints per case the first render
(which loads and parses the fonts), then the median and the slowest of ``--runs`` renders in
milliseconds of wall time, the median CPU time of this process (what a render costs on a busy
machine), and the PDF's size.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO

from PIL import Image, ImageDraw

from contest.certificates import MAX_TEXT, CertificateAward, CertificateData, Signatory, render_certificate


def signature() -> bytes:
    image = Image.new("RGBA", (900, 240), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(30, 180), (180, 45), (270, 195), (390, 60), (510, 180), (630, 75), (840, 150)],
                               fill=(20, 30, 120, 255), width=9)
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def cases() -> dict[str, CertificateData]:
    plain = CertificateData(
        award=CertificateAward.digital_local_government, edition_year=2569,
        organisation_name="องค์การบริหารส่วนตำบลบ้านใหม่", province_name="เชียงใหม่",
        innovation_title="ระบบแจ้งเหตุผ่านไลน์ “บ้านใหม่ใส่ใจ” สำหรับผู้สูงอายุ",
        issued_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC), number="DLG2569-C-000042",
        verification_url="https://localgov.example.test/certificates/DLG2569-C-000042")
    signed = replace(plain, signatory=Signatory(
        name="นายสุพจน์ เธียรวุฒิ", position_th="ผู้อำนวยการสำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)",
        position_en="President, Digital Government Development Agency", signature=signature()))
    words = " ".join(["ระบบบริหารจัดการขยะอัจฉริยะ", "ด้วยเทคโนโลยีไอโอที", "เพื่อชุมชนน่าอยู่และยั่งยืน"] * 10)
    longest = replace(signed, organisation_name=words[:MAX_TEXT].strip(), innovation_title=words[:MAX_TEXT].strip())
    return {"short, no signatory": plain, "short, signed (PNG)": signed, "255 + 255 characters, signed": longest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    for name, data in cases().items():
        start = time.perf_counter()
        pdf = render_certificate(data)
        first = (time.perf_counter() - start) * 1000
        times, cpu = [], []
        for _ in range(args.runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            render_certificate(data)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        print(f"{name:32} first {first:7.1f} ms   median {statistics.median(times):7.1f} ms   "
              f"slowest {max(times):7.1f} ms   CPU {statistics.median(cpu):7.1f} ms   {len(pdf) / 1024:6.1f} KiB")


if __name__ == "__main__":
    main()
